// deliverEvent: the one entry point for delivering any event (exception, interrupt, NMI, software
// interrupt, SYSCALL under FRED). It chooses the mechanism by CR4.FRED and owns the double-fault
// logic for both (SDM Vol. 3A §6.15 "Interrupt 8" Table 6-5; fred-architecture.md §3.9): a fault
// while delivering is classified against the event being delivered, becomes #DF or is delivered as a
// nested event; a fault while delivering #DF shuts the processor down (triple fault).
import { doubleFaultOutcome } from '../../arch/index';
import type { Cpu } from '../cpu/cpu';
import { CpuFault, DB, DF } from './fault';
import { describeEvent, exceptionEvent, exceptionVectorForClasses, HARDWARE_EXCEPTION, type MachineEvent } from './event';
import { deliverIdt } from './idt';
import { EXIT, VmExit } from '../vmx/exitSignal';
import type { DeliveringEvent } from '../vmx/reinjection';

/** The processor shut down (triple fault); `reason` names the chain of events. */
export class Shutdown {
  constructor(readonly reason: string) {}
}

/** A delivery mechanism (legacy IDT now, FRED in its own module). */
export type DeliveryMechanism = (c: Cpu, ev: MachineEvent, nested: boolean, injected: boolean) => void;

export interface DeliveryOptions {
  /** The first delivery attempt is a nested exception (VM entry injecting with the nested bit: FRED stack-level rule §3.3, frame bit 58). */
  nested?: boolean;
  /** The event was injected by VM entry: its trace record says so (faults during its delivery are not). */
  injected?: boolean;
}

let fredMechanism: DeliveryMechanism | undefined;

/** FRED delivery registers itself here (events/fred.ts) so this module does not depend on it. */
export function registerFredDelivery(mechanism: DeliveryMechanism): void {
  fredMechanism = mechanism;
}

/** RIP of the instruction that was executing when `ev` was raised (for a fault during its delivery). */
function instructionRip(ev: MachineEvent): number {
  return ev.rip - ev.instructionLength;
}

/** The event being delivered as the VM-exit recording sees it (IDT-vectoring information). */
function delivering(ev: MachineEvent, nested: boolean): DeliveringEvent {
  return { type: ev.type, vector: ev.vector, errorCode: ev.errorCode, instructionLength: ev.instructionLength, nested, eventData: ev.eventData };
}

/** One delivery attempt through the mechanism CR4.FRED selects. */
function attempt(c: Cpu, ev: MachineEvent, nested: boolean, injected: boolean): void {
  if (ev.type === HARDWARE_EXCEPTION && ev.vector === 14 && ev.address !== undefined) c.cr2 = BigInt.asUintN(64, BigInt(ev.address));
  if (c.fredEnabled) {
    if (!fredMechanism) throw new CpuFault(6, undefined, undefined, 'FRED event delivery is not available in this build');
    fredMechanism(c, ev, nested, injected);
  } else deliverIdt(c, ev, nested, injected);
  c.halted = false; // a delivered event ends the HLT state (SDM Vol. 2A HLT)
}

export function deliverEvent(c: Cpu, event: MachineEvent, options?: DeliveryOptions): void {
  // Bare metal without options (every event but VM-entry injection): the first attempt needs none of
  // the VMX checks below; only a fault during it goes on to the #DF logic. Small, so it inlines into
  // the INT3/SYSCALL executors (the FRED round trip).
  if (c.vmx === undefined && options === undefined) {
    try {
      attempt(c, event, false, false);
      return;
    } catch (error) {
      if (!(error instanceof CpuFault)) throw error;
      return deliverChain(c, event, undefined, error);
    }
  }
  deliverChain(c, event, options, undefined);
}

/**
 * The delivery attempts of one event: VMX exception-bitmap exits, and a fault while delivering turned
 * into a nested exception, #DF or shutdown. `fault` is a fault the first attempt already raised.
 */
function deliverChain(c: Cpu, event: MachineEvent, options: DeliveryOptions | undefined, fault: CpuFault | undefined): void {
  let ev = event;
  let nested = options?.nested === true;
  let injected = options?.injected === true;
  let previous: MachineEvent | undefined;
  let previousNested = false;
  // The chain of events in words is only needed for a triple fault: built in the fault path.
  let chain: string[] | undefined;
  const vmx = c.vmx;
  // VMX: the delivery of a guest instruction's software event (the instruction retires with it).
  const software = vmx !== undefined && event.type >= 4 && options?.injected !== true;
  for (let attemptNumber = 0; ; attemptNumber++) {
    // VMX non-root: an exception may exit through the exception bitmap (SDM Vol. 3C §26.2); raised
    // while delivering an earlier event, the exit records that event as IDT-vectoring information.
    // An event injected by VM entry never exits itself (§27.6).
    if (vmx !== undefined && ev.type !== 0 && ev.type !== 2 && ev.type !== 4 && ev.type !== 7 && !(attemptNumber === 0 && options?.injected)) {
      const payload = ev.vector === 14 ? BigInt(ev.address ?? 0) : ev.vector === 1 ? ev.eventData : 0n;
      const exit = vmx.exception(ev.type, ev.vector, ev.errorCode, nested, payload, ev.instructionLength);
      // Not during delivery: the first attempt, or the #DF that delivery produced (SDM §28.2.4).
      if (exit) {
        const during = previous && !(ev.type === HARDWARE_EXCEPTION && ev.vector === DF) ? exit.during(delivering(previous, previousNested)) : exit;
        throw software ? during.fromSoftwareInstruction() : during;
      }
    }
    let error: unknown = fault;
    fault = undefined;
    if (error === undefined) {
      try {
        attempt(c, ev, nested, injected);
        return;
      } catch (thrown) {
        error = thrown;
      }
    }
    // A VM exit in the middle of the delivery (EPT violation on the stack or the IDT): the exit
    // carries the event being delivered (IDT-vectoring information, original-event data).
    if (error instanceof VmExit) {
      const during = error.delivering ? error : error.during(delivering(ev, nested));
      throw software ? during.fromSoftwareInstruction() : during;
    }
    if (!(error instanceof CpuFault)) throw error;
    // A fault detected while delivering is a fault-class exception like any other: its frame saves
    // RF = 1 (SDM Vol. 3B §18.3.1.1: "for any fault-classed exception except a debug exception
    // generated in response to an instruction breakpoint, the value pushed for RF is 1";
    // fred-architecture.md §3.2). #DF is an abort: it saves RFLAGS.RF as it is (the "other cases").
    const second: MachineEvent = { ...exceptionEvent(error, instructionRip(ev)), setRf: error.vector !== DB };
    injected = false;
    if (error.vector === 14 && error.address !== undefined) c.cr2 = BigInt.asUintN(64, BigInt(error.address)); // FRED hook: a #PF loads CR2 even when it becomes #DF (Bochs page_fault; the #DF handler reads it)
    const outcome = attemptNumber >= 8 ? 'shutdown' : doubleFaultOutcome(exceptionVectorForClasses(ev), error.vector);
    chain ??= [describeEvent(event)];
    chain.push(`${describeEvent(second)} while delivering ${describeEvent(ev).split(' [')[0]}`);
    if (outcome === 'shutdown') {
      const reason = `triple fault: ${chain.join(' → ')}`;
      if (vmx !== undefined) throw new VmExit(EXIT.TRIPLE_FAULT, 0n, 0, undefined, undefined, undefined, undefined, reason); // exit reason 2, never during delivery (§1.12)
      throw new Shutdown(reason);
    }
    previous = ev;
    previousNested = nested;
    if (outcome === 'doubleFault') {
      ev = { type: HARDWARE_EXCEPTION, vector: DF, errorCode: 0, rip: second.rip, instructionLength: 0, eventData: 0n, detail: 'double fault', setRf: false };
      chain.push('#DF(0)');
      nested = false;
    } else {
      ev = second;
      nested = true;
    }
  }
}
