// Decode once per instruction address (ARCHITECTURE §2): iced-x86 turns bytes into an Instruction,
// which we flatten into a plain `DecodedInsn` the code generator reads. Decoding happens when a block
// is translated, never on the hot path.
import { Decoder, DecoderOptions, Formatter, FormatterSyntax, Instruction, MemorySizeExt, Mnemonic, OpKind, Register, type Code } from 'iced-x86';

export const enum OperandKind {
  None = 0,
  Gpr = 1,
  Mem = 2,
  Imm = 3,
  Seg = 4,
  Cr = 5,
  Dr = 6,
  Branch = 7,
  Other = 8,
}

export interface Operand {
  kind: OperandKind;
  /** GPR/segment/CR/DR number. */
  reg: number;
  /** Size in bytes (register or memory operand size; for immediates the operand size). */
  size: number;
  /** AH, CH, DH, BH. */
  high: boolean;
}

export interface DecodedInsn {
  rip: number;
  length: number;
  next: number;
  bytes: Uint8Array;
  mnemonic: Mnemonic;
  code: Code;
  ops: Operand[];
  /** Memory operand: base GPR (-1 none, 16 = RIP), index GPR (-1 none), scale, displacement. */
  base: number;
  index: number;
  scale: number;
  disp: number;
  /** Segment of the memory operand (0–5), and address size in bytes. */
  seg: number;
  addrSize: number;
  /** Immediate as halves (sign-extended to 64 bits where the encoding does so). */
  immLo: number;
  immHi: number;
  /** Second immediate (ENTER). */
  imm2: number;
  /** Near-branch target (linear). */
  target: number;
  /** 0 none, 1 REP/REPE, 2 REPNE. */
  rep: number;
  lock: boolean;
  /** Condition code 0–15 for Jcc/SETcc/CMOVcc, -1 otherwise. */
  cc: number;
  /** Flags read / written (iced RflagsBits, undefined counted as written). */
  flagsRead: number;
  flagsWritten: number;
  invalid: boolean;
  text: string;
}

const formatter = new Formatter(FormatterSyntax.Intel);

/** iced Register → [kind, number, size, high]. */
function classify(reg: Register): Operand {
  if (reg >= Register.AL && reg <= Register.R15L) {
    const n = reg - Register.AL;
    if (n >= 4 && n < 8) return { kind: OperandKind.Gpr, reg: n - 4, size: 1, high: true };
    return { kind: OperandKind.Gpr, reg: n >= 8 ? n - 4 : n, size: 1, high: false };
  }
  if (reg >= Register.AX && reg <= Register.R15) {
    const n = reg - Register.AX;
    return { kind: OperandKind.Gpr, reg: n & 15, size: [2, 4, 8][n >> 4], high: false };
  }
  if (reg >= Register.ES && reg <= Register.GS) return { kind: OperandKind.Seg, reg: reg - Register.ES, size: 2, high: false };
  if (reg >= Register.CR0 && reg <= Register.CR15) return { kind: OperandKind.Cr, reg: reg - Register.CR0, size: 8, high: false };
  if (reg >= Register.DR0 && reg <= Register.DR15) return { kind: OperandKind.Dr, reg: reg - Register.DR0, size: 8, high: false };
  return { kind: OperandKind.Other, reg: reg, size: 0, high: false };
}

function gprIndex(reg: Register): number {
  if (reg === Register.None) return -1;
  if (reg === Register.RIP || reg === Register.EIP) return 16;
  return classify(reg).reg;
}

const SIZE_OF_MEMORY: Record<number, number> = {};

function memorySize(insn: Instruction): number {
  const ms = insn.memorySize;
  let size = SIZE_OF_MEMORY[ms];
  if (size === undefined) {
    size = MemorySizeExt.size(ms); // a wasm call: memoized
    SIZE_OF_MEMORY[ms] = size;
  }
  return size;
}

/** Decode one instruction from `bytes` (up to 15 bytes fetched at `rip`). */
export function decodeInstruction(bytes: Uint8Array, rip: number, bitness: 64 | 32): DecodedInsn {
  const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
  decoder.ip = BigInt.asUintN(64, BigInt(rip));
  const insn = new Instruction();
  decoder.decodeOut(insn);
  decoder.free();
  try {
    return flatten(insn, bytes, rip, bitness);
  } finally {
    insn.free();
  }
}

/** Intel-syntax text of the instruction in `bytes` at `rip`. */
export function formatInstruction(bytes: Uint8Array, rip: number, bitness: 64 | 32): string {
  const decoder = new Decoder(bitness, bytes, DecoderOptions.None);
  decoder.ip = BigInt.asUintN(64, BigInt(rip));
  const insn = decoder.decode();
  decoder.free();
  try {
    return insn.isInvalid ? `(bad) ${[...bytes.slice(0, Math.max(1, insn.length || 1))].map((b) => b.toString(16).padStart(2, '0')).join(' ')}` : formatter.format(insn);
  } finally {
    insn.free();
  }
}

/**
 * A decoded instruction. One class, so every instance shares one hidden class: the system helpers and
 * the generated blocks read `d.next`, `d.mnemonic`, … from instructions of every kind, and an object
 * literal with its own `get text()` closure gave each instruction a map of its own, which made every
 * such load megamorphic (a generic LoadIC call per field, measured in the FRED round-trip profile).
 */
class Decoded implements DecodedInsn {
  length: number;
  next: number;
  bytes: Uint8Array;
  mnemonic: Mnemonic;
  code: Code;
  ops: Operand[] = [];
  base = -1;
  index = -1;
  scale = 1;
  disp = 0;
  seg = 3;
  addrSize = 8;
  immLo = 0;
  immHi = 0;
  imm2 = 0;
  target = 0;
  rep: number;
  lock: boolean;
  cc = -1;
  flagsRead: number;
  flagsWritten: number;
  invalid: boolean;

  constructor(insn: Instruction, private readonly fetched: Uint8Array, readonly rip: number, private readonly bitness: 64 | 32) {
    this.length = insn.length;
    this.next = rip + this.length;
    this.bytes = fetched.slice(0, this.length);
    this.mnemonic = insn.mnemonic;
    this.code = insn.code;
    this.rep = insn.hasRepPrefix || insn.hasRepePrefix ? 1 : insn.hasRepnePrefix ? 2 : 0;
    this.lock = insn.hasLockPrefix;
    this.flagsRead = insn.rflagsRead;
    this.flagsWritten = insn.rflagsModified;
    this.invalid = insn.isInvalid;
  }

  /** Formatting costs more than decoding: only messages and the debugger need the text. */
  get text(): string {
    return formatInstruction(this.fetched, this.rip, this.bitness);
  }
}

function flatten(insn: Instruction, bytes: Uint8Array, rip: number, bitness: 64 | 32): DecodedInsn {
  const d = new Decoded(insn, bytes, rip, bitness);
  if (d.invalid) {
    d.length = d.length || 1;
    return d;
  }
  const cc = insn.conditionCode;
  d.cc = cc === 0 ? -1 : cc - 1;
  let opSize = 0;
  for (let k = 0; k < insn.opCount; k++) {
    const kind = insn.opKind(k);
    if (kind === OpKind.Register) {
      const op = classify(insn.opRegister(k));
      if (op.kind === OperandKind.Gpr && !opSize) opSize = op.size;
      d.ops.push(op);
    } else if (kind === OpKind.Memory) {
      d.base = gprIndex(insn.memoryBase);
      d.index = gprIndex(insn.memoryIndex);
      d.scale = insn.memoryIndexScale;
      d.disp = Number(BigInt.asIntN(64, insn.memoryDisplacement));
      d.addrSize = insn.memoryBase === Register.None && insn.memoryIndex === Register.None ? 8 : addressSizeOf(insn);
      // RIP-relative: iced reports the absolute address as the displacement (base 16 = "absolute").
      d.seg = insn.memorySegment - Register.ES;
      const size = memorySize(insn);
      if (!opSize && size) opSize = size;
      d.ops.push({ kind: OperandKind.Mem, reg: 0, size, high: false });
    } else if (kind === OpKind.NearBranch16 || kind === OpKind.NearBranch32 || kind === OpKind.NearBranch64) {
      d.target = Number(BigInt.asIntN(64, insn.nearBranchTarget));
      d.ops.push({ kind: OperandKind.Branch, reg: 0, size: 8, high: false });
    } else if (kind >= OpKind.Immediate8 && kind <= OpKind.Immediate32to64) {
      if (kind === OpKind.Immediate8_2nd) {
        d.imm2 = insn.immediate8_2nd;
        continue;
      }
      const value = BigInt.asIntN(64, insn.immediate(k));
      const immSize = kind === OpKind.Immediate8 ? 1 : kind === OpKind.Immediate16 ? 2 : kind === OpKind.Immediate32 ? 4 : kind === OpKind.Immediate64 ? 8 : opSize || 8;
      const v = kind === OpKind.Immediate8 || kind === OpKind.Immediate16 || kind === OpKind.Immediate32 ? BigInt.asUintN(immSize * 8, value) : value;
      d.immLo = Number(BigInt.asIntN(32, v));
      d.immHi = Number(BigInt.asIntN(32, v >> 32n));
      d.ops.push({ kind: OperandKind.Imm, reg: 0, size: immSize, high: false });
    } else {
      // String-instruction implicit memory operands (MemorySegRSI, MemoryESRDI, …).
      d.seg = kind >= OpKind.MemoryESDI ? 0 : insn.memorySegment - Register.ES;
      d.addrSize = kind === OpKind.MemorySegRSI || kind === OpKind.MemorySegRDI || kind === OpKind.MemoryESRDI ? 8 : kind === OpKind.MemorySegESI || kind === OpKind.MemorySegEDI || kind === OpKind.MemoryESEDI ? 4 : 2;
      const size = memorySize(insn);
      if (!opSize && size) opSize = size;
      d.ops.push({ kind: OperandKind.Other, reg: kind, size, high: false });
    }
  }
  return d;
}

function addressSizeOf(insn: Instruction): number {
  const base = insn.memoryBase !== Register.None ? insn.memoryBase : insn.memoryIndex;
  if (base === Register.RIP) return 8;
  if (base === Register.EIP) return 4;
  const op = classify(base);
  return op.size;
}

export { Mnemonic };
