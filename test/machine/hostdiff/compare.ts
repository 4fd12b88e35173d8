// Compares an emulator result with the host's under the case's undefined-flag and undefined-register
// masks, and describes mismatches in words a person can act on.
import { Decoder, DecoderOptions, Formatter, FormatterSyntax } from 'iced-x86';
import type { AluCase } from './aluCases';
import { ARITHMETIC_FLAGS, type CaseResult } from './hostHarness';

const GPR = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'];
const FLAG_NAMES: Array<[bigint, string]> = [[0x1n, 'CF'], [0x4n, 'PF'], [0x10n, 'AF'], [0x40n, 'ZF'], [0x80n, 'SF'], [0x800n, 'OF']];
const hex = (v: bigint): string => `0x${v.toString(16)}`;
const flagText = (v: bigint): string => FLAG_NAMES.filter(([bit]) => (v & bit) !== 0n).map(([, n]) => n).join('|') || '-';

/** What differs between host (expected) and emulator (actual), or undefined when they agree. */
export function difference(c: AluCase, host: CaseResult, emu: CaseResult & { detail?: string }): string | undefined {
  if (host.status !== emu.status) {
    return `host ${host.status}, emulator ${emu.status}${emu.detail ? ` (${emu.detail})` : ''}`;
  }
  if (host.status !== 'ok') return undefined;
  const parts: string[] = [];
  for (let r = 0; r < 16; r++) {
    if (r === 4 || r === c.undefinedRegister) continue;
    if (host.regs[r] !== emu.regs[r]) parts.push(`${GPR[r]}: host ${hex(host.regs[r]!)}, emulator ${hex(emu.regs[r]!)}`);
  }
  const compared = ARITHMETIC_FLAGS & ~c.undefinedFlags;
  const diff = (host.rflags ^ emu.rflags) & compared;
  if (diff !== 0n) {
    parts.push(`flags ${flagText(diff)}: host ${flagText(host.rflags & compared)}, emulator ${flagText(emu.rflags & compared)} (compared ${flagText(compared)})`);
  }
  return parts.length ? parts.join('; ') : undefined;
}

/** `add eax, ecx [01 c8]` */
export function disassemble(code: Uint8Array): string {
  const decoder = new Decoder(64, code, DecoderOptions.None);
  const formatter = new Formatter(FormatterSyntax.Intel);
  const ins = decoder.decode();
  const text = formatter.format(ins);
  ins.free();
  decoder.free();
  formatter.free();
  return `${text} [${Buffer.from(code).toString('hex')}]`;
}

/** One line per input register that is not RSP, then the flags. */
export function describeInput(c: AluCase): string {
  const regs = c.regs.map((v, r) => `${GPR[r]}=${hex(v)}`).filter((_, r) => r !== 4).join(' ');
  return `${regs} flags=${flagText(c.rflags)}`;
}
