// Each example program runs to its documented result (docs/machine.md "Examples").
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { assemble } from '../../src/asm/index';
import { createMachine } from '../../src/machine/machine';
import type { DeliveryRecord } from '../../src/machine/trace';

function runExample(name: string) {
  const path = `examples/${name}`;
  const result = assemble(readFileSync(path, 'utf8'), { fileName: path });
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  const machine = createMachine(result.image);
  return { machine, stop: machine.run(1_000_000) };
}

describe('examples', () => {
  test('hello.fred prints, takes #BP through the IDT, returns and exits with code 0', () => {
    const { machine, stop } = runExample('hello.fred');
    expect(stop).toMatchObject({ reason: 'debugExit', exitCode: 0 });
    expect(machine.output).toBe('Hello from FRED Lab\n  #BP handled through the IDT\nBack from the handler\n');
    const deliveries = machine.trace.records.filter((r): r is DeliveryRecord => r.kind === 'delivery');
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]).toMatchObject({ mechanism: 'idt', type: 6, vector: 3, fromCpl: 0 });
    expect(machine.trace.records.map((r) => r.kind)).toEqual(['output', 'delivery', 'output', 'return', 'output', 'debugExit']);
  });

  test('usermode.fred: ring 3, SYSCALL/SYSRET, a #PF from ring 3 on the RSP0 stack, exit code 7', () => {
    const { machine, stop } = runExample('usermode.fred');
    expect(stop).toMatchObject({ reason: 'debugExit', exitCode: 7 });
    expect(machine.output).toBe('user: hello from ring 3\nkernel: page fault from ring 3, error code 6\nuser: back after the page fault\n');
    const pf = machine.trace.records.find((r): r is DeliveryRecord => r.kind === 'delivery');
    expect(pf).toMatchObject({ vector: 14, errorCode: 6, fromCpl: 3, stackSwitched: true, frameAddress: 0x20000n - 48n });
    expect(machine.trace.records.filter((r) => r.kind === 'return').map((r) => (r as { instruction: string }).instruction)).toEqual(['iretq', 'sysret', 'iretq', 'sysret']);
  });
});
