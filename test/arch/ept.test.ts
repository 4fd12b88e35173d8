import { describe, expect, it } from 'vitest';
import { EPTP_BITS, EPTP_FIELDS, EPT_ENTRY_BITS, assemblerConstants, encodeFields } from '../../src/arch/index';

describe('EPT', () => {
  it('entry bits as in Linux vmx.h (VMX_EPT_*_MASK, IPAT bit 6, memory-type shift 3)', () => {
    expect(EPT_ENTRY_BITS.READ | EPT_ENTRY_BITS.WRITE | EPT_ENTRY_BITS.EXEC).toBe(7n);
    expect(EPT_ENTRY_BITS.MEMTYPE).toBe(0x38n);
    expect(EPT_ENTRY_BITS.IGNORE_PAT).toBe(0x40n);
    expect(EPT_ENTRY_BITS.ACCESSED | EPT_ENTRY_BITS.DIRTY).toBe(0x300n);
    expect(EPT_ENTRY_BITS.USER_EXEC).toBe(0x400n);
    expect(EPT_ENTRY_BITS.SUPPRESS_VE).toBe(1n << 63n);
    expect(assemblerConstants.get('EPT_MEMTYPE_SHIFT')).toBe(3n);
  });

  it('a write-back, 4-level EPTP with A/D flags is table | 0x5E', () => {
    const eptp = encodeFields(EPTP_FIELDS, { MEMTYPE: 6, WALK_LENGTH: 3, AD_ENABLE: true, ADDR: 0x1234n });
    expect(eptp).toBe(0x123_405en);
    expect(EPTP_BITS.ADDR).toBe(0x000f_ffff_ffff_f000n);
    expect(assemblerConstants.get('EPTP_AD_ENABLE')).toBe(0x40n);
  });
});
