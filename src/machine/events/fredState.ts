// FRED state kept in MSRs (fred-architecture.md §2): the MSR indices come from the one table in
// src/arch; the current stack level lives in IA32_FRED_CONFIG[1:0] (§2.2). MSR values are bigints in
// the CPU's MSR map; delivery and ERETx read them as signed 32-bit halves. The conversion is cached
// per MSR by value (bigints compare by value), so a hot delivery loop does no bigint arithmetic.
import { msrByName } from '../../arch/index';
import type { Cpu } from '../cpu/cpu';
import { flatCode, flatData } from '../cpu/segments';
import type { Segment } from '../cpu/state';

function index(name: string): number {
  const def = msrByName(name);
  if (!def) throw new Error(`src/arch/msr.ts has no ${name}`);
  return def.index;
}

export const FRED_MSR = {
  RSP0: index('IA32_FRED_RSP0'),
  STKLVLS: index('IA32_FRED_STKLVLS'),
  SSP1: index('IA32_FRED_SSP1'),
  CONFIG: index('IA32_FRED_CONFIG'),
  PL0_SSP: index('IA32_PL0_SSP'),
  STAR: index('IA32_STAR'),
  KERNEL_GS_BASE: index('IA32_KERNEL_GS_BASE'),
} as const;

/** A 64-bit MSR value as signed 32-bit halves (`hi * 2^32 + (lo >>> 0)` is the signed value). */
export interface Halves {
  readonly lo: number;
  readonly hi: number;
}

const ZERO: Halves = { lo: 0, hi: 0 };

/** Did readFredMsr find the MSR in the map (not the implicit 0 of an MSR never written)? */
export function msrPresent(halves: Halves): boolean {
  return halves !== ZERO;
}

export function halvesOf(value: bigint): Halves {
  return { lo: Number(BigInt.asIntN(32, value)), hi: Number(BigInt.asIntN(32, value >> 32n)) };
}

/**
 * An MSR as halves, memoized in the CPU's MSR map until the next write of that MSR (the MSRs read
 * here — 0x1CC–0x1D4, 0x6A4, 0xC0000081, 0xC0000102 — differ in the low byte of the index).
 */
export function readFredMsr(c: Cpu, msr: number): Halves {
  const map = c.msr;
  const slot = msr & 0xff;
  if (map.memoIndex[slot] === msr) return map.memo[slot] as Halves;
  const value = map.get(msr);
  const halves = value === undefined ? ZERO : halvesOf(value);
  map.memoIndex[slot] = msr;
  map.memo[slot] = halves;
  return halves;
}

/** Write an MSR whose halves are already known (GS.base swaps on every ring change). */
export function writeFredMsr(c: Cpu, msr: number, value: bigint, halves: Halves): void {
  const map = c.msr;
  map.set(msr, value);
  map.memoIndex[msr & 0xff] = msr;
  map.memo[msr & 0xff] = halves;
}

/** CR4.FRED (bit 32), kept by the CPU state with CR4 (no bigint operation). */
export function fredEnabled(c: Cpu): boolean {
  return c.fredEnabled;
}

/** CSL = IA32_FRED_CONFIG[1:0]. */
export function currentStackLevel(c: Cpu): number {
  return readFredMsr(c, FRED_MSR.CONFIG).lo & 3;
}

/** Event delivery and ERETS keep the CSL in IA32_FRED_CONFIG[1:0] (§2.2; SDM ERETS "reflect in CONFIG[1:0]"). */
export function setCurrentStackLevel(c: Cpu, csl: number): void {
  if ((readFredMsr(c, FRED_MSR.CONFIG).lo & 3) === csl) return;
  const config = c.msr.get(FRED_MSR.CONFIG) ?? 0n;
  c.msr.set(FRED_MSR.CONFIG, (config & ~3n) | BigInt(csl));
}

export { linearBig } from '../trace';

/**
 * A flat segment FRED loads (ring-3 delivery: STAR selectors at DPL 0; ERETU fast paths: DPL 3), frozen:
 * starSegments shares it between ring changes (and CPUs with the same STAR), so nobody may edit it.
 */
function flatSegment(kind: 'code64' | 'code32' | 'data', sel: number, dpl: number): Segment {
  return Object.freeze(kind === 'data' ? flatData(sel, dpl) : flatCode(sel, dpl, kind === 'code64'));
}

/** The flat segments of FRED's ring changes, derived from one IA32_STAR value. */
export interface StarSegments {
  /** The STAR halves they were derived from (the memo is valid while readFredMsr returns this object). */
  readonly star: Halves;
  /** Ring-3 event delivery: CS = STAR[47:32], SS = STAR[47:32] + 8, DPL 0 (§3.6). */
  readonly kernelCs: Segment;
  readonly kernelSs: Segment;
  /** ERETU's fast paths: STAR[63:48] (+16: 64-bit CS, +0: compatibility-mode CS, +8: SS), DPL 3 (§4.3). */
  readonly userBase: number;
  readonly userCs64: Segment;
  readonly userCs32: Segment;
  readonly userSs: Segment;
}

let starMemo: StarSegments | undefined;

/**
 * The segments of every ring change for the current IA32_STAR, remembered until STAR changes (a new
 * halves object from readFredMsr): delivery from ring 3 and ERETU then load two references.
 */
export function starSegments(c: Cpu): StarSegments {
  const star = readFredMsr(c, FRED_MSR.STAR);
  const memo = starMemo;
  if (memo !== undefined && memo.star === star) return memo;
  const kernel = star.hi & 0xffff, user = (star.hi >>> 16) & 0xffff;
  starMemo = {
    star,
    kernelCs: flatSegment('code64', kernel & 0xfffc, 0),
    kernelSs: flatSegment('data', (kernel + 8) & 0xfffc, 0),
    userBase: user,
    userCs64: flatSegment('code64', (user + 16) & 0xffff, 3),
    userCs32: flatSegment('code32', user, 3),
    userSs: flatSegment('data', (user + 8) & 0xffff, 3),
  };
  return starMemo;
}
