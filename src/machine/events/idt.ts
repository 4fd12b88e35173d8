// Legacy event delivery through the IDT in IA-32e mode and IRETQ (SDM Vol. 3A §6.14 "Exception and
// Interrupt Handling in 64-bit Mode": 16-byte gates, IST, RSP0–2 from the TSS, 16-byte aligned frames
// of SS, RSP, RFLAGS, CS, RIP [, error code]; Vol. 2A IRET "Operation", IA-32e mode).
import type { Cpu } from '../cpu/cpu';
import { codeSegment, loadSegment, readDescriptor } from '../cpu/segments';
import { ATTR_UNUSABLE, CS, DS, ES, FS, GS, RSP, SS, fromLinear, isCanonical, toLinear } from '../cpu/state';
import { AC, IF, IOPL, NT, RF, TF, VIF, VIP, VM, ID, DF as DF_FLAG, STATUS } from '../cpu/flags';
import { CpuFault, GP, NP, TS } from './fault';
import { checkFredFarReturn } from './fredRules'; // FRED hook
import { EXTERNAL_INTERRUPT, NMI_EVENT, SOFTWARE_EXCEPTION, SOFTWARE_INTERRUPT, type MachineEvent } from './event';
import { MECHANISM_IDT, type EventType } from '../trace';

function tssRead(c: Cpu, offset: number): number {
  if ((c.tr.attr & ATTR_UNUSABLE) || offset + 7 > c.tr.limit) {
    throw new CpuFault(TS, c.tr.sel & 0xfffc, undefined, `TSS offset 0x${offset.toString(16)} beyond the TSS limit`);
  }
  return toLinear(c.m.supervisor(() => c.m.readBig(c.tr.base + offset, 8)));
}

export function deliverIdt(c: Cpu, ev: MachineEvent, nested: boolean, injected = false): void {
  const software = ev.type === SOFTWARE_INTERRUPT || ev.type === SOFTWARE_EXCEPTION;
  const ext = software ? 0 : 1;
  const idtCode = ev.vector * 8 + 2 + ext;
  if (ev.vector * 16 + 15 > c.idtr.limit) throw new CpuFault(GP, idtCode, undefined, `vector ${ev.vector} is beyond the IDT limit 0x${c.idtr.limit.toString(16)}`);
  const gateAddress = c.idtr.base + ev.vector * 16;
  const [lo, hi] = c.m.supervisor(() => [c.m.readBig(gateAddress, 8), c.m.readBig(gateAddress + 8, 8)]);
  const type = Number((lo >> 40n) & 0xfn);
  const dpl = Number((lo >> 45n) & 3n);
  const present = ((lo >> 47n) & 1n) === 1n;
  const sel = Number((lo >> 16n) & 0xffffn);
  const ist = Number((lo >> 32n) & 7n);
  const offset = toLinear((lo & 0xffffn) | (((lo >> 48n) & 0xffffn) << 16n) | ((hi & 0xffffffffn) << 32n));
  if (type !== 0xe && type !== 0xf) throw new CpuFault(GP, idtCode, undefined, `IDT entry ${ev.vector} is not a 64-bit interrupt or trap gate`);
  if (software && dpl < c.cpl) throw new CpuFault(GP, ev.vector * 8 + 2, undefined, `gate DPL ${dpl} < CPL ${c.cpl} for INT ${ev.vector}`);
  if (!present) throw new CpuFault(NP, idtCode, undefined, `IDT entry ${ev.vector} not present`);
  const cs = codeSegment(c, sel, 'interrupt gate');
  if (!cs.long || (cs.attr & 0x4000)) throw new CpuFault(GP, (sel & 0xfffc) + ext, undefined, 'gate target is not a 64-bit code segment');
  const conforming = (cs.type & 4) !== 0;
  if (cs.dpl > c.cpl) throw new CpuFault(GP, (sel & 0xfffc) + ext, undefined, 'gate target DPL above CPL');
  const newCpl = conforming ? c.cpl : cs.dpl;
  if (!isCanonical(offset)) throw new CpuFault(GP, ext, undefined, 'gate offset is not canonical');

  const fromRsp = c.gprNumber(RSP);
  const fromCpl = c.cpl;
  let rsp = fromRsp;
  let switched = false;
  if (ist !== 0) {
    rsp = tssRead(c, 36 + (ist - 1) * 8);
    switched = true;
  } else if (newCpl < c.cpl) {
    rsp = tssRead(c, 4 + newCpl * 8);
    switched = true;
  }
  if (!isCanonical(rsp)) throw new CpuFault(12, ext, undefined, 'new stack pointer is not canonical');
  rsp = rsp - (((rsp % 16) + 16) % 16);
  const flags = c.rflags;
  const frame: bigint[] = [BigInt(c.seg[SS].sel), fromLinear(fromRsp), BigInt(flags | (ev.setRf ? RF : 0)), BigInt(c.seg[CS].sel), fromLinear(ev.rip)];
  if (ev.errorCode !== undefined) frame.push(BigInt(ev.errorCode >>> 0));
  const frameAddress = rsp - frame.length * 8;
  c.m.supervisor(() => frame.forEach((value, k) => c.m.writeBig(rsp - (k + 1) * 8, 8, value)));

  // Commit (nothing above changed registers).
  if (newCpl !== c.cpl) c.seg[SS] = { sel: newCpl, base: 0, limit: 0, attr: ATTR_UNUSABLE | (newCpl << 5) };
  c.seg[CS] = { sel: (sel & 0xfffc) | newCpl, base: 0, limit: cs.limit, attr: cs.attr | 1 };
  c.cpl = newCpl;
  c.setGprNumber(RSP, frameAddress);
  c.rip = offset;
  c.rflags = flags & ~(TF | NT | RF | VM | (type === 0xe ? IF : 0));
  if (ev.type === NMI_EVENT) c.nmiBlocked = true;
  c.blockingBySti = c.blockingByMovSs = false;
  c.syncPrivilege();
  c.trace.delivery(c.icount, MECHANISM_IDT, ev.type as EventType, ev.vector, ev.errorCode, 0n, nested, fromCpl, ev.rip, fromRsp, 0, 0, switched, frameAddress, offset, injected);
}

/** IRETQ in 64-bit mode (SDM Vol. 2A IRET, "IA-32e-MODE" paths; no task return). */
export function iretq(c: Cpu, operandSize: number): void {
  if (c.rflags & NT) throw new CpuFault(GP, 0, undefined, 'IRET with NT = 1 (task return) in IA-32e mode');
  const size = operandSize;
  const rsp = c.gprNumber(RSP);
  const read = (k: number) => c.m.readBig(rsp + k * size, size);
  const newRip = toLinear(read(0));
  const csSel = Number(read(1) & 0xffffn);
  const newFlags = Number(read(2) & 0xffffffffn);
  const newRsp = toLinear(read(3));
  const ssSel = Number(read(4) & 0xffffn);
  const rpl = csSel & 3;
  if (rpl < c.cpl) throw new CpuFault(GP, csSel & 0xfffc, undefined, `IRET to CS RPL ${rpl} below CPL ${c.cpl}`);
  const cs = codeSegment(c, csSel, 'IRET');
  checkFredFarReturn(c, 'IRET', csSel, cs.long); // FRED hook: no privilege change / compatibility mode at CPL 0 (events/fredRules.ts)
  const conforming = (cs.type & 4) !== 0;
  if (conforming ? cs.dpl > rpl : cs.dpl !== rpl) throw new CpuFault(GP, csSel & 0xfffc, undefined, 'IRET: CS DPL does not match RPL');
  if (cs.long && (cs.attr & 0x4000)) throw new CpuFault(GP, csSel & 0xfffc, undefined, 'IRET: CS has L = 1 and D = 1');
  if (cs.long && !isCanonical(newRip)) throw new CpuFault(GP, 0, undefined, 'IRET to a non-canonical RIP');
  const fromRip = c.rip;
  const outer = rpl > c.cpl;
  let ss;
  if ((ssSel & ~3) === 0) {
    if (!cs.long || rpl === 3) throw new CpuFault(GP, 0, undefined, 'IRET: null SS for a return to ring 3 or compatibility mode');
    ss = { sel: ssSel, base: 0, limit: 0, attr: ATTR_UNUSABLE | (rpl << 5) };
  } else {
    if ((ssSel & 3) !== rpl) throw new CpuFault(GP, ssSel & 0xfffc, undefined, 'IRET: SS RPL differs from CS RPL');
    const d = readDescriptor(c, ssSel);
    if (!d.s || (d.type & 8) || (d.type & 2) === 0 || d.dpl !== rpl) throw new CpuFault(GP, ssSel & 0xfffc, undefined, 'IRET: SS is not a writable data segment at the return privilege');
    if (!d.present) throw new CpuFault(12, ssSel & 0xfffc, undefined, 'IRET: SS not present');
    ss = { sel: ssSel, base: d.base, limit: d.limit, attr: d.attr | 1 };
  }
  // RFLAGS: IOPL only at CPL 0, IF only when CPL ≤ IOPL; VM, VIF, VIP stay as they are in 64-bit mode.
  const old = c.rflags;
  let changeable = STATUS | TF | DF_FLAG | NT | RF | AC | ID;
  if (c.cpl <= ((old & IOPL) >> 12)) changeable |= IF;
  if (c.cpl === 0) changeable |= IOPL | VIF | VIP;
  c.rflags = (old & ~changeable) | (newFlags & changeable & ~VM);
  c.seg[CS] = { sel: csSel, base: cs.base, limit: cs.limit, attr: cs.attr | 1 };
  c.seg[SS] = ss;
  c.cpl = rpl;
  c.rip = cs.long ? newRip : newRip >>> 0;
  c.setGprNumber(RSP, newRsp);
  c.nmiBlocked = false;
  if (outer) nullInaccessibleSegments(c);
  c.syncPrivilege();
  c.trace.emit({ kind: 'return', icount: c.icount, instruction: 'iretq', fromRip: fromLinear(fromRip), toCpl: rpl, toRip: fromLinear(c.rip), toRsp: fromLinear(newRsp), cslAfter: 0 });
}

/** After a return to an outer level, data segments the new CPL may not use become null (SDM IRET). */
export function nullInaccessibleSegments(c: Cpu): void {
  for (const reg of [ES, DS, FS, GS]) {
    const s = c.seg[reg];
    if (s.attr & ATTR_UNUSABLE) continue;
    const dpl = (s.attr >> 5) & 3;
    const conformingCode = (s.attr & 8) !== 0 && (s.attr & 4) !== 0;
    if (!conformingCode && dpl < c.cpl) c.seg[reg] = { sel: 0, base: reg >= FS ? s.base : 0, limit: 0, attr: ATTR_UNUSABLE };
  }
}

export { loadSegment, EXTERNAL_INTERRUPT };
