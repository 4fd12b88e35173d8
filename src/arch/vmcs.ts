// The VMCS fields (SDM Vol. 3C Appendix B; vmx-fred.md §1.2 for the 19 FRED fields, §3.2–§3.5 for
// the rest, cross-checked against Bochs bochs/cpu/vmx.h and Linux arch/x86/include/asm/vmx.h).
// Fields of the newest SDM editions not found in any of those sources are left out (see docs/arch.md).
// Names are Linux/KVM's; titles are the SDM's words. Width and type are not stored: they are
// derived from the encoding (vmcsEncoding.ts), and the tests check them against each group.

import type { BitLayout } from './bitField';
import { vmcsIsHighAccess, vmcsTypeOf, vmcsWidthOf, type VmcsType, type VmcsWidth } from './vmcsEncoding';
import { msrByName } from './msr';
import { VMCS_FIELD_LAYOUTS } from './vmcsLayouts';

/** The SDM's grouping of the VMCS (SDM Vol. 3C §25.3–§25.9). */
export type VmcsGroup =
  | 'guestRegisterState'
  | 'guestNonRegisterState'
  | 'hostState'
  | 'executionControl'
  | 'exitControl'
  | 'entryControl'
  | 'exitInformation';

export const VMCS_GROUP_TITLES: Readonly<Record<VmcsGroup, string>> = {
  guestRegisterState: 'Guest-state area: guest register state',
  guestNonRegisterState: 'Guest-state area: guest non-register state',
  hostState: 'Host-state area',
  executionControl: 'VM-execution control fields',
  exitControl: 'VM-exit control fields',
  entryControl: 'VM-entry control fields',
  exitInformation: 'VM-exit information fields',
};

/** The encoding type (bits 11:10) each group must have. */
export const VMCS_GROUP_TYPE: Readonly<Record<VmcsGroup, VmcsType>> = {
  guestRegisterState: 'guestState',
  guestNonRegisterState: 'guestState',
  hostState: 'hostState',
  executionControl: 'control',
  exitControl: 'control',
  entryControl: 'control',
  exitInformation: 'exitInformation',
};

export interface VmcsFieldDef {
  /** Linux/KVM-style name, e.g. GUEST_RIP. */
  readonly name: string;
  readonly encoding: number;
  /** SDM title, e.g. "Guest RIP". */
  readonly title: string;
  readonly group: VmcsGroup;
  readonly width: VmcsWidth;
  readonly type: VmcsType;
  /** Part of the FRED additions (vmx-fred.md §1.2). */
  readonly fred: boolean;
  readonly doc: string;
  /** Named bit fields, where the field has them. */
  readonly layout?: BitLayout;
  /** The MSR whose value the field holds (GUEST_IA32_FRED_CONFIG → IA32_FRED_CONFIG), if any. */
  readonly msr?: string;
}

type Row = readonly [name: string, encoding: number, group: VmcsGroup, title: string, doc?: string];

const G = 'guestRegisterState';
const N = 'guestNonRegisterState';
const H = 'hostState';
const X = 'executionControl';
const XC = 'exitControl';
const EC = 'entryControl';
const I = 'exitInformation';

const SEGS = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'LDTR', 'TR'] as const;
const FRED_REGS = ['CONFIG', 'RSP1', 'RSP2', 'RSP3', 'STKLVLS', 'SSP1', 'SSP2', 'SSP3'] as const;

const ROWS: readonly Row[] = [
  // 16-bit control fields
  ['VIRTUAL_PROCESSOR_ID', 0x0000, X, 'Virtual-processor identifier (VPID)', 'Tags TLB entries of this guest'],
  ['POSTED_INTR_NV', 0x0002, X, 'Posted-interrupt notification vector'],
  ['EPTP_INDEX', 0x0004, X, 'EPTP index', 'Current EPTP index for #VE and EPTP switching'],
  ['HLAT_PREFIX_SIZE', 0x0006, X, 'HLAT prefix size'],
  ['LAST_PID_POINTER_INDEX', 0x0008, X, 'Last PID-pointer index', 'IPI virtualization: last valid PID-pointer table index'],
  // 16-bit guest-state fields
  ...SEGS.map((s, i): Row => [`GUEST_${s}_SELECTOR`, 0x0800 + 2 * i, G, `Guest ${s} selector`]),
  ['GUEST_INTR_STATUS', 0x0810, N, 'Guest interrupt status', 'RVI (7:0) and SVI (15:8) for virtual-interrupt delivery'],
  ['GUEST_PML_INDEX', 0x0812, N, 'PML index', 'Next entry in the page-modification log'],
  ['GUEST_UINV', 0x0814, N, 'Guest UINV', 'User-interrupt notification vector'],
  // 16-bit host-state fields
  ...(['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'TR'] as const).map((s, i): Row =>
    [`HOST_${s}_SELECTOR`, 0x0c00 + 2 * i, H, `Host ${s} selector`]),
  // 64-bit control fields
  ['IO_BITMAP_A', 0x2000, X, 'Address of I/O bitmap A', 'Ports 0x0000–0x7FFF'],
  ['IO_BITMAP_B', 0x2002, X, 'Address of I/O bitmap B', 'Ports 0x8000–0xFFFF'],
  ['MSR_BITMAP', 0x2004, X, 'Address of MSR bitmaps', 'Read/write bitmaps for low and high MSRs'],
  ['VM_EXIT_MSR_STORE_ADDR', 0x2006, XC, 'VM-exit MSR-store address'],
  ['VM_EXIT_MSR_LOAD_ADDR', 0x2008, XC, 'VM-exit MSR-load address'],
  ['VM_ENTRY_MSR_LOAD_ADDR', 0x200a, EC, 'VM-entry MSR-load address'],
  ['EXECUTIVE_VMCS_POINTER', 0x200c, X, 'Executive-VMCS pointer', 'Dual-monitor treatment of SMIs'],
  ['PML_ADDRESS', 0x200e, X, 'PML address', 'Page-modification log'],
  ['TSC_OFFSET', 0x2010, X, 'TSC offset', 'Added to the TSC for RDTSC in the guest'],
  ['VIRTUAL_APIC_PAGE_ADDR', 0x2012, X, 'Virtual-APIC address'],
  ['APIC_ACCESS_ADDR', 0x2014, X, 'APIC-access address'],
  ['POSTED_INTR_DESC_ADDR', 0x2016, X, 'Posted-interrupt descriptor address'],
  ['VM_FUNCTION_CONTROL', 0x2018, X, 'VM-function controls'],
  ['EPT_POINTER', 0x201a, X, 'EPT pointer (EPTP)', 'EPT PML4 address, memory type, walk length, A/D enable'],
  ['EOI_EXIT_BITMAP0', 0x201c, X, 'EOI-exit bitmap 0', 'Vectors 63:0'],
  ['EOI_EXIT_BITMAP1', 0x201e, X, 'EOI-exit bitmap 1', 'Vectors 127:64'],
  ['EOI_EXIT_BITMAP2', 0x2020, X, 'EOI-exit bitmap 2', 'Vectors 191:128'],
  ['EOI_EXIT_BITMAP3', 0x2022, X, 'EOI-exit bitmap 3', 'Vectors 255:192'],
  ['EPTP_LIST_ADDRESS', 0x2024, X, 'EPTP-list address'],
  ['VMREAD_BITMAP', 0x2026, X, 'VMREAD-bitmap address'],
  ['VMWRITE_BITMAP', 0x2028, X, 'VMWRITE-bitmap address'],
  ['VE_INFORMATION_ADDRESS', 0x202a, X, 'Virtualization-exception information address'],
  ['XSS_EXIT_BITMAP', 0x202c, X, 'XSS-exiting bitmap'],
  ['ENCLS_EXITING_BITMAP', 0x202e, X, 'ENCLS-exiting bitmap'],
  ['SPPT_POINTER', 0x2030, X, 'Sub-page-permission-table pointer'],
  ['TSC_MULTIPLIER', 0x2032, X, 'TSC multiplier'],
  ['TERTIARY_VM_EXEC_CONTROL', 0x2034, X, 'Tertiary processor-based VM-execution controls'],
  ['ENCLV_EXITING_BITMAP', 0x2036, X, 'ENCLV-exiting bitmap'],
  ['LOW_PASID_DIRECTORY_ADDRESS', 0x2038, X, 'Low PASID directory address'],
  ['HIGH_PASID_DIRECTORY_ADDRESS', 0x203a, X, 'High PASID directory address'],
  ['SHARED_EPT_POINTER', 0x203c, X, 'Shared EPT pointer'],
  ['PCONFIG_EXITING_BITMAP', 0x203e, X, 'PCONFIG-exiting bitmap'],
  ['HLAT_POINTER', 0x2040, X, 'Hypervisor-managed linear-address translation pointer (HLATP)'],
  ['PID_POINTER_TABLE', 0x2042, X, 'PID-pointer table address', 'IPI virtualization'],
  ['SECONDARY_VM_EXIT_CONTROLS', 0x2044, XC, 'Secondary VM-exit controls',
    'Used only when primary VM-exit control 31 is 1; bits 0/1 save/load FRED state'],
  ['IA32_SPEC_CTRL_MASK', 0x204a, X, 'IA32_SPEC_CTRL mask'],
  ['IA32_SPEC_CTRL_SHADOW', 0x204c, X, 'IA32_SPEC_CTRL shadow'],
  ['INJECTED_EVENT_DATA', 0x2052, EC, 'Injected-event data',
    'Event data pushed in the FRED frame for an event injected by VM entry'],
  // 64-bit read-only data fields
  ['GUEST_PHYSICAL_ADDRESS', 0x2400, I, 'Guest-physical address', 'Address of an EPT violation/misconfiguration'],
  ['ORIGINAL_EVENT_DATA', 0x2404, I, 'Original-event data',
    'Event data of the event whose FRED delivery the VM exit interrupted (with IDT-vectoring info)'],
  // 64-bit guest-state fields
  ['VMCS_LINK_POINTER', 0x2800, N, 'VMCS link pointer', 'Must be all ones unless VMCS shadowing is used'],
  ['GUEST_IA32_DEBUGCTL', 0x2802, G, 'Guest IA32_DEBUGCTL'],
  ['GUEST_IA32_PAT', 0x2804, G, 'Guest IA32_PAT'],
  ['GUEST_IA32_EFER', 0x2806, G, 'Guest IA32_EFER'],
  ['GUEST_IA32_PERF_GLOBAL_CTRL', 0x2808, G, 'Guest IA32_PERF_GLOBAL_CTRL'],
  ['GUEST_PDPTR0', 0x280a, N, 'Guest PDPTE0'],
  ['GUEST_PDPTR1', 0x280c, N, 'Guest PDPTE1'],
  ['GUEST_PDPTR2', 0x280e, N, 'Guest PDPTE2'],
  ['GUEST_PDPTR3', 0x2810, N, 'Guest PDPTE3'],
  ['GUEST_BNDCFGS', 0x2812, G, 'Guest IA32_BNDCFGS'],
  ['GUEST_IA32_RTIT_CTL', 0x2814, G, 'Guest IA32_RTIT_CTL'],
  ['GUEST_IA32_LBR_CTL', 0x2816, G, 'Guest IA32_LBR_CTL'],
  ['GUEST_IA32_PKRS', 0x2818, G, 'Guest IA32_PKRS'],
  ...FRED_REGS.map((r, i): Row => [`GUEST_IA32_FRED_${r}`, 0x281a + 2 * i, G, `Guest IA32_FRED_${r}`,
    `Guest IA32_FRED_${r}; loaded by VM entry with "load guest FRED state", saved by secondary exit control 0`]),
  ['GUEST_IA32_SPEC_CTRL', 0x282e, G, 'Guest IA32_SPEC_CTRL'],
  // 64-bit host-state fields
  ['HOST_IA32_PAT', 0x2c00, H, 'Host IA32_PAT'],
  ['HOST_IA32_EFER', 0x2c02, H, 'Host IA32_EFER'],
  ['HOST_IA32_PERF_GLOBAL_CTRL', 0x2c04, H, 'Host IA32_PERF_GLOBAL_CTRL'],
  ['HOST_IA32_PKRS', 0x2c06, H, 'Host IA32_PKRS'],
  ...FRED_REGS.map((r, i): Row => [`HOST_IA32_FRED_${r}`, 0x2c08 + 2 * i, H, `Host IA32_FRED_${r}`,
    `Host IA32_FRED_${r}; loaded by VM exit with secondary exit control 1 ("load host FRED state")`]),
  ['HOST_IA32_SPEC_CTRL', 0x2c1a, H, 'Host IA32_SPEC_CTRL'],
  // 32-bit control fields
  ['PIN_BASED_VM_EXEC_CONTROL', 0x4000, X, 'Pin-based VM-execution controls'],
  ['CPU_BASED_VM_EXEC_CONTROL', 0x4002, X, 'Primary processor-based VM-execution controls'],
  ['EXCEPTION_BITMAP', 0x4004, X, 'Exception bitmap', 'Bit v = 1: exception v causes a VM exit (#PF filtered by mask/match)'],
  ['PAGE_FAULT_ERROR_CODE_MASK', 0x4006, X, 'Page-fault error-code mask'],
  ['PAGE_FAULT_ERROR_CODE_MATCH', 0x4008, X, 'Page-fault error-code match'],
  ['CR3_TARGET_COUNT', 0x400a, X, 'CR3-target count'],
  ['VM_EXIT_CONTROLS', 0x400c, XC, 'Primary VM-exit controls'],
  ['VM_EXIT_MSR_STORE_COUNT', 0x400e, XC, 'VM-exit MSR-store count'],
  ['VM_EXIT_MSR_LOAD_COUNT', 0x4010, XC, 'VM-exit MSR-load count'],
  ['VM_ENTRY_CONTROLS', 0x4012, EC, 'VM-entry controls'],
  ['VM_ENTRY_MSR_LOAD_COUNT', 0x4014, EC, 'VM-entry MSR-load count'],
  ['VM_ENTRY_INTR_INFO_FIELD', 0x4016, EC, 'VM-entry interruption-information field',
    'Event to inject: vector, type, deliver error code, nested exception (13), valid (31)'],
  ['VM_ENTRY_EXCEPTION_ERROR_CODE', 0x4018, EC, 'VM-entry exception error code'],
  ['VM_ENTRY_INSTRUCTION_LEN', 0x401a, EC, 'VM-entry instruction length',
    'Length pushed/advanced for injected software events (types 4, 5, 6, FRED type 7)'],
  ['TPR_THRESHOLD', 0x401c, X, 'TPR threshold'],
  ['SECONDARY_VM_EXEC_CONTROL', 0x401e, X, 'Secondary processor-based VM-execution controls'],
  ['PLE_GAP', 0x4020, X, 'PLE_Gap'],
  ['PLE_WINDOW', 0x4022, X, 'PLE_Window'],
  ['NOTIFY_WINDOW', 0x4024, X, 'Instruction-timeout control'],
  // 32-bit read-only data fields
  ['VM_INSTRUCTION_ERROR', 0x4400, I, 'VM-instruction error', 'Why the last VMX instruction failed (VMfailValid)'],
  ['VM_EXIT_REASON', 0x4402, I, 'Exit reason', 'Basic reason (15:0) and flags; bit 31 = VM-entry failure'],
  ['VM_EXIT_INTR_INFO', 0x4404, I, 'VM-exit interruption information', 'Event that caused the exit (incl. nested bit 13)'],
  ['VM_EXIT_INTR_ERROR_CODE', 0x4406, I, 'VM-exit interruption error code'],
  ['IDT_VECTORING_INFO_FIELD', 0x4408, I, 'IDT-vectoring information field',
    'Event whose delivery the VM exit interrupted (re-inject it)'],
  ['IDT_VECTORING_ERROR_CODE', 0x440a, I, 'IDT-vectoring error code'],
  ['VM_EXIT_INSTRUCTION_LEN', 0x440c, I, 'VM-exit instruction length'],
  ['VMX_INSTRUCTION_INFO', 0x440e, I, 'VM-exit instruction information'],
  // 32-bit guest-state fields
  ...SEGS.map((s, i): Row => [`GUEST_${s}_LIMIT`, 0x4800 + 2 * i, G, `Guest ${s} limit`]),
  ['GUEST_GDTR_LIMIT', 0x4810, G, 'Guest GDTR limit'],
  ['GUEST_IDTR_LIMIT', 0x4812, G, 'Guest IDTR limit'],
  ...SEGS.map((s, i): Row => [`GUEST_${s}_AR_BYTES`, 0x4814 + 2 * i, G, `Guest ${s} access rights`]),
  ['GUEST_INTERRUPTIBILITY_INFO', 0x4824, N, 'Guest interruptibility state', 'Blocking by STI, MOV SS, SMI, NMI'],
  ['GUEST_ACTIVITY_STATE', 0x4826, N, 'Guest activity state', '0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI'],
  ['GUEST_SMBASE', 0x4828, G, 'Guest SMBASE'],
  ['GUEST_SYSENTER_CS', 0x482a, G, 'Guest IA32_SYSENTER_CS'],
  ['VMX_PREEMPTION_TIMER_VALUE', 0x482e, N, 'VMX-preemption timer value'],
  // 32-bit host-state field
  ['HOST_IA32_SYSENTER_CS', 0x4c00, H, 'Host IA32_SYSENTER_CS'],
  // natural-width control fields
  ['CR0_GUEST_HOST_MASK', 0x6000, X, 'CR0 guest/host mask', 'Host-owned CR0 bits: guest writes that change them exit'],
  ['CR4_GUEST_HOST_MASK', 0x6002, X, 'CR4 guest/host mask', 'Host-owned CR4 bits: guest writes that change them exit'],
  ['CR0_READ_SHADOW', 0x6004, X, 'CR0 read shadow', 'What the guest reads for host-owned CR0 bits'],
  ['CR4_READ_SHADOW', 0x6006, X, 'CR4 read shadow', 'What the guest reads for host-owned CR4 bits'],
  ['CR3_TARGET_VALUE0', 0x6008, X, 'CR3-target value 0'],
  ['CR3_TARGET_VALUE1', 0x600a, X, 'CR3-target value 1'],
  ['CR3_TARGET_VALUE2', 0x600c, X, 'CR3-target value 2'],
  ['CR3_TARGET_VALUE3', 0x600e, X, 'CR3-target value 3'],
  // natural-width read-only data fields
  ['EXIT_QUALIFICATION', 0x6400, I, 'Exit qualification', 'Reason-specific detail (CR access, I/O, EPT violation, …)'],
  ['IO_RCX', 0x6402, I, 'I/O RCX'],
  ['IO_RSI', 0x6404, I, 'I/O RSI'],
  ['IO_RDI', 0x6406, I, 'I/O RDI'],
  ['IO_RIP', 0x6408, I, 'I/O RIP'],
  ['GUEST_LINEAR_ADDRESS', 0x640a, I, 'Guest-linear address'],
  // natural-width guest-state fields
  ['GUEST_CR0', 0x6800, G, 'Guest CR0'],
  ['GUEST_CR3', 0x6802, G, 'Guest CR3'],
  ['GUEST_CR4', 0x6804, G, 'Guest CR4', 'Guest CR4 (bit 32 = FRED)'],
  ...SEGS.map((s, i): Row => [`GUEST_${s}_BASE`, 0x6806 + 2 * i, G, `Guest ${s} base`]),
  ['GUEST_GDTR_BASE', 0x6816, G, 'Guest GDTR base'],
  ['GUEST_IDTR_BASE', 0x6818, G, 'Guest IDTR base'],
  ['GUEST_DR7', 0x681a, G, 'Guest DR7'],
  ['GUEST_RSP', 0x681c, G, 'Guest RSP'],
  ['GUEST_RIP', 0x681e, G, 'Guest RIP'],
  ['GUEST_RFLAGS', 0x6820, G, 'Guest RFLAGS'],
  ['GUEST_PENDING_DBG_EXCEPTIONS', 0x6822, N, 'Guest pending debug exceptions', 'B3–B0, enabled breakpoint (12), BS (14), RTM (16)'],
  ['GUEST_SYSENTER_ESP', 0x6824, G, 'Guest IA32_SYSENTER_ESP'],
  ['GUEST_SYSENTER_EIP', 0x6826, G, 'Guest IA32_SYSENTER_EIP'],
  ['GUEST_S_CET', 0x6828, G, 'Guest IA32_S_CET'],
  ['GUEST_SSP', 0x682a, G, 'Guest SSP'],
  ['GUEST_INTR_SSP_TABLE', 0x682c, G, 'Guest IA32_INTERRUPT_SSP_TABLE_ADDR'],
  // natural-width host-state fields
  ['HOST_CR0', 0x6c00, H, 'Host CR0'],
  ['HOST_CR3', 0x6c02, H, 'Host CR3'],
  ['HOST_CR4', 0x6c04, H, 'Host CR4'],
  ['HOST_FS_BASE', 0x6c06, H, 'Host FS base'],
  ['HOST_GS_BASE', 0x6c08, H, 'Host GS base'],
  ['HOST_TR_BASE', 0x6c0a, H, 'Host TR base'],
  ['HOST_GDTR_BASE', 0x6c0c, H, 'Host GDTR base'],
  ['HOST_IDTR_BASE', 0x6c0e, H, 'Host IDTR base'],
  ['HOST_IA32_SYSENTER_ESP', 0x6c10, H, 'Host IA32_SYSENTER_ESP'],
  ['HOST_IA32_SYSENTER_EIP', 0x6c12, H, 'Host IA32_SYSENTER_EIP'],
  ['HOST_RSP', 0x6c14, H, 'Host RSP'],
  ['HOST_RIP', 0x6c16, H, 'Host RIP'],
  ['HOST_S_CET', 0x6c18, H, 'Host IA32_S_CET'],
  ['HOST_SSP', 0x6c1a, H, 'Host SSP'],
  ['HOST_INTR_SSP_TABLE', 0x6c1c, H, 'Host IA32_INTERRUPT_SSP_TABLE_ADDR'],
];

/** The FRED additions of vmx-fred.md §1.2 (19 fields). */
const FRED_FIELD_NAMES: ReadonlySet<string> = new Set([
  'SECONDARY_VM_EXIT_CONTROLS', 'INJECTED_EVENT_DATA', 'ORIGINAL_EVENT_DATA',
  ...FRED_REGS.map((r) => `GUEST_IA32_FRED_${r}`), ...FRED_REGS.map((r) => `HOST_IA32_FRED_${r}`),
]);

/** Guest/host fields that hold an MSR under a name other than GUEST_/HOST_ + the MSR name. */
const MSR_OF_FIELD: Readonly<Record<string, string>> = {
  GUEST_SYSENTER_CS: 'IA32_SYSENTER_CS', GUEST_SYSENTER_ESP: 'IA32_SYSENTER_ESP', GUEST_SYSENTER_EIP: 'IA32_SYSENTER_EIP',
  GUEST_S_CET: 'IA32_S_CET', HOST_S_CET: 'IA32_S_CET',
  GUEST_INTR_SSP_TABLE: 'IA32_INTERRUPT_SSP_TABLE_ADDR', HOST_INTR_SSP_TABLE: 'IA32_INTERRUPT_SSP_TABLE_ADDR',
};

function msrOfField(name: string, group: VmcsGroup): string | undefined {
  if (VMCS_GROUP_TYPE[group] !== 'guestState' && VMCS_GROUP_TYPE[group] !== 'hostState') return undefined;
  const direct = MSR_OF_FIELD[name] ?? name.replace(/^(GUEST|HOST)_/, '');
  return msrByName(direct)?.name;
}

export const VMCS_FIELDS: readonly VmcsFieldDef[] = ROWS.map(([name, encoding, group, title, doc]) => {
  const layout = VMCS_FIELD_LAYOUTS[name];
  const msr = msrOfField(name, group);
  return {
    name, encoding, title, group,
    width: vmcsWidthOf(encoding),
    type: vmcsTypeOf(encoding),
    fred: FRED_FIELD_NAMES.has(name),
    doc: doc ?? title,
    ...(layout ? { layout } : {}),
    ...(msr ? { msr } : {}),
  };
});

const byEncoding = new Map<number, VmcsFieldDef>(VMCS_FIELDS.map((f) => [f.encoding, f]));
const byName = new Map<string, VmcsFieldDef>(VMCS_FIELDS.map((f) => [f.name, f]));

/** A resolved encoding: the field plus whether it addresses the high 32 bits of a 64-bit field. */
export interface VmcsFieldRef {
  readonly field: VmcsFieldDef;
  readonly high: boolean;
}

/** Resolve an encoding, including the odd "high" encodings of 64-bit fields (encoding + 1). */
export function vmcsFieldByEncoding(encoding: number): VmcsFieldRef | undefined {
  if (vmcsIsHighAccess(encoding)) {
    const f = byEncoding.get(encoding - 1);
    return f && f.width === '64' ? { field: f, high: true } : undefined;
  }
  const f = byEncoding.get(encoding);
  return f ? { field: f, high: false } : undefined;
}

/** Resolve a name, case-insensitive; `<NAME>_HIGH` resolves to the high half of a 64-bit field. */
export function vmcsFieldByName(name: string): VmcsFieldRef | undefined {
  const n = name.toUpperCase();
  const f = byName.get(n);
  if (f) return { field: f, high: false };
  if (n.endsWith('_HIGH')) {
    const g = byName.get(n.slice(0, -5));
    if (g && g.width === '64') return { field: g, high: true };
  }
  return undefined;
}

/** Encoding of a VMCS field by name (`<NAME>_HIGH` allowed); throws on an unknown name. */
export function vmcsEncodingOf(name: string): number {
  const ref = vmcsFieldByName(name);
  if (!ref) throw new RangeError(`unknown VMCS field '${name}'`);
  return vmcsRefEncoding(ref);
}

/** Encoding of a `VmcsFieldRef` (the high half is encoding + 1). */
export function vmcsRefEncoding(ref: VmcsFieldRef): number {
  return ref.field.encoding + (ref.high ? 1 : 0);
}

/** Bit width of the value a field holds (natural width = 64 on this 64-bit CPU). */
export function vmcsFieldBits(f: VmcsFieldDef): 16 | 32 | 64 {
  return f.width === '16' ? 16 : f.width === '32' ? 32 : 64;
}
