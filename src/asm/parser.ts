// Source → statements: the preprocessor (%define, %include), labels (local `.name` scoped to the previous
// global label), directives and instructions. Errors are collected per line, so one run reports all.
import { Register, RepPrefixKind } from './iced';
import { AsmError } from './errors';
import { Cursor } from './cursor';
import { evaluateConstant, parseExpression, type Expr } from './expression';
import { lookupForms, type Form } from './forms';
import { LineScanner, ScanResult } from './lineScanner';
import type { Prefixes } from './encoder';
import { LexError, TokenKind, tokenize, type Token } from './lexer';
import { parseOperand, type Operand } from './operands';
import { DATA_UNITS, DIRECTIVES, PREFIXES, RES_UNITS } from './keywords';
import { isRegisterName } from './registers';
import { instructionStatement, repeatedStatement, type DataStatement, type InstructionSink, type InstructionStatement, type LabelStatement, type Loc, type SectionAttributes, type Statement } from './statements';
import type { Diagnostic } from './types';

export interface SectionDeclaration {
  readonly name: string;
  readonly attributes: SectionAttributes;
  readonly loc: Loc;
}

/**
 * Every source line read (included files in place), for the listing and the source map: file, 1-based
 * line and text per row. A row is two offsets into its file's source (its text is sliced on demand), and
 * rows of consecutive lines of one file share a run with the file and its first line: the lines' strings
 * die young (the listing is rarely asked for) and the scavenger copies no array of pointers per row.
 */
export class ListingRows {
  private starts = new Int32Array(1024);
  private ends = new Int32Array(1024);
  private rows = 0;
  /** First row of each run (ascending), and the run's file, source and the line of its first row. */
  private readonly runRows: number[] = [];
  private readonly runFiles: string[] = [];
  private readonly runSources: string[] = [];
  private readonly runLines: number[] = [];

  get count(): number {
    return this.rows;
  }
  /** A row for `line` of `file`, whose text is `source` from `start` to `end`. */
  add(file: string, source: string, line: number, start: number, end: number): void {
    const row = this.rows++;
    if (row === this.starts.length) {
      const starts = new Int32Array(row * 2);
      const ends = new Int32Array(row * 2);
      starts.set(this.starts);
      ends.set(this.ends);
      (this.starts = starts), (this.ends = ends);
    }
    (this.starts[row] = start), (this.ends[row] = end);
    const run = this.runRows.length - 1;
    if (run >= 0 && this.runSources[run] === source && this.runFiles[run] === file && this.runLines[run] + (row - this.runRows[run]) === line) return;
    this.runRows.push(row);
    this.runFiles.push(file);
    this.runSources.push(source);
    this.runLines.push(line);
  }
  file(row: number): string {
    return this.runFiles[this.runOf(row)];
  }
  line(row: number): number {
    const run = this.runOf(row);
    return this.runLines[run] + (row - this.runRows[run]);
  }
  text(row: number): string {
    return this.runSources[this.runOf(row)].slice(this.starts[row], this.ends[row]);
  }
  /** The run holding `row`: the last whose first row is ≤ row. */
  private runOf(row: number): number {
    const runs = this.runRows;
    let low = 0;
    let high = runs.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (runs[mid] <= row) low = mid;
      else high = mid - 1;
    }
    return low;
  }
}

export interface ParsedProgram {
  readonly statements: Statement[];
  readonly sections: SectionDeclaration[];
  readonly rows: ListingRows;
  readonly diagnostics: Diagnostic[];
}

const KEYWORDS = new Map<string, boolean>();
/** Shared by every instruction without lock/rep (most of them): one object fewer per line. */
const NO_PREFIXES: Prefixes = Object.freeze({ lock: false, rep: RepPrefixKind.None });
const MAX_INCLUDE_DEPTH = 32;

/**
 * Source lines that parsed to exactly one instruction (no label, no diagnostic), for reuse when the same
 * text comes again (`push rbp`, `ret`, `xor eax, eax` repeat throughout real programs): by text, the
 * first statement of that text. Valid while the %define generation and `default rel` are unchanged
 * (both maps are emptied when either changes) and, for a text that may name a local label (contains
 * `.`), under the same global label (`local` is emptied when it changes). The operands are immutable and
 * shared, as fixed encodings already are. Statements rather than entry objects with the context: no
 * object per distinct line.
 */
class RepeatedLines {
  readonly global = new Map<string, InstructionStatement>();
  readonly local = new Map<string, InstructionStatement>();
  clear(): void {
    this.global.clear();
    this.local.clear();
  }
}
const MAX_REPEATED_LINES = 100_000;
const MAX_DEFINE_DEPTH = 32;

export interface ParseOptions {
  readonly readFile?: (path: string) => string | undefined;
  /** Every line through the general path, without the scanner's fast path (for tests that compare them). */
  readonly generalOnly?: boolean;
  /** Gets each instruction statement as it is made; without one, every repeated line is an instruction statement. */
  readonly instructions?: InstructionSink;
}

export function parseProgram(source: string, file: string, options: ParseOptions): ParsedProgram {
  return new Parser(options).run(source, file);
}

class Parser {
  private readonly statements: Statement[] = [];
  private readonly sections: SectionDeclaration[] = [];
  private readonly rows = new ListingRows();
  private readonly diagnostics: Diagnostic[] = [];
  private readonly defines = new Map<string, Token[]>();
  private readonly repeated = new RepeatedLines();
  private readonly scanner = new LineScanner(this.defines);
  private defineGeneration = 0;
  private globalLabel = '';
  private currentSection = -1;
  private defaultRel = false;
  private includeDepth = 0;
  /** The line being parsed (one object, updated per line: statements get their own Loc from at()). */
  private readonly loc: { file: string; line: number; start: number; end: number; row: number } = { file: '', line: 0, start: 0, end: 0, row: 0 };

  constructor(private readonly options: ParseOptions) {}

  run(source: string, file: string): ParsedProgram {
    this.parseFile(source, file);
    return { statements: this.statements, sections: this.sections, rows: this.rows, diagnostics: this.diagnostics };
  }

  private parseFile(source: string, file: string): void {
    // Lines as split('\n') gives them (a last, empty one after a final newline), without the array.
    for (let lineStart = 0, i = 0; lineStart <= source.length; i++) {
      let lineEnd = source.indexOf('\n', lineStart);
      if (lineEnd < 0) lineEnd = source.length;
      const textEnd = lineEnd > lineStart && source.charCodeAt(lineEnd - 1) === 13 /* \r */ ? lineEnd - 1 : lineEnd;
      const text = source.slice(lineStart, textEnd);
      const row = this.rows.count;
      this.rows.add(file, source, i + 1, lineStart, textEnd);
      lineStart = lineEnd + 1;
      const l = this.loc;
      (l.file = file), (l.line = i + 1), (l.end = text.length), (l.row = row);
      try {
        this.parseLine(text, file);
      } catch (error) {
        if (error instanceof AsmError || error instanceof LexError) this.error(error.message, error.start, error.end);
        else throw error;
      }
    }
  }

  private error(message: string, start: number, end: number): void {
    const l = this.loc;
    this.diagnostics.push({ severity: 'error', message, file: l.file, line: l.line, column: start + 1, endLine: l.line, endColumn: Math.max(end, start + 1) + 1 });
  }

  private warning(message: string, start: number, end: number): void {
    const l = this.loc;
    this.diagnostics.push({ severity: 'warning', message, file: l.file, line: l.line, column: start + 1, endLine: l.line, endColumn: Math.max(end, start + 1) + 1 });
  }

  private parseLine(text: string, file: string): void {
    let i = 0;
    while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 9)) i++;
    const first = text.charCodeAt(i);
    if (first === 37 /* % */) return this.preprocessorLine(text, file);
    const sink = this.options.instructions;
    const count = this.statements.length;
    try {
      this.statementLine(text, i, first);
    } finally {
      // Instructions go to the sink while their operands are at hand (also those before an error).
      if (sink) {
        for (let k = count; k < this.statements.length; k++) {
          const s = this.statements[k];
          if (s.k === 'instr') sink.parsed(s, k);
        }
      }
    }
  }

  /** A line that is not a preprocessor line; `i` is its first non-blank character, `first` its code. */
  private statementLine(text: string, i: number, first: number): void {
    // Blank and comment lines and `name:` alone are never repeated instructions: no lookup for them
    // (a quarter of the bench's lines; the lookup is a hash and a compare over the line's text).
    if (first !== first || first === 59 /* ; */ || text.charCodeAt(text.length - 1) === 58 /* : */) {
      if (this.options.generalOnly || !this.scanned(text, i)) this.parseTokens(text);
      return;
    }
    const repeated = text.includes('.') ? this.repeated.local : this.repeated.global;
    const s = repeated.get(text);
    if (s) {
      const index = this.statements.length;
      const l = this.loc;
      // A fixed instruction's repetition shares its bytes (after the sink has them); any other gets its own statement.
      if (this.options.instructions?.repeated(s, index, l.row, s.start)) this.statements.push(repeatedStatement(l, s));
      else this.statements.push(instructionStatement(l, s.start, s.end, s.mnemonic, s.forms, s.ops, s.prefixes, s.operandSize, s.times));
      return;
    }
    const statementCount = this.statements.length;
    const diagnosticCount = this.diagnostics.length;
    if (this.options.generalOnly || !this.scanned(text, i)) this.parseTokens(text);
    const parsed = this.statements[statementCount];
    if (this.statements.length === statementCount + 1 && parsed.k === 'instr' && this.diagnostics.length === diagnosticCount && repeated.size < MAX_REPEATED_LINES) {
      repeated.set(text, parsed);
    }
  }

  /** The fast path (lineScanner.ts): false when the line needs the general path (nothing committed then). */
  private scanned(text: string, from: number): boolean {
    const scanner = this.scanner;
    scanner.syncDefines(this.defineGeneration);
    switch (scanner.scan(text, from)) {
      case ScanResult.Empty:
        return true;
      case ScanResult.Label: {
        const raw = text.slice(scanner.labelStart, scanner.labelEnd);
        // defineName's errors are the general path's.
        if (isRegisterName(raw) || this.isKeyword(raw.toLowerCase()) || (raw.startsWith('.') && !raw.startsWith('..') && !this.globalLabel)) return false;
        const name = this.qualify(raw);
        if (!name.startsWith('.') && !raw.startsWith('.')) this.setGlobalLabel(name);
        this.ensureSection();
        this.statements.push(labelStatement(this.loc, scanner.labelStart, scanner.labelEnd, name));
        return true;
      }
      case ScanResult.Instruction: {
        const found = scanner.found!;
        const ops = scanner.ops;
        for (let k = 0; k < ops.length; k++) ops[k] = this.qualifyOperand(ops[k]);
        // NASM: `imul r, imm` is `imul r, r, imm`.
        if (found.name === 'imul' && ops.length === 2 && ops[0].t === 'reg' && ops[1].t === 'imm') ops.splice(1, 0, ops[0]);
        this.ensureSection();
        const { lock, rep } = scanner;
        const prefixes = lock || rep !== RepPrefixKind.None ? { lock, rep } : NO_PREFIXES;
        this.statements.push(instructionStatement(this.loc, scanner.start, text.length, found.name, found.forms, ops, prefixes, 0, undefined));
        return true;
      }
      case ScanResult.Data: {
        const items = scanner.items;
        for (let k = 0; k < items.length; k++) {
          const item = items[k];
          if (!(item instanceof Uint8Array)) items[k] = this.qualifyExpr(item);
        }
        this.ensureSection();
        this.statements.push(dataStatement(this.loc, scanner.start, text.length, scanner.dataUnit, items, undefined));
        return true;
      }
      default:
        return false;
    }
  }

  private parseTokens(text: string): void {
    const raw = tokenize(text);
    if (raw.length === 0) return;
    const tokens = this.substitute(raw, 0);
    if (tokens.length === 0) return;
    const cur = new Cursor(tokens, text.length);
    this.statementsOf(cur);
  }

  // --- preprocessor -------------------------------------------------------------------------------

  private preprocessorLine(text: string, file: string): void {
    const start = text.indexOf('%');
    const m = /^%([A-Za-z]+)\b\s*(.*)$/.exec(text.slice(start));
    const directive = m?.[1].toLowerCase() ?? '';
    const rest = m?.[2] ?? '';
    const restStart = text.length - rest.length;
    if (directive === 'define' || directive === 'xdefine' || directive === 'assign' || directive === 'undef') {
      this.defineGeneration++;
      this.repeated.clear();
    }
    if (directive === 'define' || directive === 'xdefine' || directive === 'assign') {
      const tokens = tokenize(rest).map((t) => ({ ...t, start: t.start + restStart, end: t.end + restStart }));
      const name = tokens[0];
      if (!name || name.kind !== TokenKind.Ident) throw new AsmError(`%${directive} needs a name`, start, text.length);
      if (isRegisterName(name.text)) throw new AsmError(`cannot %define register name '${name.text}'`, name.start, name.end);
      const body = directive === 'define' ? tokens.slice(1) : this.substitute(tokens.slice(1), 0);
      if (directive === 'assign') {
        const value = evaluateConstant(parseExpression(new Cursor(body, text.length)));
        this.defines.set(name.text, [{ kind: TokenKind.Number, text: String(value), start: 0, end: 0, value: BigInt.asUintN(64, value), bytes: undefined }]);
      } else this.defines.set(name.text, body);
      return;
    }
    if (directive === 'undef') {
      this.defines.delete(rest.trim());
      return;
    }
    if (directive === 'include') {
      const tokens = tokenize(rest);
      const t = tokens[0];
      if (!t || t.kind !== TokenKind.String || tokens.length !== 1) throw new AsmError('%include needs a quoted file name', start, text.length);
      const name = new TextDecoder().decode(t.bytes);
      const path = resolveInclude(file, name);
      if (this.includeDepth >= MAX_INCLUDE_DEPTH) throw new AsmError(`%include nested more than ${MAX_INCLUDE_DEPTH} deep (recursive include?)`, start, text.length);
      const content = this.options.readFile?.(path);
      if (content === undefined) throw new AsmError(`cannot read include file '${name}' (looked for ${path})`, t.start + restStart, t.end + restStart);
      const saved = { ...this.loc };
      this.includeDepth++;
      try {
        this.parseFile(content, path);
      } finally {
        this.includeDepth--;
        Object.assign(this.loc, saved);
      }
      return;
    }
    throw new AsmError(`unsupported preprocessor directive '%${directive}' (supported: %define, %xdefine, %assign, %undef, %include)`, start, start + directive.length + 1);
  }

  /** Replaces %define'd identifiers (recursively) and qualifies local labels. */
  private substitute(tokens: Token[], depth: number): Token[] {
    if (depth > MAX_DEFINE_DEPTH) throw new AsmError('%define expands recursively', tokens[0]?.start ?? 0, tokens[0]?.end ?? 0);
    let out: Token[] | undefined;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t.kind !== TokenKind.Ident) {
        out?.push(t);
        continue;
      }
      const body = this.defines.size ? this.defines.get(t.text) : undefined;
      if (body) {
        out ??= tokens.slice(0, i);
        for (const b of this.substitute(body, depth + 1)) out.push({ ...b, start: t.start, end: t.end });
      } else out?.push(t);
    }
    return out ?? tokens;
  }

  /** Local labels (and the lines that name them) now belong to `name`. */
  private setGlobalLabel(name: string): void {
    if (name !== this.globalLabel) this.repeated.local.clear();
    this.globalLabel = name;
  }

  private qualify(name: string): string {
    return name.startsWith('.') && !name.startsWith('..') ? this.globalLabel + name : name;
  }

  /** Qualifies local-label references in an expression (`.loop` → `outer.loop`); unchanged nodes are shared. */
  private qualifyExpr(e: Expr): Expr {
    switch (e.k) {
      case 'sym':
        return e.name.charCodeAt(0) === 46 /* . */ && !e.name.startsWith('..') ? { ...e, name: this.qualify(e.name) } : e;
      case 'un': {
        const a = this.qualifyExpr(e.a);
        return a === e.a ? e : { ...e, a };
      }
      case 'bin': {
        const a = this.qualifyExpr(e.a);
        const b = this.qualifyExpr(e.b);
        return a === e.a && b === e.b ? e : { ...e, a, b };
      }
      default:
        return e;
    }
  }

  private expression(cur: Cursor): Expr {
    return this.qualifyExpr(parseExpression(cur));
  }

  private at(start: number, end: number): Loc {
    const l = this.loc;
    return { file: l.file, line: l.line, start, end, row: l.row };
  }

  // --- statements ---------------------------------------------------------------------------------

  private statementsOf(cur: Cursor): void {
    const first = cur.peek()!;
    if (first.kind !== TokenKind.Ident) throw new AsmError(`expected a label, directive or instruction, found '${first.text}'`, first.start, first.end);
    const lower = first.text.toLowerCase();
    const second = cur.peek(1);
    // `name equ value`
    if (second?.kind === TokenKind.Ident && second.text.toLowerCase() === 'equ') {
      cur.pos += 2;
      const name = this.defineName(first);
      const expr = this.expression(cur);
      this.endOfLine(cur);
      this.statements.push({ k: 'equ', loc: this.at(first.start, expr.end), name, expr });
      return;
    }
    // `label:` or a bare label followed by an instruction/directive.
    const isLabel = (second?.kind === TokenKind.Punct && second.text === ':') || (!this.isKeyword(lower) && (second === undefined || (second.kind === TokenKind.Ident && this.isKeyword(second.text.toLowerCase()))));
    if (isLabel) {
      if (second === undefined && !lower.startsWith('.')) this.warning(`label '${first.text}' alone on a line without a colon`, first.start, first.end);
      cur.pos += second?.text === ':' ? 2 : 1;
      const name = this.defineName(first);
      if (!name.startsWith('.') && !first.text.startsWith('.')) this.setGlobalLabel(name);
      this.ensureSection();
      this.statements.push(labelStatement(this.loc, first.start, first.end, name));
      if (cur.atEnd()) return;
    }
    this.directiveOrInstruction(cur);
  }

  private isKeyword(lower: string): boolean {
    let known = KEYWORDS.get(lower);
    if (known === undefined) {
      known = DIRECTIVES.has(lower) || DATA_UNITS.has(lower) || RES_UNITS.has(lower) || PREFIXES.has(lower) || lookupForms(lower) !== undefined;
      if (KEYWORDS.size < 100_000) KEYWORDS.set(lower, known);
    }
    return known;
  }

  private defineName(t: Token): string {
    if (t.text === '$' || t.text === '$$') throw new AsmError(`'${t.text}' cannot be defined`, t.start, t.end);
    if (isRegisterName(t.text)) throw new AsmError(`'${t.text}' is a register name and cannot be a label`, t.start, t.end);
    if (this.isKeyword(t.text.toLowerCase())) throw new AsmError(`'${t.text}' is an instruction or directive and cannot be a label`, t.start, t.end);
    if (t.text.startsWith('.') && !t.text.startsWith('..') && !this.globalLabel) {
      throw new AsmError(`local label '${t.text}' has no preceding global label`, t.start, t.end);
    }
    return this.qualify(t.text);
  }

  private endOfLine(cur: Cursor): void {
    if (!cur.atEnd()) throw cur.error(`unexpected '${cur.peek()!.text}' at the end of the statement`);
  }

  private ensureSection(): void {
    if (this.currentSection >= 0) return;
    this.switchSection('.text', {}, this.at(0, this.loc.end));
  }

  private switchSection(name: string, attributes: SectionAttributes, loc: Loc): void {
    let index = this.sections.findIndex((s) => s.name === name);
    if (index < 0) {
      index = this.sections.length;
      this.sections.push({ name, attributes, loc });
    } else if (Object.keys(attributes).length) {
      // Attributes may be given again (or added) on a later `section` line; they merge.
      Object.assign(this.sections[index].attributes, attributes);
    }
    this.currentSection = index;
    this.statements.push({ k: 'section', loc, index });
  }

  private directiveOrInstruction(cur: Cursor): void {
    const t = cur.next();
    if (t.kind !== TokenKind.Ident) throw new AsmError(`expected a directive or instruction, found '${t.text}'`, t.start, t.end);
    const word = t.text.toLowerCase();
    switch (word) {
      case 'section':
      case 'segment':
        return this.sectionDirective(cur, t);
      case 'org': {
        const expr = this.expression(cur);
        this.endOfLine(cur);
        this.statements.push({ k: 'org', loc: this.at(t.start, expr.end), expr });
        return;
      }
      case 'bits': {
        const expr = parseExpression(cur);
        if (evaluateConstant(expr) !== 64n) throw new AsmError('only bits 64 is supported (the guest runs in 64-bit mode)', expr.start, expr.end);
        return this.endOfLine(cur);
      }
      case 'use64':
      case 'cpu':
        cur.pos = cur.tokens.length;
        return;
      case 'default': {
        const mode = cur.next();
        const m = mode.text.toLowerCase();
        if (m !== 'rel' && m !== 'abs') throw new AsmError("expected 'rel' or 'abs' after 'default'", mode.start, mode.end);
        if (this.defaultRel !== (m === 'rel')) this.repeated.clear();
        this.defaultRel = m === 'rel';
        return this.endOfLine(cur);
      }
      case 'global':
        // Accepted for NASM compatibility: a flat image has no symbol visibility.
        cur.pos = cur.tokens.length;
        return;
      case 'extern':
        throw new AsmError('extern is not supported: a FRED Lab program is one flat image', t.start, t.end);
      case 'align':
      case 'alignb': {
        const boundary = this.expression(cur);
        if (cur.eat(',')) this.expression(cur); // NASM's fill instruction is accepted; padding is NOP in code, 0 in data.
        this.endOfLine(cur);
        this.ensureSection();
        this.statements.push({ k: 'align', loc: this.at(t.start, boundary.end), boundary, reserve: word === 'alignb', size: 0 });
        return;
      }
      case 'times': {
        const count = this.expression(cur);
        return this.repeatable(cur, count, t.start);
      }
      case 'equ':
        throw new AsmError("'equ' needs a name before it", t.start, t.end);
    }
    cur.pos--;
    this.repeatable(cur, undefined, t.start);
  }

  private repeatable(cur: Cursor, times: Expr | undefined, start: number): void {
    const t = cur.next();
    const word = t.text.toLowerCase();
    this.ensureSection();
    const dataUnit = t.kind === TokenKind.Ident ? DATA_UNITS.get(word) : undefined;
    if (dataUnit) {
      const items: (Expr | Uint8Array)[] = [];
      if (cur.atEnd()) throw cur.error(`'${word}' needs at least one value`);
      do {
        const s = cur.peek();
        const after = cur.peek(1);
        if (s?.kind === TokenKind.String && (!after || after.text === ',')) {
          cur.pos++;
          items.push(s.bytes!);
        } else items.push(this.expression(cur));
      } while (cur.eat(','));
      this.endOfLine(cur);
      this.statements.push(dataStatement(this.loc, start, cur.lineLength, dataUnit, items, times));
      return;
    }
    const resUnit = t.kind === TokenKind.Ident ? RES_UNITS.get(word) : undefined;
    if (resUnit) {
      const count = this.expression(cur);
      this.endOfLine(cur);
      this.statements.push({ k: 'res', loc: this.at(start, count.end), unit: resUnit, count, times, size: 0 });
      return;
    }
    cur.pos--;
    this.instruction(cur, times, start);
  }

  private instruction(cur: Cursor, times: Expr | undefined, start: number): void {
    let lock = false;
    let rep = RepPrefixKind.None;
    let operandSize = 0;
    let t = cur.next();
    for (;;) {
      const prefix = t.kind === TokenKind.Ident ? PREFIXES.get(t.text.toLowerCase()) : undefined;
      if (!prefix) break;
      if (prefix.lock) lock = true;
      if (prefix.rep !== undefined) rep = prefix.rep;
      if (prefix.operandSize) operandSize = prefix.operandSize;
      if (cur.atEnd()) throw new AsmError(`prefix '${t.text}' needs an instruction after it`, t.start, t.end);
      t = cur.next();
    }
    if (t.kind !== TokenKind.Ident) throw new AsmError(`expected an instruction, found '${t.text}'`, t.start, t.end);
    let mnemonic = t.text.toLowerCase();
    // NASM's `o64 sysret` / `o64 iret` / `o64 sysexit` are the REX.W forms.
    if (operandSize === 64 && lookupForms(`${mnemonic}q`) && !lookupForms(mnemonic)?.forms.some((f) => f.operandSize === 64)) mnemonic += 'q';
    const found = lookupForms(mnemonic);
    if (!found) {
      const isLabelLike = cur.atEnd();
      throw new AsmError(isLabelLike ? `unknown instruction '${t.text}' (a label needs a colon)` : `unknown instruction '${t.text}'`, t.start, t.end);
    }
    const ops: Operand[] = [];
    if (!cur.atEnd()) {
      do ops.push(this.operand(cur));
      while (cur.eat(','));
    }
    this.endOfLine(cur);
    let forms = found.forms;
    if (operandSize) {
      forms = forms.filter((f) => f.operandSize === operandSize || f.operandSize === 0);
      if (!forms.length) throw new AsmError(`'${mnemonic}' has no ${operandSize}-bit form`, start, t.end);
    }
    // NASM: `imul r, imm` is `imul r, r, imm`.
    if (found.name === 'imul' && ops.length === 2 && ops[0].t === 'reg' && ops[1].t === 'imm') ops.splice(1, 0, ops[0]);
    this.statements.push(instructionStatement(this.loc, start, cur.lineLength, found.name, forms, ops, lock || rep !== RepPrefixKind.None ? { lock, rep } : NO_PREFIXES, operandSize, times));
  }

  private operand(cur: Cursor): Operand {
    return this.qualifyOperand(parseOperand(cur));
  }

  /** Qualifies local labels and applies `default rel`. */
  private qualifyOperand(op: Operand): Operand {
    if (op.t === 'imm') {
      const expr = this.qualifyExpr(op.expr);
      return expr === op.expr ? op : { ...op, expr };
    }
    if (op.t === 'mem') {
      const disp = op.disp && this.qualifyExpr(op.disp);
      // `default rel`: [disp] without base/index and without an fs/gs override is rip-relative (NASM).
      const rel = op.rel ?? (this.defaultRel && op.seg !== Register.FS && op.seg !== Register.GS ? true : undefined);
      return disp === op.disp && rel === op.rel ? op : { ...op, disp, rel };
    }
    return op;
  }

  private sectionDirective(cur: Cursor, keyword: Token): void {
    const nameToken = cur.next();
    if (nameToken.kind !== TokenKind.Ident) throw new AsmError('expected a section name', nameToken.start, nameToken.end);
    const name = nameToken.text;
    const attributes: SectionAttributes = {};
    while (!cur.atEnd()) {
      const a = cur.next();
      const word = a.text.toLowerCase();
      if (a.kind !== TokenKind.Ident) throw new AsmError(`unexpected '${a.text}' in section attributes`, a.start, a.end);
      if (word === 'user') attributes.user = true;
      else if (word === 'supervisor' || word === 'kernel') attributes.user = false;
      else if (word === 'nobits') attributes.nobits = true;
      else if (word === 'progbits') attributes.nobits = false;
      else if (word === 'write') attributes.writable = true;
      else if (word === 'nowrite') attributes.writable = false;
      else if (word === 'exec') attributes.executable = true;
      else if (word === 'noexec') attributes.executable = false;
      else if (word === 'start' || word === 'align' || word === 'vstart') {
        cur.expect('=');
        const expr = this.expression(cur);
        if (word === 'align') {
          const n = Number(evaluateConstant(expr));
          if (n <= 0 || (n & (n - 1)) !== 0) throw new AsmError('section align must be a power of two', expr.start, expr.end);
          attributes.align = n;
        } else if (word === 'start') attributes.start = expr;
        else throw new AsmError('vstart= is not supported: sections are loaded where they run', a.start, expr.end);
      } else throw new AsmError(`unknown section attribute '${a.text}' (user, nobits, progbits, write, nowrite, exec, noexec, start=, align=)`, a.start, a.end);
    }
    this.switchSection(name, attributes, this.at(keyword.start, cur.lineLength));
  }
}

/** A label statement that is its own Loc (one object per label, as instructionStatement). */
function labelStatement(line: { readonly file: string; readonly line: number; readonly row: number }, start: number, end: number, name: string): LabelStatement {
  const s = { k: 'label' as const, loc: undefined as unknown as Loc, file: line.file, line: line.line, start, end, row: line.row, name };
  s.loc = s;
  return s;
}

/** A data statement that is its own Loc. */
function dataStatement(
  line: { readonly file: string; readonly line: number; readonly row: number }, start: number, end: number,
  unit: number, items: readonly (Expr | Uint8Array)[], times: Expr | undefined,
): DataStatement {
  const s = { k: 'data' as const, loc: undefined as unknown as Loc, file: line.file, line: line.line, start, end, row: line.row, unit, items, times, size: 0, one: undefined as number | undefined };
  s.loc = s;
  return s;
}

export function hasSymbol(e: Expr): boolean {
  if (e.k === 'sym') return true;
  if (e.k === 'un') return hasSymbol(e.a);
  if (e.k === 'bin') return hasSymbol(e.a) || hasSymbol(e.b);
  return false;
}

/** `%include "x"` is relative to the including file's directory (absolute paths stay as they are). */
export function resolveInclude(from: string, name: string): string {
  if (name.startsWith('/')) return name;
  const slash = from.lastIndexOf('/');
  const dir = slash >= 0 ? from.slice(0, slash + 1) : '';
  const parts: string[] = [];
  for (const part of (dir + name).split('/')) {
    if (part === '..' && parts.length && parts[parts.length - 1] !== '..' && parts[parts.length - 1] !== '') parts.pop();
    else if (part !== '.') parts.push(part);
  }
  return parts.join('/');
}
