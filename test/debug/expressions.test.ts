// The expression evaluator on its own (precedence, sizes, errors) with a hand-made context.
import { describe, expect, it } from 'vitest';
import { ExpressionError, evaluateExpression, type EvalContext } from '../../src/debug/expressions';

const memory = new Map<bigint, number>([[0x1000n, 0x11], [0x1001n, 0x22], [0x1002n, 0x33], [0x1003n, 0x44], [0x1004n, 0x55], [0x1005n, 0x66], [0x1006n, 0x77], [0x1007n, 0x88]]);
const ctx: EvalContext = {
  register: (name) => ({ rax: 5n, rsp: 0xff8n } as Record<string, bigint>)[name],
  symbol: (name) => (name === 'table' ? 0x1000n : undefined),
  msr: (name) => (name === 'IA32_STAR' ? 0x23n : undefined),
  load: (address, size) => {
    let v = 0n;
    for (let k = size - 1; k >= 0; k--) {
      const b = memory.get(address + BigInt(k));
      if (b === undefined) throw new ExpressionError(`unmapped 0x${(address + BigInt(k)).toString(16)}`);
      v = (v << 8n) | BigInt(b);
    }
    return v;
  },
};
const ev = (text: string) => evaluateExpression(text, ctx);

describe('evaluateExpression', () => {
  it('follows C precedence and wraps to 64 bits', () => {
    expect(ev('1 + 2 * 3')).toBe(7n);
    expect(ev('(1 + 2) * 3')).toBe(9n);
    expect(ev('1 << 4 | 1')).toBe(17n);
    expect(ev('rax == 5 && rax < 6')).toBe(1n);
    expect(ev('0 - 1')).toBe(0xffffffffffffffffn);
    expect(ev('~0 >> 60')).toBe(15n);
    expect(ev('0x1_0000 + 0b101')).toBe(0x10005n);
    expect(ev('!rax')).toBe(0n);
  });

  it('reads memory with the default qword size and with size keywords', () => {
    expect(ev('[rsp + 8]')).toBe(0x8877665544332211n);
    expect(ev('dword [table]')).toBe(0x44332211n);
    expect(ev('word ptr [table + 6]')).toBe(0x8877n);
    expect(ev('byte [table] + IA32_STAR')).toBe(0x11n + 0x23n);
  });

  it('says what is wrong and where', () => {
    expect(() => ev('rax + nothing')).toThrow(/unknown name 'nothing' at column 7/);
    expect(() => ev('(1 + 2')).toThrow(/expected '\)' at the end/);
    expect(() => ev('1 # 2')).toThrow(/unexpected '#' at column 3/);
    expect(() => ev('4 % 0')).toThrow(/division by zero at column 3/);
    expect(() => ev('[0x2000]')).toThrow(/unmapped 0x2007/);
    expect(() => ev('')).toThrow(/empty expression/);
    expect(() => ev('1 2')).toThrow(/unexpected '2' at column 3/);
  });
});
