// The monitor's trace records (ARCHITECTURE §4: vmexit, vmentry, vmentryFailure), built from the
// VMCS and the entry-check result so every consumer (timeline, CLI, exercises) sees the same words.
// Fields are read by slot (one exit and one entry per monitor round trip: the hot path).
import { exitReasonInfo } from '../../arch/index';
import type { VmEntryFailureRecord, VmEntryRecord, VmExitRecord } from '../trace';
import type { EntryCheckFailure } from './entryChecks';
import { vmcsSlot, type Vmcs } from './vmcs';

const ERROR_CODE_VALID = 1n << 11n;
const VALID = 1n << 31n;
const S = {
  reason: vmcsSlot('VM_EXIT_REASON'), exitInfo: vmcsSlot('VM_EXIT_INTR_INFO'), exitError: vmcsSlot('VM_EXIT_INTR_ERROR_CODE'),
  idt: vmcsSlot('IDT_VECTORING_INFO_FIELD'), idtError: vmcsSlot('IDT_VECTORING_ERROR_CODE'), qualification: vmcsSlot('EXIT_QUALIFICATION'),
  originalData: vmcsSlot('ORIGINAL_EVENT_DATA'), guestRip: vmcsSlot('GUEST_RIP'), entryInfo: vmcsSlot('VM_ENTRY_INTR_INFO_FIELD'),
  entryError: vmcsSlot('VM_ENTRY_EXCEPTION_ERROR_CODE'), injectedData: vmcsSlot('INJECTED_EVENT_DATA'), entryLength: vmcsSlot('VM_ENTRY_INSTRUCTION_LEN'),
} as const;

/** The `vmexit` record of the exit just recorded in `vmcs`. */
export function vmExitRecord(vmcs: Vmcs, icount: number): VmExitRecord {
  const basic = Number(vmcs.read(S.reason) & 0xffffn);
  const exitInfo = vmcs.read(S.exitInfo);
  const idt = vmcs.read(S.idt);
  return {
    kind: 'vmexit', icount,
    basicReason: basic,
    reasonName: exitReasonInfo(basic)?.title ?? `exit reason ${basic}`,
    qualification: vmcs.read(S.qualification),
    exitInterruptionInfo: Number(exitInfo),
    exitInterruptionErrorCode: (exitInfo & VALID) !== 0n && (exitInfo & ERROR_CODE_VALID) !== 0n ? Number(vmcs.read(S.exitError)) : undefined,
    idtVectoringInfo: Number(idt),
    idtVectoringErrorCode: (idt & VALID) !== 0n && (idt & ERROR_CODE_VALID) !== 0n ? Number(vmcs.read(S.idtError)) : undefined,
    originalEventData: vmcs.fred ? vmcs.read(S.originalData) : 0n,
    guestRip: vmcs.read(S.guestRip),
  };
}

/** The `vmentry` record of a VM entry whose checks passed, with the event it injects. */
export function vmEntryRecord(vmcs: Vmcs, icount: number): VmEntryRecord {
  const info = vmcs.read(S.entryInfo);
  const injecting = (info & VALID) !== 0n;
  return {
    kind: 'vmentry', icount,
    injectedInterruptionInfo: Number(info),
    injectedErrorCode: injecting && (info & ERROR_CODE_VALID) !== 0n ? Number(vmcs.read(S.entryError)) : undefined,
    injectedEventData: injecting && vmcs.fred ? vmcs.read(S.injectedData) : 0n,
    instructionLength: injecting ? Number(vmcs.read(S.entryLength)) : 0,
    checksPassed: true,
  };
}

/** The `vmentryFailure` record of a failed VM-entry check. */
export function vmEntryFailureRecord(f: EntryCheckFailure, icount: number): VmEntryFailureRecord {
  return {
    kind: 'vmentryFailure', icount,
    check: f.check, field: f.field, value: f.value,
    failure: f.outcome.kind,
    errorNumber: f.outcome.kind === 'vmfail' ? f.outcome.vmInstructionError : f.outcome.basicReason,
  };
}
