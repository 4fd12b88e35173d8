// Event injection by the monitor (vmx-fred.md §1.5–§1.8, §1.13, §3.8), as pure logic:
// - the monitor's queue of one exception / NMI / interrupt (KVM kvm_multiple_exception: the nested
//   flag, #DF escalation with src/arch's doubleFaultOutcome, triple fault after #DF, FRED event data
//   per vector);
// - the VM-entry fields that inject a queued event (KVM vmx_inject_exception/irq/nmi: interruption
//   information incl. nested bit 13, error code, instruction length, injected-event data);
// - what VM entry then delivers: the VM-entry fields as a MachineEvent for the machine's own
//   deliverEvent (FRED or IDT by the guest's CR4.FRED).
import { doubleFaultOutcome, encodeInterruptionInfo, decodeInterruptionInfo, exceptionHasErrorCode } from '../../arch/index';
import { toLinear } from '../cpu/state';
import type { MachineEvent } from '../events/event';
import type { EventType } from '../trace';

export const EXT_INTERRUPT = 0, NMI = 2, HARDWARE_EXCEPTION = 3, SOFTWARE_INTERRUPT = 4, PRIVILEGED_SOFTWARE_EXCEPTION = 5,
  SOFTWARE_EXCEPTION = 6, OTHER_EVENT = 7;
const DB = 1, BP = 3, OF = 4, NM = 7, DF = 8, PF = 14;

/** An event the monitor will inject at the next VM entry. */
export interface QueuedEvent {
  readonly type: EventType;
  readonly vector: number;
  readonly errorCode?: number;
  /** Instruction length for types 4/5/6 and type-7 SYSCALL/SYSENTER (0 otherwise). */
  readonly instructionLength: number;
  /** Raised while delivering an earlier event (FRED nested exception, vmx-fred.md §1.5). */
  readonly nested: boolean;
  /** FRED event data (vmx-fred.md §1.7). */
  readonly eventData: bigint;
}

/** Does this type advance RIP by the instruction length (SDM Vol. 3C §27.6 event injection; FRED type 7 vectors 1/2, vmx-fred.md §1.6)? */
export function usesInstructionLength(type: number, vector: number): boolean {
  return type === SOFTWARE_INTERRUPT || type === PRIVILEGED_SOFTWARE_EXCEPTION || type === SOFTWARE_EXCEPTION
    || (type === OTHER_EVENT && (vector === 1 || vector === 2));
}

/**
 * FRED event data of an exception from KVM's payload (vmx-fred.md §1.7, KVM kvm_deliver_exception_payload):
 * #PF the faulting address; #DB the pending-debug bits (DR6 in pending polarity) with bit 12 cleared;
 * #NM IA32_XFD_ERR; everything else 0.
 */
export function exceptionEventData(vector: number, payload = 0n): bigint {
  const p = BigInt.asUintN(64, payload);
  if (vector === PF || vector === NM) return p;
  if (vector === DB) return p & ~(1n << 12n);
  return 0n;
}

export type QueueOutcome = 'queued' | 'doubleFault' | 'tripleFault';

export interface ExceptionRequest {
  readonly vector: number;
  readonly errorCode?: number;
  /** #PF address, #DB pending-debug bits, #NM XFD_ERR (see exceptionEventData). */
  readonly payload?: bigint;
  /** INT3/INTO: instruction length of the software exception (KVM kvm_exception_is_soft → type 6). */
  readonly instructionLength?: number;
}

/**
 * The monitor's injection state for one vCPU: at most one exception, and whether an NMI or an
 * interrupt is being injected (KVM vcpu->arch.exception / nmi_injected / interrupt).
 */
export class InjectionQueue {
  exception: QueuedEvent | undefined;
  nmiInjected = false;
  interrupt: QueuedEvent | undefined;

  /**
   * Queue an exception (KVM kvm_multiple_exception, vmx-fred.md §1.13): with nothing queued it is
   * nested iff an NMI or interrupt is being injected; on top of a queued exception, the #DF table
   * decides: #DF (error code 0, not nested), a triple fault after #DF, or the newer exception replaces
   * the older one as a nested exception.
   */
  queueException(req: ExceptionRequest): QueueOutcome {
    const prev = this.exception;
    if (prev) {
      const outcome = doubleFaultOutcome(prev.vector, req.vector);
      if (outcome === 'shutdown') { this.exception = undefined; return 'tripleFault'; }
      if (outcome === 'doubleFault') {
        this.exception = { type: HARDWARE_EXCEPTION, vector: DF, errorCode: 0, instructionLength: 0, nested: false, eventData: 0n };
        return 'doubleFault';
      }
    }
    const nested = prev !== undefined || this.nmiInjected || this.interrupt !== undefined;
    const soft = req.vector === BP || req.vector === OF;
    this.exception = {
      type: soft ? SOFTWARE_EXCEPTION : HARDWARE_EXCEPTION,
      vector: req.vector,
      errorCode: exceptionHasErrorCode(req.vector) ? req.errorCode ?? 0 : undefined,
      instructionLength: soft ? req.instructionLength ?? 0 : 0,
      nested: nested && req.vector !== DF,
      eventData: exceptionEventData(req.vector, req.payload),
    };
    return 'queued';
  }

  /** Queue an external interrupt (type 0) or an INT n being re-injected (type 4, with its length). */
  queueInterrupt(vector: number, softwareLength?: number): void {
    this.interrupt = softwareLength === undefined
      ? { type: EXT_INTERRUPT, vector, instructionLength: 0, nested: false, eventData: 0n }
      : { type: SOFTWARE_INTERRUPT, vector, instructionLength: softwareLength, nested: false, eventData: 0n };
  }

  queueNmi(): void {
    this.nmiInjected = true;
  }

  /** Put back an event taken from IDT-vectoring information (see reinjection.ts). */
  requeue(ev: QueuedEvent): void {
    if (ev.type === NMI) this.nmiInjected = true;
    else if (ev.type === EXT_INTERRUPT || ev.type === SOFTWARE_INTERRUPT) this.interrupt = ev;
    else this.exception = ev;
  }

  /** The event to inject next, by KVM's priority: exception, then NMI, then interrupt. */
  next(): QueuedEvent | undefined {
    if (this.exception) return this.exception;
    if (this.nmiInjected) return { type: NMI, vector: 2, instructionLength: 0, nested: false, eventData: 0n };
    return this.interrupt;
  }

  /** Every VM entry that delivered the event ends the injection (KVM clears the queue after entry). */
  clear(): void {
    this.exception = undefined;
    this.nmiInjected = false;
    this.interrupt = undefined;
  }
}

/** The VM-entry fields that inject an event. */
export interface EntryInjection {
  /** VM_ENTRY_INTR_INFO_FIELD. */
  readonly interruptionInfo: number;
  /** VM_ENTRY_EXCEPTION_ERROR_CODE (written when bit 11 is set). */
  readonly errorCode?: number;
  /** VM_ENTRY_INSTRUCTION_LEN (0 unless the type uses it). */
  readonly instructionLength: number;
  /** INJECTED_EVENT_DATA; undefined = leave the field alone (IDT guest, as KVM does). */
  readonly injectedEventData?: bigint;
}

/**
 * VM-entry fields for a queued event (vmx-fred.md §1.13 injectException): bit 13 only for a nested
 * hardware exception into a FRED guest (never #DF); the event data only for a FRED guest — 0 for
 * NMIs and interrupts (§1.7: KVM leaves the field stale there, hardware use is UNCONFIRMED).
 */
export function entryInjection(ev: QueuedEvent, guestFred: boolean): EntryInjection {
  const hasError = ev.errorCode !== undefined;
  return {
    interruptionInfo: encodeInterruptionInfo({
      vector: ev.vector, type: ev.type, errorCode: hasError,
      nested: ev.nested && guestFred && ev.type === HARDWARE_EXCEPTION && ev.vector !== DF,
    }),
    ...(hasError ? { errorCode: ev.errorCode } : {}),
    instructionLength: usesInstructionLength(ev.type, ev.vector) ? ev.instructionLength : 0,
    ...(guestFred ? { injectedEventData: ev.eventData } : {}),
  };
}

export type InjectedDelivery =
  /** Deliver `event` through deliverEvent; `nested` is entry bit 13 (FRED stack-level choice and frame bit). */
  | { readonly kind: 'deliver'; readonly event: MachineEvent; readonly nested: boolean }
  /** Type 7 vector 0: no delivery, a pending MTF VM exit (SDM Vol. 3C §27.6). */
  | { readonly kind: 'pendingMtf' };

/**
 * What VM entry delivers for the VM-entry interruption information (SDM §27.6; vmx-fred.md §1.8,
 * §3.8), in the machine's own event classification: types 4/5/6 and FRED type-7 vectors 1/2 save
 * RIP + instruction length and report the length; injected types 0/2/3 report length 0 (§1.8); the
 * FRED event data is the injected-event data for a FRED guest. VM entry does not write CR2 for an
 * injected #PF (the monitor has set it), so `address` stays undefined.
 */
export function injectedEvent(entry: EntryInjection, guestRip: bigint, guestFred: boolean): InjectedDelivery {
  const info = decodeInterruptionInfo(entry.interruptionInfo);
  if (info.type === OTHER_EVENT && info.vector === 0) return { kind: 'pendingMtf' };
  const length = usesInstructionLength(info.type, info.vector) ? entry.instructionLength : 0;
  const event: MachineEvent = {
    type: info.type as EventType,
    vector: info.vector,
    errorCode: info.errorCode ? (entry.errorCode ?? 0) : undefined,
    rip: toLinear(guestRip + BigInt(length)),
    instructionLength: length,
    eventData: guestFred ? BigInt.asUintN(64, entry.injectedEventData ?? 0n) : 0n,
  };
  return { kind: 'deliver', event, nested: info.nested };
}
