import { describe, expect, it } from 'vitest';
import { LexError, TokenKind, parseNumber, tokenize } from '../../src/asm/lexer';

describe('lexer', () => {
  it('reads numbers in every NASM radix spelling', () => {
    const cases: [string, bigint][] = [
      ['0x1F', 31n], ['0X1f', 31n], ['1Fh', 31n], ['0h1F', 31n], ['0b101', 5n], ['101b', 5n], ['0y11', 3n], ['0o17', 15n],
      ['17q', 15n], ['17o', 15n], ['99', 99n], ['0d99', 99n], ['99d', 99n], ['1_000', 1000n], ['0xFFFF_FFFF_FFFF_FFFF', (1n << 64n) - 1n],
    ];
    for (const [text, value] of cases) expect(parseNumber(text, 0, text.length), text).toBe(value);
  });

  it('rejects malformed numbers and values over 64 bits', () => {
    expect(() => parseNumber('0x', 0, 2)).toThrow(LexError);
    expect(() => parseNumber('12z', 0, 3)).toThrow(/invalid number/);
    expect(() => parseNumber('0x10000000000000000', 0, 19)).toThrow(/64 bits/);
  });

  it('splits a line into tokens with columns and stops at the comment', () => {
    const tokens = tokenize("  mov rax, [rbx+8] ; comment 'x");
    expect(tokens.map((t) => t.text)).toEqual(['mov', 'rax', ',', '[', 'rbx', '+', '8', ']']);
    expect(tokens[1].start).toBe(6);
    expect(tokens[6].kind).toBe(TokenKind.Number);
  });

  it('reads strings, backquote escapes, $ and $$ and two-character operators', () => {
    const [a, b, c] = tokenize('"a;b" \'x\' `\\n\\x41`');
    expect(Array.from(a.bytes!)).toEqual([97, 59, 98]);
    expect(Array.from(b.bytes!)).toEqual([120]);
    expect(Array.from(c.bytes!)).toEqual([10, 0x41]);
    expect(tokenize('$ $$ << >> // %%').map((t) => t.text)).toEqual(['$', '$$', '<<', '>>', '//', '%%']);
  });

  it('reports unterminated strings and stray characters with their column', () => {
    expect(() => tokenize('db "abc')).toThrow(/unterminated string/);
    try {
      tokenize('mov rax, #1');
    } catch (e) {
      expect((e as LexError).start).toBe(9);
    }
  });
});
