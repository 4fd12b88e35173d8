// MOV to/from CR0, CR2, CR3, CR4, CR8 and DR0–DR7, CLTS, INVLPG (SDM Vol. 2B MOV—Move to/from
// Control Registers, Debug Registers; Vol. 3A §2.5 for the CR checks; CR4.FRED: fred-architecture.md
// §1.2). Reserved masks come from src/arch (registerLayout).
import { registerLayout } from '../../../arch/index';
import { CpuFault, GP, MachineStop, UD } from '../../events/fault';
import type { Cpu } from '../cpu';
import { OperandKind, type DecodedInsn } from '../decode';
import { fromLinear } from '../state';

const CR0_PE = 1n, CR0_TS = 8n, CR0_NW = 1n << 29n, CR0_CD = 1n << 30n, CR0_PG = 1n << 31n;
const CR4_PAE = 1n << 5n, CR4_PGE = 1n << 7n, CR4_PCIDE = 1n << 17n, CR4_FRED = 1n << 32n, CR4_DE = 1n << 3n;
const EFER_LMA = 1n << 10n;
const X2APIC_TPR = 0x808;
const CR4_CET = 1n << 23n; // FRED hook: CET is not supported (stop, see writeControlRegister)
/** CR4 bits this CPU model lets software set (the rest are reserved here: no VMX-in-guest, PKE, CET, LA57, PCID). */
const CR4_SUPPORTED = 0x1n | 0x2n | 0x4n | 0x8n | 0x10n | CR4_PAE | 0x40n | CR4_PGE | 0x100n | 0x200n | 0x400n | 0x800n | (1n << 16n) | (1n << 20n) | (1n << 21n) | CR4_FRED;

function requireCpl0(c: Cpu, what: string): void {
  if (c.cpl !== 0) throw new CpuFault(GP, 0, undefined, `${what} at CPL ${c.cpl}`);
}

function crFault(c: Cpu, cr: 0 | 2 | 3 | 4 | 8, value: bigint, why: string): CpuFault {
  if (cr === 4) c.trace.emit({ kind: 'crWrite', icount: c.icount, cr, value, fault: why });
  return new CpuFault(GP, 0, undefined, why);
}

/** Write a control register with all checks; used by MOV CR and by the debugger API. */
export function writeControlRegister(c: Cpu, cr: number, value: bigint): void {
  switch (cr) {
    case 0: {
      if (value & registerLayout('CR0').reservedMask) throw crFault(c, 0, value, 'CR0 bits 63:32 must be 0');
      if ((value & CR0_PG) && !(value & CR0_PE)) throw crFault(c, 0, value, 'CR0.PG = 1 requires CR0.PE = 1');
      if ((value & CR0_NW) && !(value & CR0_CD)) throw crFault(c, 0, value, 'CR0.NW = 1 requires CR0.CD = 1');
      if ((c.efer & EFER_LMA) && !(value & CR0_PG)) throw crFault(c, 0, value, 'clearing CR0.PG in IA-32e mode');
      c.cr0 = value | 0x10n; // ET is fixed to 1
      c.syncPaging();
      c.onTranslationChange();
      return;
    }
    case 2:
      c.cr2 = value;
      return;
    case 3:
      if (value & registerLayout('CR3').reservedMask || value >> 40n) throw crFault(c, 3, value, 'CR3 bits above MAXPHYADDR must be 0');
      c.cr3 = value;
      c.syncPagingKeepGlobal();
      c.onTranslationChange();
      return;
    case 4: {
      const reserved = BigInt.asUintN(64, ~CR4_SUPPORTED) | (value & CR4_PCIDE);
      if (value & CR4_CET) throw new MachineStop('unimplemented', 'CR4.CET = 1: CET shadow stacks and IBT are not supported by this emulator'); // FRED hook: clear stop, not silent wrong behaviour
      if (value & reserved) throw crFault(c, 4, value, `CR4 reserved bits set (0x${(value & reserved).toString(16)})`);
      if ((c.efer & EFER_LMA) && !(value & CR4_PAE)) throw crFault(c, 4, value, 'clearing CR4.PAE in IA-32e mode');
      if ((value & CR4_FRED) && !(c.efer & EFER_LMA)) throw crFault(c, 4, value, 'CR4.FRED = 1 requires IA32_EFER.LMA = 1');
      c.cr4 = value;
      c.trace.emit({ kind: 'crWrite', icount: c.icount, cr: 4, value });
      c.syncPaging();
      c.onTranslationChange();
      return;
    }
    case 8: {
      if (value >> 4n) throw crFault(c, 8, value, 'CR8 bits 63:4 must be 0');
      // CR8 is the task-priority class: it writes APIC TPR[7:4] (SDM Vol. 3A §11.8.6.1).
      c.cr8 = value;
      c.bus.deviceMsrWrite(X2APIC_TPR, value << 4n);
      return;
    }
  }
  throw new CpuFault(UD, undefined, undefined, `CR${cr} does not exist`);
}

export function readControlRegister(c: Cpu, cr: number): bigint {
  switch (cr) {
    case 0: return c.cr0;
    case 2: return c.cr2;
    case 3: return c.cr3;
    case 4: return c.cr4;
    case 8: {
      const tpr = c.bus.deviceMsrRead(X2APIC_TPR);
      return tpr?.ok ? (tpr.value >> 4n) & 0xfn : c.cr8;
    }
  }
  throw new CpuFault(UD, undefined, undefined, `CR${cr} does not exist`);
}

function debugIndex(c: Cpu, n: number): number {
  if (n === 4 || n === 5) {
    if (c.cr4 & CR4_DE) throw new CpuFault(UD, undefined, undefined, `DR${n} with CR4.DE = 1`);
    return n + 2;
  }
  if (n > 7) throw new CpuFault(UD, undefined, undefined, `DR${n} does not exist`);
  return n;
}

/** MOV CRn/DRn, r64 and MOV r64, CRn/DRn (operands are always 64-bit in 64-bit mode). */
export function movSpecial(c: Cpu, d: DecodedInsn): void {
  const [dst, src] = d.ops;
  if (dst.kind === OperandKind.Cr || src.kind === OperandKind.Cr) {
    requireCpl0(c, 'MOV CR');
    const vmx = c.vmx;
    if (dst.kind === OperandKind.Cr) {
      const value = c.gpr(src.reg);
      // VMX non-root: CR0/CR4 guest/host masks, CR3/CR8 exiting (SDM Vol. 3C §26.1.3)
      if (vmx && isVmxCr(dst.reg) && (c.vmExitPending = vmx.crWrite(dst.reg, src.reg, value, d.length))) return;
      writeControlRegister(c, dst.reg, value);
    } else {
      if (vmx && isVmxCr(src.reg) && (c.vmExitPending = vmx.crRead(src.reg, dst.reg, d.length))) return;
      const value = readControlRegister(c, src.reg);
      c.setGpr(dst.reg, vmx && (src.reg === 0 || src.reg === 4) ? vmx.crValue(src.reg, value) : value); // read shadows
    }
  } else {
    requireCpl0(c, 'MOV DR');
    if (dst.kind === OperandKind.Dr) {
      const i = debugIndex(c, dst.reg);
      const value = c.gpr(src.reg);
      if (i >= 6 && value >> 32n) throw new CpuFault(GP, 0, undefined, `DR${i} bits 63:32 must be 0`);
      c.dr[i] = i === 6 ? value | 0xffff0ff0n : i === 7 ? (value | 0x400n) & ~0xd800n : value;
      c.onDebugRegistersChange();
    } else c.setGpr(dst.reg, c.dr[debugIndex(c, src.reg)]);
  }
  c.rip = d.next;
}

function isVmxCr(cr: number): cr is 0 | 3 | 4 | 8 {
  return cr === 0 || cr === 3 || cr === 4 || cr === 8;
}

export function clts(c: Cpu, d: DecodedInsn): void {
  requireCpl0(c, 'CLTS');
  if (c.vmx && (c.vmExitPending = c.vmx.clts(d.length))) return;
  c.cr0 &= ~CR0_TS;
  c.rip = d.next;
}

export function invlpg(c: Cpu, d: DecodedInsn, a: number): void {
  requireCpl0(c, 'INVLPG');
  c.m.invalidate(a);
  c.onTranslationChange();
  c.rip = d.next;
}

export { fromLinear };
