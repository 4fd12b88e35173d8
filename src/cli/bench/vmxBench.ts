// VM exits per second (ARCHITECTURE §8, issue 5: target ≥ 1 M, a hardware KVM round trip is ~1 µs):
// a guest looping on CPUID under the monitor with KVM's default policy. CPUID always exits in VMX
// non-root operation, so every iteration is one full round trip: VM exit (guest state saved, exit
// information recorded, `vmexit` record), the monitor's CPUID handler (RIP advanced), VM entry (the
// checks, guest state loaded, `vmentry` record). The trace is on; its record list is cleared between
// chunks so a long run measures exits, not memory growth. EPT is eager so no EPT violation is counted.
import { assemble } from '../../asm/index';
import { createMachine, type LoadableImage } from '../../machine/machine';
import { DEFAULT_VMX_POLICY } from '../../machine/vmx/policy';
import { runInChunks, timedRates, WARM_UP_RUNS, type Benchmark } from './benchmark';

const RUNS = 5;
const ROUNDS = 200_000;
/** Instructions per run() call between clearing the trace's record list. */
const CHUNK = 30_000;

export const CPUID_LOOP = `
bits 64
org 0x100000
_start:
        mov     r12, ROUNDS                 ; not RBX: CPUID writes EAX, EBX, ECX, EDX
.loop:  xor     eax, eax
        cpuid                           ; a VM exit (basic reason 10) every iteration
        dec     r12
        jnz     .loop
        hlt
`;

/** VM exits per second of wall time and of process CPU time (medians over RUNS runs after the warm-up runs). */
export function measureExits(rounds: number): { wall: number; cpu: number } {
  const result = assemble(CPUID_LOOP.replace('ROUNDS', String(rounds)), { fileName: 'vmx-bench.fred' });
  if (!result.ok) throw new Error(`VMX bench program: ${result.diagnostics.map((d) => d.message).join('; ')}`);
  return timedRates(RUNS, () => {
    const machine = createMachine(result.image as unknown as LoadableImage, { memoryMiB: 8, vmx: { ...DEFAULT_VMX_POLICY, ept: 'eager' } });
    const monitor = machine.vmx;
    if (!monitor) throw new Error('VMX bench: the machine did not start under the monitor');
    machine.trace.subscribe(() => {});
    return () => {
      const exitsBefore = monitor.exitCount;
      const stop = runInChunks(machine, CHUNK);
      const exits = monitor.exitCount - exitsBefore;
      if (stop.reason !== 'halted' || exits < rounds) throw new Error(`VMX bench program stopped early after ${exits} exits: ${stop.message}`);
      return exits;
    };
  });
}

export const vmxBenchmark: Benchmark = {
  name: 'vmx',
  description: 'VM exits: a CPUID loop under the monitor (KVM policy, eager EPT, trace on)',
  run() {
    const r = measureExits(ROUNDS);
    return {
      figures: { vm_exits_per_s: r.wall },
      detail: `median of ${RUNS} runs of ${ROUNDS.toLocaleString('en-US')} CPUID exits each after ${WARM_UP_RUNS} warm-up runs (target ≥ 1,000,000); ` +
        `per second of process CPU time: ${Math.round(r.cpu).toLocaleString('en-US')} (a loaded machine lowers the wall-time figure)`,
    };
  },
};
