// Linear-address accesses: the TLB, the fast paths the compiled code calls, and the slow path that
// walks the page tables, checks canonicality, alignment (#AC) and data breakpoints (SDM Vol. 3A §4.10
// for the TLB rules: INVLPG, CR3 loads keep global entries when CR4.PGE = 1).
import { CpuFault, GP, SS } from '../events/fault';
import { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, walk, type GuestPhysicalTranslator, type PagingControls } from './paging';
import { PAGE_SIZE, type PhysicalMemory } from './physical';

const TLB_SIZE = 1024;
const TLB_MASK = TLB_SIZE - 1;
/** Permission bits of a TLB entry: 1 << (kind + 3 * user). */
const R_SUP = 1, W_SUP = 2, X_SUP = 4, R_USR = 8, W_USR = 16, X_USR = 32;
const CANON = 140737488355328;

/** A data-breakpoint hit found during an access (DR0–DR3), reported as #DB after the instruction. */
export interface WatchPoint {
  index: number;
  address: number;
  length: number;
  /** 1 = writes, 3 = reads or writes (DR7 R/W encodings). */
  rw: number;
}

/** A debugger data breakpoint (src/debug): a write overlapping it stops the run after the instruction (no DR6 bits, no #DB). */
export interface DebugWatch {
  address: number;
  length: number;
}

const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export class Mmu {
  readonly tag = new Float64Array(TLB_SIZE).fill(NaN);
  /** Physical frame addresses (RAM is at most 256 MiB, so int32 holds them; entries outside RAM have no permissions). */
  readonly frame = new Int32Array(TLB_SIZE);
  readonly perm = new Uint8Array(TLB_SIZE);
  readonly global = new Uint8Array(TLB_SIZE);
  private largeCached = false;
  /** Permission bits the current privilege needs; 0 forces every access onto the slow path. */
  rNeed = R_SUP;
  wNeed = W_SUP;
  xNeed = X_SUP;
  /** CPL 3 for explicit accesses; implicit supervisor accesses clear it temporarily. */
  user = false;
  alignmentCheck = false;
  acFlag = false;
  watch: WatchPoint[] = [];
  /** DR6 B0–B3 bits hit by data breakpoints since the last instruction boundary. */
  watchHits = 0;
  /** Debugger data breakpoints; while any is set every access takes the slow path. */
  debugWatch: DebugWatch[] = [];
  /** The first write of the current instruction that hit a debugger data breakpoint (the machine resets it). */
  debugWatchHit: { address: number; size: number } | undefined = undefined;
  ctl: PagingControls = { cr3: 0, wp: true, nxe: true, smep: false, smap: false };
  /** EPT under the VMX monitor (guest-physical → host-physical); undefined on bare metal. */
  ept: GuestPhysicalTranslator | undefined = undefined;
  /** Set when a write hit a page with code on it (the running block must end). */
  codeWritten = false;
  readonly bytes: Uint8Array;
  readonly view: DataView;

  /**
   * RAM as 32-bit words (the same bytes little-endian DataView accesses give), or undefined on a
   * big-endian host or unaligned RAM: FRED delivery and ERETx copy their 64-byte frames through it.
   */
  readonly words: Int32Array | undefined;

  constructor(readonly mem: PhysicalMemory) {
    this.bytes = mem.bytes;
    this.view = mem.view;
    this.words = LITTLE_ENDIAN_HOST && this.bytes.byteOffset % 4 === 0 ? new Int32Array(this.bytes.buffer, this.bytes.byteOffset, this.bytes.length >> 2) : undefined;
    mem.onWriteProtect = () => this.dropWritePermissions();
    const previous = mem.onCodeWrite;
    mem.onCodeWrite = (page) => {
      this.codeWritten = true;
      previous(page);
    };
  }

  /** Recompute the fast-path permission masks after a change of CPL, AC, CR0.AM or breakpoints. */
  setPrivilege(user: boolean, alignmentCheck: boolean, acFlag: boolean): void {
    this.user = user;
    this.alignmentCheck = alignmentCheck;
    this.acFlag = acFlag;
    const slow = alignmentCheck || this.watch.length > 0 || this.debugWatch.length > 0;
    this.rNeed = slow ? 0 : user ? R_USR : R_SUP;
    this.wNeed = slow ? 0 : user ? W_USR : W_SUP;
    this.xNeed = user ? X_USR : X_SUP;
  }

  flush(keepGlobal = false): void {
    for (let i = 0; i < TLB_SIZE; i++) if (!keepGlobal || !this.global[i]) this.tag[i] = NaN;
    if (!keepGlobal) this.largeCached = false;
  }

  /** INVLPG: the entries for the page containing `lin` (all entries if large pages are cached). */
  invalidate(lin: number): void {
    if (this.largeCached) return this.flush();
    const v = Math.floor(lin / PAGE_SIZE);
    const i = v & TLB_MASK;
    if (this.tag[i] === v) this.tag[i] = NaN;
  }

  dropWritePermissions(): void {
    for (let i = 0; i < TLB_SIZE; i++) this.perm[i] &= ~(W_SUP | W_USR);
  }

  // ---- fast paths (called from compiled code) ----

  rd8(a: number): number {
    const v = Math.floor(a / PAGE_SIZE), i = v & TLB_MASK;
    if (this.tag[i] === v && (this.perm[i] & this.rNeed) !== 0) return this.bytes[this.frame[i] + a - v * PAGE_SIZE];
    return this.slowRead(a, 1);
  }

  rd16(a: number): number {
    const v = Math.floor(a / PAGE_SIZE), i = v & TLB_MASK, o = a - v * PAGE_SIZE;
    if (this.tag[i] === v && (this.perm[i] & this.rNeed) !== 0 && o <= PAGE_SIZE - 2) return this.view.getUint16(this.frame[i] + o, true);
    return this.slowRead(a, 2);
  }

  /** 32-bit read, returned as a signed int32. */
  rd32(a: number): number {
    const v = Math.floor(a / PAGE_SIZE), i = v & TLB_MASK, o = a - v * PAGE_SIZE;
    if (this.tag[i] === v && (this.perm[i] & this.rNeed) !== 0 && o <= PAGE_SIZE - 4) return this.view.getInt32(this.frame[i] + o, true);
    return this.slowRead(a, 4) | 0;
  }

  /** High half of the last rd64q. */
  hi = 0;

  /** 64-bit read: returns the low half, leaves the high half in `hi` (one TLB lookup). */
  rd64q(a: number): number {
    const v = Math.floor(a / PAGE_SIZE), i = v & TLB_MASK, o = a - v * PAGE_SIZE;
    if (this.tag[i] === v && (this.perm[i] & this.rNeed) !== 0 && o <= PAGE_SIZE - 8) {
      const p = this.frame[i] + o;
      this.hi = this.view.getInt32(p + 4, true);
      return this.view.getInt32(p, true);
    }
    const lo = this.rd32(a);
    this.hi = this.rd32(a + 4);
    return lo;
  }

  wr8(a: number, value: number): void {
    const v = Math.floor(a / PAGE_SIZE), i = v & TLB_MASK;
    if (this.tag[i] === v && (this.perm[i] & this.wNeed) !== 0) this.bytes[this.frame[i] + a - v * PAGE_SIZE] = value;
    else this.slowWrite(a, 1, value, 0);
  }

  wr16(a: number, value: number): void {
    const v = Math.floor(a / PAGE_SIZE), i = v & TLB_MASK, o = a - v * PAGE_SIZE;
    if (this.tag[i] === v && (this.perm[i] & this.wNeed) !== 0 && o <= PAGE_SIZE - 2) this.view.setUint16(this.frame[i] + o, value, true);
    else this.slowWrite(a, 2, value, 0);
  }

  wr32(a: number, value: number): void {
    const v = Math.floor(a / PAGE_SIZE), i = v & TLB_MASK, o = a - v * PAGE_SIZE;
    if (this.tag[i] === v && (this.perm[i] & this.wNeed) !== 0 && o <= PAGE_SIZE - 4) this.view.setInt32(this.frame[i] + o, value, true);
    else this.slowWrite(a, 4, value, 0);
  }

  wr64(a: number, lo: number, hi: number): void {
    const v = Math.floor(a / PAGE_SIZE), i = v & TLB_MASK, o = a - v * PAGE_SIZE;
    if (this.tag[i] === v && (this.perm[i] & this.wNeed) !== 0 && o <= PAGE_SIZE - 8) {
      const p = this.frame[i] + o;
      this.view.setInt32(p, lo, true);
      this.view.setInt32(p + 4, hi, true);
    } else this.slowWrite(a, 8, lo, hi);
  }

  // ---- slow paths ----

  /** Physical address for an access of `kind` at `lin` (one page), filling the TLB. */
  translate(lin: number, kind: number): number {
    if (!(lin >= -CANON && lin < CANON)) throw new CpuFault(GP, 0, undefined, `non-canonical address 0x${lin.toString(16)}`);
    const v = Math.floor(lin / PAGE_SIZE), i = v & TLB_MASK;
    const need = 1 << (kind + (this.user ? 3 : 0));
    if (this.tag[i] === v && (this.perm[i] & need) !== 0) return this.frame[i] + lin - v * PAGE_SIZE;
    const smapAllowed = this.acFlag && !this.implicit;
    const t = walk(this.mem, this.ctl, { lin, kind, user: this.user }, smapAllowed, true, this.ept);
    let eptDeny = 0;
    if (this.ept !== undefined) {
      // The TLB caches the combined translation: EPT permissions narrow the guest's (SDM §29.4.1).
      t.frame = this.ept.translate(t.frame, kind, lin, true);
      const allowed = this.ept.lastPermissions;
      eptDeny = (allowed & 1 ? 0 : R_SUP | R_USR) | (allowed & 2 ? 0 : W_SUP | W_USR) | (allowed & 4 ? 0 : X_SUP | X_USR);
    }
    const page = Math.floor(t.frame / PAGE_SIZE);
    const inRam = t.frame + PAGE_SIZE <= this.mem.size;
    const fastWrite = t.dirty && this.mem.fastWritable(page);
    let perm = 0;
    if (inRam) {
      if (!(this.ctl.smap && t.user)) perm |= R_SUP;
      if (!(this.ctl.smap && t.user) && (t.writable || !this.ctl.wp) && fastWrite) perm |= W_SUP;
      if (t.executable && !(this.ctl.smep && t.user)) perm |= X_SUP;
      if (t.user) perm |= R_USR | (t.writable && fastWrite ? W_USR : 0) | (t.executable ? X_USR : 0);
    }
    this.tag[i] = v;
    this.frame[i] = t.frame;
    this.perm[i] = perm & ~eptDeny;
    this.global[i] = t.global ? 1 : 0;
    if (t.large) this.largeCached = true;
    return t.frame + lin - v * PAGE_SIZE;
  }

  /** Implicit supervisor access in progress (descriptor tables, delivery frames): SMAP ignores AC. */
  implicit = false;

  private checkAccess(a: number, size: number, kind: number): void {
    if (this.alignmentCheck && this.user && (a & (size - 1)) !== 0 && !this.implicit) {
      throw new CpuFault(17, 0, undefined, `unaligned ${size}-byte access at 0x${a.toString(16)}`);
    }
    for (const w of this.watch) {
      if ((kind === ACCESS_WRITE || w.rw === 3) && a < w.address + w.length && w.address < a + size) this.watchHits |= 1 << w.index;
    }
  }

  slowRead(a: number, size: number): number {
    this.checkAccess(a, size, ACCESS_READ);
    let value = 0;
    for (let k = 0; k < size; k++) {
      const pa = this.translate(a + k, ACCESS_READ);
      value += this.mem.read8(pa) * 2 ** (8 * k);
    }
    return value;
  }

  slowWrite(a: number, size: number, lo: number, hi: number): void {
    this.checkAccess(a, size, ACCESS_WRITE);
    // Translate every byte first: a fault on the second page must leave memory unchanged.
    const pas: number[] = [];
    for (let k = 0; k < size; k++) pas.push(this.translate(a + k, ACCESS_WRITE));
    for (let k = 0; k < size; k++) {
      const byte = k < 4 ? (lo >>> (8 * k)) & 0xff : (hi >>> (8 * (k - 4))) & 0xff;
      this.mem.write8(pas[k], byte);
    }
    if (this.debugWatch.length !== 0 && this.debugWatchHit === undefined && this.debugWatch.some((w) => a < w.address + w.length && w.address < a + size)) {
      this.debugWatchHit = { address: a, size };
    }
  }

  /** Instruction fetch of `length` bytes (decoder): checks execute permission page by page. */
  fetch(lin: number, length: number): Uint8Array {
    const out = new Uint8Array(length);
    for (let k = 0; k < length; k++) out[k] = this.mem.read8(this.translate(lin + k, ACCESS_EXEC));
    return out;
  }

  /** 64-bit read as halves into `out` (used by helpers). */
  rd64(a: number, out: Int32Array, at: number): void {
    out[at] = this.rd32(a);
    out[at + 1] = this.rd32(a + 4);
  }

  readBig(a: number, size: number): bigint {
    if (size === 8) return (BigInt(this.rd32(a + 4)) << 32n) | BigInt(this.rd32(a) >>> 0);
    return BigInt(size === 4 ? this.rd32(a) >>> 0 : size === 2 ? this.rd16(a) : this.rd8(a));
  }

  writeBig(a: number, size: number, value: bigint): void {
    const lo = Number(BigInt.asIntN(32, value));
    if (size === 8) this.wr64(a, lo, Number(BigInt.asIntN(32, value >> 32n)));
    else if (size === 4) this.wr32(a, lo);
    else if (size === 2) this.wr16(a, lo & 0xffff);
    else this.wr8(a, lo & 0xff);
  }

  /** Run `body` as implicit supervisor accesses (SDM Vol. 3A §4.6: descriptor tables, TSS, delivery). */
  supervisor<T>(body: () => T): T {
    const saved = [this.user, this.rNeed, this.wNeed, this.implicit] as const;
    this.user = false;
    this.implicit = true;
    this.rNeed = this.alignmentCheck || this.watch.length || this.debugWatch.length ? 0 : R_SUP;
    this.wNeed = this.rNeed ? W_SUP : 0;
    try {
      return body();
    } finally {
      [this.user, this.rNeed, this.wNeed, this.implicit] = saved;
    }
  }
}

export { ACCESS_EXEC, ACCESS_READ, ACCESS_WRITE, SS };
