// Turns the assembler's diagnostics (1-based lines/columns, end exclusive, one `file` each) into
// per-file lists with 0-based ranges, the shape VS Code's DiagnosticCollection takes. No `vscode`
// import: unit-tested.
import type { Diagnostic as AsmDiagnostic, Severity } from '../asm/types';

export interface FileDiagnostic {
  readonly severity: Severity;
  readonly message: string;
  /** 0-based, end exclusive. */
  readonly startLine: number;
  readonly startColumn: number;
  readonly endLine: number;
  readonly endColumn: number;
}

/**
 * Groups by file. `rootFile` always has an entry (possibly empty) so a fixed error disappears; an
 * empty or degenerate range is widened to one character so the squiggle is visible.
 */
export function diagnosticsByFile(diagnostics: readonly AsmDiagnostic[], rootFile: string): Map<string, FileDiagnostic[]> {
  const out = new Map<string, FileDiagnostic[]>([[rootFile, []]]);
  for (const d of diagnostics) {
    const file = d.file || rootFile;
    const startLine = Math.max(0, d.line - 1);
    const startColumn = Math.max(0, d.column - 1);
    let endLine = Math.max(startLine, d.endLine - 1);
    let endColumn = Math.max(0, d.endColumn - 1);
    if (endLine === startLine && endColumn <= startColumn) (endLine = startLine), (endColumn = startColumn + 1);
    const list = out.get(file) ?? [];
    list.push({ severity: d.severity, message: d.message, startLine, startColumn, endLine, endColumn });
    out.set(file, list);
  }
  return out;
}

/** "2 errors, 1 warning" / "no problems" for the status bar. */
export function problemSummary(diagnostics: readonly AsmDiagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === 'error').length;
  const warnings = diagnostics.filter((d) => d.severity === 'warning').length;
  const parts = [];
  if (errors) parts.push(`${errors} error${errors === 1 ? '' : 's'}`);
  if (warnings) parts.push(`${warnings} warning${warnings === 1 ? '' : 's'}`);
  return parts.length ? parts.join(', ') : 'no problems';
}

/**
 * Which diagnostics each file shows when several open documents report on it (a file %include'd by
 * two programs, or open itself): the union of what every root document reported, without
 * duplicates. Keys are opaque file keys (the extension uses URI strings).
 */
export class DiagnosticLedger {
  private readonly byRoot = new Map<string, Map<string, FileDiagnostic[]>>();

  /** Replaces what `root` reports; returns every file whose list may have changed. */
  set(root: string, perFile: ReadonlyMap<string, FileDiagnostic[]>): Set<string> {
    const affected = new Set([...(this.byRoot.get(root)?.keys() ?? []), ...perFile.keys()]);
    this.byRoot.set(root, new Map(perFile));
    return affected;
  }

  /** Forgets `root` (its document closed); returns the files it had reported on. */
  remove(root: string): Set<string> {
    const affected = new Set(this.byRoot.get(root)?.keys() ?? []);
    this.byRoot.delete(root);
    return affected;
  }

  /** What `file` shows now. */
  get(file: string): FileDiagnostic[] {
    const seen = new Set<string>();
    const out: FileDiagnostic[] = [];
    for (const perFile of this.byRoot.values()) {
      for (const d of perFile.get(file) ?? []) {
        const key = JSON.stringify(d);
        if (!seen.has(key)) seen.add(key), out.push(d);
      }
    }
    return out;
  }
}
