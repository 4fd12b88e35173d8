import { describe, expect, it } from 'vitest';
import {
  FRED_CS_WORD_FIELDS, FRED_CS_WORD_RESERVED_MASK, FRED_FRAME_SIZE, FRED_FRAME_SLOTS, FRED_SS_WORD_FIELDS,
  FRED_SS_WORD_RESERVED_MASK, decodeFredCsWord, decodeFredSsWord, encodeFredCsWord, encodeFredSsWord, layoutMask,
  type FredSsWord,
} from '../../src/arch/index';

const base: FredSsWord = {
  selector: 0, sti: false, swevent: false, nmi: false, vector: 0, type: 0, enclave: false, l: false, nested: false, insnLen: 0,
};

describe('FRED frame (fred-architecture.md §3.5)', () => {
  it('8 quadwords, 64 bytes', () => {
    expect(FRED_FRAME_SLOTS.map((s) => s.offset)).toEqual([0, 8, 16, 24, 32, 40, 48, 56]);
    expect(FRED_FRAME_SIZE).toBe(64);
  });

  it('SS word of a ring-3 #PF (vector 14, type 3, 64-bit, SS 0x2B)', () => {
    const w = { ...base, selector: 0x2b, vector: 14, type: 3, l: true };
    // 0x2B | 14 << 32 | 3 << 48 | 1 << 57
    expect(encodeFredSsWord(w)).toBe(0x0203_000e_0000_002bn);
    expect(decodeFredSsWord(0x0203_000e_0000_002bn)).toEqual(w);
  });

  it('SS word of a SYSCALL from ring 3 (type 7 vector 1, swevent, insnlen 2)', () => {
    const w = { ...base, selector: 0x2b, vector: 1, type: 7, l: true, swevent: true, insnLen: 2 };
    expect(encodeFredSsWord(w)).toBe(0x2207_0001_0002_002bn);
  });

  it('SS word of a nested NMI with STI blocking', () => {
    const w = { ...base, selector: 0x18, sti: true, nmi: true, vector: 2, type: 2, l: true, nested: true };
    expect(encodeFredSsWord(w)).toBe(0x0602_0002_0005_0018n);
    expect(decodeFredSsWord(0x0602_0002_0005_0018n)).toEqual(w);
  });

  it('CS word: selector, stack level, WFE', () => {
    expect(encodeFredCsWord({ selector: 0x10, sl: 2, wfe: true })).toBe(0x6_0010n);
    expect(decodeFredCsWord(0x6_0010n)).toEqual({ selector: 0x10, sl: 2, wfe: true });
    expect(decodeFredCsWord(0x33n)).toEqual({ selector: 0x33, sl: 0, wfe: false });
  });

  it('rejects field values that do not fit', () => {
    expect(() => encodeFredCsWord({ selector: 0x10, sl: 4, wfe: false })).toThrow(/sl/);
    expect(() => encodeFredSsWord({ ...base, vector: 256 })).toThrow(/vector/);
  });

  it('reserved masks are exactly the bits no field uses', () => {
    const all = (1n << 64n) - 1n;
    expect(FRED_CS_WORD_RESERVED_MASK).toBe(all & ~layoutMask(FRED_CS_WORD_FIELDS));
    expect(FRED_SS_WORD_RESERVED_MASK).toBe(all & ~layoutMask(FRED_SS_WORD_FIELDS));
    // ERETS checks the CS word against 0xFFFFFFFF_FFF8FFFF: everything except SL (17:16) and WFE (18)
    // must equal the current selector (fred-architecture.md §4.2).
    expect(FRED_CS_WORD_RESERVED_MASK | 0xffffn).toBe(0xffff_ffff_fff8_ffffn);
  });
});
