// The embedded VMX monitor (ARCHITECTURE §5; docs/vmx.md): one vCPU in VMX non-root operation under
// a KVM-like hypervisor. The machine's run loop calls `exit` with every VmExit the emulated CPU
// throws and `acceptEvents` at instruction boundaries; the monitor records the exit (exit.ts),
// completes interrupted deliveries (KVM __vmx_complete_interrupts), runs the exit handler
// (handlers.ts) and enters the guest again (entry.ts), injecting events through the guest's FRED or
// IDT mechanism. The guest's x2APIC is virtualized as KVM's in-kernel APIC: its interrupts and NMIs
// reach the guest by injection, with interrupt-window and NMI-window exiting when the guest cannot
// take them yet.
//
// Guest state lives in the emulated CPU while the monitor runs (as KVM keeps it in its vCPU
// structure); the VMCS guest-state area is filled from it when someone reads it (VMREAD, the VMCS
// view, the entry checks), which gives the same contents as a VM exit storing every field, without
// the cost on the hot exit path. A write to a guest-state field makes the VMCS the source of truth
// until the next VM entry, which then checks and loads it.
import { encodeInterruptionInfo } from '../../arch/index';
import { VectorSet } from '../devices/vectorSet';
import { toLinear } from '../cpu/state';
import type { Cpu } from '../cpu/cpu';
import type { LocalApic } from '../devices/localApic';
import type { Mmu } from '../memory/mmu';
import type { Trace, VmExitRecord } from '../trace';
import { vmxCapabilities, type VmxCapabilities } from './capabilities';
import { setUpVmcs } from './controls';
import type { EntryCheckFailure } from './entryChecks';
import { Ept, type EptState } from './ept';
import { enterGuest, WINDOW_CONTROLS, type InjectionSource } from './entry';
import { recordExit } from './exit';
import { createIntercepts, EXIT, VmExit, type VmxIntercepts } from './exitSignal';
import { saveGuestState } from './guestState';
import { handleExit, type HandlerOutcome } from './handlers';
import { InjectionQueue, type QueuedEvent } from './injection';
import type { VmxPolicy } from './policy';
import { NO_VECTORING, type VectoringFields } from './reinjection';
import { Vmcs, type GuestStateObserver } from './vmcs';

/** Stop reasons the monitor can request (a subset of the machine's StopReasonKind). */
export type MonitorStopKind = 'vmexit' | 'vmentryFailure' | 'debugExit' | 'halted' | 'shutdown';

/** What the monitor needs from the machine. */
export interface VmxHost {
  readonly cpu: Cpu;
  readonly mmu: Mmu;
  readonly apic: LocalApic;
  readonly trace: Trace;
  /** Bytes of guest RAM (EPT maps exactly these). */
  readonly memoryBytes: number;
  /** machine.stopAtVmExit. */
  stopAtVmExit(record: VmExitRecord): boolean;
  requestStop(reason: MonitorStopKind, message: string, exitCode?: number): void;
  /** Hypercall 0 output (an `output` record with device 'hypercall', and machine.output). */
  hypercallOutput(text: string): void;
  /** Guest-physical memory changed behind the MMU (EPT restore): drop translations. */
  translationsChanged(): void;
  /** The program's symbols, for the policy's `at` labels (an image without symbols has none). */
  readonly symbols?: ReadonlyMap<string, bigint>;
}

/** A policy event due when the guest reaches a label (policy.interrupts / policy.nmis `at`). */
interface LabelTrigger {
  readonly address: number;
  /** Vector of an external interrupt, or 2 with `nmi`. */
  readonly vector: number;
  readonly nmi: boolean;
}

/** An injection asked for by the debugger (requestInjection) or by hypercall 2, as raw VM-entry fields. */
export interface InjectionRequest {
  readonly interruptionInfo: number;
  readonly errorCode: number;
  readonly eventData: bigint;
  readonly instructionLength: number;
}

/** Host interrupt vectors that appear in the exit interruption information of external-interrupt exits. */
export const HOST_TIMER_VECTOR = 0xec; // Linux LOCAL_TIMER_VECTOR: the host timer behind the guest's APIC timer and schedules
export const HOST_KICK_VECTOR = 0xfd; // Linux RESCHEDULE_VECTOR: kvm_vcpu_kick's IPI

/** Monitor state for snapshots (time travel restores the VMCS, the queue and the EPT). */
export interface VmxMonitorState {
  readonly vmcs: BigUint64Array;
  readonly ept: EptState;
  readonly scalars: readonly (number | boolean)[];
  readonly queue: { exception?: QueuedEvent; nmiInjected: boolean; interrupt?: QueuedEvent };
  readonly requested?: InjectionRequest;
  readonly pendingExit?: VmExit;
  readonly stoppedAtExit?: VmExitRecord;
  readonly vectoring: VectoringFields;
  readonly failure?: EntryCheckFailure;
  readonly external: number[];
  readonly fired: boolean[];
}

export class VmxMonitor implements GuestStateObserver {
  readonly vmcs: Vmcs;
  readonly caps: VmxCapabilities;
  readonly ept: Ept;
  readonly queue = new InjectionQueue();
  readonly intercepts: VmxIntercepts;
  private exits = 0;
  /** The vCPU runs in VMX non-root operation (between a VM entry and the next VM exit). */
  inGuest = false;
  /** The vCPU executed HLT and waits in the monitor for an event (KVM kvm_vcpu_halt). */
  blocked = false;
  /** Exit recorded, handler not run yet (stopAtVmExit said stop). */
  pendingExit: VmExit | undefined = undefined;
  private stopped: VmExitRecord | undefined = undefined;
  /** The IDT-vectoring fields of the last exit (for completeInterrupts). */
  vectoring: VectoringFields = NO_VECTORING;
  /** VM_EXIT_INTR_INFO of the last exit. */
  exitInterruptionInfo = 0;
  /** KVM nmi_pending: an NMI for the guest not yet injected. */
  nmiPending = false;
  requested: InjectionRequest | undefined = undefined;
  /** requestInjection while the guest runs: the next boundary forces an exit (KVM vcpu kick). */
  kick = false;
  interruptWindow = false;
  nmiWindow = false;
  /** The VMCS guest-state area holds the vCPU's current state. */
  guestSynced = false;
  /** A guest-state field was written from outside: the VMCS is the source of truth until the next entry. */
  vmcsDirty = false;
  /** A control or host field was written from outside: the next entry runs every check. */
  controlsChanged = true;
  /** The last VM entry failed its checks (the next run tries again with the VMCS as it is then). */
  failure: EntryCheckFailure | undefined = undefined;
  /**
   * The queued software event (INT n, INT3, INT1, SYSCALL…) comes from a guest instruction that
   * retires when the event is delivered: the block that raised it did not count it (entry.ts).
   */
  retireOnDelivery = false;
  /** External interrupts the policy raised (policy.interrupts), waiting for injection like the APIC's. */
  readonly external = new VectorSet();
  /** Any policy interrupt source (else `external` stays empty and is not scanned). */
  private readonly hasPolicyInterrupts: boolean;
  /** The policy's `at` sources and whether each has fired (once per run). */
  readonly labelTriggers: readonly LabelTrigger[];
  private fired: boolean[];
  /** Block starts the translator must keep (each label trigger is checked at a block boundary). */
  readonly triggerAddresses: ReadonlySet<number>;
  /** Where the event of the entry in progress comes from (entry.ts). */
  injectionSource: InjectionSource = 'none';

  constructor(readonly host: VmxHost, readonly policy: VmxPolicy) {
    const c = host.cpu;
    const at = (label: string): number => {
      const address = host.symbols?.get(label);
      if (address === undefined) throw new RangeError(`vmx policy: label '${label}' is not defined by the program`);
      return toLinear(address);
    };
    const triggers: LabelTrigger[] = [];
    for (const s of policy.interrupts) if ('at' in s) triggers.push({ address: at(s.at), vector: s.vector & 0xff, nmi: false });
    for (const s of policy.nmis) if ('at' in s) triggers.push({ address: at(s.at), vector: 2, nmi: true });
    this.labelTriggers = triggers;
    this.fired = triggers.map(() => false);
    this.triggerAddresses = new Set(triggers.map((t) => t.address));
    this.hasPolicyInterrupts = policy.interrupts.length !== 0;
    this.caps = vmxCapabilities({ fred: true });
    this.vmcs = new Vmcs({ fred: true });
    const { msrBitmap } = setUpVmcs(this.vmcs, this.caps, policy);
    // KVM v9 passes the FRED MSRs through only to a guest whose CPUID has FRED (patch 08); otherwise
    // they exit and the handler refuses them (#GP).
    if (!policy.cpuid.fred) for (let msr = 0x1cc; msr <= 0x1d4; msr++) { msrBitmap.set(msr, false, true); msrBitmap.set(msr, true, true); }
    this.ept = new Ept(host.memoryBytes);
    this.vmcs.set('EPT_POINTER', this.ept.pointer);
    if (policy.ept === 'eager') this.ept.mapAll();
    // The guest's view of host-owned CR bits starts as the boot values (KVM: read shadows = guest CRs).
    this.vmcs.set('CR0_READ_SHADOW', c.cr0);
    this.vmcs.set('CR4_READ_SHADOW', c.cr4);
    this.intercepts = createIntercepts(this.vmcs, msrBitmap);
    host.mmu.ept = this.ept;
    host.mmu.flush();
    this.vmcs.observer = this;
    // VMLAUNCH from the boot state.
    enterGuest(this);
  }

  get exitCount(): number {
    return this.exits;
  }

  /** The exit the machine stopped at (stopAtVmExit), until its handling runs on the next run/step. */
  get stoppedAtExit(): VmExitRecord | undefined {
    return this.stopped;
  }

  get cpu(): Cpu {
    return this.host.cpu;
  }

  /**
   * Ask for an event at the next VM entry. While the guest runs, the next run/step first forces an
   * exit (KVM's vcpu kick) so the trace shows the exit and the entry that injects. A request the
   * hardware refuses fails that VM entry (vmentryFailure stop naming the check).
   */
  requestInjection(ev: { type: number; vector: number; errorCode?: number; eventData?: bigint; nested?: boolean; instructionLength?: number }): void {
    this.requested = {
      interruptionInfo: encodeInterruptionInfo({ vector: ev.vector & 0xff, type: ev.type & 7, errorCode: ev.errorCode !== undefined, nested: ev.nested ?? false }),
      errorCode: (ev.errorCode ?? 0) >>> 0,
      eventData: BigInt.asUintN(64, ev.eventData ?? 0n),
      instructionLength: ev.instructionLength ?? 0,
    };
    if (this.inGuest) this.kick = true;
  }

  // ---- interrupt sources of the guest ----

  /** The policy's `every` interrupt sources (an InterruptSink for the machine's schedules). */
  requestInterrupt(vector: number): void {
    this.external.set(vector & 0xff); // the next boundary sees it pending: an external-interrupt exit
  }

  /**
   * Nothing for `acceptEvents` to do at the next block boundary (the machine chains blocks only
   * then): no label trigger to check, no kick, NMI, policy interrupt, open window or pending exit.
   */
  quietBetweenBlocks(): boolean {
    return this.labelTriggers.length === 0 && !this.kick && !this.nmiPending && !this.interruptWindow && !this.nmiWindow
      && this.pendingExit === undefined && this.requested === undefined && (!this.hasPolicyInterrupts || this.external.highest() < 0);
  }

  /** The policy's `every` NMI sources. */
  requestNmi(): void {
    this.nmiPending = true;
  }

  /** The highest external interrupt the guest may be given now (virtual APIC or policy), or -1. */
  pendingExternal(): number {
    const apic = this.host.apic.pendingVector();
    return this.hasPolicyInterrupts ? Math.max(apic, this.external.highest()) : apic;
  }

  /** Take `vector` for injection (the APIC's INTA cycle, or the policy source's). */
  acknowledgeExternal(vector: number): void {
    if (this.external.has(vector) && this.external.highest() >= this.host.apic.pendingVector()) this.external.clear(vector);
    else this.host.apic.acknowledge(vector);
  }

  /** A label trigger at the current RIP fires once. */
  private checkLabelTriggers(rip: number): void {
    for (let i = 0; i < this.labelTriggers.length; i++) {
      const t = this.labelTriggers[i]!;
      if (t.address !== rip || this.fired[i]) continue;
      this.fired[i] = true;
      if (t.nmi) this.nmiPending = true;
      else this.external.set(t.vector);
    }
  }

  // ---- the run loop's calls ----

  /** A VM exit thrown by the emulated CPU: record it, then handle it and enter again unless told to stop. */
  exit(e: VmExit): void {
    let exit: VmExit | undefined = e;
    while (exit !== undefined) {
      const record = recordExit(this, exit);
      this.lastRecord = record;
      this.exits++;
      if (this.host.stopAtVmExit(record)) {
        this.pendingExit = exit;
        this.stopped = record;
        this.host.requestStop('vmexit', `VM exit: ${record.reasonName} (${record.basicReason}) at guest RIP 0x${record.guestRip.toString(16)}`);
        return;
      }
      exit = this.handleAndEnter(exit);
    }
  }

  private lastRecord: VmExitRecord | undefined = undefined;

  /** The monitor cannot handle `e`: stop at it (it stays pending; the next run tries again). */
  reportExit(e: VmExit, why: string): 'stop' {
    const record = this.lastRecord;
    this.pendingExit = e;
    this.stopped = record;
    const name = record ? `${record.reasonName} (${record.basicReason}) at guest RIP 0x${record.guestRip.toString(16)}` : `exit reason ${e.basicReason}`;
    this.host.requestStop('vmexit', `VM exit: ${name}: ${why}`);
    return 'stop';
  }

  /** The next run/step after a stop at a VM exit (or a failed entry, or a blocked HLT woken by the debugger): carry on. */
  resume(): void {
    const pending = this.pendingExit;
    let next: VmExit | undefined;
    if (pending !== undefined) {
      this.lastRecord = this.stopped; // the record a report names (also after a restore)
      this.pendingExit = undefined;
      this.stopped = undefined;
      next = this.handleAndEnter(pending);
    } else if (this.failure !== undefined) {
      next = this.enterCatching();
    }
    if (next) this.exit(next);
  }

  /** Handle `e` (recorded already) and enter the guest; a VM exit during the injected delivery is returned. */
  private handleAndEnter(e: VmExit): VmExit | undefined {
    const outcome: HandlerOutcome = handleExit(this, e);
    if (outcome === 'enter') return this.enterCatching();
    return undefined;
  }

  private enterCatching(): VmExit | undefined {
    try {
      enterGuest(this);
      return undefined;
    } catch (error) {
      if (error instanceof VmExit) return error;
      throw error;
    }
  }

  /**
   * At an instruction boundary (the machine's acceptEvents): in the guest, an interrupt or NMI that
   * the virtual APIC has for the guest makes the physical CPU exit (external-interrupt exiting), as
   * does a kick, and an open interrupt/NMI window exits when its window exiting is on; a vCPU blocked
   * in HLT is entered again when an event can wake it.
   */
  acceptEvents(): void {
    const c = this.host.cpu;
    const apic = this.host.apic;
    if (this.pendingExit !== undefined || this.failure !== undefined) return;
    if (this.labelTriggers.length !== 0) this.checkLabelTriggers(c.rip);
    if (!this.inGuest) {
      if (!this.blocked) return;
      if (apic.takeNmi()) this.nmiPending = true;
      const wake = !c.halted || this.nmiPending || this.requested !== undefined || this.queue.next() !== undefined
        || (c.interruptsEnabled && this.pendingExternal() >= 0);
      if (!wake) return;
      this.blocked = false;
      const next = this.enterCatching();
      if (next) this.exit(next);
      return;
    }
    if (this.kick) {
      this.kick = false;
      return this.exit(new VmExit(EXIT.EXTERNAL_INTERRUPT, 0n, 0, { type: 0, vector: HOST_KICK_VECTOR, nested: false }));
    }
    if (apic.takeNmi()) this.nmiPending = true;
    if ((this.nmiPending && !this.nmiWindow) || (!this.interruptWindow && this.queue.interrupt === undefined && this.pendingExternal() >= 0)) {
      return this.exit(new VmExit(EXIT.EXTERNAL_INTERRUPT, 0n, 0, { type: 0, vector: HOST_TIMER_VECTOR, nested: false }));
    }
    if (c.shadow) return;
    if (this.nmiWindow && !c.nmiBlocked) return this.exit(new VmExit(EXIT.NMI_WINDOW));
    if (this.interruptWindow && c.interruptsEnabled) return this.exit(new VmExit(EXIT.INTERRUPT_WINDOW));
  }

  /** Leave non-root operation (the CPU stops asking the intercepts). */
  leaveGuest(): void {
    this.inGuest = false;
    this.host.cpu.vmx = undefined;
    this.guestSynced = false;
    this.vmcsDirty = false;
  }

  /** Enter non-root operation. */
  enterNonRoot(): void {
    this.inGuest = true;
    this.blocked = false;
    this.failure = undefined;
    this.host.cpu.vmx = this.intercepts;
    this.guestSynced = false;
  }

  /** The monitor's own VMCS write (not "from outside": no lazy-state or check bookkeeping). */
  monitorSet(name: string, value: bigint): void {
    const observer = this.vmcs.observer;
    this.vmcs.observer = undefined;
    this.vmcs.set(name, value);
    this.vmcs.observer = observer;
  }

  /** Interrupt-window and NMI-window exiting in the primary processor-based controls. */
  setWindows(interrupt: boolean, nmi: boolean): void {
    if (interrupt === this.interruptWindow && nmi === this.nmiWindow) return;
    this.interruptWindow = interrupt;
    this.nmiWindow = nmi;
    let proc = this.vmcs.get('CPU_BASED_VM_EXEC_CONTROL') & ~(WINDOW_CONTROLS.interrupt | WINDOW_CONTROLS.nmi);
    if (interrupt) proc |= WINDOW_CONTROLS.interrupt;
    if (nmi) proc |= WINDOW_CONTROLS.nmi;
    this.monitorSet('CPU_BASED_VM_EXEC_CONTROL', proc);
  }

  // ---- GuestStateObserver: the lazily filled guest-state area ----

  beforeGuestRead(): void {
    if (this.guestSynced || this.vmcsDirty) return;
    this.syncGuestState();
  }

  afterWrite(guest: boolean): void {
    if (guest) this.vmcsDirty = true;
    else this.controlsChanged = true;
  }

  /** Store the vCPU's state in the guest-state area (what VM exit saves, every field). */
  syncGuestState(): void {
    const observer = this.vmcs.observer;
    this.vmcs.observer = undefined;
    saveGuestState(this.host.cpu, this.vmcs, 'all');
    this.vmcs.observer = observer;
    // In the guest the state moves on: read again next time. Between exit and entry it stays.
    this.guestSynced = !this.inGuest;
  }

  // ---- snapshots ----

  save(): VmxMonitorState {
    if (!this.vmcsDirty) this.syncGuestState();
    const q = this.queue;
    return {
      vmcs: this.vmcs.saveRaw(),
      ept: this.ept.save(),
      scalars: [this.exits, this.inGuest, this.blocked, this.exitInterruptionInfo, this.nmiPending, this.kick, this.interruptWindow,
        this.nmiWindow, this.vmcsDirty, this.controlsChanged, this.retireOnDelivery],
      queue: { exception: q.exception, nmiInjected: q.nmiInjected, interrupt: q.interrupt },
      requested: this.requested,
      pendingExit: this.pendingExit,
      stoppedAtExit: this.stopped,
      vectoring: this.vectoring,
      failure: this.failure,
      external: this.external.save(),
      fired: this.fired.slice(),
    };
  }

  restore(s: VmxMonitorState): void {
    this.vmcs.restoreRaw(s.vmcs);
    this.ept.restore(s.ept);
    [this.exits, this.inGuest, this.blocked, this.exitInterruptionInfo, this.nmiPending, this.kick, this.interruptWindow,
      this.nmiWindow, this.vmcsDirty, this.controlsChanged, this.retireOnDelivery] = s.scalars as [number, boolean, boolean, number, boolean, boolean, boolean, boolean, boolean, boolean, boolean];
    this.queue.exception = s.queue.exception;
    this.queue.nmiInjected = s.queue.nmiInjected;
    this.queue.interrupt = s.queue.interrupt;
    this.requested = s.requested;
    this.pendingExit = s.pendingExit;
    this.stopped = s.stoppedAtExit;
    this.vectoring = s.vectoring;
    this.failure = s.failure;
    this.external.restore(s.external);
    this.fired = s.fired.slice();
    this.guestSynced = !this.inGuest && !this.vmcsDirty;
    this.host.cpu.vmx = this.inGuest ? this.intercepts : undefined;
    this.host.mmu.flush();
    this.host.translationsChanged();
  }
}
