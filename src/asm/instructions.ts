// Instruction statements: their size during layout (relaxing branches from rel8 to rel32) and their
// bytes when emitting. Instructions without symbols or relative operands are encoded once, before
// layout. The assembler (assembler.ts) drives the passes and supplies the current address.
import { Register } from './iced';
import { encode, encodeBranch, selectForm, type Resolved } from './encoder';
import { FixedBytes, encodeFixed } from './fixedEncoding';
import { AsmError } from './errors';
import type { Expr, Value } from './expression';
import { formsInfo, type Form } from './forms';
import { nasmMovImmediate, nasmRegisterSize, nasmXchg } from './nasmChoices';
import type { MemOperand, Operand } from './operands';
import { hasSymbol } from './parser';
import type { InstructionSink, InstructionStatement } from './statements';

/** What an instruction needs from the pass that lays it out or emits it. */
export interface InstructionContext {
  /** Address of the instruction (of the current repetition under `times`). */
  readonly here: bigint;
  /** The emitting pass: undefined symbols are errors, branch forms no longer change. */
  readonly final: boolean;
  evaluate(e: Expr): Value;
  /**
   * When `e` is a label already placed in the current section: its address minus `here`, as a number
   * (what evaluate(e).value − here is, without bigints: the section's base cancels). NaN otherwise.
   */
  labelDistance(e: Expr): number;
  /** A size changed in a way the current layout pass cannot see (a branch switched to rel32). */
  requestPass(): void;
}

/** Size of a relative branch form without prefixes (it does not depend on the target). */
const BRANCH_SIZES = new Map<Form, number>();

/** No operand of a fixed instruction is rip-relative (indexed by operand). */
const NOT_RIP_RELATIVE: boolean[] = [false, false, false, false];

const scratchValues: (Value | undefined)[][] = [];

/** Tests compare with fixed encodings off: every instruction then takes the general layout and emitting path. */
let fixedOn = true;
export function setFixedEncodingsEnabled(on: boolean): void {
  fixedOn = on;
}

/**
 * Instructions without symbols or relative operands are encoded as the parser makes them, while their
 * operands are at hand: their bytes go into `pool`, located there by statement index with their final
 * size, so that no layout pass reads these statements, nor does the emitting pass. A repeated line of a
 * fixed instruction shares its original's bytes (the parser makes it a RepeatedStatement); any other
 * repeated line gets an instruction statement of its own.
 */
export class FixedInstructions implements InstructionSink {
  readonly pool = new FixedBytes();

  /** `ctx` evaluates operands; those of a fixed instruction are constants (no symbol, no `$`). */
  constructor(private readonly ctx: InstructionContext) {}

  parsed(s: InstructionStatement, index: number): void {
    if (!fixedOn || s.times || !isFixed(s)) return;
    try {
      // One array per operand count for all: encodeFixed does not keep it.
      const values = (scratchValues[s.ops.length] ??= new Array<Value | undefined>(s.ops.length));
      for (let k = 0; k < s.ops.length; k++) values[k] = operandValue(this.ctx, s.ops[k]);
      const at = this.pool.length;
      s.fixed = encodeFixed(s, values, chooseFixed, this.pool);
      s.fixedAt = at;
      s.size = s.fixed.length;
      this.pool.locate(index, at, s.size, s.row, s.start);
    } catch {
      // Reported (with its position) by the emitting pass.
    }
  }

  repeated(original: InstructionStatement, index: number, row: number, start: number): boolean {
    if (!original.fixed) return false;
    this.pool.locate(index, original.fixedAt, original.size, row, start);
    return true;
  }
}

function operandValue(ctx: InstructionContext, op: Operand): Value | undefined {
  if (op.t === 'imm') return ctx.evaluate(op.expr);
  if (op.t === 'mem' && op.disp) return ctx.evaluate(op.disp);
  return undefined;
}

function isRipRelative(op: Operand): boolean {
  if (op.t !== 'mem') return false;
  if (op.base === Register.RIP) return true;
  if (op.rel && (op.base !== Register.None || op.index !== Register.None)) throw new AsmError("'rel' needs an address without registers", op.start, op.end);
  return op.rel === true;
}

const RIP_TARGET: Value = { value: 0n, reloc: 1, unknown: false };

/** Layout: the size of one repetition, with placeholder values where only the value (not the size) is unknown. */
export function instructionSize(ctx: InstructionContext, s: InstructionStatement): number {
  if (s.fixed) return s.fixed.length;
  let branch: ReturnType<typeof branchForm>;
  if (s.ops.length === 1) {
    // Most branches jump within their section: sized from the label's offset, no Value, no bigint.
    const op = s.ops[0];
    const fromHere = op.t === 'imm' ? ctx.labelDistance(op.expr) : NaN;
    branch = fromHere === fromHere ? branchForm(ctx, s, PLACED_LABEL, fromHere) : branchForm(ctx, s, operandValue(ctx, op), NaN);
  }
  if (branch) {
    if (branch.final) s.layoutSize = branch.size;
    return branch.size;
  }
  // Exact-size arrays (a pushed-to array keeps room for 17 elements; these may live on in sizedWith).
  const values = new Array<Value | undefined>(s.ops.length);
  const rip = new Array<boolean>(s.ops.length);
  // Final when every operand value is known and address-dependent (then only its kind, not its value,
  // decides the size, and the kind of an expression does not change between passes).
  let final = true;
  let anyRip = false;
  for (let k = 0; k < s.ops.length; k++) {
    const op = s.ops[k];
    let v = operandValue(ctx, op);
    const r = isRipRelative(op);
    // The size of an address-dependent operand does not depend on its value: keep cache keys stable.
    // A rip-relative one is always a disp32: sized as a target at address 0 encoded at 0, the same
    // value in every pass (so later passes skip selection and encoding).
    if (r) (v = RIP_TARGET), (anyRip = true);
    else if (v?.reloc) v = { value: 0n, reloc: v.reloc, unknown: v.unknown };
    if (v && (v.unknown || !v.reloc)) final = false;
    (values[k] = v), (rip[k] = r);
  }
  // The size only changes when a value (or its kind) changes: skip selection and encoding otherwise.
  if (s.sizedWith && sameValues(s.sizedWith.values, values)) return s.sizedWith.size;
  const c = choose(s, values, rip);
  const size = encode(c.form, c.ops, c.resolved, s.prefixes, anyRip ? 0n : ctx.here, s.loc.start, s.loc.end).length;
  s.sizedWith = { values, size };
  if (final) s.layoutSize = size;
  return size;
}

/** The value of a label placed in the current section (instructionSize: known, an address). */
const PLACED_LABEL: Value = Object.freeze({ value: 0n, reloc: 1, unknown: false });

/**
 * Jumps, calls and loops: the short form while the target is in range, else (sticky) the near form.
 * The target is `fromHere` bytes from the instruction when that is a number (ctx.labelDistance), else `target`.
 */
function branchForm(ctx: InstructionContext, s: InstructionStatement, target: Value | undefined, fromHere: number): { form: Form; size: number; final: boolean } | undefined {
  if (s.ops.length !== 1 || s.ops[0].t !== 'imm' || !target) return undefined;
  const op = s.ops[0];
  const { shortBranch: short, nearBranch: near } = formsInfo(s.forms);
  if (!short && !near) return undefined;
  if (op.distance === 'short' && !short) throw new AsmError(`'${s.mnemonic}' has no short form`, op.start, op.end);
  if (op.distance === 'near' && !near) throw new AsmError(`'${s.mnemonic}' has no near form (rel8 only)`, op.start, op.end);
  // The near form is final (sticky); the short one only when written `short`.
  if (near && (op.distance === 'near' || s.near || !short)) return { form: near, size: branchSize(ctx, s, near), final: true };
  const size = branchSize(ctx, s, short!);
  const outOfRange = fromHere === fromHere
    ? fromHere - size < -128 || fromHere - size > 127
    : !target.unknown && outOfShortRange(target.value - (ctx.here + BigInt(size)));
  if (outOfRange && near && op.distance !== 'short') {
    if (!ctx.final) {
      s.near = true;
      ctx.requestPass();
    }
    return { form: near, size: branchSize(ctx, s, near), final: !ctx.final };
  }
  return { form: short!, size, final: op.distance === 'short' };
}

function outOfShortRange(distance: bigint): boolean {
  return distance < -128n || distance > 127n;
}

/** Size of a branch form (it does not depend on the target): encoded once per form without prefixes. */
function branchSize(ctx: InstructionContext, s: InstructionStatement, form: Form): number {
  const plain = !s.prefixes.lock && !s.prefixes.rep;
  const known = plain ? BRANCH_SIZES.get(form) : undefined;
  if (known !== undefined) return known;
  const n = encode(form, s.ops, { values: [{ value: ctx.here, reloc: 1, unknown: false }], ripRelative: [false] }, s.prefixes, ctx.here, s.loc.start, s.loc.end).length;
  if (plain) BRANCH_SIZES.set(form, n);
  return n;
}

export function encodeInstruction(ctx: InstructionContext, s: InstructionStatement, size: number): Uint8Array {
  if (s.ops.length === 1 && s.ops[0].t === 'imm' && !s.prefixes.lock && !s.prefixes.rep) {
    // A branch to a label placed in its section, as layout sizes it: from the label's offset, without
    // evaluating the target (a Value and bigints) or a string-keyed encode cache.
    const fromHere = ctx.labelDistance(s.ops[0].expr);
    const branch = fromHere === fromHere ? branchForm(ctx, s, PLACED_LABEL, fromHere) : undefined;
    if (branch) return branchBytes(ctx, s, branch.form, fromHere);
  }
  const values = new Array<Value | undefined>(s.ops.length);
  const rip = new Array<boolean>(s.ops.length);
  for (let k = 0; k < s.ops.length; k++) {
    const op = s.ops[k];
    let v = operandValue(ctx, op);
    const r = isRipRelative(op);
    if (r && op.t === 'mem' && op.base === Register.RIP) {
      // `[rip + d]` is relative to the next instruction; iced wants the absolute target.
      v = { value: ctx.here + BigInt(size) + (v?.value ?? 0n), reloc: 1, unknown: false };
    }
    if (op.t === 'mem' && !r) checkDisplacement(op, v);
    (values[k] = v), (rip[k] = r);
  }
  const branch = branchForm(ctx, s, values[0], NaN);
  if (branch) return branchBytes(ctx, s, branch.form, NaN, { values, ripRelative: rip });
  const c = choose(s, values, rip);
  return encode(c.form, c.ops, c.resolved, s.prefixes, ctx.here, s.loc.start, s.loc.end);
}

/**
 * A branch's bytes: to `fromHere` bytes from the instruction when that is a number (encodeBranch), else
 * to the target in `r`. A target out of range of a rel8-only form is an error that says so.
 */
function branchBytes(ctx: InstructionContext, s: InstructionStatement, form: Form, fromHere: number, r?: Resolved): Uint8Array {
  try {
    return r ? encode(form, s.ops, r, s.prefixes, ctx.here, s.loc.start, s.loc.end) : encodeBranch(form, s.ops, ctx.here, fromHere, s.loc.start, s.loc.end);
  } catch (error) {
    if (!(error instanceof AsmError && error.message.includes('out of range'))) throw error;
    const target = r ? r.values[0]!.value : ctx.here + BigInt(fromHere);
    throw new AsmError(`branch target ${hex(target)} is out of range of '${s.mnemonic}' (rel8 only: -128..+127 bytes)`, s.ops[0].start, s.ops[0].end);
  }
}

function chooseFixed(s: InstructionStatement, values: (Value | undefined)[]): Choice {
  return choose(s, values, NOT_RIP_RELATIVE);
}

/** The form to encode and the operands in its order, with their values and rip-relative flags. */
interface Choice {
  readonly form: Form;
  readonly ops: readonly Operand[];
  readonly resolved: Resolved;
}

/** NASM's rules (mov immediate, xchg order, register size), else the generic selection. */
function choose(s: InstructionStatement, values: (Value | undefined)[], rip: boolean[]): Choice {
  const mov = nasmMovImmediate(s.mnemonic, s.forms, s.ops, values);
  if (mov) return { form: mov.form, ops: mov.ops, resolved: { values, ripRelative: rip } };
  const xchg = nasmXchg(s.mnemonic, s.ops);
  if (xchg && xchg[0] !== s.ops[0]) {
    // The operands swap places: so do their values (`xchg rax, [rbx + 8]` is 87 /r with the memory operand first).
    const swapped = { values: [values[1], values[0]], ripRelative: [rip[1], rip[0]] };
    return { form: selectForm(s.mnemonic, s.forms, xchg, swapped.values, s.loc.start, s.loc.end), ops: xchg, resolved: swapped };
  }
  const ops = xchg ?? nasmRegisterSize(s.mnemonic, s.ops) ?? s.ops;
  return { form: selectForm(s.mnemonic, s.forms, ops, values, s.loc.start, s.loc.end), ops, resolved: { values, ripRelative: rip } };
}

function sameValues(a: readonly (Value | undefined)[], b: readonly (Value | undefined)[]): boolean {
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (!x || !y || x.value !== y.value || x.reloc !== y.reloc || x.unknown !== y.unknown) return false;
  }
  return true;
}

function isFixed(s: InstructionStatement): boolean {
  for (const op of s.ops) {
    if (op.t === 'imm' && (formsInfo(s.forms).hasBranch || hasSymbol(op.expr))) return false;
    if (op.t === 'mem' && (op.base === Register.RIP || op.rel || (op.disp && hasSymbol(op.disp)))) return false;
  }
  return true;
}

function checkDisplacement(op: MemOperand, v: Value | undefined): void {
  if (!v || !op.disp) return;
  const limit = op.addressSize === 8 ? 1n << 31n : 1n << 32n;
  const ok = op.addressSize === 8 ? v.value >= -limit && v.value < limit : v.value >= -(limit >> 1n) && v.value < limit;
  if (!ok) throw new AsmError(`displacement ${hex(v.value)} does not fit in 32 bits (use a register, or [rel label])`, op.disp.start, op.disp.end);
}

export function hex(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}
