// The FRED examples (examples/fred/*.fred) run to the result their header documents: the `; =>` lines
// are the expected COM1 output and `; exit code:` the debug-exit code. A few trace facts per example
// pin what each one is about.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { assemble } from '../../../src/asm/index';
import { createMachine, type LoadableImage, type Machine } from '../../../src/machine/machine';
import type { DeliveryRecord, ReturnRecord } from '../../../src/machine/trace';

const DIR = join(__dirname, '../../../examples/fred');

function documented(source: string): { output: string; exitCode: number } {
  const lines = source.split('\n');
  const output = lines.filter((l) => l.startsWith('; => ')).map((l) => l.slice(5) + '\n').join('');
  const code = lines.find((l) => l.startsWith('; exit code:'));
  if (!code || !output) throw new Error('example header lacks "; =>" lines or "; exit code:"');
  return { output, exitCode: Number(code.slice('; exit code:'.length)) };
}

const deliveries = (m: Machine) => m.trace.records.filter((r) => r.kind === 'delivery') as DeliveryRecord[];
const returns = (m: Machine) => m.trace.records.filter((r) => r.kind === 'return') as ReturnRecord[];

/** What each example is about, checked on its trace. */
const FACTS: Record<string, (m: Machine) => void> = {
  'int3-redzone.fred': (m) => {
    expect(deliveries(m)).toMatchObject([{ mechanism: 'fred', type: 6, vector: 3, fromCpl: 0, stackSwitched: false, fromRsp: 0x1ff38n, frameAddress: 0x1fe80n }]);
    expect(returns(m).map((r) => r.instruction)).toEqual(['erets']);
  },
  'user-syscall.fred': (m) => {
    expect(deliveries(m).map((d) => [d.type, d.vector, d.fromCpl, d.stackSwitched])).toEqual([[7, 1, 3, true], [7, 1, 3, true]]);
    expect(returns(m).map((r) => [r.instruction, r.toCpl])).toEqual([['eretu', 3], ['eretu', 3]]);
  },
  'page-faults.fred': (m) => {
    expect(deliveries(m).map((d) => [d.vector, d.fromCpl, d.errorCode, d.eventData])).toEqual([[14, 0, 0, 0x40000000n], [14, 3, 5, 0x100000n]]);
  },
  'linux-stack-levels.fred': (m) => {
    expect(deliveries(m).map((d) => [d.type, d.vector, d.oldCsl, d.newCsl])).toEqual([[5, 1, 0, 1], [2, 2, 0, 2], [3, 8, 0, 3]]);
    expect(returns(m).map((r) => r.cslAfter)).toEqual([0, 0]);
  },
  'xen-layout.fred': (m) => {
    expect(deliveries(m).map((d) => [d.type, d.vector, d.newCsl, d.nested])).toEqual([[2, 2, 0, false], [3, 8, 3, false]]);
  },
  'nested.fred': (m) => {
    expect(deliveries(m)).toMatchObject([{ type: 3, vector: 14, nested: true, fromCpl: 3, newCsl: 2, eventData: 0x40000000n - 8n }]);
  },
  'timer.fred': (m) => {
    const ticks = deliveries(m);
    expect(ticks.length).toBe(3);
    for (const t of ticks) expect(t).toMatchObject({ type: 0, vector: 0x40, oldCsl: 0, newCsl: 1, stackSwitched: true, frameAddress: 0x14000n - 64n });
  },
  'early-idt.fred': (m) => {
    expect(deliveries(m).map((d) => [d.mechanism, d.vector])).toEqual([['idt', 6], ['fred', 6]]);
    expect(returns(m).map((r) => r.instruction)).toEqual(['iretq', 'erets']);
  },
};

describe('examples/fred', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.fred')).sort();

  it('has an example for every teaching point of the brief, each with trace facts', () => {
    expect(files).toEqual(Object.keys(FACTS).sort());
  });

  it.each(files)('%s runs to its documented result', (file) => {
    const source = readFileSync(join(DIR, file), 'utf8');
    const doc = documented(source);
    const asm = assemble(source, { fileName: file });
    expect(asm.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const m = createMachine(asm.image as unknown as LoadableImage, { maxInstructions: 1_000_000 });
    const stop = m.run();
    expect(m.output).toBe(doc.output);
    expect(stop).toMatchObject({ reason: 'debugExit', exitCode: doc.exitCode });
    FACTS[file](m);
  });
});
