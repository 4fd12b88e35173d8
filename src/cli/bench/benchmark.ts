import type { Machine, StopReason } from '../../machine/machine';

// A benchmark measures one figure of ARCHITECTURE §8. Names carry their unit (`alu_mips`,
// `asm_lines_per_s`) so `fred-lab bench --json` is self-describing.
export interface BenchmarkResult {
  /** figure name with unit suffix → value */
  readonly figures: Record<string, number>;
  /** optional human-readable detail line */
  readonly detail?: string;
}

export interface Benchmark {
  readonly name: string;
  readonly description: string;
  run(): Promise<BenchmarkResult> | BenchmarkResult;
}

/** Median of a list of samples (the bench reports medians so one slow run does not decide). */
export function median(samples: readonly number[]): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Percentile p in [0, 100] by nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

/** Runs a benchmark makes and discards first: they measure V8 compiling our code (and, for a machine, its new blocks), not our code. */
export const WARM_UP_RUNS = 2;

/**
 * Rates per second of wall time and of process CPU time, medians over `runs` runs after
 * WARM_UP_RUNS untimed ones. `setUp` prepares a run outside the timed part and returns its body, which
 * returns how many events it performed. Every run, warm-up or not, gets a fresh machine from `setUp`.
 */
export function timedRates(runs: number, setUp: () => () => number): { wall: number; cpu: number } {
  for (let k = 0; k < WARM_UP_RUNS; k++) setUp()();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let k = 0; k < runs; k++) {
    const body = setUp();
    const start = performance.now();
    const cpuStart = process.cpuUsage();
    const count = body();
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpuStart);
    wall.push((count / ms) * 1000);
    cpu.push((count / (used.user + used.system)) * 1e6);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

/** Run a machine to its end in chunks, clearing the trace's records between them (a long run measures events, not memory growth). */
export function runInChunks(machine: Machine, chunk: number): StopReason {
  let stop = machine.run(chunk);
  while (stop.reason === 'instructionLimit') {
    machine.trace.clear();
    stop = machine.run(chunk);
  }
  return stop;
}
