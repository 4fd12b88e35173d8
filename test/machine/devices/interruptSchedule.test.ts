import { describe, expect, it } from 'vitest';
import { InterruptSchedule, parseInterruptSpec } from '../../../src/machine/devices/interruptSchedule';
import { LocalApic } from '../../../src/machine/devices/localApic';

describe('parseInterruptSpec', () => {
  it('parses decimal and hex VECTOR@EVERY', () => {
    expect(parseInterruptSpec('0x20@1000')).toEqual({ ok: true, spec: { vector: 0x20, every: 1000 } });
    expect(parseInterruptSpec('48@0x10')).toEqual({ ok: true, spec: { vector: 48, every: 16 } });
  });

  it('says what is wrong with bad specs', () => {
    expect(parseInterruptSpec('0x20')).toEqual({ ok: false, message: "--interrupt '0x20': expected VECTOR@EVERY, e.g. 0x20@1000" });
    expect(parseInterruptSpec('14@100')).toMatchObject({ ok: false, message: expect.stringMatching(/vector 14 is outside 32–255/) });
    expect(parseInterruptSpec('0x100@100')).toMatchObject({ ok: false, message: expect.stringMatching(/outside/) });
    expect(parseInterruptSpec('0x20@0')).toMatchObject({ ok: false, message: expect.stringMatching(/positive/) });
  });
});

describe('InterruptSchedule', () => {
  it('requests the vector at every multiple of EVERY', () => {
    const requests: Array<[number, number]> = [];
    let now = 0;
    const schedule = new InterruptSchedule({ vector: 0x30, every: 3 }, { requestInterrupt: (v) => requests.push([now, v]) });
    for (now = 0; now <= 10; now++) schedule.advanceTo(now);
    expect(requests).toEqual([[3, 0x30], [6, 0x30], [9, 0x30]]);
    expect(schedule.nextEventAt()).toBe(12);
  });

  it('coalesces periods skipped in one advance into one request and reports how many elapsed', () => {
    let count = 0;
    const schedule = new InterruptSchedule({ vector: 0x30, every: 10 }, { requestInterrupt: () => count++ }, 5);
    expect(schedule.nextEventAt()).toBe(15);
    expect(schedule.advanceTo(14)).toBe(0);
    expect(schedule.advanceTo(1_000_000)).toBe(99_999);
    expect(count).toBe(1);
    expect(schedule.nextEventAt()).toBe(1_000_005);
  });

  it('feeds the APIC, whose IRR coalesces an unacknowledged previous request', () => {
    const apic = new LocalApic();
    apic.writeMsr(0x80f, 0x1ffn, 0);
    const schedule = new InterruptSchedule({ vector: 0x40, every: 2 }, apic);
    schedule.advanceTo(2);
    schedule.advanceTo(4);
    expect(apic.pendingVector()).toBe(0x40);
    apic.acknowledge(0x40);
    expect(apic.pendingVector()).toBe(-1);
  });

  it('saves and restores its position exactly', () => {
    const schedule = new InterruptSchedule({ vector: 0x30, every: 7 }, { requestInterrupt: () => {} });
    schedule.advanceTo(20);
    const saved = schedule.save();
    schedule.advanceTo(100);
    schedule.restore(JSON.parse(JSON.stringify(saved)));
    expect(schedule.save()).toEqual(saved);
    expect(schedule.nextEventAt()).toBe(21);
  });

  it('rejects a non-positive period', () => {
    expect(() => new InterruptSchedule({ vector: 0x30, every: 0 }, { requestInterrupt: () => {} })).toThrow(RangeError);
  });
});
