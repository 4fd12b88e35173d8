// Segment descriptors (SDM Vol. 3A §3.4.5, §3.5, Figure 3-8) and the VMX access-rights format of the
// guest segment AR fields (SDM Vol. 3C §25.4.1 Table 25-2; vmx-fred.md §3.2: reserved mask FFFE0F00).

import { bit, bits, type BitLayout } from './bitField';

/** An 8-byte code/data/system descriptor as a 64-bit value. */
export const SEGMENT_DESCRIPTOR_FIELDS: BitLayout = [
  bits('LIMIT_LOW', 15, 0, 'Segment limit 15:0'),
  bits('BASE_LOW', 39, 16, 'Base address 23:0'),
  bits('TYPE', 43, 40, 'Segment type (code: bit 3 = 1; data: expand-down/writable/accessed)'),
  bit('S', 44, 'Descriptor type: 0 system, 1 code or data'),
  bits('DPL', 46, 45, 'Descriptor privilege level'),
  bit('P', 47, 'Present'),
  bits('LIMIT_HIGH', 51, 48, 'Segment limit 19:16'),
  bit('AVL', 52, 'Available for software'),
  bit('L', 53, '64-bit code segment'),
  bit('DB', 54, 'Default operation size / big (1 = 32-bit)'),
  bit('G', 55, 'Granularity: limit in 4 KiB units'),
  bits('BASE_HIGH', 63, 56, 'Base address 31:24'),
];

/** VMCS guest segment access rights (GUEST_xx_AR_BYTES). */
export const ACCESS_RIGHTS_FIELDS: BitLayout = [
  bits('TYPE', 3, 0, 'Segment type'),
  bit('S', 4, 'Descriptor type: 0 system, 1 code or data'),
  bits('DPL', 6, 5, 'Descriptor privilege level'),
  bit('P', 7, 'Present'),
  bit('AVL', 12, 'Available for software'),
  bit('L', 13, '64-bit code segment (CS only)'),
  bit('DB', 14, 'Default operation size'),
  bit('G', 15, 'Granularity'),
  bit('UNUSABLE', 16, 'Segment unusable (null selector loaded)'),
];

export const ACCESS_RIGHTS_RESERVED_MASK = 0xfffe0f00;

/** Descriptor types with S = 0 in long mode (SDM Table 3-2). */
export const SYSTEM_DESCRIPTOR_TYPES = [
  { type: 2, name: 'LDT' },
  { type: 9, name: '64-bit TSS (available)' },
  { type: 11, name: '64-bit TSS (busy)' },
  { type: 12, name: '64-bit call gate' },
  { type: 14, name: '64-bit interrupt gate' },
  { type: 15, name: '64-bit trap gate' },
] as const;

/** A segment selector: index, table indicator, requested privilege level. */
export const SELECTOR_FIELDS: BitLayout = [
  bits('RPL', 1, 0, 'Requested privilege level'),
  bit('TI', 2, 'Table indicator: 0 GDT, 1 LDT'),
  bits('INDEX', 15, 3, 'Descriptor index'),
];

/** Error code of #TS, #NP, #SS, #GP that names a selector or IDT vector (SDM §6.13). */
export const SELECTOR_ERROR_CODE_FIELDS: BitLayout = [
  bit('EXT', 0, 'External event caused the exception'),
  bit('IDT', 1, 'The index refers to an IDT gate'),
  bit('TI', 2, 'With IDT = 0: 1 = LDT, 0 = GDT'),
  bits('INDEX', 15, 3, 'Selector index or IDT vector'),
];

/** Access rights from a descriptor's high dword: bits 55:40 of the descriptor → AR bits 15:0. */
export function accessRightsFromDescriptor(descriptor: bigint): number {
  return Number((descriptor >> 40n) & 0xf0ffn);
}

/** Base address of a code/data descriptor. */
export function descriptorBase(descriptor: bigint): bigint {
  return ((descriptor >> 16n) & 0xffffffn) | (((descriptor >> 56n) & 0xffn) << 24n);
}

/** Limit in bytes of a code/data descriptor (scaled by G). */
export function descriptorLimit(descriptor: bigint): number {
  const raw = Number((descriptor & 0xffffn) | (((descriptor >> 48n) & 0xfn) << 16n));
  return ((descriptor >> 55n) & 1n) === 1n ? raw * 0x1000 + 0xfff : raw;
}
