// The documented results in an example's header comment, read the same way for every example folder:
//   ; Run:  fred-lab run examples/vmx/x.fred [options]   (consecutive Run lines share what follows)
//   ; => a line of COM1 output                            (in order; `; =>` alone is an empty line)
//   ; stop: REASON                                        (optional: the stop reason; default debugExit)
//   ; exit code: N                                        (the exit status of `fred-lab run`)
import { main } from '../../src/cli/main';

export interface DocumentedRun {
  /** The arguments after `fred-lab run`. */
  readonly args: readonly string[];
  readonly output: string;
  readonly stop: string;
  readonly exitCode: number;
}

export function documentedRuns(source: string): DocumentedRun[] {
  const runs: DocumentedRun[] = [];
  let commands: string[][] = [];
  let output = '';
  let stop = 'debugExit';
  const flush = (exitCode: number): void => {
    if (!commands.length) throw new Error('"; exit code:" without a "; Run:" line before it');
    for (const args of commands) runs.push({ args, output, stop, exitCode });
    commands = [];
    output = '';
    stop = 'debugExit';
  };
  for (const line of source.split('\n')) {
    const run = /^; Run:\s+fred-lab run\s+(.*)$/.exec(line);
    if (run) commands.push(run[1].trim().split(/\s+/));
    else if (line === '; =>' || line.startsWith('; => ')) output += `${line.slice(5)}\n`;
    else if (line.startsWith('; stop:')) stop = line.slice('; stop:'.length).trim();
    else if (line.startsWith('; exit code:')) flush(Number(line.slice('; exit code:'.length)));
  }
  if (commands.length) throw new Error('a "; Run:" line without "; exit code:" after it');
  if (!runs.length) throw new Error('the header documents no "; Run:" line');
  return runs;
}

/** `fred-lab run ARGS --json`: the exit status and the parsed JSON document. */
export async function runJson(args: readonly string[]): Promise<{ code: number; doc: JsonRun; err: string }> {
  let out = '', err = '';
  const code = await main(['run', ...args, '--json'], { out: (t) => (out += t), err: (t) => (err += t) });
  if (!out) throw new Error(`fred-lab run ${args.join(' ')} printed no JSON (status ${code}): ${err}`);
  return { code, doc: JSON.parse(out) as JsonRun, err };
}

/** The parts of the `--json` document the example tests read. */
export interface JsonRun {
  stop: { reason: string; message: string; exitCode?: number };
  output: string;
  trace: ({ kind: string } & Record<string, unknown>)[];
  vmx: null | { exitCount: number; policy: Record<string, unknown>; vmcs: Record<string, Record<string, string>> };
  registers: Record<string, string>;
}
