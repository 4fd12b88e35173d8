// Status bar item while a fred-asm file is active: the assembly result of that file, click = debug it.
import * as vscode from 'vscode';
import type { AssemblyStatus, LiveDiagnostics } from './diagnostics';
import { problemSummary } from './diagnosticsModel';
import { FRED_LANGUAGE_ID } from './launchConfig';

export function registerStatusBar(context: vscode.ExtensionContext, diagnostics: LiveDiagnostics): void {
  const item = vscode.window.createStatusBarItem('fredLab.status', vscode.StatusBarAlignment.Left, 10);
  item.name = 'FRED Lab';
  item.command = 'fredLab.debugFile';
  const last = new Map<string, AssemblyStatus>();

  const update = () => {
    const document = vscode.window.activeTextEditor?.document;
    if (!document || document.languageId !== FRED_LANGUAGE_ID) {
      item.hide();
      return;
    }
    const status = last.get(document.uri.toString());
    if (!status) {
      item.text = '$(chip) FRED Lab';
    } else if (status.bytes === undefined) {
      item.text = `$(error) FRED Lab: ${problemSummary(status.diagnostics)}`;
    } else {
      item.text = `$(chip) FRED Lab: ${status.bytes} bytes`;
    }
    item.tooltip = 'FRED Lab: debug this file (F5)';
    item.show();
  };

  context.subscriptions.push(
    item,
    diagnostics.onDidAssemble((status) => {
      last.set(status.uri.toString(), status);
      update();
    }),
    vscode.window.onDidChangeActiveTextEditor(update),
    vscode.workspace.onDidCloseTextDocument((d) => last.delete(d.uri.toString())),
  );
  update();
}
