// FRED event delivery (fred-architecture.md §3; SDM Vol. 3A "FRED event delivery"): stack-level
// selection (§3.3), the new RSP with red zone and 64-byte alignment (§3.4), the 64-byte frame (§3.5),
// the new state (§3.6) and event data (§3.7). deliverEvent (deliver.ts) calls `deliverFred` when
// CR4.FRED = 1 and owns the #DF/shutdown logic around it (§3.9); a fault thrown from here aborts the
// delivery with no register changed and no byte of the frame written (the frame is one 64-byte aligned
// block, so it lies in one page and the first write decides for all eight).
import type { Cpu } from '../cpu/cpu';
import type { Mmu } from '../memory/mmu';
import { PAGE_SIZE } from '../memory/physical';
import { ATTR_L, CS, GS, RSP, SS, fromLinear, isCanonical } from '../cpu/state';
import { AC, LazyOp, OP, RF } from '../cpu/flags';
import { registerFredDelivery } from './deliver';
import { HARDWARE_EXCEPTION, NMI_EVENT, OTHER_EVENT, SOFTWARE_INTERRUPT, type MachineEvent } from './event';
import { CpuFault, GP, SS as SS_FAULT } from './fault';
import { csWordLow, ssWordHigh, ssWordLow } from './fredWords';
import { FRED_MSR, currentStackLevel, linearBig, starSegments, msrPresent, readFredMsr, setCurrentStackLevel, writeFredMsr } from './fredState';
import { MECHANISM_FRED, type EventType } from '../trace';

const TWO32 = 4294967296;
/** c.pendingDebug value telling the run loop to drop this instruction's #DB traps (SYSCALL/INT n with TF = 1 trap after ERETx instead, via the swevent bit). */
export const DEBUG_TRAPS_DISCARDED = -1;

/** Red-zone size, IA32_FRED_CONFIG[8:6] in 64-byte units (§2.2): the byte count is CONFIG & 0x1C0. */
const CONFIG_RED_ZONE = 0x1c0;

/**
 * The event's stack level (§3.3). `cpl` is the CPL when the event happened. An ordinary event from
 * ring 3 uses SL0; a #DF or a nested exception from ring 3, and every event from ring 0, use the
 * configured level: CONFIG[10:9] for external interrupts, STKLVLS[2v+1:2v] for NMI and exceptions
 * (types 2, 3, 5, 6), 0 for INT n and SYSCALL/SYSENTER (types 4, 7).
 * Choice (fred-architecture.md §3.3, docs/fred.md): "is #DF" means hardware exception 8; Bochs tests
 * only the vector, which differs for `int 8` (type 4, SL0 either way) and an external interrupt 8.
 */
export function eventStackLevel(c: Cpu, ev: MachineEvent, nested: boolean, cpl: number): number {
  const doubleFault = ev.type === HARDWARE_EXCEPTION && ev.vector === 8;
  if (cpl === 3 && !nested && !doubleFault) return 0;
  switch (ev.type) {
    case 0: return (readFredMsr(c, FRED_MSR.CONFIG).lo >>> 9) & 3;
    case 2: case 3: case 5: case 6: {
      const v = ev.vector & 31;
      const { lo, hi } = readFredMsr(c, FRED_MSR.STKLVLS);
      return ((v < 16 ? lo >>> (2 * v) : hi >>> (2 * (v - 16))) & 3);
    }
    default: return 0;
  }
}

/** The frame as 16 signed 32-bit halves, lowest address first (one scratch buffer: delivery is not re-entrant). */
const FRAME = new Int32Array(16);

// FRAME is written with supervisor writes, highest quadword first (Bochs order; hardware order is
// UNCONFIRMED, §11.3).
let frameMmu: Mmu;
let frameAt = 0;

/** Mmu permission bit "supervisor write" (W_SUP in memory/mmu.ts): what an implicit supervisor write needs. */
const TLB_SUPERVISOR_WRITE = 2;

function writeQuadwords(): void {
  const m = frameMmu, at = frameAt;
  for (let k = 7; k >= 0; k--) m.wr64(at + 8 * k, FRAME[2 * k], FRAME[2 * k + 1]);
}

/**
 * Where the frame goes when it can be written at once: its index in RAM as 32-bit words, else -1.
 * The frame is one 64-byte aligned block, so one page. When the TLB already grants that page a fast
 * supervisor write (the MMU grants W_SUP only where an implicit supervisor write may go: SMAP
 * excludes user pages, code and snapshot pages stay on the slow path) and no watchpoint or alignment
 * check forces the slow path (wNeed = 0), delivery writes the 16 words straight into RAM.
 */
function fastFrameWords(m: Mmu, frame: number): number {
  const v = Math.floor(frame / PAGE_SIZE), i = v & (m.tag.length - 1);
  if (m.wNeed === 0 || m.tag[i] !== v || (m.perm[i] & TLB_SUPERVISOR_WRITE) === 0 || m.words === undefined) return -1;
  return (m.frame[i] + frame - v * PAGE_SIZE) >> 2; // 64-byte aligned
}

/** The slow path: eight MMU writes of FRAME, as implicit supervisor accesses unless CPL 0 with RFLAGS.AC = 0 already makes them so. */
function writeFrame(c: Cpu, frame: number): void {
  frameMmu = c.m;
  frameAt = frame;
  if (c.cpl === 0 && (c.flags & AC) === 0) writeQuadwords();
  else c.m.supervisor(writeQuadwords);
}

export function deliverFred(c: Cpu, ev: MachineEvent, nested: boolean, injected: boolean): void {
  const cpl = c.cpl;
  const config = readFredMsr(c, FRED_MSR.CONFIG);
  const csl = config.lo & 3;
  const oldCsl = cpl === 3 ? 0 : csl;
  const newCsl = Math.max(eventStackLevel(c, ev, nested, cpl), oldCsl);

  // Entry point: CONFIG[63:12], +256 for events from ring 0 (§3.6). WRMSR already refuses a
  // non-canonical CONFIG; the delivery-time #GP(0) (Bochs) also covers state loaded by VM entry.
  const entryRip = config.hi * TWO32 + ((config.lo & ~0xfff) >>> 0) + (cpl === 0 ? 256 : 0);
  if (!isCanonical(entryRip)) throw new CpuFault(GP, 0, undefined, 'FRED entry point (IA32_FRED_CONFIG) is not canonical');

  // New stack (§3.4): RSPn when the ring or the stack level changes (already 64-byte aligned by the
  // WRMSR check), else the current stack below the red zone, aligned down to 64 bytes.
  const r = c.r;
  const rspLo = r[2 * RSP], rspHi = r[2 * RSP + 1];
  const oldRsp = rspHi * TWO32 + (rspLo >>> 0);
  const stackSwitched = cpl === 3 || newCsl > oldCsl;
  let top: number;
  if (stackSwitched) {
    const rspN = readFredMsr(c, FRED_MSR.RSP0 + newCsl);
    top = rspN.hi * TWO32 + (rspN.lo >>> 0);
  } else {
    // (RSP − red zone) rounded down to 64: its low 6 bits are those of the low half's difference.
    const redZone = config.lo & CONFIG_RED_ZONE;
    top = oldRsp - redZone - ((rspLo - redZone) & 63);
  }
  const frame = top - 64;
  // UNCONFIRMED (§11.3): a non-canonical frame address raises #SS(0) as in Bochs (write_new_stack_qword).
  if (!isCanonical(frame) || !isCanonical(top - 1)) throw new CpuFault(SS_FAULT, 0, undefined, `FRED frame at a non-canonical stack address (RSP 0x${fromLinear(top).toString(16)})`);

  const type = ev.type, vector = ev.vector;
  const errorCode = ev.errorCode;
  const software = type >= SOFTWARE_INTERRUPT; // types 4–7 report their instruction length
  const seg = c.seg, cs = seg[CS];
  const csLo = csWordLow(cs.sel, oldCsl, false);
  const ssLo = ssWordLow(seg[SS].sel, c.blockingBySti /* STI bit: blocking by STI only, not by MOV SS (§3.5) */, type === SOFTWARE_INTERRUPT || type === OTHER_EVENT, type === NMI_EVENT);
  const ssHi = ssWordHigh(vector, type, false, (cs.attr & ATTR_L) !== 0 /* CS.L: LMA = 1 under FRED */, nested && !(type === HARDWARE_EXCEPTION && vector === 8), software ? ev.instructionLength : 0);
  const data = ev.eventData;
  const rip = ev.rip;
  const ripHi = Math.floor(rip / TWO32);
  const oldFlags = c.rflags;
  const at = fastFrameWords(c.m, frame);
  const f = at >= 0 ? c.m.words! : FRAME, o = at >= 0 ? at : 0;
  f[o] = errorCode === undefined ? 0 : errorCode; f[o + 1] = 0; // +0x00 error code
  f[o + 2] = rip - ripHi * TWO32; f[o + 3] = ripHi; // +0x08 RIP
  f[o + 4] = csLo; f[o + 5] = 0; // +0x10 CS word
  f[o + 6] = ev.setRf ? oldFlags | RF : oldFlags; f[o + 7] = 0; // +0x18 RFLAGS (faults other than #DB save RF = 1, §3.2)
  f[o + 8] = rspLo; f[o + 9] = rspHi; // +0x20 RSP
  f[o + 10] = ssLo; f[o + 11] = ssHi; // +0x28 SS word
  if (!data) f[o + 12] = f[o + 13] = 0; // +0x30 event data (0n: a ToBoolean test, no BigInt comparison)
  else { f[o + 12] = Number(BigInt.asIntN(32, data)); f[o + 13] = Number(BigInt.asIntN(32, data >> 32n)); }
  f[o + 14] = f[o + 15] = 0; // +0x38 reserved
  if (at < 0) writeFrame(c, frame); // a fault here leaves every register unchanged

  // Commit (§3.6).
  if (cpl === 3) enterFromUser(c);
  c.rip = entryRip;
  // RFLAGS = 2 (§3.6): written as the fields behind the rflags setter (flags, and no lazy record),
  // because the setter is a call here (V8 inlines only so much into deliverFred).
  c.flags = 0x2;
  c.F[OP] = LazyOp.None;
  c.setGprNumber(RSP, frame);
  if (newCsl !== csl) setCurrentStackLevel(c, newCsl);
  c.cpl = 0;
  if (type === NMI_EVENT) c.nmiBlocked = true;
  c.blockingBySti = c.blockingByMovSs = false; // §3.6: the interrupt shadow ends
  c.pendingDebug = DEBUG_TRAPS_DISCARDED; // §3.6: delivery discards the pending debug traps (TF, data breakpoints) of the instruction
  c.halted = false;
  if (cpl !== 0 || (oldFlags & AC) !== 0) c.syncPrivilege(); // CPL or RFLAGS.AC changed
  c.trace.delivery(c.icount, MECHANISM_FRED, type as EventType, vector, errorCode, data, nested, cpl, rip, oldRsp, oldCsl, newCsl, stackSwitched, frame, entryRip, injected);
}

/** Ring-3 event (§3.6): CS and SS from IA32_STAR[47:32] at DPL 0, and the GS swap. */
function enterFromUser(c: Cpu): void {
  const star = starSegments(c);
  c.seg[CS] = star.kernelCs;
  c.seg[SS] = star.kernelSs;
  swapGsBase(c);
}

/** GS.base ⇄ IA32_KERNEL_GS_BASE (ring-3 delivery and ERETU, §2.6). */
export function swapGsBase(c: Cpu): void {
  const kernel = readFredMsr(c, FRED_MSR.KERNEL_GS_BASE);
  const base = c.seg[GS].base, hi = Math.floor(base / TWO32), lo = (base - hi * TWO32) | 0;
  // The MSR already holds this value: no write, no new memo.
  if (lo !== kernel.lo || hi !== kernel.hi || !msrPresent(kernel)) writeFredMsr(c, FRED_MSR.KERNEL_GS_BASE, linearBig(base), { lo, hi });
  c.seg[GS].base = kernel.hi * TWO32 + (kernel.lo >>> 0); // in place, as SWAPGS does
}

export { currentStackLevel };

registerFredDelivery(deliverFred);
