// Instruction forms, read once from iced-x86's opcode tables (CodeExt.opCode): every legacy-encoded
// instruction available in 64-bit mode whose operands are general-purpose, segment, control or debug
// registers, memory, immediates or near branches. x87, MMX, SSE and far/moffs forms are outside the scope.
import { Code, CodeExt, EncodingKind, MemorySize, MemorySizeExt, Mnemonic, OpCodeOperandKind as K, OpCodeTableKind } from './iced';

export interface Form {
  readonly code: Code;
  /** Explicit operand kinds (implicit string operands such as es:[rdi] are not written in NASM syntax). */
  readonly kinds: readonly K[];
  /** Memory operand size in bytes (0 when the form has no memory operand or the size is not fixed). */
  readonly memSize: number;
  readonly operandSize: number;
  /** Far (m16:xx) memory form: only chosen with the `far` keyword. */
  readonly far: boolean;
  /** Relative branch form (rel8 or rel32). */
  readonly branch: 0 | 1 | 4;
  /** String instruction with implicit operands. */
  readonly stringOp: boolean;
  /** `r32/m16` form written with a 16-bit register (see SELECTOR_32). */
  readonly register16: boolean;
}

/**
 * Forms iced-x86 can encode that are outside the supported syntax: vendor-specific or undocumented
 * opcodes that NASM or llvm-mc do not accept in 64-bit code (or iced's own decoder rejects there), and
 * 16-bit forms without meaning there.
 */
const EXCLUDED_MNEMONICS = new Set([
  'reservednop', 'undoc', 'ud0', 'rdudbg', 'wrudbg', 'ccs_encrypt', 'ccs_hash', 'xsha512', 'xsha512_alt', 'xstore_alt',
  'montmul', 'fdisi', 'feni', 'fndisi', 'fneni', 'fnsetpm', 'fsetpm', 'getsecq', 'pcommit', 'mcommit', 'vmgexit',
]);
const EXCLUDED_CODES = new Set(['Bswap_r16', 'Call_rm16', 'Jmp_rm16', 'Movsx_r16_rm16', 'Movzx_r16_rm16', 'Movsxd_r16_rm16', 'Movsxd_r32_rm32', 'Tpause_r64', 'Umwait_r64']);
/**
 * LLDT, LTR, LMSW, VERR, VERW and LKGS take r/m16 and need no operand-size prefix (NASM and llvm-mc
 * emit none): they are encoded through iced's `r32/m16` form, with a 16-bit register operand.
 */
const SELECTOR_16 = /^(Lkgs|Lldt|Ltr|Verr|Verw|Lmsw)_r(m16|64m16)$/;
const SELECTOR_32 = /^(Lkgs|Lldt|Ltr|Verr|Verw|Lmsw)_r32m16$/;

const SUPPORTED_KINDS = new Set<K>([
  K.mem, K.r8_or_mem, K.r16_or_mem, K.r32_or_mem, K.r32_or_mem_mpx, K.r64_or_mem, K.r64_or_mem_mpx,
  K.r8_reg, K.r8_opcode, K.r16_reg, K.r16_reg_mem, K.r16_rm, K.r16_opcode, K.r32_reg, K.r32_reg_mem, K.r32_rm,
  K.r32_opcode, K.r64_reg, K.r64_reg_mem, K.r64_rm, K.r64_opcode, K.seg_reg, K.cr_reg, K.dr_reg,
  K.es, K.cs, K.ss, K.ds, K.fs, K.gs, K.al, K.cl, K.ax, K.dx, K.eax, K.rax,
  K.imm8, K.imm8_const_1, K.imm8sex16, K.imm8sex32, K.imm8sex64, K.imm16, K.imm32, K.imm32sex64, K.imm64,
  K.br64_1, K.br64_4, K.seg_rSI, K.es_rDI, K.seg_rDI, K.seg_rBX_al,
]);
export const IMPLICIT_KINDS = new Set<K>([K.seg_rSI, K.es_rDI, K.seg_rDI, K.seg_rBX_al]);
const FAR_SIZES = new Set<MemorySize>([MemorySize.SegPtr16, MemorySize.SegPtr32, MemorySize.SegPtr64]);

/**
 * NASM spellings that differ from iced-x86's mnemonic names. In 64-bit mode NASM's `iret`, `pushf` and
 * `popf` use the default operand size (CF, 9C, 9D); `sal` is `shl` (/4, not iced's undocumented /6 form);
 * condition-code synonyms map to the name iced uses.
 */
const ALIAS_LIST: Record<string, string> = {
  iret: 'iretd', iretw: 'iret', pushf: 'pushfq', popf: 'popfq', sal: 'shl', icebp: 'int1', int01: 'int1', xlat: 'xlatb',
  sysretl: 'sysret', sysexitl: 'sysexit',
};
const CC_SYNONYMS: Record<string, string> = {
  z: 'e', nz: 'ne', c: 'b', nae: 'b', nc: 'ae', nb: 'ae', na: 'be', nbe: 'a', pe: 'p', po: 'np',
  nge: 'l', nl: 'ge', ng: 'le', nle: 'g',
};
for (const prefix of ['j', 'set', 'cmov']) for (const [from, to] of Object.entries(CC_SYNONYMS)) ALIAS_LIST[prefix + from] = prefix + to;
const ALIASES = new Map(Object.entries(ALIAS_LIST));
/** Mnemonics whose iced form NASM spells differently (replaced by ALIASES targets above). */
const HIDDEN = new Set(['sal']);

let table: Map<string, Form[]> | undefined;

function memSizeOf(ms: MemorySize): number {
  return ms === MemorySize.Unknown ? 0 : MemorySizeExt.size(ms);
}

function build(): Map<string, Form[]> {
  const byMnemonic = new Map<string, { form: Form; rank: number }[]>();
  const codeCount = Object.keys(Code).filter((k) => Number.isNaN(Number(k))).length;
  const mnemonicNames = Mnemonic as unknown as Record<number, string>;
  for (let code = 0; code < codeCount; code++) {
    const info = CodeExt.opCode(code);
    try {
      if (info.encoding !== EncodingKind.Legacy || !info.isInstruction || !info.isAvailableInMode(64)) continue;
      // x87 escape opcodes D8–DF.
      if (info.table === OpCodeTableKind.Normal && (info.opCode & 0xf8) === 0xd8) continue;
      if (info.addressSize === 16 || info.addressSize === 32) continue;
      const all: K[] = [];
      for (let i = 0; i < info.opCount; i++) all.push(info.opKind(i) as K);
      if (!all.every((k) => SUPPORTED_KINDS.has(k))) continue;
      // String instructions (movsb, stosq, insb, …) are written without operands in NASM: their
      // accumulator and dx operands are implicit too.
      const stringOp = all.some((k) => IMPLICIT_KINDS.has(k));
      const kinds = stringOp ? [] : all;
      const name = mnemonicNames[info.mnemonic].toLowerCase();
      const codeName = (Code as unknown as Record<number, string>)[code];
      if (HIDDEN.has(name) || EXCLUDED_MNEMONICS.has(name) || EXCLUDED_CODES.has(codeName) || SELECTOR_16.test(codeName)) continue;
      if (info.fwait || info.isFpuNoWait) continue;
      const branch = kinds.includes(K.br64_1) ? 1 : kinds.includes(K.br64_4) ? 4 : 0;
      const form: Form = {
        code,
        kinds,
        memSize: memSizeOf(info.memorySize),
        operandSize: info.operandSize,
        far: FAR_SIZES.has(info.memorySize),
        branch,
        stringOp,
        register16: SELECTOR_32.test(codeName),
      };
      const list = byMnemonic.get(name) ?? [];
      list.push({ form, rank: rankOf(form) });
      byMnemonic.set(name, list);
    } finally {
      info.free();
    }
  }
  const result = new Map<string, Form[]>();
  for (const [name, list] of byMnemonic) {
    list.sort((a, b) => a.rank - b.rank || a.form.code - b.form.code);
    result.set(name, list.map((x) => x.form));
  }
  return result;
}

/**
 * Preference among forms that accept the same operands (NASM and llvm-mc agree on these): the `, 1` shift
 * forms, then sign-extended imm8 forms, then the rest; without a register to fix the operand size, the
 * default (32-bit, no prefix) size before 64-bit before 16-bit; then opcode order (the MR form `01 /r`
 * before RM `03 /r`, accumulator forms before ModRM forms); imm64 forms last.
 */
function rankOf(form: Form): number {
  const k = form.kinds;
  // `xchg r, eax` (90+r) is one byte shorter than 87 /r.
  const shortXchg = k.length === 2 && (k[1] === K.ax || k[1] === K.eax || k[1] === K.rax) && (k[0] === K.r16_opcode || k[0] === K.r32_opcode || k[0] === K.r64_opcode);
  const immRank = k.includes(K.imm8_const_1) || shortXchg ? 0 : k.some((x) => x === K.imm8sex16 || x === K.imm8sex32 || x === K.imm8sex64) ? 1 : k.includes(K.imm64) ? 3 : 2;
  // NASM's `jmp far [mem]` / `call far [mem]` in 64-bit code is the m16:64 form (REX.W FF /5, /3).
  const sizeRank = form.far ? (form.operandSize === 64 ? 0 : form.operandSize === 32 ? 1 : 2) : form.operandSize === 64 ? 1 : form.operandSize === 16 ? 2 : 0;
  return immRank * 10 + sizeRank;
}

/**
 * NASM mnemonics that name one operand size of another mnemonic: `retfq` is REX.W CB (`o64 retf`),
 * `retfd` CB, `retfw` 66 CB; `retn` and `retq` are the near `ret` (C3).
 */
const SIZED_ALIASES = new Map<string, [string, number]>([['retfq', ['retf', 64]], ['retfd', ['retf', 32]], ['retfw', ['retf', 16]], ['retn', ['ret', 0]], ['retq', ['ret', 0]]]);
const sized = new Map<string, { name: string; forms: readonly Form[] }>();

/** Canonical mnemonic (after NASM aliases) and its forms, or undefined for an unknown mnemonic. */
export function lookupForms(mnemonic: string): { name: string; forms: readonly Form[] } | undefined {
  table ??= build();
  const alias = SIZED_ALIASES.get(mnemonic);
  if (alias) {
    let found = sized.get(mnemonic);
    if (!found) {
      const [name, size] = alias;
      found = { name, forms: table.get(name)!.filter((f) => !size || f.operandSize === size) };
      sized.set(mnemonic, found);
    }
    return found;
  }
  const name = ALIASES.get(mnemonic) ?? mnemonic;
  const forms = table.get(name);
  return forms ? { name, forms } : undefined;
}

/** What the encoder asks about a form list (a mnemonic's, or one narrowed by an operand-size prefix). */
export interface FormsInfo {
  /** A small number naming the list (fixedEncoding.ts's template keys). */
  readonly id: number;
  /** The list has a relative branch form. */
  readonly hasBranch: boolean;
  /** Its first rel8 and rel32 branch forms (instructions.ts branchForm). */
  readonly shortBranch: Form | undefined;
  readonly nearBranch: Form | undefined;
}
const infos = new Map<readonly Form[], FormsInfo>();
let nextInfoId = 1;
const MAX_INFOS = 100_000;

/** FormsInfo of a form list, made on first use (`mov` alone has dozens of forms). */
export function formsInfo(forms: readonly Form[]): FormsInfo {
  let info = infos.get(forms);
  if (!info) {
    // Narrowed lists are made per statement: do not keep them forever (ids are never reused).
    if (infos.size >= MAX_INFOS) infos.clear();
    info = {
      id: nextInfoId++, hasBranch: forms.some((f) => f.branch !== 0),
      shortBranch: forms.find((f) => f.branch === 1), nearBranch: forms.find((f) => f.branch === 4),
    };
    infos.set(forms, info);
  }
  return info;
}

/** Every supported mnemonic (for tests, hovers and completion). */
export function allMnemonics(): string[] {
  table ??= build();
  return [...table.keys(), ...[...ALIASES].filter(([, to]) => table!.has(to)).map(([from]) => from), ...SIZED_ALIASES.keys()].sort();
}
