import { describe, expect, it } from 'vitest';
import {
  ACCESS_RIGHTS_FIELDS, SEGMENT_DESCRIPTOR_FIELDS, SELECTOR_ERROR_CODE_FIELDS, accessRightsFromDescriptor, decodeFields,
  descriptorBase, descriptorLimit, encodeFields,
} from '../../src/arch/index';

describe('segment descriptors', () => {
  const kernelCode64 = 0x00af_9a00_0000_ffffn; // boot GDT 0x10: 64-bit ring-0 code
  const userData = 0x00cf_f200_0000_ffffn; // boot GDT 0x28: ring-3 data

  it('decodes the boot contract descriptors', () => {
    expect(decodeFields(SEGMENT_DESCRIPTOR_FIELDS, kernelCode64)).toMatchObject({ TYPE: 0xan, S: 1n, DPL: 0n, P: 1n, L: 1n, DB: 0n, G: 1n });
    expect(decodeFields(SEGMENT_DESCRIPTOR_FIELDS, userData)).toMatchObject({ TYPE: 0x2n, DPL: 3n, L: 0n, DB: 1n });
    expect(descriptorLimit(kernelCode64)).toBe(0xffff_ffff);
    expect(descriptorBase(0x12cf_9a34_5678_ffffn)).toBe(0x1234_5678n);
    expect(descriptorLimit(0x0040_9200_0000_1234n)).toBe(0x1234);
  });

  it('turns a descriptor into VMX access rights', () => {
    const ar = BigInt(accessRightsFromDescriptor(kernelCode64));
    expect(ar).toBe(0xa09an);
    expect(decodeFields(ACCESS_RIGHTS_FIELDS, ar)).toMatchObject({ TYPE: 0xan, S: 1n, DPL: 0n, P: 1n, L: 1n, G: 1n, UNUSABLE: 0n });
    expect(accessRightsFromDescriptor(userData)).toBe(0xc0f2);
  });
});

describe('selector error code', () => {
  it('a GDT selector error code with EXT, and an IDT-vector error code', () => {
    expect(encodeFields(SELECTOR_ERROR_CODE_FIELDS, { INDEX: 5, TI: 0, EXT: 1 })).toBe(0x29n);
    expect(encodeFields(SELECTOR_ERROR_CODE_FIELDS, { INDEX: 14, IDT: 1 })).toBe(0x72n);
  });
});
