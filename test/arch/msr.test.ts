import { describe, expect, it } from 'vitest';
import { MSRS, checkMsrWrite, isCanonical, msrByIndex, msrByName, msrIndex } from '../../src/arch/index';

const fail = (rule: string) => ({ ok: false, rule });
const OK = { ok: true };

describe('MSR table', () => {
  it('has unique names (aliases included) and indices', () => {
    const names = MSRS.flatMap((m) => [m.name, ...m.aliases]);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(MSRS.map((m) => m.index)).size).toBe(MSRS.length);
  });

  it('every MSR has a one-line doc', () => {
    for (const m of MSRS) expect(m.doc.length, m.name).toBeGreaterThan(3);
  });

  it('looks up by index and by name (case-insensitive, IA32_ optional)', () => {
    expect(msrByIndex(0xc0000080)?.name).toBe('IA32_EFER');
    expect(msrByName('ia32_fred_config')?.index).toBe(0x1d4);
    expect(msrByName('FRED_STKLVLS')?.index).toBe(0x1d0);
    expect(msrByName('NO_SUCH_MSR')).toBeUndefined();
    expect(msrByName('IA32_FRED_SSP0')?.name).toBe('IA32_PL0_SSP');
    expect(msrByIndex(0x12345)).toBeUndefined();
  });

  it('has the x2APIC registers of the brief at 0x800 + offset', () => {
    const expected: [string, number][] = [
      ['APICID', 0x802], ['VERSION', 0x803], ['TPR', 0x808], ['PPR', 0x80a], ['EOI', 0x80b], ['LDR', 0x80d],
      ['SIVR', 0x80f], ['ISR0', 0x810], ['ISR7', 0x817], ['TMR0', 0x818], ['TMR7', 0x81f], ['IRR0', 0x820],
      ['IRR7', 0x827], ['ESR', 0x828], ['ICR', 0x830], ['LVT_TIMER', 0x832], ['LVT_THERMAL', 0x833],
      ['LVT_PMI', 0x834], ['LVT_LINT0', 0x835], ['LVT_LINT1', 0x836], ['LVT_ERROR', 0x837],
      ['INIT_COUNT', 0x838], ['CUR_COUNT', 0x839], ['DIV_CONF', 0x83e], ['SELF_IPI', 0x83f],
    ];
    for (const [n, i] of expected) expect(msrByName(`IA32_X2APIC_${n}`)?.index, n).toBe(i);
    expect(msrByName('IA32_X2APIC_EOI')!.readable).toBe(false);
  });

  it('has the VMX capability MSRs 0x480–0x493, all read-only', () => {
    for (let i = 0x480; i <= 0x493; i++) {
      const m = msrByIndex(i);
      expect(m?.name, i.toString(16)).toMatch(/^IA32_VMX_/);
      expect(checkMsrWrite(i, 0n)).toEqual(fail(`${m!.name} is read-only`));
    }
    expect(msrByIndex(0x493)!.name).toBe('IA32_VMX_EXIT_CTLS2');
  });

  it('FRED_CONFIG field layout matches fred-architecture.md §2.2', () => {
    const f = msrByName('IA32_FRED_CONFIG')!.fields.map((x) => [x.name, x.lsb, x.width]);
    expect(f).toEqual([['CSL', 0, 2], ['SSP_DECREMENT', 3, 1], ['REDZONE', 6, 3], ['INT_STKLVL', 9, 2], ['ENTRYPOINT', 12, 52]]);
  });

  it('STKLVLS has a 2-bit level per vector', () => {
    const f = msrByName('IA32_FRED_STKLVLS')!.fields;
    expect(f).toHaveLength(32);
    expect(f[8]).toMatchObject({ lsb: 16, width: 2 });
  });
});

describe('isCanonical', () => {
  it.each([
    [0n, 48, true], [0x7fff_ffff_ffffn, 48, true], [0x8000_0000_0000n, 48, false],
    [0xffff_8000_0000_0000n, 48, true], [0xfffe_8000_0000_0000n, 48, false], [-1n, 48, true],
    [0x00ff_ffff_ffff_ffffn, 57, true], [0x0100_0000_0000_0000n, 57, false], [0x8000_0000_0000n, 57, true],
  ])('0x%s (%i-bit) → %s', (v, bits, expected) => expect(isCanonical(v, bits)).toBe(expected));
});

describe('checkMsrWrite', () => {
  it('IA32_FRED_RSPn: 64-byte aligned and canonical', () => {
    expect(checkMsrWrite('IA32_FRED_RSP1', 0xffff_8880_0000_1000n)).toEqual(OK);
    expect(checkMsrWrite('IA32_FRED_RSP1', 0xffff_8880_0000_1008n))
      .toEqual(fail('IA32_FRED_RSP1 bits 5:0 must be 0 (64-byte aligned)'));
    expect(checkMsrWrite(0x1cc, 0x8000_0000_0000n)).toEqual(fail('IA32_FRED_RSP0 must be canonical (48-bit linear address)'));
    expect(checkMsrWrite(0x1cc, 0x8000_0000_0000n, { linearAddressBits: 57 })).toEqual(OK);
  });

  it('IA32_FRED_SSPn: 8-byte aligned and canonical', () => {
    expect(checkMsrWrite('IA32_FRED_SSP2', 0x1008n)).toEqual(OK);
    expect(checkMsrWrite('IA32_FRED_SSP2', 0x1004n)).toEqual(fail('IA32_FRED_SSP2 bits 2:0 must be 0 (8-byte aligned)'));
    expect(checkMsrWrite('IA32_FRED_SSP3', 0x0001_0000_0000_0000n).ok).toBe(false);
  });

  it('IA32_PL0_SSP (FRED SSP0): 4-byte aligned and canonical', () => {
    expect(checkMsrWrite('IA32_PL0_SSP', 0x1004n)).toEqual(OK);
    expect(checkMsrWrite('IA32_PL0_SSP', 0x1002n)).toEqual(fail('IA32_PL0_SSP bits 1:0 must be 0 (4-byte aligned)'));
  });

  it('IA32_FRED_CONFIG: reserved bits 2, 4, 5, 11 and canonical', () => {
    const entry = 0xffff_ffff_8100_0000n;
    expect(checkMsrWrite('IA32_FRED_CONFIG', entry | 0x7cbn)).toEqual(OK); // CSL 3, SSP bit, red zone 7, int SL 3
    for (const b of [2n, 4n, 5n, 11n]) {
      expect(checkMsrWrite('IA32_FRED_CONFIG', entry | (1n << b)))
        .toEqual(fail(`IA32_FRED_CONFIG reserved bits must be 0 (mask 0x834; set: 0x${(1n << b).toString(16)})`));
    }
    expect(checkMsrWrite('IA32_FRED_CONFIG', 0x0000_8000_0000_0000n).ok).toBe(false);
  });

  it('IA32_FRED_STKLVLS accepts every value', () => {
    for (const v of [0n, 0xffff_ffff_ffff_ffffn, 0x8000_0000_0000_0000n, 0x0000_0000_00c0_0004n]) {
      expect(checkMsrWrite('IA32_FRED_STKLVLS', v)).toEqual(OK);
    }
  });

  it('IA32_EFER: only SCE, LME, LMA, NXE', () => {
    expect(checkMsrWrite('IA32_EFER', 0xd01n)).toEqual(OK);
    expect(checkMsrWrite('IA32_EFER', 0x1000n).ok).toBe(false);
  });

  it('IA32_PAT: each entry must be a valid memory type', () => {
    expect(checkMsrWrite('IA32_PAT', 0x0007_0406_0007_0406n)).toEqual(OK);
    expect(checkMsrWrite('IA32_PAT', 0x0007_0406_0007_0402n))
      .toEqual(fail('IA32_PAT PA0 = 2 is not a valid memory type (0, 1, 4, 5, 6, 7)'));
    expect(checkMsrWrite('IA32_PAT', 0x0800_0000_0000_0000n).ok).toBe(false);
  });

  it('canonical address MSRs', () => {
    for (const n of ['IA32_LSTAR', 'IA32_CSTAR', 'IA32_FS_BASE', 'IA32_GS_BASE', 'IA32_KERNEL_GS_BASE', 'IA32_SYSENTER_EIP']) {
      expect(checkMsrWrite(n, 0xffff_8000_0000_0000n), n).toEqual(OK);
      expect(checkMsrWrite(n, 0x0000_8000_0000_0000n).ok, n).toBe(false);
    }
  });

  it('IA32_STAR and IA32_TSC have no static checks', () => {
    expect(checkMsrWrite('IA32_STAR', 0x0023_0010_0000_0000n)).toEqual(OK);
    expect(checkMsrWrite('IA32_TSC', -1n)).toEqual(OK);
  });

  it('upper 32 bits reserved for FMASK, TSC_AUX and x2APIC registers except ICR', () => {
    expect(checkMsrWrite('IA32_FMASK', 0x1_0000_0000n).ok).toBe(false);
    expect(checkMsrWrite('IA32_TSC_AUX', 0xffff_ffffn)).toEqual(OK);
    expect(checkMsrWrite('IA32_X2APIC_INIT_COUNT', 0x1_0000_0000n).ok).toBe(false);
    expect(checkMsrWrite('IA32_X2APIC_ICR', 0x0000_0003_0000_4020n)).toEqual(OK);
  });

  it('x2APIC write rules', () => {
    expect(checkMsrWrite('IA32_X2APIC_EOI', 0n)).toEqual(OK);
    expect(checkMsrWrite('IA32_X2APIC_EOI', 1n).ok).toBe(false);
    expect(checkMsrWrite('IA32_X2APIC_SELF_IPI', 0x30n)).toEqual(OK);
    expect(checkMsrWrite('IA32_X2APIC_SELF_IPI', 0x130n).ok).toBe(false);
    expect(checkMsrWrite('IA32_X2APIC_LVT_TIMER', 0x2_0030n)).toEqual(OK); // periodic, vector 0x30
    expect(checkMsrWrite('IA32_X2APIC_LVT_TIMER', 0x8_0030n).ok).toBe(false);
    expect(checkMsrWrite('IA32_X2APIC_APICID', 0n)).toEqual(fail('IA32_X2APIC_APICID is read-only'));
    expect(checkMsrWrite('IA32_X2APIC_DIV_CONF', 0xbn)).toEqual(OK);
    expect(checkMsrWrite('IA32_X2APIC_DIV_CONF', 0x4n).ok).toBe(false);
  });

  it('unknown MSRs fail with a message naming the index', () => {
    expect(checkMsrWrite(0x12345, 0n)).toEqual(fail('unknown MSR 0x12345'));
    expect(checkMsrWrite('IA32_BOGUS', 0n)).toEqual(fail('unknown MSR IA32_BOGUS'));
  });

  it('negative values are taken as 64-bit two’s complement', () => {
    expect(checkMsrWrite('IA32_LSTAR', -0x1000n)).toEqual(OK);
  });
});
