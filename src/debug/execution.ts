// Runs the machine for the debugger: continue in slices that yield to the event loop (so `pause` and
// other requests get through), instruction steps, step over CALL/INT n/SYSCALL, step out of a CALL or
// an event handler, and time travel (step back, reverse continue, travel to an instruction count).
// Stops on events come from trace records: a matching record arms a one-shot machine breakpoint at
// the address the CPU goes to next (the handler's first instruction or the return target).
import type { Machine, StopReason } from '../machine/machine';
import type { TraceRecord } from '../machine/trace';
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Breakpoints, IA32_FRED_CONFIG, type EventTrigger } from './breakpoints';
import { EventStack } from './eventStack';
import { History } from './history';
import { decodeAt, isNearReturn, stepsOver } from './disassembly';
import { DataBreakpoints } from './dataBreakpoints';
import { setStopAtVmExit } from './monitor';

/** Instructions per run slice; a slice also ends at the next snapshot. */
const SLICE = 250_000;
/** Time travel leaves a snapshot this many instructions before where it lands. */
const NEAR_CHECKPOINT = 2_000;
/** Yield to the event loop at least this often while running (pause latency). */
const YIELD_MS = 15;

export type StoppedReason = 'entry' | 'step' | 'breakpoint' | 'function breakpoint' | 'instruction breakpoint' | 'data breakpoint' | 'exception' | 'pause' | 'goto';

export type Outcome =
  | { kind: 'stopped'; reason: StoppedReason; description: string; ids?: number[]; text?: string }
  | { kind: 'ended'; stop: StopReason };

export interface ExecutionHooks {
  /** Guest COM1 output (not repeated when replaying history). */
  output(text: string): void;
  /** Every trace record as it happens (the `trace` launch attribute). */
  record?(record: TraceRecord): void;
  /** Log points, condition errors and other messages for the Debug Console. */
  log(text: string): void;
  /** Breakpoints whose resolution changed (fred:user / fred:kernel followed IA32_FRED_CONFIG). */
  breakpointsChanged(breakpoints: DebugProtocol.Breakpoint[]): void;
}

/** An armed stop: a one-shot machine breakpoint at `address`. */
type Fired = { address: bigint; reason: EventTrigger['reason'] | 'step'; description: string; ids: number[] };

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

export class Execution {
  readonly events = new EventStack();
  readonly history: History;
  /** Data breakpoints: memory writes (the machine's watch hook) and MSR writes (msrWrite records). */
  readonly data: DataBreakpoints;
  pauseRequested = false;
  /** The run ended (halt, debug exit, shutdown, limit, …): further resumes report it again. */
  ended: StopReason | undefined;
  private temps = new Set<bigint>();
  private fired: Fired | undefined;
  /** A VM-entry breakpoint whose entry injects an event: it fires at the handler when the delivery record follows. */
  private entryTrigger: EventTrigger | undefined;
  /** The VM exit the machine was told to stop at (machine.stopAtVmExit), until the stop is reported. */
  private exitStop: Omit<EventTrigger, 'address'> | undefined;
  /** Reverse continue's scan: the instruction counts of the VM exits a breakpoint matched. */
  private exitsSeen: number[] | undefined;
  /** Reverse continue lands on this exit: the n-th matching one at `icount`. */
  private exitTarget: { icount: number; n: number; seen: number } | undefined;
  private replaying = false;
  private stepTrap = false;

  constructor(
    readonly machine: Machine,
    readonly breakpoints: Breakpoints,
    private readonly evaluate: (expression: string) => bigint,
    private readonly interpolate: (message: string) => string,
    private readonly hooks: ExecutionHooks,
    private readonly maxInstructions?: number,
    snapshotInterval?: number,
  ) {
    this.history = new History(machine, snapshotInterval);
    this.data = new DataBreakpoints(machine);
    machine.trace.subscribe((r) => this.onRecord(r));
    setStopAtVmExit(machine, (r) => {
      const match = this.breakpoints.matchVmExit(r);
      const target = this.exitTarget;
      if (target) {
        // Reverse continue: stop at the n-th matching exit of that instruction count again.
        if (!match || r.icount !== target.icount || ++target.seen !== target.n) return false;
      } else if (this.replaying) {
        if (match) this.exitsSeen?.push(r.icount);
        return false;
      }
      this.exitStop = match;
      return match !== undefined;
    });
  }

  /** Active event deliveries, innermost last. */
  activeEvents() {
    return this.events.update(this.machine.trace.records);
  }

  private onRecord(r: TraceRecord): void {
    if (this.replaying) return;
    if (r.kind === 'output') this.hooks.output(r.text);
    this.hooks.record?.(r);
    if (r.kind === 'msrWrite' && r.msr === IA32_FRED_CONFIG && !r.fault) {
      const changed = this.breakpoints.refreshFredEntry();
      if (changed.length) this.hooks.breakpointsChanged(changed);
    }
    if (this.fired) return;
    if (this.entryTrigger && r.kind === 'delivery' && r.injected) {
      const t = this.entryTrigger;
      this.entryTrigger = undefined;
      return this.fire({ ...t, address: r.entryRip });
    }
    const trigger: (Omit<Fired, 'address'> & { address: bigint | undefined }) | undefined = this.breakpoints.matchRecord(r) ?? this.msrDataTrigger(r)
      ?? (this.stepTrap && r.kind === 'delivery' ? { address: r.entryRip, reason: 'step', description: 'Step into the event handler', ids: [] } : undefined);
    if (!trigger) return;
    if (trigger.address !== undefined) return this.fire({ ...trigger, address: trigger.address });
    // A VM entry goes to the handler of the event it injects (its delivery record follows) or to the guest RIP it just loaded.
    if (r.kind === 'vmentry' && (r.injectedInterruptionInfo & 0x8000_0000) !== 0) this.entryTrigger = trigger as EventTrigger;
    else this.fire({ ...trigger, address: this.machine.getRip() });
  }

  private fire(f: Fired): void {
    this.fired = f;
    this.armTemp(f.address);
  }

  /** An MSR data breakpoint: stop after the WRMSR (the machine runs WRMSR as a block of its own, so RIP is at it). */
  private msrDataTrigger(r: TraceRecord): EventTrigger | undefined {
    if (r.kind !== 'msrWrite' || this.data.size === 0) return undefined;
    const ids = this.data.decide(this.data.msrHits(r), this.evaluate, this.hooks.log);
    if (!ids.length) return undefined;
    const rip = this.machine.getRip();
    const next = BigInt.asUintN(64, rip + BigInt(decodeAt(this.machine, rip).length));
    return { address: next, reason: 'data breakpoint', description: `Data breakpoint: ${r.name} ← 0x${r.value.toString(16)} by 0x${rip.toString(16)}`, ids };
  }

  private armTemp(address: bigint): void {
    if (this.breakpoints.isUserAddress(address) || this.temps.has(address)) return;
    this.machine.addBreakpoint(address);
    this.temps.add(address);
  }

  private clearTemps(): void {
    for (const a of this.temps) if (!this.breakpoints.isUserAddress(a)) this.machine.removeBreakpoint(a);
    this.temps.clear();
    this.fired = undefined;
    this.entryTrigger = undefined;
  }

  private rsp(): bigint {
    return this.machine.getGpr(4);
  }

  private limitReached(): StopReason | undefined {
    if (this.maxInstructions === undefined || this.machine.icount < this.maxInstructions) return undefined;
    return { reason: 'instructionLimit', message: `instruction limit reached (maxInstructions = ${this.maxInstructions})`, rip: this.machine.getRip(), icount: this.machine.icount };
  }

  private end(stop: StopReason): Outcome {
    const first = this.ended === undefined;
    this.ended = stop;
    if (first && stop.reason === 'shutdown' && this.breakpoints.hasFilter('doubleFault')) {
      return { kind: 'stopped', reason: 'exception', description: 'Shutdown (triple fault)', text: stop.message };
    }
    return { kind: 'ended', stop };
  }

  /** Stops that the monitor makes: a VM exit a breakpoint asked for, a failed VM entry. */
  private monitorOutcome(stop: StopReason): Outcome | undefined {
    if (stop.reason === 'vmexit') {
      const e = this.exitStop;
      this.exitStop = undefined;
      return { kind: 'stopped', reason: e?.reason ?? 'exception', description: e?.description ?? stop.message, ids: e?.ids.length ? e.ids : undefined };
    }
    if (stop.reason === 'vmentryFailure') {
      // The monitor tries the entry again on the next run, so the VMCS can be fixed first (setVariable).
      if (this.breakpoints.hasFilter('vmEntryFailure')) return { kind: 'stopped', reason: 'exception', description: 'VM-entry failure', text: stop.message };
      return this.end(stop);
    }
    return undefined;
  }

  private firedOutcome(): Outcome | undefined {
    const f = this.fired;
    if (!f || f.address !== this.machine.getRip()) return undefined;
    return { kind: 'stopped', reason: f.reason, description: f.description, ids: f.ids.length ? f.ids : undefined };
  }

  /** Breakpoint at the current RIP: count it, log, and decide. */
  private userBreakpointOutcome(): Outcome | undefined {
    const rip = this.machine.getRip();
    if (!this.breakpoints.isUserAddress(rip)) return undefined;
    const hit = this.breakpoints.hitAt(rip, this.evaluate, this.interpolate);
    for (const line of [...hit.logs, ...hit.errors]) this.hooks.log(line);
    if (!hit.stop) return undefined;
    return { kind: 'stopped', reason: hit.reason, description: hit.errors.length ? `Breakpoint (${hit.errors[0]})` : `Paused on ${hit.reason}`, ids: hit.ids };
  }

  /** Run until a breakpoint, an event stop, `target` (accepted), pause, or the end. */
  async continue_(target?: { address: bigint; accept: () => boolean }): Promise<Outcome> {
    if (this.ended) return this.end(this.ended);
    this.pauseRequested = false;
    this.fired = undefined;
    if (target) this.armTemp(target.address);
    let yieldAt = Date.now() + YIELD_MS;
    try {
      this.machine.resumeOverBreakpoint();
      for (;;) {
        const limit = this.limitReached();
        if (limit) return this.end(limit);
        const left = this.maxInstructions === undefined ? SLICE : this.maxInstructions - this.machine.icount;
        const budget = Math.max(1, Math.min(SLICE, this.history.nextAt - this.machine.icount, left));
        const stop = this.machine.run(budget);
        if (stop.reason === 'breakpoint' || stop.reason === 'instructionLimit') {
          const event = this.firedOutcome();
          if (event) return event;
        }
        const monitor = this.monitorOutcome(stop);
        if (monitor) return monitor;
        if (stop.reason === 'watchpoint') {
          const ids = stop.write ? this.data.decide(this.data.memoryHits(stop.write.address, stop.write.size), this.evaluate, this.hooks.log) : [];
          if (ids.length) return { kind: 'stopped', reason: 'data breakpoint', description: `Paused on ${stop.message}`, ids, text: stop.message };
        } else if (stop.reason === 'breakpoint') {
          if (target && this.machine.getRip() === target.address && target.accept()) return { kind: 'stopped', reason: 'step', description: 'Step' };
          const user = this.userBreakpointOutcome();
          if (user) return user;
          this.machine.resumeOverBreakpoint();
        } else if (stop.reason !== 'instructionLimit') return this.end(stop);
        this.history.maybeSnapshot();
        // Conditional breakpoints and log points that do not stop also end slices: yield here too.
        if (!this.pauseRequested && Date.now() >= yieldAt) {
          await yieldToEventLoop();
          yieldAt = Date.now() + YIELD_MS;
        }
        if (this.pauseRequested) return { kind: 'stopped', reason: 'pause', description: 'Paused' };
      }
    } finally {
      this.clearTemps();
      this.history.maybeSnapshot();
    }
  }

  /** One instruction (or one event delivery): an event stops on the handler's first instruction. */
  stepIn(): Outcome {
    if (this.ended) return this.end(this.ended);
    const limit = this.limitReached();
    if (limit) return this.end(limit);
    this.fired = undefined;
    this.stepTrap = true;
    let stop: StopReason | undefined;
    let event: Outcome | undefined;
    try {
      stop = this.machine.step();
      // machine.step() may have set `fired` through the trace listener.
      const fired = this.fired as Execution['fired'];
      event = fired && fired.reason !== 'step' ? this.firedOutcome() : undefined;
    } finally {
      this.stepTrap = false;
      this.clearTemps();
    }
    this.history.maybeSnapshot();
    const monitor = stop && this.monitorOutcome(stop);
    if (monitor) return monitor;
    if (stop && stop.reason !== 'breakpoint') return this.end(stop);
    return event ?? { kind: 'stopped', reason: 'step', description: 'Step' };
  }

  /** Step over CALL, INT n, INT3, SYSCALL…: run until the next instruction with RSP back (≥) where it was. */
  async next(retries = 8): Promise<Outcome> {
    const here = this.machine.getRip();
    const insn = decodeAt(this.machine, here);
    if (stepsOver(insn)) {
      const rsp = this.rsp();
      return this.continue_({ address: BigInt.asUintN(64, here + BigInt(insn.length)), accept: () => this.rsp() >= rsp });
    }
    const depth = this.activeEvents().length;
    const r = this.stepIn();
    if (r.kind !== 'stopped' || r.reason !== 'step') return r;
    const active = this.activeEvents();
    const top = active[active.length - 1];
    // An external interrupt or NMI arrived instead: run its handler back to where it interrupted, then step.
    if (active.length <= depth || (top.type !== 0 && top.type !== 2)) return r;
    const back = await this.continue_({ address: top.fromRip, accept: () => this.activeEvents().length <= depth });
    if (back.kind !== 'stopped' || back.reason !== 'step' || this.machine.getRip() !== here || retries === 0) return back;
    return this.next(retries - 1);
  }

  /** Out of a CALL (to after its RET) or out of the innermost event handler (past the ERETS/ERETU/IRETQ). */
  async stepOut(): Promise<Outcome> {
    if (this.ended) return this.end(this.ended);
    this.pauseRequested = false;
    const depth = this.activeEvents().length;
    const rsp = this.rsp();
    let yieldAt = Date.now() + YIELD_MS;
    for (;;) {
      const returning = isNearReturn(decodeAt(this.machine, this.machine.getRip())) && this.rsp() >= rsp;
      const r = this.stepIn();
      if (r.kind === 'ended' || r.reason !== 'step') return r;
      if (returning) return { kind: 'stopped', reason: 'step', description: 'Step out (returned from the call)' };
      if (depth > 0 && this.activeEvents().length < depth) return { kind: 'stopped', reason: 'step', description: 'Step out (returned from the event handler)' };
      const user = this.userBreakpointOutcome();
      if (user) return user;
      if (Date.now() >= yieldAt) {
        await yieldToEventLoop();
        yieldAt = Date.now() + YIELD_MS;
        if (this.pauseRequested) return { kind: 'stopped', reason: 'pause', description: 'Paused' };
      }
    }
  }

  // ---- time travel ----

  /** Replay from the current (restored) state up to instruction count `icount`; no stops, no output. */
  private replayTo(icount: number): void {
    if (icount - this.machine.icount > 64) return this.breakpoints.suspend(() => this.replayRaw(icount));
    this.replayRaw(icount);
  }

  private replayRaw(icount: number): void {
    this.replaying = true;
    try {
      while (this.machine.icount < icount) {
        this.machine.resumeOverBreakpoint();
        const stop = this.machine.run(Math.min(icount - this.machine.icount, Math.max(0, this.history.nextAt - this.machine.icount)));
        if (stop.reason === 'instructionLimit') this.history.maybeSnapshot();
        else if (stop.reason !== 'breakpoint' && stop.reason !== 'watchpoint') break;
      }
    } finally {
      this.replaying = false;
    }
  }

  private afterTravel(): void {
    this.ended = undefined;
    this.events.reset();
    const changed = this.breakpoints.refreshFredEntry();
    if (changed.length) this.hooks.breakpointsChanged(changed);
  }

  /** Go to instruction count `icount`, clamped to [history origin, the furthest point reached so far]. */
  travelTo(icount: number): void {
    const target = Math.max(this.history.origin, Math.min(icount, this.history.frontier));
    if (target < this.machine.icount) {
      this.history.restoreAtOrBefore(target);
      // Stepping back usually continues: leave a snapshot a little before the target.
      if (target - this.machine.icount > 2 * NEAR_CHECKPOINT) {
        this.replayTo(target - NEAR_CHECKPOINT);
        this.history.checkpoint();
      }
    }
    this.replayTo(target);
    this.afterTravel();
  }

  stepBack(): Outcome {
    if (this.machine.icount <= this.history.origin) return { kind: 'stopped', reason: 'step', description: 'At the beginning of the recorded history' };
    this.travelTo(this.machine.icount - 1);
    return { kind: 'stopped', reason: 'step', description: 'Step back' };
  }

  /** Back to the previous breakpoint hit (conditions apply), or to the beginning of the history. */
  reverseContinue(): Outcome {
    const now = this.machine.icount;
    const checkpoints = this.history.checkpointsBefore(now);
    for (let k = checkpoints.length - 1; k >= 0; k--) {
      const end = k + 1 < checkpoints.length ? checkpoints[k + 1] : now;
      this.history.restoreCheckpoint(k);
      const hit = this.lastHitBefore(end);
      if (hit) {
        this.history.restoreCheckpoint(k);
        this.replayTo(hit.icount);
        if (hit.exit) {
          const exit = this.runToExit(hit.icount, hit.exit);
          this.afterTravel();
          if (exit) return { ...exit, description: `${exit.description} (reverse)` };
          return { kind: 'stopped', reason: 'breakpoint', description: 'Paused before a VM exit (reverse)' };
        }
        if (this.machine.getRip() !== hit.rip) this.takePendingEvent();
        this.afterTravel();
        return { kind: 'stopped', reason: 'breakpoint', description: 'Paused on breakpoint (reverse)' };
      }
    }
    this.travelTo(this.history.origin);
    return { kind: 'stopped', reason: 'entry', description: 'At the beginning of the recorded history' };
  }

  /** From just before instruction count `icount`: run until the n-th VM exit a breakpoint matches there, as a forward run stops. */
  private runToExit(icount: number, n: number): (Outcome & { kind: 'stopped' }) | undefined {
    this.exitTarget = { icount, n, seen: 0 };
    this.replaying = true;
    let stop: StopReason;
    try {
      stop = this.machine.run(1);
    } finally {
      this.exitTarget = undefined;
      this.replaying = false;
    }
    const outcome = this.monitorOutcome(stop);
    return outcome?.kind === 'stopped' && stop.reason === 'vmexit' ? outcome : undefined;
  }

  /**
   * Scan forward to `end` (exclusive) and return the last breakpoint stop, or the last VM exit a
   * breakpoint matches (`exit`: the n-th at that instruction count), whichever is later.
   */
  private lastHitBefore(end: number): { icount: number; rip: bigint; exit?: number } | undefined {
    let last: { icount: number; rip: bigint; exit?: number } | undefined;
    const seen: number[] = [];
    this.replaying = true;
    this.exitsSeen = seen;
    try {
      while (this.machine.icount < end) {
        const stop = this.machine.run(end - this.machine.icount);
        if (stop.reason === 'watchpoint') continue;
        if (stop.reason !== 'breakpoint') break;
        const rip = this.machine.getRip();
        if (this.breakpoints.stopsAt(rip, this.evaluate)) last = { icount: this.machine.icount, rip };
        this.machine.resumeOverBreakpoint();
      }
    } finally {
      this.replaying = false;
      this.exitsSeen = undefined;
    }
    // An exit at the count of a breakpoint stop comes after it (the stop is before the instruction runs).
    const lastExit = seen[seen.length - 1];
    if (lastExit !== undefined && (!last || lastExit >= last.icount)) {
      last = { icount: lastExit, rip: 0n, exit: seen.filter((i) => i === lastExit).length };
    }
    return last;
  }

  /** An event delivered at the same instruction count precedes the hit: take it (one more machine step). */
  private takePendingEvent(): void {
    this.replaying = true;
    try {
      this.machine.run(1);
    } finally {
      this.replaying = false;
    }
  }

  /** The user changed state (register, MSR, memory, RIP): the recorded past no longer leads here. */
  stateModified(): void {
    this.ended = undefined;
    this.history.reset();
  }
}
