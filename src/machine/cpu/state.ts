// Architectural register state of the CPU (SDM Vol. 1 §3.4, Vol. 3A §2). General-purpose registers
// are held as 32-bit halves in one Int32Array (r[2i] = low half, r[2i+1] = high half): the
// representation the measurements in docs/machine.md chose. Linear addresses, RIP and segment bases
// are JS numbers holding the signed canonical value (exact: |x| < 2^47).
import { LazyOp, OP, STATUS, lazyCarry, lazyStatus, testCondition } from './flags';

/** Segment register in the VMX access-rights layout (SDM Vol. 3C §25.4.1 Table 25-2). */
export interface Segment {
  sel: number;
  base: number;
  limit: number;
  /** type[3:0] S[4] DPL[6:5] P[7] AVL[12] L[13] D/B[14] G[15]; bit 16 = unusable. */
  attr: number;
}

export const ES = 0, CS = 1, SS = 2, DS = 3, FS = 4, GS = 5;
export const SEGMENT_NAMES = ['es', 'cs', 'ss', 'ds', 'fs', 'gs'] as const;
export const ATTR_L = 1 << 13, ATTR_DB = 1 << 14, ATTR_P = 1 << 7, ATTR_UNUSABLE = 1 << 16;

export const GPR_NAMES = ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'] as const;
export const RSP = 4;

export interface TableRegister {
  base: number;
  limit: number;
}

export function nullSegment(): Segment {
  return { sel: 0, base: 0, limit: 0, attr: ATTR_UNUSABLE };
}

/**
 * The MSR map, with one memo slot per low byte of the index that every write of that index drops:
 * FRED delivery and ERETx read the same MSRs on every event and keep their 32-bit halves here
 * (events/fredState.ts), so a round trip does no bigint arithmetic and no Map lookup.
 */
export class MsrMap extends Map<number, bigint> {
  /** memoIndex[i & 0xff] = the MSR index whose memo is valid in that slot (-1: none). */
  readonly memoIndex = new Float64Array(256).fill(-1);
  readonly memo: unknown[] = new Array<unknown>(256).fill(undefined);

  override set(index: number, value: bigint): this {
    super.set(index, value);
    // Map's constructor may call set before the fields exist; nothing is memoized then.
    if (this.memoIndex) this.memoIndex[index & 0xff] = -1;
    return this;
  }

  override delete(index: number): boolean {
    this.memoIndex[index & 0xff] = -1;
    return super.delete(index);
  }

  override clear(): void {
    this.memoIndex.fill(-1);
    super.clear();
  }
}

export class CpuState {
  /** GPRs as halves: r[2i] low 32 bits, r[2i+1] high 32 bits. */
  readonly r = new Int32Array(32);
  /** Lazy flags record (flags.ts). */
  readonly F = new Int32Array(9);
  rip = 0;
  /** RFLAGS; its status bits are stale while F[OP] !== None. */
  flags = 0x2;
  cpl = 0;
  readonly seg: Segment[] = [0, 1, 2, 3, 4, 5].map(nullSegment);
  ldtr: Segment = nullSegment();
  tr: Segment = nullSegment();
  gdtr: TableRegister = { base: 0, limit: 0xffff };
  idtr: TableRegister = { base: 0, limit: 0xffff };
  private cr0Value = 0n;
  /** CR0.AM (bit 18), kept with CR0: the MMU privilege is re-derived on every ring change. */
  private am = false;
  cr2 = 0n;
  cr3 = 0n;
  private cr4Value = 0n;
  /** CR4.FRED (bit 32), kept with CR4: every event delivery and ERETx tests it. */
  private fred = false;
  cr8 = 0n;
  readonly dr = [0n, 0n, 0n, 0n, 0n, 0n, 0xffff0ff0n, 0x400n];
  private eferValue = 0n;
  /** IA32_EFER.LMA, kept with EFER: the run loop asks for the mode on every block. */
  private lma = false;
  /** MSRs without a dedicated field (STAR, LSTAR, FRED MSRs, …) by index. */
  readonly msr = new MsrMap();
  /**
   * Blocking by STI (SDM Vol. 3C §25.4.2, interruptibility state bit 0): STI with IF = 0 holds
   * interrupts until the next instruction completes (SDM Vol. 2B STI). The FRED frame's STI bit and
   * ERETS re-establish only this blocking (fred-architecture.md §3.5, §4.2).
   */
  blockingBySti = false;
  /**
   * Blocking by MOV SS (bit 1): MOV SS / POP SS hold interrupts, debug exceptions and single-step
   * traps until the boundary after the next instruction (SDM Vol. 3A §6.8.3).
   */
  blockingByMovSs = false;
  /** #DB trap bits (DR6 B0–B3, BS) of a MOV SS / POP SS, held until the next instruction completes (§6.8.3). */
  heldDebugTraps = 0;
  nmiBlocked = false;
  /** Instructions retired. */
  icount = 0;

  /** The interrupt shadow: either blocking. */
  get shadow(): boolean {
    return this.blockingBySti || this.blockingByMovSs;
  }

  get cr0(): bigint {
    return this.cr0Value;
  }

  set cr0(value: bigint) {
    this.cr0Value = value;
    this.am = (value & (1n << 18n)) !== 0n;
  }

  /** CR0.AM = 1 (alignment checks possible, SDM Vol. 3A §2.5). */
  get alignmentMask(): boolean {
    return this.am;
  }

  get cr4(): bigint {
    return this.cr4Value;
  }

  set cr4(value: bigint) {
    this.cr4Value = value;
    this.fred = ((value >> 32n) & 1n) === 1n;
  }

  /** CR4.FRED = 1 (fred-architecture.md §1.2). */
  get fredEnabled(): boolean {
    return this.fred;
  }

  get efer(): bigint {
    return this.eferValue;
  }

  set efer(value: bigint) {
    this.eferValue = value;
    this.lma = (value & 0x400n) !== 0n;
  }

  get rflags(): number {
    return this.F[OP] === LazyOp.None ? this.flags : (this.flags & ~STATUS) | lazyStatus(this.F);
  }

  set rflags(value: number) {
    this.flags = (value & 0x3f7fd7) | 0x2;
    this.F[OP] = LazyOp.None;
  }

  /** Condition code `cc` (Jcc order) against the current flags. */
  condition(cc: number): boolean {
    return testCondition(this.rflags, cc);
  }

  /** CF of a lazy record given as values (flags.ts lazyCarry; generated code calls it with its locals). */
  lazyCarry(op: number, rl: number, rh: number, al: number, ah: number, bl: number, bh: number, carryIn: number): number {
    return lazyCarry(op, rl, rh, al, ah, bl, bh, carryIn);
  }

  /**
   * Exact 64-bit wrap of an effective address whose fast double sum left the canonical range:
   * `hi` is the (unwrapped) sum of high halves, `lo` of low halves plus displacement and base.
   */
  wrapAddress(hi: number, lo: number): number {
    const carry = Math.floor(lo / 4294967296);
    return ((hi + carry) | 0) * 4294967296 + (lo - carry * 4294967296);
  }

  /** Make `flags` hold the status bits (before code that edits individual flags). */
  materialize(): void {
    if (this.F[OP] !== LazyOp.None) this.rflags = this.rflags;
  }

  gpr(i: number): bigint {
    return (BigInt(this.r[2 * i + 1] >>> 0) << 32n) | BigInt(this.r[2 * i] >>> 0);
  }

  setGpr(i: number, value: bigint): void {
    this.r[2 * i] = Number(BigInt.asIntN(32, value));
    this.r[2 * i + 1] = Number(BigInt.asIntN(32, value >> 32n));
  }

  /** 64-bit register value as a (possibly inexact for huge values) number; exact for addresses. */
  gprNumber(i: number): number {
    return this.r[2 * i + 1] * 4294967296 + (this.r[2 * i] >>> 0);
  }

  setGprNumber(i: number, value: number): void {
    const hi = Math.floor(value / 4294967296);
    this.r[2 * i] = (value - hi * 4294967296) | 0;
    this.r[2 * i + 1] = hi | 0;
  }

  /** IA32_EFER.LMA. */
  get lma64(): boolean {
    return this.lma;
  }

  /** Key distinguishing code translations: mode (64-bit, CS.D) and privilege. Reads fields, not getters: the run loop asks for it per block. */
  get modeKey(): number {
    const attr = this.seg[CS].attr;
    return ((attr & ATTR_L) !== 0 && this.lma ? 1 : 0) | (this.cpl << 1) | ((attr >> 14) & 1) << 3;
  }

  /** 64-bit mode: IA32_EFER.LMA and CS.L (SDM Vol. 3A §5.2.1). */
  get long64(): boolean {
    return (this.seg[CS].attr & ATTR_L) !== 0 && this.lma;
  }
}


/** Signed canonical value of a 64-bit bigint as a number (exact for canonical addresses). */
export function toLinear(value: bigint): number {
  return Number(BigInt.asIntN(64, value));
}

export function fromLinear(value: number): bigint {
  return BigInt.asUintN(64, BigInt(value));
}

export const CANONICAL_LIMIT = 140737488355328; // 2^47

export function isCanonical(lin: number): boolean {
  return lin >= -CANONICAL_LIMIT && lin < CANONICAL_LIMIT;
}
