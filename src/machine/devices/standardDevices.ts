// The devices of the boot contract (ARCHITECTURE §3): COM1, the debug-exit port and the x2APIC,
// plus the optional `--interrupt` schedule, composed once so the machine and its snapshots treat
// them as one unit.
import { DebugExitDevice } from './debugExit';
import { InterruptSchedule, type InterruptSpec } from './interruptSchedule';
import { LocalApic } from './localApic';
import { PortBus } from './portBus';
import { Serial16550 } from './serial16550';

export interface StandardDevicesOptions {
  onOutput?: (byte: number) => void;
  onExit?: (code: number) => void;
  /** `--interrupt VECTOR@EVERY`: requests go to the local APIC. */
  interrupt?: InterruptSpec;
}

export interface StandardDevicesState {
  ports: unknown[];
  apic: unknown;
  schedule: unknown;
}

export class StandardDevices {
  readonly ports = new PortBus();
  readonly serial: Serial16550;
  readonly debugExit: DebugExitDevice;
  readonly apic = new LocalApic();
  readonly schedule: InterruptSchedule | undefined;

  constructor(options: StandardDevicesOptions = {}) {
    this.serial = new Serial16550({ onOutput: options.onOutput });
    this.debugExit = new DebugExitDevice({ onExit: options.onExit });
    this.ports.attach(this.serial);
    this.ports.attach(this.debugExit);
    this.schedule = options.interrupt ? new InterruptSchedule(options.interrupt, this.apic) : undefined;
  }

  /** Bring every time-driven source to `icount` (APIC timer, interrupt schedule). */
  advanceTo(icount: number): void {
    this.schedule?.advanceTo(icount);
    this.apic.advanceTo(icount);
  }

  /** The earliest icount at which an interrupt may become pending (for skipping HLT time). */
  nextEventAt(): number {
    return Math.min(this.apic.nextEventAt(), this.schedule?.nextEventAt() ?? Infinity);
  }

  save(): StandardDevicesState {
    return { ports: this.ports.save(), apic: this.apic.save(), schedule: this.schedule?.save() ?? null };
  }

  restore(state: StandardDevicesState): void {
    this.ports.restore(state.ports);
    this.apic.restore(state.apic);
    if (this.schedule) this.schedule.restore(state.schedule);
  }
}
