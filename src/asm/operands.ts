// Operand syntax: registers, immediates (expressions), memory `[base + index*scale + disp]`, `[rel x]`,
// `[rip + d]`, segment overrides (`fs:[rax]` and `[fs:rax]`), size keywords with or without `ptr`.
import { Register } from './iced';
import { AsmError } from './errors';
import type { Cursor } from './cursor';
import { parseExpression, evaluateConstant, type Expr } from './expression';
import { TokenKind } from './lexer';
import { lookupRegister, registerInfo, type RegisterInfo } from './registers';

export const SIZE_KEYWORDS: ReadonlyMap<string, number> = new Map([
  ['byte', 1], ['word', 2], ['dword', 4], ['fword', 6], ['qword', 8], ['tword', 10], ['oword', 16], ['xmmword', 16],
]);

export interface RegOperand {
  readonly t: 'reg';
  readonly info: RegisterInfo;
  readonly start: number;
  readonly end: number;
}

export interface MemOperand {
  readonly t: 'mem';
  /** Size keyword in bytes, 0 when not given. */
  readonly size: number;
  readonly seg: Register;
  readonly base: Register;
  readonly index: Register;
  readonly scale: number;
  readonly disp: Expr | undefined;
  /** `rel` given (true), `abs` given (false) or neither (undefined: `default rel/abs` decides). */
  readonly rel: boolean | undefined;
  /** Address size in bytes (8, or 4 for 32-bit registers: 67 prefix). */
  readonly addressSize: number;
  readonly far: boolean;
  readonly start: number;
  readonly end: number;
}

export interface ImmOperand {
  readonly t: 'imm';
  readonly expr: Expr;
  /** Size keyword (immediate field width), 0 when not given. */
  readonly size: number;
  /** `short` / `near` before a branch target. */
  readonly distance: 'short' | 'near' | undefined;
  readonly start: number;
  readonly end: number;
}

export type Operand = RegOperand | MemOperand | ImmOperand;

const registerLookup = (name: string): number | undefined => {
  const info = lookupRegister(name);
  return info && info.cls !== 'seg' && info.cls !== 'cr' && info.cls !== 'dr' ? info.reg : undefined;
};

/** Parses one operand, stopping before ',' or the end of the line. */
export function parseOperand(cur: Cursor): Operand {
  const first = cur.peek();
  if (!first) throw cur.error('expected an operand');
  let size = 0;
  let far = false;
  let distance: 'short' | 'near' | undefined;
  for (;;) {
    const t = cur.peek();
    if (!t || t.kind !== TokenKind.Ident) break;
    const word = t.text.toLowerCase();
    const s = SIZE_KEYWORDS.get(word);
    if (s !== undefined) {
      if (size) throw cur.error('two size keywords');
      cur.pos++;
      size = s;
      cur.eatWord('ptr');
    } else if (word === 'far') (cur.pos++, (far = true));
    else if (word === 'short' || word === 'near') (cur.pos++, (distance = word));
    else break;
  }
  const t = cur.peek();
  if (!t) throw cur.error('expected an operand after the size keyword');
  // Segment override before the bracket: `fs:[rax]`.
  let seg = Register.None;
  if (t.kind === TokenKind.Ident && cur.peek(1)?.text === ':' && cur.peek(2)?.text === '[') {
    const info = lookupRegister(t.text.toLowerCase());
    if (!info || info.cls !== 'seg') throw new AsmError(`'${t.text}' is not a segment register`, t.start, t.end);
    seg = info.reg;
    cur.pos += 2;
  }
  const open = cur.peek()!;
  if (open.kind === TokenKind.Punct && open.text === '[') return parseMemory(cur, size, seg, far, first.start);
  if (seg !== Register.None) throw cur.error("expected '[' after the segment override");
  if (t.kind === TokenKind.Ident) {
    const info = lookupRegister(t.text.toLowerCase());
    if (info) {
      const next = cur.peek(1);
      if (!next || next.text === ',') {
        cur.pos++;
        if (info.cls === 'rip') throw new AsmError("'rip' can only be used inside a memory operand", t.start, t.end);
        if (size && info.size && size !== info.size) throw new AsmError(`size keyword does not match register '${t.text}'`, first.start, t.end);
        return { t: 'reg', info, start: first.start, end: t.end };
      }
    }
  }
  const expr = parseExpression(cur);
  return { t: 'imm', expr, size, distance, start: first.start, end: expr.end };
}

function parseMemory(cur: Cursor, size: number, outerSeg: Register, far: boolean, start: number): MemOperand {
  cur.expect('[');
  let seg = outerSeg;
  let rel: boolean | undefined;
  for (;;) {
    if (cur.eatWord('rel')) rel = true;
    else if (cur.eatWord('abs')) rel = false;
    else if (cur.peek()?.kind === TokenKind.Ident && cur.peek(1)?.text === ':') {
      const t = cur.next();
      const info = lookupRegister(t.text.toLowerCase());
      if (!info || info.cls !== 'seg') throw new AsmError(`'${t.text}' is not a segment register`, t.start, t.end);
      if (seg !== Register.None) throw new AsmError('two segment overrides', t.start, t.end);
      seg = info.reg;
      cur.pos++;
    } else break;
  }
  const expr = parseExpression(cur, registerLookup);
  const close = cur.expect(']');
  const a = splitAddress(expr);
  return { t: 'mem', size, seg, base: a.base, index: a.index, scale: a.scale, disp: a.disp, rel, addressSize: a.addressSize, far, start, end: close.end };
}

interface Address {
  base: Register;
  index: Register;
  scale: number;
  disp: Expr | undefined;
  addressSize: number;
}

// splitAddress's scratch (it is never re-entered, and resets the counts first): the registers of the
// address in order of appearance with their summed scales and first nodes, and the displacement terms.
// Parallel arrays with counts rather than an object per term and a closure per call (memory operands
// are common); entries past a count are stale and never read.
const regs: Register[] = [];
const scales: bigint[] = [];
const regNodes: Expr[] = [];
let regCount = 0;
const dispTerms: Expr[] = [];
const dispNegated: boolean[] = [];
let dispCount = 0;

function addRegister(reg: Register, scale: bigint, node: Expr): void {
  for (let i = 0; i < regCount; i++) {
    if (regs[i] === reg) {
      scales[i] += scale;
      return;
    }
  }
  regs[regCount] = reg;
  scales[regCount] = scale;
  regNodes[regCount++] = node;
}

/** Collects the terms of `e` (negated when `negate`) into the scratch arrays. */
function collectTerms(e: Expr, negate: boolean): void {
  if (e.k === 'reg') {
    if (negate) throw new AsmError('a register cannot be subtracted in an address', e.start, e.end);
    addRegister(e.reg, 1n, e);
  } else if (e.k === 'bin' && (e.op === '+' || e.op === '-')) {
    collectTerms(e.a, negate);
    collectTerms(e.b, e.op === '-' ? !negate : negate);
  } else if (e.k === 'bin' && e.op === '*' && (e.a.k === 'reg' || e.b.k === 'reg')) {
    const r = e.a.k === 'reg' ? e.a : (e.b as Extract<Expr, { k: 'reg' }>);
    const s = e.a.k === 'reg' ? e.b : e.a;
    if (hasRegister(s)) throw new AsmError('invalid effective address', e.start, e.end);
    if (negate) throw new AsmError('a register cannot be subtracted in an address', e.start, e.end);
    addRegister(r.reg, evaluateConstant(s), r);
  } else if (hasRegister(e)) {
    throw new AsmError('invalid effective address: registers can only be added or scaled by 1, 2, 4 or 8', e.start, e.end);
  } else {
    dispTerms[dispCount] = e;
    dispNegated[dispCount++] = negate;
  }
}

/** Splits `[expr]` into base + index*scale + displacement (NASM rules, including `[rax*2]` → `[rax+rax]`). */
export function splitAddress(expr: Expr): Address {
  regCount = 0;
  dispCount = 0;
  collectTerms(expr, false);
  let dispExpr: Expr | undefined;
  for (let i = 0; i < dispCount; i++) {
    const e = dispTerms[i];
    const term: Expr = dispNegated[i] ? { k: 'un', op: '-', a: e, start: e.start, end: e.end } : e;
    dispExpr = dispExpr ? { k: 'bin', op: '+', a: dispExpr, b: term, start: dispExpr.start, end: term.end } : term;
  }
  // The registers whose scales do not cancel out (`[rax + rbx - rbx]` is [rax]): at most two.
  let first = -1;
  let second = -1;
  for (let i = 0; i < regCount; i++) {
    if (scales[i] === 0n) continue;
    if (first < 0) first = i;
    else if (second < 0) second = i;
    else throw new AsmError('too many registers in the address', regNodes[i].start, regNodes[i].end);
  }
  let addressSize = 8;
  let has32 = false;
  let has64 = false;
  for (const i of [first, second]) {
    if (i < 0) continue;
    const info = registerInfo(regs[i]);
    if (!info || (info.cls !== 'gpr64' && info.cls !== 'gpr32' && info.cls !== 'rip')) {
      const node = regNodes[i];
      throw new AsmError(`register '${nameOf(node)}' cannot be used in an address`, node.start, node.end);
    }
    if (info.cls === 'gpr32') (addressSize = 4), (has32 = true);
    else has64 = true;
  }
  let base = Register.None;
  let index = Register.None;
  let scale = 1;
  // The register whose scale is not 1, if any (the one an invalid scale is reported at).
  let scaled = -1;
  if (second >= 0) {
    if (scales[first] !== 1n && scales[second] !== 1n) throw new AsmError('only one register can be scaled', regNodes[second].start, regNodes[second].end);
    const [bs, ix] = scales[first] === 1n ? [first, second] : [second, first];
    base = regs[bs];
    index = regs[ix];
    scale = Number(scales[ix]);
    if (scales[ix] !== 1n) scaled = ix;
  } else if (first >= 0) {
    const r = scales[first];
    if (r !== 1n) scaled = first;
    if (r === 1n) base = regs[first];
    else if (r === 3n || r === 5n || r === 9n || r === 2n) {
      // NASM turns [r*2] into [r+r] (shorter: no 32-bit displacement) and [r*3/5/9] into [r+r*2/4/8].
      base = regs[first];
      index = regs[first];
      scale = Number(r - 1n);
    } else {
      index = regs[first];
      scale = Number(r);
    }
  }
  if (scale !== 1 && scale !== 2 && scale !== 4 && scale !== 8) {
    const node = regNodes[scaled];
    throw new AsmError(`invalid scale ${scale}: use 1, 2, 4 or 8`, node.start, node.end);
  }
  // RSP cannot be an index: swap `[rax + rsp]` to `[rsp + rax]`.
  if (index === Register.RSP || index === Register.ESP) {
    if (scale !== 1 || base === Register.RSP || base === Register.ESP) throw new AsmError('rsp cannot be an index register', expr.start, expr.end);
    [base, index] = [index, base];
  }
  if (base === Register.RIP && index !== Register.None) throw new AsmError('rip-relative addresses cannot have an index', expr.start, expr.end);
  if (index === Register.RIP) throw new AsmError('rip cannot be an index register', expr.start, expr.end);
  if (has32 && has64) throw new AsmError('address registers must all be 64-bit (or all 32-bit)', expr.start, expr.end);
  return { base, index, scale, disp: dispExpr, addressSize };
}

function nameOf(e: Expr): string {
  return (e as { name: string }).name.toLowerCase();
}

function hasRegister(e: Expr): boolean {
  if (e.k === 'reg') return true;
  if (e.k === 'un') return hasRegister(e.a);
  if (e.k === 'bin') return hasRegister(e.a) || hasRegister(e.b);
  return false;
}
