// Evaluate (watch, hover, repl): registers, labels, arithmetic, memory, MSR names, console commands;
// completions; disassemble; readMemory / writeMemory.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { failure, fixture, inProcess, launchStopped, value, type Harness } from './helpers';

let h: Harness;
beforeEach(async () => {
  h = await inProcess();
  await launchStopped(h.dc, fixture('loop.fred'));
});
afterEach(async () => {
  await h.close();
});

const repl = async (expression: string) => (await h.dc.evaluateRequest({ expression, context: 'repl' })).body.result;

describe('evaluate', () => {
  it('registers, sub-registers, labels, arithmetic and comparisons', async () => {
    expect(await value(h.dc, 'rip')).toBe(0x100000n);
    expect(await value(h.dc, 'rsp - 8')).toBe(0x20000n - 8n);
    expect(await value(h.dc, 'esp')).toBe(0x20000n);
    expect(await value(h.dc, '(add_one - _start) * 2')).toBe(((await value(h.dc, 'add_one')) - 0x100000n) * 2n);
    expect(await value(h.dc, 'rip == _start')).toBe(1n);
    expect(await value(h.dc, '-1')).toBe(0xffffffffffffffffn);
  });

  it('memory with sizes, and MSR names', async () => {
    expect(await value(h.dc, 'qword [counter]')).toBe(0x1122334455667788n);
    expect(await value(h.dc, 'dword [counter + 4]')).toBe(0x11223344n);
    expect(await value(h.dc, 'byte [counter]')).toBe(0x88n);
    expect(await value(h.dc, '[counter]')).toBe(0x1122334455667788n);
    expect(await value(h.dc, 'IA32_STAR')).toBe(0x0023_0010_0000_0000n);
    expect(await value(h.dc, 'EFER & 0x100')).toBe(0x100n);
  });

  it('the result carries a memory reference and the decimal value', async () => {
    const r = await h.dc.evaluateRequest({ expression: 'counter', context: 'hover' });
    expect(r.body.memoryReference).toBe(r.body.result.split(' ')[0]);
    expect(r.body.result).toMatch(/^0x[0-9a-f]+ \(\d+\)$/);
  });

  it('errors say what and where', async () => {
    expect(await failure(h.dc.evaluateRequest({ expression: 'rax +', context: 'watch' }))).toMatch(/ends too early/);
    expect(await failure(h.dc.evaluateRequest({ expression: 'nosuch', context: 'watch' }))).toMatch(/unknown name 'nosuch' at column 1/);
    expect(await failure(h.dc.evaluateRequest({ expression: 'qword [0x7000000000]', context: 'watch' }))).toMatch(/cannot read 8 byte\(s\) at 0x7000000000/);
    expect(await failure(h.dc.evaluateRequest({ expression: '1 / 0', context: 'watch' }))).toMatch(/division by zero/);
  });

  it('console commands: info fred, x/NFU, help', async () => {
    expect(await repl('info fred')).toMatch(/CR4\.FRED = 0[\s\S]*IA32_FRED_CONFIG = 0x0[\s\S]*No active event\./);
    const address = await value(h.dc, 'counter');
    expect(await repl('x/2gx counter')).toBe(`0x${address.toString(16)}: 0x1122334455667788 0x0000000000000000`);
    expect(await repl('x/4bx counter')).toBe(`0x${address.toString(16)}: 0x88 0x77 0x66 0x55`);
    expect(await repl('help')).toContain('x/NFU ADDR');
    expect(await failure(h.dc.evaluateRequest({ expression: 'x/2gx', context: 'repl' }))).toMatch(/unknown name|usage/);
  });

  it('completions: registers, labels, MSRs and commands', async () => {
    const labels = (await h.dc.completionsRequest({ text: 'add', column: 4 })).body.targets.map((t) => t.label);
    expect(labels).toContain('add_one');
    const msrs = (await h.dc.completionsRequest({ text: 'rax + IA32_FRED_C', column: 18 })).body.targets;
    expect(msrs.map((t) => t.label)).toEqual(['IA32_FRED_CONFIG']);
    expect(msrs[0]).toMatchObject({ start: 6, length: 11 });
    const commands = (await h.dc.completionsRequest({ text: 'inf', column: 4 })).body.targets.map((t) => t.label);
    expect(commands).toContain('info fred');
  });
});

describe('disassemble and memory', () => {
  it('disassembles in NASM syntax with labels and source lines, forwards and backwards', async () => {
    const add = await value(h.dc, 'add_one');
    const r = await h.dc.disassembleRequest({ memoryReference: `0x${add.toString(16)}`, instructionOffset: -2, instructionCount: 4, resolveSymbols: true });
    const list = r.body!.instructions;
    expect(list.map((i) => i.instruction)).toEqual(['out     0F4h,al', 'hlt', 'inc     rax', 'ret']);
    expect(list[2]).toMatchObject({ address: `0x${add.toString(16)}`, symbol: 'add_one', line: 22, instructionBytes: '48 ff c0' });
    expect(list[0].location?.path).toBe(fixture('loop.fred'));
  });

  it('readMemory returns base64 bytes and counts unreadable ones', async () => {
    const counter = await value(h.dc, 'counter');
    const r = await h.dc.customRequest('readMemory', { memoryReference: `0x${counter.toString(16)}`, count: 8 });
    const body = r.body as DebugProtocol.ReadMemoryResponse['body'];
    expect(Buffer.from(body!.data!, 'base64').toString('hex')).toBe('8877665544332211');
    const top = (8n << 20n) - 4n; // the last 4 bytes of the 8 MiB of RAM, then unmapped
    const edge = (await h.dc.customRequest('readMemory', { memoryReference: `0x${top.toString(16)}`, count: 16 })).body as DebugProtocol.ReadMemoryResponse['body'];
    expect(edge!.unreadableBytes).toBe(12);
  });

  it('writeMemory writes guest memory; an unmapped range is an error and writes nothing', async () => {
    const counter = await value(h.dc, 'counter');
    await h.dc.customRequest('writeMemory', { memoryReference: `0x${counter.toString(16)}`, data: Buffer.from([1, 2, 3, 4]).toString('base64') });
    expect(await value(h.dc, 'dword [counter]')).toBe(0x04030201n);
    expect(await failure(h.dc.customRequest('writeMemory', { memoryReference: '0x7000000000', data: 'AAAA' }))).toMatch(/not mapped; nothing was written/);
    expect(await failure(h.dc.customRequest('readMemory', { memoryReference: 'counter', count: 4 }))).toMatch(/'counter' is not an address/);
  });
});
