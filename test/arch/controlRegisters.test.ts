import { describe, expect, it } from 'vitest';
import {
  CR0_BITS, CR3_BITS, CR4_BITS, DR6_BITS, DR7_BITS, EFER_BITS, FRED_CONFIG_BITS, REGISTER_LAYOUTS, RFLAGS_BITS, findField,
  layoutMask, registerLayout, type RegisterName,
} from '../../src/arch/index';

const pos = (reg: RegisterName, name: string) => findField(registerLayout(reg).fields, name)?.lsb;

describe('control-register bits', () => {
  it.each([
    ['CR0', 'PE', 0], ['CR0', 'WP', 16], ['CR0', 'PG', 31], ['CR0', 'NE', 5],
    ['CR4', 'FRED', 32], ['CR4', 'FSGSBASE', 16], ['CR4', 'PCIDE', 17], ['CR4', 'SMEP', 20], ['CR4', 'SMAP', 21],
    ['CR4', 'PKE', 22], ['CR4', 'CET', 23], ['CR4', 'LA57', 12], ['CR4', 'VMXE', 13], ['CR4', 'PAE', 5],
    ['CR4', 'PGE', 7], ['CR4', 'OSFXSR', 9], ['CR4', 'OSXMMEXCPT', 10],
    ['EFER', 'SCE', 0], ['EFER', 'LME', 8], ['EFER', 'LMA', 10], ['EFER', 'NXE', 11],
    ['RFLAGS', 'CF', 0], ['RFLAGS', 'TF', 8], ['RFLAGS', 'IF', 9], ['RFLAGS', 'IOPL', 12], ['RFLAGS', 'RF', 16],
    ['RFLAGS', 'AC', 18], ['RFLAGS', 'ID', 21],
    ['DR6', 'BS', 14], ['DR6', 'BD', 13], ['DR7', 'GD', 13], ['DR7', 'RW0', 16], ['DR7', 'LEN3', 30],
    ['CR3', 'PCD', 4], ['CR3', 'NOFLUSH', 63],
  ] as const)('%s.%s = bit %i', (reg, name, p) => expect(pos(reg, name)).toBe(p));

  it('reserved and fixed-1 bits never overlap a named field', () => {
    for (const r of REGISTER_LAYOUTS) {
      expect(r.reservedMask & layoutMask(r.fields), r.name).toBe(0n);
      expect(r.fixed1Mask & layoutMask(r.fields), r.name).toBe(0n);
      expect(r.fixed1Mask & r.reservedMask, r.name).toBe(0n);
    }
  });

  it('reserved masks', () => {
    expect(registerLayout('EFER').reservedMask).toBe(0xffff_ffff_ffff_f2fen);
    expect(registerLayout('CR4').reservedMask & (1n << 32n)).toBe(0n);
    expect(registerLayout('CR4').reservedMask & (1n << 33n)).toBe(1n << 33n);
    expect(registerLayout('CR4').reservedMask & (1n << 15n)).toBe(1n << 15n);
    expect(registerLayout('CR0').reservedMask).toBe(0xffff_ffff_0000_0000n);
    // RFLAGS: bits 3, 5, 15 and 63:22 are reserved (0); bit 1 is fixed 1 — ERETU's must-be-zero mask
    // 0xFFFFFFFF_FFC2B02A = these plus IOPL (12:13) and VM (17) (fred-architecture.md §4.3).
    const r = registerLayout('RFLAGS');
    expect(r.fixed1Mask).toBe(2n);
    expect(r.reservedMask | 2n | 0x3000n | 0x20000n).toBe(0xffff_ffff_ffc2_b02an);
    expect(registerLayout('DR6').fixed1Mask | layoutMask(registerLayout('DR6').fields)).toBe(0xffff_ffffn & ~0x1000n | 0xfn);
  });

  it('unknown register name throws', () => {
    expect(() => registerLayout('CR9' as RegisterName)).toThrow(/unknown register CR9/);
  });
});

describe('typed masks', () => {
  it('CR4_BITS, CR0_BITS, EFER_BITS, RFLAGS_BITS, DR6/DR7_BITS, FRED_CONFIG_BITS', () => {
    expect(CR4_BITS.FRED).toBe(1n << 32n);
    expect(CR4_BITS.PAE | CR4_BITS.PGE).toBe(0xa0n);
    expect(CR0_BITS.PG | CR0_BITS.PE).toBe(0x8000_0001n);
    expect(CR3_BITS.BASE).toBe(0x000f_ffff_ffff_f000n);
    expect(EFER_BITS.LMA).toBe(0x400n);
    expect(RFLAGS_BITS.IOPL).toBe(0x3000n);
    expect(DR6_BITS.BS).toBe(0x4000n);
    expect(DR7_BITS.LEN0).toBe(0xc_0000n);
    expect(FRED_CONFIG_BITS.REDZONE).toBe(0x1c0n);
    expect(FRED_CONFIG_BITS.ENTRYPOINT).toBe(0xffff_ffff_ffff_f000n);
    // @ts-expect-error: names are checked at compile time
    expect(CR4_BITS.NOPE).toBeUndefined();
    expect(Object.isFrozen(CR4_BITS)).toBe(true);
  });

});
