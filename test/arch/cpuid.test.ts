import { describe, expect, it } from 'vitest';
import { CPUID_FEATURES, assemblerConstants, cpuidFeature, cpuidMask } from '../../src/arch/index';
import { readReference, section, tableRows } from './referenceDocs';

describe('CPUID features', () => {
  it('unique names and unique (leaf, sub-leaf, register, bit)', () => {
    expect(new Set(CPUID_FEATURES.map((x) => x.name)).size).toBe(CPUID_FEATURES.length);
    expect(new Set(CPUID_FEATURES.map((x) => `${x.leaf}.${x.subleaf}.${x.register}.${x.bit}`)).size).toBe(CPUID_FEATURES.length);
  });

  it('fred-architecture.md §1.1: leaf 7 sub-leaf 1 EAX bits', () => {
    const rows = tableRows(section(readReference('fred-architecture.md'), '1.1'));
    expect(rows.length).toBe(4);
    for (const [where, what] of rows) {
      const bit = Number(/^EAX\[(\d+)\]$/.exec(where!)![1]);
      const name = /X86_FEATURE_(\w+)/.exec(what!)?.[1] ?? what!.split(' ')[0]!;
      expect(cpuidFeature(name), name).toMatchObject({ leaf: 7, subleaf: 1, register: 'eax', bit });
    }
  });

  it('the boot contract features (ARCHITECTURE §3): long mode, NX, FRED, LKGS, WRMSRNS, x2APIC', () => {
    expect(cpuidMask(0x80000001, 0, 'edx', ['LM', 'NX', 'SYSCALL'])).toBe((1 << 29) | (1 << 20) | (1 << 11));
    expect(cpuidMask(7, 1, 'eax', ['FRED', 'LKGS', 'WRMSRNS'])).toBe(0xe0000);
    expect(cpuidMask(1, 0, 'ecx', ['X2APIC', 'HYPERVISOR'])).toBe(0x80200000);
  });

  it('cpuidMask refuses unknown names and features of another register', () => {
    expect(() => cpuidMask(7, 1, 'eax', ['FREDD'])).toThrow(/unknown CPUID feature 'FREDD'/);
    expect(() => cpuidMask(7, 1, 'eax', ['NX'])).toThrow(/NX is in leaf 0x80000001.0 EDX, not 0x7.1 EAX/);
  });

  it('assembler constants', () => {
    expect(assemblerConstants.get('CPUID_FRED')).toBe(0x20000n);
    expect(assemblerConstants.get('CPUID_FRED_BIT')).toBe(17n);
    expect(assemblerConstants.get('CPUID_HYPERVISOR')).toBe(0x8000_0000n);
  });
});
