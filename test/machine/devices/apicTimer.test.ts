import { describe, expect, it } from 'vitest';
import { ApicTimer, divideValue } from '../../../src/machine/devices/apicTimer';

describe('divideValue', () => {
  it('ignores bit 2 and the bits above 3', () => {
    expect(divideValue(0b0100)).toBe(2);
    expect(divideValue(0b1111)).toBe(1);
  });
});

describe('ApicTimer', () => {
  it('counts down one per divided tick and reports expiries exactly once', () => {
    const timer = new ApicTimer();
    timer.setDivide(1, 0);
    timer.setInitialCount(3, 10);
    expect([10, 11, 12, 13].map((t) => timer.currentCount(t))).toEqual([3, 2, 1, 0]);
    expect(timer.advanceTo(12)).toBe(0);
    expect(timer.advanceTo(13)).toBe(1);
    expect(timer.advanceTo(100)).toBe(0);
    expect(timer.expiresAt).toBe(Infinity);
  });

  it('periodic: counts the expiries in a skipped interval and keeps the phase', () => {
    const timer = new ApicTimer();
    timer.setDivide(2, 0);
    timer.setPeriodic(true);
    timer.setInitialCount(5, 0); // period 10
    expect(timer.advanceTo(35)).toBe(3);
    expect(timer.expiresAt).toBe(40);
    expect(timer.currentCount(35)).toBe(3); // 5 at 30, one tick per 2
  });

  it('switching to one-shot stops after the running period', () => {
    const timer = new ApicTimer();
    timer.setDivide(1, 0);
    timer.setPeriodic(true);
    timer.setInitialCount(4, 0);
    timer.setPeriodic(false);
    expect(timer.advanceTo(4)).toBe(1);
    expect(timer.expiresAt).toBe(Infinity);
  });
});
