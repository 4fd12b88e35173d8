// Helpers for the monitor tests: run a program under the monitor (or bare), pick trace records, and
// stop at a VM exit to look at the VMCS as the exit left it.
import type { Machine, MachineOptions, StopReason } from '../../../src/machine/machine';
import type { DeliveryRecord, TraceRecord, VmEntryRecord, VmExitRecord } from '../../../src/machine/trace';
import { DEFAULT_VMX_POLICY, type VmxPolicy } from '../../../src/machine/vmx/policy';
import { boot, fredSource, program, type FredProgramParts, type Program } from '../fred/harness';

export const KVM = DEFAULT_VMX_POLICY;
export const EAGER: VmxPolicy = { ...DEFAULT_VMX_POLICY, ept: 'eager' };

export function policy(changes: Partial<VmxPolicy>): VmxPolicy {
  return { ...DEFAULT_VMX_POLICY, ...changes };
}

export interface Run {
  p: Program;
  m: Machine;
  stop: StopReason;
}

/** Assemble `source` (a whole program) and run it to its stop. */
export function runSource(source: string, vmx: VmxPolicy | false = KVM, options: MachineOptions = {}, before?: (m: Machine) => void): Run {
  const p = program(source);
  const m = boot(p, { vmx, ...options });
  before?.(m);
  return { p, m, stop: m.run() };
}

/** A FRED program (test/machine/fred harness) run under the monitor. */
export function runFred(parts: FredProgramParts, vmx: VmxPolicy | false = KVM, options: MachineOptions = {}, before?: (m: Machine) => void): Run {
  return runSource(fredSource(parts), vmx, options, before);
}

/** 64-bit code at 0x100000 with `_start` (no FRED). */
export function plain(body: string, data = ''): string {
  return `bits 64\norg 0x100000\n_start:\n${body}\n\nsection .data\ndummy: dq 0\n${data}\n`;
}

export const exits = (m: Machine, reason?: number): VmExitRecord[] =>
  m.trace.records.filter((r): r is VmExitRecord => r.kind === 'vmexit' && (reason === undefined || r.basicReason === reason));
export const entries = (m: Machine): VmEntryRecord[] => m.trace.records.filter((r): r is VmEntryRecord => r.kind === 'vmentry');
export const deliveries = (m: Machine): DeliveryRecord[] => m.trace.records.filter((r): r is DeliveryRecord => r.kind === 'delivery');

/** The VM entry right after `record` in the trace. */
export function entryAfter(m: Machine, record: TraceRecord): VmEntryRecord | undefined {
  const records = m.trace.records;
  return records.slice(records.indexOf(record)).find((r): r is VmEntryRecord => r.kind === 'vmentry');
}

/** Run until the first VM exit `match` accepts; the machine is stopped at it (before handling). */
export function stopAt(m: Machine, match: (r: VmExitRecord) => boolean): { stop: StopReason; exit: VmExitRecord } {
  m.stopAtVmExit = match;
  const stop = m.run();
  m.stopAtVmExit = undefined;
  const exit = m.vmx?.stoppedAtExit;
  if (stop.reason !== 'vmexit' || !exit) throw new Error(`expected a stop at a VM exit, got '${stop.reason}': ${stop.message}`);
  return { stop, exit };
}

/** An interruption-information value with the valid bit (bit 31) set, as the trace records hold it. */
export const valid = (low: number): number => 0x8000_0000 + low;
