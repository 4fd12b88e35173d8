import { describe, expect, it } from 'vitest';
import { VMCS_FIELDS, vmcsFieldBits } from '../../../src/arch/index';
import { Vmcs } from '../../../src/machine/vmx/vmcs';

const ALL = 0xfedc_ba98_7654_3210n;

describe('Vmcs store holds every field of the arch table', () => {
  it('every supported field round-trips VMWRITE/VMREAD truncated to its width', () => {
    const v = new Vmcs({ fred: true });
    for (const f of VMCS_FIELDS) {
      const r = f.type === 'exitInformation' ? (v.set(f.name, ALL), { ok: true }) : v.vmwrite(f.encoding, ALL);
      expect(r.ok, f.name).toBe(true);
      const mask = (1n << BigInt(vmcsFieldBits(f))) - 1n;
      expect(v.vmread(f.encoding), f.name).toEqual({ ok: true, value: ALL & mask });
    }
  });

  it('16-bit and 32-bit VMWRITE keep only the low bits; VMREAD zero-extends', () => {
    const v = new Vmcs({ fred: false });
    v.vmwrite(0x0802, 0x1234_5678_9abc_def0n); // GUEST_CS_SELECTOR
    expect(v.get('GUEST_CS_SELECTOR')).toBe(0xdef0n);
    v.vmwrite(0x4004, 0xffff_ffff_ffff_ffffn); // EXCEPTION_BITMAP
    expect(v.vmread(0x4004)).toEqual({ ok: true, value: 0xffff_ffffn });
  });

  it('natural-width fields hold 64 bits', () => {
    const v = new Vmcs({ fred: false });
    v.vmwrite(0x681e, 0xffff_8000_0000_1000n); // GUEST_RIP
    expect(v.get('GUEST_RIP')).toBe(0xffff_8000_0000_1000n);
  });

  it('the high access of a 64-bit field reads bits 63:32 and writes them without touching 31:0', () => {
    const v = new Vmcs({ fred: true });
    v.vmwrite(0x2052, 0x1111_2222_3333_4444n); // INJECTED_EVENT_DATA
    expect(v.vmread(0x2053)).toEqual({ ok: true, value: 0x1111_2222n });
    v.vmwrite(0x2053, 0xaaaa_bbbb_cccc_ddddn);
    expect(v.get('INJECTED_EVENT_DATA')).toBe(0xcccc_dddd_3333_4444n);
    expect(v.get('INJECTED_EVENT_DATA_HIGH')).toBe(0xcccc_ddddn);
  });

  it('VMWRITE to a read-only exit-information field fails with error 13 and changes nothing', () => {
    const v = new Vmcs({ fred: true });
    v.set('VM_EXIT_REASON', 10n);
    for (const enc of [0x4402, 0x2404, 0x2405, 0x6400]) {
      const r = v.vmwrite(enc, 5n);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toBe(13);
    }
    expect(v.get('VM_EXIT_REASON')).toBe(10n);
  });

  it.each([
    ['unknown index', 0x4830],
    ['reserved bit 12', 0x1000 | 0x681e],
    ['bits 31:15', 0x8000_681e],
    ['high access of a natural-width field', 0x681f],
    ['high access of a 32-bit field', 0x4005],
    ['negative', -2],
  ])('unsupported encoding (%s) fails with error 12', (_what, enc) => {
    const v = new Vmcs({ fred: true });
    for (const r of [v.vmread(enc), v.vmwrite(enc, 1n)]) {
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toBe(12);
    }
  });

  it('the 19 FRED encodings (and their high halves) fail with error 12 when FRED is not exposed', () => {
    const fredFields = VMCS_FIELDS.filter((f) => f.fred);
    expect(fredFields).toHaveLength(19);
    const bare = new Vmcs({ fred: false });
    const withFred = new Vmcs({ fred: true });
    for (const f of fredFields) {
      for (const enc of [f.encoding, f.encoding + 1]) {
        const r = bare.vmread(enc);
        expect(r.ok, f.name).toBe(false);
        if (!r.ok) { expect(r.error).toBe(12); expect(r.message).toContain(f.name); }
        const w = bare.vmwrite(enc, 1n);
        expect(w.ok).toBe(false);
        expect(withFred.vmread(enc).ok).toBe(true);
      }
    }
    expect(() => bare.get('GUEST_IA32_FRED_CONFIG')).toThrow(/only when FRED is exposed/);
  });

  it('get/set by name reject unknown names', () => {
    const v = new Vmcs({ fred: true });
    expect(() => v.get('GUEST_RIPP')).toThrow(/unknown VMCS field 'GUEST_RIPP'/);
    expect(() => v.set('NOPE', 1n)).toThrow(/unknown/);
  });

  it('field handles read and write the same storage with width truncation', () => {
    const v = new Vmcs({ fred: true });
    const info = v.field('VM_ENTRY_INTR_INFO_FIELD');
    info.set(0x1_8000_030en);
    expect(v.get('VM_ENTRY_INTR_INFO_FIELD')).toBe(0x8000_030en);
    v.set('VM_ENTRY_INTR_INFO_FIELD', 0n);
    expect(info.get()).toBe(0n);
    expect(info.def.encoding).toBe(0x4016);
    expect(() => v.field('GUEST_IA32_PAT_HIGH')).toThrow(/full field/);
  });

  it('save/restore round-trips plain data and zeroes fields the snapshot lacks', () => {
    const v = new Vmcs({ fred: true });
    v.set('GUEST_RIP', 0x100000n);
    v.set('GUEST_IA32_FRED_CONFIG', 0xffff_ffff_8000_0000n);
    v.set('ORIGINAL_EVENT_DATA', 0xdeadn);
    const snap = v.save();
    expect(structuredClone(snap)).toEqual(snap);
    expect(snap.values['GUEST_RIP']).toBe(0x100000n);
    v.set('GUEST_RIP', 0n);
    v.set('EXCEPTION_BITMAP', 0x4000n);
    v.restore(snap);
    expect(v.get('GUEST_RIP')).toBe(0x100000n);
    expect(v.get('EXCEPTION_BITMAP')).toBe(0n);
    expect(v.get('ORIGINAL_EVENT_DATA')).toBe(0xdeadn);
    const partial = new Vmcs({ fred: true });
    partial.set('GUEST_RSP', 8n);
    partial.restore({ fred: true, values: { GUEST_RIP: 4n } });
    expect(partial.get('GUEST_RSP')).toBe(0n);
    expect(partial.get('GUEST_RIP')).toBe(4n);
    expect(() => new Vmcs({ fred: false }).restore(snap)).toThrow(/FRED exposed/);
  });

  it('a snapshot of a VMCS without FRED has no FRED fields', () => {
    const snap = new Vmcs({ fred: false }).save();
    expect(Object.keys(snap.values)).not.toContain('INJECTED_EVENT_DATA');
    expect(Object.keys(snap.values)).toHaveLength(VMCS_FIELDS.length - 19);
  });
});
