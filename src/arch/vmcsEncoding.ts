// The VMCS field-encoding scheme (SDM Vol. 3C §25.11.2, Appendix B; vmx-fred.md §3.1):
// bit 0 access type (1 = high 32 bits of a 64-bit field), bits 9:1 index, bits 11:10 type,
// bit 12 reserved, bits 14:13 width, bits 31:15 reserved.

export type VmcsWidth = '16' | '32' | '64' | 'natural';
export type VmcsType = 'control' | 'exitInformation' | 'guestState' | 'hostState';

const WIDTHS: readonly VmcsWidth[] = ['16', '64', '32', 'natural'];
const TYPES: readonly VmcsType[] = ['control', 'exitInformation', 'guestState', 'hostState'];

/** Bits that must be 0 in any encoding (bit 12 and 31:15). */
export const VMCS_ENCODING_RESERVED_MASK = 0xffff9000;

/** Width from encoding bits 14:13 (0 16-bit, 1 64-bit, 2 32-bit, 3 natural width). */
export function vmcsWidthOf(encoding: number): VmcsWidth {
  return WIDTHS[(encoding >>> 13) & 3]!;
}

/** Type from encoding bits 11:10 (0 control, 1 read-only exit information, 2 guest state, 3 host state). */
export function vmcsTypeOf(encoding: number): VmcsType {
  return TYPES[(encoding >>> 10) & 3]!;
}

/** Index from encoding bits 9:1. */
export function vmcsIndexOf(encoding: number): number {
  return (encoding >>> 1) & 0x1ff;
}

/** Access type bit 0: true when the encoding names the high 32 bits of a 64-bit field. */
export function vmcsIsHighAccess(encoding: number): boolean {
  return (encoding & 1) === 1;
}

/** Build an encoding from its parts (access = full). */
export function vmcsEncode(width: VmcsWidth, type: VmcsType, index: number): number {
  return (WIDTHS.indexOf(width) << 13) | (TYPES.indexOf(type) << 10) | ((index & 0x1ff) << 1);
}

/** Is the encoding well-formed: no reserved bits, and the high-access bit only on 64-bit fields? */
export function vmcsEncodingWellFormed(encoding: number): boolean {
  if (!Number.isInteger(encoding) || encoding < 0 || encoding > 0xffffffff) return false;
  if ((encoding & VMCS_ENCODING_RESERVED_MASK) !== 0) return false;
  return !vmcsIsHighAccess(encoding) || vmcsWidthOf(encoding) === '64';
}
