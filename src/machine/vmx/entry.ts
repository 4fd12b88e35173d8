// VM entry (SDM Vol. 3C §27): choose the event to inject as KVM's kvm_check_and_inject_events does
// (a queued exception, then an NMI, then an interrupt from the virtual APIC; a request from the
// debugger or hypercall 2 first), arm interrupt-/NMI-window exiting for what cannot be injected yet,
// run the VM-entry checks, load the guest state when the VMCS holds it, and deliver the injected event
// through the guest's FRED or IDT mechanism (`deliverEvent` with the nested bit and `injected`).
//
// The checks run in full whenever the entry injects, the VMCS was written from outside the monitor,
// or the previous entry failed. An entry right after an exit whose handler only emulated an
// instruction resumes the state the CPU itself produced from a checked state; it skips re-running
// the checks (the exit path of the CPUID benchmark), which changes no outcome the guest can cause.
import { exceptionByVector, fieldMasks, PRIMARY_PROC_CONTROLS } from '../../arch/index';
import { fromLinear } from '../cpu/state';
import { deliverEvent } from '../events/deliver';
import { checkVmEntry, describeEntryOutcome } from './entryChecks';
import { loadGuestState } from './guestState';
import { entryInjection, injectedEvent } from './injection';
import type { VmxMonitor } from './monitor';
import { vmcsSlot } from './vmcs';
import { vmEntryFailureRecord, vmEntryRecord } from './traceRecords';

const PROC = fieldMasks(PRIMARY_PROC_CONTROLS);
const CR4_FRED = 1n << 32n;
const VALID = 1n << 31n;
const ENTRY_INFO = vmcsSlot('VM_ENTRY_INTR_INFO_FIELD');

/** Which queue slot the event being injected came from (removed once the entry succeeded). */
export type InjectionSource = 'none' | 'exception' | 'nmi' | 'interrupt' | 'request';

function guestUsesFred(m: VmxMonitor): boolean {
  return m.vmcsDirty ? (m.vmcs.get('GUEST_CR4') & CR4_FRED) !== 0n : m.cpu.fredEnabled;
}

/** Pick the event for this entry and write the VM-entry fields; arm the windows for the rest. */
function prepareInjection(m: VmxMonitor): void {
  const c = m.cpu;
  const apic = m.host.apic;
  const q = m.queue;
  const fred = guestUsesFred(m);
  if (apic.takeNmi()) m.nmiPending = true;
  let source: InjectionSource = 'none';
  if (m.requested !== undefined) {
    const r = m.requested;
    m.monitorSet('VM_ENTRY_INTR_INFO_FIELD', BigInt(r.interruptionInfo >>> 0));
    m.monitorSet('VM_ENTRY_EXCEPTION_ERROR_CODE', BigInt(r.errorCode >>> 0));
    m.monitorSet('VM_ENTRY_INSTRUCTION_LEN', BigInt(r.instructionLength >>> 0));
    m.monitorSet('INJECTED_EVENT_DATA', r.eventData);
    source = 'request';
  } else {
    const blocked = c.shadow;
    if (q.exception === undefined && !q.nmiInjected && q.interrupt === undefined) {
      if (m.nmiPending && !c.nmiBlocked && !blocked) {
        q.queueNmi();
        m.nmiPending = false;
      } else if (!m.nmiPending && c.interruptsEnabled && !blocked) {
        const vector = m.pendingExternal();
        if (vector >= 0) {
          m.acknowledgeExternal(vector);
          q.queueInterrupt(vector);
        }
      }
    }
    const ev = q.next();
    if (ev !== undefined) {
      const fields = entryInjection(ev, fred);
      m.monitorSet('VM_ENTRY_INTR_INFO_FIELD', BigInt(fields.interruptionInfo >>> 0));
      m.monitorSet('VM_ENTRY_EXCEPTION_ERROR_CODE', BigInt((fields.errorCode ?? 0) >>> 0));
      m.monitorSet('VM_ENTRY_INSTRUCTION_LEN', BigInt(fields.instructionLength));
      if (fields.injectedEventData !== undefined) m.monitorSet('INJECTED_EVENT_DATA', fields.injectedEventData);
      source = q.exception !== undefined ? 'exception' : q.nmiInjected ? 'nmi' : 'interrupt';
    }
  }
  if (source === 'none') {
    const info = m.vmcs.read(ENTRY_INFO);
    if (info & VALID) m.vmcs.write(ENTRY_INFO, info & ~VALID);
  } else c.halted = false; // an injected event wakes a HLT-blocked vCPU (activity state active)
  m.injectionSource = source;
  // Window exiting for what is still waiting (KVM enable_irq_window / enable_nmi_window).
  const interruptWaiting = (q.interrupt !== undefined && source !== 'interrupt') || m.pendingExternal() >= 0;
  m.setWindows(interruptWaiting, m.nmiPending);
}

/** Remove the injected event from the queue once the entry succeeded. */
function consumeInjection(m: VmxMonitor): void {
  switch (m.injectionSource) {
    case 'exception': m.queue.exception = undefined; break;
    case 'nmi': m.queue.nmiInjected = false; break;
    case 'interrupt': m.queue.interrupt = undefined; break;
    case 'request': m.requested = undefined; break;
  }
  m.injectionSource = 'none';
}

/**
 * VMLAUNCH/VMRESUME. On a failed check: the `vmentryFailure` record and stop (the guest stays out;
 * the next run tries again with the VMCS as it is then). A VM exit during the injected delivery
 * propagates to the caller (monitor.ts), which records it like any other.
 */
export function enterGuest(m: VmxMonitor): void {
  const c = m.cpu;
  const vmcs = m.vmcs;
  const retry = m.failure !== undefined;
  if (!retry) prepareInjection(m);
  const injecting = (vmcs.read(ENTRY_INFO) & VALID) !== 0n;
  if (retry || injecting || m.vmcsDirty || m.controlsChanged) {
    if (!m.vmcsDirty) m.syncGuestState();
    const failure = checkVmEntry(vmcs, m.caps);
    if (failure !== undefined) {
      m.failure = failure;
      c.trace.emit(vmEntryFailureRecord(failure, c.icount));
      m.host.requestStop('vmentryFailure',
        `VM-entry failure: ${failure.check}; ${failure.field} = 0x${failure.value.toString(16)} (${describeEntryOutcome(failure.outcome)})`);
      return;
    }
    if (m.vmcsDirty) {
      const observer = vmcs.observer;
      vmcs.observer = undefined;
      loadGuestState(vmcs, c);
      vmcs.observer = observer;
      c.syncPaging();
      c.onTranslationChange();
      c.onDebugRegistersChange();
    }
    m.controlsChanged = false;
  }
  const guestFred = c.fredEnabled;
  m.enterNonRoot();
  c.trace.emit(vmEntryRecord(vmcs, c.icount));
  const source = m.injectionSource;
  consumeInjection(m); // also a request whose valid bit was cleared in the VMCS after a failed entry
  if (!injecting) return;
  const delivery = injectedEvent({
    interruptionInfo: Number(vmcs.get('VM_ENTRY_INTR_INFO_FIELD')),
    errorCode: Number(vmcs.get('VM_ENTRY_EXCEPTION_ERROR_CODE')),
    instructionLength: Number(vmcs.get('VM_ENTRY_INSTRUCTION_LEN')),
    injectedEventData: vmcs.get('INJECTED_EVENT_DATA'),
  }, fromLinear(c.rip), guestFred);
  if (delivery.kind !== 'deliver') return; // type 7 vector 0: a pending MTF VM exit (MTF is not offered)
  const ev = delivery.event;
  // A fault-class hardware exception other than #DB saves RF = 1 (SDM Vol. 3B §18.3.1.1), also a
  // nested one raised by a delivery, as in the machine's own delivery (events/deliver.ts).
  if (ev.type === 3 && ev.vector !== 1 && exceptionByVector(ev.vector)?.kind === 'fault') ev.setRf = true;
  deliverEvent(c, ev, { nested: delivery.nested, injected: true });
  if (m.retireOnDelivery && (source === 'exception' || source === 'interrupt')) {
    m.retireOnDelivery = false;
    c.icount += 1;
  }
}

/** The primary processor-based control bits of interrupt-window and NMI-window exiting. */
export const WINDOW_CONTROLS = { interrupt: PROC.CPU_BASED_INTR_WINDOW_EXITING, nmi: PROC.CPU_BASED_NMI_WINDOW_EXITING } as const;
