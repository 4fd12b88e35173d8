// The program a session runs: the .fred source assembled (with %include files read from disk), its
// source map and labels. Assembler errors are reported as `file:line:col: message`, every one of them.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { assemble, type AssemblyResult, type Diagnostic } from '../asm/index';

export interface LoadedProgram {
  path: string;
  result: AssemblyResult;
  /** Labels sorted by address (frame names, disassembly symbols). */
  labels: { name: string; address: bigint }[];
  /** [lowest, highest) address of the image's sections. */
  extent: [bigint, bigint];
}

export type LoadOutcome = { ok: true; program: LoadedProgram; warnings: string[] } | { ok: false; errors: string[] };

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity}: ${d.message}`;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

export function loadProgram(programPath: string): LoadOutcome {
  const path = resolve(programPath);
  if (!/\.fred$/i.test(path)) return { ok: false, errors: [`${path}: the debugger runs .fred source files (flat binaries run with \`fred-lab run --org\`)`] };
  let source: string;
  try {
    source = readFileSync(path, 'utf8');
  } catch (error) {
    return { ok: false, errors: [`${path}: cannot read the program (${(error as NodeJS.ErrnoException).code ?? String(error)})`] };
  }
  const result = assemble(source, { fileName: path, readFile: readText });
  if (!result.ok) return { ok: false, errors: result.diagnostics.filter((d) => d.severity === 'error').map(formatDiagnostic) };
  const labels = [...result.image.symbols].map(([name, address]) => ({ name, address })).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
  let lo = -1n;
  let hi = 0n;
  for (const s of result.image.sections) {
    if (lo < 0n || s.address < lo) lo = s.address;
    const end = s.address + BigInt(Math.max(s.size, s.bytes.length));
    if (end > hi) hi = end;
  }
  return { ok: true, program: { path, result, labels, extent: [lo < 0n ? 0n : lo, hi] }, warnings: result.diagnostics.filter((d) => d.severity !== 'error').map(formatDiagnostic) };
}

/** `print+0x5`, `_start`, or undefined outside the program's sections. */
export function symbolize(program: LoadedProgram, address: bigint): string | undefined {
  if (address < program.extent[0] || address >= program.extent[1]) return undefined;
  const labels = program.labels;
  let lo = 0;
  let hi = labels.length - 1;
  let best = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (labels[mid].address <= address) {
      best = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (best < 0) return undefined;
  // Prefer the last label at that address that is not a local (.name) one.
  const at = labels[best];
  const offset = address - at.address;
  return offset === 0n ? at.name : `${at.name}+0x${offset.toString(16)}`;
}
