// Basic VM-exit reasons (SDM Vol. 3C Appendix C; vmx-fred.md §3.6, names after Linux uapi vmx.h),
// the exit-reason field layout (§3.5) and the exit-qualification layouts a small monitor needs
// (§3.10: CR access, MOV DR, I/O instruction, EPT violation).

import { bit, bits, type BitLayout } from './bitField';

export interface ExitReasonInfo {
  readonly reason: number;
  /** Constant suffix: EXIT_REASON_<short>. */
  readonly short: string;
  /** Title in the words of vmx-fred.md §3.6. */
  readonly title: string;
  /** A VM-entry failure reason (reported with exit-reason bit 31 set). */
  readonly entryFailure: boolean;
}

const R = (reason: number, short: string, title: string, entryFailure = false): ExitReasonInfo =>
  ({ reason, short, title, entryFailure });

export const EXIT_REASONS: readonly ExitReasonInfo[] = [
  R(0, 'EXCEPTION_NMI', 'exception or NMI'),
  R(1, 'EXTERNAL_INTERRUPT', 'external interrupt'),
  R(2, 'TRIPLE_FAULT', 'triple fault'),
  R(3, 'INIT_SIGNAL', 'INIT'),
  R(4, 'SIPI_SIGNAL', 'SIPI'),
  R(5, 'IO_SMI', 'I/O SMI'),
  R(6, 'OTHER_SMI', 'other SMI'),
  R(7, 'INTERRUPT_WINDOW', 'interrupt window'),
  R(8, 'NMI_WINDOW', 'NMI window'),
  R(9, 'TASK_SWITCH', 'task switch'),
  R(10, 'CPUID', 'CPUID'),
  R(11, 'GETSEC', 'GETSEC'),
  R(12, 'HLT', 'HLT'),
  R(13, 'INVD', 'INVD'),
  R(14, 'INVLPG', 'INVLPG'),
  R(15, 'RDPMC', 'RDPMC'),
  R(16, 'RDTSC', 'RDTSC'),
  R(17, 'RSM', 'RSM'),
  R(18, 'VMCALL', 'VMCALL'),
  R(19, 'VMCLEAR', 'VMCLEAR'),
  R(20, 'VMLAUNCH', 'VMLAUNCH'),
  R(21, 'VMPTRLD', 'VMPTRLD'),
  R(22, 'VMPTRST', 'VMPTRST'),
  R(23, 'VMREAD', 'VMREAD'),
  R(24, 'VMRESUME', 'VMRESUME'),
  R(25, 'VMWRITE', 'VMWRITE'),
  R(26, 'VMOFF', 'VMXOFF'),
  R(27, 'VMON', 'VMXON'),
  R(28, 'CR_ACCESS', 'CR access'),
  R(29, 'DR_ACCESS', 'MOV DR'),
  R(30, 'IO_INSTRUCTION', 'I/O instruction'),
  R(31, 'MSR_READ', 'RDMSR'),
  R(32, 'MSR_WRITE', 'WRMSR'),
  R(33, 'INVALID_STATE', 'entry failure: invalid guest state', true),
  R(34, 'MSR_LOAD_FAIL', 'entry failure: MSR loading', true),
  R(36, 'MWAIT_INSTRUCTION', 'MWAIT'),
  R(37, 'MONITOR_TRAP_FLAG', 'MTF'),
  R(39, 'MONITOR_INSTRUCTION', 'MONITOR'),
  R(40, 'PAUSE_INSTRUCTION', 'PAUSE'),
  R(41, 'MCE_DURING_VMENTRY', 'entry failure: machine check', true),
  R(43, 'TPR_BELOW_THRESHOLD', 'TPR below threshold'),
  R(44, 'APIC_ACCESS', 'APIC access'),
  R(45, 'EOI_INDUCED', 'virtualized EOI'),
  R(46, 'GDTR_IDTR', 'GDTR/IDTR access'),
  R(47, 'LDTR_TR', 'LDTR/TR access'),
  R(48, 'EPT_VIOLATION', 'EPT violation'),
  R(49, 'EPT_MISCONFIG', 'EPT misconfiguration'),
  R(50, 'INVEPT', 'INVEPT'),
  R(51, 'RDTSCP', 'RDTSCP'),
  R(52, 'PREEMPTION_TIMER', 'preemption timer'),
  R(53, 'INVVPID', 'INVVPID'),
  R(54, 'WBINVD', 'WBINVD'),
  R(55, 'XSETBV', 'XSETBV'),
  R(56, 'APIC_WRITE', 'APIC write'),
  R(57, 'RDRAND', 'RDRAND'),
  R(58, 'INVPCID', 'INVPCID'),
  R(59, 'VMFUNC', 'VMFUNC'),
  R(60, 'ENCLS', 'ENCLS'),
  R(61, 'RDSEED', 'RDSEED'),
  R(62, 'PML_FULL', 'PML full'),
  R(63, 'XSAVES', 'XSAVES'),
  R(64, 'XRSTORS', 'XRSTORS'),
  R(65, 'PCONFIG', 'PCONFIG'),
  R(66, 'SPP', 'SPP'),
  R(67, 'UMWAIT', 'UMWAIT'),
  R(68, 'TPAUSE', 'TPAUSE'),
  R(69, 'LOADIWKEY', 'LOADIWKEY'),
  R(70, 'ENCLV', 'ENCLV'),
  R(71, 'SGX_CONFLICT', 'SGX conflict'), // Intel TDX module vm_exit_basic_reason_e; not in vmx-fred.md
  R(72, 'ENQCMD_PASID', 'ENQCMD PASID'),
  R(73, 'ENQCMDS_PASID', 'ENQCMDS PASID'),
  R(74, 'BUS_LOCK', 'bus lock'),
  R(75, 'NOTIFY', 'instruction timeout (notify)'),
  R(76, 'SEAMCALL', 'SEAMCALL'),
  R(77, 'TDCALL', 'TDCALL'),
  R(78, 'RDMSRLIST', 'RDMSRLIST'),
  R(79, 'WRMSRLIST', 'WRMSRLIST'),
  R(80, 'URDMSR', 'URDMSR'),
  R(81, 'UWRMSR', 'UWRMSR'),
  R(84, 'MSR_READ_IMM', 'RDMSR-imm'),
  // Linux EXIT_REASON_MSR_WRITE_IMM: the immediate form of WRMSRNS.
  R(85, 'MSR_WRITE_IMM', 'WRMSRNS (per Bochs)'),
];

const byReason = new Map<number, ExitReasonInfo>(EXIT_REASONS.map((r) => [r.reason, r]));

/** Exit reason by basic number (bits 15:0 of VM_EXIT_REASON are also accepted with flags set). */
export function exitReasonInfo(reason: number): ExitReasonInfo | undefined {
  return byReason.get(reason & 0xffff);
}

/** Layout of the VM_EXIT_REASON field (vmx-fred.md §3.5). */
export const EXIT_REASON_FIELDS: BitLayout = [
  bits('basic', 15, 0, 'Basic exit reason'),
  bit('shadowStackBusy', 25, 'Shadow stack prematurely busy'),
  bit('busLock', 26, 'Bus lock asserted'),
  bit('enclaveMode', 27, 'Exit from enclave mode'),
  bit('pendingMtf', 28, 'Pending MTF VM exit'),
  bit('fromVmxRoot', 29, 'Exit from VMX root operation (SMM)'),
  bit('entryFailure', 31, 'VM-entry failure'),
];

/** Flag bit 31 of VM_EXIT_REASON (Linux VMX_EXIT_REASONS_FAILED_VMENTRY). */
export const EXIT_REASON_ENTRY_FAILURE = 0x80000000;

export const CR_ACCESS_QUALIFICATION: BitLayout = [
  bits('cr', 3, 0, 'Control register number (bit 3 for CR8)'),
  bits('accessType', 5, 4, '0 MOV to CR, 1 MOV from CR, 2 CLTS, 3 LMSW'),
  bit('lmswOperandType', 6, 'LMSW operand: 0 register, 1 memory'),
  bits('gpr', 11, 8, 'General-purpose register (0 RAX … 15 R15)'),
  bits('lmswSourceData', 31, 16, 'LMSW source data'),
];

export const MOV_DR_QUALIFICATION: BitLayout = [
  bits('dr', 2, 0, 'Debug register number'),
  bit('direction', 4, 'Direction: 0 MOV to DR, 1 MOV from DR'),
  bits('gpr', 11, 8, 'General-purpose register (0 RAX … 15 R15)'),
];

export const IO_QUALIFICATION: BitLayout = [
  bits('size', 2, 0, 'Size of access minus 1 (0 = 1 byte, 1 = 2, 3 = 4)'),
  bit('direction', 3, 'Direction: 0 OUT, 1 IN'),
  bit('string', 4, 'String instruction (INS/OUTS)'),
  bit('rep', 5, 'REP prefix'),
  bit('immediate', 6, 'Operand encoding: 0 DX, 1 immediate'),
  bits('port', 31, 16, 'Port number'),
];

export const EPT_VIOLATION_QUALIFICATION: BitLayout = [
  bit('read', 0, 'Data read'),
  bit('write', 1, 'Data write'),
  bit('fetch', 2, 'Instruction fetch'),
  bit('readable', 3, 'Translation permits reads'),
  bit('writable', 4, 'Translation permits writes'),
  bit('executable', 5, 'Translation permits (supervisor) execution'),
  bit('userExecutable', 6, 'Translation permits user-mode execution (MBEC)'),
  bit('linearValid', 7, 'Guest-linear address field valid'),
  bit('finalTranslation', 8, '1: access to the translated address; 0: to a paging-structure entry'),
  bit('userMode', 9, 'Advanced info: user-mode linear address'),
  bit('writableLinear', 10, 'Advanced info: writable linear address'),
  bit('nxLinear', 11, 'Advanced info: execute-disable linear address'),
  bit('nmiUnblocking', 12, 'NMI unblocking due to IRET'),
  bit('shadowStack', 13, 'Shadow-stack access'),
  bit('supervisorShadowStack', 14, 'Supervisor shadow-stack page'),
];

/** The exit-qualification layout of a basic exit reason, where this table has one (CR access,
 *  MOV DR, I/O instruction, EPT violation); undefined otherwise. */
export function exitQualificationLayout(reason: number): BitLayout | undefined {
  switch (reason & 0xffff) {
    case 28: return CR_ACCESS_QUALIFICATION;
    case 29: return MOV_DR_QUALIFICATION;
    case 30: return IO_QUALIFICATION;
    case 48: return EPT_VIOLATION_QUALIFICATION;
    default: return undefined;
  }
}

/** Entry-failure exit qualifications (LNX-VMXH ENTRY_FAIL_*). */
export const ENTRY_FAILURE_QUALIFICATIONS = [
  { value: 0, short: 'DEFAULT', name: 'Default' },
  { value: 2, short: 'PDPTE', name: 'PDPTE load' },
  { value: 3, short: 'NMI', name: 'NMI injection vs. blocking' },
  { value: 4, short: 'VMCS_LINK_PTR', name: 'VMCS link pointer' },
] as const;

/** VM-instruction error numbers (VM_INSTRUCTION_ERROR), SDM Vol. 3C §31.4. */
export const VM_INSTRUCTION_ERRORS = [
  { value: 1, short: 'VMCALL_IN_VMX_ROOT_OPERATION', name: 'VMCALL executed in VMX root operation' },
  { value: 2, short: 'VMCLEAR_INVALID_ADDRESS', name: 'VMCLEAR with invalid physical address' },
  { value: 3, short: 'VMCLEAR_VMXON_POINTER', name: 'VMCLEAR with VMXON pointer' },
  { value: 4, short: 'VMLAUNCH_NONCLEAR_VMCS', name: 'VMLAUNCH with non-clear VMCS' },
  { value: 5, short: 'VMRESUME_NONLAUNCHED_VMCS', name: 'VMRESUME with non-launched VMCS' },
  { value: 6, short: 'VMRESUME_AFTER_VMXOFF', name: 'VMRESUME after VMXOFF' },
  { value: 7, short: 'ENTRY_INVALID_CONTROL_FIELD', name: 'VM entry with invalid control field(s)' },
  { value: 8, short: 'ENTRY_INVALID_HOST_STATE_FIELD', name: 'VM entry with invalid host-state field(s)' },
  { value: 9, short: 'VMPTRLD_INVALID_ADDRESS', name: 'VMPTRLD with invalid physical address' },
  { value: 10, short: 'VMPTRLD_VMXON_POINTER', name: 'VMPTRLD with VMXON pointer' },
  { value: 11, short: 'VMPTRLD_INCORRECT_VMCS_REVISION_ID', name: 'VMPTRLD with incorrect VMCS revision identifier' },
  { value: 12, short: 'UNSUPPORTED_VMCS_COMPONENT', name: 'VMREAD/VMWRITE from/to unsupported VMCS component' },
  { value: 13, short: 'VMWRITE_READ_ONLY_VMCS_COMPONENT', name: 'VMWRITE to read-only VMCS component' },
  { value: 15, short: 'VMXON_IN_VMX_ROOT_OPERATION', name: 'VMXON executed in VMX root operation' },
  { value: 26, short: 'ENTRY_EVENTS_BLOCKED_BY_MOV_SS', name: 'VM entry with events blocked by MOV SS' },
  { value: 28, short: 'INVALID_OPERAND_TO_INVEPT_INVVPID', name: 'Invalid operand to INVEPT/INVVPID' },
] as const;
