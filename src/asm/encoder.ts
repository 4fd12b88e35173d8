// Instruction selection and encoding: match parsed operands against the iced-x86 forms of a mnemonic,
// pick NASM's choice, then build an iced Instruction and encode it. Encodings are memoised: the bytes
// of an instruction depend only on its form, operands and (for relative operands) target − address.
import { Code, Encoder, Instruction, OpKind, OpCodeOperandKind as K, Register, RegisterExt, RepPrefixKind } from './iced';
import { AsmError } from './errors';
import type { Value } from './expression';
import type { Form } from './forms';
import type { ImmOperand, MemOperand, Operand } from './operands';
import type { RegisterClass } from './registers';

export interface Prefixes {
  lock: boolean;
  rep: RepPrefixKind;
}

/** Operand values for one encoding: immediates and displacements (absolute targets for rip-relative). */
export interface Resolved {
  readonly values: (Value | undefined)[];
  /** Per memory operand: encoded rip-relative (target in `values`). */
  readonly ripRelative: boolean[];
}

const REG_KIND: Partial<Record<K, RegisterClass>> = {
  [K.r8_reg]: 'gpr8', [K.r8_opcode]: 'gpr8',
  [K.r16_reg]: 'gpr16', [K.r16_reg_mem]: 'gpr16', [K.r16_rm]: 'gpr16', [K.r16_opcode]: 'gpr16',
  [K.r32_reg]: 'gpr32', [K.r32_reg_mem]: 'gpr32', [K.r32_rm]: 'gpr32', [K.r32_opcode]: 'gpr32',
  [K.r64_reg]: 'gpr64', [K.r64_reg_mem]: 'gpr64', [K.r64_rm]: 'gpr64', [K.r64_opcode]: 'gpr64',
  [K.seg_reg]: 'seg', [K.cr_reg]: 'cr', [K.dr_reg]: 'dr',
};
const RM_KIND: Partial<Record<K, [RegisterClass, number]>> = {
  [K.r8_or_mem]: ['gpr8', 1], [K.r16_or_mem]: ['gpr16', 2], [K.r32_or_mem]: ['gpr32', 4], [K.r32_or_mem_mpx]: ['gpr32', 4],
  [K.r64_or_mem]: ['gpr64', 8], [K.r64_or_mem_mpx]: ['gpr64', 8],
};
const FIXED_REG: Partial<Record<K, Register>> = {
  [K.es]: Register.ES, [K.cs]: Register.CS, [K.ss]: Register.SS, [K.ds]: Register.DS, [K.fs]: Register.FS, [K.gs]: Register.GS,
  [K.al]: Register.AL, [K.cl]: Register.CL, [K.ax]: Register.AX, [K.dx]: Register.DX, [K.eax]: Register.EAX, [K.rax]: Register.RAX,
};
/** Immediate kinds: field width in bytes, iced OpKind, and the operand size a sign-extended imm8 widens to. */
const IMM_KIND: Partial<Record<K, { width: number; opKind: OpKind; sex?: number }>> = {
  [K.imm8]: { width: 1, opKind: OpKind.Immediate8 },
  [K.imm8_const_1]: { width: 1, opKind: OpKind.Immediate8 },
  [K.imm8sex16]: { width: 1, opKind: OpKind.Immediate8to16, sex: 16 },
  [K.imm8sex32]: { width: 1, opKind: OpKind.Immediate8to32, sex: 32 },
  [K.imm8sex64]: { width: 1, opKind: OpKind.Immediate8to64, sex: 64 },
  [K.imm16]: { width: 2, opKind: OpKind.Immediate16 },
  [K.imm32]: { width: 4, opKind: OpKind.Immediate32 },
  [K.imm32sex64]: { width: 4, opKind: OpKind.Immediate32to64 },
  [K.imm64]: { width: 8, opKind: OpKind.Immediate64 },
};

export function isBranchKind(kind: K): boolean {
  return kind === K.br64_1 || kind === K.br64_4;
}

/** [lowest signed, one past the highest unsigned] value of an n-bit field, by n. */
const FIELD_BOUNDS = new Map([8, 16, 32, 64].map((bits) => [bits, [-(1n << BigInt(bits - 1)), 1n << BigInt(bits)] as const]));

function inRange(v: bigint, bits: number): boolean {
  const [low, high] = FIELD_BOUNDS.get(bits)!;
  return v >= low && v < high;
}

/** Does an immediate value fit the form's immediate kind? (`checkRange` false: only the operand shape.) */
function immFits(kind: K, op: ImmOperand, v: Value | undefined, checkRange: boolean): boolean {
  const imm = IMM_KIND[kind];
  if (!imm) return false;
  if (op.size && op.size !== imm.width) return false;
  if (!v) return true;
  if (kind === K.imm8_const_1) return !v.reloc && !v.unknown && v.value === 1n && !op.size;
  if (imm.sex) {
    // Sign-extended imm8: never for addresses (NASM keeps label-dependent immediates full size).
    if (v.reloc && !op.size) return false;
    if (!checkRange || v.unknown) return true;
    const narrowed = BigInt.asIntN(imm.sex, v.value);
    return inRange(v.value, imm.sex) && narrowed >= -128n && narrowed <= 127n;
  }
  if (!checkRange || v.unknown) return true;
  if (kind === K.imm32sex64) return v.value >= -(1n << 31n) && v.value < 1n << 31n;
  return inRange(v.value, imm.width * 8);
}

function matchKind(kind: K, form: Form, op: Operand, v: Value | undefined, checkRange: boolean): boolean {
  switch (op.t) {
    case 'reg': {
      if (form.register16) return op.info.cls === 'gpr16';
      const cls = REG_KIND[kind];
      if (cls) return op.info.cls === cls;
      const rm = RM_KIND[kind];
      if (rm) return op.info.cls === rm[0];
      const fixed = FIXED_REG[kind];
      return fixed !== undefined && fixed === op.info.reg;
    }
    case 'mem': {
      if (op.far !== form.far) return false;
      const rm = RM_KIND[kind];
      if (rm) return !op.size || op.size === (form.memSize || rm[1]);
      // NASM sizes a far pointer by its offset: `jmp far dword [m]` is m16:32 (memSize 6).
      if (op.far) return !op.size || op.size + 2 === form.memSize;
      if (kind === K.mem) return !op.size || !form.memSize || op.size === form.memSize;
      return false;
    }
    case 'imm':
      if (isBranchKind(kind)) return !op.size;
      if (op.distance) return false;
      return immFits(kind, op, v, checkRange);
  }
}

export function matches(form: Form, ops: readonly Operand[], values: readonly (Value | undefined)[], checkRange: boolean): boolean {
  if (form.kinds.length !== ops.length) return false;
  // 90+r with eax is NOP (no zero-extension of rax): `xchg eax, eax` must use 87 /r.
  if (form.code === Code.Xchg_r32_EAX && ops[0].t === 'reg' && ops[0].info.reg === Register.EAX) return false;
  for (let i = 0; i < ops.length; i++) if (!matchKind(form.kinds[i], form, ops[i], values[i], checkRange)) return false;
  return true;
}

/**
 * The form NASM would use for these operands. Throws AsmError with the reason when none fits: an
 * immediate out of range, a missing size keyword, or an invalid combination.
 */
export function selectForm(mnemonic: string, forms: readonly Form[], ops: readonly Operand[], values: readonly (Value | undefined)[], start: number, end: number): Form {
  let chosen: Form | undefined;
  const memIndex = ops.findIndex((o) => o.t === 'mem');
  // `far [mem]` takes the first (m16:64, see forms.ts rankOf) far form, like NASM.
  const unsized = memIndex >= 0 && !(ops[memIndex] as MemOperand).size && !(ops[memIndex] as MemOperand).far && ops.every((o) => o.t !== 'reg');
  let memSize = -1;
  let ambiguous = false;
  for (const form of forms) {
    if (!matches(form, ops, values, true)) continue;
    chosen ??= form;
    if (unsized) {
      const size = form.memSize || RM_KIND[form.kinds[memIndex]]?.[1] || 0;
      if (memSize >= 0 && size !== memSize) ambiguous = true;
      memSize = size;
    }
  }
  if (chosen) {
    if (ambiguous) {
      const op = ops[memIndex];
      throw new AsmError(`operation size not specified for '${mnemonic}': write byte, word, dword or qword before the memory operand`, op.start, op.end);
    }
    return chosen;
  }
  // Nothing matched: explain why.
  const shapeOnly = forms.find((f) => matches(f, ops, values, false));
  if (shapeOnly) {
    const i = shapeOnly.kinds.findIndex((k, j) => IMM_KIND[k] && ops[j].t === 'imm');
    const op = ops[i] ?? ops[0];
    const widest = Math.max(...forms.filter((f) => matches(f, ops, values, false)).map((f) => IMM_KIND[f.kinds[i]]?.width ?? 0));
    const v = values[i];
    throw new AsmError(`value ${v ? formatValue(v.value) : ''} does not fit in a ${widest * 8}-bit immediate`, op.start, op.end);
  }
  if (!forms.some((f) => f.kinds.length === ops.length)) {
    const counts = [...new Set(forms.map((f) => f.kinds.length))].sort().join(' or ');
    throw new AsmError(`'${mnemonic}' takes ${counts} operand${counts === '1' ? '' : 's'}, not ${ops.length}`, start, end);
  }
  throw new AsmError(`invalid combination of operands for '${mnemonic}'`, start, end);
}

function formatValue(v: bigint): string {
  return v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`;
}

/** Displacement size (iced displSize) NASM uses for a memory operand with this value. */
export function displSize(op: MemOperand, v: Value | undefined, ripRelative: boolean): number {
  const wide = op.addressSize === 8 ? 8 : 4;
  if (ripRelative || op.base === Register.None) return wide;
  if (!op.disp || !v) return needsDisp(op.base) ? 1 : 0;
  if (v.reloc) return wide;
  // Number() keeps the order and these bounds are exact: no bigint comparisons.
  const n = Number(v.value);
  if (n === 0 && !needsDisp(op.base)) return 0;
  if (n >= -128 && n <= 127) return 1;
  return wide;
}

function needsDisp(base: Register): boolean {
  return base === Register.RBP || base === Register.R13 || base === Register.EBP || base === Register.R13D;
}

const encoder = new Encoder(64);
const cache = new Map<string, Uint8Array>();

/**
 * Encodes at `address`. For relative operands (branches, rip-relative memory) `values` hold absolute
 * targets. Throws AsmError when iced-x86 rejects the combination (e.g. AH with a REX prefix).
 */
export function encode(form: Form, ops: readonly Operand[], resolved: Resolved, prefixes: Prefixes, address: bigint, start: number, end: number): Uint8Array {
  const key = cacheKey(form, ops, resolved, prefixes, address);
  const hit = cache.get(key);
  if (hit) return hit;
  const ins = build(form, ops, resolved, prefixes);
  try {
    encoder.encode(ins, address);
    const bytes = encoder.takeBuffer();
    if (cache.size > 200_000) cache.clear();
    cache.set(key, bytes);
    return bytes;
  } catch (error) {
    encoder.takeBuffer(); // a failed encode leaves partial bytes behind
    const message = error instanceof Error ? error.message : String(error);
    throw new AsmError(cleanIcedMessage(message), start, end);
  } finally {
    ins.free();
  }
}

/** Branch encodings without prefixes by form, then by distance from the instruction to the target. */
const branchCache = new Map<Form, Map<number, Uint8Array>>();

/**
 * encode() for a relative branch without prefixes whose target is `distance` bytes from `address`: the
 * same bytes (a branch's depend only on its form and that distance), memoised by numbers instead of a
 * string key. test/asm/branchLayout.test.ts compares it with encode() through `jcc label + 0`.
 */
export function encodeBranch(form: Form, ops: readonly Operand[], address: bigint, distance: number, start: number, end: number): Uint8Array {
  let byDistance = branchCache.get(form);
  if (!byDistance) branchCache.set(form, (byDistance = new Map()));
  const hit = byDistance.get(distance);
  if (hit) return hit;
  const bytes = encode(form, ops, { values: [{ value: address + BigInt(distance), reloc: 1, unknown: false }], ripRelative: [false] }, NO_PREFIXES, address, start, end);
  if (byDistance.size > 100_000) byDistance.clear();
  byDistance.set(distance, bytes);
  return bytes;
}
const NO_PREFIXES: Prefixes = Object.freeze({ lock: false, rep: RepPrefixKind.None });

/** Bytes of one encoding and where its immediate and displacement fields are (size 0: none). */
export interface EncodingTemplate {
  readonly bytes: Uint8Array;
  readonly immediateOffset: number;
  readonly immediateSize: number;
  readonly displacementOffset: number;
  readonly displacementSize: number;
}

/**
 * Encodes an instruction without relative operands (at address 0) and reports where iced-x86 put its
 * constants, so that the same form with other constants can be patched instead of encoded (see
 * fixedEncoding.ts). Undefined when the instruction has two immediates (ENTER) or iced-x86 rejects it.
 */
export function encodeTemplate(form: Form, ops: readonly Operand[], resolved: Resolved, prefixes: Prefixes): EncodingTemplate | undefined {
  const ins = build(form, ops, resolved, prefixes);
  try {
    encoder.encode(ins, 0n);
    const offsets = encoder.getConstantOffsets();
    const bytes = encoder.takeBuffer();
    try {
      if (offsets.hasImmediate2) return undefined;
      return {
        bytes,
        immediateOffset: offsets.immediateOffset,
        immediateSize: offsets.hasImmediate ? offsets.immediateSize : 0,
        displacementOffset: offsets.displacementOffset,
        displacementSize: offsets.hasDisplacement ? offsets.displacementSize : 0,
      };
    } finally {
      offsets.free();
    }
  } catch {
    encoder.takeBuffer();
    return undefined;
  } finally {
    ins.free();
  }
}

function cleanIcedMessage(message: string): string {
  if (message.includes("can't be used if there's a REX prefix")) return 'ah, bh, ch and dh cannot be used in an instruction that needs a REX prefix';
  if (message.includes('Branch distance is too far')) return 'branch target out of range';
  if (message.includes('must fit in an i32') || message.includes('too far')) return 'target out of range of a 32-bit displacement';
  return `cannot encode: ${message.replace(/ \(.*\)$/, '')}`;
}

function cacheKey(form: Form, ops: readonly Operand[], r: Resolved, p: Prefixes, address: bigint): string {
  let key = `${form.code}|${p.lock ? 1 : 0}${p.rep}`;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const v = r.values[i];
    if (op.t === 'reg') key += `|r${op.info.reg}`;
    else if (op.t === 'imm') key += `|i${isBranchKind(form.kinds[i]) ? (v!.value - address).toString() : v?.value}`;
    else {
      const rel = r.ripRelative[i];
      key += `|m${op.seg},${op.base},${op.index},${op.scale},${op.addressSize},${rel ? 'r' + (v!.value - address) : v?.value},${v?.reloc ? 1 : 0}`;
    }
  }
  return key;
}

function build(form: Form, ops: readonly Operand[], r: Resolved, p: Prefixes): Instruction {
  if (form.stringOp) return buildString(form, ops, p);
  const ins = new Instruction();
  ins.code = form.code;
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i];
    const kind = form.kinds[i];
    if (op.t === 'reg') {
      ins.setOpKind(i, OpKind.Register);
      ins.setOpRegister(i, form.register16 ? RegisterExt.fullRegister32(op.info.reg) : op.info.reg);
    } else if (op.t === 'mem') {
      const v = r.values[i];
      const rel = r.ripRelative[i];
      ins.setOpKind(i, OpKind.Memory);
      ins.memoryBase = rel ? Register.RIP : op.base;
      ins.memoryIndex = op.index;
      ins.memoryIndexScale = op.scale;
      ins.memoryDisplSize = displSize(op, v, rel);
      ins.memoryDisplacement = BigInt.asUintN(64, ins.memoryDisplSize ? v?.value ?? 0n : 0n);
      ins.segmentPrefix = op.seg;
    } else if (isBranchKind(kind)) {
      ins.setOpKind(i, OpKind.NearBranch64);
      ins.nearBranch64 = BigInt.asUintN(64, r.values[i]!.value);
    } else {
      const imm = IMM_KIND[kind]!;
      // ENTER's second immediate is iced's Immediate8_2nd.
      const opKind = i === 1 && ops[0].t === 'imm' && imm.opKind === OpKind.Immediate8 ? OpKind.Immediate8_2nd : imm.opKind;
      ins.setOpKind(i, opKind);
      const value = r.values[i]?.value ?? 0n;
      ins.setImmediateU64(i, BigInt.asUintN(imm.width * 8, value));
    }
  }
  ins.hasLockPrefix = p.lock;
  if (p.rep === RepPrefixKind.Repe) ins.hasRepePrefix = true;
  else if (p.rep === RepPrefixKind.Repne) ins.hasRepnePrefix = true;
  return ins;
}

/** String instructions carry implicit es:[rdi]/[rsi] operands that iced builds itself. */
function buildString(form: Form, ops: readonly Operand[], p: Prefixes): Instruction {
  void ops;
  const name = STRING_CREATORS.get(form.code);
  if (!name) {
    // XLATB: [rbx + al].
    const ins = new Instruction();
    ins.code = form.code;
    ins.setOpKind(0, OpKind.Memory);
    ins.memoryBase = Register.RBX;
    ins.memoryIndex = Register.AL;
    return ins;
  }
  const create = (Instruction as unknown as Record<string, (...args: unknown[]) => Instruction>)[name];
  return name.startsWith('createMovs') || name.startsWith('createLods') || name.startsWith('createCmps') || name.startsWith('createOuts')
    ? create(64, Register.None, p.rep)
    : create(64, p.rep);
}

const STRING_CREATORS = new Map<number, string>();
for (const op of ['Movs', 'Lods', 'Stos', 'Scas', 'Cmps', 'Ins', 'Outs']) {
  for (const s of ['b', 'w', 'd', 'q']) {
    const codeName = Object.keys(Code).find((k) => k.startsWith(`${op}${s}_`));
    if (codeName && `create${op}${s}` in Instruction) STRING_CREATORS.set(Code[codeName as keyof typeof Code] as number, `create${op}${s}`);
  }
}
