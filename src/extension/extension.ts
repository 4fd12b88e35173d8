// Extension entry point. Only src/extension/ imports `vscode` (ARCHITECTURE §1).
import * as vscode from 'vscode';

export function activate(context: vscode.ExtensionContext): void {
  const output = vscode.window.createOutputChannel('FRED Lab');
  context.subscriptions.push(output);
}

export function deactivate(): void {}
