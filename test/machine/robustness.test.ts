// Robustness: executing random bytes from random register states never throws on the host and
// always ends in a documented stop (ARCHITECTURE §2: "never a crash of the host process"). Random
// RAM, 256 IDT gates whose handler is HLT (so an exception ends a run as 'halted' after its delivery
// instead of a triple fault), random entry points, registers, RFLAGS; a deterministic seed.
import { describe, expect, it } from 'vitest';
import { createMachine, type Machine, type StopReason } from '../../src/machine/machine';
import { Random } from './hostdiff/random';

const SEED = 0x0b0e5;
const TARGET_INSTRUCTIONS = 1_000_000;
const MACHINES = 3;
const RUN_LIMIT = 100_000;
const MEMORY_MIB = 4;

/** Stops `run()` may report (machine.ts StopReasonKind minus 'hostError', 'breakpoint', 'step'). */
const DOCUMENTED_STOPS = new Set(['halted', 'debugExit', 'shutdown', 'instructionLimit', 'unimplemented']);

// Layout (4 MiB of RAM): boot structures below 0x25000 (machine.ts), random bytes up to 0x100000,
// the stub page (LIDT; HLT), the IDT, the handler page (HLT), random bytes to the top of RAM; the
// top 512 KiB doubles as the stack region.
const RANDOM_LOW = 0x25000;
const STUB = 0x100000;
const IDT = 0x101000;
const HANDLER = 0x102000;
const RANDOM_HIGH = 0x103000;
const STACK = 0x380000;
const TOP = MEMORY_MIB << 20;

function stubPages(): Uint8Array {
  const bytes = new Uint8Array(RANDOM_HIGH - STUB);
  const view = new DataView(bytes.buffer);
  const descriptor = STUB + 0x100;
  const disp = descriptor - (STUB + 7);
  bytes.set([0x0f, 0x01, 0x1d], 0); // lidt [rip + disp32]
  view.setInt32(3, disp, true);
  bytes[7] = 0xf4; // hlt
  view.setUint16(0x100, 256 * 16 - 1, true);
  view.setUint32(0x102, IDT, true);
  for (let vector = 0; vector < 256; vector++) {
    // 64-bit interrupt gate (SDM Vol. 3A §6.14.1): offset, CS 0x10, P = 1, DPL 0, type 0xE.
    const gate = IDT - STUB + vector * 16;
    view.setUint16(gate, HANDLER & 0xffff, true);
    view.setUint16(gate + 2, 0x10, true);
    view.setUint8(gate + 5, 0x8e);
    view.setUint16(gate + 6, HANDLER >>> 16, true);
  }
  bytes[HANDLER - STUB] = 0xf4;
  return bytes;
}

function randomMachine(random: Random): Machine {
  const section = (address: number, bytes: Uint8Array) => ({ address: BigInt(address), bytes, size: bytes.length, user: false, writable: true, executable: true });
  const machine = createMachine(
    {
      sections: [section(RANDOM_LOW, random.bytes(STUB - RANDOM_LOW)), section(STUB, stubPages()), section(RANDOM_HIGH, random.bytes(TOP - RANDOM_HIGH))],
      entry: BigInt(STUB),
    },
    { memoryMiB: MEMORY_MIB },
  );
  const boot = machine.run(10);
  if (boot.reason !== 'halted') throw new Error(`robustness stub did not load the IDT: ${boot.reason}: ${boot.message}`);
  return machine;
}

/**
 * A random register state: most registers random 64-bit values, some pointing into RAM, RSP inside
 * the stack region. RSI and RDI point into RAM half of the time, so REP string instructions really
 * copy, fill and compare (their iterations count against the run's instruction limit, exec/strings.ts).
 */
function randomState(random: Random, machine: Machine, entry: number): void {
  for (let r = 0; r < 16; r++) {
    let value: bigint;
    if (r === 4) value = BigInt(STACK + random.below(TOP - STACK - 0x1000)) & ~7n;
    else if (random.chance(r === 6 || r === 7 ? 0.5 : 0.7)) value = random.u64();
    else value = BigInt(RANDOM_LOW + random.below(TOP - RANDOM_LOW));
    machine.setGpr(r, value);
  }
  // Arithmetic flags and DF at random; sometimes TF (single-step #DB) or IF.
  let rflags = BigInt(random.u32() & 0xcd5) | 0x2n;
  if (random.chance(0.05)) rflags |= 0x100n;
  if (random.chance(0.2)) rflags |= 0x200n;
  machine.setRflags(rflags);
  machine.setRip(BigInt(entry));
}

function describeRun(seed: number, machineIndex: number, run: number, entry: number, regs: bigint[], bytes: string): string {
  const gprs = regs.map((v, i) => `r${i}=0x${BigInt.asUintN(64, v).toString(16)}`).join(' ');
  return `seed ${seed}, machine ${machineIndex}, run ${run}, entry 0x${entry.toString(16)}, bytes ${bytes}, ${gprs}`;
}

describe('robustness: random code', () => {
  it(`executes at least ${TARGET_INSTRUCTIONS} instructions of random bytes with only documented stops (seed ${SEED})`, () => {
    const random = new Random(SEED);
    const stops = new Map<string, number>();
    let instructions = 0;
    let runs = 0;
    let exceptionsHandled = 0;
    let restores = 0;
    for (let index = 0; index < MACHINES; index++) {
      const machine = randomMachine(random);
      const boot = machine.snapshot();
      // A fixed set of entry points per machine: runs differ in register state, and translations of
      // the code at those entries are reused between runs.
      const entries = Array.from({ length: 128 }, () => RANDOM_HIGH + random.below(STACK - RANDOM_HIGH));
      let consecutiveShutdowns = 0;
      let run = 0;
      while (instructions < ((index + 1) * TARGET_INSTRUCTIONS) / MACHINES) {
        const entry = random.pick(entries);
        randomState(random, machine, entry);
        const regs = Array.from({ length: 16 }, (_, r) => machine.getGpr(r));
        const code = machine.tryReadMemory(BigInt(entry), 16);
        const bytes = code.ok ? Buffer.from(code.bytes).toString('hex') : '(unreadable)';
        const before = machine.icount;
        let stop: StopReason;
        try {
          stop = machine.run(RUN_LIMIT);
        } catch (error) {
          throw new Error(`host exception ${String(error)} — ${describeRun(SEED, index, run, entry, regs, bytes)}`);
        }
        if (stop.reason === 'hostError' || !DOCUMENTED_STOPS.has(stop.reason)) {
          expect.fail(`stop '${stop.reason}': ${stop.message} — ${describeRun(SEED, index, run, entry, regs, bytes)}`);
        }
        expect(stop.message, `stop '${stop.reason}' must say what happened`).not.toBe('');
        if (stop.reason === 'unimplemented') expect(stop.message).toMatch(/'[^']+'/); // names the instruction
        const retired = machine.icount - before;
        expect(retired).toBeGreaterThanOrEqual(0);
        expect(retired).toBeLessThanOrEqual(RUN_LIMIT);
        instructions += retired;
        stops.set(stop.reason, (stops.get(stop.reason) ?? 0) + 1);
        if (stop.reason === 'halted' && machine.getRip() === BigInt(HANDLER + 1)) exceptionsHandled++;
        // Random code may wreck the IDT, the page tables or the GDT: start over after repeated
        // shutdowns. (Not more often: a restore drops every translation.)
        consecutiveShutdowns = stop.reason === 'shutdown' ? consecutiveShutdowns + 1 : 0;
        if (consecutiveShutdowns >= 3) {
          machine.restore(boot);
          restores++;
          consecutiveShutdowns = 0;
        }
        run++;
        runs++;
      }
    }
    const summary = [...stops].map(([reason, n]) => `${reason} ${n}`).join(', ');
    console.log(`robustness: ${instructions} instructions in ${runs} runs on ${MACHINES} machines (${restores} snapshot restores); stops: ${summary}; ${exceptionsHandled} runs ended in the exception handler`);
    expect(instructions).toBeGreaterThanOrEqual(TARGET_INSTRUCTIONS);
    // The workload must exercise exception delivery and more than one kind of stop.
    expect(exceptionsHandled).toBeGreaterThan(0);
    expect(stops.size).toBeGreaterThan(1);
  }, 600_000);
});
