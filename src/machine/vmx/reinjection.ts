// The event a VM exit interrupted, both ways (SDM Vol. 3C "Information for VM Exits During Event
// Delivery" and "Reflecting Exceptions to Guest Software"; vmx-fred.md §1.5, §1.7, §1.13, §3.9):
// - recordVectoring: what the CPU stores on a VM exit during event delivery — IDT-vectoring
//   information (bit 13 for a nested exception of a FRED guest, never #DF), its error code, the
//   instruction length of software events, and the original-event data (FRED guest);
// - completeInterrupts: KVM's __vmx_complete_interrupts — turn those fields back into the event to
//   re-inject at the next VM entry (bit 12 dropped, types 4/5/6 keep their length, NMI unblocked,
//   nested bit and event data carried), plus the NMI-unblocking-due-to-IRET rule.
// ICEBP/INT1 (type 5) stays type 5 with trap semantics (A. Cooper, vmx-fred.md §1.14); with
// `kvmV9Quirks` it becomes v9's type-3 #DB after skipping the instruction.
import { decodeInterruptionInfo, encodeInterruptionInfo } from '../../arch/index';
import {
  EXT_INTERRUPT, HARDWARE_EXCEPTION, NMI, OTHER_EVENT, PRIVILEGED_SOFTWARE_EXCEPTION, SOFTWARE_EXCEPTION, SOFTWARE_INTERRUPT,
  usesInstructionLength, type QueuedEvent,
} from './injection';

const DF = 8;

/** The exit-information fields describing an interrupted delivery. */
export interface VectoringFields {
  /** IDT_VECTORING_INFO_FIELD (bit 31 clear: no delivery was interrupted). */
  readonly idtVectoringInfo: number;
  /** IDT_VECTORING_ERROR_CODE (meaningful when bit 11 is set). */
  readonly idtVectoringErrorCode: number;
  /** VM_EXIT_INSTRUCTION_LEN (the software event's length for types 4/5/6 and FRED type 7). */
  readonly exitInstructionLength: number;
  /** ORIGINAL_EVENT_DATA (FRED guest). */
  readonly originalEventData: bigint;
}

/**
 * The event being delivered when the exit happened, as the CPU knows it: the same fields as an event
 * the monitor queues (type, vector, error code, instruction length, nested, event data).
 */
export type DeliveringEvent = QueuedEvent;

/**
 * The IDT-vectoring fields a VM exit records while delivering `ev` (vmx-fred.md §1.5, §1.7, §3.9):
 * bit 13 only for a nested exception of a FRED guest and never for #DF; original-event data only for
 * a FRED guest (0 otherwise); the instruction length only for types that use it.
 */
export function recordVectoring(ev: DeliveringEvent, guestFred: boolean): VectoringFields {
  return {
    idtVectoringInfo: encodeInterruptionInfo({
      vector: ev.vector, type: ev.type, errorCode: ev.errorCode !== undefined,
      nested: guestFred && ev.nested && ev.type === HARDWARE_EXCEPTION && ev.vector !== DF,
    }),
    idtVectoringErrorCode: ev.errorCode ?? 0,
    exitInstructionLength: usesInstructionLength(ev.type, ev.vector) ? ev.instructionLength : 0,
    originalEventData: guestFred ? BigInt.asUintN(64, ev.eventData) : 0n,
  };
}

/** No delivery interrupted (every exit that is not during event delivery). */
export const NO_VECTORING: VectoringFields = { idtVectoringInfo: 0, idtVectoringErrorCode: 0, exitInstructionLength: 0, originalEventData: 0n };

export interface ReinjectionOptions {
  readonly guestFred: boolean;
  readonly kvmV9Quirks: boolean;
}

export interface Reinjection {
  /** The event to inject again at the next VM entry (undefined: nothing was being delivered). */
  readonly event?: QueuedEvent;
  /** Clear (virtual-)NMI blocking before re-injecting an NMI (vmx-fred.md §3.9). */
  readonly clearNmiBlocking: boolean;
  /** Set blocking by NMI: the exit unblocked NMIs through IRET and no delivery was interrupted (§3.9). */
  readonly setNmiBlocking: boolean;
  /** Bytes to advance guest RIP before entry (v9 quirk: the skipped ICEBP). */
  readonly ripAdvance: number;
}

/**
 * The event to re-deliver for interruption information of the IDT-vectoring format (or the exit
 * interruption information of a reflected exception): one rule for both paths.
 */
export function eventFromInfo(info: number, errorCode: number, instructionLength: number, eventData: bigint,
  opts: ReinjectionOptions): { event?: QueuedEvent; ripAdvance: number } {
  const d = decodeInterruptionInfo(info);
  if (!d.valid) return { ripAdvance: 0 };
  const base = {
    vector: d.vector,
    ...(d.errorCode ? { errorCode: errorCode >>> 0 } : {}),
    nested: false,
    eventData: 0n,
    instructionLength: usesInstructionLength(d.type, d.vector) ? instructionLength : 0,
  };
  switch (d.type) {
    case NMI:
    case EXT_INTERRUPT:
    case SOFTWARE_INTERRUPT:
    case OTHER_EVENT: // SYSCALL/SYSENTER under FRED: re-executed with its length (KVM v9 has no case for it)
      return { event: { ...base, type: d.type }, ripAdvance: 0 };
    case PRIVILEGED_SOFTWARE_EXCEPTION:
      if (opts.kvmV9Quirks) {
        // v9: #DB intercepted, ICEBP skipped, #DB queued as a hardware exception (Woodhouse's 3 != 5).
        return { event: { ...base, type: HARDWARE_EXCEPTION, instructionLength: 0 }, ripAdvance: instructionLength };
      }
      return { event: { ...base, type: PRIVILEGED_SOFTWARE_EXCEPTION }, ripAdvance: 0 };
    case HARDWARE_EXCEPTION:
    case SOFTWARE_EXCEPTION:
      return {
        event: { ...base, type: d.type, nested: d.nested, eventData: opts.guestFred ? BigInt.asUintN(64, eventData) : 0n },
        ripAdvance: 0,
      };
    default:
      return { ripAdvance: 0 }; // type 1 is reserved and never recorded
  }
}

/**
 * KVM __vmx_complete_interrupts + vmx_recover_nmi_blocking (vmx-fred.md §1.13, §3.9). `exitInterruptionInfo`
 * is VM_EXIT_INTR_INFO (its bit 12 = NMI unblocking due to IRET).
 */
export function completeInterrupts(v: VectoringFields, exitInterruptionInfo: number, opts: ReinjectionOptions): Reinjection {
  const idt = decodeInterruptionInfo(v.idtVectoringInfo);
  const exit = decodeInterruptionInfo(exitInterruptionInfo);
  const setNmiBlocking = !idt.valid && exit.valid && exit.bit12 && exit.vector !== DF;
  const { event, ripAdvance } = eventFromInfo(v.idtVectoringInfo, v.idtVectoringErrorCode, v.exitInstructionLength, v.originalEventData, opts);
  return { event, clearNmiBlocking: event?.type === NMI, setNmiBlocking, ripAdvance };
}
