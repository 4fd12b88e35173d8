// RDMSR / WRMSR / WRMSRNS (SDM Vol. 2B) with the per-MSR checks of src/arch/msr.ts plus the
// state-dependent rules the CPU owns (IA32_EFER: LMA is read-only, LME cannot change with paging on).
// x2APIC registers (0x800–0x8FF) and IA32_APIC_BASE are routed to the interrupt controller.
import { checkMsrWrite, msrByIndex } from '../../../arch/index';
import { CpuFault, GP } from '../../events/fault';
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decode';
import { FS, GS, fromLinear, toLinear } from '../state';

export const IA32_TSC = 0x10, IA32_APIC_BASE = 0x1b, IA32_EFER = 0xc0000080, IA32_STAR = 0xc0000081,
  IA32_FS_BASE = 0xc0000100, IA32_GS_BASE = 0xc0000101, IA32_KERNEL_GS_BASE = 0xc0000102;

/** MSRs whose writes (and refused writes) appear on the trace (ARCHITECTURE §4). */
function traced(index: number): boolean {
  return (index >= 0x1cc && index <= 0x1d4) || index === IA32_STAR || index === IA32_KERNEL_GS_BASE;
}

function isDeviceMsr(index: number): boolean {
  return index === IA32_APIC_BASE || (index >= 0x800 && index <= 0x8ff);
}

export type MsrResult = { ok: true; value: bigint } | { ok: false; reason: string };

export function readMsr(c: Cpu, index: number): MsrResult {
  if (isDeviceMsr(index)) return c.bus.deviceMsrRead(index) ?? { ok: false, reason: `no device implements MSR 0x${index.toString(16)}` };
  switch (index) {
    case IA32_TSC: return { ok: true, value: BigInt(c.icount) + c.tscOffset };
    case IA32_EFER: return { ok: true, value: c.efer };
    case IA32_FS_BASE: return { ok: true, value: fromLinear(c.seg[FS].base) };
    case IA32_GS_BASE: return { ok: true, value: fromLinear(c.seg[GS].base) };
  }
  const def = msrByIndex(index);
  if (!def) return { ok: false, reason: `MSR 0x${index.toString(16)} is not implemented` };
  if (!def.readable) return { ok: false, reason: `${def.name} is write-only` };
  return { ok: true, value: c.msr.get(index) ?? 0n };
}

export function writeMsr(c: Cpu, index: number, value: bigint): { ok: true } | { ok: false; reason: string } {
  if (isDeviceMsr(index)) return c.bus.deviceMsrWrite(index, value) ?? { ok: false, reason: `no device implements MSR 0x${index.toString(16)}` };
  const def = msrByIndex(index);
  if (!def) return { ok: false, reason: `MSR 0x${index.toString(16)} is not implemented` };
  const check = checkMsrWrite(def, value);
  if (!check.ok) return { ok: false, reason: check.rule };
  switch (index) {
    case IA32_TSC:
      c.tscOffset = value - BigInt(c.icount);
      return { ok: true };
    case IA32_EFER: {
      const lme = 1n << 8n, lma = 1n << 10n;
      if ((c.cr0 >> 31n) & 1n && (value & lme) !== (c.efer & lme)) return { ok: false, reason: 'IA32_EFER.LME cannot change while paging is enabled' };
      c.efer = (value & ~lma) | (c.efer & lma);
      c.syncPaging();
      c.onTranslationChange();
      return { ok: true };
    }
    case IA32_FS_BASE: c.seg[FS].base = toLinear(value); return { ok: true };
    case IA32_GS_BASE: c.seg[GS].base = toLinear(value); return { ok: true };
  }
  c.msr.set(index, value);
  return { ok: true };
}

export function rdmsr(c: Cpu, d: DecodedInsn): void {
  if (c.cpl !== 0) throw new CpuFault(GP, 0, undefined, `RDMSR at CPL ${c.cpl}`);
  const index = Number(c.gpr(1) & 0xffffffffn);
  if (c.vmx && (c.vmExitPending = c.vmx.msr(index, false, d.length))) return; // MSR bitmap (SDM §26.1.3)
  emulateRdmsr(c, index);
  c.rip = d.next;
}

/** RDMSR's effect after the privilege check (also the monitor's emulation of an RDMSR exit). */
export function emulateRdmsr(c: Cpu, index: number): void {
  const result = readMsr(c, index);
  if (!result.ok) throw new CpuFault(GP, 0, undefined, `RDMSR: ${result.reason}`);
  c.setGpr(0, result.value & 0xffffffffn);
  c.setGpr(2, result.value >> 32n);
}

export function wrmsr(c: Cpu, d: DecodedInsn): void {
  if (c.cpl !== 0) throw new CpuFault(GP, 0, undefined, `WRMSR at CPL ${c.cpl}`);
  const index = Number(c.gpr(1) & 0xffffffffn);
  if (c.vmx && (c.vmExitPending = c.vmx.msr(index, true, d.length))) return; // MSR bitmap (SDM §26.1.3)
  emulateWrmsr(c, index, ((c.gpr(2) & 0xffffffffn) << 32n) | (c.gpr(0) & 0xffffffffn));
  c.rip = d.next;
}

/** WRMSR's effect after the privilege check, with its trace record (also the monitor's emulation of a WRMSR exit). */
export function emulateWrmsr(c: Cpu, index: number, value: bigint): void {
  const result = writeMsr(c, index, value);
  const name = msrByIndex(index)?.name ?? `MSR 0x${index.toString(16)}`;
  if (traced(index)) c.trace.emit({ kind: 'msrWrite', icount: c.icount, msr: index, name, value, fault: result.ok ? undefined : result.reason });
  if (!result.ok) throw new CpuFault(GP, 0, undefined, `WRMSR: ${result.reason}`);
}
