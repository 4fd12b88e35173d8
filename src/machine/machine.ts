// The machine (ARCHITECTURE §2–§3): composition of memory, MMU, CPU, translation cache, devices and
// trace; the boot contract; the run loop with its stop conditions; the API the CLI, the debugger and
// the tests use. Host-side errors never escape `run`/`step`: they become a 'hostError' stop.
import { InterruptSchedule, StandardDevices } from './devices/index';
import { Cpu, type SystemBus } from './cpu/cpu';
import { Translator } from './cpu/translator';
import type { Block } from './cpu/codegen/block';
import { Mmu } from './memory/mmu';
import { PhysicalMemory, PAGE_SIZE } from './memory/physical';
import { Trace } from './trace';
import { CpuFault, MachineStop, DB } from './events/fault';
import { deliverEvent, Shutdown } from './events/deliver';
import { exceptionEvent, interruptEvent, describeEvent } from './events/event';
import { bootCpu, buildPageTables, DEFAULT_ORG, MAX_MEMORY_MIB, pageTablesEnd, type PageRange } from './boot';
import { fromLinear, isCanonical, toLinear, type Segment } from './cpu/state';
import { RF, TF } from './cpu/flags';
import { walk, ACCESS_READ } from './memory/paging';
import { takeSnapshot, restoreSnapshot, SnapshotStore, type MachineSnapshot } from './snapshot';
import { readMsr } from './cpu/exec/msr';
import type { PortSize } from './devices/types';
import type { VmExitRecord } from './trace';
import { VmxMonitor, type MonitorStopKind, type VmxMonitorState } from './vmx/monitor';
import { VmExit } from './vmx/exitSignal';
import type { VmxPolicy } from './vmx/policy';

export interface LoadableImage {
  readonly sections: readonly { readonly address: bigint; readonly bytes: Uint8Array; readonly size: number; readonly user: boolean; readonly writable: boolean; readonly executable: boolean }[];
  readonly entry: bigint;
  /** Labels (the assembler's symbols): the VMX policy's `at` sources name them. */
  readonly symbols?: ReadonlyMap<string, bigint>;
}

export interface MachineOptions {
  /** RAM size in MiB (default 64, at most 256). */
  memoryMiB?: number;
  /** Default instruction limit of `run()` without an argument (default 100 000 000). */
  maxInstructions?: number;
  /** Extra linear ranges mapped (supervisor, writable) to fresh zeroed RAM carved from the top of memory. */
  extraMappings?: { address: bigint; size: number }[];
  /** Bytes written at linear addresses after boot (`--load FILE@ADDR`). */
  loads?: { address: bigint; bytes: Uint8Array }[];
  /** External interrupt schedules (`--interrupt VECTOR@EVERY`). */
  interrupts?: { vector: number; every: number }[];
  /**
   * The VMX monitor's policy (DEFAULT_VMX_POLICY for KVM v9): the guest runs in VMX non-root operation
   * and the first VM entry happens in the constructor. undefined or false: bare metal.
   */
  vmx?: VmxPolicy | false;
  /** Executions of a block before it is recompiled optimized (default 4; 0 = optimize at once). */
  optimizeAfter?: number;
  /** Run every instruction as its own block (the reference "interpreter" mode). */
  interpretOnly?: boolean;
}

export type StopReasonKind = 'halted' | 'debugExit' | 'shutdown' | 'instructionLimit' | 'unimplemented' | 'hostError' | 'breakpoint' | 'step' | 'watchpoint'
  /** Stopped at a VM exit (stopAtVmExit) or at an exit the monitor cannot handle. */
  | 'vmexit'
  /** A VM entry failed its checks (the message names the check, the field and its value). */
  | 'vmentryFailure';

export interface StopReason {
  reason: StopReasonKind;
  /** In words: what stopped the run and where. */
  message: string;
  rip: bigint;
  icount: number;
  /** debugExit: the code written to port 0xF4 (or RBX of hypercall 1). */
  exitCode?: number;
  /** watchpoint: the write that hit a debugger data breakpoint (setDataWatches) and the instruction that made it. */
  write?: { address: bigint; size: number; rip: bigint };
}

export class MemoryAccessError extends Error {
  constructor(readonly address: bigint, message: string) {
    super(message);
  }
}

const DEFAULT_MAX_INSTRUCTIONS = 100_000_000;

export class Machine {
  readonly trace = new Trace();
  readonly mem: PhysicalMemory;
  readonly mmu: Mmu;
  readonly cpu: Cpu;
  readonly devices: StandardDevices;
  readonly translator: Translator;
  readonly snapshots = new SnapshotStore();
  /** The VMX monitor when the guest runs under it (MachineOptions.vmx); undefined on bare metal. */
  readonly vmx: VmxMonitor | undefined;
  /** Called with every VM exit; true stops the run right after the exit is recorded, before it is handled. */
  stopAtVmExit: ((exit: VmExitRecord) => boolean) | undefined = undefined;
  private outputText = '';
  private lineBuffer = '';
  private pendingStop: StopReason | undefined;
  private nmiPending = false;
  private readonly defaultLimit: number;
  /** Execution debug breakpoints from DR7 (linear addresses, index). */
  private debugExecBreakpoints: { index: number; address: number }[] = [];
  /** Skip the debugger breakpoint at the current RIP once (resume from a breakpoint stop). */
  private resumeFromBreakpoint = false;

  constructor(image: LoadableImage, options: MachineOptions = {}) {
    const mib = options.memoryMiB ?? 64;
    if (!Number.isInteger(mib) || mib < 2 || mib > MAX_MEMORY_MIB) throw new RangeError(`memoryMiB must be an integer from 2 to ${MAX_MEMORY_MIB} (got ${mib})`);
    this.defaultLimit = options.maxInstructions ?? DEFAULT_MAX_INSTRUCTIONS;
    this.mem = new PhysicalMemory(mib * 1024 * 1024);
    this.mmu = new Mmu(this.mem);
    const bus: SystemBus = {
      portRead: (port, size) => this.devices.ports.read(port, size as PortSize),
      portWrite: (port, size, value) => this.devices.ports.write(port, size as PortSize, value),
      deviceMsrRead: (index) => this.devices.apic.readMsr(index, this.cpu.icount), // the run loop advances devices per chain of blocks, not per instruction
      deviceMsrWrite: (index, value) => this.devices.apic.writeMsr(index, value, this.cpu.icount),
      halt: () => {},
    };
    this.cpu = new Cpu(this.mmu, this.trace, bus);
    const [first, ...more] = options.interrupts ?? [];
    this.devices = new StandardDevices({
      onOutput: (byte) => this.output_(byte),
      onExit: (code) => this.debugExit(code),
      interrupt: first,
    });
    this.extraSchedules = more.map((spec) => new InterruptSchedule(spec, this.devices.apic));
    this.translator = new Translator(this.cpu, this.mem);
    this.cpu.onTranslationChange = () => this.translator.flush();
    this.cpu.onDebugRegistersChange = () => this.armDebugRegisters();
    this.translator.interpretOnly = options.interpretOnly ?? false;
    this.translator.optimizeAfter = options.optimizeAfter ?? 4;
    this.boot(image, options);
    this.vmx = options.vmx ? new VmxMonitor({
      cpu: this.cpu, mmu: this.mmu, apic: this.devices.apic, trace: this.trace, memoryBytes: this.mem.size,
      stopAtVmExit: (record) => this.stopAtVmExit?.(record) === true,
      requestStop: (reason, message, exitCode) => this.requestStop(reason, message, exitCode),
      hypercallOutput: (text) => this.hypercallOutput(text),
      translationsChanged: () => this.translator.flush(),
      symbols: image.symbols,
    }, options.vmx) : undefined;
    if (this.vmx) this.addPolicySources(this.vmx, options.vmx as VmxPolicy);
  }

  /** The policy's interrupt and NMI sources: `every` on the machine's time base, `at` at a block start. */
  private addPolicySources(vmx: VmxMonitor, policy: VmxPolicy): void {
    for (const s of policy.interrupts) if ('every' in s) this.extraSchedules.push(new InterruptSchedule({ vector: s.vector, every: s.every }, vmx));
    const nmiSink = { requestInterrupt: () => vmx.requestNmi() };
    for (const s of policy.nmis) if ('every' in s) this.extraSchedules.push(new InterruptSchedule({ vector: 2, every: s.every }, nmiSink));
    for (const address of vmx.triggerAddresses) this.translator.blockStarts.add(address);
  }

  private requestStop(reason: MonitorStopKind, message: string, exitCode?: number): void {
    this.flushOutput();
    this.pendingStop = { reason, message, rip: 0n, icount: 0, ...(exitCode === undefined ? {} : { exitCode }) };
  }

  private hypercallOutput(text: string): void {
    this.flushOutput();
    this.outputText += text;
    this.trace.emit({ kind: 'output', icount: this.cpu.icount, device: 'hypercall', text });
  }

  private readonly extraSchedules: InterruptSchedule[];

  private boot(image: LoadableImage, options: MachineOptions): void {
    const size = this.mem.size;
    const userRanges: PageRange[] = [];
    const reserved = pageTablesEnd(size);
    for (const section of image.sections) {
      const start = Number(section.address);
      const end = start + Math.max(section.size, section.bytes.length);
      if (start < reserved || end > size) {
        throw new RangeError(`section at 0x${start.toString(16)}–0x${end.toString(16)} is outside usable RAM 0x${reserved.toString(16)}–0x${size.toString(16)} (boot structures live below 0x${reserved.toString(16)}; see the boot contract in the README)`);
      }
      if (section.user) userRanges.push({ start, end });
    }
    buildPageTables(this.mem, userRanges);
    for (const section of image.sections) this.mem.load(Number(section.address), section.bytes);
    let entry = toLinear(image.entry);
    if (image.sections.length === 0 && entry === 0) entry = DEFAULT_ORG;
    bootCpu(this.cpu, this.mem, entry);
    this.mapExtra(options.extraMappings ?? []);
    for (const load of options.loads ?? []) {
      const result = this.tryWriteMemory(load.address, load.bytes);
      if (!result.ok) throw new RangeError(`--load at 0x${load.address.toString(16)}: ${result.message}`);
    }
  }

  /** Map extra linear ranges to zeroed pages taken from the top of RAM (4-level tables in RAM too). */
  private mapExtra(ranges: { address: bigint; size: number }[]): void {
    let top = this.mem.size;
    const c = this.cpu;
    const alloc = () => {
      top -= PAGE_SIZE;
      if (top < pageTablesEnd(this.mem.size) + 0x100000) throw new RangeError('--map: not enough RAM for the extra mappings');
      this.mem.load(top, new Uint8Array(PAGE_SIZE));
      return top;
    };
    const cr3 = Number(c.cr3);
    for (const range of ranges) {
      const start = Math.floor(toLinear(range.address) / PAGE_SIZE) * PAGE_SIZE;
      const end = toLinear(range.address) + range.size;
      if (!isCanonical(start) || !isCanonical(end - 1)) throw new RangeError(`--map 0x${range.address.toString(16)}: not a canonical range`);
      for (let lin = start; lin < end; lin += PAGE_SIZE) {
        if (lin >= 0 && lin + PAGE_SIZE <= this.mem.size) continue; // RAM is identity-mapped already
        let table = cr3;
        const u = lin < 0 ? lin + 2 ** 48 : lin;
        for (let level = 4; level >= 1; level--) {
          const pa = table + (Math.floor(u / 2 ** (12 + 9 * (level - 1))) & 511) * 8;
          const lo = this.mem.read32(pa);
          if (level === 1) {
            if ((lo & 1) === 0) this.mem.write32(pa, alloc() | 3);
            break;
          }
          if ((lo & 1) === 0) {
            const next = alloc();
            this.mem.write32(pa, next | 7);
            this.mem.write32(pa + 4, 0);
            table = next;
          } else table = lo & ~0xfff;
        }
      }
    }
    this.mmu.flush();
  }

  // ---- output and devices ----

  private output_(byte: number): void {
    const ch = String.fromCharCode(byte);
    this.outputText += ch;
    this.lineBuffer += ch;
    if (byte === 10) this.flushOutput();
  }

  private flushOutput(): void {
    if (!this.lineBuffer) return;
    this.trace.emit({ kind: 'output', icount: this.cpu.icount, device: 'com1', text: this.lineBuffer });
    this.lineBuffer = '';
  }

  private debugExit(code: number): void {
    this.flushOutput();
    this.trace.emit({ kind: 'debugExit', icount: this.cpu.icount + 1, code });
    this.pendingStop = { reason: 'debugExit', message: `debug exit with code ${code} (out 0xf4)`, rip: 0n, icount: 0, exitCode: code };
  }

  /** COM1 text so far. */
  get output(): string {
    return this.outputText;
  }

  get icount(): number {
    return this.cpu.icount;
  }

  // ---- run loop ----

  private stop(reason: StopReason['reason'], message: string, extra: Partial<StopReason> = {}): StopReason {
    this.flushOutput();
    return { reason, message, rip: fromLinear(this.cpu.rip), icount: this.cpu.icount, ...extra };
  }

  /**
   * The next device event instant, cached: it can only move when a device changes (the APIC's
   * version, which every APIC change bumps; the schedules move only when advanced past it) or when
   * icount passes it. -1: recompute.
   */
  private deviceEventAt = -1;
  private deviceVersion = -1;

  private advanceDevices(): void {
    const icount = this.cpu.icount;
    if (icount < this.deviceEventAt && this.devices.apic.version === this.deviceVersion) return; // nothing due, nothing changed
    this.devices.advanceTo(icount);
    for (const s of this.extraSchedules) s.advanceTo(icount);
    this.deviceEventAt = -1;
  }

  private nextDeviceEvent(): number {
    const apic = this.devices.apic;
    if (this.deviceEventAt < 0 || apic.version !== this.deviceVersion) {
      let next = this.devices.nextEventAt();
      for (const s of this.extraSchedules) next = Math.min(next, s.nextEventAt());
      this.deviceEventAt = next;
      this.deviceVersion = apic.version;
    }
    return this.deviceEventAt;
  }

  /** Take a pending NMI or external interrupt if the CPU accepts it now (SDM Vol. 3A §6.8–§6.9). */
  private acceptEvents(): void {
    const c = this.cpu;
    if (this.devices.apic.takeNmi()) this.nmiPending = true;
    if (c.shadow) return;
    if (this.nmiPending && !c.nmiBlocked) {
      this.nmiPending = false;
      c.halted = false;
      deliverEvent(c, interruptEvent(2, c.rip));
      return;
    }
    if (!c.interruptsEnabled) return;
    const vector = this.devices.apic.pendingVector();
    if (vector < 0) return;
    this.devices.apic.acknowledge(vector);
    c.halted = false;
    deliverEvent(c, interruptEvent(vector, c.rip));
  }

  /** Run until a stop condition or `maxInstructions` more instructions. */
  run(maxInstructions?: number): StopReason {
    return this.execute(this.cpu.icount + (maxInstructions ?? this.defaultLimit), false);
  }

  /** Execute one instruction (or deliver one pending event); undefined when nothing stopped the machine. */
  step(): StopReason | undefined {
    const result = this.execute(this.cpu.icount + 1, true);
    return result.reason === 'step' || result.reason === 'instructionLimit' ? undefined : result;
  }

  private execute(limit: number, stepping: boolean): StopReason {
    const c = this.cpu;
    try {
      let resume = this.resumeFromBreakpoint || stepping;
      this.resumeFromBreakpoint = false;
      const vmx = this.vmx;
      if (vmx !== undefined && this.pendingStop === undefined) vmx.resume(); // handle a VM exit the last run stopped at
      for (;;) {
        if (this.pendingStop) {
          const s = { ...this.pendingStop, rip: fromLinear(c.rip), icount: c.icount };
          this.pendingStop = undefined;
          return this.stop(s.reason, s.message, s);
        }
        if (c.icount >= limit) return stepping ? this.stop('step', 'stepped') : this.stop('instructionLimit', `instruction limit reached after ${c.icount} instructions`);
        this.advanceDevices();
        const before = c.icount;
        const ripBefore = c.rip;
        if (vmx === undefined) this.acceptEvents();
        else {
          vmx.acceptEvents(); // interrupts reach the guest by injection (monitor.ts)
          if (this.pendingStop) continue;
        }
        if (stepping && c.rip !== ripBefore) return this.stop('step', 'event delivered');
        if (c.halted) {
          if (c.interruptsEnabled || this.nmiPending || vmx?.nmiPending) {
            const next = this.nextDeviceEvent();
            if (next === Infinity && !this.nmiPending) return this.stop('halted', `HLT with interrupts enabled and no interrupt source at 0x${fromLinear(c.rip - 1).toString(16)}`);
            c.icount = Math.min(Math.max(c.icount, next), limit);
            continue;
          }
          return this.stop('halted', `halted (HLT with RFLAGS.IF = 0) before 0x${fromLinear(c.rip).toString(16)}`);
        }
        if (!resume && this.translator.breakpoints.size !== 0 && this.translator.breakpoints.has(c.rip)) return this.stop('breakpoint', `breakpoint at 0x${fromLinear(c.rip).toString(16)}`);
        resume = false;
        try {
          this.runOne(limit, stepping);
          const pending = c.vmExitPending;
          if (pending !== undefined) {
            c.vmExitPending = undefined;
            c.icount -= 1; // the exiting instruction did not retire
            vmx!.exit(pending);
          }
        } catch (error) {
          if (!(error instanceof VmExit) || vmx === undefined) throw error;
          vmx.exit(error); // recorded, handled and entered again (or stopped: pendingStop)
        }
        if (stepping && c.icount > before) return this.stop('step', 'stepped');
      }
    } catch (error) {
      if (error instanceof Shutdown) {
        this.flushOutput();
        this.trace.emit({ kind: 'shutdown', icount: c.icount, reason: error.reason });
        return this.stop('shutdown', `shutdown: ${error.reason}`);
      }
      if (error instanceof MachineStop) return this.stop(error.reason, error.message);
      const text = error instanceof Error ? error.message : String(error);
      return this.stop('hostError', `emulator error at 0x${fromLinear(c.rip).toString(16)}: ${text}`);
    }
  }

  /**
   * Blocks from the current RIP (one instruction when exactness needs it), with fault delivery and
   * #DB traps. Blocks chain: as long as nothing the run loop checks between blocks can matter (see
   * `mayChain`), the next block runs here without a trip through `execute`.
   */
  private runOne(limit: number, stepping: boolean): void {
    const c = this.cpu;
    const flags = c.flags;
    const tf = (flags & TF) !== 0; // TF is not a lazy status bit: `flags` holds it exactly
    const debugArmed = this.debugExecBreakpoints.length > 0 || this.mmu.watch.length > 0 || this.mmu.debugWatch.length > 0;
    // One instruction at a time: stepping, TF, debug registers armed, an interrupt shadow, RF = 1
    // (cleared as the next instruction starts) or #DB traps held by MOV SS.
    if (stepping || tf || debugArmed || c.shadow || (flags & RF) !== 0 || c.heldDebugTraps !== 0) return this.runSingle(limit, stepping, tf, debugArmed);
    const version = this.devices.apic.version;
    // Instructions may retire up to the device event or the limit (at least one).
    const end = Math.min(limit, this.nextDeviceEvent());
    const mmu = this.mmu, translator = this.translator, apic = this.devices.apic;
    let quiet = false; // acceptEvents has nothing to take (asked once per chain, after the first block)
    let prev: Block | undefined; // the block before, whose chain link may name the next one
    for (let first = true; ; first = false) {
      const icount = c.icount;
      const budget = end > icount ? end - icount : 1;
      mmu.codeWritten = false;
      c.pendingDebug = 0; // FRED hook: debug-trap state of this instruction (exec/fred.ts, events/fred.ts)
      try {
        const rip = c.rip;
        let block = prev?.succ;
        // The link skips the lookup; tier-0 blocks still go through it (it counts them for optimization).
        if (block === undefined || block.rip !== rip || block.tier === 0 || prev!.succGen !== translator.generation || (prev!.endsInSystem && block.modeKey !== c.modeKey)) {
          block = translator.get(rip, false);
          if (prev !== undefined) { prev.succ = block; prev.succGen = translator.generation; }
        }
        prev = block;
        if (block.insns.length > budget) {
          block = translator.get(rip, true);
          prev = undefined;
        }
        c.budget = budget;
        block.run(c);
        if (c.vmExitPending !== undefined) return; // VMX: the block's last instruction exits (execute hands it to the monitor)
      } catch (error) {
        if (!(error instanceof CpuFault)) throw error;
        deliverEvent(c, { ...exceptionEvent(error, c.rip), setRf: error.vector !== DB });
        prev = undefined; // the delivery may have changed the mode: the next block is looked up
      }
      // FRED hook: ERETx pend a single step (> 0); a FRED delivery discards the instruction's debug traps (< 0)
      if (c.pendingDebug > 0) return this.deliverDebug(c.pendingDebug, c.rip);
      if (first) quiet = this.eventsQuiet();
      // mayChain, with the checks that cost one load first
      if (!quiet || c.icount >= end || apic.version !== version || !this.mayChain(end, version)) return;
    }
  }

  /** One instruction (see runOne for when), with its #DB traps. */
  private runSingle(limit: number, stepping: boolean, tf: boolean, debugArmed: boolean): void {
    const c = this.cpu;
    const flags = c.flags;
    const budget = Math.min(limit, Math.max(this.nextDeviceEvent(), c.icount + 1)) - c.icount;
    const stiBefore = c.blockingBySti, movSsBefore = c.blockingByMovSs;
    // Instruction breakpoints: suppressed by RF = 1 (SDM Vol. 3B §18.3.1.1) and, as every debug
    // exception, by blocking by MOV SS (SDM Vol. 3A §6.8.3).
    if (debugArmed && !(flags & RF) && !movSsBefore) {
      const hit = this.debugExecBreakpoints.find((b) => b.address === c.rip);
      if (hit) return this.deliverDebug(1 << hit.index, c.rip);
    }
    // RF is cleared at the start of the instruction, after the instruction-breakpoint check (SDM Vol.
    // 3B §18.3.1.1): a trap or software interrupt of this instruction saves RF = 0; IRETQ/ERETx/POPF
    // may load a new RF = 1 for the next one.
    if (flags & RF) c.rflags = c.rflags & ~RF;
    this.mmu.codeWritten = false;
    this.mmu.watchHits = 0;
    this.mmu.debugWatchHit = undefined;
    const insnRip = c.rip;
    c.pendingDebug = 0; // FRED hook: debug-trap state of this instruction (exec/fred.ts, events/fred.ts)
    const count = c.icount;
    try {
      const block = this.translator.get(c.rip, true);
      c.budget = budget;
      block.run(c);
      if (c.vmExitPending !== undefined) return; // VMX: the block's last instruction exits (execute hands it to the monitor)
    } catch (error) {
      if (!(error instanceof CpuFault)) throw error;
      c.heldDebugTraps = 0; // the instruction after MOV SS faulted: its held traps go with it
      deliverEvent(c, { ...exceptionEvent(error, c.rip), setRf: error.vector !== DB });
      return;
    }
    if (c.icount > count) {
      // The blockings in effect before this instruction end now (one new by this instruction stays).
      if (stiBefore) c.blockingBySti = false;
      if (movSsBefore) c.blockingByMovSs = false;
      let dr6 = this.mmu.watchHits | c.heldDebugTraps;
      c.heldDebugTraps = 0;
      if (tf) dr6 |= 1 << 14;
      if (c.pendingDebug) { dr6 = c.pendingDebug < 0 ? 0 : dr6 | c.pendingDebug; c.pendingDebug = 0; } // FRED hook: ERETx pend a single step (> 0); a FRED delivery discards the instruction's debug traps (< 0)
      // MOV SS / POP SS: its own traps wait for the boundary after the next instruction (SDM Vol. 3A §6.8.3).
      if (c.blockingByMovSs && !movSsBefore) {
        c.heldDebugTraps = dr6;
        dr6 = 0;
      }
      if (dr6) this.deliverDebug(dr6, c.rip);
      const hit = this.mmu.debugWatchHit as Mmu['debugWatchHit']; // set by the block's writes (TS narrowed it to undefined above)
      if (hit && !stepping) {
        const write = { address: fromLinear(hit.address), size: hit.size, rip: fromLinear(insnRip) };
        this.pendingStop = { reason: 'watchpoint', message: `data breakpoint: write of ${hit.size} byte${hit.size === 1 ? '' : 's'} at 0x${write.address.toString(16)} by 0x${write.rip.toString(16)}`, rip: 0n, icount: 0, write };
      }
    }
  }

  /**
   * acceptEvents would take nothing now or later in this chain: no NMI and no interrupt is pending
   * (IF, the shadow or NMI blocking may change inside a chain; a pending event must be looked at
   * after every block). Device state itself is checked by `mayChain` through the APIC version.
   */
  private eventsQuiet(): boolean {
    if (this.vmx !== undefined && !this.vmx.quietBetweenBlocks()) return false; // the monitor's acceptEvents has work
    return !this.nmiPending && this.devices.apic.pendingVector() < 0;
  }

  /**
   * May the next block run in the same chain? Only when the run loop would do nothing between the
   * blocks: no device event due and no device touched (APIC version), no stop pending, not halted,
   * no breakpoint at the next RIP, and no single-instruction mode needed (TF, interrupt shadow,
   * debug registers armed: checked by the next iteration's `single`, which returns after one block).
   */
  private mayChain(end: number, version: number): boolean {
    const c = this.cpu;
    if (c.icount >= end || this.devices.apic.version !== version || this.pendingStop !== undefined || c.halted) return false;
    if ((c.flags & (TF | RF)) !== 0 || c.shadow || this.debugExecBreakpoints.length > 0 || this.mmu.watch.length > 0) return false;
    return this.translator.breakpoints.size === 0 || !this.translator.breakpoints.has(c.rip);
  }

  /** #DB with DR6 bits (trap: RIP is the next instruction; fault for instruction breakpoints). */
  private deliverDebug(bits: number, rip: number): void {
    const c = this.cpu;
    c.dr[6] = (c.dr[6] & ~0x400fn) | BigInt(bits) | 0xffff0ff0n;
    deliverEvent(c, { ...exceptionEvent(new CpuFault(DB), rip, bits), setRf: false });
  }

  private armDebugRegisters(): void {
    const c = this.cpu;
    const dr7 = Number(c.dr[7] & 0xffffffffn);
    this.debugExecBreakpoints = [];
    this.mmu.watch = [];
    for (let i = 0; i < 4; i++) {
      if (((dr7 >> (2 * i)) & 3) === 0) continue;
      const rw = (dr7 >> (16 + 4 * i)) & 3;
      const len = [1, 2, 8, 4][(dr7 >> (18 + 4 * i)) & 3];
      const address = toLinear(c.dr[i]);
      if (rw === 0) this.debugExecBreakpoints.push({ index: i, address });
      else if (rw === 1 || rw === 3) this.mmu.watch.push({ index: i, address, length: len, rw });
    }
    c.syncPrivilege();
  }

  // ---- register and memory API ----

  getGpr(i: number): bigint {
    return this.cpu.gpr(i);
  }

  setGpr(i: number, value: bigint): void {
    this.cpu.setGpr(i, BigInt.asUintN(64, value));
  }

  getRip(): bigint {
    return fromLinear(this.cpu.rip);
  }

  setRip(value: bigint): void {
    this.cpu.rip = toLinear(value);
    this.cpu.halted = false;
  }

  getRflags(): bigint {
    return BigInt(this.cpu.rflags);
  }

  setRflags(value: bigint): void {
    this.cpu.rflags = Number(value & 0x3fffffn);
    // Blocking by STI exists only with IF = 1 (SDM Vol. 3C §27.3.1.5): clearing IF from the debugger
    // ends it, so the state stays one a CPU (and a VM entry) can have.
    if ((this.cpu.rflags & 0x200) === 0) this.cpu.blockingBySti = false;
    this.cpu.syncPrivilege();
  }

  getSegment(i: number): Segment {
    return { ...this.cpu.seg[i] };
  }

  readMsr(index: number): bigint | undefined {
    const r = readMsr(this.cpu, index);
    return r.ok ? r.value : undefined;
  }

  /** Debugger view of linear memory: supervisor translation without faults or A/D updates. */
  private translateQuietly(lin: number): number | undefined {
    if (!isCanonical(lin)) return undefined;
    try {
      const t = walk(this.mem, { ...this.mmu.ctl, smap: false, smep: false }, { lin, kind: ACCESS_READ, user: false }, true, false);
      const pa = t.frame + (((lin % PAGE_SIZE) + PAGE_SIZE) % PAGE_SIZE);
      return pa < this.mem.size ? pa : undefined;
    } catch {
      return undefined;
    }
  }

  /** Physical addresses of `length` bytes from `start`, one page walk per page; or the first unmapped address. */
  private physicalRange(start: number, length: number): number[] | { ok: false; address: bigint; message: string } {
    const out: number[] = [];
    let page = NaN, frame = 0;
    for (let k = 0; k < length; k++) {
      const lin = start + k;
      const base = Math.floor(lin / PAGE_SIZE) * PAGE_SIZE;
      if (base !== page) {
        const pa = this.translateQuietly(base);
        if (pa === undefined || pa + PAGE_SIZE > this.mem.size) return { ok: false, address: fromLinear(lin), message: `linear address 0x${fromLinear(lin).toString(16)} is not mapped` };
        page = base;
        frame = pa;
      }
      out.push(frame + (lin - base));
    }
    return out;
  }

  tryReadMemory(address: bigint, length: number): { ok: true; bytes: Uint8Array } | { ok: false; address: bigint; message: string } {
    const pas = this.physicalRange(toLinear(address), length);
    if (!Array.isArray(pas)) return pas;
    return { ok: true, bytes: Uint8Array.from(pas, (pa) => this.mem.bytes[pa]) };
  }

  /** Read linear memory; throws MemoryAccessError naming the first unmapped address. */
  readMemory(address: bigint, length: number): Uint8Array {
    const r = this.tryReadMemory(address, length);
    if (!r.ok) throw new MemoryAccessError(r.address, r.message);
    return r.bytes;
  }

  tryWriteMemory(address: bigint, bytes: Uint8Array): { ok: true } | { ok: false; address: bigint; message: string } {
    const pas = this.physicalRange(toLinear(address), bytes.length);
    if (!Array.isArray(pas)) return pas;
    pas.forEach((pa, k) => this.mem.write8(pa, bytes[k]));
    return { ok: true };
  }

  /** Write linear memory (code caches are invalidated); throws MemoryAccessError when unmapped. */
  writeMemory(address: bigint, bytes: Uint8Array): void {
    const r = this.tryWriteMemory(address, bytes);
    if (!r.ok) throw new MemoryAccessError(r.address, r.message);
  }

  // ---- breakpoints ----

  addBreakpoint(address: bigint): void {
    this.translator.breakpoints.add(toLinear(address));
    this.translator.flush();
  }

  removeBreakpoint(address: bigint): void {
    this.translator.breakpoints.delete(toLinear(address));
    this.translator.flush();
  }

  /** Debugger data breakpoints on linear memory: a write overlapping one stops the run ('watchpoint') after the writing instruction. */
  setDataWatches(watches: readonly { address: bigint; length: number }[]): void {
    this.mmu.debugWatch = watches.map((w) => ({ address: toLinear(w.address), length: w.length }));
    this.cpu.syncPrivilege();
  }

  /** The next run/step starts by executing the instruction at a breakpoint instead of stopping there. */
  resumeOverBreakpoint(): void {
    this.resumeFromBreakpoint = true;
  }

  // ---- snapshots ----

  snapshot(): MachineSnapshot {
    this.flushOutput();
    return takeSnapshot(this, this.snapshots, { output: this.outputText, nmiPending: this.nmiPending, extra: this.extraSchedules.map((s) => s.save()), vmx: this.vmx?.save() });
  }

  restore(snapshot: MachineSnapshot): void {
    const extra = restoreSnapshot(this, this.snapshots, snapshot);
    this.outputText = extra.output;
    this.lineBuffer = '';
    this.nmiPending = extra.nmiPending;
    this.extraSchedules.forEach((s, i) => s.restore(extra.extra[i]));
    if (this.vmx && extra.vmx) this.vmx.restore(extra.vmx as VmxMonitorState);
    this.pendingStop = undefined;
  }

  describeEvent = describeEvent;
}

export function createMachine(image: LoadableImage, options?: MachineOptions): Machine {
  return new Machine(image, options);
}
