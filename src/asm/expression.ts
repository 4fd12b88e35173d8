// Expressions: NASM operators and precedence over 64-bit values (bigint, wrapping), with `$`, `$$`,
// symbols and character constants. A value remembers whether it depends on an address ("relocatable"):
// like NASM, the encoder never shrinks an immediate or displacement that depends on a label.
import { AsmError } from './errors';
import type { Cursor } from './cursor';
import { TokenKind, decimalValue } from './lexer';

export type Expr =
  | { readonly k: 'num'; readonly v: bigint; readonly start: number; readonly end: number; /** its Value, made once */ readonly val: Value }
  | { readonly k: 'sym'; readonly name: string; readonly start: number; readonly end: number }
  | { readonly k: 'reg'; readonly reg: number; readonly name: string; readonly start: number; readonly end: number }
  | { readonly k: 'un'; readonly op: string; readonly a: Expr; readonly start: number; readonly end: number }
  | { readonly k: 'bin'; readonly op: string; readonly a: Expr; readonly b: Expr; readonly start: number; readonly end: number };

export interface Value {
  /** Two's-complement 64-bit value, kept signed. */
  readonly value: bigint;
  /** Net count of labels (and `$`) in the sum: non-zero means the value is an address. */
  readonly reloc: number;
  /** A symbol had no value yet (forward reference in an early pass). */
  readonly unknown: boolean;
}

export interface EvalContext {
  /** A symbol's value; undefined when it has none (yet). May throw AsmError (e.g. recursive equ). */
  lookup(name: string, node: Expr): Value | undefined;
  /** Whether an undefined symbol is an error now (last pass) or just unknown (layout passes). */
  readonly final: boolean;
}

const BINARY_PRECEDENCE: Record<string, number> = {
  '|': 1, '^': 2, '&': 3, '<<': 4, '>>': 4, '+': 5, '-': 5, '*': 6, '/': 6, '//': 6, '%': 6, '%%': 6,
};

/** Register lookup used inside memory operands (returns the register or undefined). */
export type RegisterLookup = (name: string) => number | undefined;

export function parseExpression(cur: Cursor, registers?: RegisterLookup): Expr {
  return parseBinary(cur, 1, registers);
}

function parseBinary(cur: Cursor, minPrec: number, registers?: RegisterLookup): Expr {
  let left = parseUnary(cur, registers);
  for (;;) {
    const t = cur.peek();
    if (!t || t.kind !== TokenKind.Punct) return left;
    const prec = BINARY_PRECEDENCE[t.text];
    if (prec === undefined || prec < minPrec) return left;
    cur.pos++;
    const right = parseBinary(cur, prec + 1, registers);
    left = { k: 'bin', op: t.text, a: left, b: right, start: left.start, end: right.end };
  }
}

function parseUnary(cur: Cursor, registers?: RegisterLookup): Expr {
  const t = cur.peek();
  if (!t) throw cur.error('expected an expression');
  if (t.kind === TokenKind.Punct) {
    if (t.text === '-' || t.text === '+' || t.text === '~' || t.text === '!') {
      cur.pos++;
      const a = parseUnary(cur, registers);
      return { k: 'un', op: t.text, a, start: t.start, end: a.end };
    }
    if (t.text === '(') {
      cur.pos++;
      const inner = parseBinary(cur, 1, registers);
      const close = cur.expect(')');
      return { ...inner, start: t.start, end: close.end };
    }
    throw cur.error(`expected an expression before '${t.text}'`);
  }
  cur.pos++;
  if (t.kind === TokenKind.Number) return numberNode(BigInt.asIntN(64, t.value!), t.start, t.end);
  if (t.kind === TokenKind.String) {
    const bytes = t.bytes!;
    if (bytes.length > 8) throw new AsmError('character constant longer than 8 bytes', t.start, t.end);
    let v = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
    return numberNode(BigInt.asIntN(64, v), t.start, t.end);
  }
  if (registers) {
    const reg = registers(t.text.toLowerCase());
    if (reg !== undefined) return { k: 'reg', reg, name: t.text, start: t.start, end: t.end };
  }
  return { k: 'sym', name: t.text, start: t.start, end: t.end };
}

const MASK64 = (1n << 64n) - 1n;

export function numberNode(v: bigint, start: number, end: number): Expr {
  return { k: 'num', v, start, end, val: { value: v, reloc: 0, unknown: false } };
}

/**
 * The node of a small decimal literal (0 ≤ n < SMALL_LIMIT), built without bigint arithmetic: its bigint
 * and Value are shared (both immutable), and most literals in real code are small.
 */
export function smallNumberNode(n: number, start: number, end: number): Expr {
  return { k: 'num', v: SMALL_VALUES[n].value, start, end, val: SMALL_VALUES[n] };
}

export const SMALL_LIMIT = 4096;
const SMALL_VALUES: readonly Value[] = Array.from({ length: SMALL_LIMIT }, (_, i): Value => ({ value: decimalValue(i), reloc: 0, unknown: false }));

export function evaluate(e: Expr, ctx: EvalContext): Value {
  switch (e.k) {
    case 'num':
      return e.val;
    case 'sym': {
      const v = ctx.lookup(e.name, e);
      if (v) return v;
      if (ctx.final) throw new AsmError(`undefined symbol '${e.name}'`, e.start, e.end);
      return { value: 0n, reloc: 0, unknown: true };
    }
    case 'reg':
      throw new AsmError(`register '${e.name}' is not allowed in an expression here`, e.start, e.end);
    case 'un': {
      const a = evaluate(e.a, ctx);
      switch (e.op) {
        case '-':
          return { value: BigInt.asIntN(64, -a.value), reloc: -a.reloc, unknown: a.unknown };
        case '~':
          return { value: ~a.value, reloc: a.reloc ? 1 : 0, unknown: a.unknown };
        case '!':
          return { value: a.value === 0n ? 1n : 0n, reloc: a.reloc ? 1 : 0, unknown: a.unknown };
        default:
          return a;
      }
    }
    case 'bin': {
      const a = evaluate(e.a, ctx);
      const b = evaluate(e.b, ctx);
      const unknown = a.unknown || b.unknown;
      const other = a.reloc || b.reloc ? 1 : 0;
      const x = a.value;
      const y = b.value;
      let v: bigint;
      let reloc = other;
      switch (e.op) {
        case '+':
          v = x + y;
          reloc = a.reloc + b.reloc;
          break;
        case '-':
          v = x - y;
          reloc = a.reloc - b.reloc;
          break;
        case '*':
          v = x * y;
          break;
        case '/':
        case '%':
        case '//':
        case '%%': {
          if (y === 0n) {
            if (unknown) return { value: 0n, reloc: other, unknown };
            throw new AsmError('division by zero', e.start, e.end);
          }
          // NASM: `/` and `%` are unsigned, `//` and `%%` signed.
          const signed = e.op.length === 2;
          const p = signed ? x : x & MASK64;
          const q = signed ? y : y & MASK64;
          v = e.op[0] === '/' ? p / q : p % q;
          break;
        }
        case '<<':
          v = (y & MASK64) >= 64n ? 0n : x << (y & MASK64);
          break;
        case '>>':
          v = (y & MASK64) >= 64n ? 0n : (x & MASK64) >> (y & MASK64);
          break;
        case '&':
          v = x & y;
          break;
        case '|':
          v = x | y;
          break;
        default:
          v = x ^ y;
      }
      return { value: BigInt.asIntN(64, v), reloc, unknown };
    }
  }
}

/** Evaluates an expression that must not depend on symbols (register scales, `bits`, sizes). */
export function evaluateConstant(e: Expr): bigint {
  return evaluate(e, NO_SYMBOLS).value;
}

const NO_SYMBOLS: EvalContext = {
  final: true,
  lookup: (name, node) => {
    throw new AsmError(`'${name}' must be a number here`, node.start, node.end);
  },
};

