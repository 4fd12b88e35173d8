// VM-entry checks (SDM Vol. 3C ch. 27 "VM Entries"): control fields (§27.2.1, VMfail error 7), host
// state (§27.2.2–§27.2.4, VMfail error 8), guest state (§27.3.1, VM-entry failure exit reason 33) and
// the VM-entry MSR-load area (§27.4, exit reason 34), in that order; the first violated rule is
// reported with its words, the field and its value. The rules themselves are data in the three
// check-family modules; FRED checks are vmx-fred.md §1.11.
import { EXIT_REASON_ENTRY_FAILURE, checkMsrWrite, msrByIndex } from '../../arch/index';
import type { VmxCapabilities } from './capabilities';
import { CONTROL_CHECKS } from './entryControlChecks';
import { EntryContext, type EntryCheck, type EntryEnvironment } from './entryCheckKit';
import { GUEST_CHECKS } from './entryGuestChecks';
import { HOST_CHECKS } from './entryHostChecks';
import type { Vmcs } from './vmcs';

export type { EntryCheck, EntryEnvironment } from './entryCheckKit';

export const VMERR_ENTRY_INVALID_CONTROL_FIELD = 7;
export const VMERR_ENTRY_INVALID_HOST_STATE_FIELD = 8;
export const EXIT_REASON_INVALID_GUEST_STATE = 33;
export const EXIT_REASON_MSR_LOADING = 34;

export type EntryFailureOutcome =
  /** VM entry did not start: VMfailValid with this VM-instruction error (SDM §27.2). */
  | { readonly kind: 'vmfail'; readonly vmInstructionError: 7 | 8 }
  /** VM entry failed after loading state: a VM exit with bit 31 of the exit reason set (SDM §27.8). */
  | { readonly kind: 'exit'; readonly basicReason: 33 | 34; readonly exitReason: number; readonly qualification: number };

export interface EntryCheckFailure {
  /** Stable id of the violated check, e.g. `guest.fred.ssDpl`. */
  readonly id: string;
  /** The rule, in words, with its source. */
  readonly check: string;
  /** The VMCS field the rule is about. */
  readonly field: string;
  readonly value: bigint;
  readonly outcome: EntryFailureOutcome;
}

export interface EntryCheckFamily {
  readonly name: 'control' | 'host' | 'guest';
  readonly checks: readonly EntryCheck[];
  readonly outcome: (check: EntryCheck) => EntryFailureOutcome;
}

const exitOutcome = (basicReason: 33 | 34, qualification: number): EntryFailureOutcome =>
  ({ kind: 'exit', basicReason, exitReason: (EXIT_REASON_ENTRY_FAILURE | basicReason) >>> 0, qualification });

/** The three check families in the order VM entry performs them. */
export const ENTRY_CHECK_FAMILIES: readonly EntryCheckFamily[] = [
  { name: 'control', checks: CONTROL_CHECKS, outcome: () => ({ kind: 'vmfail', vmInstructionError: VMERR_ENTRY_INVALID_CONTROL_FIELD }) },
  { name: 'host', checks: HOST_CHECKS, outcome: () => ({ kind: 'vmfail', vmInstructionError: VMERR_ENTRY_INVALID_HOST_STATE_FIELD }) },
  { name: 'guest', checks: GUEST_CHECKS, outcome: (c) => exitOutcome(EXIT_REASON_INVALID_GUEST_STATE, c.qualification ?? 0) },
];

/** MSRs the VM-entry MSR-load area may not load (SDM §27.4): FS/GS base, x2APIC registers, SMM monitor control. */
function msrLoadForbidden(index: number): string | undefined {
  if (index === 0xc000_0100 || index === 0xc000_0101) return 'IA32_FS_BASE and IA32_GS_BASE cannot be loaded from the MSR-load area';
  if (index >= 0x800 && index <= 0x8ff) return 'x2APIC MSRs (0x800–0x8FF) cannot be loaded from the MSR-load area';
  if (index === 0x9b) return 'IA32_SMM_MONITOR_CTL cannot be loaded from the MSR-load area';
  return undefined;
}

/**
 * Load-check the VM-entry MSR-load area (SDM §27.4): each 16-byte entry holds the MSR index (bits 31:0),
 * reserved bits 63:32 and the value; an entry that would fault fails VM entry with exit reason 34 and
 * the entry's 1-based number as the qualification. The monitor keeps this area empty; the check exists
 * so a VMCS edited in the debugger behaves as hardware does.
 */
function checkMsrLoadArea(x: EntryContext): EntryCheckFailure | undefined {
  const count = Number(x.get('VM_ENTRY_MSR_LOAD_COUNT'));
  const base = x.get('VM_ENTRY_MSR_LOAD_ADDR');
  for (let n = 1; n <= count; n++) {
    const at = base + BigInt(16 * (n - 1));
    const fail = (why: string): EntryCheckFailure => ({
      id: 'msrLoad', check: `VM-entry MSR-load entry ${n} at 0x${at.toString(16)}: ${why} (SDM §27.4)`,
      field: 'VM_ENTRY_MSR_LOAD_ADDR', value: base, outcome: exitOutcome(EXIT_REASON_MSR_LOADING, n),
    });
    if (!x.env.readPhysical64) return fail('the MSR-load area is not readable by this monitor');
    const head = x.env.readPhysical64(at);
    const value = x.env.readPhysical64(at + 8n);
    if (head >> 32n !== 0n) return fail('bits 63:32 of the entry\'s first quadword are reserved');
    const index = Number(head);
    const forbidden = msrLoadForbidden(index);
    if (forbidden) return fail(forbidden);
    const def = msrByIndex(index);
    if (!def) return fail(`MSR 0x${index.toString(16)} does not exist on this CPU`);
    const r = checkMsrWrite(def, value);
    if (!r.ok) return fail(`WRMSR would fault: ${r.rule}`);
  }
  return undefined;
}

/** Run the VM-entry checks; undefined when VM entry may load the guest. */
export function checkVmEntry(vmcs: Vmcs, caps: VmxCapabilities, env: EntryEnvironment = {}): EntryCheckFailure | undefined {
  if (vmcs.fred !== caps.fred) {
    throw new RangeError(`the VMCS ${vmcs.fred ? 'has' : 'lacks'} the FRED fields but the capabilities ${caps.fred ? 'expose' : 'hide'} FRED`);
  }
  const x = new EntryContext(vmcs, caps, env);
  for (const family of ENTRY_CHECK_FAMILIES) {
    for (const c of family.checks) {
      if (c.when && !c.when(x)) continue;
      const value = x.get(c.field);
      if (!c.holds(value, x)) return { id: c.id, check: c.rule, field: c.field, value, outcome: family.outcome(c) };
    }
  }
  return checkMsrLoadArea(x);
}

/** "VMfail (error 7)" / "VM-entry failure, exit reason 33 (qualification 4)" — for trace lines and stop reasons. */
export function describeEntryOutcome(o: EntryFailureOutcome): string {
  return o.kind === 'vmfail'
    ? `VMfailValid, VM-instruction error ${o.vmInstructionError}`
    : `VM-entry failure, exit reason ${o.basicReason} (0x${o.exitReason.toString(16)}), qualification ${o.qualification}`;
}
