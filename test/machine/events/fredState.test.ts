// The ring-change segments remembered per IA32_STAR value (events/fredState.ts starSegments): derived from
// STAR[47:32] and STAR[63:48], and derived again after every write of STAR.
import { describe, expect, it } from 'vitest';
import { FRED_MSR, starSegments } from '../../../src/machine/events/fredState';
import { boot, program } from '../fred/harness';

describe('starSegments', () => {
  it('follows every write of IA32_STAR', () => {
    const c = boot(program('_start: hlt')).cpu;
    c.msr.set(FRED_MSR.STAR, 0x0023_0010_0000_0000n); // Linux: kernel CS 0x10, user base 0x23
    const linux = starSegments(c);
    expect(starSegments(c)).toBe(linux); // unchanged STAR: the same memo
    expect([linux.kernelCs.sel, linux.kernelSs.sel, (linux.kernelCs.attr >> 5) & 3]).toEqual([0x10, 0x18, 0]);
    expect([linux.userBase, linux.userCs64.sel, linux.userSs.sel, linux.userCs32.sel]).toEqual([0x23, 0x33, 0x2b, 0x23]);
    expect((linux.userCs64.attr >> 5) & 3).toBe(3);
    c.msr.set(FRED_MSR.STAR, 0x0053_0040_0000_0000n);
    const other = starSegments(c);
    expect([other.kernelCs.sel, other.kernelSs.sel, other.userCs64.sel, other.userSs.sel, other.userCs32.sel]).toEqual([0x40, 0x48, 0x63, 0x5b, 0x53]);
  });
});
