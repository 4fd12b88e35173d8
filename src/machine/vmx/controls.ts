// The VMCS controls and host state the monitor programs, the way KVM (with the FRED series v9) does
// for a 64-bit guest with EPT (vmx-fred.md §1.3, §1.9, §4; KVM vmx.c setup_vmcs_config/init_vmcs):
// external-interrupt and NMI exiting with virtual NMIs, HLT and unconditional I/O exiting, MSR bitmaps,
// EPT + VPID + unrestricted guest, a 64-bit host that acknowledges interrupts on exit, PAT/EFER
// loads, and — with FRED — exit control 31, secondary exit controls save/load FRED, entry control 23
// on every entry/exit ("just do the unnecessary FRED state load/store", v9 patch 02). Policy decides
// the exception bitmap and the MSR bitmap. Every control is checked against the capability MSRs.
import {
  CR0_BITS, CR4_BITS, ENTRY_CONTROLS, EPTP_BITS, PIN_BASED_CONTROLS, PRIMARY_EXIT_CONTROLS, PRIMARY_PROC_CONTROLS,
  SECONDARY_EXIT_CONTROLS, SECONDARY_PROC_CONTROLS, fieldMasks,
} from '../../arch/index';
import { capabilityMsr, controlAllowed, type VmxCapabilities } from './capabilities';
import { MsrBitmap } from './intercepts';
import type { VmxPolicy } from './policy';
import type { Vmcs } from './vmcs';

const PIN = fieldMasks(PIN_BASED_CONTROLS);
const PROC = fieldMasks(PRIMARY_PROC_CONTROLS);
const PROC2 = fieldMasks(SECONDARY_PROC_CONTROLS);
const EXIT = fieldMasks(PRIMARY_EXIT_CONTROLS);
const EXIT2 = fieldMasks(SECONDARY_EXIT_CONTROLS);
const ENTRY = fieldMasks(ENTRY_CONTROLS);
const ALL64 = (1n << 64n) - 1n;

/**
 * Host memory the monitor owns (outside guest RAM, host-physical): the MSR bitmap and the EPT PML4.
 * The simulated host never maps them into the guest; they are addresses for the VMCS fields.
 */
export const MONITOR_MEMORY = { msrBitmap: 0xf_0000_0000n, eptPml4: 0xf_0000_1000n } as const;

/** CR0 bits KVM lets the guest own (KVM_POSSIBLE_CR0_GUEST_BITS with EPT): TS and WP. */
const GUEST_OWNED_CR0 = CR0_BITS.TS | CR0_BITS.WP;
/**
 * CR4 bits KVM lets the guest own (KVM_POSSIBLE_CR4_GUEST_BITS). CR4.FRED is not among them in the
 * v9 series as found (vmx-fred.md §1.10, UNCONFIRMED point 6), so a guest write to it exits.
 */
const GUEST_OWNED_CR4 = CR4_BITS.PVI | CR4_BITS.DE | CR4_BITS.PCE | CR4_BITS.OSFXSR | CR4_BITS.OSXMMEXCPT | CR4_BITS.LA57
  | CR4_BITS.PGE | CR4_BITS.TSD | CR4_BITS.FSGSBASE;

/** The IA32_PAT power-on value (SDM Vol. 3A §12.12.4). */
export const DEFAULT_PAT = 0x0007_0406_0007_0406n;

/**
 * The host the monitor pretends to be (a Linux kernel with FRED, vmx-fred.md §1.9 "Host values KVM
 * programs"): restored by every VM exit. FRED: entry point, 64-byte red zone; stack levels #DB 1,
 * NMI 2, #DF 3, #MC 2; RSP1–3 the #DB/NMI/#DF stacks; SSP1–3 = 0.
 */
export const HOST_STATE: Readonly<Record<string, bigint>> = {
  HOST_CR0: CR0_BITS.PE | CR0_BITS.MP | CR0_BITS.ET | CR0_BITS.NE | CR0_BITS.WP | CR0_BITS.PG,
  HOST_CR3: 0xf_0001_0000n,
  HOST_CR4: CR4_BITS.PAE | CR4_BITS.PGE | CR4_BITS.OSFXSR | CR4_BITS.OSXMMEXCPT | CR4_BITS.VMXE | CR4_BITS.FRED,
  HOST_CS_SELECTOR: 0x10n, HOST_SS_SELECTOR: 0x18n, HOST_DS_SELECTOR: 0n, HOST_ES_SELECTOR: 0n,
  HOST_FS_SELECTOR: 0n, HOST_GS_SELECTOR: 0n, HOST_TR_SELECTOR: 0x40n,
  HOST_FS_BASE: 0n, HOST_GS_BASE: 0xffff_8880_7fc0_0000n, HOST_TR_BASE: 0xffff_fe00_0000_3000n,
  HOST_GDTR_BASE: 0xffff_fe00_0000_1000n, HOST_IDTR_BASE: 0xffff_fe00_0000_0000n,
  HOST_IA32_SYSENTER_ESP: 0n, HOST_IA32_SYSENTER_EIP: 0n,
  HOST_RSP: 0xffff_c900_0000_7f00n, HOST_RIP: 0xffff_ffff_8100_0000n,
  HOST_IA32_EFER: 0xd01n, HOST_IA32_PAT: DEFAULT_PAT,
  HOST_IA32_FRED_CONFIG: 0xffff_ffff_81a0_0000n | (1n << 6n),
  HOST_IA32_FRED_STKLVLS: (1n << 2n) | (2n << 4n) | (3n << 16n) | (2n << 36n),
  HOST_IA32_FRED_RSP1: 0xffff_fe00_0001_0000n, HOST_IA32_FRED_RSP2: 0xffff_fe00_0002_0000n,
  HOST_IA32_FRED_RSP3: 0xffff_fe00_0003_0000n,
};

/** The controls before they are checked against the capabilities (exported for the tests and the docs). */
export function kvmControls(caps: VmxCapabilities): Readonly<Record<string, bigint>> {
  const allowed0 = (msr: string): bigint => capabilityMsr(caps, msr) & 0xffff_ffffn;
  return {
    PIN_BASED_VM_EXEC_CONTROL: allowed0('IA32_VMX_TRUE_PINBASED_CTLS') | PIN.PIN_BASED_EXT_INTR_MASK | PIN.PIN_BASED_NMI_EXITING
      | PIN.PIN_BASED_VIRTUAL_NMIS,
    CPU_BASED_VM_EXEC_CONTROL: allowed0('IA32_VMX_TRUE_PROCBASED_CTLS') | PROC.CPU_BASED_HLT_EXITING
      | PROC.CPU_BASED_UNCOND_IO_EXITING | PROC.CPU_BASED_USE_MSR_BITMAPS | PROC.CPU_BASED_MWAIT_EXITING
      | PROC.CPU_BASED_MONITOR_EXITING | PROC.CPU_BASED_RDPMC_EXITING | PROC.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
    SECONDARY_VM_EXEC_CONTROL: PROC2.SECONDARY_EXEC_ENABLE_EPT | PROC2.SECONDARY_EXEC_ENABLE_VPID
      | PROC2.SECONDARY_EXEC_UNRESTRICTED_GUEST | PROC2.SECONDARY_EXEC_ENABLE_RDTSCP,
    VM_EXIT_CONTROLS: allowed0('IA32_VMX_TRUE_EXIT_CTLS') | EXIT.VM_EXIT_HOST_ADDR_SPACE_SIZE | EXIT.VM_EXIT_ACK_INTR_ON_EXIT
      | EXIT.VM_EXIT_SAVE_IA32_PAT | EXIT.VM_EXIT_LOAD_IA32_PAT | EXIT.VM_EXIT_LOAD_IA32_EFER
      | (caps.fred ? EXIT.VM_EXIT_ACTIVATE_SECONDARY_CONTROLS : 0n),
    ...(caps.fred ? { SECONDARY_VM_EXIT_CONTROLS: EXIT2.SECONDARY_VM_EXIT_SAVE_IA32_FRED | EXIT2.SECONDARY_VM_EXIT_LOAD_IA32_FRED } : {}),
    VM_ENTRY_CONTROLS: allowed0('IA32_VMX_TRUE_ENTRY_CTLS') | ENTRY.VM_ENTRY_IA32E_MODE | ENTRY.VM_ENTRY_LOAD_IA32_PAT
      | ENTRY.VM_ENTRY_LOAD_IA32_EFER | (caps.fred ? ENTRY.VM_ENTRY_LOAD_IA32_FRED : 0n),
  };
}

/** Which capability MSR governs each control field (TRUE MSRs: IA32_VMX_BASIC[55] = 1). */
const CONTROL_CAPABILITY: Readonly<Record<string, string>> = {
  PIN_BASED_VM_EXEC_CONTROL: 'IA32_VMX_TRUE_PINBASED_CTLS',
  CPU_BASED_VM_EXEC_CONTROL: 'IA32_VMX_TRUE_PROCBASED_CTLS',
  SECONDARY_VM_EXEC_CONTROL: 'IA32_VMX_PROCBASED_CTLS2',
  VM_EXIT_CONTROLS: 'IA32_VMX_TRUE_EXIT_CTLS',
  SECONDARY_VM_EXIT_CONTROLS: 'IA32_VMX_EXIT_CTLS2',
  VM_ENTRY_CONTROLS: 'IA32_VMX_TRUE_ENTRY_CTLS',
};

export interface MonitorSetup {
  /** The MSR bitmap MSR_BITMAP points at (policy.msrIntercepts). */
  readonly msrBitmap: MsrBitmap;
}

/**
 * Program the controls, the host state and the monitor-owned pointers into `vmcs` (guest state is
 * captured separately). Throws if a control the monitor needs is not offered by `caps` — a
 * programming error, not guest input.
 */
export function setUpVmcs(vmcs: Vmcs, caps: VmxCapabilities, policy: VmxPolicy): MonitorSetup {
  for (const [field, value] of Object.entries(kvmControls(caps))) {
    const check = controlAllowed(caps, CONTROL_CAPABILITY[field]!, value);
    if (!check.ok) {
      throw new RangeError(`${field} = 0x${value.toString(16)} is not allowed by ${CONTROL_CAPABILITY[field]} `
        + `(missing 0x${check.missing.toString(16)}, not allowed 0x${check.notAllowed.toString(16)})`);
    }
    vmcs.set(field, value);
  }
  for (const [field, value] of Object.entries(HOST_STATE)) if (caps.fred || !field.includes('FRED')) vmcs.set(field, value);
  if (!caps.fred) vmcs.set('HOST_CR4', HOST_STATE['HOST_CR4']! & ~CR4_BITS.FRED);
  vmcs.set('EXCEPTION_BITMAP', BigInt(policy.exceptionBitmap));
  vmcs.set('PAGE_FAULT_ERROR_CODE_MASK', 0n);
  vmcs.set('PAGE_FAULT_ERROR_CODE_MATCH', 0n);
  vmcs.set('CR3_TARGET_COUNT', 0n);
  vmcs.set('CR0_GUEST_HOST_MASK', ALL64 & ~GUEST_OWNED_CR0);
  vmcs.set('CR4_GUEST_HOST_MASK', ALL64 & ~GUEST_OWNED_CR4);
  vmcs.set('MSR_BITMAP', MONITOR_MEMORY.msrBitmap);
  vmcs.set('EPT_POINTER', MONITOR_MEMORY.eptPml4 | 6n | (3n << 3n) | EPTP_BITS.AD_ENABLE);
  vmcs.set('VIRTUAL_PROCESSOR_ID', 1n);
  vmcs.set('VMCS_LINK_POINTER', ALL64);
  return { msrBitmap: MsrBitmap.intercepting(policy.msrIntercepts) };
}
