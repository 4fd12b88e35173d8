// Encodings of fixed instructions (no symbols, no relative operands) through templates: the bytes of an
// instruction depend on its constants only through (a) the form and displacement size chosen, which
// depend on a few range predicates of the values (fits a sign-extended imm8, is 1, fits 32 bits, …), and
// (b) the immediate and displacement fields, whose offsets iced-x86 reports. So the first instruction of
// a shape (forms, prefixes, registers, memory operand, value classes) is selected and encoded as usual,
// and the next ones copy its bytes and write their own constants into those fields.
// test/asm/fixedEncoding.test.ts compares it with the general encoding.
import { encodeTemplate, displSize, encode, type EncodingTemplate, type Resolved } from './encoder';
import type { Value } from './expression';
import { formsInfo, type Form } from './forms';
import type { Operand } from './operands';
import type { InstructionStatement } from './statements';

/** NASM's selection for the statement with these values: the form, and the operands and their values in its order (instructions.ts). */
export type Selection = (s: InstructionStatement, values: (Value | undefined)[]) => { form: Form; ops: readonly Operand[]; resolved: Resolved };
const MAX_TEMPLATES = 50_000;

interface Template extends EncodingTemplate {
  /** Index (in source order) of the immediate and of the memory operand (-1: none). */
  readonly immOperand: number;
  readonly memOperand: number;
}

/** Templates by shape: a hash of the shape's numbers, then the shapes with that hash (null: no template). */
interface Entry {
  readonly shape: Int32Array;
  readonly template: Template | null;
  readonly next: Entry | undefined;
}
const templates = new Map<number, Entry>();
/** The shape of the instruction at hand (numbers, see shapeOf), and its length. */
const shape = new Int32Array(4 + 4 * 11);
let shapeLength = 0;
/** Tests compare with templates off, and check that they are used at all. */
let templatesOn = true;
let templateUses = 0;

export function setTemplatesEnabled(on: boolean): void {
  templatesOn = on;
}

export function templateUseCount(): number {
  return templateUses;
}


/**
 * The bytes of a fixed instruction, appended to `pool` (at its `length` before the call): from a template
 * of its shape with its constants written in when there is one, else encoded. Returns the template's or
 * the encoding's bytes (their length is the instruction's).
 */
export function encodeFixed(s: InstructionStatement, values: (Value | undefined)[], select: Selection, pool: FixedBytes): Uint8Array {
  const hash = templatesOn ? shapeOf(s, values) : -1;
  if (hash >= 0) {
    let t = lookup(hash);
    if (t) templateUses++;
    else if (t === undefined) {
      const c = select(s, values);
      t = makeTemplate(s, c) ?? null;
      if (templates.size >= MAX_TEMPLATES) templates.clear();
      templates.set(hash, { shape: shape.slice(0, shapeLength), template: t, next: templates.get(hash) });
      if (!t) return pool.add(encode(c.form, c.ops, c.resolved, s.prefixes, 0n, s.loc.start, s.loc.end));
    }
    if (t) {
      if (!t.immediateSize && !t.displacementSize) return pool.add(t.bytes);
      const imm = t.immediateSize ? values[t.immOperand]!.value : 0n;
      const disp = t.displacementSize ? values[t.memOperand]?.value ?? 0n : 0n;
      return pool.addPatched(t, imm, disp);
    }
  }
  const c = select(s, values);
  return pool.add(encode(c.form, c.ops, c.resolved, s.prefixes, 0n, s.loc.start, s.loc.end));
}

/** A template from the selection for `s`; its fields are patched from the values in source order. */
function makeTemplate(s: InstructionStatement, c: ReturnType<Selection>): Template | undefined {
  let immOperand = -1;
  let memOperand = -1;
  for (let i = 0; i < s.ops.length; i++) {
    const t = s.ops[i].t;
    if (t === 'imm') {
      if (immOperand >= 0) return undefined;
      immOperand = i;
    } else if (t === 'mem') {
      if (memOperand >= 0) return undefined;
      memOperand = i;
    }
  }
  const encoded = encodeTemplate(c.form, c.ops, c.resolved, s.prefixes);
  if (!encoded) return undefined;
  // A constant field without its operand (or the reverse) would be a template this module does not understand.
  if (encoded.immediateSize && immOperand < 0) return undefined;
  if (encoded.displacementSize && memOperand < 0) return undefined;
  return { ...encoded, immOperand, memOperand };
}

/**
 * The bytes of the fixed instructions, one after the other in source order: written once as they are
 * parsed, copied into the sections by the emitting pass (sequential reads; no object per instruction to
 * keep). By statement index, where a fixed instruction's bytes are (-1: not fixed), their size, and its
 * listing row and 1-based column, so that neither layout nor emitting touches these statements.
 */
export class FixedBytes {
  bytes = new Uint8Array(1 << 16);
  length = 0;
  at: Int32Array = new Int32Array(1024).fill(-1);
  size: Int32Array = new Int32Array(1024);
  row: Int32Array = new Int32Array(1024);
  column: Int32Array = new Int32Array(1024);

  /** Statement `index` (listing row, 0-based column) is fixed: `size` bytes at `at`. */
  locate(index: number, at: number, size: number, row: number, start: number): void {
    if (index >= this.at.length) this.cover(index + 1);
    (this.at[index] = at), (this.size[index] = size), (this.row[index] = row), (this.column[index] = start + 1);
  }

  /** Makes the arrays by statement index cover `count` statements. */
  cover(count: number): void {
    if (count <= this.at.length) return;
    const length = Math.max(count, this.at.length * 2);
    const grow = (a: Int32Array): Int32Array => {
      const grown = new Int32Array(length);
      grown.set(a);
      return grown;
    };
    const at = grow(this.at);
    at.fill(-1, this.at.length);
    (this.at = at), (this.size = grow(this.size)), (this.row = grow(this.row)), (this.column = grow(this.column));
  }

  /** Appends an instruction's bytes; returns them. */
  add(bytes: Uint8Array): Uint8Array {
    const target = this.target(bytes.length);
    // A loop beats set() (a builtin call) for an instruction's few bytes.
    for (let k = 0, offset = this.length; k < bytes.length; k++) target[offset + k] = bytes[k];
    this.length += bytes.length;
    return bytes;
  }

  /** Appends template `t` with `imm` and `disp` written into its fields; returns the template's bytes. */
  addPatched(t: Template, imm: bigint, disp: bigint): Uint8Array {
    const bytes = t.bytes;
    const target = this.target(bytes.length);
    const offset = this.length;
    for (let k = 0; k < bytes.length; k++) target[offset + k] = bytes[k];
    if (t.immediateSize) writeLittleEndian(target, offset + t.immediateOffset, t.immediateSize, imm);
    if (t.displacementSize) writeLittleEndian(target, offset + t.displacementOffset, t.displacementSize, disp);
    this.length += bytes.length;
    return bytes;
  }

  /** The pool, with room for `size` more bytes. */
  private target(size: number): Uint8Array {
    if (this.length + size > this.bytes.length) {
      const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + size));
      grown.set(this.bytes);
      this.bytes = grown;
    }
    return this.bytes;
  }

}

/** Writes the low `size` bytes (1–8) of the 64-bit two's-complement `v` at `offset`, little-endian. */
export function writeLittleEndian(bytes: Uint8Array, offset: number, size: number, v: bigint): void {
  // Number(v) is exact for safe integers, and then `>>> 0` and the division give the two 32-bit halves.
  const n = Number(v);
  const safe = Number.isSafeInteger(n);
  let low = safe ? n >>> 0 : Number(BigInt.asUintN(32, v));
  for (let i = 0; i < size && i < 4; i++, low >>>= 8) bytes[offset + i] = low & 0xff;
  if (size > 4) {
    let high = safe ? Math.floor(n / 0x100000000) >>> 0 : Number(BigInt.asUintN(32, v >> 32n));
    for (let i = 4; i < size; i++, high >>>= 8) bytes[offset + i] = high & 0xff;
  }
}

/** The template (null: none possible) for the shape in `shape`, undefined when not seen yet. */
function lookup(hash: number): Template | null | undefined {
  for (let e = templates.get(hash); e; e = e.next) {
    if (e.shape.length !== shapeLength) continue;
    let i = 0;
    while (i < shapeLength && e.shape[i] === shape[i]) i++;
    if (i === shapeLength) return e.template;
  }
  return undefined;
}

/**
 * Puts into `shape` everything the bytes depend on besides the constants' own field contents, and
 * returns its hash; -1 when the statement is outside the shapes handled here (then it is encoded as usual).
 */
function shapeOf(s: InstructionStatement, values: readonly (Value | undefined)[]): number {
  let n = 0;
  shape[n++] = formsInfo(s.forms).id;
  shape[n++] = (s.prefixes.lock ? 4 : 0) | s.prefixes.rep;
  shape[n++] = s.operandSize;
  for (let i = 0; i < s.ops.length && i < 4; i++) {
    const op = s.ops[i];
    const v = values[i];
    if (op.t === 'reg') (shape[n++] = 1), (shape[n++] = op.info.reg);
    else if (op.t === 'imm') {
      if (!v || v.reloc || v.unknown || op.distance) return -1;
      (shape[n++] = 2), (shape[n++] = op.size), (shape[n++] = valueClass(v.value));
    } else {
      if (v && (v.reloc || v.unknown)) return -1;
      shape[n++] = 3;
      shape[n++] = op.size;
      shape[n++] = op.seg;
      shape[n++] = op.base;
      shape[n++] = op.index;
      shape[n++] = op.scale;
      shape[n++] = op.addressSize;
      shape[n++] = (op.far ? 1 : 0) | (op.rel === false ? 2 : 0);
      shape[n++] = displSize(op, v, false);
      shape[n++] = v ? 1 + displacementClass(v.value) : 0;
    }
  }
  if (s.ops.length > 4) return -1;
  shapeLength = n;
  let h = 0x811c9dc5;
  for (let i = 0; i < n; i++) h = Math.imul(h ^ shape[i], 0x01000193);
  return h >>> 2; // a small integer (Smi): no heap number as a map key
}

/**
 * The range predicates of an immediate that form selection (encoder.ts immFits, nasmChoices.ts
 * nasmMovImmediate) looks at, as bits: equal to 1; fits a sign-extended imm8 after truncation to 16, 32
 * and 64 bits; fits a sign-extended imm32; fits 8, 16, 32 bits (signed or unsigned); is an unsigned
 * 32-bit number. Values are 64-bit two's complement.
 */
export function valueClass(v: bigint): number {
  // Number(v) keeps the order of values, and every bound below is exact: compare doubles, not bigints.
  const n = Number(v);
  if (n < -0x80000000 || n > 0xffffffff) return 0;
  const s16 = ((n & 0xffff) ^ 0x8000) - 0x8000;
  const s32 = n | 0;
  let bits = 1 << 7; // fits 32 bits
  if (n === 1) bits |= 1 << 0;
  if (n >= -32768 && n < 65536 && s16 >= -128 && s16 <= 127) bits |= 1 << 1;
  if (s32 >= -128 && s32 <= 127) bits |= 1 << 2;
  if (n >= -128 && n <= 127) bits |= 1 << 3;
  if (n < 0x80000000) bits |= 1 << 4;
  if (n >= -128 && n < 256) bits |= 1 << 5;
  if (n >= -32768 && n < 65536) bits |= 1 << 6;
  if (n >= 0) bits |= 1 << 8;
  return bits;
}

/** Whether a displacement fits a signed (bit 0) and an unsigned (bit 1) 32-bit field: iced-x86's checks. */
function displacementClass(v: bigint): number {
  const n = Number(v);
  return (n >= -0x80000000 && n < 0x80000000 ? 1 : 0) | (n >= 0 && n <= 0xffffffff ? 2 : 0);
}
