// Live diagnostics: assemble each open fred-asm document (debounced) and publish the assembler's
// diagnostics, those of %include'd files on those files. Assembling only reads files, so it also
// runs in untrusted workspaces.
import * as path from 'node:path';
import { readFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { assemble } from '../asm/index';
import type { Diagnostic as AsmDiagnostic } from '../asm/types';
import { DiagnosticLedger, diagnosticsByFile, type FileDiagnostic } from './diagnosticsModel';
import { FRED_LANGUAGE_ID } from './launchConfig';

const DEBOUNCE_MS = 250;
const SEVERITY: Record<FileDiagnostic['severity'], vscode.DiagnosticSeverity> = {
  error: vscode.DiagnosticSeverity.Error,
  warning: vscode.DiagnosticSeverity.Warning,
  info: vscode.DiagnosticSeverity.Information,
};

export interface AssemblyStatus {
  readonly uri: vscode.Uri;
  readonly diagnostics: readonly AsmDiagnostic[];
  /** Bytes of all sections, or undefined when assembly failed. */
  readonly bytes: number | undefined;
}

export class LiveDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('fred-asm');
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly ledger = new DiagnosticLedger();
  /** URI string → URI of every file that has or had diagnostics. */
  private readonly uris = new Map<string, vscode.Uri>();
  private readonly disposables: vscode.Disposable[] = [this.collection];
  private readonly statusEmitter = new vscode.EventEmitter<AssemblyStatus>();
  readonly onDidAssemble = this.statusEmitter.event;

  constructor(private readonly log: vscode.OutputChannel) {
    this.disposables.push(
      this.statusEmitter,
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, DEBOUNCE_MS)),
      vscode.workspace.onDidCloseTextDocument((d) => this.forget(d)),
    );
    for (const d of vscode.workspace.textDocuments) this.schedule(d, 0);
  }

  private schedule(document: vscode.TextDocument, delay: number): void {
    if (document.languageId !== FRED_LANGUAGE_ID) return;
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.set(key, setTimeout(() => {
      this.timers.delete(key);
      this.run(document);
    }, delay));
  }

  /** Assembles now (also used by tests and commands). */
  run(document: vscode.TextDocument): AssemblyStatus {
    const fileName = document.uri.scheme === 'file' ? document.uri.fsPath : document.uri.path;
    let diagnostics: readonly AsmDiagnostic[];
    let bytes: number | undefined;
    try {
      const result = assemble(document.getText(), { fileName, readFile: readSource });
      diagnostics = result.diagnostics;
      bytes = result.ok ? result.image.sections.reduce((n, s) => n + s.size, 0) : undefined;
    } catch (e) {
      // The assembler reports errors as diagnostics; a throw is its bug. Show it where it is seen.
      this.log.appendLine(`assembler failed on ${fileName}: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      diagnostics = [{ severity: 'error', message: `internal assembler error: ${e instanceof Error ? e.message : String(e)}`,
        file: fileName, line: 1, column: 1, endLine: 1, endColumn: 2 }];
      bytes = undefined;
    }
    this.publish(document, fileName, diagnostics);
    const status = { uri: document.uri, diagnostics, bytes };
    this.statusEmitter.fire(status);
    return status;
  }

  private publish(document: vscode.TextDocument, fileName: string, diagnostics: readonly AsmDiagnostic[]): void {
    const perFile = new Map<string, FileDiagnostic[]>();
    for (const [file, list] of diagnosticsByFile(diagnostics, fileName)) {
      const uri = file === fileName ? document.uri : vscode.Uri.file(file);
      this.uris.set(uri.toString(), uri);
      perFile.set(uri.toString(), list);
    }
    this.refresh(this.ledger.set(document.uri.toString(), perFile));
  }

  private forget(document: vscode.TextDocument): void {
    const key = document.uri.toString();
    clearTimeout(this.timers.get(key));
    this.timers.delete(key);
    this.refresh(this.ledger.remove(key));
  }

  private refresh(files: Iterable<string>): void {
    for (const key of files) {
      const uri = this.uris.get(key);
      if (uri) this.collection.set(uri, this.ledger.get(key).map(toVscode));
    }
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}

function toVscode(d: FileDiagnostic): vscode.Diagnostic {
  const range = new vscode.Range(d.startLine, d.startColumn, d.endLine, d.endColumn);
  const diagnostic = new vscode.Diagnostic(range, d.message, SEVERITY[d.severity]);
  diagnostic.source = 'fred-asm';
  return diagnostic;
}

/** %include reads the editor's unsaved text when the file is open, else the disk. */
function readSource(file: string): string | undefined {
  const normalized = path.normalize(file);
  const open = vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && path.normalize(d.uri.fsPath) === normalized);
  if (open) return open.getText();
  try {
    return readFileSync(normalized, 'utf8');
  } catch {
    return undefined;
  }
}
