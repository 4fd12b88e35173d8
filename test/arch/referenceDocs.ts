// Helpers to read the shared reference notes (/work/shared/reference) in tests: section extraction
// and Markdown table parsing. The tests pin our tables against these numbers.
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const REFERENCE_DIR = path.resolve(__dirname, '../../../shared/reference');

export function readReference(file: string): string {
  return readFileSync(path.join(REFERENCE_DIR, file), 'utf8');
}

/** Text of the section whose heading starts with `### <number>` (or `## <number>`), up to the next heading. */
export function section(doc: string, number: string): string {
  const lines = doc.split('\n');
  const start = lines.findIndex((l) => new RegExp(`^#{2,3} ${number.replace('.', '\\.')}[ .]`).test(l));
  if (start < 0) throw new Error(`section ${number} not found`);
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((l) => /^#{2,3} /.test(l));
  return (end < 0 ? rest : rest.slice(0, end)).join('\n');
}

/** Data rows of every Markdown table in `text` (header and separator rows removed), as trimmed cells. */
export function tableRows(text: string): string[][] {
  const rows: string[][] = [];
  let inTable = false;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) { inTable = false; continue; }
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    if (!inTable) { inTable = true; continue; } // header
    if (cells.every((c) => /^:?-+:?$/.test(c))) continue;
    rows.push(cells);
  }
  return rows;
}

/** Expand an encoding list: `800/802`, `80C / 80E`, `4800..480A (step 2)`, `2044 (high 2045)`. */
export function expandEncodings(spec: string): number[] {
  const s = spec.replace(/\(.*?\)/g, '').trim();
  const range = /^([0-9A-Fa-f]+)\s*\.\.\s*([0-9A-Fa-f]+)$/.exec(s);
  if (range) {
    const out: number[] = [];
    for (let e = parseInt(range[1]!, 16); e <= parseInt(range[2]!, 16); e += 2) out.push(e);
    return out;
  }
  return s.split('/').map((x) => x.trim()).filter((x) => x !== '').map((x) => {
    if (!/^[0-9A-Fa-f]+$/.test(x)) throw new Error(`not an encoding: '${x}' in '${spec}'`);
    return parseInt(x, 16);
  });
}

/** Lower-case word tokens of a name (split on anything but letters and digits). */
export function tokens(name: string): Set<string> {
  return new Set(name.toLowerCase().split(/[^a-z0-9]+/).filter((t) => t.length > 0));
}
