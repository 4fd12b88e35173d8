// Which guest actions cause VM exits, from the VM-execution controls (SDM Vol. 3C §25.6 "VM-Execution
// Control Fields", §26.1 "Instructions That Cause VM Exits"), as pure decisions the run-loop hooks
// ask (docs/vmx.md): exceptions through the exception bitmap (#PF through the error-code mask/match),
// RDMSR/WRMSR through the MSR bitmap, MOV CR/CLTS/LMSW through the guest/host masks, read shadows and
// CR3 targets, port I/O through the I/O bitmaps, and the per-instruction controls. Also the exit
// qualifications of CR accesses and I/O instructions (src/arch layouts).
import {
  CR_ACCESS_QUALIFICATION, EXIT_REASONS, IO_QUALIFICATION, PRIMARY_PROC_CONTROLS, encodeFields, fieldMasks,
} from '../../arch/index';
import type { Vmcs } from './vmcs';

const PROC = fieldMasks(PRIMARY_PROC_CONTROLS);
const PF = 14;
const CR0_PE = 1n, CR0_TS = 8n;

const procSet = (vmcs: Vmcs, mask: bigint): boolean => (vmcs.get('CPU_BASED_VM_EXEC_CONTROL') & mask) !== 0n;

/**
 * Does an exception cause a VM exit (SDM §25.6.3)? Its bit in EXCEPTION_BITMAP decides; for #PF,
 * when (error code & PAGE_FAULT_ERROR_CODE_MASK) = PAGE_FAULT_ERROR_CODE_MATCH bit 14 = 1 means exit,
 * otherwise bit 14 = 0 means exit.
 */
export function exceptionCausesExit(vmcs: Vmcs, vector: number, errorCode = 0): boolean {
  const bit = ((vmcs.get('EXCEPTION_BITMAP') >> BigInt(vector)) & 1n) === 1n;
  if (vector !== PF) return bit;
  const matches = (BigInt(errorCode >>> 0) & vmcs.get('PAGE_FAULT_ERROR_CODE_MASK')) === vmcs.get('PAGE_FAULT_ERROR_CODE_MATCH');
  return matches === bit;
}

/**
 * The 4-KiB MSR bitmap (SDM §25.6.9): read bitmap for MSRs 0–1FFFH at byte 0, for C0000000H–C0001FFFH
 * at 1024, write bitmaps at 2048 and 3072. Held by the monitor; MSR_BITMAP names where it lives.
 */
export class MsrBitmap {
  readonly bytes = new Uint8Array(4096);

  /** Bit position of an access, or undefined for an MSR outside both ranges (always exits). */
  static offset(index: number, write: boolean): number | undefined {
    const base = write ? 2048 * 8 : 0;
    if (index >= 0 && index <= 0x1fff) return base + index;
    if (index >= 0xc000_0000 && index <= 0xc000_1fff) return base + 1024 * 8 + (index - 0xc000_0000);
    return undefined;
  }

  /** A bitmap intercepting reads and writes of the listed MSRs (the policy's msrIntercepts). */
  static intercepting(indices: readonly number[]): MsrBitmap {
    const b = new MsrBitmap();
    for (const i of indices) { b.set(i, false, true); b.set(i, true, true); }
    return b;
  }

  set(index: number, write: boolean, intercept: boolean): void {
    const at = MsrBitmap.offset(index, write);
    if (at === undefined) throw new RangeError(`MSR 0x${index.toString(16)} is outside the MSR-bitmap ranges`);
    if (intercept) this.bytes[at >> 3]! |= 1 << (at & 7);
    else this.bytes[at >> 3]! &= ~(1 << (at & 7));
  }

  intercepts(index: number, write: boolean): boolean {
    const at = MsrBitmap.offset(index, write);
    return at === undefined || ((this.bytes[at >> 3]! >> (at & 7)) & 1) === 1;
  }
}

/** Does RDMSR (write = false) or WRMSR/WRMSRNS of `index` exit? Without "use MSR bitmaps" every access exits. */
export function msrAccessCausesExit(vmcs: Vmcs, bitmap: MsrBitmap, index: number, write: boolean): boolean {
  return !procSet(vmcs, PROC.CPU_BASED_USE_MSR_BITMAPS) || bitmap.intercepts(index, write);
}

/** The I/O bitmaps A (ports 0–7FFFH) and B (8000H–FFFFH) as one 64-Kibit bitmap (SDM §25.6.4). */
export class IoBitmap {
  readonly bits = new Uint8Array(8192);

  set(port: number, intercept: boolean): void {
    if (intercept) this.bits[port >> 3]! |= 1 << (port & 7);
    else this.bits[port >> 3]! &= ~(1 << (port & 7));
  }

  /** Any byte of the access intercepted, or the access wraps past port FFFFH. */
  intercepts(port: number, size: number): boolean {
    if (port + size - 1 > 0xffff) return true;
    for (let p = port; p < port + size; p++) if ((this.bits[p >> 3]! >> (p & 7)) & 1) return true;
    return false;
  }
}

/** Does an IN/OUT/INS/OUTS exit? With "use I/O bitmaps" the bitmaps decide, else "unconditional I/O exiting". */
export function ioCausesExit(vmcs: Vmcs, bitmap: IoBitmap, port: number, size: number): boolean {
  if (procSet(vmcs, PROC.CPU_BASED_USE_IO_BITMAPS)) return bitmap.intercepts(port, size);
  return procSet(vmcs, PROC.CPU_BASED_UNCOND_IO_EXITING);
}

type CrNumber = 0 | 3 | 4 | 8;

/**
 * Does MOV to CRn with `value` exit (SDM §26.1.3)? CR0/CR4: some bit owned by the guest/host mask
 * differs from the read shadow; CR3: "CR3-load exiting" and the value is none of the first
 * CR3_TARGET_COUNT target values; CR8: "CR8-load exiting".
 */
export function crWriteCausesExit(vmcs: Vmcs, cr: CrNumber, value: bigint): boolean {
  switch (cr) {
    case 0:
    case 4: {
      const mask = vmcs.get(`CR${cr}_GUEST_HOST_MASK`);
      return ((value ^ vmcs.get(`CR${cr}_READ_SHADOW`)) & mask) !== 0n;
    }
    case 3: {
      if (!procSet(vmcs, PROC.CPU_BASED_CR3_LOAD_EXITING)) return false;
      const count = Number(vmcs.get('CR3_TARGET_COUNT'));
      for (let i = 0; i < Math.min(count, 4); i++) if (vmcs.get(`CR3_TARGET_VALUE${i}`) === value) return false;
      return true;
    }
    case 8:
      return procSet(vmcs, PROC.CPU_BASED_CR8_LOAD_EXITING);
  }
}

/** Does MOV from CRn exit? Only CR3 ("CR3-store exiting") and CR8 ("CR8-store exiting"). */
export function crReadCausesExit(vmcs: Vmcs, cr: CrNumber): boolean {
  if (cr === 3) return procSet(vmcs, PROC.CPU_BASED_CR3_STORE_EXITING);
  if (cr === 8) return procSet(vmcs, PROC.CPU_BASED_CR8_STORE_EXITING);
  return false;
}

/** What MOV from CR0/CR4 returns in the guest: the read shadow for host-owned bits (SDM §25.6.6). */
export function crReadValue(vmcs: Vmcs, cr: 0 | 4, actual: bigint): bigint {
  const mask = vmcs.get(`CR${cr}_GUEST_HOST_MASK`);
  return (actual & ~mask) | (vmcs.get(`CR${cr}_READ_SHADOW`) & mask);
}

/** CLTS exits when CR0.TS is host-owned and its read shadow is 1 (SDM §26.1.3). */
export function cltsCausesExit(vmcs: Vmcs): boolean {
  return (vmcs.get('CR0_GUEST_HOST_MASK') & vmcs.get('CR0_READ_SHADOW') & CR0_TS) !== 0n;
}

/**
 * LMSW exits (SDM §26.1.3) when CR0.PE is host-owned with shadow PE = 0 and the source sets PE, or
 * when a host-owned bit among MP, EM, TS (bits 3:1) differs from its shadow.
 */
export function lmswCausesExit(vmcs: Vmcs, source: number): boolean {
  const mask = vmcs.get('CR0_GUEST_HOST_MASK');
  const shadow = vmcs.get('CR0_READ_SHADOW');
  const src = BigInt(source & 0xf);
  if ((mask & CR0_PE) !== 0n && (shadow & CR0_PE) === 0n && (src & CR0_PE) !== 0n) return true;
  return ((src ^ shadow) & mask & 0xen) !== 0n;
}

/** Instructions that exit unconditionally in VMX non-root operation (SDM §26.1.2), by basic exit reason. */
export const UNCONDITIONAL_EXIT_REASONS: ReadonlyMap<string, number> = new Map(
  ['CPUID', 'GETSEC', 'INVD', 'VMCALL', 'VMCLEAR', 'VMLAUNCH', 'VMPTRLD', 'VMPTRST', 'VMREAD', 'VMRESUME', 'VMWRITE', 'VMXOFF',
    'VMXON', 'XSETBV'].map((title) => {
    const r = EXIT_REASONS.find((x) => x.title === title);
    if (!r) throw new RangeError(`no exit reason titled ${title}`);
    return [title, r.reason] as const;
  }),
);

/** Instructions that exit when one primary processor-based control is 1 (SDM §26.1.3). */
const CONDITIONAL: Readonly<Record<string, keyof typeof PROC>> = {
  HLT: 'CPU_BASED_HLT_EXITING',
  INVLPG: 'CPU_BASED_INVLPG_EXITING',
  MWAIT: 'CPU_BASED_MWAIT_EXITING',
  MONITOR: 'CPU_BASED_MONITOR_EXITING',
  RDPMC: 'CPU_BASED_RDPMC_EXITING',
  RDTSC: 'CPU_BASED_RDTSC_EXITING',
  RDTSCP: 'CPU_BASED_RDTSC_EXITING',
  PAUSE: 'CPU_BASED_PAUSE_EXITING',
  'MOV DR': 'CPU_BASED_MOV_DR_EXITING',
};

/** Does this instruction exit (unconditional ones, or its primary processor-based control)? */
export function instructionCausesExit(vmcs: Vmcs, instruction: string): boolean {
  if (UNCONDITIONAL_EXIT_REASONS.has(instruction)) return true;
  const control = CONDITIONAL[instruction];
  if (control === undefined) throw new RangeError(`no VM-exit rule for instruction '${instruction}'`);
  return procSet(vmcs, PROC[control]);
}

/** Exit qualification of a CR access (SDM Vol. 3C exit qualification for control-register accesses; vmx-fred.md §3.10). */
export function crAccessQualification(access: {
  cr: number; type: 'movTo' | 'movFrom' | 'clts' | 'lmsw'; gpr?: number; lmswSource?: number; lmswMemory?: boolean;
}): bigint {
  return encodeFields(CR_ACCESS_QUALIFICATION, {
    cr: access.cr,
    accessType: ['movTo', 'movFrom', 'clts', 'lmsw'].indexOf(access.type),
    gpr: access.gpr ?? 0,
    lmswOperandType: access.lmswMemory ?? false,
    lmswSourceData: access.lmswSource ?? 0,
  });
}

/** Exit qualification of an I/O instruction (SDM Vol. 3C exit qualification for I/O instructions; vmx-fred.md §3.10). */
export function ioQualification(io: { port: number; size: 1 | 2 | 4; in: boolean; string?: boolean; rep?: boolean; immediate?: boolean }): bigint {
  return encodeFields(IO_QUALIFICATION, {
    size: io.size - 1, direction: io.in, string: io.string ?? false, rep: io.rep ?? false,
    immediate: io.immediate ?? false, port: io.port,
  });
}
