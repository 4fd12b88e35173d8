// FRED state kept in MSRs (fred-architecture.md §2): the MSR indices come from the one table in
// src/arch; the current stack level lives in IA32_FRED_CONFIG[1:0] (§2.2). MSR values are bigints in
// the CPU's MSR map; delivery and ERETx read them as signed 32-bit halves. The conversion is cached
// per MSR by value (bigints compare by value), so a hot delivery loop does no bigint arithmetic.
import { msrByName } from '../../arch/index';
import type { Cpu } from '../cpu/cpu';

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
const cache = new Map<number, { value: bigint; halves: Halves }>();

export function halvesOf(value: bigint): Halves {
  return { lo: Number(BigInt.asIntN(32, value)), hi: Number(BigInt.asIntN(32, value >> 32n)) };
}

export function readFredMsr(c: Cpu, msr: number): Halves {
  const value = c.msr.get(msr);
  if (value === undefined) return ZERO;
  const hit = cache.get(msr);
  if (hit !== undefined && hit.value === value) return hit.halves;
  const halves = halvesOf(value);
  cache.set(msr, { value, halves });
  return halves;
}

/** CSL = IA32_FRED_CONFIG[1:0]. */
export function currentStackLevel(c: Cpu): number {
  return readFredMsr(c, FRED_MSR.CONFIG).lo & 3;
}

/** Event delivery and ERETS keep the CSL in IA32_FRED_CONFIG[1:0] (§2.2; SDM ERETS "reflect in CONFIG[1:0]"). */
export function setCurrentStackLevel(c: Cpu, csl: number): void {
  const config = c.msr.get(FRED_MSR.CONFIG) ?? 0n;
  if (Number(config & 3n) !== csl) c.msr.set(FRED_MSR.CONFIG, (config & ~3n) | BigInt(csl));
}
