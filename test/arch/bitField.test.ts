import { describe, expect, it } from 'vitest';
import * as arch from '../../src/arch/index';
import {
  bit, bitRangeText, bits, decodeFields, encodeFields, extractField, fieldMask, findField, insertField, layoutMask, rangeMask,
  type BitField, type BitLayout,
} from '../../src/arch/index';

describe('bit fields', () => {
  const redZone = bits('REDZONE', 8, 6, 'red zone');

  it('mask, extract, insert', () => {
    expect(fieldMask(redZone)).toBe(0x1c0n);
    expect(extractField(redZone, 0xffff_f000_0000_0080n)).toBe(2n);
    expect(insertField(redZone, 0xfffn, 1n)).toBe(0xe7fn);
    expect(() => insertField(redZone, 0n, 8n)).toThrow(/REDZONE: value 8 does not fit in 3 bit/);
  });

  it('encode/decode a layout', () => {
    const layout = [bit('A', 0, ''), bits('B', 7, 4, ''), bit('C', 63, '')];
    expect(encodeFields(layout, { A: true, B: 5, C: 1n })).toBe(0x8000_0000_0000_0051n);
    expect(decodeFields(layout, 0x8000_0000_0000_0051n)).toEqual({ A: 1n, B: 5n, C: 1n });
    expect(() => encodeFields(layout, { D: 1 })).toThrow(/unknown field 'D'/);
  });

  it('helpers', () => {
    expect(bitRangeText(redZone)).toBe('8:6');
    expect(bitRangeText(bit('X', 5, ''))).toBe('5');
    expect(rangeMask(63, 52)).toBe(0xfff0_0000_0000_0000n);
    expect(layoutMask([bit('A', 0, ''), redZone])).toBe(0x1c1n);
    expect(findField([redZone], 'redzone')).toBe(redZone);
  });
});

/** Every exported layout (arrays of BitField) of src/arch. */
function exportedLayouts(): [string, BitLayout][] {
  const isField = (x: unknown): x is BitField =>
    typeof x === 'object' && x !== null && 'lsb' in x && 'width' in x && 'name' in x;
  return Object.entries(arch).filter(([, v]) => Array.isArray(v) && v.length > 0 && v.every(isField)) as [string, BitLayout][];
}

describe('every exported layout', () => {
  const layouts = exportedLayouts();
  it('there are many', () => expect(layouts.length).toBeGreaterThan(25));
  it.each(layouts)('%s: fields fit in 64 bits, do not overlap, have unique names and docs', (_name, layout) => {
    let seen = 0n;
    for (const f of layout) {
      expect(f.width).toBeGreaterThan(0);
      expect(f.lsb + f.width).toBeLessThanOrEqual(64);
      expect(seen & fieldMask(f), f.name).toBe(0n);
      seen |= fieldMask(f);
    }
    expect(new Set(layout.map((f) => f.name)).size).toBe(layout.length);
  });
});
