// Segment descriptors and segment-register loads in IA-32e mode (SDM Vol. 3A §3.4.5, §5.5–§5.8;
// Vol. 2 MOV/POP "Operation" for the protection checks). Descriptor-table reads are implicit
// supervisor accesses.
import { accessRightsFromDescriptor, descriptorBase, descriptorLimit } from '../../arch/index';
import { CpuFault, GP, NP, SS as SS_FAULT } from '../events/fault';
import type { Cpu } from './cpu';
import { ATTR_UNUSABLE, CS, SS, type Segment } from './state';

export interface Descriptor {
  raw: bigint;
  /** Address of the descriptor (to set the accessed/busy bit). */
  address: number;
  attr: number;
  base: number;
  limit: number;
  type: number;
  s: boolean;
  dpl: number;
  present: boolean;
  long: boolean;
}

/** Read the descriptor for `sel` from the GDT/LDT; #GP(sel) if it is outside the table. */
export function readDescriptor(c: Cpu, sel: number, system16 = false): Descriptor {
  const table = sel & 4 ? c.ldtr : c.gdtr;
  const index = sel & ~7;
  if ((sel & 4 && (c.ldtr.attr & ATTR_UNUSABLE)) || index + (system16 ? 15 : 7) > table.limit) {
    throw new CpuFault(GP, sel & 0xfffc, undefined, `selector 0x${sel.toString(16)} is outside the ${sel & 4 ? 'LDT' : 'GDT'}`);
  }
  const address = table.base + index;
  const raw = c.m.supervisor(() => c.m.readBig(address, 8));
  const attr = accessRightsFromDescriptor(raw);
  let base = Number(descriptorBase(raw));
  if (system16) base += Number(c.m.supervisor(() => c.m.readBig(address + 8, 4))) * 4294967296;
  return {
    raw, address, attr, base, limit: descriptorLimit(raw),
    type: attr & 15, s: (attr & 16) !== 0, dpl: (attr >> 5) & 3, present: (attr & 0x80) !== 0, long: (attr & 0x2000) !== 0,
  };
}

/** Set the accessed bit of a code/data descriptor (SDM Vol. 3A §3.4.5.1). */
export function markAccessed(c: Cpu, d: Descriptor): void {
  if ((d.type & 1) === 0) c.m.supervisor(() => c.m.wr8(d.address + 5, Number((d.raw >> 40n) & 0xffn) | 1));
}

export function segmentFrom(sel: number, d: Descriptor): Segment {
  return { sel, base: d.base, limit: d.limit, attr: d.attr | 1 };
}

/** MOV/POP to DS, ES, FS, GS, SS (SDM Vol. 2B MOV "Operation", 64-bit mode). */
export function loadSegment(c: Cpu, reg: number, sel: number): void {
  sel &= 0xffff;
  const rpl = sel & 3;
  if (reg === CS) throw new CpuFault(6, undefined, undefined, 'MOV to CS');
  if ((sel & ~3) === 0) {
    if (reg === SS && (!c.long64 || c.cpl === 3 || rpl !== c.cpl)) throw new CpuFault(GP, 0, undefined, 'null selector loaded into SS');
    // A null selector leaves the segment unusable with base 0 (FS/GS bases are reloaded by WRMSR/WRFSBASE).
    c.seg[reg] = { sel, base: 0, limit: 0, attr: ATTR_UNUSABLE | (reg === SS ? rpl << 5 : 0) };
    return;
  }
  const d = readDescriptor(c, sel);
  const code = (d.type & 8) !== 0;
  if (reg === SS) {
    if (rpl !== c.cpl || d.dpl !== c.cpl || !d.s || code || (d.type & 2) === 0) throw new CpuFault(GP, sel & 0xfffc, undefined, `selector 0x${sel.toString(16)} is not a writable data segment at CPL ${c.cpl}`);
    if (!d.present) throw new CpuFault(SS_FAULT, sel & 0xfffc, undefined, 'stack segment not present');
  } else {
    if (!d.s || (code && (d.type & 2) === 0)) throw new CpuFault(GP, sel & 0xfffc, undefined, `selector 0x${sel.toString(16)} is not a data or readable code segment`);
    const conforming = code && (d.type & 4) !== 0;
    if (!conforming && (rpl > d.dpl || c.cpl > d.dpl)) throw new CpuFault(GP, sel & 0xfffc, undefined, `selector 0x${sel.toString(16)}: privilege check failed (RPL ${rpl}, CPL ${c.cpl}, DPL ${d.dpl})`);
    if (!d.present) throw new CpuFault(NP, sel & 0xfffc, undefined, 'segment not present');
  }
  markAccessed(c, d);
  c.seg[reg] = segmentFrom(sel, d);
}

/** A code-segment descriptor check used by far transfers, IRET and gates: #GP(sel)/#NP(sel). */
export function codeSegment(c: Cpu, sel: number, why: string): Descriptor {
  if ((sel & ~3) === 0) throw new CpuFault(GP, 0, undefined, `${why}: null code selector`);
  const d = readDescriptor(c, sel);
  if (!d.s || (d.type & 8) === 0) throw new CpuFault(GP, sel & 0xfffc, undefined, `${why}: selector 0x${sel.toString(16)} is not a code segment`);
  if (!d.present) throw new CpuFault(NP, sel & 0xfffc, undefined, `${why}: code segment not present`);
  return d;
}

/** Flat segments loaded by SYSCALL/SYSRET (SDM Vol. 2B SYSCALL "Operation"). */
export function flatCode(sel: number, dpl: number, long: boolean): Segment {
  return { sel, base: 0, limit: 0xffffffff, attr: 0xb | 0x10 | (dpl << 5) | 0x80 | (long ? 0x2000 : 0x4000) | 0x8000 };
}

export function flatData(sel: number, dpl: number): Segment {
  return { sel, base: 0, limit: 0xffffffff, attr: 0x3 | 0x10 | (dpl << 5) | 0x80 | 0x4000 | 0x8000 };
}
