// VMX control fields bit by bit (SDM Vol. 3C §25.6.1–§25.6.2, §25.7.1, §25.8.1; vmx-fred.md §1.3,
// §3.4; names are Linux's). Each control is one `bit(…)`; its assembler constant is the mask under
// the Linux name (e.g. VM_ENTRY_LOAD_IA32_FRED = 1 << 23).

import { bit, type BitLayout } from './bitField';

export interface ControlFieldLayout {
  /** VMCS field name the bits live in. */
  readonly field: string;
  readonly title: string;
  /** Bits with a named control (names are the constants: globally unique). */
  readonly bits: BitLayout;
  /** Default-1 class (bits that are 1 in the non-TRUE capability MSR's allowed-0 half). */
  readonly default1: bigint;
}

export const PIN_BASED_CONTROLS: BitLayout = [
  bit('PIN_BASED_EXT_INTR_MASK', 0, 'External-interrupt exiting'),
  bit('PIN_BASED_NMI_EXITING', 3, 'NMI exiting'),
  bit('PIN_BASED_VIRTUAL_NMIS', 5, 'Virtual NMIs'),
  bit('PIN_BASED_VMX_PREEMPTION_TIMER', 6, 'Activate VMX-preemption timer'),
  bit('PIN_BASED_POSTED_INTR', 7, 'Process posted interrupts'),
];

export const PRIMARY_PROC_CONTROLS: BitLayout = [
  bit('CPU_BASED_INTR_WINDOW_EXITING', 2, 'Interrupt-window exiting'),
  bit('CPU_BASED_USE_TSC_OFFSETTING', 3, 'Use TSC offsetting'),
  bit('CPU_BASED_HLT_EXITING', 7, 'HLT exiting'),
  bit('CPU_BASED_INVLPG_EXITING', 9, 'INVLPG exiting'),
  bit('CPU_BASED_MWAIT_EXITING', 10, 'MWAIT exiting'),
  bit('CPU_BASED_RDPMC_EXITING', 11, 'RDPMC exiting'),
  bit('CPU_BASED_RDTSC_EXITING', 12, 'RDTSC exiting'),
  bit('CPU_BASED_CR3_LOAD_EXITING', 15, 'CR3-load exiting'),
  bit('CPU_BASED_CR3_STORE_EXITING', 16, 'CR3-store exiting'),
  bit('CPU_BASED_ACTIVATE_TERTIARY_CONTROLS', 17, 'Activate tertiary controls'),
  bit('CPU_BASED_CR8_LOAD_EXITING', 19, 'CR8-load exiting'),
  bit('CPU_BASED_CR8_STORE_EXITING', 20, 'CR8-store exiting'),
  bit('CPU_BASED_TPR_SHADOW', 21, 'Use TPR shadow'),
  bit('CPU_BASED_NMI_WINDOW_EXITING', 22, 'NMI-window exiting'),
  bit('CPU_BASED_MOV_DR_EXITING', 23, 'MOV-DR exiting'),
  bit('CPU_BASED_UNCOND_IO_EXITING', 24, 'Unconditional I/O exiting'),
  bit('CPU_BASED_USE_IO_BITMAPS', 25, 'Use I/O bitmaps'),
  bit('CPU_BASED_MONITOR_TRAP_FLAG', 27, 'Monitor trap flag'),
  bit('CPU_BASED_USE_MSR_BITMAPS', 28, 'Use MSR bitmaps'),
  bit('CPU_BASED_MONITOR_EXITING', 29, 'MONITOR exiting'),
  bit('CPU_BASED_PAUSE_EXITING', 30, 'PAUSE exiting'),
  bit('CPU_BASED_ACTIVATE_SECONDARY_CONTROLS', 31, 'Activate secondary controls'),
];

export const SECONDARY_PROC_CONTROLS: BitLayout = [
  bit('SECONDARY_EXEC_VIRTUALIZE_APIC_ACCESSES', 0, 'Virtualize APIC accesses'),
  bit('SECONDARY_EXEC_ENABLE_EPT', 1, 'Enable EPT'),
  bit('SECONDARY_EXEC_DESC', 2, 'Descriptor-table exiting'),
  bit('SECONDARY_EXEC_ENABLE_RDTSCP', 3, 'Enable RDTSCP'),
  bit('SECONDARY_EXEC_VIRTUALIZE_X2APIC_MODE', 4, 'Virtualize x2APIC mode'),
  bit('SECONDARY_EXEC_ENABLE_VPID', 5, 'Enable VPID'),
  bit('SECONDARY_EXEC_WBINVD_EXITING', 6, 'WBINVD exiting'),
  bit('SECONDARY_EXEC_UNRESTRICTED_GUEST', 7, 'Unrestricted guest'),
  bit('SECONDARY_EXEC_APIC_REGISTER_VIRT', 8, 'APIC-register virtualization'),
  bit('SECONDARY_EXEC_VIRTUAL_INTR_DELIVERY', 9, 'Virtual-interrupt delivery'),
  bit('SECONDARY_EXEC_PAUSE_LOOP_EXITING', 10, 'PAUSE-loop exiting'),
  bit('SECONDARY_EXEC_RDRAND_EXITING', 11, 'RDRAND exiting'),
  bit('SECONDARY_EXEC_ENABLE_INVPCID', 12, 'Enable INVPCID'),
  bit('SECONDARY_EXEC_ENABLE_VMFUNC', 13, 'Enable VM functions'),
  bit('SECONDARY_EXEC_SHADOW_VMCS', 14, 'VMCS shadowing'),
  bit('SECONDARY_EXEC_ENCLS_EXITING', 15, 'Enable ENCLS exiting'),
  bit('SECONDARY_EXEC_RDSEED_EXITING', 16, 'RDSEED exiting'),
  bit('SECONDARY_EXEC_ENABLE_PML', 17, 'Enable PML'),
  bit('SECONDARY_EXEC_EPT_VIOLATION_VE', 18, 'EPT-violation #VE'),
  bit('SECONDARY_EXEC_PT_CONCEAL_VMX', 19, 'Conceal VMX from PT'),
  bit('SECONDARY_EXEC_ENABLE_XSAVES', 20, 'Enable XSAVES/XRSTORS'),
  bit('SECONDARY_EXEC_MODE_BASED_EPT_EXEC', 22, 'Mode-based execute control for EPT'),
  bit('SECONDARY_EXEC_ENABLE_SPP', 23, 'Sub-page write permissions for EPT'),
  bit('SECONDARY_EXEC_PT_USE_GPA', 24, 'Intel PT uses guest physical addresses'),
  bit('SECONDARY_EXEC_TSC_SCALING', 25, 'Use TSC scaling'),
  bit('SECONDARY_EXEC_ENABLE_USR_WAIT_PAUSE', 26, 'Enable user wait and pause'),
  bit('SECONDARY_EXEC_ENABLE_PCONFIG', 27, 'Enable PCONFIG'),
  bit('SECONDARY_EXEC_ENCLV_EXITING', 28, 'Enable ENCLV exiting'),
  bit('SECONDARY_EXEC_BUS_LOCK_DETECTION', 30, 'VMM bus-lock detection'),
  bit('SECONDARY_EXEC_NOTIFY_VM_EXITING', 31, 'Instruction timeout'),
];

export const TERTIARY_PROC_CONTROLS: BitLayout = [
  bit('TERTIARY_EXEC_LOADIWKEY_EXITING', 0, 'LOADIWKEY exiting'),
  bit('TERTIARY_EXEC_ENABLE_HLAT', 1, 'Enable HLAT'),
  bit('TERTIARY_EXEC_EPT_PAGING_WRITE', 2, 'EPT paging-write control'),
  bit('TERTIARY_EXEC_GUEST_PAGING_VERIFY', 3, 'Guest-paging verification'),
  bit('TERTIARY_EXEC_IPI_VIRT', 4, 'IPI virtualization'),
  bit('TERTIARY_EXEC_VIRT_SPEC_CTRL', 7, 'Virtualize IA32_SPEC_CTRL'),
];

export const PRIMARY_EXIT_CONTROLS: BitLayout = [
  bit('VM_EXIT_SAVE_DEBUG_CONTROLS', 2, 'Save debug controls (DR7, IA32_DEBUGCTL)'),
  bit('VM_EXIT_HOST_ADDR_SPACE_SIZE', 9, 'Host address-space size (64-bit host)'),
  bit('VM_EXIT_LOAD_IA32_PERF_GLOBAL_CTRL', 12, 'Load IA32_PERF_GLOBAL_CTRL'),
  bit('VM_EXIT_ACK_INTR_ON_EXIT', 15, 'Acknowledge interrupt on exit'),
  bit('VM_EXIT_SAVE_IA32_PAT', 18, 'Save IA32_PAT'),
  bit('VM_EXIT_LOAD_IA32_PAT', 19, 'Load IA32_PAT'),
  bit('VM_EXIT_SAVE_IA32_EFER', 20, 'Save IA32_EFER'),
  bit('VM_EXIT_LOAD_IA32_EFER', 21, 'Load IA32_EFER'),
  bit('VM_EXIT_SAVE_VMX_PREEMPTION_TIMER', 22, 'Save VMX-preemption timer value'),
  bit('VM_EXIT_CLEAR_BNDCFGS', 23, 'Clear IA32_BNDCFGS'),
  bit('VM_EXIT_PT_CONCEAL_PIP', 24, 'Conceal VMX from PT'),
  bit('VM_EXIT_CLEAR_IA32_RTIT_CTL', 25, 'Clear IA32_RTIT_CTL'),
  bit('VM_EXIT_CLEAR_IA32_LBR_CTL', 26, 'Clear IA32_LBR_CTL'),
  bit('VM_EXIT_CLEAR_UINV', 27, 'Clear UINV'),
  bit('VM_EXIT_LOAD_CET_STATE', 28, 'Load CET state'),
  bit('VM_EXIT_LOAD_IA32_PKRS', 29, 'Load PKRS'),
  bit('VM_EXIT_SAVE_IA32_PERF_GLOBAL_CTRL', 30, 'Save IA32_PERF_GLOBAL_CTRL'),
  bit('VM_EXIT_ACTIVATE_SECONDARY_CONTROLS', 31, 'Activate secondary controls (field 0x2044)'),
];

export const SECONDARY_EXIT_CONTROLS: BitLayout = [
  bit('SECONDARY_VM_EXIT_SAVE_IA32_FRED', 0, 'Save guest FRED state into GUEST_IA32_FRED_*'),
  bit('SECONDARY_VM_EXIT_LOAD_IA32_FRED', 1, 'Load host FRED state from HOST_IA32_FRED_*'),
  bit('SECONDARY_VM_EXIT_LOAD_IA32_SPEC_CTRL', 2, 'Load host IA32_SPEC_CTRL'),
  bit('SECONDARY_VM_EXIT_PREMATURELY_BUSY_SHSTK', 3, 'Prematurely busy shadow stack'),
];

export const ENTRY_CONTROLS: BitLayout = [
  bit('VM_ENTRY_LOAD_DEBUG_CONTROLS', 2, 'Load debug controls (DR7, IA32_DEBUGCTL)'),
  bit('VM_ENTRY_IA32E_MODE', 9, 'IA-32e mode guest'),
  bit('VM_ENTRY_SMM', 10, 'Entry to SMM'),
  bit('VM_ENTRY_DEACT_DUAL_MONITOR', 11, 'Deactivate dual-monitor treatment'),
  bit('VM_ENTRY_LOAD_IA32_PERF_GLOBAL_CTRL', 13, 'Load IA32_PERF_GLOBAL_CTRL'),
  bit('VM_ENTRY_LOAD_IA32_PAT', 14, 'Load IA32_PAT'),
  bit('VM_ENTRY_LOAD_IA32_EFER', 15, 'Load IA32_EFER'),
  bit('VM_ENTRY_LOAD_BNDCFGS', 16, 'Load IA32_BNDCFGS'),
  bit('VM_ENTRY_PT_CONCEAL_PIP', 17, 'Conceal VMX from PT'),
  bit('VM_ENTRY_LOAD_IA32_RTIT_CTL', 18, 'Load IA32_RTIT_CTL'),
  bit('VM_ENTRY_LOAD_UINV', 19, 'Load UINV'),
  bit('VM_ENTRY_LOAD_CET_STATE', 20, 'Load CET state'),
  bit('VM_ENTRY_LOAD_IA32_LBR_CTL', 21, 'Load guest IA32_LBR_CTL'),
  bit('VM_ENTRY_LOAD_IA32_PKRS', 22, 'Load PKRS'),
  bit('VM_ENTRY_LOAD_IA32_FRED', 23, 'Load guest FRED state from GUEST_IA32_FRED_*'),
  bit('VM_ENTRY_LOAD_IA32_SPEC_CTRL', 24, 'Load guest IA32_SPEC_CTRL'),
];

export const CONTROL_FIELD_LAYOUTS: readonly ControlFieldLayout[] = [
  { field: 'PIN_BASED_VM_EXEC_CONTROL', title: 'Pin-based VM-execution controls', bits: PIN_BASED_CONTROLS, default1: 0x16n },
  { field: 'CPU_BASED_VM_EXEC_CONTROL', title: 'Primary processor-based VM-execution controls', bits: PRIMARY_PROC_CONTROLS, default1: 0x0401e172n },
  { field: 'SECONDARY_VM_EXEC_CONTROL', title: 'Secondary processor-based VM-execution controls', bits: SECONDARY_PROC_CONTROLS, default1: 0n },
  { field: 'TERTIARY_VM_EXEC_CONTROL', title: 'Tertiary processor-based VM-execution controls', bits: TERTIARY_PROC_CONTROLS, default1: 0n },
  { field: 'VM_EXIT_CONTROLS', title: 'Primary VM-exit controls', bits: PRIMARY_EXIT_CONTROLS, default1: 0x00036dffn },
  { field: 'SECONDARY_VM_EXIT_CONTROLS', title: 'Secondary VM-exit controls', bits: SECONDARY_EXIT_CONTROLS, default1: 0n },
  { field: 'VM_ENTRY_CONTROLS', title: 'VM-entry controls', bits: ENTRY_CONTROLS, default1: 0x000011ffn },
];

/** Names of the controls set in `value` for the given layout (unknown set bits as `bit<n>`). */
export function decodeControls(layout: BitLayout, value: bigint): string[] {
  const out: string[] = [];
  for (let i = 0; i < 64; i++) {
    if (((value >> BigInt(i)) & 1n) === 0n) continue;
    out.push(layout.find((b) => b.lsb === i)?.name ?? `bit${i}`);
  }
  return out;
}
