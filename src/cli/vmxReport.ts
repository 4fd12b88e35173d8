// The `vmx` object of `fred-lab run --json` (README "The VMX monitor"): the policy in effect, in the
// schema `--vmx-config` reads (so the object can be saved and fed back), the number of VM exits, and
// the final VMCS, every field this CPU supports by name, grouped as the SDM groups the VMCS
// (SDM Vol. 3C §25.3–§25.9; the groups are those of src/arch's field table).
import { VMCS_FIELDS, VMCS_GROUP_TITLES, exceptionByVector, msrByIndex, type VmcsGroup } from '../arch/index';
import type { VmxPolicy } from '../machine/vmx/policy';
import type { Vmcs } from '../machine/vmx/vmcs';

/** What the report needs of the monitor (machine.vmx). */
export interface MonitorView {
  readonly policy: VmxPolicy;
  readonly exitCount: number;
  readonly vmcs: Vmcs;
}

function hex(value: bigint): string {
  return `0x${value.toString(16)}`;
}

/** The policy as `--vmx-config` JSON: exceptions by mnemonic, MSRs by name (an index where src/arch has no name). */
export function policyJson(policy: VmxPolicy): Record<string, unknown> {
  const exceptions: string[] = [];
  for (let v = 0; v < 32; v++) if ((policy.exceptionBitmap >>> v) & 1) exceptions.push(exceptionByVector(v)?.mnemonic ?? String(v));
  return {
    exceptionBitmap: exceptions,
    msrIntercepts: policy.msrIntercepts.map((index) => msrByIndex(index)?.name ?? index),
    ept: policy.ept,
    cpuid: { ...policy.cpuid },
    interrupts: policy.interrupts.map((s) => ({ ...s })),
    nmis: policy.nmis.map((s) => ({ ...s })),
    kvmV9Quirks: policy.kvmV9Quirks,
  };
}

/** The VMCS as `{ group: { FIELD_NAME: "0x…" } }` in the order of src/arch's table. */
export function vmcsJson(vmcs: Vmcs): Record<VmcsGroup, Record<string, string>> {
  const groups = Object.fromEntries(Object.keys(VMCS_GROUP_TITLES).map((g) => [g, {}])) as Record<VmcsGroup, Record<string, string>>;
  for (const def of VMCS_FIELDS) if (vmcs.supports(def)) groups[def.group][def.name] = hex(vmcs.get(def.name));
  return groups;
}

/** The `vmx` member of the JSON document; `null` for a bare-metal run. */
export function vmxJson(monitor: MonitorView | undefined): Record<string, unknown> | null {
  if (!monitor) return null;
  return { policy: policyJson(monitor.policy), exitCount: monitor.exitCount, vmcs: vmcsJson(monitor.vmcs) };
}
