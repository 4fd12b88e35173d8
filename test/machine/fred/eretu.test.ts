// Conformance: ERETU (fred-architecture.md §4.3; SDM ERETU "Operation"): the two IA32_STAR fast paths,
// the descriptor path with IRET's checks, the GS swap, the SS-word bits, and one test per violated check.
import { beforeAll, describe, expect, it } from 'vitest';
import type { Machine } from '../../../src/machine/machine';
import { CS, SS } from '../../../src/machine/cpu/state';
import { GDT_BASE } from '../../../src/machine/boot';
import { boot, csl, expectStop, fredSource, frameAt, gsBase, program, rsp, STACKS, writeU64, wrmsr, type Program } from './harness';

const STAR_LINUX = 0x0023_0010_0000_0000n;
const VALID = { rip: 0n, cs: 0x33n, rflags: 0x202n, rsp: STACKS.user as bigint, ss: 0x2bn, csl: 0n, star: STAR_LINUX };
type Params = typeof VALID;

let p: Program;
beforeAll(() => {
  p = program(fredSource({
    setup: `${wrmsr('IA32_GS_BASE', '0xffff888000002000')}\n${wrmsr('IA32_KERNEL_GS_BASE', '0x7000')}`,
    body: `
        mov     ecx, IA32_FRED_CONFIG
        rdmsr
        or      eax, [rel p_csl]
        wrmsr
        mov     ecx, IA32_STAR
        mov     eax, [rel p_star]
        mov     edx, [rel p_star + 4]
        wrmsr
        mov     rsp, 0x250000
        push    qword [rel p_ss]
        push    qword [rel p_rsp]
        push    qword [rel p_rflags]
        push    qword [rel p_cs]
        push    qword [rel p_rip]
        push    0
the_eretu:
        eretu
        hlt`,
    data: 'p_rip: dq 0\np_cs: dq 0\np_rflags: dq 0\np_rsp: dq 0\np_ss: dq 0\np_csl: dq 0\np_star: dq 0',
    user: 'user_target: nop\nuser_next: nop\n        syscall\nuser_eretu: eretu',
  }));
  VALID.rip = p.symbol('user_target');
});

/** Run to the first user instruction (breakpoint) or to a handler's HLT. */
function runEretu(change: Partial<Params> = {}, before?: (m: Machine) => void): { m: Machine; inUser: boolean } {
  const m = boot(p);
  const v = { ...VALID, ...change };
  for (const k of ['rip', 'cs', 'rflags', 'rsp', 'ss', 'csl', 'star'] as const) writeU64(m, p.symbol(`p_${k}`), v[k]);
  before?.(m);
  m.addBreakpoint(p.symbol('user_target'));
  const stop = m.run();
  if (stop.reason !== 'breakpoint') expectStop(stop, 'halted');
  return { m, inUser: stop.reason === 'breakpoint' };
}

function expectFault(m: Machine, vector: number, errorCode: bigint): void {
  expect(m.getRip()).toBe(p.symbol('fred_entry_kernel') + 1n);
  const f = frameAt(m, rsp(m));
  expect(f.ss).toMatchObject({ type: 3, vector });
  expect([f.errorCode, f.rip, f.rsp, f.cs.selector]).toEqual([errorCode, p.symbol('the_eretu'), 0x250000n - 48n, 0x10]);
  expect(gsBase(m)).toBe(0xffff888000002000n); // no GS swap
}

describe('ERETU fast paths and descriptor path', () => {
  it('64-bit fast path (CS = STAR[63:48] + 16, SS = + 8): flat ring-3 segments, GS swapped, RSP and RFLAGS loaded', () => {
    const { m, inUser } = runEretu();
    expect(inUser).toBe(true);
    const cs = m.getSegment(CS), ss = m.getSegment(SS);
    expect([cs.sel, cs.base, cs.limit, cs.attr & 0xf0ff]).toEqual([0x33, 0, 0xffffffff, 0xa0fb]);
    expect([ss.sel, ss.base, ss.limit, ss.attr & 0xf0ff]).toEqual([0x2b, 0, 0xffffffff, 0xc0f3]);
    expect(m.cpu.cpl).toBe(3);
    expect(rsp(m)).toBe(STACKS.user);
    expect(m.getRflags()).toBe(0x202n);
    expect(gsBase(m)).toBe(0x7000n);
    expect(m.readMsr(0xc0000102)).toBe(0xffff888000002000n);
    expect(m.trace.records.filter((r) => r.kind === 'return').at(-1)).toMatchObject({ instruction: 'eretu', toCpl: 3, toRip: p.symbol('user_target'), toRsp: STACKS.user, cslAfter: 0 });
  });

  it('compatibility fast path (CS = STAR[63:48]): 32-bit code, RIP and RSP truncated to 32 bits', () => {
    const { m, inUser } = runEretu({ cs: 0x23n, rip: (0xdeadn << 32n) | p.symbol('user_target'), rsp: 0xffff_ffff_0038_0000n });
    expect(inUser).toBe(true);
    const cs = m.getSegment(CS);
    expect([cs.sel, cs.attr & 0x6000]).toEqual([0x23, 0x4000]);
    expect(m.getRip()).toBe(p.symbol('user_target'));
    expect(rsp(m)).toBe(0x380000n);
  });

  it('descriptor path (STAR[63:48] = 0): CS and SS loaded from the GDT', () => {
    const { m, inUser } = runEretu({ star: 0n });
    expect(inUser).toBe(true);
    expect([m.getSegment(CS).sel, m.getSegment(SS).sel, m.cpu.cpl]).toEqual([0x33, 0x2b, 3]);
    expect(m.getSegment(CS).attr & 0x2000).toBe(0x2000);
  });

  it('fast-path selectors compare all 16 bits (SDM), not 15 (Bochs): CS 0x8033 takes the descriptor path', () => {
    const { m, inUser } = runEretu({ cs: 0x8033n });
    expect(inUser).toBe(false);
    expectFault(m, 13, 0x8030n); // index 0x1006 is beyond the GDT limit
  });

  it('ignores the STI bit and SS word bits 63:32', () => {
    const { m, inUser } = runEretu({ ss: 0x2bn | (1n << 16n) | (0xffffffffn << 32n) });
    expect(inUser).toBe(true);
    expect(m.cpu.shadow).toBe(false);
  });

  it('accepts RF, AC, VIF, VIP, ID and NT in the RFLAGS image', () => {
    const { m, inUser } = runEretu({ rflags: 0x3d4202n });
    expect(inUser).toBe(true);
    expect(m.getRflags()).toBe(0x3d4202n);
  });

  it('NMI bit unblocks NMIs', () => {
    const { m } = runEretu({ ss: 0x2bn | (1n << 18n) }, (mm) => { mm.cpu.nmiBlocked = true; });
    expect(m.cpu.nmiBlocked).toBe(false);
    expect(runEretu({}, (mm) => { mm.cpu.nmiBlocked = true; }).m.cpu.nmiBlocked).toBe(true);
  });

  it('swevent bit with TF = 1 pends a single-step #DB before the first user instruction', () => {
    const m = boot(p);
    const v = { ...VALID, rflags: 0x302n, ss: 0x2bn | (1n << 17n) };
    for (const k of ['rip', 'cs', 'rflags', 'rsp', 'ss', 'csl', 'star'] as const) writeU64(m, p.symbol(`p_${k}`), v[k]);
    expectStop(m.run(), 'halted');
    expect(m.getRip()).toBe(p.symbol('fred_entry') + 1n);
    const f = frameAt(m, rsp(m));
    expect(f.ss).toMatchObject({ type: 3, vector: 1 });
    expect([f.rip, f.eventData, f.csWord]).toEqual([p.symbol('user_target'), 0x4000n, 0x33n]);
  });
});

describe('ERETU checks', () => {
  const gp0: [string, Partial<Params>][] = [
    ['CSL > 0', { csl: 1n }],
    ['CS RPL not 3', { cs: 0x30n }],
    ['CS word bits 17:16 (SL) not 0', { cs: 0x33n | (1n << 16n) }],
    ['CS word bit 18 (WFE) not 0', { cs: 0x33n | (1n << 18n) }],
    ['CS word bits 63:32 not 0', { cs: 0x33n | (1n << 40n) }],
    ['RFLAGS bit 1 clear', { rflags: 0x200n }],
    ['RFLAGS bit 3 set', { rflags: 0x20an }],
    ['RFLAGS bit 5 set', { rflags: 0x222n }],
    ['RFLAGS IOPL = 1', { rflags: 0x1202n }],
    ['RFLAGS IOPL = 2', { rflags: 0x2202n }],
    ['RFLAGS bit 15 set', { rflags: 0x8202n }],
    ['RFLAGS.VM set', { rflags: 0x20202n }],
    ['RFLAGS bit 22 set', { rflags: 0x400202n }],
    ['RFLAGS bit 32 set', { rflags: 0x1_0000_0202n }],
    ['SS RPL not 3', { ss: 0x28n }],
    ['SS word bits 31:19 not 0', { ss: 0x2bn | (1n << 19n) }],
    ['RIP not canonical for a 64-bit CS', { rip: 0x0000_8000_0000_0000n }],
    ['null CS on the descriptor path', { star: 0n, cs: 0x3n }],
    ['null SS on the descriptor path', { star: 0n, ss: 0x3n }],
  ];
  it.each(gp0)('#GP(0): %s', (_name, change) => {
    const { m, inUser } = runEretu(change);
    expect(inUser).toBe(false);
    expectFault(m, 13, 0n);
  });

  const sel: [string, Partial<Params>, number, bigint, ((m: Machine) => void)?][] = [
    ['CS is a DPL-0 code segment', { star: 0n, cs: 0x13n }, 13, 0x10n],
    ['CS is a data segment', { star: 0n, cs: 0x2bn }, 13, 0x28n],
    ['SS is a code segment', { star: 0n, ss: 0x33n }, 13, 0x30n],
    ['SS is a DPL-0 data segment', { star: 0n, ss: 0x1bn }, 13, 0x18n],
    ['CS not present → #NP', { star: 0n, cs: 0x3bn }, 11, 0x38n, (m) => writeU64(m, BigInt(GDT_BASE + 0x38), 0x00af7b000000ffffn)],
    ['SS not present → #SS', { star: 0n, ss: 0x3bn }, 12, 0x38n, (m) => writeU64(m, BigInt(GDT_BASE + 0x38), 0x00cf73000000ffffn)],
  ];
  it.each(sel)('descriptor path: %s', (_name, change, vector, code, before) => {
    const { m, inUser } = runEretu(change, before);
    expect(inUser).toBe(false);
    expectFault(m, vector, code);
  });

  it('#GP(0) when a 32-bit CS from the GDT has its limit below EIP', () => {
    const { m, inUser } = runEretu({ star: 0n, cs: 0x3bn }, (mm) => writeU64(mm, BigInt(GDT_BASE + 0x38), 0x0040fb0000000fffn));
    expect(inUser).toBe(false);
    expectFault(m, 13, 0n);
  });

  it('#UD at CPL 3', () => {
    const m = boot(p);
    for (const k of ['rip', 'cs', 'rflags', 'rsp', 'ss', 'csl', 'star'] as const) writeU64(m, p.symbol(`p_${k}`), { ...VALID, rip: p.symbol('user_eretu') }[k]);
    expectStop(m.run(), 'halted');
    expect(m.getRip()).toBe(p.symbol('fred_entry') + 1n);
    const f = frameAt(m, rsp(m));
    expect(f.ss).toMatchObject({ type: 3, vector: 6 });
    expect(f.rip).toBe(p.symbol('user_eretu'));
    expect(csl(m)).toBe(0);
  });

  it('#UD with CR4.FRED = 0', () => {
    const stop = boot(program('_start: eretu')).run();
    expectStop(stop, 'shutdown');
    expect(stop.message).toMatch(/#UD/);
  });
});
