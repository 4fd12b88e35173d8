// FRED event delivery against the CPU state (fred-architecture.md §3): events are handed to
// deliverEvent directly and the frame, registers and MSRs are compared with values written out here
// bit by bit (not with the encoders under test).
import { beforeAll, describe, expect, it } from 'vitest';
import { deliverEvent, Shutdown } from '../../../src/machine/events/deliver';
import { eventStackLevel } from '../../../src/machine/events/fred';
import type { MachineEvent } from '../../../src/machine/events/event';
import { flatCode, flatData } from '../../../src/machine/cpu/segments';
import { CS, GS, SS } from '../../../src/machine/cpu/state';
import type { Machine } from '../../../src/machine/machine';
import type { DeliveryRecord } from '../../../src/machine/trace';
import { boot, frameAt, program, STACKS, u64, type Program } from '../fred/harness';

const CONFIG = 0x1d4, STKLVLS = 0x1d0, STAR = 0xc0000081, KERNEL_GS_BASE = 0xc0000102;
const ENTRY = 0x200000n;
const L_BIT = 1n << 57n;

let prog: Program;
beforeAll(() => {
  prog = program('_start: hlt');
});

interface Setup {
  config?: bigint;
  stklvls?: bigint;
  cpl3?: boolean;
  rsp?: bigint;
  csl?: number;
}

function fredMachine(s: Setup = {}): Machine {
  const m = boot(prog);
  const c = m.cpu;
  c.msr.set(CONFIG, ENTRY | (s.config ?? 0n) | BigInt(s.csl ?? 0));
  c.msr.set(STKLVLS, s.stklvls ?? 0n);
  [STACKS.rsp0, STACKS.rsp1, STACKS.rsp2, STACKS.rsp3].forEach((v, n) => c.msr.set(0x1cc + n, v));
  c.msr.set(KERNEL_GS_BASE, 0xffff800000001000n);
  c.seg[GS] = { ...c.seg[GS], base: 0x7000 };
  c.cr4 |= 1n << 32n;
  c.rip = 0x101234;
  m.setGpr(4, s.rsp ?? 0x250038n);
  c.rflags = 0x246;
  if (s.cpl3) {
    c.cpl = 3;
    c.seg[CS] = flatCode(0x33, 3, true);
    c.seg[SS] = flatData(0x2b, 3);
    c.syncPrivilege();
  }
  return m;
}

const hw = (vector: number, extra: Partial<MachineEvent> = {}): MachineEvent => ({ type: 3, vector, rip: 0x101234, instructionLength: 0, eventData: 0n, ...extra });
const sl = (v: number, level: number) => BigInt(level) << BigInt(2 * v);
const lastDelivery = (m: Machine) => m.trace.records.filter((r) => r.kind === 'delivery').at(-1) as DeliveryRecord;

describe('frame and new state, event from ring 3 (§3.5, §3.6)', () => {
  it('writes the 64-byte #PF frame bit-exactly on RSP0 and loads the STAR selectors', () => {
    const m = fredMachine({ cpl3: true, rsp: 0x7ffffffff123n });
    deliverEvent(m.cpu, hw(14, { errorCode: 6, address: 0x4000, eventData: 0x4000n, setRf: true }));
    const at = STACKS.rsp0 - 64n;
    expect(m.getGpr(4)).toBe(at);
    const q = [0, 1, 2, 3, 4, 5, 6, 7].map((k) => u64(m, at + BigInt(8 * k)));
    expect(q).toEqual([
      6n, // error code
      0x101234n, // RIP of the faulting instruction
      0x33n, // CS word: selector, SL 0
      0x246n | 0x10000n, // RFLAGS with RF (fault)
      0x7ffffffff123n, // old RSP, unaligned, as it was
      0x2bn | (14n << 32n) | (3n << 48n) | L_BIT, // SS word: selector, vector 14, type 3, 64-bit
      0x4000n, // event data = CR2
      0n,
    ]);
    const c = m.cpu;
    expect([c.seg[CS].sel, c.seg[SS].sel, c.cpl]).toEqual([0x10, 0x18, 0]);
    expect(c.seg[CS].attr & 0xe0ff).toBe(0xa09b); // present code, DPL 0, L = 1, G = 1
    expect(m.getRip()).toBe(ENTRY);
    expect(m.getRflags()).toBe(2n);
    expect(c.cr2).toBe(0x4000n);
    expect(BigInt.asUintN(64, BigInt(c.seg[GS].base))).toBe(0xffff800000001000n);
    expect(c.msr.get(KERNEL_GS_BASE)).toBe(0x7000n);
  });

  it('takes CS/SS from IA32_STAR[47:32] with the RPL bits cleared', () => {
    const m = fredMachine({ cpl3: true });
    m.cpu.msr.set(STAR, 0x0023_0043n << 32n);
    deliverEvent(m.cpu, hw(6));
    expect([m.cpu.seg[CS].sel, m.cpu.seg[SS].sel]).toEqual([0x40, 0x48]);
  });

  it('reports the SL of a ring-3 event as 0 whatever CONFIG[1:0] held', () => {
    const m = fredMachine({ cpl3: true, csl: 2 });
    deliverEvent(m.cpu, hw(13, { errorCode: 0 }));
    expect(frameAt(m, m.getGpr(4)).cs.sl).toBe(0);
    expect(m.cpu.msr.get(CONFIG)! & 3n).toBe(0n);
  });

  it('clears the 64-bit bit for an event in compatibility mode', () => {
    const m = fredMachine({ cpl3: true });
    m.cpu.seg[CS] = flatCode(0x23, 3, false);
    deliverEvent(m.cpu, hw(0));
    expect(u64(m, m.getGpr(4) + 0x28n)).toBe(0x2bn | (3n << 48n));
  });
});

describe('events from ring 0: red zone, alignment, entry + 256 (§3.4, §3.6)', () => {
  it('aligns the current RSP down to 64 bytes, keeps CS/SS/GS and enters at +256', () => {
    const m = fredMachine({ rsp: 0x250038n });
    deliverEvent(m.cpu, { type: 6, vector: 3, rip: 0x101235, instructionLength: 1, eventData: 0n });
    expect(m.getGpr(4)).toBe(0x250000n - 64n);
    const f = frameAt(m, m.getGpr(4));
    expect(f.rsp).toBe(0x250038n);
    expect(f.csWord).toBe(0x10n);
    expect(f.ssWord).toBe(0x18n | (3n << 32n) | (6n << 48n) | L_BIT | (1n << 60n));
    expect(m.getRip()).toBe(ENTRY + 256n);
    expect([m.cpu.seg[CS].sel, m.cpu.seg[SS].sel, m.cpu.seg[GS].base]).toEqual([0x10, 0x18, 0x7000]);
    expect(lastDelivery(m)).toMatchObject({ mechanism: 'fred', stackSwitched: false, oldCsl: 0, newCsl: 0, frameAddress: 0x24ffc0n, entryRip: ENTRY + 256n });
  });

  it.each([[1, 0x250000n - 0x40n], [3, 0x250000n - 0xc0n], [7, 0x250000n - 0x1c0n]])('subtracts a red zone of %i × 64 bytes first', (units, top) => {
    const m = fredMachine({ rsp: 0x250000n, config: BigInt(units) << 6n });
    deliverEvent(m.cpu, hw(6));
    expect(m.getGpr(4)).toBe(top - 64n);
  });

  it('ignores the red zone when it switches stacks', () => {
    const m = fredMachine({ config: 1n << 6n, stklvls: sl(6, 1) });
    deliverEvent(m.cpu, hw(6));
    expect(m.getGpr(4)).toBe(STACKS.rsp1 - 64n);
  });
});

describe('stack-level selection (§3.3)', () => {
  const cases: [string, Setup, MachineEvent, number][] = [
    ['ring 0 #DB with STKLVLS[1] = 1', { stklvls: sl(1, 1) }, hw(1), 1],
    ['ring 0 external interrupt uses CONFIG[10:9]', { config: 2n << 9n, stklvls: sl(0x20 & 31, 3) }, { type: 0, vector: 0x20, rip: 0, instructionLength: 0, eventData: 0n }, 2],
    ['ring 0 NMI uses STKLVLS[2]', { stklvls: sl(2, 2) }, { type: 2, vector: 2, rip: 0, instructionLength: 0, eventData: 0n }, 2],
    ['ring 0 INT n is SL0 whatever STKLVLS says', { stklvls: sl(3, 3) }, { type: 4, vector: 3, rip: 0, instructionLength: 2, eventData: 0n }, 0],
    ['ring 0 INT1 uses STKLVLS[1]', { stklvls: sl(1, 1) }, { type: 5, vector: 1, rip: 0, instructionLength: 1, eventData: 0n }, 1],
    ['ring 0 INT3 uses STKLVLS[3]', { stklvls: sl(3, 2) }, { type: 6, vector: 3, rip: 0, instructionLength: 1, eventData: 0n }, 2],
    ['ring 0 SYSCALL is SL0', { stklvls: sl(1, 3) }, { type: 7, vector: 1, rip: 0, instructionLength: 2, eventData: 0n }, 0],
    ['ring 0 #PF vector 14 uses STKLVLS[14]', { stklvls: sl(14, 3) }, hw(14), 3],
    ['ring 0 #MC vector 18 uses STKLVLS[18] (high dword)', { stklvls: sl(18, 2) }, hw(18), 2],
    ['ring 0 vector 31 uses STKLVLS[63:62]', { stklvls: sl(31, 3) }, hw(31), 3],
    ['ring 3 NMI is SL0 (ordinary user event)', { cpl3: true, stklvls: sl(2, 2) }, { type: 2, vector: 2, rip: 0, instructionLength: 0, eventData: 0n }, 0],
    ['ring 3 #DF uses STKLVLS[8]', { cpl3: true, stklvls: sl(8, 3) }, hw(8, { errorCode: 0 }), 3],
  ];
  it.each(cases)('%s', (_name, setup, ev, level) => {
    const m = fredMachine(setup);
    expect(eventStackLevel(m.cpu, ev, false, m.cpu.cpl)).toBe(level);
  });

  it('choice: only hardware exception 8 counts as #DF — an external interrupt 8 from ring 3 is on SL0', () => {
    const m = fredMachine({ cpl3: true, config: 2n << 9n, stklvls: sl(8, 3) });
    expect(eventStackLevel(m.cpu, { type: 0, vector: 8, rip: 0, instructionLength: 0, eventData: 0n }, false, 3)).toBe(0);
    expect(eventStackLevel(m.cpu, hw(8, { errorCode: 0 }), false, 3)).toBe(3);
  });

  it('choice (§11.8, Bochs): an event at CPL 1 is "not ring 3" — no stack switch, CS/SS kept — and enters at + 0', () => {
    const m = fredMachine({ rsp: 0x250040n });
    m.cpu.cpl = 1;
    deliverEvent(m.cpu, hw(6));
    expect(m.getRip()).toBe(ENTRY);
    expect(m.getGpr(4)).toBe(0x250000n);
    expect([m.cpu.seg[CS].sel, m.cpu.cpl]).toEqual([0x10, 0]);
  });

  it('a nested exception from ring 3 uses its STKLVLS level', () => {
    const m = fredMachine({ cpl3: true, stklvls: sl(14, 1) });
    expect(eventStackLevel(m.cpu, hw(14), true, 3)).toBe(1);
    expect(eventStackLevel(m.cpu, hw(14), false, 3)).toBe(0);
  });

  it('switches to RSPn only when the level rises, never lowers it, and records the old CSL', () => {
    // CSL 1, event SL 3: switch to RSP3; frame SL = 1.
    let m = fredMachine({ csl: 1, stklvls: sl(13, 3) });
    deliverEvent(m.cpu, hw(13, { errorCode: 0 }));
    expect(m.getGpr(4)).toBe(STACKS.rsp3 - 64n);
    expect(frameAt(m, m.getGpr(4)).cs.sl).toBe(1);
    expect(m.cpu.msr.get(CONFIG)! & 3n).toBe(3n);
    // CSL 2, event SL 1: stay on the current stack at level 2.
    m = fredMachine({ csl: 2, stklvls: sl(6, 1), rsp: 0x320000n - 0x100n });
    deliverEvent(m.cpu, hw(6));
    expect(m.getGpr(4)).toBe(0x320000n - 0x100n - 64n);
    expect(frameAt(m, m.getGpr(4)).cs.sl).toBe(2);
    expect(m.cpu.msr.get(CONFIG)! & 3n).toBe(2n);
    expect(lastDelivery(m)).toMatchObject({ oldCsl: 2, newCsl: 2, stackSwitched: false });
  });
});

describe('SS word bits and event data (§3.5, §3.7)', () => {
  it('INT n sets swevent and the instruction length; INT3 does not set swevent', () => {
    let m = fredMachine();
    deliverEvent(m.cpu, { type: 4, vector: 0x80, rip: 0x101236, instructionLength: 2, eventData: 0n });
    expect(frameAt(m, m.getGpr(4)).ssWord).toBe(0x18n | (1n << 17n) | (0x80n << 32n) | (4n << 48n) | L_BIT | (2n << 60n));
    m = fredMachine();
    deliverEvent(m.cpu, { type: 6, vector: 3, rip: 0x101235, instructionLength: 1, eventData: 0n });
    expect(frameAt(m, m.getGpr(4)).ss).toMatchObject({ swevent: false, insnLen: 1, type: 6 });
  });

  it('NMI sets the NMI bit and blocks NMIs', () => {
    const m = fredMachine();
    deliverEvent(m.cpu, { type: 2, vector: 2, rip: 0x101234, instructionLength: 0, eventData: 0n });
    expect(frameAt(m, m.getGpr(4)).ssWord).toBe(0x18n | (1n << 18n) | (2n << 32n) | (2n << 48n) | L_BIT);
    expect(m.cpu.nmiBlocked).toBe(true);
  });

  it('records blocking by STI in bit 16 and clears the interrupt shadow', () => {
    const m = fredMachine();
    m.cpu.blockingBySti = true;
    deliverEvent(m.cpu, { type: 7, vector: 1, rip: 0x101236, instructionLength: 2, eventData: 0n });
    expect(frameAt(m, m.getGpr(4)).ss).toMatchObject({ sti: true, swevent: true, type: 7, vector: 1, insnLen: 2 });
    expect(m.cpu.shadow).toBe(false);
  });

  it('blocking by MOV SS is not blocking by STI: bit 16 stays 0, and the shadow ends', () => {
    const m = fredMachine();
    m.cpu.blockingByMovSs = true;
    deliverEvent(m.cpu, { type: 7, vector: 1, rip: 0x101236, instructionLength: 2, eventData: 0n });
    expect(frameAt(m, m.getGpr(4)).ss).toMatchObject({ sti: false, swevent: true });
    expect(m.cpu.blockingByMovSs).toBe(false);
  });

  it('#DB carries its pending-debug bits as event data; the error code slot is 0 without an error code', () => {
    const m = fredMachine();
    deliverEvent(m.cpu, hw(1, { eventData: 0x4001n }));
    const f = frameAt(m, m.getGpr(4));
    expect([f.errorCode, f.eventData, f.rflags & 0x10000n]).toEqual([0n, 0x4001n, 0n]);
  });

  it('a 64-bit event-data value and an error code above 16 bits are written in full', () => {
    const m = fredMachine();
    deliverEvent(m.cpu, hw(14, { errorCode: 0x8007, address: -0x800000000000 + 0x10, eventData: 0xffff800000000010n }));
    const f = frameAt(m, m.getGpr(4));
    expect([f.errorCode, f.eventData]).toEqual([0x8007n, 0xffff800000000010n]);
  });
});

describe('faults during delivery (§3.9)', () => {
  const BAD_RSP = 0x1000_0040n; // beyond the 4 MiB of RAM: not mapped

  it('a #PF writing the frame leaves nothing committed and becomes #DF on its own level', () => {
    const m = fredMachine({ rsp: BAD_RSP, stklvls: sl(8, 3) });
    deliverEvent(m.cpu, hw(13, { errorCode: 0 }));
    // #GP → #PF (nested, same bad stack) → #PF while delivering #PF → #DF on SL3.
    const f = frameAt(m, m.getGpr(4));
    expect(m.getGpr(4)).toBe(STACKS.rsp3 - 64n);
    expect(f.ss).toMatchObject({ vector: 8, type: 3, nested: false });
    expect([f.errorCode, f.rip, f.rsp, f.cs.sl]).toEqual([0n, 0x101234n, BAD_RSP, 0]);
    expect(m.cpu.cr2).toBe(BAD_RSP - 8n);
  });

  it('delivers the second exception with the nested bit on its STKLVLS level', () => {
    const m = fredMachine({ rsp: BAD_RSP, stklvls: sl(14, 1) });
    deliverEvent(m.cpu, hw(13, { errorCode: 0 }));
    const f = frameAt(m, m.getGpr(4));
    expect(m.getGpr(4)).toBe(STACKS.rsp1 - 64n);
    expect(f.ss).toMatchObject({ vector: 14, nested: true });
    expect([f.errorCode, f.eventData, f.rsp]).toEqual([2n, BAD_RSP - 8n, BAD_RSP]);
    expect(lastDelivery(m)).toMatchObject({ nested: true, vector: 14, newCsl: 1 });
  });

  it('a non-canonical same-stack frame raises #SS(0) (Bochs choice)', () => {
    const m = fredMachine({ rsp: 0x8000_0000_0040n, stklvls: sl(12, 2) });
    deliverEvent(m.cpu, hw(6));
    const f = frameAt(m, m.getGpr(4));
    expect(f.ss).toMatchObject({ vector: 12, nested: true });
    expect(f.errorCode).toBe(0n);
  });

  it('a fault while delivering #DF shuts the processor down', () => {
    const m = fredMachine({ rsp: BAD_RSP });
    expect(() => deliverEvent(m.cpu, hw(13, { errorCode: 0 }))).toThrow(Shutdown);
  });

  it('a non-canonical entry point in IA32_FRED_CONFIG raises #GP(0) at delivery', () => {
    const m = fredMachine();
    m.cpu.msr.set(CONFIG, 0x0000_8000_0000_0000n);
    let caught: unknown;
    try {
      deliverEvent(m.cpu, hw(6));
    } catch (e) {
      caught = e;
    }
    // The #GP cannot be delivered either (same entry point): #DF, then shutdown, and the chain says so.
    expect(caught).toBeInstanceOf(Shutdown);
    expect((caught as Shutdown).reason).toMatch(/^triple fault: #UD.*#GP\(0x0\).*#DF/);
  });
});

describe('RF in the frame of a fault raised during delivery (SDM Vol. 3B §18.3.1.1; §3.2)', () => {
  const UNMAPPED = 0x800000n; // beyond the 4 MiB the tests boot with

  it('a #PF while delivering a SYSCALL from ring 3 is a fault: its frame saves RF = 1 and the SYSCALL RIP', () => {
    const m = fredMachine({ cpl3: true, stklvls: sl(14, 1) });
    m.cpu.msr.set(0x1cc, UNMAPPED); // RSP0
    deliverEvent(m.cpu, { type: 7, vector: 1, rip: 0x101236, instructionLength: 2, eventData: 0n });
    const f = frameAt(m, m.getGpr(4));
    expect(m.getGpr(4)).toBe(STACKS.rsp1 - 64n);
    expect(f.ss).toMatchObject({ type: 3, vector: 14, nested: true });
    expect(f.rip).toBe(0x101234n);
    expect(f.rflags).toBe(0x246n | 0x10000n);
  });

  it('#DF is an abort: its frame saves RFLAGS.RF as it was (0 here)', () => {
    const m = fredMachine({ stklvls: sl(14, 1) | sl(8, 2) });
    m.cpu.msr.set(0x1cd, UNMAPPED); // RSP1: the #PF cannot be delivered
    deliverEvent(m.cpu, hw(14, { errorCode: 2, address: 0x5000, eventData: 0x5000n, setRf: true }));
    const f = frameAt(m, m.getGpr(4));
    expect(m.getGpr(4)).toBe(STACKS.rsp2 - 64n);
    expect(f.ss).toMatchObject({ type: 3, vector: 8, nested: false });
    expect(f.rflags).toBe(0x246n);
  });
});

describe('deliverEvent options: nested and injected (VM entry)', () => {
  it('nested: the first attempt is a nested exception — its STKLVLS level from ring 3 and frame bit 58', () => {
    const m = fredMachine({ cpl3: true, stklvls: sl(14, 1) });
    deliverEvent(m.cpu, hw(14, { errorCode: 0, address: 0x5000, eventData: 0x5000n, setRf: true }), { nested: true });
    expect(m.getGpr(4)).toBe(STACKS.rsp1 - 64n);
    expect(frameAt(m, m.getGpr(4)).ss).toMatchObject({ vector: 14, nested: true });
    expect(lastDelivery(m)).toMatchObject({ nested: true, newCsl: 1, injected: false });
  });

  it('injected: the record says so; a fault during its delivery is not injected', () => {
    let m = fredMachine();
    deliverEvent(m.cpu, { type: 0, vector: 0x30, rip: 0x101234, instructionLength: 0, eventData: 0n }, { injected: true });
    expect(lastDelivery(m)).toMatchObject({ vector: 0x30, injected: true, nested: false });
    m = fredMachine({ cpl3: true, stklvls: sl(14, 1) });
    m.cpu.msr.set(0x1cc, 0x800000n);
    deliverEvent(m.cpu, { type: 0, vector: 0x30, rip: 0x101234, instructionLength: 0, eventData: 0n }, { injected: true });
    const records = m.trace.records.filter((r): r is DeliveryRecord => r.kind === 'delivery');
    expect(records.map((r) => [r.vector, r.injected, r.nested])).toEqual([[14, false, true]]);
  });

  it('without options nothing is nested or injected', () => {
    const m = fredMachine();
    deliverEvent(m.cpu, hw(6));
    expect(lastDelivery(m)).toMatchObject({ nested: false, injected: false });
  });
});
