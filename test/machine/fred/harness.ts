// Shared helpers for the FRED tests: assemble a .fred program once, boot machines from it, read FRED
// frames back with the src/arch decoders, and the usual FRED set-up written as assembly.
import { assemble } from '../../../src/asm/index';
import { decodeFredCsWord, decodeFredSsWord, type FredCsWord, type FredSsWord } from '../../../src/arch/index';
import { createMachine, type Machine, type MachineOptions, type StopReason } from '../../../src/machine/machine';
import { CS, GS, SS } from '../../../src/machine/cpu/state';
import type { ProgramImage } from '../../../src/asm/types';

export interface Program {
  image: ProgramImage;
  symbol(name: string): bigint;
}

/** Assemble or fail the test with the assembler's diagnostics. */
export function program(source: string): Program {
  const r = assemble(source, { fileName: 'test.fred' });
  if (!r.ok) throw new Error(`assembly failed:\n${r.diagnostics.map((d) => `${JSON.stringify(d)}`).join('\n')}`);
  return {
    image: r.image,
    symbol(name: string): bigint {
      const v = r.image.symbols.get(name);
      if (v === undefined) throw new Error(`no symbol ${name}`);
      return v;
    },
  };
}

export function boot(p: Program, options: MachineOptions = {}): Machine {
  return createMachine(p.image as never, { memoryMiB: 4, maxInstructions: 100_000, ...options });
}

export function u64(m: Machine, address: bigint): bigint {
  const b = m.readMemory(address, 8);
  let v = 0n;
  for (let k = 7; k >= 0; k--) v = (v << 8n) | BigInt(b[k]);
  return v;
}

export function writeU64(m: Machine, address: bigint, value: bigint): void {
  const b = new Uint8Array(8);
  for (let k = 0; k < 8; k++) b[k] = Number((BigInt.asUintN(64, value) >> BigInt(8 * k)) & 0xffn);
  m.writeMemory(address, b);
}

export interface Frame {
  errorCode: bigint;
  rip: bigint;
  csWord: bigint;
  rflags: bigint;
  rsp: bigint;
  ssWord: bigint;
  eventData: bigint;
  reserved: bigint;
  cs: FredCsWord;
  ss: FredSsWord;
}

/** The 64-byte frame at `address` (the RSP after delivery). */
export function frameAt(m: Machine, address: bigint): Frame {
  const q = (k: number) => u64(m, address + BigInt(8 * k));
  const f = { errorCode: q(0), rip: q(1), csWord: q(2), rflags: q(3), rsp: q(4), ssWord: q(5), eventData: q(6), reserved: q(7) };
  return { ...f, cs: decodeFredCsWord(f.csWord), ss: decodeFredSsWord(f.ssWord) };
}

export function rsp(m: Machine): bigint {
  return BigInt.asUintN(64, m.getGpr(4));
}

export function config(m: Machine): bigint {
  return m.readMsr(0x1d4) ?? 0n;
}

export function csl(m: Machine): number {
  return Number(config(m) & 3n);
}

export function selectors(m: Machine): { cs: number; ss: number } {
  return { cs: m.getSegment(CS).sel, ss: m.getSegment(SS).sel };
}

export function gsBase(m: Machine): bigint {
  return BigInt.asUintN(64, BigInt(m.getSegment(GS).base));
}

export function expectStop(stop: StopReason, reason: StopReason['reason']): void {
  if (stop.reason !== reason) throw new Error(`expected stop '${reason}', got '${stop.reason}': ${stop.message}`);
}

/** `wrmsr` of a 64-bit constant expression. */
export function wrmsr(msr: string, value: string): string {
  return `
        mov     ecx, ${msr}
        mov     rax, ${value}
        mov     rdx, rax
        shr     rdx, 32
        wrmsr`;
}

/** Set CR4.FRED (the program's job, boot contract). */
export const ENABLE_FRED = `
        mov     rax, cr4
        mov     rdx, CR4_FRED
        or      rax, rdx
        mov     cr4, rax`;

/** Stack tops used by the tests (64-byte aligned, inside the 4 MiB of RAM the tests boot with). */
export const STACKS = { rsp0: 0x300000n, rsp1: 0x310000n, rsp2: 0x320000n, rsp3: 0x330000n, user: 0x380000n } as const;

export interface FredProgramParts {
  /** Extra IA32_FRED_CONFIG bits (red zone, interrupt SL, CSL) ORed into the entry point. */
  config?: string;
  stklvls?: string;
  /** Code run before CR4.FRED is set (after the MSRs). */
  setup?: string;
  /** Code run with FRED enabled at CPL 0; falls through to `done: hlt`. */
  body: string;
  /** Handler for events from ring 3 (entry + 0) and from ring 0 (entry + 256); default `hlt`. */
  userHandler?: string;
  kernelHandler?: string;
  /** Code in `section user` at label `user_code`. */
  user?: string;
  /** Extra data (labels allowed). */
  data?: string;
}

/** Go to ring 3 at `user_code` with ERETU (RFLAGS as given, user stack STACKS.user). */
export function toUser(rflags = '0x2', cs = '0x33', ss = '0x2b', rip = 'user_code'): string {
  return `
        mov     rax, ${ss}
        push    rax
        mov     rax, ${STACKS.user}
        push    rax
        push    ${rflags}
        push    ${cs}
        lea     rax, [rel ${rip}]
        push    rax
        push    0
        eretu`;
}

/** The usual test program: FRED MSRs, CR4.FRED, a body, entry points, a user section. */
export function fredSource(p: FredProgramParts): string {
  return `
bits 64
org 0x100000
_start:
${wrmsr('IA32_FRED_CONFIG', `fred_entry | ${p.config ?? '0'}`)}
${wrmsr('IA32_FRED_RSP0', String(STACKS.rsp0))}
${wrmsr('IA32_FRED_RSP1', String(STACKS.rsp1))}
${wrmsr('IA32_FRED_RSP2', String(STACKS.rsp2))}
${wrmsr('IA32_FRED_RSP3', String(STACKS.rsp3))}
${wrmsr('IA32_FRED_STKLVLS', p.stklvls ?? '0')}
${p.setup ?? ''}
${ENABLE_FRED}
${p.body}
done:
        hlt
        jmp     done

align 4096
fred_entry:
${p.userHandler ?? '        hlt'}
align 256
fred_entry_kernel:
${p.kernelHandler ?? '        hlt'}

section .data
${p.data ?? 'dummy: dq 0'}

section user
user_code:
${p.user ?? '        hlt'}
`;
}
