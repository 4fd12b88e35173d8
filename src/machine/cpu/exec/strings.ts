// String instructions MOVS, STOS, LODS, SCAS, CMPS with REP/REPE/REPNE and RFLAGS.DF (SDM Vol. 2B
// "REP/REPE/REPZ/REPNE/REPNZ", Vol. 1 §7.3.9.1).
//
// A REP instruction is restartable: RCX, RSI and RDI are committed after every iteration, so a fault
// in iteration j leaves them describing the j completed iterations, with RIP at the instruction
// (prefixes included) for the handler to return to.
//
// Chunking and icount (the deterministic rule): every REP iteration counts as one instruction in
// icount (a REP that finds the count already 0 counts one). One execution of a REP instruction runs
// at most min(4096, the instructions the run loop still allows before the instruction limit or the
// next device event) iterations — just one when RFLAGS.TF is set (the single-step trap follows each
// iteration) or data breakpoints are armed (their #DB follows the iteration that hit). If iterations
// remain, RIP stays at the instruction and the run loop re-executes it, so interrupts, breakpoints,
// pause and the instruction limit get their chance between iterations as on hardware. Because the
// count is per iteration, how iterations are grouped into chunks never shows in registers, memory,
// icount or the trace. The block compiler runs a REP instruction as a one-instruction block.
//
// Fast path: a chunk of MOVS/STOS/SCAS/CMPS whose elements stay inside one source page and one
// destination page (translated once, with the same permission checks and A/D updates as per-element
// accesses) works on the physical bytes: typed-array copy/fill, or a compare loop that stops on the
// REPE/REPNE condition. LODS, and any chunk whose translation faults, goes element by element so
// faults arrive at the exact iteration.
import type { Cpu } from '../cpu';
import { Mnemonic, OperandKind, type DecodedInsn } from '../decode';
import { DF, TF, ZF } from '../flags';
import { CpuFault } from '../../events/fault';
import { ACCESS_READ, ACCESS_WRITE } from '../../memory/paging';
import { PAGE_SIZE } from '../../memory/physical';
import { maskOf, setStatus, writeGprSized } from './operands';
import { subFlags, type Helper } from './integer';

const RAX = 0, RCX = 1, RSI = 6, RDI = 7;
/** Most iterations one execution of a REP instruction performs before the run loop gets control. */
export const REP_CHUNK = 4096;

const enum Kind { Movs, Stos, Lods, Scas, Cmps }

interface StringOp {
  kind: Kind;
  /** Element size in bytes. */
  size: number;
  /** Address size (2, 4 or 8): RCX/RSI/RDI or ECX/ESI/EDI or CX/SI/DI. */
  as: number;
  /** Per-element displacement, negative with DF = 1. */
  step: number;
  /** Source segment (DS unless overridden); the destination is always ES. */
  srcSeg: number;
}

const M = Mnemonic;
const KINDS: [Kind, Mnemonic[]][] = [
  [Kind.Movs, [M.Movsb, M.Movsw, M.Movsd, M.Movsq]],
  [Kind.Stos, [M.Stosb, M.Stosw, M.Stosd, M.Stosq]],
  [Kind.Lods, [M.Lodsb, M.Lodsw, M.Lodsd, M.Lodsq]],
  [Kind.Scas, [M.Scasb, M.Scasw, M.Scasd, M.Scasq]],
  [Kind.Cmps, [M.Cmpsb, M.Cmpsw, M.Cmpsd, M.Cmpsq]],
];
const KIND_OF = new Map<Mnemonic, Kind>(KINDS.flatMap(([k, ms]) => ms.map((m) => [m, k] as [Mnemonic, Kind])));

function reg(c: Cpu, i: number, as: number): bigint {
  return c.gpr(i) & maskOf(as);
}

function linear(c: Cpu, seg: number, offset: bigint): number {
  const base = !c.long64 || seg === 4 || seg === 5 ? c.seg[seg].base : 0;
  return Number(BigInt.asIntN(64, offset)) + base;
}

function advance(c: Cpu, i: number, as: number, delta: number): void {
  writeGprSized(c, i, as, false, (c.gpr(i) + BigInt(delta)) & maskOf(as));
}

/** One iteration without the count (SDM Vol. 2B MOVS/STOS/LODS/SCAS/CMPS). */
function iteration(c: Cpu, op: StringOp): void {
  const { size, as, step, srcSeg } = op;
  switch (op.kind) {
    case Kind.Movs: {
      const v = c.m.readBig(linear(c, srcSeg, reg(c, RSI, as)), size);
      c.m.writeBig(linear(c, 0, reg(c, RDI, as)), size, v);
      advance(c, RSI, as, step);
      advance(c, RDI, as, step);
      return;
    }
    case Kind.Stos:
      c.m.writeBig(linear(c, 0, reg(c, RDI, as)), size, c.gpr(RAX) & maskOf(size));
      advance(c, RDI, as, step);
      return;
    case Kind.Lods:
      writeGprSized(c, RAX, size, false, c.m.readBig(linear(c, srcSeg, reg(c, RSI, as)), size));
      advance(c, RSI, as, step);
      return;
    case Kind.Scas: {
      const v = c.m.readBig(linear(c, 0, reg(c, RDI, as)), size);
      setStatus(c, subFlags(c.gpr(RAX) & maskOf(size), v, size));
      advance(c, RDI, as, step);
      return;
    }
    case Kind.Cmps: {
      const x = c.m.readBig(linear(c, srcSeg, reg(c, RSI, as)), size);
      const y = c.m.readBig(linear(c, 0, reg(c, RDI, as)), size);
      setStatus(c, subFlags(x, y, size));
      advance(c, RSI, as, step);
      advance(c, RDI, as, step);
    }
  }
}

/**
 * How many elements, starting at offset `off` (linear `lin`) and moving by `step`, stay inside one
 * page and inside the address-size range (no offset wrap-around).
 */
function elementsInPage(off: bigint, lin: number, op: StringOp): number {
  const { size, as } = op;
  const inPage = lin - Math.floor(lin / PAGE_SIZE) * PAGE_SIZE;
  if (inPage + size > PAGE_SIZE) return 0;
  const o = Number(off);
  if (op.step > 0) {
    const byPage = Math.floor((PAGE_SIZE - inPage) / size);
    return as === 8 ? byPage : Math.min(byPage, Math.floor((2 ** (8 * as) - o) / size));
  }
  const byPage = Math.floor(inPage / size) + 1;
  return as === 8 ? byPage : Math.min(byPage, Math.floor(o / size) + 1, o + size <= 2 ** (8 * as) ? Infinity : 0);
}

/** Physical address of the page holding `lin` for `kind`, or undefined when that access would fault or leaves RAM. */
function physicalPage(c: Cpu, lin: number, kind: number): number | undefined {
  let pa: number;
  try {
    pa = c.m.translate(lin, kind);
  } catch (e) {
    if (e instanceof CpuFault) return undefined; // the element path raises it at the exact iteration
    throw e;
  }
  return pa + (PAGE_SIZE - (pa % PAGE_SIZE)) <= c.m.mem.size ? pa : undefined;
}

/** Element of `size` bytes at physical `pa` as [low 32 bits, high 32 bits] (unsigned). */
function element(view: DataView, pa: number, size: number): [number, number] {
  if (size === 1) return [view.getUint8(pa), 0];
  if (size === 2) return [view.getUint16(pa, true), 0];
  if (size === 4) return [view.getUint32(pa, true), 0];
  return [view.getUint32(pa, true), view.getUint32(pa + 4, true)];
}

const big = ([lo, hi]: [number, number]) => (BigInt(hi) << 32n) | BigInt(lo);

/**
 * Up to `max` iterations inside one source and one destination page on the physical bytes
 * (REPE/REPNE compares stop on their condition), committing RCX/RSI/RDI and, for compares, the
 * flags of the last comparison. Returns the iterations done (0: take the element path).
 */
function fastChunk(c: Cpu, op: StringOp, max: number, rep: number): number {
  const { kind, size, as, step } = op;
  const m = c.m;
  if (kind === Kind.Lods || m.rNeed === 0 || m.wNeed === 0) return 0; // #AC checking or data breakpoints: element path
  const usesSource = kind === Kind.Movs || kind === Kind.Cmps;
  const di = reg(c, RDI, as);
  const dLin = linear(c, 0, di);
  let k = Math.min(max, elementsInPage(di, dLin, op));
  let si = 0n, sLin = 0;
  if (usesSource) {
    si = reg(c, RSI, as);
    sLin = linear(c, op.srcSeg, si);
    k = Math.min(k, elementsInPage(si, sLin, op));
  }
  if (k < 2) return 0;
  // Source first: each iteration reads before it writes.
  const sPa = usesSource ? physicalPage(c, sLin, ACCESS_READ) : 0;
  if (sPa === undefined) return 0;
  const dPa = physicalPage(c, dLin, kind === Kind.Movs || kind === Kind.Stos ? ACCESS_WRITE : ACCESS_READ);
  if (dPa === undefined) return 0;
  const bytes = m.bytes;
  const span = (k - 1) * size;
  const dLow = step > 0 ? dPa : dPa - span;
  if (kind === Kind.Stos) {
    m.mem.beforeWrite(Math.floor(dPa / PAGE_SIZE));
    const value = c.gpr(RAX);
    if (size === 1) bytes.fill(Number(value & 0xffn), dLow, dLow + k);
    else {
      for (let j = 0; j < size; j++) bytes[dLow + j] = Number((value >> BigInt(8 * j)) & 0xffn);
      for (let j = 1; j < k; j++) bytes.copyWithin(dLow + j * size, dLow, dLow + size);
    }
  } else if (kind === Kind.Movs) {
    m.mem.beforeWrite(Math.floor(dPa / PAGE_SIZE));
    const sLow = step > 0 ? sPa : sPa - span;
    const length = k * size;
    // Sequential element order differs from memmove only when the destination overlaps the part of
    // the source not yet read (ahead in the direction of travel).
    const clobbers = step > 0 ? dLow > sLow && dLow < sLow + length : dLow < sLow && dLow + length > sLow;
    if (!clobbers) bytes.copyWithin(dLow, sLow, sLow + length);
    else for (let j = 0; j < k; j++) bytes.copyWithin(dPa + j * step, sPa + j * step, sPa + j * step + size);
  } else {
    // SCAS compares rAX with ES:[rDI], CMPS DS:[rSI] with ES:[rDI]; REPE stops on a difference, REPNE on equality.
    const view = m.view;
    const acc = c.gpr(RAX) & maskOf(size);
    const a: [number, number] = [Number(acc & 0xffffffffn), Number(acc >> 32n)];
    let x = a, y = a;
    for (let j = 0; j < k; j++) {
      x = usesSource ? element(view, sPa + j * step, size) : a;
      y = element(view, dPa + j * step, size);
      const equal = x[0] === y[0] && x[1] === y[1];
      if (equal !== (rep === 1)) { k = j + 1; break; }
    }
    setStatus(c, subFlags(big(x), big(y), size));
  }
  if (usesSource) writeGprSized(c, RSI, as, false, (si + BigInt(k * step)) & maskOf(as));
  writeGprSized(c, RDI, as, false, (di + BigInt(k * step)) & maskOf(as));
  writeGprSized(c, RCX, as, false, (reg(c, RCX, as) - BigInt(k)) & maskOf(as));
  return k;
}

function strings(c: Cpu, d: DecodedInsn): void {
  const kind = KIND_OF.get(d.mnemonic)!;
  const size = d.ops.find((op) => op.size)?.size ?? 1;
  const op: StringOp = { kind, size, as: d.addrSize, step: c.rflags & DF ? -size : size, srcSeg: d.seg };
  if (!d.rep) return iteration(c, op);
  const compares = kind === Kind.Scas || kind === Kind.Cmps;
  const max = (c.rflags & TF) !== 0 || c.m.watch.length > 0 ? 1 : Math.max(1, Math.min(REP_CHUNK, c.budget));
  let done = 0, finished = false;
  try {
    for (;;) {
      const count = reg(c, RCX, op.as);
      if (count === 0n) { finished = true; break; }
      if (done >= max) break;
      const fast = fastChunk(c, op, Math.min(max - done, Number(count)), d.rep);
      if (fast) {
        done += fast;
        if (compares && (c.rflags & ZF ? d.rep === 2 : d.rep === 1)) { finished = true; break; }
        continue;
      }
      iteration(c, op);
      advance(c, RCX, op.as, -1);
      done++;
      if (compares) {
        const zf = (c.rflags & ZF) !== 0;
        if ((d.rep === 1 && !zf) || (d.rep === 2 && zf)) { finished = true; break; }
      }
    }
  } catch (e) {
    c.icount += done; // the completed iterations retired; the faulting one did not
    throw e;
  }
  // The block counts one instruction; the other completed iterations are counted here.
  c.icount += Math.max(done, 1) - 1;
  c.rip = finished ? d.next : d.rip;
}

/** REP-prefixed string instructions run as one-instruction blocks (the helper sets RIP). */
export function isRepString(d: DecodedInsn): boolean {
  return d.rep !== 0 && KIND_OF.has(d.mnemonic) && d.ops.every((op) => op.kind === OperandKind.Other || op.kind === OperandKind.Gpr);
}

export const STRING_HELPERS: Partial<Record<Mnemonic, Helper>> = Object.fromEntries(
  [...KIND_OF.keys()].map((m) => [m, strings]),
);
