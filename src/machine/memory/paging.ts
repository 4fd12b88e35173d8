// 4-level paging (SDM Vol. 3A §4.5): the page walk with 4 KiB, 2 MiB and 1 GiB pages, P/RW/US/NX,
// accessed and dirty bits, reserved-bit checks and the page-fault error code (§4.7).
import { CpuFault, PF } from '../events/fault';
import type { PhysicalMemory } from './physical';

export const ACCESS_READ = 0, ACCESS_WRITE = 1, ACCESS_EXEC = 2;

/** #PF error-code bits (SDM Vol. 3A §4.7). */
export const PFEC_P = 1, PFEC_W = 2, PFEC_U = 4, PFEC_RSVD = 8, PFEC_I = 16;

/** Physical-address width reported by CPUID 0x80000008 (bits above it are reserved in entries). */
export const MAXPHYADDR = 40;

export interface PagingControls {
  cr3: number;
  wp: boolean;
  nxe: boolean;
  smep: boolean;
  smap: boolean;
}

export interface Translation {
  /** Physical address of the 4 KiB frame containing the address. */
  frame: number;
  user: boolean;
  writable: boolean;
  executable: boolean;
  global: boolean;
  dirty: boolean;
  large: boolean;
}

const TWO32 = 4294967296;
/** Entry high half bits MAXPHYADDR..51 must be 0 (bits 52..62 are ignored, 63 is XD). */
const HIGH_RESERVED = ((1 << (52 - 32)) - 1) & ~((1 << (MAXPHYADDR - 32)) - 1);

/**
 * A second translation stage (EPT, vmx/ept.ts): guest-physical → host-physical for the final address
 * and for every paging-structure entry of the walk; throws (a VM exit) on a violation.
 */
export interface GuestPhysicalTranslator {
  translate(gpa: number, kind: number, linear: number | undefined, final: boolean): number;
  /** Permissions (R 1, W 2, X 4) of the page the last `translate` returned. */
  readonly lastPermissions: number;
}

export interface WalkRequest {
  lin: number;
  kind: number;
  /** A CPL-3 access (not an implicit supervisor access). */
  user: boolean;
}

/**
 * Walk the paging structures for `req`; sets A (and D for writes) on success, throws #PF otherwise.
 * Permission checks here are the user/supervisor and R/W/NX rules except SMAP's RFLAGS.AC dependency,
 * which the MMU applies (it knows whether the access is implicit).
 */
export function walk(mem: PhysicalMemory, ctl: PagingControls, req: WalkRequest, acAllowsSmap: boolean, setBits = true, ept?: GuestPhysicalTranslator): Translation {
  const u = req.lin < 0 ? req.lin + 2 ** 48 : req.lin; // low 48 bits of a canonical address
  let table = ctl.cr3;
  let user = true, writable = true, nx = false;
  const entries: number[] = [];
  for (let level = 4; level >= 1; level--) {
    const index = Math.floor(u / 2 ** (12 + 9 * (level - 1))) & 511;
    const gpa = table + index * 8;
    const pa = ept === undefined ? gpa : ept.translate(gpa, ACCESS_READ, req.lin, false);
    const lo = mem.read32(pa), hi = mem.read32(pa + 4);
    if ((lo & 1) === 0) throw pageFault(req, 0);
    const large = level > 1 && level < 4 && (lo & 0x80) !== 0;
    let reserved = (hi & HIGH_RESERVED) !== 0 || (!ctl.nxe && hi < 0) || (level === 4 && (lo & 0x80) !== 0);
    if (large) reserved ||= (lo & (level === 3 ? 0x3fffe000 : 0x1fe000)) !== 0;
    if (reserved) throw pageFault(req, PFEC_P | PFEC_RSVD);
    entries.push(gpa, lo);
    user &&= (lo & 4) !== 0;
    writable &&= (lo & 2) !== 0;
    nx ||= ctl.nxe && hi < 0;
    const base = (hi & 0xfffff) * TWO32 + ((lo & ~0xfff) >>> 0);
    if (level === 1 || large) {
      const pageSize = 2 ** (12 + 9 * (level - 1));
      const frame = base - (base % pageSize) + (Math.floor(u / 4096) * 4096) % pageSize;
      const t: Translation = { frame, user, writable, executable: !nx, global: (lo & 0x100) !== 0, dirty: (lo & 0x40) !== 0, large };
      check(t, ctl, req, acAllowsSmap);
      for (let i = 0; setBits && i < entries.length; i += 2) {
        const last = i === entries.length - 2;
        const want = 0x20 | (last && req.kind === ACCESS_WRITE ? 0x40 : 0);
        if ((entries[i + 1] & want) !== want) mem.write32(ept === undefined ? entries[i] : ept.translate(entries[i], ACCESS_WRITE, req.lin, false), entries[i + 1] | want);
      }
      if (req.kind === ACCESS_WRITE) t.dirty = true;
      return t;
    }
    table = base;
  }
  throw new Error('unreachable');
}

function check(t: Translation, ctl: PagingControls, req: WalkRequest, acAllowsSmap: boolean): void {
  if (req.user) {
    if (!t.user || (req.kind === ACCESS_WRITE && !t.writable) || (req.kind === ACCESS_EXEC && !t.executable)) {
      throw pageFault(req, PFEC_P);
    }
    return;
  }
  if (req.kind === ACCESS_EXEC) {
    if (!t.executable || (ctl.smep && t.user)) throw pageFault(req, PFEC_P);
    return;
  }
  if (ctl.smap && t.user && !acAllowsSmap) throw pageFault(req, PFEC_P);
  if (req.kind === ACCESS_WRITE && ctl.wp && !t.writable) throw pageFault(req, PFEC_P);
}

export function pageFault(req: WalkRequest, bits: number): CpuFault {
  const code = bits | (req.kind === ACCESS_WRITE ? PFEC_W : 0) | (req.user ? PFEC_U : 0) | (req.kind === ACCESS_EXEC ? PFEC_I : 0);
  const what = bits & PFEC_RSVD ? 'reserved bit set in a paging entry' : bits & PFEC_P ? 'protection violation' : 'page not present';
  return new CpuFault(PF, code, req.lin, `${what} (${['read', 'write', 'fetch'][req.kind]} at 0x${req.lin.toString(16)})`);
}
