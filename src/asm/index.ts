// FRED Lab assembler: NASM-style Intel syntax → a flat program image, symbols, source map, listing and
// diagnostics (ARCHITECTURE §1). See docs/assembler.md for the syntax.
import { Assembler } from './assembler';
import type { Emitted } from './emitted';
import { formatListing } from './listing';
import { SourceMap } from './sourceMap';
import type { AssembleOptions, AssemblyResult } from './types';

export type { AssembleOptions, AssemblyResult, Diagnostic, ImageSection, ProgramImage, Severity } from './types';
export { SourceMap, type SourceLocation, type SourceMapEntry } from './sourceMap';
export { allMnemonics } from './forms';

export function assemble(source: string, options: AssembleOptions = {}): AssemblyResult {
  const fileName = options.fileName ?? 'input.fred';
  const out = new Assembler(source, fileName, { readFile: options.readFile, org: options.org }).run();
  // Resolved once, when the source map or the listing is first read.
  let emitted: Emitted[] | undefined;
  const resolveEmitted = (): Emitted[] => (emitted ??= out.emitted.resolve(out.rows, out.sections));
  const diagnostics = out.diagnostics.sort((a, b) => (a.file === b.file ? a.line - b.line || a.column - b.column : 0));
  return {
    diagnostics,
    ok: !diagnostics.some((d) => d.severity === 'error'),
    image: { sections: out.sections, entry: out.entry, symbols: out.symbols },
    sourceMap: new SourceMap(resolveEmitted),
    get listing() {
      return formatListing(out.rows, resolveEmitted());
    },
  };
}
