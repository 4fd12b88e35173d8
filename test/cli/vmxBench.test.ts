// The VM-exit benchmark's program and counting (src/cli/bench/vmxBench.ts). Timing is never asserted:
// this checks that the bench measures what it says (one CPUID exit per iteration, a finite rate).
import { describe, expect, test } from 'vitest';
import { measureExits } from '../../src/cli/bench/vmxBench';
import { benchmarks } from '../../src/cli/bench/index';

describe('vmx bench', () => {
  test('is registered and counts the CPUID exits of a short loop', () => {
    expect(benchmarks.map((b) => b.name)).toContain('vmx');
    const r = measureExits(2000);
    for (const v of [r.wall, r.cpu]) {
      expect(Number.isFinite(v)).toBe(true);
      expect(v).toBeGreaterThan(0);
    }
  });
});
