// Deterministic random cases for the host differential test: one instruction per case (so an
// undefined flag of one instruction can never leak into a defined result of the next), drawn from the
// integer ALU, shift/rotate, bit, multiply/divide and SETcc/CMOVcc families at every operand width,
// with operand values biased towards the edges (0, 1, -1, sign boundaries) and encoded by iced-x86.
import { Code, Encoder, Instruction, Register, RflagsBits } from 'iced-x86';
import type { MachineCase } from './hostHarness';
import { Random } from './random';

export type Family =
  | 'alu' | 'unary' | 'shift' | 'shiftDouble' | 'bitTest' | 'bitScan' | 'bitCount' | 'mulDiv' | 'setcc' | 'cmovcc';

export interface AluCase extends MachineCase {
  family: Family;
  /** iced-x86 Code name, e.g. Shl_rm32_CL. */
  form: string;
  /** Flags the SDM leaves undefined for this instruction and these operands (x86 RFLAGS bits). */
  undefinedFlags: bigint;
  /** GPR whose result the SDM leaves undefined (BSF/BSR of 0), or -1. */
  undefinedRegister: number;
}

type Width = 8 | 16 | 32 | 64;
const WIDTHS: readonly Width[] = [8, 16, 32, 64];
const CONDITIONS = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const ACCUMULATOR: Record<Width, string> = { 8: 'AL', 16: 'AX', 32: 'EAX', 64: 'RAX' };
const imm = (w: Width): number => Math.min(w, 32);

/** iced-x86 Code names per family; only documented encodings (no SAL /6, no TEST F6 /1). */
function formNames(): Record<Family, string[]> {
  const forms: Record<Family, string[]> = {
    alu: [], unary: [], shift: [], shiftDouble: [], bitTest: [], bitScan: [], bitCount: [], mulDiv: [], setcc: [], cmovcc: [],
  };
  for (const w of WIDTHS) {
    for (const m of ['Add', 'Adc', 'Sub', 'Sbb', 'And', 'Or', 'Xor', 'Cmp']) {
      forms.alu.push(`${m}_rm${w}_r${w}`, `${m}_r${w}_rm${w}`, `${m}_rm${w}_imm${imm(w)}`, `${m}_${ACCUMULATOR[w]}_imm${imm(w)}`);
      if (w !== 8) forms.alu.push(`${m}_rm${w}_imm8`);
    }
    forms.alu.push(`Test_rm${w}_r${w}`, `Test_rm${w}_imm${imm(w)}`, `Test_${ACCUMULATOR[w]}_imm${imm(w)}`);
    for (const m of ['Inc', 'Dec', 'Neg', 'Not']) forms.unary.push(`${m}_rm${w}`);
    for (const m of ['Rol', 'Ror', 'Rcl', 'Rcr', 'Shl', 'Shr', 'Sar']) forms.shift.push(`${m}_rm${w}_1`, `${m}_rm${w}_CL`, `${m}_rm${w}_imm8`);
    for (const m of ['Mul', 'Imul', 'Div', 'Idiv']) forms.mulDiv.push(`${m}_rm${w}`);
    if (w === 8) continue;
    for (const m of ['Shld', 'Shrd']) forms.shiftDouble.push(`${m}_rm${w}_r${w}_imm8`, `${m}_rm${w}_r${w}_CL`);
    for (const m of ['Bt', 'Bts', 'Btr', 'Btc']) forms.bitTest.push(`${m}_rm${w}_r${w}`, `${m}_rm${w}_imm8`);
    for (const m of ['Bsf', 'Bsr']) forms.bitScan.push(`${m}_r${w}_rm${w}`);
    for (const m of ['Lzcnt', 'Tzcnt', 'Popcnt']) forms.bitCount.push(`${m}_r${w}_rm${w}`);
    forms.mulDiv.push(`Imul_r${w}_rm${w}`, `Imul_r${w}_rm${w}_imm${imm(w)}`, `Imul_r${w}_rm${w}_imm8`);
    for (const cc of CONDITIONS) forms.cmovcc.push(`Cmov${cc}_r${w}_rm${w}`);
  }
  for (const cc of CONDITIONS) forms.setcc.push(`Set${cc}_rm8`);
  return forms;
}

/** The host features each family needs (/proc/cpuinfo flag names). */
export const FAMILY_HOST_FLAGS: Partial<Record<Family, string[]>> = { bitCount: ['abm', 'bmi1', 'popcnt'] };

// ---- registers -------------------------------------------------------------------------------

interface Gpr { reg: Register; index: number; shift: bigint; width: Width }

const NAMES: Record<Width, string[]> = {
  64: ['RAX', 'RCX', 'RDX', 'RBX', 'RSP', 'RBP', 'RSI', 'RDI', 'R8', 'R9', 'R10', 'R11', 'R12', 'R13', 'R14', 'R15'],
  32: ['EAX', 'ECX', 'EDX', 'EBX', 'ESP', 'EBP', 'ESI', 'EDI', 'R8D', 'R9D', 'R10D', 'R11D', 'R12D', 'R13D', 'R14D', 'R15D'],
  16: ['AX', 'CX', 'DX', 'BX', 'SP', 'BP', 'SI', 'DI', 'R8W', 'R9W', 'R10W', 'R11W', 'R12W', 'R13W', 'R14W', 'R15W'],
  8: ['AL', 'CL', 'DL', 'BL', 'SPL', 'BPL', 'SIL', 'DIL', 'R8L', 'R9L', 'R10L', 'R11L', 'R12L', 'R13L', 'R14L', 'R15L'],
};
const registerEnum = Register as unknown as Record<string, Register>;
const gprByName = new Map<string, Gpr>();
for (const w of WIDTHS) {
  NAMES[w].forEach((name, index) => gprByName.set(name, { reg: registerEnum[name]!, index, shift: 0n, width: w }));
}
['AH', 'CH', 'DH', 'BH'].forEach((name, index) => gprByName.set(name, { reg: registerEnum[name]!, index, shift: 8n, width: 8 }));
const gpr = (name: string): Gpr => gprByName.get(name)!;

/** Operands never use RSP (the harness runs on the host stack) nor SPL/SP/ESP. */
const POOL: Record<Width, Gpr[]> = {
  64: NAMES[64].filter((_, i) => i !== 4).map(gpr),
  32: NAMES[32].filter((_, i) => i !== 4).map(gpr),
  16: NAMES[16].filter((_, i) => i !== 4).map(gpr),
  8: NAMES[8].filter((_, i) => i !== 4).map(gpr),
};
/** Without REX, ModRM 4–7 mean AH, CH, DH, BH: an instruction uses either these or the REX set. */
const LEGACY8 = ['AL', 'CL', 'DL', 'BL', 'AH', 'CH', 'DH', 'BH'].map(gpr);
const REX8 = ['AL', 'CL', 'DL', 'BL', 'BPL', 'SIL', 'DIL', 'R8L', 'R9L', 'R10L', 'R11L', 'R12L', 'R13L', 'R14L', 'R15L'].map(gpr);

const readGpr = (regs: readonly bigint[], g: Gpr): bigint => (regs[g.index]! >> g.shift) & ((1n << BigInt(g.width)) - 1n);

// ---- operand values ----------------------------------------------------------------------------

const MASK = new Map<number, bigint>([8, 16, 32, 64].map((w) => [w, (1n << BigInt(w)) - 1n]));
const SIGN = new Map<number, bigint>([8, 16, 32, 64].map((w) => [w, 1n << BigInt(w - 1)]));

function edgeValue(random: Random, w: number): bigint {
  const mask = MASK.get(w) ?? (1n << BigInt(w)) - 1n;
  const sign = SIGN.get(w) ?? 1n << BigInt(w - 1);
  switch (random.below(10)) {
    case 0: return 0n;
    case 1: return 1n;
    case 2: return mask; // -1
    case 3: return sign;
    case 4: return sign - 1n;
    case 5: return sign + 1n;
    case 6: return BigInt(random.below(64));
    case 7: return mask - BigInt(random.below(64));
    default: return w <= 32 ? BigInt(random.u32()) & mask : random.u64() & mask;
  }
}

/** A 64-bit register value whose low `w` bits (and, for 8-bit, bits 15:8) are edge values. */
function registerValue(random: Random, w: Width): bigint {
  if (w === 64) return edgeValue(random, 64);
  const kind = random.below(3);
  const upper = kind === 0 ? 0n : kind === 1 ? ~MASK.get(w)! : random.u64() & ~MASK.get(w)!;
  let value = upper | edgeValue(random, w);
  if (w === 8) value = (value & ~0xff00n) | (edgeValue(random, 8) << 8n);
  return BigInt.asUintN(64, value);
}

const SHIFT_COUNTS = [0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 255];

function shiftCount(random: Random): number {
  return random.chance(0.6) ? random.pick(SHIFT_COUNTS) : random.below(256);
}

function immediate(random: Random, bits: number, signed: boolean): number {
  if (!signed) return shiftCount(random);
  return Number(BigInt.asIntN(bits, edgeValue(random, bits)));
}

// ---- undefined flags -----------------------------------------------------------------------------

const ICED_TO_X86: Array<[number, bigint]> = [
  [RflagsBits.OF, 0x800n], [RflagsBits.SF, 0x80n], [RflagsBits.ZF, 0x40n],
  [RflagsBits.AF, 0x10n], [RflagsBits.PF, 0x4n], [RflagsBits.CF, 0x1n],
];
const x86Flags = (iced: number): bigint => ICED_TO_X86.reduce((acc, [bit, x86]) => ((iced & bit) !== 0 ? acc | x86 : acc), 0n);
const OF = 0x800n, CF = 0x1n;

const codeEnum = Code as unknown as Record<string, Code>;

/**
 * Undefined flags: iced-x86's per-instruction answer (for CL counts, asked for the immediate form with
 * the same count, since iced cannot know CL), plus what the SDM leaves undefined where iced is more
 * precise than the SDM: OF after a rotate whose masked count exceeds 1 even when the rotation is a
 * multiple of the width (SDM Vol. 2B RCL/RCR/ROL/ROR "Flags Affected"), and CF after SHL/SHR by a
 * count not smaller than the operand size (SDM Vol. 2B SAL/SAR/SHL/SHR "Flags Affected").
 */
function undefinedFlags(form: string, ins: Instruction, count: number | undefined, w: Width): bigint {
  let undef: bigint;
  if (form.endsWith('_CL') && count !== undefined) {
    const twin = form.split('_').length === 4 // SHLD/SHRD r/m, r, CL
      ? Instruction.createRegRegU32(codeEnum[form.replace('_CL', '_imm8')]!, ins.op0Register, ins.op1Register, count)
      : Instruction.createRegU32(codeEnum[form.replace('_CL', '_imm8')]!, ins.op0Register, count);
    undef = x86Flags(twin.rflagsUndefined);
    twin.free();
  } else {
    undef = x86Flags(ins.rflagsUndefined);
  }
  if (count !== undefined) {
    const masked = count & (w === 64 ? 63 : 31);
    const mnemonic = form.split('_')[0]!;
    if (['Rol', 'Ror', 'Rcl', 'Rcr'].includes(mnemonic) && masked > 1) undef |= OF;
    if (['Shl', 'Shr'].includes(mnemonic) && masked >= w) undef |= CF;
  }
  return undef;
}

// ---- case construction ---------------------------------------------------------------------------

interface Template { family: Family; form: string; code: Code; ops: string[] }

function templates(): Template[] {
  const out: Template[] = [];
  for (const [family, names] of Object.entries(formNames()) as Array<[Family, string[]]>) {
    for (const form of names) {
      const code = codeEnum[form];
      if (code === undefined) throw new Error(`iced-x86 has no Code.${form}`);
      out.push({ family, form, code, ops: form.split('_').slice(1) });
    }
  }
  return out;
}

const opWidth = (op: string): Width | undefined => {
  const m = /^(?:rm|r)(8|16|32|64)$/.exec(op);
  return m ? (Number(m[1]) as Width) : undefined;
};

/** True when DIV/IDIV of these operands raises #DE (quotient too large or divisor 0). */
function divideFaults(signed: boolean, w: Width, regs: readonly bigint[], divisor: Gpr): boolean {
  const W = BigInt(w);
  const read = (name: string): bigint => readGpr(regs, gpr(name));
  const dividend = w === 8 ? read('AX') : (read(NAMES[w][2]!) << W) | read(NAMES[w][0]!);
  let d = readGpr(regs, divisor);
  if (d === 0n) return true;
  if (!signed) return dividend / d >= 1n << W;
  const n = BigInt.asIntN(2 * w, dividend);
  d = BigInt.asIntN(w, d);
  const q = n / d;
  return q >= 1n << (W - 1n) || q < -(1n << (W - 1n));
}

/** Make most divisions legal (so results get compared); a few #DE cases stay (status compared). */
function tameDivision(random: Random, signed: boolean, w: Width, regs: bigint[], divisor: Gpr): void {
  for (let attempt = 0; attempt < 8 && divideFaults(signed, w, regs, divisor) && random.chance(0.97); attempt++) {
    const high = w === 8 ? gpr('AH') : gpr(NAMES[w][2]!);
    const low = w === 8 ? gpr('AL') : gpr(NAMES[w][0]!);
    const set = (g: Gpr, v: bigint): void => {
      const mask = ((1n << BigInt(g.width)) - 1n) << g.shift;
      regs[g.index] = (regs[g.index]! & ~mask) | ((v << g.shift) & mask);
    };
    if (readGpr(regs, divisor) === 0n || attempt > 3) set(divisor, BigInt(1 + random.below(1000)));
    const lowValue = readGpr(regs, low);
    const negative = (lowValue >> BigInt(w - 1)) & 1n;
    set(high, signed ? (negative ? -1n : 0n) : BigInt(random.below(1 << Math.min(w, 16))) % (readGpr(regs, divisor) || 1n));
  }
}

export class AluCaseGenerator {
  private readonly random: Random;
  private readonly byFamily = new Map<Family, Template[]>();
  private readonly families: Family[];
  private readonly encoder = new Encoder(64);

  constructor(seed: number, families?: readonly Family[]) {
    this.random = new Random(seed);
    for (const t of templates()) {
      if (families && !families.includes(t.family)) continue;
      const list = this.byFamily.get(t.family) ?? [];
      list.push(t);
      this.byFamily.set(t.family, list);
    }
    this.families = [...this.byFamily.keys()];
  }

  /** Every form the generator draws from (for coverage reporting). */
  static allForms(): Record<Family, string[]> {
    return formNames();
  }

  /** One case: a fresh instruction with one input state. */
  next(): AluCase {
    return this.nextGroup(1)[0]!;
  }

  /**
   * One instruction encoding run with `inputs` different register and flag states. Groups keep the
   * number of distinct encodings small, which is what an emulator with a translation cache pays for.
   */
  nextGroup(inputs: number): AluCase[] {
    const random = this.random;
    const template = random.pick(this.byFamily.get(random.pick(this.families))!);
    const widths = template.ops.map(opWidth).filter((w): w is Width => w !== undefined);
    const accumulator = Object.entries(ACCUMULATOR).find(([, name]) => template.ops.includes(name));
    const w: Width = widths[0] ?? (accumulator ? (Number(accumulator[0]) as Width) : 8);
    const pool8 = random.chance(0.5) ? LEGACY8 : REX8;
    const operands: Gpr[] = [];
    let immValue: number | undefined;
    const signedImm = !['shift', 'shiftDouble', 'bitTest'].includes(template.family);
    for (const op of template.ops) {
      const width = opWidth(op);
      if (width !== undefined) operands.push(random.pick(width === 8 ? pool8 : POOL[width]));
      else if (op === 'CL' || /^(AL|AX|EAX|RAX)$/.test(op)) operands.push(gpr(op));
      else if (op === '1') immValue = 1;
      else if (op.startsWith('imm')) immValue = immediate(random, Number(op.slice(3)), signedImm);
    }
    // 16-bit SHLD/SHRD by more than 16 leave result and flags undefined (SDM Vol. 2B SHLD): not drawn.
    const limitCount = template.family === 'shiftDouble' && w === 16;
    if (limitCount && immValue !== undefined && (immValue & 31) > 16) immValue &= 15;

    const ins = this.create(template, operands, immValue);
    this.encoder.encode(ins, 0n);
    const code = this.encoder.takeBuffer();
    const isShift = template.family === 'shift' || template.family === 'shiftDouble';
    const byCount = template.ops.includes('CL');
    const fixedUndefined = byCount ? 0n : undefinedFlags(template.form, ins, isShift ? immValue : undefined, w);
    const mnemonic = template.form.split('_')[0]!;
    const divide = mnemonic === 'Div' || mnemonic === 'Idiv';
    const scanSource = template.family === 'bitScan' ? operands[1] : undefined;

    const cases: AluCase[] = [];
    for (let k = 0; k < inputs; k++) {
      const regs: bigint[] = [];
      for (let i = 0; i < 16; i++) regs.push(i === 4 ? 0n : registerValue(random, w));
      let undef = fixedUndefined;
      if (byCount) {
        let cl = shiftCount(random);
        if (limitCount && (cl & 31) > 16) cl &= 15;
        regs[1] = (regs[1]! & ~0xffn) | BigInt(cl);
        undef = this.undefinedForCount(template.form, ins, cl, w);
      }
      if (divide && operands[0]) tameDivision(random, mnemonic === 'Idiv', w, regs, operands[0]);
      const undefinedRegister = scanSource && readGpr(regs, scanSource) === 0n ? operands[0]!.index : -1;
      const rflags = BigInt(random.u32()) & 0x8d5n;
      cases.push({ family: template.family, form: template.form, regs, rflags, code, undefinedFlags: undef, undefinedRegister });
    }
    ins.free();
    return cases;
  }

  private readonly countCache = new Map<string, bigint>();

  /** Undefined flags of a CL-count form for one count (cached: at most 256 per form). */
  private undefinedForCount(form: string, ins: Instruction, count: number, w: Width): bigint {
    const key = `${form}:${count}`;
    let undef = this.countCache.get(key);
    if (undef === undefined) {
      undef = undefinedFlags(form, ins, count, w);
      this.countCache.set(key, undef);
    }
    return undef;
  }

  private create(t: Template, regs: Gpr[], immValue: number | undefined): Instruction {
    const [a, b, c] = regs.map((g) => g.reg);
    if (immValue !== undefined) {
      const createImm = t.family === 'shift' || t.family === 'shiftDouble' || t.family === 'bitTest';
      if (b !== undefined) return createImm ? Instruction.createRegRegU32(t.code, a!, b, immValue) : Instruction.createRegRegI32(t.code, a!, b, immValue);
      return createImm ? Instruction.createRegU32(t.code, a!, immValue) : Instruction.createRegI32(t.code, a!, immValue);
    }
    if (c !== undefined) return Instruction.createRegRegReg(t.code, a!, b!, c);
    if (b !== undefined) return Instruction.createRegReg(t.code, a!, b);
    return Instruction.createReg(t.code, a!);
  }

  free(): void {
    this.encoder.free();
  }
}

