// Every snippet, expanded with its default placeholders, assembles without diagnostics: a snippet
// the assembler rejects would teach the wrong syntax.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../src/asm/index';

interface Snippet {
  readonly prefix: string | string[];
  readonly body: string | string[];
  readonly description: string;
}

const snippets = JSON.parse(readFileSync('snippets/fred-asm.json', 'utf8')) as Record<string, Snippet>;

/** VS Code snippet syntax → text: `${1:x}` → x, `$1`/`$0` → '', `\$` → `$`. */
function expand(body: string | string[]): string {
  const text = Array.isArray(body) ? body.join('\n') : body;
  return text
    .replace(/\$\{\d+:([^}]*)\}/g, '$1')
    .replace(/(?<!\\)\$\d+/g, '')
    .replace(/\\\$/g, '$');
}

/** Labels the snippets refer to but leave to the surrounding program. */
const CONTEXT = [
  'section .data',
  'align 64',
  '        times 64 db 0',
  'fred_stack_top:',
  'user_stack_top:',
  'section .text',
  'user_main:',
  '        hlt',
].join('\n');

describe('snippets/fred-asm.json', () => {
  it('is contributed for fred-asm', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    expect(pkg.contributes.snippets).toEqual([{ language: 'fred-asm', path: './snippets/fred-asm.json' }]);
  });

  it.each(Object.entries(snippets))('"%s" assembles with its defaults', (name, snippet) => {
    const body = expand(snippet.body);
    const standalone = /^\s*_start:/m.test(body);
    const needsEntry = /fred_entry\b/.test(body) && !/^fred_entry:/m.test(body);
    const source = standalone ? body : [
      'bits 64', 'section .text', '_start:', body, '        hlt',
      ...(needsEntry ? ['align 4096', 'fred_entry:', '        eretu'] : []), CONTEXT,
    ].join('\n');
    const result = assemble(source, { fileName: `${name}.fred` });
    expect(result.diagnostics.map((d) => `${d.line}:${d.column} ${d.message}`), source).toEqual([]);
  });

  it('puts the ring-0 entry of the entry stub at entry + 256', () => {
    const body = expand(snippets['FRED entry stub']!.body);
    const result = assemble(['bits 64', 'org 0x100000', '_start:', body].join('\n'), { fileName: 'stub.fred' });
    expect(result.diagnostics).toEqual([]);
    const { symbols } = result.image;
    expect(symbols.get('fred_entry_kernel')! - symbols.get('fred_entry')!).toBe(256n);
    expect(symbols.get('fred_entry')! % 4096n).toBe(0n);
  });
});
