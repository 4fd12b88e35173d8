// FRED Lab assembler: NASM-style Intel syntax → a flat program image, symbols, source map, listing and
// diagnostics (ARCHITECTURE §1). See docs/assembler.md for the syntax.
import { Assembler } from './assembler';
import { formatListing } from './listing';
import { SourceMap } from './sourceMap';
import type { AssembleOptions, AssemblyResult } from './types';

export type { AssembleOptions, AssemblyResult, Diagnostic, ImageSection, ProgramImage, Severity } from './types';
export { SourceMap, type SourceLocation, type SourceMapEntry } from './sourceMap';
export { allMnemonics } from './forms';

export function assemble(source: string, options: AssembleOptions = {}): AssemblyResult {
  const fileName = options.fileName ?? 'input.fred';
  const out = new Assembler(source, fileName, { readFile: options.readFile, org: options.org }).run();
  const diagnostics = out.diagnostics.sort((a, b) => (a.file === b.file ? a.line - b.line || a.column - b.column : 0));
  return {
    diagnostics,
    ok: !diagnostics.some((d) => d.severity === 'error'),
    image: { sections: out.sections, entry: out.entry, symbols: out.symbols },
    sourceMap: new SourceMap(out.emitted),
    get listing() {
      return formatListing(out.rows, out.emitted);
    },
  };
}
