// The pure parts of data breakpoints and VM-exit breakpoints: dataIds round-trip, memory targets
// from watch expressions, which MSR writes can be watched, and exit-reason lists.
import { describe, expect, it } from 'vitest';
import { dataId, memoryTarget, msrTarget, parseDataId } from '../../src/debug/dataBreakpoints';
import { parseExitReasons } from '../../src/debug/breakpoints';
import { ExpressionError } from '../../src/debug/expressions';

const symbols = new Map([['counter', 0x102000n]]);
const evaluate = (text: string) => {
  if (/^(0x[0-9a-f]+|\d+)$/i.test(text.trim())) return BigInt(text.trim());
  if (symbols.has(text.trim())) return symbols.get(text.trim())!;
  if (text.trim() === 'counter+8') return 0x102008n;
  throw new ExpressionError(`unknown name '${text.trim()}'`);
};

describe('data targets', () => {
  it('dataIds round-trip; foreign or malformed ids are not ours', () => {
    for (const t of [{ kind: 'memory', address: 0x102000n, bytes: 8 }, { kind: 'msr', name: 'IA32_FRED_CONFIG' }] as const) expect(parseDataId(dataId(t))).toEqual(t);
    expect(parseDataId('msr:FRED_CONFIG')).toEqual({ kind: 'msr', name: 'IA32_FRED_CONFIG' }); // aliases resolve to the table's name
    for (const id of ['mem:0x10:0', 'mem:0x10:5000', 'mem:16:8', 'msr:IA32_EFER', 'msr:NOPE', 'var:rax']) expect(parseDataId(id), id).toBeUndefined();
  });

  it('memory from labels, memory operands and addresses; anything else says how', () => {
    expect(memoryTarget('counter', evaluate, symbols)).toEqual({ kind: 'memory', address: 0x102000n, bytes: 8 });
    expect(memoryTarget('word ptr [counter+8]', evaluate, symbols)).toEqual({ kind: 'memory', address: 0x102008n, bytes: 2 });
    expect(memoryTarget('0x2000', evaluate, symbols, 3, true)).toEqual({ kind: 'memory', address: 0x2000n, bytes: 3 });
    expect(() => memoryTarget('42', evaluate, symbols)).toThrow("'42' is not memory: watch [address], dword [address] or a label");
    expect(() => memoryTarget('[counter]', evaluate, symbols, 4097)).toThrow('a data breakpoint covers 1 to 4096 bytes (got 4097)');
  });

  it('only MSRs whose writes are on the trace can be watched', () => {
    expect(msrTarget('IA32_FRED_STKLVLS')).toEqual({ kind: 'msr', name: 'IA32_FRED_STKLVLS' });
    expect(msrTarget('IA32_STAR')).toEqual({ kind: 'msr', name: 'IA32_STAR' });
    expect(msrTarget('IA32_LSTAR')).toBe('writes to IA32_LSTAR are not on the trace (only the FRED MSRs, IA32_STAR and IA32_KERNEL_GS_BASE are)');
    expect(msrTarget('rax')).toBe('rax is not an MSR');
  });
});

describe('parseExitReasons', () => {
  it('names, prefixed names, numbers and * ; errors name the bad item', () => {
    expect(parseExitReasons('EPT_VIOLATION, cpuid, EXIT_REASON_HLT, 0x1e')).toEqual({ ok: true, reasons: new Set([48, 10, 12, 30]) });
    expect(parseExitReasons('*')).toEqual({ ok: true, reasons: undefined });
    expect(parseExitReasons('')).toEqual({ ok: true, reasons: undefined });
    const bad = parseExitReasons('CPUID, 35');
    expect(bad.ok).toBe(false);
    expect(!bad.ok && bad.message).toMatch(/^'35' is not a VM-exit reason/); // 35 is unused by the SDM
  });
});
