// ERETS, ERETU and LKGS (fred-architecture.md §4–§5.1; SDM Vol. 2A ERETS/ERETU/LKGS "Operation") and the
// instructions FRED changes: SYSCALL/SYSENTER become event deliveries (type 7, vectors 1/2, §5.2–§5.3);
// SYSEXIT, SETSSBSY and CLRSSBSY raise #UD (§1.3). SWAPGS and SYSRET check CR4.FRED in system.ts.
import { CpuFault, GP, MachineStop, UD } from '../../events/fault';
import { deliverEvent } from '../../events/deliver';
import { OTHER_EVENT } from '../../events/event';
import { swapGsBase } from '../../events/fred';
import { FRED_MSR, currentStackLevel, fredEnabled, setCurrentStackLevel, starSegments } from '../../events/fredState';
import type { Cpu } from '../cpu';
import { PAGE_SIZE } from '../../memory/physical';
import { AC, IF, TF } from '../flags';
import { codeSegment, loadSegment, readDescriptor } from '../segments';
import { ATTR_L, CS, GS, RSP, SS, fromLinear, isCanonical, type Segment } from '../state';
import type { Helper } from './integer';
import { readOp } from './operands';
import { Mnemonic, type DecodedInsn } from '../decode';
import { RETURN_ERETS, RETURN_ERETU } from '../../trace';

const TWO32 = 4294967296;
/** DR6.BS: a pending single-step trap (SDM Vol. 3B §18.2.3). */
const DR6_BS = 0x4000;

/**
 * Switches for points where the sources disagree (fred-architecture.md §11; docs/fred.md "Architecture
 * notes"). Defaults follow the SDM text.
 */
export const FRED_OPTIONS = {
  /** §11.1: SDM SYSCALL checks IA32_EFER.SCE only when CR4.FRED = 0; Bochs also checks it under FRED. */
  syscallChecksSce: false,
};

/** 64-bit mode under FRED: CR4.FRED = 1 implies IA32_EFER.LMA = 1 (§1.2), so CS.L alone decides. */
function cs64(c: Cpu): boolean {
  return (c.seg[CS].attr & ATTR_L) !== 0;
}

/**
 * The five quadwords above the error code (RIP, CS word, RFLAGS, RSP, SS word) as halves, read before
 * anything changes (§4.2: the pops are speculative; a fault leaves RSP as it was): `popFrame` returns
 * their offset in `popped`, which is RAM itself as 32-bit words on the fast path, else POPPED.
 */
const POPPED = new Int32Array(10);
let popped: Int32Array<ArrayBufferLike> = POPPED;
const RIP_LO = 0, RIP_HI = 1, CS_LO = 2, CS_HI = 3, FLAGS_LO = 4, FLAGS_HI = 5, RSP_LO = 6, RSP_HI = 7, SS_LO = 8;

function popFrame(c: Cpu): number {
  const m = c.m;
  const a = c.gprNumber(RSP) + 8; // skip the error code
  // SS word bits 63:32 are informational: ERETx never read them (§3.5). Fast path: the 36 bytes lie in
  // one page the TLB already grants a read of (the test of Mmu.rd32), 4-byte aligned; else nine MMU reads.
  const v = Math.floor(a / PAGE_SIZE), i = v & (m.tag.length - 1), o = a - v * PAGE_SIZE;
  if (m.tag[i] === v && (m.perm[i] & m.rNeed) !== 0 && o <= PAGE_SIZE - 36) {
    const p = m.frame[i] + o;
    const w = (p & 3) === 0 ? m.words : undefined;
    if (w !== undefined) {
      popped = w;
      return p >> 2;
    }
    for (let k = 0; k < 9; k++) POPPED[k] = m.view.getInt32(p + 4 * k, true);
  } else for (let k = 0; k < 9; k++) POPPED[k] = m.rd32(a + 4 * k);
  popped = POPPED;
  return 0;
}

function frameFault(what: string): CpuFault {
  return new CpuFault(GP, 0, undefined, what);
}

/** Pending single-step and NMI unblocking from SS word bits 17 and 18 (§4.2, §4.3). */
function finishReturn(c: Cpu, ssLo: number): void {
  if ((ssLo & (1 << 17)) && (c.rflags & TF)) c.pendingDebug |= DR6_BS;
  if (ssLo & (1 << 18)) c.nmiBlocked = false;
}

/** ERETS: return from an event handler to ring 0 (§4.2). */
export function erets(c: Cpu, _d: DecodedInsn): void {
  // FRED = 1 and CPL = 0 imply 64-bit mode; ERETS is a 64-bit-only encoding (Bochs decoder: IS64).
  if (!fredEnabled(c) || c.cpl !== 0 || !cs64(c)) throw new CpuFault(UD, undefined, undefined, 'ERETS needs CR4.FRED = 1 and CPL 0 in 64-bit mode');
  const o = popFrame(c), f = popped;
  const newRip = f[o + RIP_HI] * TWO32 + (f[o + RIP_LO] >>> 0);
  if (!isCanonical(newRip)) throw frameFault('ERETS: return RIP is not canonical');
  // CS word: bits 63:19 zero, 15:0 = current CS (SL and WFE free): mask 0xFFFFFFFF_FFF8FFFF.
  if (f[o + CS_HI] !== 0 || ((f[o + CS_LO] & 0xfff8ffff) >>> 0) !== c.seg[CS].sel) throw frameFault('ERETS: CS word does not match the current CS (mask 0xFFFFFFFF_FFF8FFFF)');
  // RFLAGS: bit 1 set; bits 3, 5, 15, VM (17), 63:22 clear: mask 0xFFFFFFFF_FFC2802A must give 2.
  if (f[o + FLAGS_HI] !== 0 || ((f[o + FLAGS_LO] & 0xffc2802a) >>> 0) !== 2) throw frameFault('ERETS: RFLAGS image has reserved bits or VM set (mask 0xFFFFFFFF_FFC2802A)');
  // SS word bits 31:0: 15:0 = current SS, 31:19 zero (STI, swevent, NMI free); bits 63:32 not checked.
  if (((f[o + SS_LO] & 0xfff8ffff) >>> 0) !== c.seg[SS].sel) throw frameFault('ERETS: SS word does not match the current SS (mask 0xFFF8FFFF)');

  const csl = currentStackLevel(c);
  const newCsl = Math.min(csl, (f[o + CS_LO] >>> 16) & 3); // ERETS never raises the stack level
  const fromRip = c.rip;
  const oldFlags = c.flags;
  c.rip = newRip;
  c.rflags = f[o + FLAGS_LO];
  c.r[2 * RSP] = f[o + RSP_LO];
  c.r[2 * RSP + 1] = f[o + RSP_HI];
  if (newCsl !== csl) setCurrentStackLevel(c, newCsl);
  // STI bit: re-establish blocking by STI (only that: MOV-SS blocking is never restored) when the
  // returned RFLAGS.IF = 1 and there was no STI blocking before ERETS (SDM ERETS; §4.2). When ERETS
  // itself ran in a shadow, the run loop ends the blocking that was in effect right after it.
  if ((f[o + SS_LO] & (1 << 16)) !== 0 && (c.flags & IF) !== 0) c.blockingBySti = true;
  finishReturn(c, f[o + SS_LO]);
  if ((oldFlags ^ c.flags) & AC) c.syncPrivilege(); // CPL stays 0; only RFLAGS.AC matters to the MMU
  c.trace.return_(c.icount, RETURN_ERETS, fromRip, 0, newRip, f[o + RSP_LO], f[o + RSP_HI], newCsl);
}

/** CS and SS for ERETU's third path: descriptor loads with the checks of IRET to ring 3 (SDM IRET). */
function loadUserSegments(c: Cpu, csSel: number, ssSel: number): [Segment, Segment] {
  const cs = codeSegment(c, csSel, 'ERETU'); // null → #GP(0), not code → #GP(sel), not present → #NP(sel)
  const conforming = (cs.type & 4) !== 0;
  if (conforming ? cs.dpl > 3 : cs.dpl !== 3) throw new CpuFault(GP, csSel & 0xfffc, undefined, 'ERETU: CS DPL does not match RPL 3');
  if (cs.long && (cs.attr & 0x4000)) throw new CpuFault(GP, csSel & 0xfffc, undefined, 'ERETU: CS has L = 1 and D = 1');
  if ((ssSel & ~3) === 0) throw new CpuFault(GP, 0, undefined, 'ERETU: null SS for a return to ring 3');
  const ss = readDescriptor(c, ssSel);
  if (!ss.s || (ss.type & 8) || (ss.type & 2) === 0 || ss.dpl !== 3) throw new CpuFault(GP, ssSel & 0xfffc, undefined, 'ERETU: SS is not a writable data segment with DPL 3');
  if (!ss.present) throw new CpuFault(12, ssSel & 0xfffc, undefined, 'ERETU: SS not present');
  return [
    { sel: csSel, base: cs.base, limit: cs.limit, attr: cs.attr | 1 },
    { sel: ssSel, base: ss.base, limit: ss.limit, attr: ss.attr | 1 },
  ];
}

/** ERETU: return from an event handler to ring 3 (§4.3). */
export function eretu(c: Cpu, _d: DecodedInsn): void {
  if (!fredEnabled(c) || !cs64(c) || c.cpl !== 0) throw new CpuFault(UD, undefined, undefined, 'ERETU needs CR4.FRED = 1 and CPL 0 in 64-bit mode');
  if (currentStackLevel(c) !== 0) throw frameFault(`ERETU at stack level ${currentStackLevel(c)} (must be 0)`);
  const o = popFrame(c), f = popped;
  // CS word: RPL 3 and bits 63:16 (SL, WFE included) zero: mask 0xFFFFFFFF_FFFF0003 must give 3.
  if (f[o + CS_HI] !== 0 || (f[o + CS_LO] & 0xffff0003) !== 3) throw frameFault('ERETU: CS word must have RPL 3 and bits 63:16 clear (mask 0xFFFFFFFF_FFFF0003)');
  // RFLAGS: bit 1 set; bits 3, 5, IOPL (13:12), 15, VM (17), 63:22 clear: mask 0xFFFFFFFF_FFC2B02A must give 2.
  if (f[o + FLAGS_HI] !== 0 || ((f[o + FLAGS_LO] & 0xffc2b02a) >>> 0) !== 2) throw frameFault('ERETU: RFLAGS image has IOPL, VM or reserved bits set (mask 0xFFFFFFFF_FFC2B02A)');
  // SS word: RPL 3, bits 31:19 clear (mask 0xFFF80003 must give 3); the STI bit is ignored.
  if ((f[o + SS_LO] & 0xfff80003) !== 3) throw frameFault('ERETU: SS word must have RPL 3 and bits 31:19 clear (mask 0xFFF80003)');

  const csSel = f[o + CS_LO] & 0xffff, ssSel = f[o + SS_LO] & 0xffff, ssLo = f[o + SS_LO];
  // Everything read from the frame before descriptor loads (which may set accessed bits in memory).
  const ripLo = f[o + RIP_LO], ripHi = f[o + RIP_HI], flags = f[o + FLAGS_LO];
  let rspLo = f[o + RSP_LO], rspHi = f[o + RSP_HI];
  // The fast paths compare all 16 selector bits with STAR[63:48] (+16 / +8), modulo 2^16 (SDM; Bochs
  // masks with 0x7FFF — docs/fred.md "Architecture notes").
  const star = starSegments(c);
  const base = star.userBase;
  let cs: Segment, ss: Segment;
  if (csSel === ((base + 16) & 0xffff) && ssSel === ((base + 8) & 0xffff)) {
    cs = star.userCs64;
    ss = star.userSs;
  } else if (csSel === base && ssSel === ((base + 8) & 0xffff)) {
    cs = star.userCs32;
    ss = star.userSs;
  } else {
    [cs, ss] = loadUserSegments(c, csSel, ssSel);
  }
  let newRip: number;
  if (cs.attr & 0x2000) {
    newRip = ripHi * TWO32 + (ripLo >>> 0);
    if (!isCanonical(newRip)) throw frameFault('ERETU: return RIP is not canonical');
  } else {
    newRip = ripLo >>> 0;
    if (newRip > cs.limit) throw frameFault('ERETU: return EIP beyond the CS limit');
    rspHi = 0;
  }
  const fromRip = c.rip;
  c.rip = newRip;
  c.rflags = flags;
  c.r[2 * RSP] = rspLo;
  c.r[2 * RSP + 1] = rspHi;
  c.seg[CS] = cs;
  c.seg[SS] = ss;
  c.cpl = 3;
  swapGsBase(c);
  c.blockingBySti = c.blockingByMovSs = false; // the STI bit is ignored by ERETU (§4.3)
  finishReturn(c, ssLo);
  c.syncPrivilege();
  c.trace.return_(c.icount, RETURN_ERETU, fromRip, 3, newRip, rspLo, rspHi, 0);
}

/**
 * LKGS r/m16 (§5.1): MOV to GS whose descriptor base goes to IA32_KERNEL_GS_BASE (bits 63:32 zero);
 * GS.base is unchanged. Does not need CR4.FRED. A null selector makes IA32_KERNEL_GS_BASE 0.
 */
export function lkgs(c: Cpu, d: DecodedInsn, a: number): void {
  if (c.cpl !== 0 || !c.long64) throw new CpuFault(UD, undefined, undefined, 'LKGS needs CPL 0 in 64-bit mode');
  const sel = Number(readOp(c, d, 0, a, 2));
  const gsBase = c.seg[GS].base;
  loadSegment(c, GS, sel); // all MOV GS checks; throws before changing GS
  const loaded = c.seg[GS];
  c.msr.set(FRED_MSR.KERNEL_GS_BASE, BigInt(loaded.base >>> 0));
  c.seg[GS] = { ...loaded, base: gsBase };
  c.rip = d.next;
}

/**
 * SYSCALL with CR4.FRED = 1 (§5.2): FRED event type 7, vector 1; RCX and R11 are not written. Returns
 * false when FRED is off (system.ts then runs the legacy SYSCALL). IA32_EFER.LMA = 1 under FRED.
 */
export function fredSyscall(c: Cpu, d: DecodedInsn): boolean {
  if (!fredEnabled(c)) return false;
  if (!cs64(c)) throw new CpuFault(UD, undefined, undefined, 'SYSCALL outside 64-bit mode');
  if (FRED_OPTIONS.syscallChecksSce && !(c.efer & 1n)) throw new CpuFault(UD, undefined, undefined, 'SYSCALL with IA32_EFER.SCE = 0 (Bochs rule, FRED_OPTIONS.syscallChecksSce)');
  deliverEvent(c, { type: OTHER_EVENT as 7, vector: 1, rip: d.next, instructionLength: d.length, eventData: 0n });
  return true;
}

/** SYSENTER (§5.3): under FRED an event of type 7, vector 2 from 64-bit or compatibility mode. */
function sysenter(c: Cpu, d: DecodedInsn): void {
  if (!fredEnabled(c)) throw new MachineStop('unimplemented', `SYSENTER without CR4.FRED is not implemented (at 0x${fromLinear(d.rip).toString(16)})`);
  deliverEvent(c, { type: OTHER_EVENT as 7, vector: 2, rip: d.next, instructionLength: d.length, eventData: 0n });
}

function sysexit(c: Cpu, d: DecodedInsn): void {
  if (fredEnabled(c)) throw new CpuFault(UD, undefined, undefined, 'SYSEXIT with CR4.FRED = 1');
  throw new MachineStop('unimplemented', `SYSEXIT without CR4.FRED is not implemented (at 0x${fromLinear(d.rip).toString(16)})`);
}

/** SETSSBSY/CLRSSBSY: #UD when CR4.CET = 0 or CR4.FRED = 1 (SDM SETSSBSY); CET is not supported here. */
function shadowStackBusy(c: Cpu, d: DecodedInsn): void {
  throw new CpuFault(UD, undefined, undefined, `${d.mnemonic === Mnemonic.Setssbsy ? 'SETSSBSY' : 'CLRSSBSY'} ${fredEnabled(c) ? 'with CR4.FRED = 1' : 'with CR4.CET = 0'}`);
}

/** Executors this module adds to the system-instruction table (system.ts). */
export const FRED_HELPERS: Partial<Record<Mnemonic, Helper>> = {
  [Mnemonic.Erets]: erets,
  [Mnemonic.Eretu]: eretu,
  [Mnemonic.Lkgs]: lkgs,
  [Mnemonic.Sysenter]: sysenter,
  [Mnemonic.Sysexit]: sysexit, [Mnemonic.Sysexitq]: sysexit,
  [Mnemonic.Setssbsy]: shadowStackBusy, [Mnemonic.Clrssbsy]: shadowStackBusy,
};
