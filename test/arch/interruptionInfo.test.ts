import { describe, expect, it } from 'vitest';
import {
  ENTRY_INTR_INFO_FIELDS, ENTRY_INTR_INFO_RESERVED_MASK, ENTRY_INTR_INFO_RESERVED_MASK_NO_NESTED, decodeInterruptionInfo,
  encodeInterruptionInfo, layoutMask,
} from '../../src/arch/index';

describe('interruption information', () => {
  it('encodes a nested #PF injection with error code', () => {
    // valid | nested | deliver error code | type 3 | vector 14
    expect(encodeInterruptionInfo({ vector: 14, type: 3, errorCode: true, nested: true })).toBe(0x80002b0e);
  });

  it('encodes INT3 (type 6) and an invalid (cleared) value', () => {
    expect(encodeInterruptionInfo({ vector: 3, type: 6 })).toBe(0x80000603);
    expect(encodeInterruptionInfo({ vector: 0, type: 0, valid: false })).toBe(0);
  });

  it('decodes exit information with NMI unblocking', () => {
    expect(decodeInterruptionInfo(0x80001b0d)).toEqual({
      vector: 13, type: 3, errorCode: true, bit12: true, nested: false, valid: true,
    });
    expect(decodeInterruptionInfo(0x80000202n).type).toBe(2);
  });

  it('round-trips', () => {
    for (const v of [0x80002b0e, 0x80000603, 0x80000702, 0x800000ef, 0x0]) {
      expect(encodeInterruptionInfo(decodeInterruptionInfo(v))).toBe(v);
    }
  });

  it('reserved masks: bit 13 allowed only with nested-exception support', () => {
    expect(ENTRY_INTR_INFO_RESERVED_MASK_NO_NESTED & ~ENTRY_INTR_INFO_RESERVED_MASK).toBe(0x2000);
    expect(BigInt(ENTRY_INTR_INFO_RESERVED_MASK) & layoutMask(ENTRY_INTR_INFO_FIELDS)).toBe(0n);
    expect(BigInt(ENTRY_INTR_INFO_RESERVED_MASK) | layoutMask(ENTRY_INTR_INFO_FIELDS) | 0x1000n).toBe(0xffff_ffffn);
  });
});
