// VM exit (SDM Vol. 3C §28): leave non-root operation, record the exit-information fields (exitInfo.ts:
// reason, qualification, exit interruption information, IDT-vectoring information and original-event
// data when the exit interrupted a delivery, instruction length, EPT addresses), store the guest RIP,
// and emit the `vmexit` trace record. The rest of the guest state is stored lazily (monitor.ts).
// Host state is not loaded into the emulated CPU: that CPU is the vCPU, and the host (this monitor)
// runs as TypeScript, so HOST_* fields describe the host the monitor pretends to be.
import { fromLinear } from '../cpu/state';
import type { VmExitRecord } from '../trace';
import { recordVmExit } from './exitInfo';
import type { VmExit } from './exitSignal';
import type { VmxMonitor } from './monitor';
import { NO_VECTORING, recordVectoring } from './reinjection';
import { vmExitRecord } from './traceRecords';
import { vmcsSlot } from './vmcs';

const GUEST_RIP = vmcsSlot('GUEST_RIP');

export function recordExit(monitor: VmxMonitor, e: VmExit): VmExitRecord {
  const c = monitor.cpu;
  const vmcs = monitor.vmcs;
  monitor.leaveGuest();
  const guestFred = c.fredEnabled;
  const vectoring = e.delivering === undefined ? NO_VECTORING : recordVectoring(e.delivering, guestFred);
  monitor.vectoring = vectoring;
  vmcs.write(GUEST_RIP, fromLinear(c.rip)); // slot writes: the CPU's own recording (no lazy sync, not "written from outside")
  monitor.exitInterruptionInfo = recordVmExit(vmcs, {
    basicReason: e.basicReason,
    qualification: e.qualification,
    event: e.event,
    vectoring,
    instructionLength: e.instructionLength !== 0 ? e.instructionLength : undefined, // else the vectoring length
    guestLinearAddress: e.guestLinearAddress,
    guestPhysicalAddress: e.guestPhysicalAddress,
  }, guestFred);
  const record = vmExitRecord(vmcs, c.icount);
  c.trace.emit(record);
  return record;
}
