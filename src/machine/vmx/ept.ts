// Extended page tables (SDM Vol. 3C §29.3): the monitor's 4-level EPT in host memory the guest cannot
// reach (a buffer of its own, at the host-physical addresses of MONITOR_MEMORY, never part of guest
// RAM). Guest RAM is mapped identity with 4 KiB pages and R/W/X permissions, either all before the
// first VM entry ("eager") or one page on its first EPT violation ("lazy", as KVM faults pages in).
// The MMU calls `translate` for every guest-physical address it uses, the paging-structure entries of
// the guest's own walk included; a violation throws VmExit(48) with the SDM's qualification
// (vmx-fred.md §3.10: access, the translation's permissions, guest-linear valid, final translation vs.
// paging-structure access), GUEST_PHYSICAL_ADDRESS and GUEST_LINEAR_ADDRESS.
import { EPT_ENTRY_BITS, EPT_VIOLATION_QUALIFICATION, EPTP_BITS, fieldMasks } from '../../arch/index';
import { PAGE_SIZE } from '../memory/physical';
import { MONITOR_MEMORY } from './controls';
import { EXIT, VmExit } from './exitSignal';

const Q = fieldMasks(EPT_VIOLATION_QUALIFICATION);
const TWO32 = 4294967296;
/** Permission bits of an entry (R = 1, W = 2, X = 4) and "access kind → bit" (paging.ts ACCESS_READ/WRITE/EXEC = 0/1/2). */
export const EPT_RWX = 7;
const LEAF_FLAGS = Number(EPT_ENTRY_BITS.MEMTYPE & (6n << 3n)) | Number(EPT_ENTRY_BITS.IGNORE_PAT); // WB, ignore guest PAT
const BASE = Number(MONITOR_MEMORY.eptPml4);

/** Monitor-side data of the EPT for snapshots. */
export interface EptState {
  readonly tables: Uint8Array;
  readonly used: number;
  readonly mappedPages: number;
}

export class Ept {
  /** Host memory of the paging structures: the PML4 first, then tables as they are needed. */
  private tables: Uint8Array;
  private view: DataView;
  /** Table pages in use. */
  private used = 1;
  /** Guest pages mapped (for the views and the tests). */
  mappedPages = 0;
  /** Permissions of the page `translate` returned last (the MMU caches them with the translation). */
  lastPermissions = 0;
  /** Bumped on every change (snapshots share unchanged copies). */
  generation = 0;
  private saved: EptState | undefined;

  constructor(readonly guestBytes: number) {
    const pages = Math.ceil(guestBytes / PAGE_SIZE);
    // PML4 + PDPT + PDs + PTs for identity-mapping all of guest RAM.
    const maxTables = 2 + Math.ceil(pages / (512 * 512)) + Math.ceil(pages / 512);
    this.tables = new Uint8Array(maxTables * PAGE_SIZE);
    this.view = new DataView(this.tables.buffer);
  }

  /** The VMCS EPT pointer: PML4 address, write-back, 4-level walk, A/D enabled. */
  get pointer(): bigint {
    return BigInt(BASE) | 6n | (3n << 3n) | EPTP_BITS.AD_ENABLE;
  }

  /** Map every page of guest RAM (eager EPT). */
  mapAll(permissions = EPT_RWX): void {
    for (let gpa = 0; gpa < this.guestBytes; gpa += PAGE_SIZE) this.map(gpa, permissions);
  }

  /** Map the 4 KiB page containing `gpa` identity with `permissions`; false if it is not guest RAM. */
  map(gpa: number, permissions = EPT_RWX): boolean {
    if (gpa < 0 || gpa >= this.guestBytes) return false;
    let table = 0;
    for (let level = 4; level > 1; level--) {
      const at = table + this.index(gpa, level) * 8;
      let lo = this.view.getUint32(at, true);
      if ((lo & EPT_RWX) === 0) {
        const next = this.used++ * PAGE_SIZE;
        lo = ((BASE + next) % TWO32) | EPT_RWX; // non-leaf entries allow everything: the leaf decides
        this.view.setUint32(at, lo >>> 0, true);
        this.view.setUint32(at + 4, Math.floor((BASE + next) / TWO32), true);
      }
      table = this.entryAddress(at) - BASE;
    }
    const at = table + this.index(gpa, 1) * 8;
    const page = gpa - (gpa % PAGE_SIZE);
    if ((this.view.getUint32(at, true) & EPT_RWX) === 0) this.mappedPages++;
    this.view.setUint32(at, ((page % TWO32) | LEAF_FLAGS | permissions) >>> 0, true);
    this.view.setUint32(at + 4, Math.floor(page / TWO32), true);
    this.generation++;
    return true;
  }

  /** Permissions of the page containing `gpa` (0: not mapped): the AND over the walk. */
  permissions(gpa: number): number {
    if (gpa < 0 || gpa >= 2 ** 48) return 0;
    let table = 0;
    let allowed = EPT_RWX;
    for (let level = 4; level >= 1; level--) {
      const at = table + this.index(gpa, level) * 8;
      const lo = this.view.getUint32(at, true);
      allowed &= lo;
      if ((lo & EPT_RWX) === 0) return 0;
      if (level > 1) table = this.entryAddress(at) - BASE;
    }
    return allowed & EPT_RWX;
  }

  /**
   * Host-physical address for an access of `kind` (0 read, 1 write, 2 fetch) to guest-physical `gpa`.
   * `linear`: the guest-linear address being translated (undefined: no linear address); `final`:
   * the access is to the translated address (false: to a guest paging-structure entry).
   */
  translate(gpa: number, kind: number, linear: number | undefined, final: boolean): number {
    const allowed = this.permissions(gpa);
    if ((allowed & (1 << kind)) === 0) throw this.violation(gpa, kind, allowed, linear, final);
    this.lastPermissions = allowed;
    return gpa; // identity
  }

  private violation(gpa: number, kind: number, allowed: number, linear: number | undefined, final: boolean): VmExit {
    let q = BigInt(1 << kind) | (BigInt(allowed) << 3n);
    if (linear !== undefined) {
      q |= Q.linearValid;
      if (final) q |= Q.finalTranslation;
    }
    const gla = linear === undefined ? 0n : BigInt.asUintN(64, BigInt(linear));
    return new VmExit(EXIT.EPT_VIOLATION, q, 0, undefined, undefined, gla, BigInt(gpa));
  }

  private index(gpa: number, level: number): number {
    return Math.floor(gpa / 2 ** (12 + 9 * (level - 1))) & 511;
  }

  private entryAddress(at: number): number {
    const lo = this.view.getUint32(at, true), hi = this.view.getUint32(at + 4, true) & 0xfffff;
    return hi * TWO32 + (lo - (lo % PAGE_SIZE));
  }

  /** The paging structures as host memory (the VMCS view and the tests read them). */
  readEntry(hostPhysical: number): bigint {
    const at = hostPhysical - BASE;
    if (at < 0 || at + 8 > this.used * PAGE_SIZE) return 0n;
    return (BigInt(this.view.getUint32(at + 4, true)) << 32n) | BigInt(this.view.getUint32(at, true));
  }

  save(): EptState {
    if (this.saved?.mappedPages !== this.mappedPages || this.savedGeneration !== this.generation) {
      this.saved = { tables: this.tables.slice(0, this.used * PAGE_SIZE), used: this.used, mappedPages: this.mappedPages };
      this.savedGeneration = this.generation;
    }
    return this.saved;
  }

  private savedGeneration = -1;

  restore(state: EptState): void {
    this.tables.fill(0);
    this.tables.set(state.tables);
    this.used = state.used;
    this.mappedPages = state.mappedPages;
    this.generation++;
    this.saved = state;
    this.savedGeneration = this.generation;
  }
}
