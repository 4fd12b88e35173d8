// `fred-lab`: the headless front end (ARCHITECTURE §6). Each subcommand lives in its own module.
import { processIo, UsageError, type CliIo } from './io';

type Command = (argv: string[], io: CliIo) => Promise<number>;

const commands: Record<string, { summary: string; load: () => Promise<Command> }> = {
  asm: { summary: 'asm FILE [-o out.bin] [--listing]   assemble a .fred file', load: async () => (await import('./asmCommand')).asmCommand },
  run: { summary: 'run FILE [--json] [--trace] [--no-vmx] [--max-instructions N] [--load FILE@ADDR] [--map ADDR:SIZE] [--dump-mem ADDR:LEN] [--org ADDR] [--interrupt VECTOR@EVERY] [--vmx-config FILE] [--memory MIB]   run a program under the VMX monitor (bare metal with --no-vmx)', load: async () => (await import('./runCommand')).runCommand },
  bench: { summary: 'bench [--json] [--only NAME]       run the performance benchmarks', load: async () => (await import('./benchCommand')).benchCommand },
};

function usage(): string {
  return ['usage: fred-lab <command> [options]', '', ...Object.values(commands).map((c) => `  fred-lab ${c.summary}`), ''].join('\n');
}

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (!command) {
    io.err(`fred-lab: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  try {
    return await (await command.load())(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      // One line per problem (a policy file can have several), each with the command's prefix.
      for (const line of error.message.split('\n')) io.err(`fred-lab ${name}: ${line}\n`);
      return 2;
    }
    // A host-side bug: report it in one line, never a bare stack trace for the user to decode.
    io.err(`fred-lab ${name}: internal error: ${error instanceof Error ? error.message : String(error)}\n`);
    if (process.env.FRED_LAB_DEBUG) io.err(`${error instanceof Error ? error.stack : ''}\n`);
    return 70;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
