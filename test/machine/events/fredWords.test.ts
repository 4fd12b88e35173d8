// The frame words delivery composes with integer shifts must be the arch encoders' words (src/arch/fredFrame.ts),
// field by field and for random combinations.
import { describe, expect, it } from 'vitest';
import { encodeFredCsWord, encodeFredSsWord } from '../../../src/arch/index';
import { csWordLow, ssWordHigh, ssWordLow } from '../../../src/machine/events/fredWords';
import { rng } from '../../asm/shapes';

const half = (word: bigint, high: boolean) => Number(BigInt.asIntN(32, high ? word >> 32n : word));

describe('FRED frame words', () => {
  it('puts every field where src/arch/fredFrame.ts says (one field set at a time)', () => {
    const none = { selector: 0, sti: false, swevent: false, nmi: false, vector: 0, type: 0, enclave: false, l: false, nested: false, insnLen: 0 };
    expect(csWordLow(0x10, 0, false)).toBe(0x10);
    expect(csWordLow(0, 3, false)).toBe(3 << 16);
    expect(csWordLow(0, 0, true)).toBe(1 << 18);
    expect(ssWordLow(0, true, false, false)).toBe(half(encodeFredSsWord({ ...none, sti: true }), false));
    expect(ssWordLow(0, false, true, false)).toBe(half(encodeFredSsWord({ ...none, swevent: true }), false));
    expect(ssWordLow(0, false, false, true)).toBe(1 << 18);
    expect(ssWordHigh(0xff, 0, false, false, false, 0)).toBe(0xff);
    expect(ssWordHigh(0, 7, false, false, false, 0)).toBe(7 << 16);
    expect(ssWordHigh(0, 0, true, false, false, 0)).toBe(1 << 24);
    expect(ssWordHigh(0, 0, false, true, false, 0)).toBe(1 << 25);
    expect(ssWordHigh(0, 0, false, false, true, 0)).toBe(1 << 26);
    expect(ssWordHigh(0, 0, false, false, false, 15)).toBe(15 << 28); // bits 63:60: the high half is negative
  });

  it('equals the arch encoders for random field combinations', () => {
    const random = rng(0x5eed);
    const next = () => random() / 2 ** 32; // [0, 1)
    for (let k = 0; k < 2000; k++) {
      const cs = { selector: Math.floor(next() * 0x10000), sl: Math.floor(next() * 4), wfe: next() < 0.5 };
      expect(csWordLow(cs.selector, cs.sl, cs.wfe)).toBe(half(encodeFredCsWord(cs), false));
      const ss = {
        selector: Math.floor(next() * 0x10000), sti: next() < 0.5, swevent: next() < 0.5, nmi: next() < 0.5, vector: Math.floor(next() * 256),
        type: Math.floor(next() * 8), enclave: next() < 0.5, l: next() < 0.5, nested: next() < 0.5, insnLen: Math.floor(next() * 16),
      };
      const word = encodeFredSsWord(ss);
      expect(ssWordLow(ss.selector, ss.sti, ss.swevent, ss.nmi)).toBe(half(word, false));
      expect(ssWordHigh(ss.vector, ss.type, ss.enclave, ss.l, ss.nested, ss.insnLen)).toBe(half(word, true));
    }
  });
});
