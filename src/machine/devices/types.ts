// Contracts between the CPU and the devices (ARCHITECTURE §3 "Devices"). The CPU core composes these;
// the devices never reach into CPU state. Time is the retired-instruction count, so runs are
// deterministic and replayable.

/** I/O-port access size in bytes. */
export type PortSize = 1 | 2 | 4;

/** A device on the I/O port bus. */
export interface PortDevice {
  /** True when this device decodes `port`. */
  claims(port: number): boolean;
  /** IN: the value read (only the low `size` bytes are used). */
  read(port: number, size: PortSize): number;
  /** OUT. */
  write(port: number, size: PortSize, value: number): void;
}

/** Result of an MSR access routed to a device: `undefined` = not this device's MSR. */
export type MsrReadResult = { ok: true; value: bigint } | { ok: false; reason: string };
export type MsrWriteResult = { ok: true } | { ok: false; reason: string };

/**
 * The local APIC in x2APIC mode as the CPU sees it: MSRs 0x800–0x8FF, interrupt acceptance and the
 * timer on the instruction-count time base.
 */
export interface InterruptController {
  /**
   * RDMSR of an x2APIC register (0x800–0x8FF) or IA32_APIC_BASE (0x1B); undefined if not ours.
   * `icount` (optional) first advances the timers, so the timer current count reads exactly.
   */
  readMsr(index: number, icount?: number): MsrReadResult | undefined;
  /** WRMSR; `ok: false` becomes #GP(0) with the reason in the trace. */
  writeMsr(index: number, value: bigint, icount: number): MsrWriteResult | undefined;
  /** Advance timers to `icount`; returns nothing, raises IRR bits as timers expire. */
  advanceTo(icount: number): void;
  /** The instruction count at which the next timer interrupt becomes pending (Infinity if none). */
  nextEventAt(): number;
  /** Highest-priority deliverable vector (IRR above PPR), or -1. Does not change state. */
  pendingVector(): number;
  /** INTA: move `vector` from IRR to ISR. */
  acknowledge(vector: number): void;
  /** A pending NMI (from ICR or self-IPI with NMI delivery mode) — taken (cleared) by the call. */
  takeNmi(): boolean;
  /** Raise an external interrupt request (used by the `--interrupt VECTOR@EVERY` schedule). */
  requestInterrupt(vector: number): void;
  /** Raise an NMI request. */
  requestNmi(): void;
  /** Plain-data state for snapshots; `restore(save())` must be exact. */
  save(): unknown;
  restore(state: unknown): void;
}
