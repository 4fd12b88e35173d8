// The monitor examples (examples/vmx/*.fred): each documented `fred-lab run` command line runs to the
// output, stop and exit status its header promises, and the trace shows what the example is about.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { documentedRuns, runJson, type JsonRun } from './documented';

const DIR = 'examples/vmx';

type Rec = JsonRun['trace'][number];
const kind = (doc: JsonRun, k: string): Rec[] => doc.trace.filter((r) => r.kind === k);
const exits = (doc: JsonRun, reason?: number): Rec[] => kind(doc, 'vmexit').filter((r) => reason === undefined || r.basicReason === reason);
/** The VM entry that follows a VM exit (the one that resumes the guest after handling it). */
const entryAfter = (doc: JsonRun, exit: Rec): Rec | undefined => doc.trace.slice(doc.trace.indexOf(exit)).find((r) => r.kind === 'vmentry');
const between = (doc: JsonRun, from: Rec | undefined, to: Rec | undefined): Rec[] =>
  doc.trace.slice(from ? doc.trace.indexOf(from) : 0, to ? doc.trace.indexOf(to) : undefined);

/** What each example is about, checked on the trace of its runs under the monitor (doc.vmx set). */
const FACTS: Record<string, (doc: JsonRun, args: readonly string[]) => void> = {
  'pf-reinjection.fred': (doc) => {
    // The EPT violation interrupts the #PF's delivery: IDT-vectoring information and original-event data…
    const [during] = exits(doc, 48).filter((r) => r.idtVectoringInfo !== 0);
    expect(during).toMatchObject({ idtVectoringInfo: 0x80000b0e, idtVectoringErrorCode: 4, originalEventData: '0x40000000' });
    // …become the next VM entry's injected event, and the delivery that follows is the injected one.
    expect(entryAfter(doc, during)).toMatchObject({ injectedInterruptionInfo: 0x80000b0e, injectedErrorCode: 4, injectedEventData: '0x40000000' });
    expect(kind(doc, 'delivery')).toMatchObject([{ type: 3, vector: 14, errorCode: 4, eventData: '0x40000000', frameAddress: '0x17ffc0', injected: true }]);
  },
  'hypercall-inject.fred': (doc) => {
    // The entry after each hypercall injects what RBX asked for (an EPT violation on a fresh stack
    // page may interrupt a delivery: then the event is re-injected, and only the delivery that
    // completes is a `delivery` record).
    expect(exits(doc, 18).slice(0, 5).map((e) => entryAfter(doc, e)?.injectedInterruptionInfo)).toEqual([0x80000202, 0x80000b0e, 0x80002b0e, 0x80000b08, 0x80000701]);
    // Hypercall 0 prints without port I/O (an `output` record of the hypercall device); 1 ends the run.
    expect(kind(doc, 'output').filter((r) => r.device === 'hypercall').map((r) => r.text)).toEqual(['printed by hypercall 0; hypercall 1 ends the run with exit code 5\n']);
    expect(exits(doc, 18)).toHaveLength(7);
    expect(entryAfter(doc, exits(doc, 18)[1])).toMatchObject({ injectedErrorCode: 2, injectedEventData: '0x7fff0000' });
    expect(entryAfter(doc, exits(doc, 18)[4])).toMatchObject({ instructionLength: 2 });
    expect(kind(doc, 'delivery').map((d) => [d.type, d.vector, d.nested, d.injected])).toEqual([
      [2, 2, false, true], [3, 14, false, true], [3, 14, true, true], [3, 8, false, true], [7, 1, false, true]]);
  },
  'hypercall-refused.fred': (doc) => {
    expect(doc.trace.at(-1)).toMatchObject({ kind: 'vmentryFailure', field: 'VM_ENTRY_INTR_INFO_FIELD', value: '0x80002202', failure: 'vmfail', errorNumber: 7 });
    expect(doc.stop.message).toMatch(/13/);
    expect(kind(doc, 'delivery')).toEqual([]);
  },
  'icebp.fred': (doc, args) => {
    const quirks = args.includes('--vmx-config');
    // #DB is intercepted (KVM since CVE-2015-8104): ICEBP exits as a type-5 event…
    const [icebp] = exits(doc, 0);
    expect(exits(doc, 0)).toMatchObject([{ exitInterruptionInfo: 0x80000501 }]);
    // …and is re-injected as type 5 with its length, or as v9 does, as a type-3 #DB.
    expect(entryAfter(doc, icebp)).toMatchObject(quirks ? { injectedInterruptionInfo: 0x80000301 } : { injectedInterruptionInfo: 0x80000501, instructionLength: 1 });
    expect(kind(doc, 'delivery')).toMatchObject([{ type: quirks ? 3 : 5, vector: 1, injected: true }]);
  },
  'rsp0-across-exits.fred': (doc) => {
    expect(Object.values(doc.vmx!.vmcs).flatMap((g) => Object.keys(g)).filter((f) => f.includes('FRED_RSP0'))).toEqual([]);
    const syscalls = kind(doc, 'delivery');
    expect(syscalls.map((d) => d.frameAddress)).toEqual(['0x27ffc0', '0x28ffc0']);
    const reasons = (records: Rec[]) => new Set(records.filter((r) => r.kind === 'vmexit').map((r) => r.basicReason));
    const before = reasons(between(doc, undefined, syscalls[0]));
    for (const reason of [10, 28, 31]) expect(before).toContain(reason); // CPUID, CR access, RDMSR
    const inBetween = reasons(between(doc, syscalls[0], syscalls[1]));
    for (const reason of [10, 30]) expect(inBetween).toContain(reason); // CPUID from ring 3, I/O
    expect(exits(doc, 32)).toEqual([]); // WRMSR of the FRED MSRs is passed through
  },
  'timer-injected.fred': (doc) => {
    expect(exits(doc, 12).length).toBeGreaterThanOrEqual(2); // the vCPU waits in the monitor
    const ticks = kind(doc, 'delivery');
    for (const tick of ticks) expect(between(doc, undefined, tick).filter((r) => r.kind === 'vmentry').at(-1)).toMatchObject({ injectedInterruptionInfo: 0x80000040 });
    expect(ticks.map((d) => [d.type, d.vector, d.newCsl, d.frameAddress, d.injected]))
      .toEqual([[0, 0x40, 2, '0x24ffc0', true], [0, 0x40, 2, '0x24ffc0', true]]);
  },
  'interrupt-window.fred': (doc) => {
    // The NMI is injected at once (IF does not mask it); the interrupt waits for the window after STI.
    const [window] = exits(doc, 7);
    expect(entryAfter(doc, window)).toMatchObject({ injectedInterruptionInfo: 0x80000030 });
    expect(kind(doc, 'delivery').map((d) => [d.type, d.vector, d.injected])).toEqual([[2, 2, true], [0, 0x30, true]]);
    expect(doc.trace.indexOf(kind(doc, 'delivery')[1])).toBeGreaterThan(doc.trace.indexOf(window));
  },
  'pf-intercept.fred': (doc, args) => {
    const intercepted = exits(doc, 0);
    if (args.includes('--vmx-config')) {
      expect(intercepted).toMatchObject([{ exitInterruptionInfo: 0x80000b0e, exitInterruptionErrorCode: 2, qualification: '0x40000000' }]);
      expect(entryAfter(doc, intercepted[0])).toMatchObject({ injectedInterruptionInfo: 0x80000b0e, injectedErrorCode: 2, injectedEventData: '0x40000000' });
      expect(kind(doc, 'delivery')).toMatchObject([{ vector: 14, injected: true }]);
    } else expect(intercepted).toEqual([]);
  },
};

describe('examples/vmx', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.fred')).sort();

  it('has trace facts for every example', () => {
    expect(files).toEqual(Object.keys(FACTS).sort());
  });

  const runs = files.flatMap((file) => documentedRuns(readFileSync(join(DIR, file), 'utf8')).map((run) => ({ file, ...run })));
  it.each(runs.map((r) => [`${r.file}: fred-lab run ${r.args.join(' ')}`, r] as const))('%s', async (_name, run) => {
    const { code, doc } = await runJson(run.args);
    expect(doc.output).toBe(run.output);
    expect(doc.stop.reason).toBe(run.stop);
    expect(code).toBe(run.exitCode);
    if (doc.vmx) FACTS[run.file](doc, run.args);
  });
});
