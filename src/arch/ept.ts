// EPT paging-structure entries and the EPT pointer (Intel SDM Vol. 3C §29.3.2 Tables 29-1 to 29-7,
// §25.6.11 EPTP). Used by the monitor's EPT and by the VMCS view.

import { bit, bits, fieldMasks } from './bitField';

/** An EPT entry; MEMTYPE, IGNORE_PAT and DIRTY only in entries that map a page, LARGE_PAGE in
 *  EPT PDPTEs/PDEs. */
export const EPT_ENTRY_FIELDS = [
  bit('READ', 0, 'Reads allowed'),
  bit('WRITE', 1, 'Writes allowed'),
  bit('EXEC', 2, 'Instruction fetches allowed (supervisor-mode fetches with mode-based execute control)'),
  bits('MEMTYPE', 5, 3, 'EPT memory type (0 UC, 1 WC, 4 WT, 5 WP, 6 WB)'),
  bit('IGNORE_PAT', 6, 'Ignore the guest PAT memory type'),
  bit('LARGE_PAGE', 7, 'Maps a 1 GiB (PDPTE) or 2 MiB (PDE) page'),
  bit('ACCESSED', 8, 'Accessed (with EPTP A/D enable)'),
  bit('DIRTY', 9, 'Dirty (with EPTP A/D enable; page-mapping entries only)'),
  bit('USER_EXEC', 10, 'User-mode instruction fetches allowed (mode-based execute control)'),
  bits('ADDR', 51, 12, 'Physical address of the next EPT table or of the page'),
  bit('SUPERVISOR_SHADOW_STACK', 60, 'Supervisor shadow-stack page (with EPTP bit 7)'),
  bit('SUPPRESS_VE', 63, 'Suppress #VE for violations through this entry'),
] as const;

export const EPT_ENTRY_BITS = fieldMasks(EPT_ENTRY_FIELDS);

/** The EPT pointer (VMCS EPT_POINTER). */
export const EPTP_FIELDS = [
  bits('MEMTYPE', 2, 0, 'Memory type for EPT paging-structure accesses (0 UC, 6 WB)'),
  bits('WALK_LENGTH', 5, 3, 'EPT page-walk length minus 1 (3 = 4 levels)'),
  bit('AD_ENABLE', 6, 'Enable accessed and dirty flags'),
  bit('SSS_ENABLE', 7, 'Enforce access rights for supervisor shadow-stack pages'),
  bits('ADDR', 51, 12, 'Physical address of the EPT PML4 table'),
] as const;

export const EPTP_BITS = fieldMasks(EPTP_FIELDS);
