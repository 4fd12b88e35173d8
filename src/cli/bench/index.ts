// The registry of benchmarks, one module per area. Add a line when an area gains a figure.
import type { Benchmark } from './benchmark';
import { assemblerBenchmark } from './assemblerBench';
import { machineBenchmark } from './machineBench';
import { fredBenchmark } from './fredBench';
import { debugBenchmark } from './debugBench';
import { vmxBenchmark } from './vmxBench';

export const benchmarks: readonly Benchmark[] = [assemblerBenchmark, machineBenchmark, fredBenchmark, vmxBenchmark, debugBenchmark];
