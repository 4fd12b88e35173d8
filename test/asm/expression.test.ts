import { describe, expect, it } from 'vitest';
import { Cursor } from '../../src/asm/cursor';
import { evaluate, parseExpression, type EvalContext, type Value } from '../../src/asm/expression';
import { tokenize } from '../../src/asm/lexer';
import { bytesOf, errorsOf } from './helpers';

function value(text: string, symbols: Record<string, Value> = {}): bigint {
  const ctx: EvalContext = { final: true, lookup: (name) => symbols[name] };
  return evaluate(parseExpression(new Cursor(tokenize(text), text.length)), ctx).value;
}

describe('expressions', () => {
  it('follows NASM precedence', () => {
    expect(value('1 + 2 * 3')).toBe(7n);
    expect(value('(1 + 2) * 3')).toBe(9n);
    expect(value('1 << 4 | 1')).toBe(17n);
    expect(value('6 & 3 ^ 1')).toBe(3n); // & binds tighter than ^
    expect(value('1 | 2 ^ 3')).toBe(1n | (2n ^ 3n));
    expect(value('-2 * -3')).toBe(6n);
    expect(value('~0')).toBe(-1n);
    expect(value('10 - 4 - 3')).toBe(3n);
  });

  it('divides unsigned with / and %, signed with // and %%', () => {
    expect(value('7 / 2')).toBe(3n);
    expect(value('-8 / 2')).toBe(0x7ffffffffffffffcn);
    expect(value('-8 // 2')).toBe(-4n);
    expect(value('-7 %% 2')).toBe(-1n);
    expect(value('7 % 4')).toBe(3n);
  });

  it('wraps at 64 bits and shifts logically', () => {
    expect(value('0xFFFFFFFFFFFFFFFF + 2')).toBe(1n);
    expect(value('1 << 63')).toBe(-(1n << 63n));
    expect(value('-1 >> 60')).toBe(15n);
    expect(value('1 << 64')).toBe(0n);
  });

  it('reads character constants little-endian', () => {
    expect(value("'A'")).toBe(0x41n);
    expect(value("'AB'")).toBe(0x4241n);
    expect(value("'A' + 1")).toBe(0x42n);
  });

  it('tracks whether a value is an address', () => {
    const ctx: EvalContext = { final: true, lookup: (n) => (n === 'a' || n === 'b' ? { value: n === 'a' ? 0x1000n : 0x1010n, reloc: 1, unknown: false } : undefined) };
    const ev = (t: string) => evaluate(parseExpression(new Cursor(tokenize(t), t.length)), ctx);
    expect(ev('a + 4').reloc).toBe(1);
    expect(ev('b - a')).toEqual({ value: 16n, reloc: 0, unknown: false });
  });

  it('reports division by zero and undefined symbols at their columns', () => {
    expect(errorsOf('dq 1 / 0')).toEqual(['1:4: division by zero']);
    expect(errorsOf('dq 5 %% (2 - 2)')).toEqual(['1:4: division by zero']);
    expect(errorsOf('  mov rax, missing + 1')).toEqual(["1:12: undefined symbol 'missing'"]);
  });

  it('uses the built-in architectural constants, which cannot be redefined', () => {
    expect(value('1', {})).toBe(1n);
    expect(bytesOf('mov ecx, IA32_FRED_CONFIG\nmov rax, CR4_FRED\nmov edx, GUEST_RIP')).toBe('b9d4010000' + '48b80000000001000000' + 'ba1e680000');
    expect(errorsOf('CR4_FRED equ 5')[0]).toMatch(/^1:1: 'CR4_FRED' is a built-in constant \(0x100000000\) and cannot be redefined/);
    expect(errorsOf('GUEST_RIP:\n nop')[0]).toMatch(/built-in constant \(0x681e\)/);
  });
});
