// Lexer: one source line → tokens (NASM tradition: `;` comments, 'x' "x" `x` strings, 0x/h/0b/b/0o/q numbers).

export enum TokenKind {
  Ident,
  Number,
  String,
  Punct,
}

export interface Token {
  readonly kind: TokenKind;
  /** Source text (for Ident and Punct: the identifier or operator). */
  readonly text: string;
  /** 0-based column of the first character and one past the last. */
  readonly start: number;
  readonly end: number;
  /** Number value (Number tokens). */
  readonly value: bigint | undefined;
  /** String bytes (String tokens), UTF-8. */
  readonly bytes: Uint8Array | undefined;
}

/** A malformed token (not an `Error`, for the reason given in errors.ts). */
export class LexError {
  constructor(readonly message: string, readonly start: number, readonly end: number) {}
}

const utf8 = new TextEncoder();
// Character classes, indexed by char code < 128.
const IDENT_START = new Uint8Array(128);
const IDENT_PART = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  IDENT_START[c] = /[A-Za-z_.?@]/.test(ch) ? 1 : 0;
  IDENT_PART[c] = /[A-Za-z0-9_.?@$#]/.test(ch) ? 1 : 0;
}
const TWO_CHAR_PUNCT = new Map(['<<', '>>', '//', '%%', '==', '!=', '<=', '>=', '&&', '||', '$$'].map((p) => [p.charCodeAt(0) * 128 + p.charCodeAt(1), p]));
const PUNCT = new Uint8Array(128);
for (const ch of '+-*/%&|^~!()[],:<>=') PUNCT[ch.charCodeAt(0)] = 1;

export function isIdentStart(code: number): boolean {
  return code < 128 && IDENT_START[code] === 1;
}

export function isIdentPart(code: number): boolean {
  return code < 128 && IDENT_PART[code] === 1;
}

/** A decimal literal's value, computed without a regex or a bigint parse (the common case). */
export function decimalValue(decimal: number): bigint {
  return decimal < SMALL_BIGINTS.length ? SMALL_BIGINTS[decimal] : BigInt(decimal);
}
/** Small numbers are interned: a bigint is a heap object, and most literals in real code are small. */
const SMALL_BIGINTS: readonly bigint[] = Array.from({ length: 4096 }, (_, i) => BigInt(i));

/** Tokenizes `line` up to its comment. Throws LexError on a malformed token. */
export function tokenize(line: string): Token[] {
  const tokens: Token[] = [];
  const n = line.length;
  let i = 0;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (c === 59 /* ; */) break;
    const start = i;
    if (c < 128 && IDENT_START[c]) {
      i++;
      while (i < n) {
        const d = line.charCodeAt(i);
        if (d < 128 && IDENT_PART[d]) i++;
        else break;
      }
      tokens.push({ kind: TokenKind.Ident, text: line.slice(start, i), start, end: i, value: undefined, bytes: undefined });
      continue;
    }
    if (c >= 48 && c <= 57) {
      // Plain decimal below 2^53 (the common case) is computed here, without a regex or a bigint parse.
      let decimal = c - 48;
      let plain = true;
      i++;
      while (i < n) {
        const d = line.charCodeAt(i);
        if (d >= 48 && d <= 57) (decimal = decimal * 10 + d - 48), i++;
        else if ((d >= 65 && d <= 90) || (d >= 97 && d <= 122) || d === 95) (plain = false), i++;
        else break;
      }
      const text = line.slice(start, i);
      const value = plain && i - start <= 15 ? decimalValue(decimal) : parseNumber(text, start, i);
      tokens.push({ kind: TokenKind.Number, text, start, end: i, value, bytes: undefined });
      continue;
    }
    if (c === 39 || c === 34 || c === 96) {
      const close = line.indexOf(line[i], i + 1);
      if (close < 0) throw new LexError('unterminated string', start, n);
      const body = line.slice(i + 1, close);
      i = close + 1;
      const bytes = c === 96 ? unescape(body, start) : utf8.encode(body);
      tokens.push({ kind: TokenKind.String, text: line.slice(start, i), start, end: i, value: undefined, bytes });
      continue;
    }
    if (c === 36 /* $ */) {
      // `$` and `$$` behave as identifiers (current position, section start).
      i += line.charCodeAt(i + 1) === 36 ? 2 : 1;
      tokens.push({ kind: TokenKind.Ident, text: line.slice(start, i), start, end: i, value: undefined, bytes: undefined });
      continue;
    }
    const next = line.charCodeAt(i + 1); // NaN at the end of the line
    const two = next < 128 ? TWO_CHAR_PUNCT.get(c * 128 + next) : undefined;
    if (two) {
      i += 2;
      tokens.push({ kind: TokenKind.Punct, text: two, start, end: i, value: undefined, bytes: undefined });
      continue;
    }
    if (c < 128 && PUNCT[c]) {
      i++;
      tokens.push({ kind: TokenKind.Punct, text: line[start], start, end: i, value: undefined, bytes: undefined });
      continue;
    }
    throw new LexError(`unexpected character '${line[i]}'`, start, start + 1);
  }
  return tokens;
}

const DIGITS: Record<number, RegExp> = { 2: /^[01]+$/, 8: /^[0-7]+$/, 10: /^[0-9]+$/, 16: /^[0-9a-f]+$/ };

/** NASM number syntax: 0x1F 0h1F 1Fh, 0b101 0y101 101b 101y, 0o17 0q17 17o 17q, 0d99 99d, 99; `_` separators. */
export function parseNumber(text: string, start: number, end: number): bigint {
  // Fast path: plain decimal.
  if (/^[0-9]+$/.test(text)) return checked(BigInt(text), text, start, end);
  const t = text.toLowerCase().replace(/_/g, '');
  let radix = 10;
  let digits = t;
  const prefix = t.length > 2 && t[0] === '0' ? t[1] : '';
  if (prefix === 'x' || prefix === 'h') (radix = 16), (digits = t.slice(2));
  else if (t.endsWith('h')) (radix = 16), (digits = t.slice(0, -1));
  else if (prefix === 'b' || prefix === 'y') (radix = 2), (digits = t.slice(2));
  else if (prefix === 'o' || prefix === 'q') (radix = 8), (digits = t.slice(2));
  else if (prefix === 'd') digits = t.slice(2);
  else if (t.endsWith('b') || t.endsWith('y')) (radix = 2), (digits = t.slice(0, -1));
  else if (t.endsWith('o') || t.endsWith('q')) (radix = 8), (digits = t.slice(0, -1));
  else if (t.endsWith('d')) digits = t.slice(0, -1);
  if (!digits || !DIGITS[radix].test(digits)) throw new LexError(`invalid number '${text}'`, start, end);
  return checked(BigInt(RADIX_PREFIX[radix] + digits), text, start, end);
}

const RADIX_PREFIX: Record<number, string> = { 2: '0b', 8: '0o', 10: '', 16: '0x' };

function checked(value: bigint, text: string, start: number, end: number): bigint {
  if (value >= 1n << 64n) throw new LexError(`number '${text}' does not fit in 64 bits`, start, end);
  return value;
}

/** Backquoted strings understand C escapes (NASM §3.4.2). */
function unescape(body: string, start: number): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch !== '\\') {
      for (const b of utf8.encode(ch)) out.push(b);
      continue;
    }
    const e = body[++i];
    const simple: Record<string, number> = { n: 10, t: 9, r: 13, '0': 0, '\\': 92, "'": 39, '"': 34, '`': 96, a: 7, b: 8, f: 12, v: 11, e: 27 };
    if (e === 'x') {
      const hex = body.slice(i + 1, i + 3);
      if (!/^[0-9a-fA-F]{1,2}/.test(hex)) throw new LexError('invalid \\x escape', start, start + body.length + 2);
      const m = /^[0-9a-fA-F]{1,2}/.exec(hex)![0];
      out.push(parseInt(m, 16));
      i += m.length;
    } else if (e !== undefined && e in simple) out.push(simple[e]);
    else throw new LexError(`invalid escape '\\${e ?? ''}'`, start, start + body.length + 2);
  }
  return Uint8Array.from(out);
}
