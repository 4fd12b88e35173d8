// The differential corpus: one line per (mnemonic, operand form), generated from the same iced-x86 form
// table the assembler selects from, so every supported mnemonic and operand form is covered. Operand
// spellings are valid for both FRED Lab (NASM style) and llvm-mc (Intel syntax with `ptr`).
import { OpCodeOperandKind as K } from 'iced-x86';
import { allMnemonics } from '../../src/asm/index';
import { lookupForms, type Form } from '../../src/asm/forms';

const SIZE_WORD: Record<number, string> = { 1: 'byte', 2: 'word', 4: 'dword', 8: 'qword', 16: 'xmmword' };
const GPR: Record<number, string[]> = {
  1: ['cl', 'r10b', 'dl'],
  2: ['cx', 'r10w', 'dx'],
  4: ['ecx', 'r10d', 'edx'],
  8: ['rcx', 'r10', 'rdx'],
};
const MEMS = ['[rbx + 0x10]', '[r12 + rsi*4 - 0x200]', '[rbp]'];

function regKind(kind: K): number {
  switch (kind) {
    case K.r8_reg: case K.r8_opcode: return 1;
    case K.r16_reg: case K.r16_reg_mem: case K.r16_rm: case K.r16_opcode: return 2;
    case K.r32_reg: case K.r32_reg_mem: case K.r32_rm: case K.r32_opcode: return 4;
    case K.r64_reg: case K.r64_reg_mem: case K.r64_rm: case K.r64_opcode: return 8;
    default: return 0;
  }
}
const RM: Partial<Record<K, number>> = {
  [K.r8_or_mem]: 1, [K.r16_or_mem]: 2, [K.r32_or_mem]: 4, [K.r32_or_mem_mpx]: 4, [K.r64_or_mem]: 8, [K.r64_or_mem_mpx]: 8,
};
const FIXED: Partial<Record<K, string>> = {
  [K.es]: 'es', [K.cs]: 'cs', [K.ss]: 'ss', [K.ds]: 'ds', [K.fs]: 'fs', [K.gs]: 'gs',
  [K.al]: 'al', [K.cl]: 'cl', [K.ax]: 'ax', [K.dx]: 'dx', [K.eax]: 'eax', [K.rax]: 'rax',
};
const IMM: Partial<Record<K, string>> = {
  [K.imm8]: '0x12', [K.imm8_const_1]: '1', [K.imm8sex16]: '0x12', [K.imm8sex32]: '0x12', [K.imm8sex64]: '-0x12',
  [K.imm16]: '0x1234', [K.imm32]: '0x12345678', [K.imm32sex64]: '-0x12345678', [K.imm64]: '0x123456789abcdef0',
};

/** Operand texts for one kind: register and memory variants for r/m kinds. */
function operandVariants(kind: K, form: Form, index: number): string[] {
  const r = regKind(kind);
  if (r) return [GPR[r][index]];
  if (form.register16) return [GPR[2][index], `word ptr ${MEMS[index]}`];
  const rm = RM[kind];
  if (rm) {
    const size = form.memSize || rm;
    return [GPR[rm][index], `${SIZE_WORD[size] ?? ''} ptr ${MEMS[index]}`.trim()];
  }
  if (kind === K.mem) {
    return [MEMS[index]];
  }
  if (kind === K.seg_reg) return ['ss'];
  if (kind === K.cr_reg) return ['cr3'];
  if (kind === K.dr_reg) return ['dr7'];
  const fixed = FIXED[kind];
  if (fixed) return [fixed];
  const imm = IMM[kind];
  if (imm) return [imm];
  return [];
}

export interface CorpusLine {
  readonly text: string;
  readonly mnemonic: string;
}

/** Every (mnemonic, form) as instruction lines; relative branches are left to the unit tests. */
export function generateCorpus(): CorpusLine[] {
  const lines = new Map<string, CorpusLine>();
  for (const mnemonic of allMnemonics()) {
    const found = lookupForms(mnemonic);
    if (!found || found.name !== mnemonic) continue; // aliases are tested separately
    for (const form of found.forms) {
      if (form.branch || form.far) continue;
      let combos: string[][] = [[]];
      form.kinds.forEach((kind, i) => {
        const variants = operandVariants(kind, form, i);
        combos = combos.flatMap((c) => variants.map((v) => [...c, v]));
      });
      for (const ops of combos) {
        const text = ops.length ? `${mnemonic} ${ops.join(', ')}` : mnemonic;
        lines.set(text, { text, mnemonic });
      }
    }
  }
  return [...lines.values()];
}
