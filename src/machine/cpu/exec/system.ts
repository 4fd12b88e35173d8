// System and privileged instructions that run as one-instruction blocks (SDM Vol. 2 for each): every
// helper here either sets c.rip to the next instruction or transfers control (events, returns).
import { CpuFault, GP, UD } from '../../events/fault';
import { deliverEvent } from '../../events/deliver';
import { OTHER_EVENT, softwareEvent } from '../../events/event';
import { iretq } from '../../events/idt';
import type { Cpu } from '../cpu';
import { Mnemonic, OperandKind, type DecodedInsn } from '../decode';
import { AC, IF, IOPL, NT, OF as OF_FLAG, RF, TF, VIF, VIP, VM, ID, DF, STATUS } from '../flags';
import { flatCode, flatData, loadSegment, readDescriptor } from '../segments';
import { CS, FS, GS, RSP, SS, ATTR_UNUSABLE, fromLinear, isCanonical, toLinear } from '../state';
import { clts, invlpg, movSpecial } from './controlRegisters';
import { cpuid } from './cpuid';
import { FRED_HELPERS, fredSyscall } from './fred'; // FRED hook: ERETS/ERETU/LKGS/SYSENTER/… executors (exec/fred.ts)
import type { Helper } from './integer';
import { IA32_KERNEL_GS_BASE, IA32_STAR, rdmsr, wrmsr } from './msr';
import { readOp, writeGprSized, writeOp } from './operands';
import { farJumpOrCall, farReturn } from './farTransfer';

const M = Mnemonic;
const IA32_LSTAR = 0xc0000082, IA32_CSTAR = 0xc0000083, IA32_FMASK = 0xc0000084, IA32_TSC_AUX = 0xc0000103;
const CR4_TSD = 4n, CR4_FSGSBASE = 1n << 16n, CR4_FRED = 1n << 32n, EFER_SCE = 1n;

function requireCpl0(c: Cpu, what: string): void {
  if (c.cpl !== 0) throw new CpuFault(GP, 0, undefined, `${what} at CPL ${c.cpl}`);
}

function iopl(c: Cpu): number {
  return (c.rflags & IOPL) >> 12;
}

function push(c: Cpu, size: number, value: bigint): void {
  const rsp = c.gprNumber(RSP) - size;
  c.m.writeBig(rsp, size, value);
  c.setGprNumber(RSP, rsp);
}

function pop(c: Cpu, size: number): bigint {
  const rsp = c.gprNumber(RSP);
  const value = c.m.readBig(rsp, size);
  c.setGprNumber(RSP, rsp + size);
  return value;
}

function stackSize(c: Cpu): number {
  return c.long64 ? 8 : 4;
}

/** MOV Sreg / PUSH Sreg / POP Sreg and MOV CR/DR. */
function moveSpecial(c: Cpu, d: DecodedInsn, a: number): void {
  const [dst, src] = d.ops;
  if (dst.kind === OperandKind.Cr || dst.kind === OperandKind.Dr || src?.kind === OperandKind.Cr || src?.kind === OperandKind.Dr) return movSpecial(c, d);
  if (dst.kind === OperandKind.Seg) {
    loadSegment(c, dst.reg, Number(readOp(c, d, 1, a, 2)));
    if (dst.reg === SS) c.blockingByMovSs = true;
  } else {
    // MOV r/m, Sreg: a register destination gets the zero-extended selector, memory gets 16 bits.
    const size = dst.kind === OperandKind.Mem ? 2 : dst.size;
    writeOp(c, d, 0, a, BigInt(c.seg[src.reg].sel), size);
  }
  c.rip = d.next;
}

function pushPopSegment(c: Cpu, d: DecodedInsn): void {
  const reg = d.ops[0].reg;
  const size = stackSize(c);
  if (d.mnemonic === M.Push) push(c, size, BigInt(c.seg[reg].sel));
  else {
    const rsp = c.gprNumber(RSP);
    const sel = Number(c.m.readBig(rsp, size) & 0xffffn);
    loadSegment(c, reg, sel);
    c.setGprNumber(RSP, rsp + size);
    if (reg === SS) c.blockingByMovSs = true;
  }
  c.rip = d.next;
}

function pushf(c: Cpu, d: DecodedInsn): void {
  const size = d.mnemonic === M.Pushf ? 2 : stackSize(c);
  push(c, size, BigInt(c.rflags & ~(VM | RF)));
  c.rip = d.next;
}

/** POPF: which bits may change depends on CPL and IOPL (SDM Vol. 2B POPF "Operation", protected mode). */
function popf(c: Cpu, d: DecodedInsn): void {
  const size = d.mnemonic === M.Popf ? 2 : stackSize(c);
  const value = Number(pop(c, size) & 0xffffffffn);
  let changeable = STATUS | TF | DF | NT | AC | ID;
  if (c.cpl === 0) changeable |= IOPL;
  if (c.cpl <= iopl(c)) changeable |= IF;
  if (size === 2) changeable &= 0xffff;
  c.rflags = (c.rflags & ~changeable & ~RF) | (value & changeable);
  c.syncPrivilege();
  c.rip = d.next;
}

function cliSti(c: Cpu, d: DecodedInsn): void {
  if (c.cpl > iopl(c)) throw new CpuFault(GP, 0, undefined, `${d.mnemonic === M.Cli ? 'CLI' : 'STI'} with CPL ${c.cpl} > IOPL ${iopl(c)}`);
  if (d.mnemonic === M.Cli) c.rflags = c.rflags & ~IF;
  else {
    if (!(c.rflags & IF)) c.blockingBySti = true; // STI blocks interrupts for one instruction (SDM STI)
    c.rflags = c.rflags | IF;
  }
  c.rip = d.next;
}

function hlt(c: Cpu, d: DecodedInsn): void {
  requireCpl0(c, 'HLT');
  if (c.vmx && (c.vmExitPending = c.vmx.hlt(d.length))) return; // HLT exiting (SDM Vol. 3C §26.1.3)
  c.rip = d.next;
  c.halted = true;
  c.trace.emit({ kind: 'halt', icount: c.icount + 1, rip: fromLinear(d.rip) });
}

function rdtsc(c: Cpu, d: DecodedInsn): void {
  if ((c.cr4 & CR4_TSD) && c.cpl !== 0) throw new CpuFault(GP, 0, undefined, 'RDTSC at CPL > 0 with CR4.TSD = 1');
  // Deterministic time: the TSC is the retired-instruction count (plus any WRMSR offset).
  const tsc = BigInt.asUintN(64, BigInt(c.icount) + c.tscOffset);
  c.setGpr(0, tsc & 0xffffffffn);
  c.setGpr(2, tsc >> 32n);
  if (d.mnemonic === M.Rdtscp) c.setGpr(1, (c.msr.get(IA32_TSC_AUX) ?? 0n) & 0xffffffffn);
  c.rip = d.next;
}

/** I/O permission: CPL ≤ IOPL, else every bit for the accessed ports in the TSS I/O bitmap must be 0 (SDM Vol. 1 §19.5). */
function checkIo(c: Cpu, port: number, size: number): void {
  if (c.cpl <= iopl(c)) return;
  const deny = () => new CpuFault(GP, 0, undefined, `I/O port 0x${port.toString(16)} not permitted by the TSS I/O bitmap at CPL ${c.cpl}`);
  if (c.tr.attr & ATTR_UNUSABLE || c.tr.limit < 0x67) throw deny();
  const bitmap = Number(c.m.supervisor(() => c.m.readBig(c.tr.base + 0x66, 2)));
  const first = bitmap + (port >> 3);
  if (first + 1 > c.tr.limit) throw deny();
  const bits = Number(c.m.supervisor(() => c.m.readBig(c.tr.base + first, 2)));
  if ((bits >> (port & 7)) & ((1 << size) - 1)) throw deny();
}

function inOut(c: Cpu, d: DecodedInsn): void {
  const isIn = d.mnemonic === M.In;
  const portOp = isIn ? d.ops[1] : d.ops[0];
  const dataOp = isIn ? d.ops[0] : d.ops[1];
  const port = portOp.kind === OperandKind.Imm ? d.immLo & 0xff : Number(c.gpr(2) & 0xffffn);
  const size = dataOp.size as 1 | 2 | 4;
  checkIo(c, port, size);
  if (c.vmx && (c.vmExitPending = c.vmx.io(port, size, isIn, d.length, portOp.kind === OperandKind.Imm))) return; // I/O exiting after the permission check (SDM §26.1.1)
  if (isIn) writeGprSized(c, 0, size, false, BigInt(c.bus.portRead(port, size) >>> 0));
  else c.bus.portWrite(port, size, Number(c.gpr(0) & 0xffffffffn));
  c.rip = d.next;
}

function swapgs(c: Cpu, d: DecodedInsn): void {
  if (!c.long64 || c.cr4 & CR4_FRED) throw new CpuFault(UD, undefined, undefined, 'SWAPGS outside 64-bit mode or with CR4.FRED = 1');
  requireCpl0(c, 'SWAPGS');
  const kernel = c.msr.get(IA32_KERNEL_GS_BASE) ?? 0n;
  c.msr.set(IA32_KERNEL_GS_BASE, fromLinear(c.seg[GS].base));
  c.seg[GS].base = toLinear(kernel);
  c.rip = d.next;
}

function fsgsBase(c: Cpu, d: DecodedInsn): void {
  if (!c.long64 || !(c.cr4 & CR4_FSGSBASE)) throw new CpuFault(UD, undefined, undefined, `${d.text} needs 64-bit mode and CR4.FSGSBASE = 1`);
  const seg = d.mnemonic === M.Rdfsbase || d.mnemonic === M.Wrfsbase ? FS : GS;
  const op = d.ops[0];
  if (d.mnemonic === M.Rdfsbase || d.mnemonic === M.Rdgsbase) writeGprSized(c, op.reg, op.size, false, fromLinear(c.seg[seg].base));
  else {
    const value = op.size === 8 ? c.gpr(op.reg) : c.gpr(op.reg) & 0xffffffffn;
    if (!isCanonical(toLinear(value)) || BigInt.asIntN(64, value) !== BigInt(toLinear(value))) throw new CpuFault(GP, 0, undefined, 'non-canonical segment base');
    c.seg[seg].base = toLinear(value);
  }
  c.rip = d.next;
}

// INT3, INT1, INTO and INT n: one executor each, chosen by the table below once, because reading
// `Mnemonic.X` at run time is a lookup in iced-x86's enum object (thousands of properties: a
// dictionary, so every such read is a generic LoadIC call).
function int3(c: Cpu, d: DecodedInsn): void {
  deliverEvent(c, softwareEvent(6, 3, d.next, d.length));
}

function int1(c: Cpu, d: DecodedInsn): void {
  deliverEvent(c, softwareEvent(5, 1, d.next, d.length));
}

function into(c: Cpu, d: DecodedInsn): void {
  if (!(c.rflags & OF_FLAG)) c.rip = d.next;
  else deliverEvent(c, softwareEvent(6, 4, d.next, d.length));
}

function intN(c: Cpu, d: DecodedInsn): void {
  deliverEvent(c, softwareEvent(4, d.immLo & 0xff, d.next, d.length));
}

/** SYSCALL (SDM Vol. 2B; under FRED an event of type 7 vector 1, fred-architecture.md §5.2). */
function syscall(c: Cpu, d: DecodedInsn): void {
  if (fredSyscall(c, d)) return; // FRED hook: with CR4.FRED = 1, type 7 vector 1 and the EFER.SCE switch (exec/fred.ts)
  if (!(c.efer & (1n << 10n)) || !(c.seg[CS].attr & 0x2000) && c.long64) throw new CpuFault(UD, undefined, undefined, 'SYSCALL outside IA-32e mode');
  if (!(c.efer & EFER_SCE)) throw new CpuFault(UD, undefined, undefined, 'SYSCALL with IA32_EFER.SCE = 0');
  const star = c.msr.get(IA32_STAR) ?? 0n;
  const sel = Number((star >> 32n) & 0xffffn);
  c.setGprNumber(1, d.next);
  c.setGpr(11, BigInt(c.rflags & ~RF));
  const target = c.msr.get(c.long64 ? IA32_LSTAR : IA32_CSTAR) ?? 0n;
  c.seg[CS] = flatCode(sel & 0xfffc, 0, true);
  c.seg[SS] = flatData((sel + 8) & 0xfffc, 0);
  c.cpl = 0;
  c.rflags = c.rflags & ~Number((c.msr.get(IA32_FMASK) ?? 0n) & 0xffffffffn) & ~RF;
  c.rip = toLinear(target);
  c.syncPrivilege();
}

/** SYSRET (SDM Vol. 2B): back to CPL 3, 64-bit with REX.W, else compatibility mode. */
function sysret(c: Cpu, d: DecodedInsn): void {
  if (!c.long64 || !(c.efer & EFER_SCE) || c.cr4 & CR4_FRED) throw new CpuFault(UD, undefined, undefined, 'SYSRET needs 64-bit mode, IA32_EFER.SCE = 1 and CR4.FRED = 0');
  requireCpl0(c, 'SYSRET');
  const to64 = d.mnemonic === M.Sysretq;
  const rcx = c.gpr(1);
  if (to64 && BigInt(toLinear(rcx)) !== BigInt.asIntN(64, rcx)) throw new CpuFault(GP, 0, undefined, 'SYSRET to a non-canonical RCX');
  if (to64 && !isCanonical(toLinear(rcx))) throw new CpuFault(GP, 0, undefined, 'SYSRET to a non-canonical RCX');
  const star = c.msr.get(IA32_STAR) ?? 0n;
  const base = Number((star >> 48n) & 0xffffn);
  const fromRip = c.rip;
  c.seg[CS] = to64 ? flatCode(((base + 16) & 0xfffc) | 3, 3, true) : flatCode((base & 0xfffc) | 3, 3, false);
  c.seg[SS] = { ...flatData(((base + 8) & 0xfffc) | 3, 3) };
  c.cpl = 3;
  c.rflags = (Number(c.gpr(11) & 0x3c7fd7n) | 2) & ~(RF | VM);
  c.rip = to64 ? toLinear(rcx) : Number(rcx & 0xffffffffn);
  c.syncPrivilege();
  c.trace.emit({ kind: 'return', icount: c.icount, instruction: 'sysret', fromRip: fromLinear(fromRip), toCpl: 3, toRip: fromLinear(c.rip), toRsp: c.gpr(RSP), cslAfter: 0 });
}

function iret(c: Cpu, d: DecodedInsn): void {
  if (!c.long64 && d.mnemonic !== M.Iretq) throw new CpuFault(UD, undefined, undefined, 'IRET in compatibility mode is not implemented');
  iretq(c, d.mnemonic === M.Iretq ? 8 : d.mnemonic === M.Iretd ? 4 : 2);
}

/** LGDT/LIDT/SGDT/SIDT (10-byte operand in 64-bit mode), LLDT/LTR/SLDT/STR (SDM Vol. 2A/2B). */
function descriptorTables(c: Cpu, d: DecodedInsn, a: number): void {
  const baseSize = c.long64 ? 8 : 4;
  switch (d.mnemonic) {
    case M.Lgdt: case M.Lidt: {
      requireCpl0(c, d.mnemonic === M.Lgdt ? 'LGDT' : 'LIDT');
      const limit = Number(c.m.readBig(a, 2));
      const base = toLinear(c.m.readBig(a + 2, baseSize));
      if (d.mnemonic === M.Lgdt) c.gdtr = { base, limit };
      else c.idtr = { base, limit };
      break;
    }
    case M.Sgdt: case M.Sidt: {
      const t = d.mnemonic === M.Sgdt ? c.gdtr : c.idtr;
      c.m.writeBig(a, 2, BigInt(t.limit));
      c.m.writeBig(a + 2, baseSize, fromLinear(t.base));
      break;
    }
    case M.Lldt: {
      requireCpl0(c, 'LLDT');
      const sel = Number(readOp(c, d, 0, a, 2));
      if ((sel & ~3) === 0) c.ldtr = { sel, base: 0, limit: 0, attr: ATTR_UNUSABLE };
      else {
        if (sel & 4) throw new CpuFault(GP, sel & 0xfffc, undefined, 'LLDT selector must reference the GDT');
        const desc = readDescriptor(c, sel, true);
        if (desc.s || desc.type !== 2) throw new CpuFault(GP, sel & 0xfffc, undefined, 'LLDT: not an LDT descriptor');
        if (!desc.present) throw new CpuFault(11, sel & 0xfffc, undefined, 'LLDT: LDT not present');
        c.ldtr = { sel, base: desc.base, limit: desc.limit, attr: desc.attr };
      }
      break;
    }
    case M.Ltr: {
      requireCpl0(c, 'LTR');
      const sel = Number(readOp(c, d, 0, a, 2));
      if ((sel & ~3) === 0 || sel & 4) throw new CpuFault(GP, sel & 0xfffc, undefined, 'LTR needs a GDT selector');
      const desc = readDescriptor(c, sel, true);
      if (desc.s || desc.type !== 9) throw new CpuFault(GP, sel & 0xfffc, undefined, 'LTR: not an available 64-bit TSS');
      if (!desc.present) throw new CpuFault(11, sel & 0xfffc, undefined, 'LTR: TSS not present');
      c.m.supervisor(() => c.m.wr8(desc.address + 5, Number((desc.raw >> 40n) & 0xffn) | 2)); // busy
      c.tr = { sel, base: desc.base, limit: desc.limit, attr: desc.attr | 2 };
      break;
    }
    case M.Sldt: case M.Str: {
      const sel = BigInt(d.mnemonic === M.Sldt ? c.ldtr.sel : c.tr.sel);
      writeOp(c, d, 0, a, sel, d.ops[0].kind === OperandKind.Mem ? 2 : d.ops[0].size);
      break;
    }
  }
  c.rip = d.next;
}

/** JMP/CALL m16:xx: the far forms of JMP and CALL (translate.ts routes them here). */
export function farBranch(c: Cpu, d: DecodedInsn, a: number): void {
  farJumpOrCall(c, d, a, d.mnemonic === M.Call);
}

/** VMCALL (SDM Vol. 2B): a VM exit in VMX non-root operation (the monitor's hypercalls); #UD outside VMX operation. */
function vmcall(c: Cpu, d: DecodedInsn): void {
  if (c.vmx) { c.vmExitPending = c.vmx.vmcall(d.length); return; }
  throw new CpuFault(UD, undefined, undefined, 'VMCALL outside VMX non-root operation (run under the monitor for hypercalls)');
}

/** STAC/CLAC (SDM Vol. 2B): set or clear RFLAGS.AC at CPL 0 (SMAP override). */
function stacClac(c: Cpu, d: DecodedInsn): void {
  requireCpl0(c, d.mnemonic === M.Stac ? 'STAC' : 'CLAC');
  c.rflags = d.mnemonic === M.Stac ? c.rflags | AC : c.rflags & ~AC;
  c.syncPrivilege();
  c.rip = d.next;
}

/** ENTER imm16, imm8 (SDM Vol. 2A ENTER, 64-bit stack). */
function enter(c: Cpu, d: DecodedInsn): void {
  const size = stackSize(c);
  const frameSize = d.immLo & 0xffff;
  const level = d.imm2 & 31;
  let rbp = c.gprNumber(5);
  push(c, size, c.gpr(5));
  const frameTemp = c.gprNumber(RSP);
  for (let k = 1; k < level; k++) {
    rbp -= size;
    push(c, size, c.m.readBig(rbp, size));
  }
  if (level > 0) push(c, size, fromLinear(frameTemp));
  c.setGprNumber(5, frameTemp);
  c.setGprNumber(RSP, c.gprNumber(RSP) - frameSize);
  c.rip = d.next;
}

export const SYSTEM_HELPERS: Partial<Record<Mnemonic, Helper>> = {
  [M.Mov]: moveSpecial,
  [M.Push]: pushPopSegment, [M.Pop]: pushPopSegment,
  [M.Pushf]: pushf, [M.Pushfq]: pushf, [M.Pushfd]: pushf,
  [M.Popf]: popf, [M.Popfq]: popf, [M.Popfd]: popf,
  [M.Cli]: cliSti, [M.Sti]: cliSti,
  [M.Hlt]: hlt,
  [M.Cpuid]: cpuid,
  [M.Rdtsc]: rdtsc, [M.Rdtscp]: rdtsc,
  [M.Rdmsr]: rdmsr, [M.Wrmsr]: wrmsr, [M.Wrmsrns]: wrmsr,
  [M.In]: inOut, [M.Out]: inOut,
  [M.Swapgs]: swapgs,
  [M.Rdfsbase]: fsgsBase, [M.Rdgsbase]: fsgsBase, [M.Wrfsbase]: fsgsBase, [M.Wrgsbase]: fsgsBase,
  [M.Int]: intN, [M.Int3]: int3, [M.Int1]: int1, [M.Into]: into,
  [M.Syscall]: syscall,
  [M.Sysret]: sysret, [M.Sysretq]: sysret,
  [M.Iret]: iret, [M.Iretd]: iret, [M.Iretq]: iret,
  [M.Lgdt]: descriptorTables, [M.Lidt]: descriptorTables, [M.Sgdt]: descriptorTables, [M.Sidt]: descriptorTables,
  [M.Lldt]: descriptorTables, [M.Ltr]: descriptorTables, [M.Sldt]: descriptorTables, [M.Str]: descriptorTables,
  [M.Clts]: clts,
  [M.Invlpg]: invlpg,
  [M.Enter]: enter,
  [M.Stac]: stacClac, [M.Clac]: stacClac,
  [M.Vmcall]: vmcall,
  [M.Retf]: farReturn,
  ...FRED_HELPERS, // FRED hook (exec/fred.ts)
};

export { VIF, VIP };
