import { describe, expect, it } from 'vitest';
import { CF, LazyOp, lazyCarry, lazyStatus } from '../../../src/machine/cpu/flags';

/** xorshift32: the same records every run. */
function random(seed: number): () => number {
  let s = seed;
  return () => {
    s ^= s << 13; s ^= s >>> 17; s ^= s << 5;
    return s | 0;
  };
}

const MASK = { 1: 0xff, 2: 0xffff, 4: -1 } as const;

describe('lazyCarry', () => {
  // ADC/SBB/INC/DEC in translated blocks take CF from lazyCarry with the record in locals; it must be
  // exactly the CF lazyStatus computes from the stored record, for every operation, size and edge.
  it('equals lazyStatus(F) & CF for every operation and size', () => {
    const next = random(0x1234567);
    const F = new Int32Array(9);
    const edges = [0, 1, -1, 0x7fffffff, -0x80000000, 0xff, 0xffff];
    for (const op of [LazyOp.Add, LazyOp.Adc, LazyOp.Sub, LazyOp.Sbb, LazyOp.Logic, LazyOp.Inc, LazyOp.Dec]) {
      for (const size of [1, 2, 4, 8] as const) {
        for (let k = 0; k < 3000; k++) {
          const pick = () => (k % 3 === 0 ? edges[(next() >>> 0) % edges.length] : next());
          const narrow = (v: number) => (size === 8 ? v : v & MASK[size]);
          const al = narrow(pick()), bl = narrow(pick());
          const ah = size === 8 ? pick() : 0, bh = size === 8 ? pick() : 0;
          // The result of the operation on the operands (the carry only follows from a consistent record).
          const carryIn = (next() & 1);
          const sum = op === LazyOp.Add || op === LazyOp.Adc || op === LazyOp.Inc;
          const extra = op === LazyOp.Adc || op === LazyOp.Sbb ? carryIn : 0;
          const a = BigInt(ah >>> 0) << 32n | BigInt(al >>> 0), b = BigInt(bh >>> 0) << 32n | BigInt(bl >>> 0);
          const bits = BigInt(size * 8);
          const r = BigInt.asUintN(Number(bits), op === LazyOp.Logic ? a & b : sum ? a + b + BigInt(extra) : a - b - BigInt(extra));
          const rl = Number(BigInt.asIntN(32, r)), rh = Number(BigInt.asIntN(32, r >> 32n));
          F.set([op, size, rl, rh, al, ah, bl, bh, carryIn]);
          expect(lazyCarry(op, rl, rh, al, ah, bl, bh, carryIn), `op ${op} size ${size} a ${a} b ${b} cin ${carryIn}`).toBe(lazyStatus(F) & CF);
        }
      }
    }
  });
});
