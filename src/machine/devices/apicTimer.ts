// The local APIC timer on the deterministic time base (docs/devices.md "Time base"): the APIC's bus
// clock ticks once per retired instruction, the divide configuration register divides it, and the
// current-count register decrements by one per divided tick (SDM Vol. 3 §11.5.4). With divide value
// D and initial count N the timer expires D·N instructions after the initial count is written; a
// periodic timer then reloads N and expires again every D·N instructions.

/** Divide configuration register bits 3,1:0 → divide value (SDM Vol. 3 Figure 11-10). */
export function divideValue(dcr: number): number {
  const code = ((dcr >>> 1) & 0b100) | (dcr & 0b11);
  return code === 0b111 ? 1 : 2 << code;
}

export interface ApicTimerState {
  initialCount: number;
  periodic: boolean;
  divide: number;
  /** Count loaded at `loadedAt` (equal to initialCount unless the divide changed mid-count). */
  loadedCount: number;
  loadedAt: number;
  /** Instruction count of the next expiry; STOPPED (-1, JSON-safe) when the timer is stopped. */
  expiresAt: number;
}

const STOPPED = -1;

export class ApicTimer {
  private s: ApicTimerState = {
    initialCount: 0, periodic: false, divide: 2, loadedCount: 0, loadedAt: 0, expiresAt: STOPPED,
  };

  get initialCount(): number {
    return this.s.initialCount;
  }

  /** When the next expiry happens (Infinity when stopped). */
  get expiresAt(): number {
    return this.s.expiresAt === STOPPED ? Infinity : this.s.expiresAt;
  }

  /** Writing the initial count (re)starts the timer; 0 stops it (SDM §11.5.4). */
  setInitialCount(count: number, now: number): void {
    this.s.initialCount = count >>> 0;
    this.load(this.s.initialCount, now);
  }

  /** LVT timer mode changes take effect at the next reload; a one-shot count keeps running. */
  setPeriodic(periodic: boolean): void {
    this.s.periodic = periodic;
  }

  /** A new divide value applies from `now`: the remaining count runs at the new rate (the partial
   *  divided tick in progress is dropped). */
  setDivide(divide: number, now: number): void {
    const remaining = this.currentCount(now);
    this.s.divide = divide;
    if (this.s.expiresAt !== STOPPED) this.load(remaining, now);
  }

  /** Current-count register at `now` (0 once a one-shot timer has expired). */
  currentCount(now: number): number {
    const s = this.s;
    if (s.expiresAt === STOPPED) return 0;
    const elapsedTicks = Math.floor((now - s.loadedAt) / s.divide);
    return Math.max(0, s.loadedCount - elapsedTicks);
  }

  /**
   * Advance to `now`: returns how many expiries happened in (previous, now]. The caller coalesces
   * them into one IRR bit, so a long HLT skip costs O(1) however short the period.
   */
  advanceTo(now: number): number {
    const s = this.s;
    if (s.expiresAt === STOPPED || now < s.expiresAt) return 0;
    if (!s.periodic || s.initialCount === 0) {
      s.expiresAt = STOPPED;
      s.loadedCount = 0;
      return 1;
    }
    const period = s.initialCount * s.divide;
    const expiries = 1 + Math.floor((now - s.expiresAt) / period);
    const lastExpiry = s.expiresAt + (expiries - 1) * period;
    this.load(s.initialCount, lastExpiry);
    return expiries;
  }

  private load(count: number, at: number): void {
    const s = this.s;
    s.loadedCount = count;
    s.loadedAt = at;
    s.expiresAt = count === 0 ? STOPPED : at + count * s.divide;
  }

  save(): ApicTimerState {
    return { ...this.s };
  }

  restore(state: ApicTimerState): void {
    this.s = { ...state };
  }
}
