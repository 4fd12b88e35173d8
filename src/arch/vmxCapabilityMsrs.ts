// Bit layouts of the VMX capability MSRs whose fields are not controls (SDM Vol. 3D Appendix A).
import { bit, bits, fieldMasks } from './bitField';

/** IA32_VMX_MISC (0x485) layout (SDM Vol. 3D A.6). */
export const VMX_MISC_FIELDS = [
  bits('PREEMPTION_TIMER_RATE', 4, 0, 'VMX-preemption timer counts down when TSC bit X changes'),
  bit('SAVE_EFER_LMA', 5, 'VM exit stores EFER.LMA into the "IA-32e mode guest" entry control'),
  bit('ACTIVITY_HLT', 6, 'Activity state HLT supported'),
  bit('ACTIVITY_SHUTDOWN', 7, 'Activity state shutdown supported'),
  bit('ACTIVITY_WAIT_SIPI', 8, 'Activity state wait-for-SIPI supported'),
  bits('CR3_TARGETS', 24, 16, 'Number of CR3-target values supported'),
  bits('MSR_LIST_MAX', 27, 25, 'Recommended maximum MSR-list entries: 512 * (N + 1)'),
  bit('VMWRITE_ALL', 29, 'VMWRITE may write read-only exit-information fields'),
  bit('ZERO_LENGTH_INJECTION', 30, 'Software interrupts/exceptions may be injected with instruction length 0'),
] as const;
export const VMX_MISC_BITS = fieldMasks(VMX_MISC_FIELDS);

/** IA32_VMX_EPT_VPID_CAP (0x48C) layout (SDM Vol. 3D A.10). */
export const EPT_VPID_CAP_FIELDS = [
  bit('EXECUTE_ONLY', 0, 'Execute-only EPT translations'),
  bit('WALK_LENGTH_4', 6, 'Page-walk length of 4'),
  bit('MEMTYPE_UC', 8, 'EPT paging structures may be uncacheable'),
  bit('MEMTYPE_WB', 14, 'EPT paging structures may be write-back'),
  bit('PAGE_2M', 16, '2-MByte EPT pages'),
  bit('PAGE_1G', 17, '1-GByte EPT pages'),
  bit('INVEPT', 20, 'INVEPT supported'),
  bit('AD_FLAGS', 21, 'Accessed and dirty flags for EPT'),
  bit('INVEPT_SINGLE', 25, 'Single-context INVEPT'),
  bit('INVEPT_ALL', 26, 'All-context INVEPT'),
  bit('INVVPID', 32, 'INVVPID supported'),
  bit('INVVPID_ADDRESS', 40, 'Individual-address INVVPID'),
  bit('INVVPID_SINGLE', 41, 'Single-context INVVPID'),
  bit('INVVPID_ALL', 42, 'All-context INVVPID'),
  bit('INVVPID_SINGLE_GLOBALS', 43, 'Single-context-retaining-globals INVVPID'),
] as const;
export const EPT_VPID_CAP_BITS = fieldMasks(EPT_VPID_CAP_FIELDS);
