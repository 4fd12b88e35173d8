// VM-entry checks on the VMX controls (SDM Vol. 3C §27.2.1; failure = VMfail, VM-instruction error 7),
// including the FRED control and event-injection checks of vmx-fred.md §1.11 items 1–2, §1.5, §1.6
// and §3.8. Only rules reachable with the controls this CPU offers are listed (the allowed-1 checks
// reject every other control first).
import { CR4_BITS, ENTRY_INTR_INFO_RESERVED_MASK, ENTRY_INTR_INFO_RESERVED_MASK_NO_NESTED, EPTP_BITS, exceptionHasErrorCode } from '../../arch/index';
import { EPT_VPID_CAP_BITS, VMX_MISC_BITS } from '../../arch/index';
import { bitSet, capabilityChecks, EXIT, PIN, PROC, PROC2, physicalAddressCheck, type EntryCheck, type EntryContext } from './entryCheckKit';

const EXEC = '§27.2.1.1';
const EXITS = '§27.2.1.2';
const ENTRIES = '§27.2.1.3';
const INTR = 'VM_ENTRY_INTR_INFO_FIELD';
const NESTED_BIT = 1n << 13n;

const BASIC_NESTED = 1n << 58n;
const BASIC_NO_ERROR_CODE_CHECK = 1n << 56n;

/** FRED delivery of an injected type-7 event needs guest CR4.FRED and an IA-32e guest (vmx-fred.md §1.6). */
function fredGuest(x: EntryContext): boolean {
  return x.ia32eGuest && (x.get('GUEST_CR4') & CR4_BITS.FRED) !== 0n;
}

function softwareType(type: number): boolean {
  return type === 4 || type === 5 || type === 6;
}

const injecting = (x: EntryContext): boolean => x.event.valid;

export const CONTROL_CHECKS: readonly EntryCheck[] = [
  ...capabilityChecks('control.pin', 'PIN_BASED_VM_EXEC_CONTROL', 'IA32_VMX_TRUE_PINBASED_CTLS', EXEC),
  ...capabilityChecks('control.proc', 'CPU_BASED_VM_EXEC_CONTROL', 'IA32_VMX_TRUE_PROCBASED_CTLS', EXEC),
  ...capabilityChecks('control.proc2', 'SECONDARY_VM_EXEC_CONTROL', 'IA32_VMX_PROCBASED_CTLS2', EXEC,
    (x) => bitSet(x.proc, PROC.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS)),
  {
    id: 'control.cr3TargetCount', field: 'CR3_TARGET_COUNT',
    rule: `CR3_TARGET_COUNT must not exceed the number of CR3-target values in IA32_VMX_MISC bits 24:16 (SDM ${EXEC})`,
    holds: (v, x) => v <= (x.cap('IA32_VMX_MISC') & VMX_MISC_BITS.CR3_TARGETS) >> 16n,
  },
  ...['IO_BITMAP_A', 'IO_BITMAP_B'].map((f) => physicalAddressCheck(`control.${f}`, f, 12,
    'when "use I/O bitmaps" is 1', EXEC, (x) => bitSet(x.proc, PROC.CPU_BASED_USE_IO_BITMAPS))),
  physicalAddressCheck('control.MSR_BITMAP', 'MSR_BITMAP', 12, 'when "use MSR bitmaps" is 1', EXEC,
    (x) => bitSet(x.proc, PROC.CPU_BASED_USE_MSR_BITMAPS)),
  {
    id: 'control.virtualNmiNeedsNmiExiting', field: 'PIN_BASED_VM_EXEC_CONTROL',
    rule: `"virtual NMIs" may be 1 only if "NMI exiting" is 1 (SDM ${EXEC})`,
    holds: (v) => !bitSet(v, PIN.PIN_BASED_VIRTUAL_NMIS) || bitSet(v, PIN.PIN_BASED_NMI_EXITING),
  },
  {
    id: 'control.nmiWindowNeedsVirtualNmi', field: 'CPU_BASED_VM_EXEC_CONTROL',
    rule: `"NMI-window exiting" may be 1 only if "virtual NMIs" is 1 (SDM ${EXEC})`,
    holds: (v, x) => !bitSet(v, PROC.CPU_BASED_NMI_WINDOW_EXITING) || bitSet(x.pin, PIN.PIN_BASED_VIRTUAL_NMIS),
  },
  {
    id: 'control.eptpMemoryType', field: 'EPT_POINTER', when: (x) => bitSet(x.proc2, PROC2.SECONDARY_EXEC_ENABLE_EPT),
    rule: `EPT_POINTER bits 2:0 must be a memory type IA32_VMX_EPT_VPID_CAP allows: 0 (UC, bit 8) or 6 (WB, bit 14) (SDM ${EXEC})`,
    holds: (v, x) => {
      const t = v & EPTP_BITS.MEMTYPE;
      const cap = x.cap('IA32_VMX_EPT_VPID_CAP');
      return (t === 0n && bitSet(cap, EPT_VPID_CAP_BITS.MEMTYPE_UC)) || (t === 6n && bitSet(cap, EPT_VPID_CAP_BITS.MEMTYPE_WB));
    },
  },
  {
    id: 'control.eptpWalkLength', field: 'EPT_POINTER', when: (x) => bitSet(x.proc2, PROC2.SECONDARY_EXEC_ENABLE_EPT),
    rule: `EPT_POINTER bits 5:3 must be 3 (a 4-level EPT walk) (SDM ${EXEC})`,
    holds: (v) => (v & EPTP_BITS.WALK_LENGTH) >> 3n === 3n,
  },
  {
    id: 'control.eptpReserved', field: 'EPT_POINTER', when: (x) => bitSet(x.proc2, PROC2.SECONDARY_EXEC_ENABLE_EPT),
    rule: `EPT_POINTER bits 11:7 and bits above the physical-address width must be 0 (SDM ${EXEC})`,
    holds: (v, x) => (v & 0xf80n) === 0n && x.physical(v),
  },
  {
    id: 'control.unrestrictedNeedsEpt', field: 'SECONDARY_VM_EXEC_CONTROL',
    rule: `"unrestricted guest" may be 1 only if "enable EPT" is 1 (SDM ${EXEC})`,
    holds: (_v, x) => !bitSet(x.proc2, PROC2.SECONDARY_EXEC_UNRESTRICTED_GUEST) || bitSet(x.proc2, PROC2.SECONDARY_EXEC_ENABLE_EPT),
  },
  {
    id: 'control.vpidNonZero', field: 'VIRTUAL_PROCESSOR_ID', when: (x) => bitSet(x.proc2, PROC2.SECONDARY_EXEC_ENABLE_VPID),
    rule: `VIRTUAL_PROCESSOR_ID must not be 0 when "enable VPID" is 1 (SDM ${EXEC})`,
    holds: (v) => v !== 0n,
  },
  ...capabilityChecks('control.exit', 'VM_EXIT_CONTROLS', 'IA32_VMX_TRUE_EXIT_CTLS', EXITS),
  ...capabilityChecks('control.exit2', 'SECONDARY_VM_EXIT_CONTROLS', 'IA32_VMX_EXIT_CTLS2',
    `${EXITS}; vmx-fred.md §1.11 item 1`, (x) => x.vmcs.fred && bitSet(x.exit, EXIT.VM_EXIT_ACTIVATE_SECONDARY_CONTROLS)),
  ...(['VM_EXIT_MSR_STORE', 'VM_EXIT_MSR_LOAD'] as const).map((f) => physicalAddressCheck(`control.${f}_ADDR`, `${f}_ADDR`, 4,
    `when ${f}_COUNT is not 0`, EXITS, (x) => x.get(`${f}_COUNT`) !== 0n)),
  ...capabilityChecks('control.entry', 'VM_ENTRY_CONTROLS', 'IA32_VMX_TRUE_ENTRY_CTLS', ENTRIES),
  physicalAddressCheck('control.VM_ENTRY_MSR_LOAD_ADDR', 'VM_ENTRY_MSR_LOAD_ADDR', 4, 'when VM_ENTRY_MSR_LOAD_COUNT is not 0',
    ENTRIES, (x) => x.get('VM_ENTRY_MSR_LOAD_COUNT') !== 0n),
  // Event injection (SDM §27.2.1.3; vmx-fred.md §1.11 item 2).
  {
    id: 'control.intr.reserved', field: INTR, when: injecting,
    rule: `${INTR} bits 30:12 are reserved; bit 13 (nested exception) only when IA32_VMX_BASIC[58] is 1 `
      + `(reserved mask 0x7FFFD000, else 0x7FFFF000) (SDM ${ENTRIES}; vmx-fred.md §1.5, §1.11 item 2)`,
    holds: (v, x) => (v & BigInt(bitSet(x.cap('IA32_VMX_BASIC'), BASIC_NESTED)
      ? ENTRY_INTR_INFO_RESERVED_MASK : ENTRY_INTR_INFO_RESERVED_MASK_NO_NESTED)) === 0n,
  },
  {
    id: 'control.intr.typeReserved', field: INTR, when: injecting,
    rule: `${INTR} interruption type 1 is reserved (SDM ${ENTRIES})`,
    holds: (_v, x) => x.event.type !== 1,
  },
  {
    id: 'control.intr.nmiVector', field: INTR, when: (x) => x.injecting(2),
    rule: `${INTR}: an NMI (type 2) must have vector 2 (SDM ${ENTRIES})`,
    holds: (_v, x) => x.event.vector === 2,
  },
  {
    id: 'control.intr.hardwareExceptionVector', field: INTR, when: (x) => x.injecting(3),
    rule: `${INTR}: a hardware exception (type 3) must have a vector 0–31 (SDM ${ENTRIES}; vmx-fred.md §1.11 item 2)`,
    holds: (_v, x) => x.event.vector <= 31,
  },
  {
    id: 'control.intr.nestedNeedsHardwareException', field: INTR, when: injecting,
    rule: `${INTR} bit 13 (nested exception) may be 1 only with interruption type 3 (hardware exception) (vmx-fred.md §1.5, §1.11 item 2)`,
    holds: (v, x) => (v & NESTED_BIT) === 0n || x.event.type === 3,
  },
  {
    id: 'control.intr.otherEventVector', field: INTR, when: (x) => x.injecting(7),
    rule: `${INTR}: type 7 (other event) allows vector 0 (pending MTF VM exit); vectors 1 (SYSCALL) and 2 (SYSENTER) only for a `
      + `FRED guest (IA-32e mode guest and guest CR4.FRED = 1); no other vector (vmx-fred.md §1.6, §1.11 item 2)`,
    holds: (_v, x) => x.event.vector === 0 || ((x.event.vector === 1 || x.event.vector === 2) && fredGuest(x)),
  },
  {
    id: 'control.intr.errorCodeType', field: INTR, when: (x) => x.event.valid && x.event.errorCode,
    rule: `${INTR} bit 11 (deliver error code) may be 1 only for a hardware exception (type 3) and, with "unrestricted guest", `
      + `only if guest CR0.PE = 1 (SDM ${ENTRIES})`,
    holds: (_v, x) => x.event.type === 3 && x.protectedModeGuest(),
  },
  {
    id: 'control.intr.errorCodeConsistency', field: INTR,
    when: (x) => x.injecting(3) && x.protectedModeGuest() && !bitSet(x.cap('IA32_VMX_BASIC'), BASIC_NO_ERROR_CODE_CHECK),
    rule: `${INTR} bit 11 must be 1 exactly for the vectors that push an error code (#DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP) `
      + `unless IA32_VMX_BASIC[56] is 1 (SDM ${ENTRIES}; vmx-fred.md §3.8)`,
    holds: (_v, x) => x.event.errorCode === exceptionHasErrorCode(x.event.vector),
  },
  {
    id: 'control.intr.errorCodeBits', field: 'VM_ENTRY_EXCEPTION_ERROR_CODE', when: (x) => x.event.valid && x.event.errorCode,
    rule: `VM_ENTRY_EXCEPTION_ERROR_CODE bits 31:16 must be 0 when an error code is delivered (SDM ${ENTRIES}; vmx-fred.md §1.11 item 2)`,
    holds: (v) => v >> 16n === 0n,
  },
  {
    id: 'control.intr.softwareLength', field: 'VM_ENTRY_INSTRUCTION_LEN', when: (x) => x.event.valid && softwareType(x.event.type),
    rule: 'VM_ENTRY_INSTRUCTION_LEN must be 1–15 for types 4, 5 and 6 (0 allowed only if IA32_VMX_MISC[30] is 1) '
      + `(SDM ${ENTRIES}; vmx-fred.md §1.11 item 2)`,
    holds: (v, x) => v <= 15n && (v >= 1n || bitSet(x.cap('IA32_VMX_MISC'), VMX_MISC_BITS.ZERO_LENGTH_INJECTION)),
  },
  {
    id: 'control.intr.otherEventLength', field: 'VM_ENTRY_INSTRUCTION_LEN',
    when: (x) => x.injecting(7) && (x.event.vector === 1 || x.event.vector === 2),
    rule: 'VM_ENTRY_INSTRUCTION_LEN must be at most 15 for an injected SYSCALL/SYSENTER (type 7, vector 1/2) (vmx-fred.md §1.6)',
    holds: (v) => v <= 15n,
  },
];
