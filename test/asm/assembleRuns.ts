// Not a test: assembles the bench program (src/cli/bench/assemblerBench.ts) `warm` times unmeasured,
// then `runs` times, printing lines per CPU second of each run — for instruction counts and CPU-time
// rounds that compare two builds (docs/assembler.md, Performance):
//   npx esbuild test/asm/assembleRuns.ts --bundle --platform=node --outfile=/tmp/runs.js
//   (and node_modules/iced-x86/iced_x86_bg.wasm copied to /tmp, where the bundle loads it from)
//   valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out node --single-threaded /tmp/runs.js 4 2 --zero
// With --zero the callgrind counters are zeroed (callgrind_control -z) after the warm-up runs, so the
// `summary:` line of /tmp/cg.out counts only the measured runs (not start-up, source generation, JIT warm-up).
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { assemble } from '../../src/asm/index';
import { generateAssemblerBenchSource } from '../../src/cli/bench/assemblerBench';

const [warm, runs] = [Number(process.argv[2] ?? 2), Number(process.argv[3] ?? 7)];
const source = generateAssemblerBenchSource(50_000);
const lines = source.split('\n').length - 1;
for (let i = 0; i < warm; i++) assemble(source, { fileName: 'bench.fred' });
if (process.argv.includes('--zero')) zeroCallgrindCounters();
const rates: number[] = [];
for (let i = 0; i < runs; i++) {
  const c0 = process.cpuUsage();
  const r = assemble(source, { fileName: 'bench.fred' });
  const cpu = process.cpuUsage(c0);
  if (!r.ok) throw new Error('the bench program does not assemble');
  rates.push(Math.round(lines / ((cpu.user + cpu.system) / 1e6)));
}
const sorted = [...rates].sort((a, b) => a - b);
console.log(`lines/cpu-s ${rates.join(' ')}  median ${sorted[sorted.length >> 1]}`);

/** Asks callgrind to zero its counters and waits (blocked, executing nothing) until it has. */
function zeroCallgrindCounters(): void {
  const done = `/tmp/assembleRuns-${process.pid}.zeroed`;
  rmSync(done, { force: true });
  spawn('sh', ['-c', `callgrind_control -z ${process.pid} >/dev/null && touch ${done}`], { stdio: 'ignore' });
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  while (!existsSync(done)) Atomics.wait(sleeper, 0, 0, 20);
  rmSync(done, { force: true });
}
