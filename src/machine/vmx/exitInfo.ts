// Recording a VM exit in the VMCS exit-information fields (SDM Vol. 3C §28.2 "Recording VM-Exit
// Information"; vmx-fred.md §1.5, §1.7, §3.5, §3.9): exit reason, qualification, exit interruption
// information (nested bit 13 for a FRED guest, never #DF), IDT-vectoring information and original-event
// data, instruction length, guest-linear/guest-physical addresses; every VM exit clears the valid bit
// of the VM-entry interruption-information field (§3.8).
import { encodeInterruptionInfo, vmcsFieldByName } from '../../arch/index';
import type { EventType } from '../trace';
import { NO_VECTORING, type VectoringFields } from './reinjection';
import { vmcsSlot, type Vmcs } from './vmcs';

const DF = 8;
const ENTRY_VALID = 1n << 31n;
const ORIGINAL_EVENT_DATA = vmcsFieldByName('ORIGINAL_EVENT_DATA')!.field;
const S = {
  reason: vmcsSlot('VM_EXIT_REASON'), qualification: vmcsSlot('EXIT_QUALIFICATION'), exitInfo: vmcsSlot('VM_EXIT_INTR_INFO'),
  exitError: vmcsSlot('VM_EXIT_INTR_ERROR_CODE'), idt: vmcsSlot('IDT_VECTORING_INFO_FIELD'), idtError: vmcsSlot('IDT_VECTORING_ERROR_CODE'),
  length: vmcsSlot('VM_EXIT_INSTRUCTION_LEN'), originalData: vmcsSlot('ORIGINAL_EVENT_DATA'), gla: vmcsSlot('GUEST_LINEAR_ADDRESS'),
  gpa: vmcsSlot('GUEST_PHYSICAL_ADDRESS'), entryInfo: vmcsSlot('VM_ENTRY_INTR_INFO_FIELD'),
} as const;

const SMALL = Array.from({ length: 128 }, (_, i) => BigInt(i));
/** BigInt of a small non-negative number without an allocation for the common values (reasons, lengths). */
const small = (n: number): bigint => SMALL[n] ?? BigInt(n);

/** The event that caused an exit through the exception bitmap, NMI exiting or external-interrupt exiting. */
export interface ExitingEvent {
  readonly type: EventType;
  readonly vector: number;
  readonly errorCode?: number;
  /** Raised while delivering an earlier event (vmx-fred.md §1.5). */
  readonly nested: boolean;
}

export interface VmExitInformation {
  readonly basicReason: number;
  readonly qualification?: bigint;
  /** Exceptions, NMIs, acknowledged external interrupts. */
  readonly event?: ExitingEvent;
  /** The delivery the exit interrupted (recordVectoring), if any. */
  readonly vectoring?: VectoringFields;
  /** Length of the instruction that exited (instruction exits, software events). */
  readonly instructionLength?: number;
  readonly guestLinearAddress?: bigint;
  readonly guestPhysicalAddress?: bigint;
}

/** The exit interruption information of an exiting event: bit 13 only for a nested exception of a FRED guest, never #DF. */
export function exitInterruptionInfo(ev: ExitingEvent, guestFred: boolean): number {
  return encodeInterruptionInfo({
    vector: ev.vector, type: ev.type, errorCode: ev.errorCode !== undefined,
    nested: guestFred && ev.nested && ev.type === 3 && ev.vector !== DF,
  });
}

/**
 * Write the exit-information fields for a VM exit and clear the entry interruption-information valid
 * bit. Returns the VM-exit interruption information written (the monitor keeps it for re-injection).
 */
export function recordVmExit(vmcs: Vmcs, info: VmExitInformation, guestFred: boolean): number {
  // Slot writes: the CPU records the exit (SDM §28.2); one exit is on the hot path of the monitor.
  const vectoring = info.vectoring ?? NO_VECTORING;
  vmcs.write(S.reason, small(info.basicReason & 0xffff));
  vmcs.write(S.qualification, info.qualification ?? 0n);
  const exitInfo = info.event ? exitInterruptionInfo(info.event, guestFred) >>> 0 : 0;
  vmcs.write(S.exitInfo, exitInfo === 0 ? 0n : BigInt(exitInfo));
  vmcs.write(S.exitError, info.event?.errorCode ? BigInt(info.event.errorCode >>> 0) : 0n);
  vmcs.write(S.idt, vectoring.idtVectoringInfo === 0 ? 0n : BigInt(vectoring.idtVectoringInfo >>> 0));
  vmcs.write(S.idtError, vectoring.idtVectoringErrorCode === 0 ? 0n : BigInt(vectoring.idtVectoringErrorCode >>> 0));
  vmcs.write(S.length, small(info.instructionLength ?? vectoring.exitInstructionLength));
  if (vmcs.supports(ORIGINAL_EVENT_DATA)) vmcs.write(S.originalData, vectoring.originalEventData);
  vmcs.write(S.gla, info.guestLinearAddress ?? 0n);
  vmcs.write(S.gpa, info.guestPhysicalAddress ?? 0n);
  const entry = vmcs.read(S.entryInfo);
  if (entry & ENTRY_VALID) vmcs.write(S.entryInfo, entry & ~ENTRY_VALID);
  return exitInfo;
}
