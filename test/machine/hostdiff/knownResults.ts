// A small table of architectural results stated by the SDM, used to validate the native harness
// before anything is compared against it (and, through the same runner, the emulator).
import { Code, Encoder, Instruction, Register } from 'iced-x86';
import type { HostStatus, MachineCase } from './hostHarness';

export interface KnownCase extends MachineCase {
  text: string;
  /** Expected registers (index → value; others unchanged). */
  expectRegs: Record<number, bigint>;
  /** Expected arithmetic flags, compared under `flagMask`. */
  expectFlags: bigint;
  flagMask: bigint;
  expectStatus: HostStatus;
}

const RAX = 0, RCX = 1, RDX = 2, R15 = 15;
const CF = 0x1n, PF = 0x4n, AF = 0x10n, ZF = 0x40n, SF = 0x80n, OF = 0x800n;
const ALL = CF | PF | AF | ZF | SF | OF;
const M64 = (1n << 64n) - 1n;

function encode(ins: Instruction): Uint8Array {
  const encoder = new Encoder(64);
  encoder.encode(ins, 0n);
  const bytes = encoder.takeBuffer();
  encoder.free();
  ins.free();
  return bytes;
}

function known(
  text: string, ins: Instruction, init: Record<number, bigint>, rflags: bigint,
  expectRegs: Record<number, bigint>, expectFlags: bigint, flagMask = ALL, expectStatus: HostStatus = 'ok',
): KnownCase {
  const regs = Array.from({ length: 16 }, (_, i) => init[i] ?? BigInt(i) * 0x0101_0101_0101_0101n);
  return { text, code: encode(ins), regs, rflags, expectRegs, expectFlags, flagMask, expectStatus };
}

export function knownCases(): KnownCase[] {
  return [
    known('add rax, rcx (1 + 1)', Instruction.createRegReg(Code.Add_rm64_r64, Register.RAX, Register.RCX),
      { [RAX]: 1n, [RCX]: 1n }, ALL, { [RAX]: 2n }, 0n),
    known('sub rax, rcx (0 - 1)', Instruction.createRegReg(Code.Sub_rm64_r64, Register.RAX, Register.RCX),
      { [RAX]: 0n, [RCX]: 1n }, 0n, { [RAX]: M64 }, CF | PF | AF | SF),
    known('xor r15d, r15d clears bits 63:32', Instruction.createRegReg(Code.Xor_rm32_r32, Register.R15D, Register.R15D),
      { [R15]: M64 }, CF | OF, { [R15]: 0n }, ZF | PF, ALL & ~AF),
    known('inc eax (0x7fffffff) keeps CF', Instruction.createReg(Code.Inc_rm32, Register.EAX),
      { [RAX]: 0xffff_ffff_7fff_ffffn }, CF, { [RAX]: 0x8000_0000n }, OF | SF | AF | PF | CF),
    known('shl al, 1 (0x80)', Instruction.createRegI32(Code.Shl_rm8_1, Register.AL, 1),
      { [RAX]: 0x1280n }, 0n, { [RAX]: 0x1200n }, CF | OF | ZF | PF, ALL & ~AF),
    known('mul rcx (2^63 · 2)', Instruction.createReg(Code.Mul_rm64, Register.RCX),
      { [RAX]: 1n << 63n, [RCX]: 2n }, 0n, { [RAX]: 0n, [RDX]: 1n }, CF | OF, CF | OF),
    known('div rcx by zero raises #DE', Instruction.createReg(Code.Div_rm64, Register.RCX),
      { [RAX]: 5n, [RCX]: 0n, [RDX]: 0n }, 0n, {}, 0n, 0n, 'DE'),
    known('bsr eax, ecx (0x80000000)', Instruction.createRegReg(Code.Bsr_r32_rm32, Register.EAX, Register.ECX),
      { [RCX]: 0x8000_0000n }, 0n, { [RAX]: 31n }, 0n, ZF),
    known('setb al (CF = 1)', Instruction.createReg(Code.Setb_rm8, Register.AL),
      { [RAX]: 0xffff_ff00n }, CF, { [RAX]: 0xffff_ff01n }, CF),
    known('cmove eax, ecx not taken still zero-extends', Instruction.createRegReg(Code.Cmove_r32_rm32, Register.EAX, Register.ECX),
      { [RAX]: M64 }, 0n, { [RAX]: 0xffff_ffffn }, 0n),
    known('popcnt rax, rcx (-1)', Instruction.createRegReg(Code.Popcnt_r64_rm64, Register.RAX, Register.RCX),
      { [RCX]: M64 }, ALL, { [RAX]: 64n }, 0n),
    known('lzcnt eax, ecx (0)', Instruction.createRegReg(Code.Lzcnt_r32_rm32, Register.EAX, Register.ECX),
      { [RCX]: 0n }, 0n, { [RAX]: 32n }, CF, CF | ZF),
    known('rcr ax, cl (CL = 17: full rotation through CF)', Instruction.createRegReg(Code.Rcr_rm16_CL, Register.AX, Register.CL),
      { [RAX]: 0x1234n, [RCX]: 17n }, CF, { [RAX]: 0x1234n }, CF, CF),
  ];
}
