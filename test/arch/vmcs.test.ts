import { describe, expect, it } from 'vitest';
import {
  VMCS_ENCODING_RESERVED_MASK, VMCS_FIELDS, VMCS_GROUP_TYPE, vmcsEncode, vmcsEncodingWellFormed, vmcsFieldBits,
  vmcsEncodingOf, vmcsFieldByEncoding, vmcsFieldByName, vmcsIndexOf, msrByName, vmcsIsHighAccess, vmcsRefEncoding, vmcsTypeOf, vmcsWidthOf,
} from '../../src/arch/index';

describe('VMCS encoding scheme', () => {
  it.each([
    [0x0000, '16', 'control'], [0x0800, '16', 'guestState'], [0x0c00, '16', 'hostState'],
    [0x2000, '64', 'control'], [0x2400, '64', 'exitInformation'], [0x2800, '64', 'guestState'], [0x2c08, '64', 'hostState'],
    [0x4000, '32', 'control'], [0x4402, '32', 'exitInformation'], [0x4826, '32', 'guestState'], [0x4c00, '32', 'hostState'],
    [0x6000, 'natural', 'control'], [0x6400, 'natural', 'exitInformation'], [0x681e, 'natural', 'guestState'],
    [0x6c16, 'natural', 'hostState'],
  ])('0x%s → %s / %s', (enc, width, type) => {
    expect(vmcsWidthOf(enc)).toBe(width);
    expect(vmcsTypeOf(enc)).toBe(type);
  });

  it('index and access type', () => {
    expect(vmcsIndexOf(0x2052)).toBe(0x29);
    expect(vmcsIsHighAccess(0x2053)).toBe(true);
    expect(vmcsIsHighAccess(0x2052)).toBe(false);
  });

  it('vmcsEncode builds the encoding from its parts', () => {
    for (const f of VMCS_FIELDS) expect(vmcsEncode(f.width, f.type, vmcsIndexOf(f.encoding))).toBe(f.encoding);
  });

  it('well-formedness: reserved bits and high access only on 64-bit fields', () => {
    expect(vmcsEncodingWellFormed(0x681e)).toBe(true);
    expect(vmcsEncodingWellFormed(0x2805)).toBe(true);
    expect(vmcsEncodingWellFormed(0x681f)).toBe(false);
    expect(vmcsEncodingWellFormed(0x1000)).toBe(false);
    expect(vmcsEncodingWellFormed(0x8000)).toBe(false);
    expect(VMCS_ENCODING_RESERVED_MASK).toBe(0xffff9000);
  });
});

describe('VMCS field table', () => {
  it('every field: well-formed full encoding, width/type derived from the encoding, group of that type', () => {
    for (const f of VMCS_FIELDS) {
      expect(vmcsEncodingWellFormed(f.encoding), f.name).toBe(true);
      expect(vmcsIsHighAccess(f.encoding), f.name).toBe(false);
      expect(f.width, f.name).toBe(vmcsWidthOf(f.encoding));
      expect(f.type, f.name).toBe(vmcsTypeOf(f.encoding));
      expect(VMCS_GROUP_TYPE[f.group], f.name).toBe(f.type);
      expect(f.name, f.name).toMatch(/^[A-Z][A-Z0-9_]*$/);
      expect(f.title.length, f.name).toBeGreaterThan(2);
    }
  });

  it('has no duplicate names, titles or encodings', () => {
    expect(new Set(VMCS_FIELDS.map((f) => f.name)).size).toBe(VMCS_FIELDS.length);
    expect(new Set(VMCS_FIELDS.map((f) => f.title)).size).toBe(VMCS_FIELDS.length);
    expect(new Set(VMCS_FIELDS.map((f) => f.encoding)).size).toBe(VMCS_FIELDS.length);
  });

  it('names say guest/host where the group does', () => {
    for (const f of VMCS_FIELDS) {
      if (f.group === 'hostState') expect(f.name, f.name).toMatch(/^HOST_/);
      if (f.name.startsWith('HOST_')) expect(f.group, f.name).toBe('hostState');
    }
  });

  it('resolves the high half of every 64-bit field and nothing else', () => {
    for (const f of VMCS_FIELDS) {
      const hi = vmcsFieldByEncoding(f.encoding + 1);
      if (f.width === '64') {
        expect(hi, f.name).toEqual({ field: f, high: true });
        expect(vmcsFieldByName(`${f.name}_HIGH`)).toEqual({ field: f, high: true });
        expect(vmcsRefEncoding(hi!)).toBe(f.encoding + 1);
      } else {
        expect(hi, f.name).toBeUndefined();
        expect(vmcsFieldByName(`${f.name}_HIGH`)).toBeUndefined();
      }
    }
  });

  it('looks up by name case-insensitively', () => {
    expect(vmcsFieldByName('guest_rip')?.field.encoding).toBe(0x681e);
    expect(vmcsFieldByName('VM_ENTRY_INTR_INFO_FIELD')?.field.encoding).toBe(0x4016);
    expect(vmcsFieldByName('NOPE')).toBeUndefined();
    expect(vmcsFieldByEncoding(0x6830)).toBeUndefined();
  });

  it('vmcsEncodingOf throws on unknown names', () => {
    expect(vmcsEncodingOf('GUEST_RIP')).toBe(0x681e);
    expect(vmcsEncodingOf('TSC_OFFSET_HIGH')).toBe(0x2011);
    expect(() => vmcsEncodingOf('GUEST_RIPP')).toThrow(/unknown VMCS field 'GUEST_RIPP'/);
  });

  it('field bit widths', () => {
    expect(vmcsFieldBits(vmcsFieldByName('GUEST_CS_SELECTOR')!.field)).toBe(16);
    expect(vmcsFieldBits(vmcsFieldByName('VM_EXIT_REASON')!.field)).toBe(32);
    expect(vmcsFieldBits(vmcsFieldByName('GUEST_IA32_FRED_CONFIG')!.field)).toBe(64);
    expect(vmcsFieldBits(vmcsFieldByName('GUEST_RIP')!.field)).toBe(64);
  });

  it('bit-field decoders are attached to the fields that have them', () => {
    const has = (n: string) => vmcsFieldByName(n)!.field.layout?.map((f) => f.name);
    expect(has('VM_ENTRY_CONTROLS')).toContain('VM_ENTRY_LOAD_IA32_FRED');
    expect(has('SECONDARY_VM_EXIT_CONTROLS')).toContain('SECONDARY_VM_EXIT_LOAD_IA32_FRED');
    expect(has('VM_ENTRY_INTR_INFO_FIELD')).toContain('nested');
    expect(has('GUEST_SS_AR_BYTES')).toContain('DPL');
    expect(has('GUEST_INTERRUPTIBILITY_INFO')).toContain('STI');
    expect(has('VM_EXIT_REASON')).toContain('entryFailure');
    expect(has('GUEST_CR4')).toContain('FRED');
    expect(has('GUEST_IA32_FRED_CONFIG')).toContain('CSL');
    expect(has('GUEST_RIP')).toBeUndefined();
  });

  it('knows which MSR a guest/host field holds (vmx-fred.md §1.9: MSR 1CD..1D4 ↔ RSP1..3, STKLVLS, SSP1..3, CONFIG)', () => {
    const order = ['RSP1', 'RSP2', 'RSP3', 'STKLVLS', 'SSP1', 'SSP2', 'SSP3', 'CONFIG'];
    order.forEach((r, i) => {
      const g = vmcsFieldByName(`GUEST_IA32_FRED_${r}`)!.field;
      expect(msrByName(g.msr!)!.index).toBe(0x1cd + i);
      expect(vmcsFieldByName(`HOST_IA32_FRED_${r}`)!.field.msr).toBe(g.msr);
    });
    expect(vmcsFieldByName('GUEST_IA32_EFER')!.field.msr).toBe('IA32_EFER');
    expect(vmcsFieldByName('GUEST_SYSENTER_ESP')!.field.msr).toBe('IA32_SYSENTER_ESP');
    expect(vmcsFieldByName('HOST_IA32_SYSENTER_CS')!.field.msr).toBe('IA32_SYSENTER_CS');
    expect(vmcsFieldByName('GUEST_FS_BASE')!.field.msr).toBe('IA32_FS_BASE'); // FS.base is IA32_FS_BASE
    expect(vmcsFieldByName('GUEST_CS_BASE')!.field.msr).toBeUndefined();
    expect(vmcsFieldByName('GUEST_RIP')!.field.msr).toBeUndefined();
    expect(VMCS_FIELDS.filter((f) => f.msr).length).toBeGreaterThan(25);
  });

  it('keeps IA32_FRED_RSP0, PL0_SSP and KERNEL_GS_BASE out of the VMCS (vmx-fred.md §1.9, §3.2)', () => {
    for (const n of ['GUEST_IA32_FRED_RSP0', 'HOST_IA32_FRED_RSP0', 'GUEST_IA32_KERNEL_GS_BASE', 'GUEST_IA32_STAR']) {
      expect(vmcsFieldByName(n)).toBeUndefined();
    }
  });
});
