// Extension entry point. Only src/extension/ imports `vscode` (ARCHITECTURE §1).
import * as vscode from 'vscode';
import { registerDebugging } from './debugSetup';
import { LiveDiagnostics } from './diagnostics';
import { fredHoverProvider } from './hoverProvider';
import { FRED_LANGUAGE_ID } from './launchConfig';
import { registerStatusBar } from './statusBar';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('FRED Lab');
  const diagnostics = new LiveDiagnostics(output);
  context.subscriptions.push(
    output,
    diagnostics,
    vscode.languages.registerHoverProvider({ language: FRED_LANGUAGE_ID }, fredHoverProvider),
  );
  registerDebugging(context);
  registerStatusBar(context, diagnostics);
}

export function deactivate(): void {}
