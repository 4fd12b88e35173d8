// The CLI's view of the outside world, so commands can be tested without spawning a process.
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

/** A command-line usage mistake: printed as `fred-lab: <message>` with exit status 2. */
export class UsageError extends Error {}

/** Splits `--name value` / `--name=value` options from positional arguments. */
export interface ParsedArgs {
  positional: string[];
  options: Map<string, string[]>;
  flags: Set<string>;
}

export function parseArgs(argv: readonly string[], valueOptions: readonly string[], flagOptions: readonly string[]): ParsedArgs {
  const parsed: ParsedArgs = { positional: [], options: new Map(), flags: new Set() };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('-') || arg === '-') {
      parsed.positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(0, eq) : arg;
    if (flagOptions.includes(name)) {
      if (eq >= 0) throw new UsageError(`option ${name} takes no value`);
      parsed.flags.add(name);
    } else if (valueOptions.includes(name)) {
      let value: string | undefined;
      if (eq >= 0) value = arg.slice(eq + 1);
      else value = argv[++i];
      if (value === undefined) throw new UsageError(`option ${name} needs a value`);
      const list = parsed.options.get(name) ?? [];
      list.push(value);
      parsed.options.set(name, list);
    } else {
      throw new UsageError(`unknown option ${name}`);
    }
  }
  return parsed;
}
