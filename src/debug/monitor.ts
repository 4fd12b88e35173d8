// The machine's VMX monitor as the debugger reaches it (ARCHITECTURE §5): undefined on bare metal
// (`"vmx": false`). Everything VMX in the adapter goes through here.
import type { Machine } from '../machine/machine';
import type { VmExitRecord } from '../machine/trace';
import type { VmxMonitor } from '../machine/vmx/monitor';

export function monitorOf(machine: Machine): VmxMonitor | undefined {
  return machine.vmx;
}

/** The run stops right after an exit is recorded when `stop` says so (before the monitor handles it). */
export function setStopAtVmExit(machine: Machine, stop: (exit: VmExitRecord) => boolean): void {
  machine.stopAtVmExit = stop;
}
