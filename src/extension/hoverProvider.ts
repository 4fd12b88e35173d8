// Hovers for fred-asm documents; the texts come from hoverDocs.ts.
import * as vscode from 'vscode';
import { hoverMarkdown } from './hoverDocs';

export const fredHoverProvider: vscode.HoverProvider = {
  provideHover(document, position) {
    const hover = hoverMarkdown(document.lineAt(position.line).text, position.character);
    if (!hover) return undefined;
    const range = new vscode.Range(position.line, hover.word.start, position.line, hover.word.end);
    return new vscode.Hover(new vscode.MarkdownString(hover.markdown), range);
  },
};
