// Integer arithmetic and logic with lazy flags (SDM Vol. 2: ADD, ADC, SUB, SBB, CMP, AND, OR, XOR,
// TEST, INC, DEC, NEG, NOT). The result is computed on halves for 64-bit operands; the lazy-flag
// record (flags.ts) is stored only when a later reader can see it (block.ts flag liveness).
import { LazyOp } from '../flags';
import type { DecodedInsn } from '../decode';
import { readOperand, writeOperand } from './emitter';

export type AluKind = 'add' | 'adc' | 'sub' | 'sbb' | 'cmp' | 'and' | 'or' | 'xor' | 'test';

const LAZY: Record<AluKind, LazyOp> = {
  add: LazyOp.Add, adc: LazyOp.Adc, sub: LazyOp.Sub, sbb: LazyOp.Sbb, cmp: LazyOp.Sub,
  and: LazyOp.Logic, or: LazyOp.Logic, xor: LazyOp.Logic, test: LazyOp.Logic,
};

/** Current CF into `t` (the lazy record's fields as values, or RFLAGS: block.ts keeps F in locals and need not store it for this). */
export const CURRENT_CF = 't = (F[0] !== 0 ? c.lazyCarry(F[0], F[2], F[3], F[4], F[5], F[6], F[7], F[8]) : c.flags) & 1;';

/** Store the lazy-flag record for result `z`, operands `x`, `y`. */
export function lazyRecord(op: LazyOp, size: number, withCarryIn: boolean): string {
  const parts = size === 8
    ? `F[2] = zl; F[3] = zh; F[4] = xl; F[5] = xh; F[6] = yl; F[7] = yh;`
    : `F[2] = z; F[3] = 0; F[4] = x; F[5] = 0; F[6] = y; F[7] = 0;`;
  return `F[0] = ${op}; F[1] = ${size}; ${parts}${withCarryIn ? ' F[8] = t;' : ''}`;
}

function compute(kind: AluKind, size: number): string {
  if (size === 8) {
    switch (kind) {
      case 'add': return 'zl = (xl + yl) | 0; zh = (xh + yh + ((zl >>> 0) < (xl >>> 0) ? 1 : 0)) | 0;';
      case 'adc': return `${CURRENT_CF} zl = (xl + yl + t) | 0; zh = (xh + yh + ((t ? (zl >>> 0) <= (xl >>> 0) : (zl >>> 0) < (xl >>> 0)) ? 1 : 0)) | 0;`;
      case 'sub': case 'cmp': return 'zl = (xl - yl) | 0; zh = (xh - yh - ((xl >>> 0) < (yl >>> 0) ? 1 : 0)) | 0;';
      case 'sbb': return `${CURRENT_CF} zl = (xl - yl - t) | 0; zh = (xh - yh - ((t ? (xl >>> 0) <= (yl >>> 0) : (xl >>> 0) < (yl >>> 0)) ? 1 : 0)) | 0;`;
      case 'and': case 'test': return 'zl = xl & yl; zh = xh & yh;';
      case 'or': return 'zl = xl | yl; zh = xh | yh;';
      case 'xor': return 'zl = xl ^ yl; zh = xh ^ yh;';
    }
  }
  const wrap = size === 4 ? ' | 0' : size === 2 ? ' & 0xffff' : ' & 0xff';
  switch (kind) {
    case 'add': return `z = (x + y)${wrap};`;
    case 'adc': return `${CURRENT_CF} z = (x + y + t)${wrap};`;
    case 'sub': case 'cmp': return `z = (x - y)${wrap};`;
    case 'sbb': return `${CURRENT_CF} z = (x - y - t)${wrap};`;
    case 'and': case 'test': return 'z = x & y;';
    case 'or': return 'z = x | y;';
    case 'xor': return 'z = x ^ y;';
  }
}

/** Two-operand ALU instruction (dst op0, src op1). */
export function alu(d: DecodedInsn, kind: AluKind, size: number, flags: boolean): string {
  const out = [readOperand(d, 0, size, 'x'), readOperand(d, 1, size, 'y'), compute(kind, size)];
  if (kind !== 'cmp' && kind !== 'test') out.push(writeOperand(d, 0, size, 'z'));
  if (flags) out.push(lazyRecord(LAZY[kind], size, kind === 'adc' || kind === 'sbb'));
  return out.join(' ');
}

/** INC/DEC: like ADD/SUB 1 but CF is preserved (kept in the record's carry-in slot). */
export function incDec(d: DecodedInsn, inc: boolean, size: number, flags: boolean, carry = CURRENT_CF): string {
  const out = [readOperand(d, 0, size, 'x')];
  const sign = inc ? '+' : '-';
  if (size === 8) {
    out.push(inc
      ? 'zl = (xl + 1) | 0; zh = (xh + (zl === 0 ? 1 : 0)) | 0; yl = 1; yh = 0;'
      : 'zl = (xl - 1) | 0; zh = (xh - (xl === 0 ? 1 : 0)) | 0; yl = 1; yh = 0;');
  } else {
    out.push(`z = (x ${sign} 1)${size === 4 ? ' | 0' : size === 2 ? ' & 0xffff' : ' & 0xff'}; y = 1;`);
  }
  out.push(writeOperand(d, 0, size, 'z'));
  if (flags) out.push(carry, lazyRecord(inc ? LazyOp.Inc : LazyOp.Dec, size, true));
  return out.join(' ');
}

/** NEG: 0 − x, flags as SUB (CF = source ≠ 0). */
export function neg(d: DecodedInsn, size: number, flags: boolean): string {
  const out = [readOperand(d, 0, size, 'y')];
  if (size === 8) out.push('xl = 0; xh = 0; zl = (-yl) | 0; zh = (-yh - (yl !== 0 ? 1 : 0)) | 0;');
  else out.push(`x = 0; z = (-y)${size === 4 ? ' | 0' : size === 2 ? ' & 0xffff' : ' & 0xff'};`);
  out.push(writeOperand(d, 0, size, 'z'));
  if (flags) out.push(lazyRecord(LazyOp.Sub, size, false));
  return out.join(' ');
}

/** NOT: no flags. */
export function not(d: DecodedInsn, size: number): string {
  const body = size === 8 ? 'zl = ~xl; zh = ~xh;' : `z = ~x${size === 4 ? '' : size === 2 ? ' & 0xffff' : ' & 0xff'};`;
  return [readOperand(d, 0, size, 'x'), body, writeOperand(d, 0, size, 'z')].join(' ');
}
