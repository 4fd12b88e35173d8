// Far transfers in IA-32e mode (SDM Vol. 2A JMP/CALL "far", Vol. 2B RET "far"): JMP/CALL m16:16/32/64
// to a code segment at the current privilege and RETF to the same or an outer privilege. Kernels use
// them to reload CS after LGDT and to reach compatibility mode. Call gates and task switches are not
// implemented (the run stops naming the instruction).
import { Code } from 'iced-x86';
import { CpuFault, GP, MachineStop } from '../../events/fault';
import { nullInaccessibleSegments } from '../../events/idt';
import { checkFredCallGate, checkFredCodeLoad, checkFredFarReturn } from '../../events/fredRules'; // FRED hook
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decode';
import { codeSegment, readDescriptor, type Descriptor } from '../segments';
import { ATTR_UNUSABLE, CS, RSP, SS, fromLinear, isCanonical, toLinear } from '../state';

/** A target code segment reached without a gate: non-conforming needs DPL = CPL, RPL ≤ CPL. */
function directTarget(c: Cpu, sel: number, what: string): Descriptor {
  if ((sel & ~3) !== 0) {
    const raw = readDescriptor(c, sel);
    if (!raw.s) checkFredCallGate(c, sel); // FRED hook: no call gates under FRED (events/fredRules.ts)
    if (!raw.s) throw new MachineStop('unimplemented', `${what} through a system descriptor (call gate or TSS) at 0x${fromLinear(c.rip).toString(16)} is not implemented`);
  }
  const d = codeSegment(c, sel, what);
  checkFredCodeLoad(c, sel, d.dpl, d.long); // FRED hook: no compatibility mode at CPL 0 (events/fredRules.ts)
  const conforming = (d.type & 4) !== 0;
  if (conforming ? d.dpl > c.cpl : d.dpl !== c.cpl || (sel & 3) > c.cpl) {
    throw new CpuFault(GP, sel & 0xfffc, undefined, `${what}: code segment 0x${sel.toString(16)} not reachable from CPL ${c.cpl}`);
  }
  return d;
}

function loadCs(c: Cpu, sel: number, d: Descriptor, cpl: number, rip: number): void {
  const long = d.long && (c.efer & 0x400n) !== 0n;
  const target = long ? rip : rip >>> 0;
  if (long && !isCanonical(target)) throw new CpuFault(GP, 0, undefined, 'far transfer to a non-canonical RIP');
  c.seg[CS] = { sel: (sel & 0xfffc) | cpl, base: d.base, limit: d.limit, attr: d.attr | 1 };
  c.rip = target;
}

function stackSize(c: Cpu): number {
  return c.long64 ? 8 : 4;
}

/** JMP/CALL m16:16, m16:32, m16:64. */
export function farJumpOrCall(c: Cpu, d: DecodedInsn, a: number, call: boolean): void {
  const offsetSize = d.code === Code.Jmp_m1664 || d.code === Code.Call_m1664 ? 8 : d.code === Code.Jmp_m1632 || d.code === Code.Call_m1632 ? 4 : 2;
  const offset = toLinear(c.m.readBig(a, offsetSize));
  const sel = Number(c.m.readBig(a + offsetSize, 2));
  const what = call ? 'far CALL' : 'far JMP';
  const target = directTarget(c, sel, what);
  if (call) {
    const size = offsetSize === 8 ? 8 : stackSize(c) === 8 && offsetSize === 4 ? 4 : offsetSize;
    const rsp = c.gprNumber(RSP);
    c.m.writeBig(rsp - size, size, BigInt(c.seg[CS].sel));
    c.m.writeBig(rsp - 2 * size, size, fromLinear(d.next) & ((1n << BigInt(8 * size)) - 1n));
    c.setGprNumber(RSP, rsp - 2 * size);
  }
  loadCs(c, sel, target, c.cpl, offset);
  c.syncPrivilege();
}

/** RETF [imm16]: same privilege, or outer privilege with SS:RSP popped as well. */
export function farReturn(c: Cpu, d: DecodedInsn): void {
  const size = d.code === Code.Retfq || d.code === Code.Retfq_imm16 ? 8 : d.code === Code.Retfw || d.code === Code.Retfw_imm16 ? 2 : 4;
  const extra = d.ops.length ? d.immLo & 0xffff : 0;
  const rsp = c.gprNumber(RSP);
  const rip = toLinear(c.m.readBig(rsp, size));
  const sel = Number(c.m.readBig(rsp + size, size) & 0xffffn);
  const rpl = sel & 3;
  if (rpl < c.cpl) throw new CpuFault(GP, sel & 0xfffc, undefined, `RETF to RPL ${rpl} below CPL ${c.cpl}`);
  const cs = codeSegment(c, sel, 'RETF');
  checkFredFarReturn(c, 'RET far', sel, cs.long); // FRED hook: no privilege change / compatibility mode at CPL 0 (events/fredRules.ts)
  const conforming = (cs.type & 4) !== 0;
  if (conforming ? cs.dpl > rpl : cs.dpl !== rpl) throw new CpuFault(GP, sel & 0xfffc, undefined, 'RETF: code segment DPL does not match RPL');
  if (rpl === c.cpl) {
    loadCs(c, sel, cs, rpl, rip);
    c.setGprNumber(RSP, rsp + 2 * size + extra);
    return;
  }
  const newRsp = toLinear(c.m.readBig(rsp + 2 * size + extra, size));
  const ssSel = Number(c.m.readBig(rsp + 3 * size + extra, size) & 0xffffn);
  let ss;
  if ((ssSel & ~3) === 0) {
    if (!cs.long || rpl === 3) throw new CpuFault(GP, 0, undefined, 'RETF: null SS for a return to ring 3 or compatibility mode');
    ss = { sel: ssSel, base: 0, limit: 0, attr: ATTR_UNUSABLE | (rpl << 5) };
  } else {
    const sd = readDescriptor(c, ssSel);
    if ((ssSel & 3) !== rpl || !sd.s || (sd.type & 8) || (sd.type & 2) === 0 || sd.dpl !== rpl) throw new CpuFault(GP, ssSel & 0xfffc, undefined, 'RETF: SS is not a writable data segment at the return privilege');
    if (!sd.present) throw new CpuFault(12, ssSel & 0xfffc, undefined, 'RETF: SS not present');
    ss = { sel: ssSel, base: sd.base, limit: sd.limit, attr: sd.attr | 1 };
  }
  loadCs(c, sel, cs, rpl, rip);
  c.seg[SS] = ss;
  c.cpl = rpl;
  c.setGprNumber(RSP, newRsp + extra);
  nullInaccessibleSegments(c);
  c.syncPrivilege();
}
