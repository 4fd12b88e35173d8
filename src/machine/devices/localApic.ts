// The local APIC in x2APIC mode (SDM Vol. 3 Chapter 11; behaviour summary in docs/devices.md).
// One processor: IPIs can only reach ourselves. Fixed interrupts are accepted into the IRR only while
// the APIC is software-enabled (SVR bit 8), as KVM does; NMIs are accepted always.
import { ApicTimer, divideValue, type ApicTimerState } from './apicTimer';
import type { InterruptController, MsrReadResult, MsrWriteResult } from './types';
import { VectorSet } from './vectorSet';
import {
  IA32_APIC_BASE, LVT_ERROR_INDEX, LVT_INDICES, LVT_MASK, LVT_READ_ONLY, LVT_TIMER_INDEX,
  X2APIC_FIRST, X2APIC_LAST, x2ApicRegister, x2ApicWriteFault,
} from './x2apicRegisters';

// Slots of the timer and error LVTs in `lvt`, resolved once: the run loop asks for the timer every block.
const TIMER_SLOT = LVT_INDICES.indexOf(LVT_TIMER_INDEX);
const ERROR_SLOT = LVT_INDICES.indexOf(LVT_ERROR_INDEX);

/** IA32_APIC_BASE: BSP (bit 8), x2APIC enable EXTD (bit 10), global enable EN (bit 11), base. */
export const APIC_BASE_BSP = 1n << 8n;
export const APIC_BASE_EXTD = 1n << 10n;
export const APIC_BASE_EN = 1n << 11n;
export const APIC_DEFAULT_BASE = 0xfee0_0000n;
/** Version register: version 0x14 (integrated APIC), max LVT entry 5 (six LVTs: timer, thermal,
 *  performance monitoring, LINT0, LINT1, error; no CMCI), bit 24 = 0 (no EOI-broadcast suppression). */
export const APIC_VERSION = 0x0005_0014;

export const SVR_APIC_ENABLE = 1 << 8;
/** ESR bits the APIC can raise here (SDM Vol. 3 §11.5.3). */
export const ESR_SEND_ILLEGAL_VECTOR = 1 << 5;
export const ESR_RECEIVE_ILLEGAL_VECTOR = 1 << 6;

/** ICR delivery modes (SDM Vol. 3 §11.6.1). */
const DM_FIXED = 0;
const DM_LOWEST_PRIORITY = 1;
const DM_NMI = 4;

export interface LocalApicOptions {
  /** x2APIC ID (default 0, the BSP). */
  apicId?: number;
}

export interface LocalApicState {
  tpr: number;
  svr: number;
  esr: number;
  /** Errors accumulated since the last ESR write (the ESR shows them after the next write). */
  pendingErrors: number;
  icrLow: number;
  icrHigh: number;
  lvt: number[];
  dcr: number;
  irr: number[];
  isr: number[];
  tmr: number[];
  nmiPending: boolean;
  now: number;
  timer: ApicTimerState;
  droppedWhileDisabled: number;
}

const gp = (reason: string): { ok: false; reason: string } => ({ ok: false, reason });
const hex = (value: number | bigint): string => `0x${value.toString(16)}`;

export class LocalApic implements InterruptController {
  readonly apicId: number;
  private tpr = 0;
  private svr = 0xff;
  private esr = 0;
  private pendingErrors = 0;
  private icrLow = 0;
  private icrHigh = 0;
  private readonly lvt = LVT_INDICES.map(() => LVT_MASK);
  private dcr = 0;
  private readonly irr = new VectorSet();
  private readonly isr = new VectorSet();
  private readonly tmr = new VectorSet();
  private nmiPending = false;
  private now = 0;
  private readonly timer = new ApicTimer();
  /**
   * Bumped by every change that can alter what the run loop asks the APIC (pendingVector, takeNmi,
   * nextEventAt): the machine caches those answers while the version stays the same.
   */
  version = 0;

  constructor(options: LocalApicOptions = {}) {
    this.apicId = (options.apicId ?? 0) >>> 0;
  }

  get softwareEnabled(): boolean {
    return (this.svr & SVR_APIC_ENABLE) !== 0;
  }

  /** IA32_APIC_BASE as RDMSR returns it. */
  get apicBase(): bigint {
    return APIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_EXTD | (this.apicId === 0 ? APIC_BASE_BSP : 0n);
  }

  /** Logical destination in x2APIC mode: cluster ID (ID[19:4]) in 31:16, 1 << ID[3:0] in 15:0 (§11.12.10.2). */
  get ldr(): number {
    return (((this.apicId >>> 4) << 16) | (1 << (this.apicId & 0xf))) >>> 0;
  }

  /** Processor priority (SDM Vol. 3 §11.8.3.1): TPR if its class is at least the in-service class. */
  ppr(): number {
    const isrv = Math.max(this.isr.highest(), 0);
    return (this.tpr >>> 4) >= (isrv >>> 4) ? this.tpr : isrv & 0xf0;
  }

  readMsr(index: number, icount?: number): MsrReadResult | undefined {
    if (index === IA32_APIC_BASE) return { ok: true, value: this.apicBase };
    if (index < X2APIC_FIRST || index > X2APIC_LAST) return undefined;
    if (icount !== undefined) this.advanceTo(icount);
    const register = x2ApicRegister(index);
    if (register === undefined) return gp(`RDMSR ${hex(index)}: no such x2APIC register`);
    if (!register.readable) return gp(`RDMSR ${hex(index)}: ${register.name} is write-only`);
    return { ok: true, value: this.readRegister(index) };
  }

  private readRegister(index: number): bigint {
    if (index >= 0x810 && index <= 0x827) {
      const set = index < 0x818 ? this.isr : index < 0x820 ? this.tmr : this.irr;
      return BigInt(set.words[index & 7]);
    }
    const lvtSlot = LVT_INDICES.indexOf(index as (typeof LVT_INDICES)[number]);
    if (lvtSlot >= 0) return BigInt(this.lvt[lvtSlot]);
    switch (index) {
      case 0x802: return BigInt(this.apicId);
      case 0x803: return BigInt(APIC_VERSION);
      case 0x808: return BigInt(this.tpr);
      case 0x80a: return BigInt(this.ppr());
      case 0x80d: return BigInt(this.ldr);
      case 0x80f: return BigInt(this.svr);
      case 0x828: return BigInt(this.esr);
      case 0x830: return (BigInt(this.icrHigh) << 32n) | BigInt(this.icrLow);
      case 0x838: return BigInt(this.timer.initialCount);
      case 0x839: return BigInt(this.timer.currentCount(this.now));
      case 0x83e: return BigInt(this.dcr);
      default: throw new Error(`x2APIC register ${hex(index)} has no read handler`);
    }
  }

  writeMsr(index: number, value: bigint, icount: number): MsrWriteResult | undefined {
    if (index === IA32_APIC_BASE) return this.writeApicBase(value);
    if (index < X2APIC_FIRST || index > X2APIC_LAST) return undefined;
    this.advanceTo(icount);
    this.version++;
    const register = x2ApicRegister(index);
    if (register === undefined) return gp(`WRMSR ${hex(index)}: no such x2APIC register`);
    const fault = x2ApicWriteFault(register, value);
    if (fault !== undefined) return gp(`WRMSR ${hex(index)} = ${hex(value)}: ${fault}`);
    this.writeRegister(index, Number(value & 0xffff_ffffn), Number(value >> 32n));
    return { ok: true };
  }

  private writeApicBase(value: bigint): MsrWriteResult {
    if (value === this.apicBase) return { ok: true };
    if ((value & (APIC_BASE_EN | APIC_BASE_EXTD)) !== (APIC_BASE_EN | APIC_BASE_EXTD)) {
      return gp(`WRMSR IA32_APIC_BASE = ${hex(value)}: leaving x2APIC mode is not supported`);
    }
    return gp(`WRMSR IA32_APIC_BASE = ${hex(value)}: only ${hex(this.apicBase)} is accepted (fixed base, BSP, x2APIC)`);
  }

  private writeRegister(index: number, low: number, high: number): void {
    const lvtSlot = LVT_INDICES.indexOf(index as (typeof LVT_INDICES)[number]);
    if (lvtSlot >= 0) {
      this.writeLvt(lvtSlot, low);
      return;
    }
    switch (index) {
      case 0x808: this.tpr = low; return;
      case 0x80b: this.endOfInterrupt(); return;
      case 0x80f: this.writeSvr(low); return;
      case 0x828: this.esr = this.pendingErrors; this.pendingErrors = 0; return;
      case 0x830: this.icrLow = low; this.icrHigh = high; this.sendIpi(low, high); return;
      case 0x838: this.timer.setInitialCount(low, this.now); return;
      case 0x83e: this.dcr = low; this.timer.setDivide(divideValue(low), this.now); return;
      case 0x83f: this.sendFixed(low & 0xff); return;
      default: throw new Error(`x2APIC register ${hex(index)} has no write handler`);
    }
  }

  private writeLvt(slot: number, value: number): void {
    // While software-disabled, LVT mask bits are set and cannot be cleared (SDM Vol. 3 §11.4.7.2).
    const mask = this.softwareEnabled ? 0 : LVT_MASK;
    this.lvt[slot] = (value & ~LVT_READ_ONLY) | mask;
    if (LVT_INDICES[slot] === LVT_TIMER_INDEX) this.timer.setPeriodic(((value >>> 17) & 3) === 1);
  }

  private writeSvr(value: number): void {
    this.svr = value;
    if (!this.softwareEnabled) for (let i = 0; i < this.lvt.length; i++) this.lvt[i] |= LVT_MASK;
  }

  /** EOI clears the highest-priority ISR bit (SDM Vol. 3 §11.8.5); all our interrupts are edge. */
  private endOfInterrupt(): void {
    const vector = this.isr.highest();
    if (vector >= 0) this.isr.clear(vector);
  }

  /** ICR write: only destinations that include ourselves deliver anything (one processor). */
  private sendIpi(low: number, destination: number): void {
    const shorthand = (low >>> 18) & 3;
    const logical = (low & (1 << 11)) !== 0;
    const toSelf =
      shorthand === 1 || shorthand === 2 ||
      (shorthand === 0 && (destination === 0xffff_ffff ||
        (logical ? (destination >>> 16) === this.ldr >>> 16 && (destination & this.ldr & 0xffff) !== 0
                 : destination === this.apicId)));
    if (!toSelf) return;
    const mode = (low >>> 8) & 7;
    if (mode === DM_NMI) this.nmiPending = true;
    else if (mode === DM_FIXED || mode === DM_LOWEST_PRIORITY) this.sendFixed(low & 0xff);
    // SMI, INIT, start-up and the reserved modes reach nothing on this single-processor machine.
  }

  private sendFixed(vector: number): void {
    if (vector < 16) this.raiseError(ESR_SEND_ILLEGAL_VECTOR);
    else this.accept(vector);
  }

  /** Accept a fixed, edge-triggered interrupt into the IRR (an already-set bit coalesces). */
  private accept(vector: number): void {
    this.version++;
    if (!this.softwareEnabled) {
      this.droppedWhileDisabled++;
      return;
    }
    if (vector < 16) {
      this.raiseError(ESR_RECEIVE_ILLEGAL_VECTOR);
      return;
    }
    this.irr.set(vector);
    this.tmr.clear(vector);
  }

  private raiseError(bit: number): void {
    this.pendingErrors |= bit;
    const lvtError = this.lvt[ERROR_SLOT];
    // An illegal error vector sets the receive-illegal bit instead of recursing.
    if ((lvtError & LVT_MASK) === 0 && this.softwareEnabled) {
      const vector = lvtError & 0xff;
      if (vector < 16) this.pendingErrors |= ESR_RECEIVE_ILLEGAL_VECTOR;
      else this.accept(vector);
    }
  }

  private get timerLvt(): number {
    return this.lvt[TIMER_SLOT];
  }

  advanceTo(icount: number): void {
    if (icount > this.now) this.now = icount;
    if (this.timer.advanceTo(this.now) > 0) {
      this.version++; // the next expiry moved
      if ((this.timerLvt & LVT_MASK) === 0) this.accept(this.timerLvt & 0xff);
    }
  }

  nextEventAt(): number {
    if ((this.timerLvt & LVT_MASK) !== 0 || !this.softwareEnabled) return Infinity;
    return this.timer.expiresAt;
  }

  pendingVector(): number {
    if (!this.softwareEnabled) return -1;
    const vector = this.irr.highest();
    return vector >= 0 && vector >>> 4 > this.ppr() >>> 4 ? vector : -1;
  }

  acknowledge(vector: number): void {
    this.version++;
    this.irr.clear(vector);
    this.isr.set(vector);
  }

  takeNmi(): boolean {
    const pending = this.nmiPending;
    if (pending) this.version++;
    this.nmiPending = false;
    return pending;
  }

  requestInterrupt(vector: number): void {
    this.accept(vector & 0xff);
  }

  requestNmi(): void {
    this.version++;
    this.nmiPending = true;
  }

  /**
   * Fixed interrupts dropped because the APIC was software-disabled (SVR bit 8 clear), as hardware
   * drops them. Front ends report it, so an `--interrupt` schedule that never fires is explained.
   */
  droppedWhileDisabled = 0;

  save(): LocalApicState {
    return {
      tpr: this.tpr, svr: this.svr, esr: this.esr, pendingErrors: this.pendingErrors,
      icrLow: this.icrLow, icrHigh: this.icrHigh, lvt: [...this.lvt], dcr: this.dcr,
      irr: this.irr.save(), isr: this.isr.save(), tmr: this.tmr.save(),
      nmiPending: this.nmiPending, now: this.now, timer: this.timer.save(),
      droppedWhileDisabled: this.droppedWhileDisabled,
    };
  }

  restore(state: unknown): void {
    const s = state as LocalApicState;
    this.version++;
    this.tpr = s.tpr; this.svr = s.svr; this.esr = s.esr; this.pendingErrors = s.pendingErrors;
    this.icrLow = s.icrLow; this.icrHigh = s.icrHigh; this.dcr = s.dcr;
    this.lvt.splice(0, this.lvt.length, ...s.lvt);
    this.irr.restore(s.irr); this.isr.restore(s.isr); this.tmr.restore(s.tmr);
    this.nmiPending = s.nmiPending; this.now = s.now; this.droppedWhileDisabled = s.droppedWhileDisabled;
    this.timer.restore(s.timer);
  }
}
