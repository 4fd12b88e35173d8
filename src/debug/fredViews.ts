// Bodies of the `fredLab/stackLevels`, `fredLab/timeline` and `fredLab/vmcs` custom requests (types and docs in
// customRequests.ts and docs/debugger.md): machine state and trace records as the views render them.
import { FRED_CONFIG_BITS, exceptionByVector, msrIndex } from '../arch/index';
import type { Machine } from '../machine/machine';
import type { DeliveryRecord } from '../machine/trace';
import type { StackLevelsResponseBody, TimelineArguments, TimelineResponseBody, VmcsResponseBody } from './customRequests';
import { monitorOf } from './monitor';
import { vmcsJson } from './vmcsView';
import { deliveryLabel } from './eventStack';
import { recordJson, summarizeRecord } from './traceText';
import { hex } from './variables';

/** `active`: the active event deliveries, innermost last (Execution.activeEvents). */
export function stackLevels(m: Machine, active: readonly DeliveryRecord[]): StackLevelsResponseBody {
  const msr = (name: string) => m.readMsr(msrIndex(name)) ?? 0n;
  const config = msr('IA32_FRED_CONFIG');
  const csl = Number(config & FRED_CONFIG_BITS.CSL);
  const stklvls = msr('IA32_FRED_STKLVLS');
  return {
    fredEnabled: ((m.cpu.cr4 >> 32n) & 1n) === 1n,
    cpl: m.cpu.cpl,
    csl,
    config: hex(config),
    entryPoint: hex(config & FRED_CONFIG_BITS.ENTRYPOINT),
    redZoneBytes: Number((config & FRED_CONFIG_BITS.REDZONE) >> 6n) * 64,
    interruptStackLevel: Number((config & FRED_CONFIG_BITS.INT_STKLVL) >> 9n),
    levels: [0, 1, 2, 3].map((level) => ({ level, rsp: hex(msr(`IA32_FRED_RSP${level}`)), ssp: level === 0 ? null : hex(msr(`IA32_FRED_SSP${level}`)), current: level === csl })),
    vectorLevels: Array.from({ length: 32 }, (_, vector) => ({ vector, mnemonic: exceptionByVector(vector)?.mnemonic ?? String(vector), level: Number((stklvls >> BigInt(2 * vector)) & 3n) })),
    activeEvents: [...active].reverse().map((d) => ({
      label: deliveryLabel(d), mechanism: d.mechanism, type: d.type, vector: d.vector, fromCpl: d.fromCpl, oldCsl: d.oldCsl, newCsl: d.newCsl,
      frameAddress: hex(d.frameAddress), fromRip: hex(d.fromRip), entryRip: hex(d.entryRip), icount: d.icount,
    })),
  };
}

/** `historyStart`: the earliest instruction count time travel can reach. */
export function timeline(m: Machine, historyStart: number, args: TimelineArguments): TimelineResponseBody {
  const kinds = args.kinds?.length ? new Set(args.kinds) : undefined;
  const all = m.trace.records.map((record, index) => ({ record, index })).filter((x) => !kinds || kinds.has(x.record.kind));
  const start = Math.max(0, args.start ?? 0);
  const count = Math.max(0, Math.min(args.count ?? 1000, 10_000));
  return {
    total: all.length,
    icount: m.icount,
    historyStart,
    records: all.slice(start, start + count).map(({ record, index }) => ({ index, icount: record.icount, kind: record.kind, summary: summarizeRecord(record), record: recordJson(record) })),
  };
}

/** `fredLab/vmcs`: every supported field by group; `active: false` on bare metal. */
export function vmcsBody(m: Machine): VmcsResponseBody {
  const vmx = monitorOf(m);
  if (!vmx) return { active: false, exitCount: 0, stoppedAtExit: null, groups: [] };
  const e = vmx.stoppedAtExit;
  return {
    active: true,
    exitCount: vmx.exitCount,
    stoppedAtExit: e ? { reason: e.basicReason, name: e.reasonName, qualification: hex(e.qualification), guestRip: hex(e.guestRip), icount: e.icount } : null,
    groups: vmcsJson(vmx.vmcs),
  };
}
