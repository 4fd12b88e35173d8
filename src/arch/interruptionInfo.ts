// Interruption-information formats (VM-entry 0x4016, VM-exit 0x4404, IDT-vectoring 0x4408;
// SDM Vol. 3C §25.8.3, §25.9.2, §25.9.3; FRED nested bit 13 per vmx-fred.md §1.5, §3.7),
// guest interruptibility and activity state (SDM §25.4.2).

import { bit, bits, extractField, insertField, type BitLayout } from './bitField';

const VECTOR = bits('vector', 7, 0, 'Vector of the interrupt or exception');
const TYPE = bits('type', 10, 8, 'Interruption type (0 ext. interrupt, 2 NMI, 3 HW exception, 4 INT n, 5 INT1, 6 INT3/INTO, 7 other)');
const NESTED = bit('nested', 13, 'Nested exception: raised while delivering another event via FRED (never #DF)');
const VALID = bit('valid', 31, 'Valid');
const DELIVER_ERROR_CODE = bit('deliverErrorCode', 11, 'Deliver error code (pushes VM_ENTRY_EXCEPTION_ERROR_CODE)');
const NMI_UNBLOCKING = bit('nmiUnblockingDueToIret', 12, 'NMI unblocking due to IRET');

export const ENTRY_INTR_INFO_FIELDS: BitLayout = [VECTOR, TYPE, DELIVER_ERROR_CODE, NESTED, VALID];

export const EXIT_INTR_INFO_FIELDS: BitLayout = [
  VECTOR, TYPE, bit('errorCodeValid', 11, 'Error code valid (VM_EXIT_INTR_ERROR_CODE)'), NMI_UNBLOCKING, NESTED, VALID,
];

export const IDT_VECTORING_INFO_FIELDS: BitLayout = [
  VECTOR, TYPE, bit('errorCodeValid', 11, 'Error code valid (IDT_VECTORING_ERROR_CODE)'),
  bit('undefined12', 12, 'Undefined: clear before copying into the VM-entry field'), NESTED, VALID,
];

/** Reserved bits of the VM-entry interruption information with nested-exception support (bit 13 allowed). */
export const ENTRY_INTR_INFO_RESERVED_MASK = 0x7fffd000;
/** Reserved bits without nested-exception support (IA32_VMX_BASIC[58] = 0). */
export const ENTRY_INTR_INFO_RESERVED_MASK_NO_NESTED = 0x7ffff000;

/** A decoded interruption-information value (any of the three formats). */
export interface InterruptionInfo {
  readonly vector: number;
  readonly type: number;
  /** Bit 11: deliver error code (entry) / error code valid (exit, IDT-vectoring). */
  readonly errorCode: boolean;
  /** Bit 12: NMI unblocking due to IRET (exit format only; 0 otherwise). */
  readonly bit12: boolean;
  readonly nested: boolean;
  readonly valid: boolean;
}

/** Decode a 32-bit interruption-information value. */
export function decodeInterruptionInfo(value: number | bigint): InterruptionInfo {
  const v = BigInt.asUintN(32, BigInt(value));
  return {
    vector: Number(extractField(VECTOR, v)),
    type: Number(extractField(TYPE, v)),
    errorCode: extractField(DELIVER_ERROR_CODE, v) === 1n,
    bit12: extractField(NMI_UNBLOCKING, v) === 1n,
    nested: extractField(NESTED, v) === 1n,
    valid: extractField(VALID, v) === 1n,
  };
}

/** Encode an interruption-information value (valid defaults to true). */
export function encodeInterruptionInfo(info: {
  vector: number; type: number; errorCode?: boolean; bit12?: boolean; nested?: boolean; valid?: boolean;
}): number {
  let v = insertField(VECTOR, 0n, BigInt(info.vector));
  v = insertField(TYPE, v, BigInt(info.type));
  if (info.errorCode) v = insertField(DELIVER_ERROR_CODE, v, 1n);
  if (info.bit12) v = insertField(NMI_UNBLOCKING, v, 1n);
  if (info.nested) v = insertField(NESTED, v, 1n);
  if (info.valid ?? true) v = insertField(VALID, v, 1n);
  return Number(v);
}

export const INTERRUPTIBILITY_FIELDS: BitLayout = [
  bit('STI', 0, 'Blocking by STI'),
  bit('MOV_SS', 1, 'Blocking by MOV SS / POP SS'),
  bit('SMI', 2, 'Blocking by SMI'),
  bit('NMI', 3, 'Blocking by NMI'),
  bit('ENCLAVE', 4, 'Enclave interruption'),
];

export const ACTIVITY_STATES = [
  { value: 0, short: 'ACTIVE', name: 'Active' },
  { value: 1, short: 'HLT', name: 'HLT' },
  { value: 2, short: 'SHUTDOWN', name: 'Shutdown' },
  { value: 3, short: 'WAIT_SIPI', name: 'Wait-for-SIPI' },
] as const;

export const GUEST_ACTIVITY_STATE_FIELDS: BitLayout = [bits('state', 31, 0, '0 active, 1 HLT, 2 shutdown, 3 wait-for-SIPI')];

export const PENDING_DBG_EXCEPTIONS_FIELDS: BitLayout = [
  bits('B3_0', 3, 0, 'Breakpoint conditions B3–B0 met'),
  bit('ENABLED_BREAKPOINT', 12, 'At least one enabled breakpoint condition met'),
  bit('BS', 14, 'Single-step trap pending'),
  bit('RTM', 16, 'RTM debug condition'),
];
