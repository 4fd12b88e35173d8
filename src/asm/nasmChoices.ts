// Where NASM and llvm-mc pick different encodings for the same source, FRED Lab follows NASM (the
// syntax it implements; checked against nasm 2.16.01 by test/asm/encoder.test.ts). Each rule here is
// listed in docs/assembler.md and in the differential test's exceptions table. (`[r*2]` → `[r+r]` lives
// in operands.ts, `iret` = CF, `retfq` and the m16:64 default of `jmp far [mem]` in forms.ts, and
// `int 3` stays CD 03 simply because `int` and `int3` are different iced forms.)
import { Code } from './iced';
import type { Value } from './expression';
import type { Form } from './forms';
import type { Operand, RegOperand } from './operands';
import { lookupRegister } from './registers';

const MOV_R32_IMM32 = Code.Mov_r32_imm32;
const MOV_R64_IMM64 = Code.Mov_r64_imm64;

/**
 * `mov r64, imm`: NASM (optimising, its default) encodes an unsigned 32-bit constant as `mov r32, imm32`
 * (B8+r id, zero-extends; llvm-mc uses 48 C7 C0+r id) and a label-dependent value as `mov r64, imm64`
 * (48 B8+r iq; the address is not known to fit 32 bits while optimising). Returns the replacement
 * form and operands, or undefined when the generic selection applies.
 */
export function nasmMovImmediate(mnemonic: string, forms: readonly Form[], ops: readonly Operand[], values: readonly (Value | undefined)[]): { form: Form; ops: Operand[] } | undefined {
  if (mnemonic !== 'mov' || ops.length !== 2) return undefined;
  const [dst, src] = ops;
  if (dst.t !== 'reg' || dst.info.cls !== 'gpr64' || src.t !== 'imm' || src.size) return undefined;
  const v = values[1];
  if (!v || v.unknown) return undefined;
  if (v.reloc) {
    const form = forms.find((f) => f.code === MOV_R64_IMM64);
    return form && { form, ops: [dst, src] };
  }
  if (v.value < 0n || v.value > 0xffffffffn) return undefined;
  const form = forms.find((f) => f.code === MOV_R32_IMM32);
  return form ? { form, ops: [asGpr32(dst), src] } : undefined;
}

/**
 * NASM encodes a segment-register move with a general register without operand-size prefix or REX.W
 * whatever the register's size, except `mov r16, sreg` (66 8C /r): `mov fs, ax` and `mov fs, rax` are
 * 8E E0, `mov rax, fs` is 8C E0. `sldt r64` likewise drops REX.W (0F 00 /0), while `str r64` and
 * `smsw r64` keep it. The register is replaced by its 32-bit name, whose form has no prefix.
 * Returns the operands to select with, or undefined when the generic selection applies.
 */
export function nasmRegisterSize(mnemonic: string, ops: readonly Operand[]): Operand[] | undefined {
  if (mnemonic === 'mov' && ops.length === 2) {
    const [dst, src] = ops;
    if (dst.t === 'reg' && dst.info.cls === 'seg' && src.t === 'reg' && (src.info.cls === 'gpr16' || src.info.cls === 'gpr64')) return [dst, asGpr32(src)];
    if (src.t === 'reg' && src.info.cls === 'seg' && dst.t === 'reg' && dst.info.cls === 'gpr64') return [asGpr32(dst), src];
  }
  if (mnemonic === 'sldt' && ops.length === 1 && ops[0].t === 'reg' && ops[0].info.cls === 'gpr64') return [asGpr32(ops[0])];
  return undefined;
}

/** The 32-bit register with the same number as a 16- or 64-bit one. */
function asGpr32(op: RegOperand): RegOperand {
  const base = op.info.cls === 'gpr16' ? AX : RAX;
  return { ...op, info: lookupRegister(R32_NAMES[op.info.reg - base])! };
}

const RAX = lookupRegister('rax')!.reg;
const AX = lookupRegister('ax')!.reg;
const R32_NAMES = ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'];

const ACCUMULATORS = new Set(['ax', 'eax', 'rax']);

/**
 * `xchg` is symmetric; NASM (like llvm-mc) puts the first register in ModRM.reg (`86 /r` with rm = the
 * second operand) and uses the one-byte `90+r` form when either operand is ax/eax/rax (but not for
 * `xchg eax, eax`, which would be NOP and not zero-extend). Returns operands in iced's order.
 */
export function nasmXchg(mnemonic: string, ops: readonly Operand[]): Operand[] | undefined {
  if (mnemonic !== 'xchg' || ops.length !== 2) return undefined;
  const [a, b] = ops;
  if (a.t === 'reg' && b.t === 'mem') return [b, a];
  if (a.t !== 'reg' || b.t !== 'reg') return undefined;
  const accA = ACCUMULATORS.has(regName(a));
  const accB = ACCUMULATORS.has(regName(b));
  if (accA && accB && a.info.reg === b.info.reg && regName(a) === 'eax') return [b, a];
  if (accA && !accB) return [b, a];
  if (accB) return [a, b];
  return [b, a];
}

function regName(op: Operand): string {
  return op.t === 'reg' ? REGISTER_NAMES.get(op.info.reg) ?? '' : '';
}
const REGISTER_NAMES = new Map(['ax', 'eax', 'rax'].map((n) => [lookupRegister(n)!.reg as number, n]));
