// `fred-lab asm FILE [-o out.bin] [--listing]`: assemble a .fred file (ARCHITECTURE §6). Diagnostics are
// printed as `file:line:col: severity: message`, the form editors and CI problem matchers parse.
import { readFileSync, writeFileSync } from 'node:fs';
import { assemble, type AssemblyResult, type Diagnostic } from '../asm/index';
import { parseArgs, UsageError, type CliIo } from './io';

export async function asmCommand(argv: string[], io: CliIo): Promise<number> {
  const args = parseArgs(argv, ['-o', '--output'], ['--listing']);
  if (args.positional.length !== 1) throw new UsageError(args.positional.length ? `unexpected argument '${args.positional[1]}'` : 'asm needs a FILE to assemble');
  const file = args.positional[0];
  const outputs = [...(args.options.get('-o') ?? []), ...(args.options.get('--output') ?? [])];
  if (outputs.length > 1) throw new UsageError('-o given more than once');
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (error) {
    io.err(`fred-lab asm: cannot read '${file}': ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
    return 1;
  }
  const result = assemble(source, { fileName: file, readFile: readOrUndefined });
  for (const d of result.diagnostics) io.err(`${formatDiagnostic(d)}\n`);
  if (!result.ok) return 1;
  if (outputs.length) {
    try {
      writeFileSync(outputs[0], flatBinary(result));
    } catch (error) {
      io.err(`fred-lab asm: cannot write '${outputs[0]}': ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
      return 1;
    }
  }
  if (args.flags.has('--listing')) io.out(result.listing);
  else if (!outputs.length) io.out(`${summary(file, result)}\n`);
  return 0;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The image from its lowest section address to the last initialised byte; gaps are zero. */
export function flatBinary(result: AssemblyResult): Uint8Array {
  const withBytes = result.image.sections.filter((s) => s.bytes.length > 0);
  if (!withBytes.length) return new Uint8Array(0);
  const low = result.image.sections.filter((s) => s.size > 0).reduce((m, s) => (s.address < m ? s.address : m), withBytes[0].address);
  const high = withBytes.reduce((m, s) => (s.address + BigInt(s.bytes.length) > m ? s.address + BigInt(s.bytes.length) : m), 0n);
  const length = Number(high - low);
  if (length > 1 << 30) throw new UsageError(`the flat binary would be ${length} bytes (sections far apart); place them closer with start=`);
  const out = new Uint8Array(length);
  for (const s of withBytes) out.set(s.bytes, Number(s.address - low));
  return out;
}

function summary(file: string, result: AssemblyResult): string {
  const sections = result.image.sections.filter((s) => s.size > 0);
  const bytes = sections.reduce((n, s) => n + s.size, 0);
  const parts = sections.map((s) => `${s.name}@0x${s.address.toString(16)}+${s.size}${s.user ? ' user' : ''}`);
  return `${file}: ${bytes} bytes in ${sections.length} section${sections.length === 1 ? '' : 's'} (${parts.join(', ')}), entry 0x${result.image.entry.toString(16)}`;
}
