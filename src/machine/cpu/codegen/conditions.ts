// Condition codes for Jcc/SETcc/CMOVcc/LOOPcc. When the block knows which lazy operation produced the
// flags, the condition is computed from the lazy record directly (cmp + jcc without materializing
// RFLAGS); otherwise it asks the CPU (flags.ts testCondition).
import { LazyOp } from '../flags';

export interface Producer {
  op: LazyOp;
  size: number;
  /** The lazy record was stored (liveness may drop it; then only constant facts are usable). */
  stored: boolean;
}

function signExtend(expr: string, size: number): string {
  return size === 1 ? `(${expr} << 24 >> 24)` : size === 2 ? `(${expr} << 16 >> 16)` : expr;
}

function sign(size: number): string {
  return size === 8 ? '(F[3] < 0)' : size === 4 ? '(F[2] < 0)' : `((F[2] & ${size === 1 ? 0x80 : 0x8000}) !== 0)`;
}

/** JS boolean expression for condition `cc` (0–15, Jcc order). */
export function condition(cc: number, producer: Producer | undefined): string {
  const negate = (cc & 1) === 1;
  const base = baseCondition(cc & ~1, producer);
  return negate ? `!${base}` : base;
}

function baseCondition(cc: number, known: Producer | undefined): string {
  if (known && known.op === LazyOp.Logic && (cc === 0 || cc === 2)) return 'false'; // CF = OF = 0
  const p = known?.stored ? known : undefined;
  const zero = '((F[2] | F[3]) === 0)';
  if (p && cc === 4) return zero;
  if (p && cc === 8) return sign(p.size);
  if (p && p.op === LazyOp.Logic) {
    switch (cc) {
      case 0: case 2: return 'false';
      case 6: return zero;
      case 12: return sign(p.size);
      case 14: return `(${zero} || ${sign(p.size)})`;
    }
  }
  if (p && p.op === LazyOp.Add && cc === 2) {
    return p.size === 8 ? '((F[3] >>> 0) < (F[5] >>> 0) || (F[3] === F[5] && (F[2] >>> 0) < (F[4] >>> 0)))'
      : p.size === 4 ? '((F[2] >>> 0) < (F[4] >>> 0))' : '(F[2] < F[4])';
  }
  if (p && p.op === LazyOp.Sub) {
    const s = p.size;
    const below = s === 8
      ? ['((F[5] >>> 0) < (F[7] >>> 0) || (F[5] === F[7] && (F[4] >>> 0) < (F[6] >>> 0)))', '((F[5] >>> 0) < (F[7] >>> 0) || (F[5] === F[7] && (F[4] >>> 0) <= (F[6] >>> 0)))']
      : s === 4 ? ['((F[4] >>> 0) < (F[6] >>> 0))', '((F[4] >>> 0) <= (F[6] >>> 0))'] : ['(F[4] < F[6])', '(F[4] <= F[6])'];
    const less = s === 8
      ? ['(F[5] < F[7] || (F[5] === F[7] && (F[4] >>> 0) < (F[6] >>> 0)))', '(F[5] < F[7] || (F[5] === F[7] && (F[4] >>> 0) <= (F[6] >>> 0)))']
      : [`(${signExtend('F[4]', s)} < ${signExtend('F[6]', s)})`, `(${signExtend('F[4]', s)} <= ${signExtend('F[6]', s)})`];
    switch (cc) {
      case 2: return below[0];
      case 6: return below[1];
      case 12: return less[0];
      case 14: return less[1];
    }
  }
  return `c.condition(${cc})`;
}

/** Can CF be computed from the known producer without calling into the CPU? */
export function carryKnown(p: Producer | undefined): boolean {
  return p !== undefined && (p.op === LazyOp.Logic || (p.stored && (p.op === LazyOp.Sub || p.op === LazyOp.Add)));
}
