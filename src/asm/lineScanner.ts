// The parser's fast path: the common line shapes — an instruction with register, immediate and memory
// operands (`add rax, rbx`, `mov ecx, 5`, `mov rax, [rbx + rcx*8 - 16]`, `lea rax, [rel x]`, `lock xadd
// [rax], ecx`), a label alone (`name:`), data (`db "text", 10, 0`), blank and comment lines — scanned over
// char codes, without token objects or a cursor. It builds exactly the operands and expressions the
// general path (lexer → Cursor → parseOperand / parseExpression) builds, positions included, and gives
// up on anything else (FALLBACK): that line then takes the general path, which reports every error.
// Nothing is committed here; the parser turns a result into statements (test/asm/lineScanner.test.ts
// compares both paths line by line).
import { Register, RepPrefixKind } from './iced';
import { AsmError } from './errors';
import { SMALL_LIMIT, numberNode, smallNumberNode, type Expr } from './expression';
import { lookupForms, type Form } from './forms';
import { DATA_UNITS, DIRECTIVES, PREFIXES, RES_UNITS } from './keywords';
import { LexError, TokenKind, decimalValue, isIdentPart, isIdentStart, parseNumber, type Token } from './lexer';
import { SIZE_KEYWORDS, splitAddress, type MemOperand, type Operand } from './operands';
import { registerAt } from './registers';

export const enum ScanResult {
  /** Not a shape the scanner knows (or an error): use the general path. */
  Fallback,
  /** Blank or comment only. */
  Empty,
  /** `name:` alone: labelStart..labelEnd. */
  Label,
  /** An instruction: `found`, `ops`, `lock`, `rep`. */
  Instruction,
  /** Data: `dataUnit`, `items`. */
  Data,
}

/** What a statement's first word is, by its spelling (cached: the same few words start most lines). */
interface WordClass {
  /** Mnemonic (after NASM aliases) and forms, for an instruction. */
  readonly found: { readonly name: string; readonly forms: readonly Form[] } | undefined;
  readonly dataUnit: number;
  readonly lock: boolean;
  readonly rep: RepPrefixKind;
}
const OTHER: WordClass = { found: undefined, dataUnit: 0, lock: false, rep: RepPrefixKind.None };
const WORDS = new Map<string, WordClass>();
/** The same, for words of up to 4 characters by wordKey (at most 2^28: a small integer). */
const SHORT_WORDS = new Map<number, WordClass>();
const MAX_WORDS = 10_000;

function classify(lower: string): WordClass {
  let c = WORDS.get(lower);
  if (c) return c;
  const prefix = PREFIXES.get(lower);
  if (DIRECTIVES.has(lower) || RES_UNITS.has(lower) || prefix?.operandSize) c = OTHER;
  else if (prefix) c = { found: undefined, dataUnit: 0, lock: prefix.lock ?? false, rep: prefix.rep ?? RepPrefixKind.None };
  else {
    const dataUnit = DATA_UNITS.get(lower) ?? 0;
    c = dataUnit ? { ...OTHER, dataUnit } : { ...OTHER, found: lookupForms(lower) };
  }
  if (WORDS.size < MAX_WORDS) WORDS.set(lower, c);
  return c;
}

// Operand keywords, by their lower-cased spelling packed into a number (see wordKey).
const SIZE_BY_KEY = new Map<number, number>();
for (const [word, size] of SIZE_KEYWORDS) SIZE_BY_KEY.set(wordKey(word, 0, word.length), size);
const PTR = wordKey('ptr', 0, 3);
const REL = wordKey('rel', 0, 3);
const ABS = wordKey('abs', 0, 3);
const EQU = wordKey('equ', 0, 3);
const FAR = wordKey('far', 0, 3);
const SHORT = wordKey('short', 0, 5);
const NEAR = wordKey('near', 0, 4);

/** A word of up to 7 ASCII characters, lower-cased, as a number (base 128); -1 when longer. */
function wordKey(text: string, start: number, end: number): number {
  if (end - start > 7) return -1;
  let key = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    key = key * 128 + (c >= 65 && c <= 90 ? c + 32 : c);
  }
  return key;
}

const utf8 = new TextEncoder();
const MAX_DEFINE_BUCKET = 63;

export class LineScanner {
  // The result of the last scan.
  start = 0;
  labelStart = 0;
  labelEnd = 0;
  found: { readonly name: string; readonly forms: readonly Form[] } | undefined;
  ops: Operand[] = [];
  lock = false;
  rep = RepPrefixKind.None;
  dataUnit = 0;
  items: (Expr | Uint8Array)[] = [];
  private readonly scratchOps: Operand[] = [];
  private readonly scratchItems: (Expr | Uint8Array)[] = [];

  private text = '';
  private pos = 0;
  private n = 0;
  /** %define names by length (capped) and first character: most identifiers need no slice to rule them out. */
  private readonly defineBuckets = new Uint8Array((MAX_DEFINE_BUCKET + 1) * 128);
  private definesSeen = -1;

  constructor(private readonly defines: ReadonlyMap<string, readonly Token[]>) {}

  /** Call when the %define table may have changed (its generation number). */
  syncDefines(generation: number): void {
    if (generation === this.definesSeen) return;
    this.definesSeen = generation;
    this.defineBuckets.fill(0);
    for (const name of this.defines.keys()) this.defineBuckets[bucket(name, 0, name.length)] = 1;
  }

  /** Scans `text` from `from`; `start` is then where the statement starts. */
  scan(text: string, from: number): ScanResult {
    this.text = text;
    this.n = text.length;
    this.pos = from;
    this.skipBlanks();
    const start = (this.start = this.pos);
    if (this.atEnd()) return ScanResult.Empty;
    if (!isIdentStart(text.charCodeAt(start))) return ScanResult.Fallback;
    const wordEnd = this.identEnd(start);
    if (this.isDefine(start, wordEnd)) return ScanResult.Fallback;
    this.pos = wordEnd;
    this.skipBlanks();
    // `name equ value` is an equ statement whatever `name` is.
    if (this.wordIs(EQU)) return ScanResult.Fallback;
    if (this.code() === 58 /* : */) {
      this.pos++;
      this.skipBlanks();
      if (!this.atEnd()) return ScanResult.Fallback;
      this.labelStart = start;
      this.labelEnd = wordEnd;
      return ScanResult.Label;
    }
    let word = this.classifyAt(start, wordEnd);
    if (word.dataUnit) return this.data(word.dataUnit);
    this.lock = false;
    this.rep = RepPrefixKind.None;
    while (word.lock || word.rep !== RepPrefixKind.None) {
      if (word.lock) this.lock = true;
      else this.rep = word.rep;
      const s = this.pos;
      if (!isIdentStart(this.code())) return ScanResult.Fallback;
      const e = this.identEnd(s);
      if (this.isDefine(s, e)) return ScanResult.Fallback;
      word = this.classifyAt(s, e);
      this.pos = e;
      this.skipBlanks();
    }
    if (!word.found) return ScanResult.Fallback;
    this.found = word.found;
    // Collected in a scratch array (its length is never reset: that is a runtime call), then copied.
    const ops = this.scratchOps;
    let count = 0;
    if (!this.atEnd()) {
      for (;;) {
        const op = this.operand();
        if (!op) return ScanResult.Fallback;
        ops[count++] = op;
        this.skipBlanks();
        if (this.code() !== 44 /* , */) break;
        this.pos++;
      }
      if (!this.atEnd()) return ScanResult.Fallback;
    }
    // An exact-size copy: a pushed-to array keeps room for 17 elements, and statements keep their
    // operands as long as the result lives (2–3 MB more to copy in every scavenge of the bench).
    this.ops = ops.slice(0, count);
    return ScanResult.Instruction;
  }

  private data(unit: number): ScanResult {
    const items = this.scratchItems;
    let count = 0;
    if (this.atEnd()) return ScanResult.Fallback;
    for (;;) {
      this.skipBlanks();
      const c = this.code();
      const itemStart = this.pos;
      let item: Expr | Uint8Array | undefined;
      if (c === 34 || c === 39) {
        // A string alone (followed by ',' or the end) is its bytes; otherwise a character constant.
        const close = this.text.indexOf(this.text[itemStart], itemStart + 1);
        if (close < 0) return ScanResult.Fallback;
        this.pos = close + 1;
        this.skipBlanks();
        if (this.atEnd() || this.code() === 44) item = utf8.encode(this.text.slice(itemStart + 1, close));
        else this.pos = itemStart;
      }
      item ??= this.expression(false);
      if (!item) return ScanResult.Fallback;
      items[count++] = item;
      this.skipBlanks();
      if (this.code() !== 44) break;
      this.pos++;
    }
    if (!this.atEnd()) return ScanResult.Fallback;
    this.dataUnit = unit;
    this.items = items.slice(0, count); // exact size, as the operands
    return ScanResult.Data;
  }

  /** One operand (parseOperand's shapes without `far`, `short`, `near` and segment overrides). */
  private operand(): Operand | undefined {
    this.skipBlanks();
    const first = this.pos;
    let size = 0;
    // Size keywords, each optionally followed by `ptr` (two of them are an error: the general path).
    while (isIdentStart(this.code())) {
      const s = this.pos;
      const e = this.identEnd(s);
      const key = wordKey(this.text, s, e);
      const keywordSize = SIZE_BY_KEY.get(key);
      if (keywordSize === undefined) {
        if (key === FAR || key === SHORT || key === NEAR) return undefined;
        break;
      }
      if (size || this.isDefine(s, e)) return undefined;
      size = keywordSize;
      this.pos = e;
      this.skipBlanks();
      if (this.wordIs(PTR)) {
        this.pos = this.identEnd(this.pos);
        this.skipBlanks();
      }
    }
    if (this.atEnd()) return undefined;
    const t = this.pos;
    const c = this.code();
    if (c === 91 /* [ */) return this.memory(size, first);
    if (isIdentStart(c)) {
      const e = this.identEnd(t);
      const save = this.pos;
      this.pos = e;
      this.skipBlanks();
      const next = this.code();
      // A segment override (`fs:[…]`) or a stray colon: the general path.
      if (next === 58) return undefined;
      const info = registerAt(this.text, t, e);
      if (info && (this.atEnd() || next === 44)) {
        if (info.cls === 'rip' || (size && info.size && size !== info.size)) return undefined;
        return { t: 'reg', info, start: first, end: e };
      }
      this.pos = save;
    }
    const expr = this.expression(false);
    if (!expr) return undefined;
    return { t: 'imm', expr, size, distance: undefined, start: first, end: expr.end };
  }

  private memory(size: number, start: number): MemOperand | undefined {
    this.pos++;
    let rel: boolean | undefined;
    for (;;) {
      this.skipBlanks();
      if (this.wordIs(REL)) rel = true;
      else if (this.wordIs(ABS)) rel = false;
      else break;
      this.pos = this.identEnd(this.pos);
    }
    if (isIdentStart(this.code())) {
      // `[fs:…]`: the general path.
      const save = this.pos;
      this.pos = this.identEnd(save);
      this.skipBlanks();
      const colon = this.code() === 58;
      this.pos = save;
      if (colon) return undefined;
    }
    const expr = this.expression(true);
    if (!expr) return undefined;
    this.skipBlanks();
    if (this.code() !== 93 /* ] */) return undefined;
    const end = ++this.pos;
    let address;
    try {
      address = splitAddress(expr);
    } catch (error) {
      if (error instanceof AsmError) return undefined;
      throw error;
    }
    const a = address;
    return { t: 'mem', size, seg: Register.None, base: a.base, index: a.index, scale: a.scale, disp: a.disp, rel, addressSize: a.addressSize, far: false, start, end };
  }

  /** An expression of `+`, `-` (binary and unary) and `*` over numbers, character constants and symbols
   *  (registers too inside brackets), with parseExpression's precedence and node positions. */
  private expression(registers: boolean): Expr | undefined {
    return this.binary(1, registers);
  }

  private binary(minPrec: number, registers: boolean): Expr | undefined {
    let left = this.unary(registers);
    if (!left) return undefined;
    for (;;) {
      this.skipBlanks();
      const c = this.code();
      let prec: number;
      if (c === 43 || c === 45) prec = 5;
      else if (c === 42) prec = 6;
      else if (this.atEnd() || c === 44 || c === 93) return left;
      else return undefined; // another operator or token
      if (prec < minPrec) return left;
      this.pos++;
      const right = this.binary(prec + 1, registers);
      if (!right) return undefined;
      left = { k: 'bin', op: c === 43 ? '+' : c === 45 ? '-' : '*', a: left, b: right, start: left.start, end: right.end };
    }
  }

  private unary(registers: boolean): Expr | undefined {
    this.skipBlanks();
    const s = this.pos;
    const c = this.code();
    if (c === 45) {
      this.pos++;
      const a = this.unary(registers);
      return a && { k: 'un', op: '-', a, start: s, end: a.end };
    }
    if (c >= 48 && c <= 57) return this.number();
    if (c === 39 || c === 34) return this.character();
    if (!isIdentStart(c)) return undefined;
    const e = this.identEnd(s);
    this.pos = e;
    if (registers) {
      const info = registerAt(this.text, s, e);
      if (info && info.cls !== 'seg' && info.cls !== 'cr' && info.cls !== 'dr') return { k: 'reg', reg: info.reg, name: this.text.slice(s, e), start: s, end: e };
    }
    if (this.isDefine(s, e)) {
      // A %define of one number (`%define SCALE 8`) stands for that number at the name's position.
      const body = this.defines.get(this.text.slice(s, e))!;
      if (body.length !== 1 || body[0].kind !== TokenKind.Number) return undefined;
      return numberNode(BigInt.asIntN(64, body[0].value!), s, e);
    }
    return { k: 'sym', name: this.text.slice(s, e), start: s, end: e };
  }

  /** A number token as the lexer reads it (digits, then letters and `_` for radix forms). */
  private number(): Expr | undefined {
    const s = this.pos;
    const text = this.text;
    let decimal = text.charCodeAt(s) - 48;
    let plain = true;
    let i = s + 1;
    for (; i < this.n; i++) {
      const d = text.charCodeAt(i);
      if (d >= 48 && d <= 57) decimal = decimal * 10 + d - 48;
      else if ((d >= 65 && d <= 90) || (d >= 97 && d <= 122) || d === 95) plain = false;
      else break;
    }
    this.pos = i;
    if (plain && decimal < SMALL_LIMIT) return smallNumberNode(decimal, s, i);
    let value: bigint;
    if (plain && i - s <= 15) value = decimalValue(decimal);
    else {
      try {
        value = parseNumber(text.slice(s, i), s, i);
      } catch (error) {
        if (error instanceof LexError) return undefined;
        throw error;
      }
    }
    return numberNode(BigInt.asIntN(64, value), s, i);
  }

  /** `'A'`, `"ab"`: ASCII character constants (little-endian, up to 8 bytes). */
  private character(): Expr | undefined {
    const s = this.pos;
    const close = this.text.indexOf(this.text[s], s + 1);
    if (close < 0 || close - s - 1 > 8) return undefined;
    let v = 0n;
    for (let i = close - 1; i > s; i--) {
      const c = this.text.charCodeAt(i);
      if (c >= 128) return undefined;
      v = (v << 8n) | BigInt(c);
    }
    this.pos = close + 1;
    return numberNode(BigInt.asIntN(64, v), s, close + 1);
  }

  // --- characters ---------------------------------------------------------------------------------

  /** Char code at the read position; NaN at the end of the line. */
  private code(): number {
    return this.text.charCodeAt(this.pos);
  }

  /** At the end of the statement: the end of the line or a comment. */
  private atEnd(): boolean {
    return this.pos >= this.n || this.text.charCodeAt(this.pos) === 59;
  }

  /** Skips the lexer's blanks (space, tab, carriage return). */
  private skipBlanks(): void {
    const text = this.text;
    while (this.pos < this.n) {
      const c = text.charCodeAt(this.pos);
      if (c !== 32 && c !== 9 && c !== 13) return;
      this.pos++;
    }
  }

  private identEnd(start: number): number {
    let i = start + 1;
    while (i < this.n && isIdentPart(this.text.charCodeAt(i))) i++;
    return i;
  }

  /** The identifier at the read position is `key` (case-insensitive) and not a %define. */
  private wordIs(key: number): boolean {
    if (!isIdentStart(this.code())) return false;
    const e = this.identEnd(this.pos);
    return wordKey(this.text, this.pos, e) === key && !this.isDefine(this.pos, e);
  }

  private isDefine(start: number, end: number): boolean {
    return this.defineBuckets[bucket(this.text, start, end)] === 1 && this.defines.has(this.text.slice(start, end));
  }

  private classifyAt(start: number, end: number): WordClass {
    // Words of up to 4 characters (most mnemonics) by their key, a small integer: no slice, no
    // lower-casing, no string hash per line.
    if (end - start > 4) return classify(this.text.slice(start, end).toLowerCase());
    const key = wordKey(this.text, start, end);
    let c = SHORT_WORDS.get(key);
    if (!c) {
      c = classify(this.text.slice(start, end).toLowerCase());
      if (SHORT_WORDS.size < MAX_WORDS) SHORT_WORDS.set(key, c);
    }
    return c;
  }
}

function bucket(text: string, start: number, end: number): number {
  return Math.min(end - start, MAX_DEFINE_BUCKET) * 128 + (text.charCodeAt(start) & 127);
}
