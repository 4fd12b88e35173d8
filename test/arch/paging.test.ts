import { describe, expect, it } from 'vitest';
import { PAGE_ENTRY_BITS, PAGE_FAULT_ERROR_CODE_BITS, assemblerConstants, pageSizeAtLevel } from '../../src/arch/index';

describe('paging-structure entries', () => {
  it('bit values as in Linux pgtable_types.h', () => {
    expect(PAGE_ENTRY_BITS.P | PAGE_ENTRY_BITS.RW | PAGE_ENTRY_BITS.US).toBe(0x7n);
    expect(PAGE_ENTRY_BITS.A).toBe(0x20n);
    expect(PAGE_ENTRY_BITS.D).toBe(0x40n);
    expect(PAGE_ENTRY_BITS.PS).toBe(0x80n);
    expect(PAGE_ENTRY_BITS.G).toBe(0x100n);
    expect(PAGE_ENTRY_BITS.ADDR).toBe(0x000f_ffff_ffff_f000n);
    expect(PAGE_ENTRY_BITS.PK).toBe(0x7800_0000_0000_0000n);
    expect(PAGE_ENTRY_BITS.XD).toBe(1n << 63n);
    expect(assemblerConstants.get('PTE_US')).toBe(4n);
    expect(assemblerConstants.get('PTE_ADDR_MASK')).toBe(0x000f_ffff_ffff_f000n);
  });

  it('page sizes', () => {
    expect([pageSizeAtLevel(1), pageSizeAtLevel(2), pageSizeAtLevel(3)]).toEqual([0x1000, 0x20_0000, 0x4000_0000]);
  });
});

describe('page-fault error code', () => {
  it('a ring-3 write to a present read-only page is 0x7; a supervisor fetch from an NX page is 0x11', () => {
    const b = PAGE_FAULT_ERROR_CODE_BITS;
    expect(b.PROT | b.WRITE | b.USER).toBe(0x7n);
    expect(b.PROT | b.INSTR).toBe(0x11n);
    expect(b.SHSTK).toBe(0x40n);
    expect(b.SGX).toBe(0x8000n);
    expect(assemblerConstants.get('X86_PF_WRITE')).toBe(2n);
    expect(assemblerConstants.get('X86_PF_RSVD_BIT')).toBe(3n);
  });
});
