// Transparency (issue 5, ARCHITECTURE §5): a program cannot tell whether it runs on bare metal or under
// the monitor. Every example (examples/*.fred, examples/fred/*.fred, the examples/vmx/*.fred that
// document a --no-vmx run) and every FRED conformance scenario of test/machine/fred that runs whole
// runs three times — bare, under the monitor with eager EPT, under the monitor with lazy EPT — and the
// guest-visible results must be identical: COM1 output, final GPRs/RIP/RFLAGS, stop reason and exit
// code, every delivery and return record (the monitor's own fields aside: `injected`, the instruction
// count of each record), every frame as it was in memory the moment it was delivered, and the final
// instruction count (the guest's TSC). A difference is a monitor bug; the failure names the first
// differing item.
//
// The conformance scenarios are not copied here: the conformance test files are imported (their tests
// run once more in this file, bare, as they are) with createMachine wrapped to record each machine they
// build. A scenario "runs whole" when a fresh machine built from the same image and options, run to its
// stop, ends exactly where the test's machine ended (tests that poke memory or registers before running
// do not qualify: the monitor could not know about the poke).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { assemble } from '../../src/asm/index';
import type { LoadableImage, Machine, MachineOptions } from '../../src/machine/machine';
import { DEFAULT_VMX_POLICY } from '../../src/machine/vmx/policy';
import { documentedRuns } from './documented';

interface Built { test: string; image: LoadableImage; options: MachineOptions; machine: Machine }
const built = vi.hoisted(() => ({ recording: true, list: [] as Built[] }));
const realMachine = vi.hoisted(() => ({ createMachine: undefined as unknown as typeof import('../../src/machine/machine').createMachine }));

vi.mock('../../src/machine/machine', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/machine/machine')>();
  realMachine.createMachine = real.createMachine;
  return {
    ...real,
    createMachine: (image: LoadableImage, options: MachineOptions = {}) => {
      const machine = real.createMachine(image, options);
      if (built.recording) built.list.push({ test: expect.getState().currentTestName ?? '?', image, options, machine });
      return machine;
    },
  };
});

describe('FRED conformance scenarios, run as they are (recorded for the comparison below)', async () => {
  await import('../machine/fred/events.test');
  await import('../machine/fred/erets.test');
  await import('../machine/fred/eretu.test');
  await import('../machine/fred/instructions.test');
  await import('../machine/fred/switch.test');
});

const MODES: Readonly<Record<string, MachineOptions['vmx']>> = {
  'bare metal': false,
  'monitor, eager EPT': { ...DEFAULT_VMX_POLICY, ept: 'eager' },
  'monitor, lazy EPT': { ...DEFAULT_VMX_POLICY, ept: 'lazy' },
};

const jsonable = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? `0x${x.toString(16)}` : x)));

/** The final state a test's machine ended in (to decide whether a fresh run reproduces it). */
function finalState(m: Machine): unknown {
  return jsonable({
    output: m.output, icount: m.icount, rip: m.getRip(), rflags: m.getRflags(),
    gprs: Array.from({ length: 16 }, (_, i) => m.getGpr(i)), trace: m.trace.records,
  });
}

/** The slots of a frame in memory, lowest address first (fred-architecture.md §3.2; SDM §6.14.2). */
const FRED_FRAME = ['errorCode', 'rip', 'csWord', 'rflags', 'rsp', 'ssWord', 'eventData', 'reserved'];
const IDT_FRAME = ['rip', 'cs', 'rflags', 'rsp', 'ss'];

/** A run to its stop, with everything the guest can observe of it in a comparable form. */
function guestRun(image: LoadableImage, options: MachineOptions, vmx: MachineOptions['vmx']): { machine: Machine; view: Record<string, unknown> } {
  const m = realMachine.createMachine(image, { ...options, vmx });
  const frames: unknown[] = [];
  m.trace.subscribe((r) => {
    if (r.kind !== 'delivery') return;
    const slots = r.mechanism === 'fred' ? FRED_FRAME : r.errorCode !== undefined ? ['errorCode', ...IDT_FRAME] : IDT_FRAME;
    const bytes = m.tryReadMemory(r.frameAddress, slots.length * 8);
    if (!bytes.ok) return frames.push(`unreadable: ${bytes.message}`);
    const view = new DataView(bytes.bytes.buffer, bytes.bytes.byteOffset, bytes.bytes.byteLength);
    frames.push(Object.fromEntries(slots.map((name, k) => [name, view.getBigUint64(8 * k, true)])));
  });
  const stop = m.run();
  const events = m.trace.records.filter((r) => r.kind === 'delivery' || r.kind === 'return')
    .map(({ icount: _icount, ...r }) => ('injected' in r ? { ...r, injected: undefined } : r));
  const view = jsonable({
    stop: { reason: stop.reason, exitCode: stop.exitCode, rip: stop.rip },
    output: m.output,
    rip: m.getRip(), rflags: m.getRflags(),
    gprs: Object.fromEntries(['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'].map((n, i) => [n, m.getGpr(i)])),
    events,
    frames,
    // RDTSC reads the retired-instruction count (deterministic time), so the count is guest-visible.
    tsc: m.icount,
  }) as Record<string, unknown>;
  return { machine: m, view };
}

/** The first place two views differ, as "path: a ≠ b"; undefined when they are identical. */
function firstDifference(a: unknown, b: unknown, path = ''): string | undefined {
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) {
      const d = firstDifference((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}${Array.isArray(a) ? `[${k}]` : `.${k}`}`);
      if (d) return d;
    }
    return undefined;
  }
  return a === b ? undefined : `${path.slice(path.startsWith('.') ? 1 : 0)}: ${JSON.stringify(a)} ≠ ${JSON.stringify(b)}`;
}

/** The first difference between a bare run and each monitor run, prefixed with the mode. */
function transparencyDifference(image: LoadableImage, options: MachineOptions, bare = guestRun(image, options, false).view): string | undefined {
  for (const mode of Object.keys(MODES).filter((name) => MODES[name] !== false)) {
    const d = firstDifference(bare, guestRun(image, options, MODES[mode]).view);
    if (d) return `${mode} differs from bare metal at ${d}`;
  }
  return undefined;
}

function exampleImage(path: string): LoadableImage {
  const r = assemble(readFileSync(path, 'utf8'), { fileName: path, readFile: (p) => readFileSync(p, 'utf8') });
  if (!r.ok) throw new Error(`${path} does not assemble`);
  return r.image as unknown as LoadableImage;
}

describe('transparency: bare metal = monitor with eager EPT = monitor with lazy EPT', () => {
  const fredFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.fred')).map((f) => join(dir, f));
  // The monitor examples that also run bare (their header documents a --no-vmx run); the others
  // use hypercalls, which are #UD on bare metal.
  const bareToo = (path: string) => documentedRuns(readFileSync(path, 'utf8')).some((r) => r.args.includes('--no-vmx'));
  const examples = [...fredFiles('examples'), ...fredFiles('examples/fred'), ...fredFiles('examples/vmx').filter(bareToo)].sort();

  it.each(examples)('%s', (path) => {
    built.recording = false;
    expect(transparencyDifference(exampleImage(path), { maxInstructions: 1_000_000 })).toBeUndefined();
  });

  it('every FRED conformance scenario that runs whole', () => {
    built.recording = false;
    const whole = built.list.map((b) => ({ ...b, bare: guestRun(b.image, b.options, false) }))
      .filter((b) => JSON.stringify(finalState(b.bare.machine)) === JSON.stringify(finalState(b.machine)));
    // About half the scenarios run whole (the others poke the machine first); far fewer means the
    // recording broke.
    expect(whole.length).toBeGreaterThan(built.list.length / 3);
    const differences = whole.map((b) => ({ test: b.test, difference: transparencyDifference(b.image, b.options, b.bare.view) })).filter((d) => d.difference);
    expect(differences).toEqual([]);
  });
});
