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
