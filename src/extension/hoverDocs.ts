// Hover texts (Markdown) for `.fred` sources: instructions, MSR and VMCS names, other built-in
// constants and number literals. Pure functions of a line and a column, so they are unit-tested
// without VS Code; hoverProvider.ts only wraps them. Every fact comes from src/arch (through
// archCatalog.ts), the instruction table in instructionDocs.ts, or the assembler's number syntax.
import { parseNumber } from '../asm/lexer';
import { bitRangeText, lookupArchConstant, type ArchConstant } from './archCatalog';
import { instructionDoc } from '../arch/instructionDocs';

/** A word of the line and its 0-based [start, end) columns. */
export interface WordAt {
  readonly text: string;
  readonly start: number;
  readonly end: number;
}

/** Identifiers as src/asm/lexer.ts reads them; numbers start with a digit. */
const WORD = /[A-Za-z_.?@][\w.?@$#]*|[0-9][\w]*/g;

/** The identifier or number under `column` (0-based), or undefined inside comments and strings. */
export function wordAt(line: string, column: number): WordAt | undefined {
  const code = codePart(line);
  if (column >= code.length) return undefined;
  for (const m of code.matchAll(WORD)) {
    const start = m.index ?? 0;
    const end = start + m[0].length;
    if (column >= start && column < end) return { text: m[0], start, end };
    if (start > column) break;
  }
  return undefined;
}

/** The line up to its comment, with string contents blanked so nothing inside them is a word. */
function codePart(line: string): string {
  let out = '';
  let quote = '';
  for (const ch of line) {
    if (quote) {
      out += ch === quote ? ch : ' ';
      if (ch === quote) quote = '';
    } else if (ch === ';') {
      break;
    } else {
      if (ch === '"' || ch === "'" || ch === '`') quote = ch;
      out += ch;
    }
  }
  return out;
}

const hex = (v: bigint | number, digits = 0): string => '0x' + v.toString(16).toUpperCase().padStart(digits, '0');

/** Hover Markdown for the word at `column` of `line`, or undefined when there is nothing to say. */
export function hoverMarkdown(line: string, column: number): { markdown: string; word: WordAt } | undefined {
  const word = wordAt(line, column);
  if (!word) return undefined;
  const markdown = /^[0-9]/.test(word.text) ? numberHover(word.text) : identifierHover(word.text);
  return markdown ? { markdown, word } : undefined;
}

export function identifierHover(name: string): string | undefined {
  const constant = lookupArchConstant(name);
  if (constant) return constantHover(constant);
  const doc = instructionDoc(name);
  if (doc) return `**${name.toUpperCase()}** — \`${doc.forms}\`\n\n${doc.summary}\n\n_${doc.reference}_`;
  return undefined;
}

export function constantHover(c: ArchConstant): string {
  switch (c.kind) {
    case 'msr': {
      const m = c.msr;
      const names = [m.name, ...m.aliases].filter((n) => n !== c.name);
      const lines = [`**${c.name}** — MSR ${hex(m.index)}${m.readable ? '' : ' (write-only)'}`, '',
        ...(names.length ? [`Also named ${names.join(', ')}.`, ''] : []), m.doc];
      if (m.fields.length) {
        lines.push('', '| bits | field | |', '|---|---|---|');
        for (const f of m.fields) lines.push(`| ${bitRangeText(f)} | ${f.name} | ${f.doc} |`);
      }
      return lines.join('\n');
    }
    case 'vmcs': {
      const f = c.field;
      const width = c.high ? 'high 32 bits of a 64-bit field' : f.width === 'natural' ? 'natural width' : `${f.width}-bit`;
      return [`**${c.high ? `${f.name}_HIGH` : f.name}** — VMCS field ${hex(c.encoding, 4)}${f.fred ? ' (FRED)' : ''}`, '',
        `${f.title}: ${width}, ${c.groupTitle}.`, ...(f.doc !== f.title ? ['', f.doc] : []),
        ...(f.msr ? ['', `Holds the MSR ${f.msr}.`] : [])].join('\n');
    }
    case 'constant':
      return `**${c.name}** = ${hex(c.value)} (${c.value})${c.doc ? `\n\n${c.doc}` : ''}`;
  }
}

/** A number literal in hexadecimal, decimal and binary (and negative when bit 63 is set). */
export function numberHover(text: string): string | undefined {
  let value: bigint;
  try {
    value = parseNumber(text, 0, text.length);
  } catch {
    return undefined;
  }
  const lines = [`**${text}**`, '', `hex \`${hex(value)}\``, `dec \`${value}\``, `bin \`0b${binaryGroups(value)}\``];
  if (value >= 1n << 63n) lines.push(`signed 64-bit \`${value - (1n << 64n)}\``);
  return lines.join('  \n');
}

/** Binary digits in groups of four, so bit positions can be counted. */
function binaryGroups(value: bigint): string {
  const digits = value.toString(2);
  const padded = digits.padStart(Math.ceil(digits.length / 4) * 4, '0');
  return padded.match(/.{4}/g)!.join('_');
}
