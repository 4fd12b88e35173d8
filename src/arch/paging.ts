// 4-level / 5-level paging-structure entries and the page-fault error code (Intel SDM Vol. 3A §4.5
// Tables 4-15 to 4-20, §4.7 Figure 4-12). Names of the error-code bits are Linux's X86_PF_*.

import { bit, bits, fieldMasks } from './bitField';

/** A paging-structure entry (PML5E/PML4E/PDPTE/PDE/PTE). Bit 7 is PS in a PDPTE/PDE (1 = maps a
 *  1 GiB/2 MiB page) and PAT in a 4 KiB PTE; D, G and PK exist only in entries that map a page. */
export const PAGE_ENTRY_FIELDS = [
  bit('P', 0, 'Present'),
  bit('RW', 1, 'Read/write: 0 = writes not allowed (supervisor writes too when CR0.WP = 1)'),
  bit('US', 2, 'User/supervisor: 1 = accessible at CPL 3'),
  bit('PWT', 3, 'Page-level write-through'),
  bit('PCD', 4, 'Page-level cache disable'),
  bit('A', 5, 'Accessed (set by the processor)'),
  bit('D', 6, 'Dirty (set by the processor on a write; page-mapping entries only)'),
  bit('PS', 7, 'Page size in a PDPTE/PDE (1 GiB / 2 MiB page); PAT in a 4 KiB PTE'),
  bit('G', 8, 'Global (survives CR3 loads when CR4.PGE = 1; page-mapping entries only)'),
  bits('ADDR', 51, 12, 'Physical address of the next table or of the 4 KiB page (bits 51:12)'),
  bits('PK', 62, 59, 'Protection key (CR4.PKE/PKS; page-mapping entries only)'),
  bit('XD', 63, 'Execute-disable (needs IA32_EFER.NXE; reserved otherwise)'),
] as const;

export const PAGE_ENTRY_BITS = fieldMasks(PAGE_ENTRY_FIELDS);

/** The #PF error code (SDM Figure 4-12). */
export const PAGE_FAULT_ERROR_CODE_FIELDS = [
  bit('PROT', 0, '0: not-present page; 1: protection violation'),
  bit('WRITE', 1, 'The access was a write'),
  bit('USER', 2, 'The access was a user-mode access (CPL 3, not an implicit supervisor access)'),
  bit('RSVD', 3, 'A reserved bit was set in a paging-structure entry'),
  bit('INSTR', 4, 'The access was an instruction fetch (with NX or SMEP)'),
  bit('PK', 5, 'Protection-key violation'),
  bit('SHSTK', 6, 'Shadow-stack access'),
  bit('HLAT', 7, 'HLAT paging'),
  bit('SGX', 15, 'SGX-specific access-control violation'),
] as const;

export const PAGE_FAULT_ERROR_CODE_BITS = fieldMasks(PAGE_FAULT_ERROR_CODE_FIELDS);

/** Size in bytes of the page an entry at `level` maps (1 = PTE … 4 = PML4E), when it maps one. */
export function pageSizeAtLevel(level: 1 | 2 | 3): number {
  return 2 ** (12 + 9 * (level - 1));
}
