// The monitor's trace records (ARCHITECTURE §4: vmexit, vmentry, vmentryFailure), built from the
// VMCS and the entry-check result so every consumer (timeline, CLI, exercises) sees the same words.
import { exitReasonInfo } from '../../arch/index';
import type { VmEntryFailureRecord, VmEntryRecord, VmExitRecord } from '../trace';
import type { EntryCheckFailure } from './entryChecks';
import type { Vmcs } from './vmcs';

const ERROR_CODE_VALID = 1n << 11n;
const VALID = 1n << 31n;

/** The `vmexit` record of the exit just recorded in `vmcs`. */
export function vmExitRecord(vmcs: Vmcs, icount: number): VmExitRecord {
  const reason = vmcs.get('VM_EXIT_REASON');
  const exitInfo = vmcs.get('VM_EXIT_INTR_INFO');
  const idt = vmcs.get('IDT_VECTORING_INFO_FIELD');
  const basic = Number(reason & 0xffffn);
  return {
    kind: 'vmexit', icount,
    basicReason: basic,
    reasonName: exitReasonInfo(basic)?.title ?? `exit reason ${basic}`,
    qualification: vmcs.get('EXIT_QUALIFICATION'),
    exitInterruptionInfo: Number(exitInfo),
    ...((exitInfo & VALID) !== 0n && (exitInfo & ERROR_CODE_VALID) !== 0n
      ? { exitInterruptionErrorCode: Number(vmcs.get('VM_EXIT_INTR_ERROR_CODE')) } : {}),
    idtVectoringInfo: Number(idt),
    ...((idt & VALID) !== 0n && (idt & ERROR_CODE_VALID) !== 0n ? { idtVectoringErrorCode: Number(vmcs.get('IDT_VECTORING_ERROR_CODE')) } : {}),
    originalEventData: vmcs.fred ? vmcs.get('ORIGINAL_EVENT_DATA') : 0n,
    guestRip: vmcs.get('GUEST_RIP'),
  };
}

/** The `vmentry` record of a VM entry whose checks passed, with the event it injects. */
export function vmEntryRecord(vmcs: Vmcs, icount: number): VmEntryRecord {
  const info = vmcs.get('VM_ENTRY_INTR_INFO_FIELD');
  const injecting = (info & VALID) !== 0n;
  return {
    kind: 'vmentry', icount,
    injectedInterruptionInfo: Number(info),
    ...(injecting && (info & ERROR_CODE_VALID) !== 0n ? { injectedErrorCode: Number(vmcs.get('VM_ENTRY_EXCEPTION_ERROR_CODE')) } : {}),
    injectedEventData: injecting && vmcs.fred ? vmcs.get('INJECTED_EVENT_DATA') : 0n,
    instructionLength: injecting ? Number(vmcs.get('VM_ENTRY_INSTRUCTION_LEN')) : 0,
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
