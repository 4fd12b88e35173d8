// Encodings of fixed instructions (no symbols, no relative operands) through templates: the bytes of an
// instruction depend on its constants only through (a) the form and displacement size chosen, which
// depend on a few range predicates of the values (fits a sign-extended imm8, is 1, fits 32 bits, …), and
// (b) the immediate and displacement fields, whose offsets iced-x86 reports. So the first instruction of
// a shape (forms, prefixes, registers, memory operand, value classes) is selected and encoded as usual,
// and the next ones copy its bytes and write their own constants into those fields.
// test/asm/fixedEncoding.test.ts compares it with the general encoding.
import { encodeTemplate, displSize, encode, type EncodingTemplate, type Resolved } from './encoder';
import type { Value } from './expression';
import type { Form } from './forms';
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

const templates = new Map<string, Template | null>();
/** Tests compare with templates off, and check that they are used at all. */
let templatesOn = true;
let templateUses = 0;

export function setTemplatesEnabled(on: boolean): void {
  templatesOn = on;
}

export function templateUseCount(): number {
  return templateUses;
}

const formsIds = new WeakMap<readonly Form[], number>();
let nextFormsId = 1;

/** The bytes of a fixed instruction: from a template of its shape when there is one, else encoded. */
export function encodeFixed(s: InstructionStatement, values: (Value | undefined)[], select: Selection): Uint8Array {
  const key = templatesOn ? shapeKey(s, values) : undefined;
  if (key !== undefined) {
    const t = templates.get(key);
    if (t) {
      templateUses++;
      return instantiate(t, values);
    }
    if (t === undefined) {
      const c = select(s, values);
      const made = makeTemplate(s, c);
      if (templates.size >= MAX_TEMPLATES) templates.clear();
      templates.set(key, made ?? null);
      if (made) return instantiate(made, values);
      return encode(c.form, c.ops, c.resolved, s.prefixes, 0n, s.loc.start, s.loc.end);
    }
  }
  const c = select(s, values);
  return encode(c.form, c.ops, c.resolved, s.prefixes, 0n, s.loc.start, s.loc.end);
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

function instantiate(t: Template, values: readonly (Value | undefined)[]): Uint8Array {
  if (!t.immediateSize && !t.displacementSize) return t.bytes;
  const bytes = t.bytes.slice();
  if (t.immediateSize) writeLittleEndian(bytes, t.immediateOffset, t.immediateSize, values[t.immOperand]!.value);
  if (t.displacementSize) writeLittleEndian(bytes, t.displacementOffset, t.displacementSize, values[t.memOperand]?.value ?? 0n);
  return bytes;
}

function writeLittleEndian(bytes: Uint8Array, offset: number, size: number, v: bigint): void {
  let low = v >= -0x80000000n && v <= 0xffffffffn ? Number(v) >>> 0 : Number(BigInt.asUintN(32, v));
  for (let i = 0; i < size && i < 4; i++, low >>>= 8) bytes[offset + i] = low & 0xff;
  if (size > 4) {
    let high = Number(BigInt.asUintN(32, v >> 32n));
    for (let i = 4; i < size; i++, high >>>= 8) bytes[offset + i] = high & 0xff;
  }
}

/**
 * Everything the bytes depend on besides the constants' own field contents, or undefined when the
 * statement is outside the shapes handled here (then it is encoded as usual).
 */
function shapeKey(s: InstructionStatement, values: readonly (Value | undefined)[]): string | undefined {
  let id = formsIds.get(s.forms);
  if (id === undefined) {
    if (nextFormsId > 0xffff) return undefined;
    formsIds.set(s.forms, (id = nextFormsId++));
  }
  let key = String.fromCharCode(id, (s.prefixes.lock ? 4 : 0) | s.prefixes.rep, s.operandSize);
  for (let i = 0; i < s.ops.length; i++) {
    const op = s.ops[i];
    const v = values[i];
    if (op.t === 'reg') key += String.fromCharCode(1, op.info.reg);
    else if (op.t === 'imm') {
      if (!v || v.reloc || v.unknown || op.distance) return undefined;
      key += String.fromCharCode(2, op.size, valueClass(v.value));
    } else {
      if (v && (v.reloc || v.unknown)) return undefined;
      const d = displSize(op, v, false);
      const dispClass = v ? 1 + displacementClass(v.value) : 0;
      key += String.fromCharCode(3, op.size, op.seg, op.base, op.index, op.scale, op.addressSize, op.far ? 1 : 0, op.rel === false ? 1 : 0, d, dispClass);
    }
  }
  return key;
}

/**
 * The range predicates of an immediate that form selection (encoder.ts immFits, nasmChoices.ts
 * nasmMovImmediate) looks at, as bits: equal to 1; fits a sign-extended imm8 after truncation to 16, 32
 * and 64 bits; fits a sign-extended imm32; fits 8, 16, 32 bits (signed or unsigned); is an unsigned
 * 32-bit number. Values are 64-bit two's complement.
 */
export function valueClass(v: bigint): number {
  if (v < -0x80000000n || v > 0xffffffffn) return 0;
  const n = Number(v);
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
  return (v >= -0x80000000n && v < 0x80000000n ? 1 : 0) | (v >= 0n && v <= 0xffffffffn ? 2 : 0);
}
