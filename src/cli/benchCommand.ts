// `fred-lab bench [--json] [--only NAME]`: performance figures (ARCHITECTURE §8), measured, never asserted in tests.
import { parseArgs, UsageError, type CliIo } from './io';
import { benchmarks } from './bench/index';

export async function benchCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, ['--only'], ['--json']);
  if (args.positional.length) throw new UsageError(`unexpected argument '${args.positional[0]}'`);
  const only = args.options.get('--only');
  const selected = only ? benchmarks.filter((b) => only.includes(b.name)) : benchmarks;
  if (only && selected.length !== only.length) {
    throw new UsageError(`unknown benchmark; known: ${benchmarks.map((b) => b.name).join(', ')}`);
  }
  const all: Record<string, number> = {};
  for (const benchmark of selected) {
    const result = await benchmark.run();
    Object.assign(all, result.figures);
    if (!args.flags.has('--json')) {
      io.out(`${benchmark.name}: ${benchmark.description}\n`);
      for (const [figure, value] of Object.entries(result.figures)) io.out(`  ${figure.padEnd(32)} ${formatFigure(value)}\n`);
      if (result.detail) io.out(`  ${result.detail}\n`);
    }
  }
  if (args.flags.has('--json')) io.out(`${JSON.stringify(all)}\n`);
  return 0;
}

function formatFigure(value: number): string {
  return value >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}
