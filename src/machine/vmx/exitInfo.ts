// Recording a VM exit in the VMCS exit-information fields (SDM Vol. 3C §28.2 "Recording VM-Exit
// Information"; vmx-fred.md §1.5, §1.7, §3.5, §3.9): exit reason, qualification, exit interruption
// information (nested bit 13 for a FRED guest, never #DF), IDT-vectoring information and original-event
// data, instruction length, guest-linear/guest-physical addresses; every VM exit clears the valid bit
// of the VM-entry interruption-information field (§3.8).
import { encodeInterruptionInfo, vmcsFieldByName } from '../../arch/index';
import type { EventType } from '../trace';
import { NO_VECTORING, type VectoringFields } from './reinjection';
import type { Vmcs } from './vmcs';

const DF = 8;
const ENTRY_VALID = 1n << 31n;

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

/** Write the exit-information fields for a VM exit and clear the entry interruption-information valid bit. */
export function recordVmExit(vmcs: Vmcs, info: VmExitInformation, guestFred: boolean): void {
  const vectoring = info.vectoring ?? NO_VECTORING;
  vmcs.set('VM_EXIT_REASON', BigInt(info.basicReason & 0xffff));
  vmcs.set('EXIT_QUALIFICATION', info.qualification ?? 0n);
  vmcs.set('VM_EXIT_INTR_INFO', info.event ? BigInt(exitInterruptionInfo(info.event, guestFred)) : 0n);
  vmcs.set('VM_EXIT_INTR_ERROR_CODE', BigInt((info.event?.errorCode ?? 0) >>> 0));
  vmcs.set('IDT_VECTORING_INFO_FIELD', BigInt(vectoring.idtVectoringInfo >>> 0));
  vmcs.set('IDT_VECTORING_ERROR_CODE', BigInt(vectoring.idtVectoringErrorCode >>> 0));
  vmcs.set('VM_EXIT_INSTRUCTION_LEN', BigInt(info.instructionLength ?? vectoring.exitInstructionLength));
  if (vmcs.supports(vmcsFieldByName('ORIGINAL_EVENT_DATA')!.field)) vmcs.set('ORIGINAL_EVENT_DATA', vectoring.originalEventData);
  vmcs.set('GUEST_LINEAR_ADDRESS', info.guestLinearAddress ?? 0n);
  vmcs.set('GUEST_PHYSICAL_ADDRESS', info.guestPhysicalAddress ?? 0n);
  vmcs.set('VM_ENTRY_INTR_INFO_FIELD', vmcs.get('VM_ENTRY_INTR_INFO_FIELD') & ~ENTRY_VALID);
}
