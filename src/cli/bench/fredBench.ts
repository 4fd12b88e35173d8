// FRED round trips per second (ARCHITECTURE §8): `fred_int3_erets_per_s` — INT3 at CPL 0 delivered by
// FRED to entry + 256 and returned with ERETS; `fred_syscall_eretu_per_s` — SYSCALL at CPL 3 delivered
// to entry + 0 on RSP0 and returned to ring 3 with ERETU (GS swap, STAR fast path). The trace is on:
// every record is stored (compactly, materialized when read) and cleared between chunks so a long run
// measures delivery, not memory growth. The detail line also gives the rates with a trace listener
// subscribed (the debugger's case: every record becomes an object as it happens).
import { assemble } from '../../asm/index';
import { createMachine, type LoadableImage } from '../../machine/machine';
import { runInChunks, timedRates, WARM_UP_RUNS, type Benchmark } from './benchmark';

const RUNS = 5;
const ROUNDS = 1_000_000;
/** Instructions per run() call between clearing the trace's record list. */
const CHUNK = 50_000;

const SETUP = `
bits 64
org 0x100000
_start:
        mov     ecx, IA32_FRED_CONFIG
        lea     rax, [rel fred_entry]
        xor     edx, edx
        wrmsr
        mov     ecx, IA32_FRED_RSP0
        mov     eax, 0x18000
        wrmsr
        mov     rax, cr4
        bts     rax, 32
        mov     cr4, rax
        mov     rbx, ROUNDS
`;

export const INT3_ERETS = `${SETUP}
.loop:  int3
        dec     rbx
        jnz     .loop
        hlt
align 4096
fred_entry:
        hlt
align 256
fred_entry_kernel:
        erets
`;

export const SYSCALL_ERETU = `${SETUP}
        push    0x2b
        push    0x380000
        push    0x2
        push    0x33
        lea     rax, [rel user_loop]
        push    rax
        push    0
        xor     eax, eax                ; RAX = 0: "keep going" (the last SYSCALL passes 1)
        eretu
align 4096
fred_entry:
        test    eax, eax
        jnz     .stop
        eretu
.stop:  hlt
align 256
fred_entry_kernel:
        hlt
section user
user_loop:
        syscall
        dec     rbx
        jnz     user_loop
        mov     eax, 1
        syscall
`;

/** Round trips per second of wall time and of process CPU time for `source` (medians over RUNS runs). */
export function measureRoundTrips(source: string, rounds: number, listener = false): { wall: number; cpu: number } {
  const result = assemble(source.replace('ROUNDS', String(rounds)), { fileName: 'fred-bench.fred' });
  if (!result.ok) throw new Error(`FRED bench program: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  return timedRates(RUNS, () => {
    const machine = createMachine(result.image as unknown as LoadableImage, { memoryMiB: 8 });
    if (listener) machine.trace.subscribe(() => {});
    return () => {
      const stop = runInChunks(machine, CHUNK);
      if (stop.reason !== 'halted' || machine.getGpr(3) !== 0n) throw new Error(`FRED bench program stopped early: ${stop.message}`);
      return rounds;
    };
  });
}

export const fredBenchmark: Benchmark = {
  name: 'fred',
  description: 'FRED round trips: CPL0 INT3 + ERETS, CPL3 SYSCALL + ERETU (trace on)',
  run() {
    const int3 = measureRoundTrips(INT3_ERETS, ROUNDS);
    const syscall = measureRoundTrips(SYSCALL_ERETU, ROUNDS);
    const int3Listened = measureRoundTrips(INT3_ERETS, ROUNDS, true);
    const syscallListened = measureRoundTrips(SYSCALL_ERETU, ROUNDS, true);
    const rate = (n: number) => Math.round(n).toLocaleString('en-US');
    return {
      figures: { fred_int3_erets_per_s: int3.wall, fred_syscall_eretu_per_s: syscall.wall },
      detail: `median of ${RUNS} runs of ${ROUNDS.toLocaleString('en-US')} round trips each after ${WARM_UP_RUNS} warm-up runs; per second of process CPU time: ` +
        `${rate(int3.cpu)} and ${rate(syscall.cpu)} (a loaded machine lowers the wall-time figures); ` +
        `with a trace listener subscribed (wall time): ${rate(int3Listened.wall)} and ${rate(syscallListened.wall)}`,
    };
  },
};
