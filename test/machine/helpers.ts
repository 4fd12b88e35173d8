// Test helpers: assemble a snippet with src/asm and boot a machine on it.
import { assemble } from '../../src/asm/index';
import { createMachine, type Machine, type MachineOptions } from '../../src/machine/machine';

export function assembleImage(source: string) {
  const result = assemble(`bits 64\norg 0x100000\n${source}`, { fileName: 'test.fred' });
  const errors = result.diagnostics.filter((d) => d.severity === 'error');
  if (errors.length) throw new Error(errors.map((d) => `${d.line}:${d.column}: ${d.message}`).join('\n'));
  return result.image;
}

/** Boot a machine on `source` (64-bit code at 0x100000). */
export function machineFor(source: string, options?: MachineOptions): Machine {
  return createMachine(assembleImage(source), options);
}

/** Run `source` to its stop and return the machine. */
export function runProgram(source: string, options?: MachineOptions, max = 1_000_000): Machine {
  const m = machineFor(source, options);
  const stop = m.run(max);
  (m as Machine & { lastStop?: unknown }).lastStop = stop;
  return m;
}

export function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}
