// A read position in one line's tokens, shared by the expression, operand and statement parsers.
import { AsmError } from './errors';
import { TokenKind, type Token } from './lexer';

export class Cursor {
  pos = 0;
  constructor(readonly tokens: readonly Token[], readonly lineLength: number) {}

  peek(offset = 0): Token | undefined {
    return this.tokens[this.pos + offset];
  }
  atEnd(): boolean {
    return this.pos >= this.tokens.length;
  }
  next(): Token {
    const t = this.tokens[this.pos];
    if (!t) throw this.error('unexpected end of line');
    this.pos++;
    return t;
  }
  /** True (and consumes) when the next token is the punctuation `text`. */
  eat(text: string): boolean {
    const t = this.tokens[this.pos];
    if (t && t.kind === TokenKind.Punct && t.text === text) {
      this.pos++;
      return true;
    }
    return false;
  }
  /** True (and consumes) when the next token is the identifier `word` (case-insensitive). */
  eatWord(word: string): boolean {
    const t = this.tokens[this.pos];
    if (t && t.kind === TokenKind.Ident && t.text.toLowerCase() === word) {
      this.pos++;
      return true;
    }
    return false;
  }
  expect(text: string): Token {
    const t = this.tokens[this.pos];
    if (!t || t.kind !== TokenKind.Punct || t.text !== text) throw this.error(`expected '${text}'${t ? ` before '${t.text}'` : ''}`);
    this.pos++;
    return t;
  }
  /** An error at the current token (or the end of the line). */
  error(message: string): AsmError {
    const t = this.tokens[this.pos];
    return t ? new AsmError(message, t.start, t.end) : new AsmError(message, this.lineLength, this.lineLength);
  }
}
