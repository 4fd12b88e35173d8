// Not a test: paired CPU-time comparison of two builds of the assembler in one process, for a loaded
// machine (docs/assembler.md, Performance). Each build is this file bundled from its own checkout; the
// bundle exports what it needs, and when run with two bundle paths it alternates their assemblies of
// the bench program (order flipped every pair) and prints medians of lines per CPU second and of the
// per-pair ratio:
//   npx esbuild test/asm/compareBuilds.ts --bundle --platform=node --format=cjs --outfile=/tmp/after.js
//   (the same in the other checkout, to /tmp/before.js; both need iced_x86_bg.wasm next to them)
//   node /tmp/after.js /tmp/before.js /tmp/after.js 20
import { assemble } from '../../src/asm/index';
import { generateAssemblerBenchSource } from '../../src/cli/bench/assemblerBench';

export { assemble, generateAssemblerBenchSource };

interface Build {
  assemble: typeof assemble;
}

function cpuSeconds(build: Build, source: string): number {
  const c0 = process.cpuUsage();
  const r = build.assemble(source, { fileName: 'bench.fred' });
  const c = process.cpuUsage(c0);
  if (!r.ok) throw new Error('the bench program does not assemble');
  return (c.user + c.system) / 1e6;
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[values.length >> 1];
}

if (require.main === module && process.argv.length >= 4) {
  const [before, after] = [process.argv[2], process.argv[3]].map((path) => require(path) as Build);
  const pairs = Number(process.argv[4] ?? 20);
  const source = generateAssemblerBenchSource(50_000);
  const lines = source.split('\n').length - 1;
  for (let i = 0; i < 3; i++) cpuSeconds(before, source), cpuSeconds(after, source);
  const rateBefore: number[] = [];
  const rateAfter: number[] = [];
  const ratios: number[] = [];
  for (let i = 0; i < pairs; i++) {
    const first = i % 2 ? before : after;
    const t1 = cpuSeconds(first, source);
    const t2 = cpuSeconds(first === before ? after : before, source);
    const [tb, ta] = first === before ? [t1, t2] : [t2, t1];
    rateBefore.push(lines / tb);
    rateAfter.push(lines / ta);
    ratios.push(tb / ta);
  }
  console.log(`lines/cpu-s before ${Math.round(median(rateBefore))} after ${Math.round(median(rateAfter))}; per-pair ratio median ${median(ratios).toFixed(3)} (${ratios.map((r) => r.toFixed(2)).sort().join(' ')})`);
}
