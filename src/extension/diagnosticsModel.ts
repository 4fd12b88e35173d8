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
