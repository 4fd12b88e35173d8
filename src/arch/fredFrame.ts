// The FRED stack frame (fred-architecture.md §3.5): 8 quadwords, offsets from the final RSP, and the
// bit fields of the CS and SS words. The emulator, the variables view and the tests all use these.

import { bit, bits, decodeFields, encodeFields, type BitLayout } from './bitField';

export const FRED_FRAME_SIZE = 64;

export interface FredFrameSlot {
  readonly offset: number;
  readonly name: 'errorCode' | 'rip' | 'csWord' | 'rflags' | 'rsp' | 'ssWord' | 'eventData' | 'reserved';
  readonly title: string;
}

/** Slots from the lowest address (final RSP) upwards; delivery writes them from the top down. */
export const FRED_FRAME_SLOTS: readonly FredFrameSlot[] = [
  { offset: 0x00, name: 'errorCode', title: 'Error code (zero-extended; 0 if none)' },
  { offset: 0x08, name: 'rip', title: 'Old RIP' },
  { offset: 0x10, name: 'csWord', title: 'CS word: selector, SL, WFE' },
  { offset: 0x18, name: 'rflags', title: 'Old RFLAGS' },
  { offset: 0x20, name: 'rsp', title: 'Old RSP (before red zone/alignment)' },
  { offset: 0x28, name: 'ssWord', title: 'SS word: selector, STI, swevent, NMI, vector, type, 64-bit, nested, insnlen' },
  { offset: 0x30, name: 'eventData', title: 'Event data (CR2 for #PF, DR6 bits for #DB, …)' },
  { offset: 0x38, name: 'reserved', title: 'Reserved (written as 0)' },
];

export const FRED_CS_WORD_FIELDS: BitLayout = [
  bits('selector', 15, 0, 'Old CS selector'),
  bits('sl', 17, 16, 'Stack level at the time of the event (0 for ring-3 events)'),
  bit('wfe', 18, 'IBT tracker was in WAIT_FOR_ENDBRANCH'),
];

export const FRED_SS_WORD_FIELDS: BitLayout = [
  bits('selector', 15, 0, 'Old SS selector'),
  bit('sti', 16, 'Blocking by STI was in effect'),
  bit('swevent', 17, 'Event was SYSCALL, SYSENTER or INT n (types 7 and 4)'),
  bit('nmi', 18, 'Event is an NMI'),
  bits('vector', 39, 32, 'Vector'),
  bits('type', 51, 48, 'Event type (0–7)'),
  bit('enclave', 56, 'Event occurred in enclave mode'),
  bit('l', 57, 'Event occurred in 64-bit mode (CS.L = 1)'),
  bit('nested', 58, 'Exception during delivery of another event (never #DF)'),
  bits('insnLen', 63, 60, 'Instruction length for INT n, INT1, INT3, INTO, SYSCALL, SYSENTER'),
];

/** Bits of the CS word that must be 0 (ERETS/ERETU check CS bits 63:19). */
export const FRED_CS_WORD_RESERVED_MASK = ~((1n << 19n) - 1n) & ((1n << 64n) - 1n);
/** Bits of the SS word that are always 0 when delivered: 31:19, 47:40, 55:52, 59. */
export const FRED_SS_WORD_RESERVED_MASK = 0x08f0_ff00_fff8_0000n;

export interface FredCsWord {
  selector: number;
  sl: number;
  wfe: boolean;
}

export interface FredSsWord {
  selector: number;
  sti: boolean;
  swevent: boolean;
  nmi: boolean;
  vector: number;
  type: number;
  enclave: boolean;
  l: boolean;
  nested: boolean;
  insnLen: number;
}

export function encodeFredCsWord(w: FredCsWord): bigint {
  return encodeFields(FRED_CS_WORD_FIELDS, { selector: w.selector, sl: w.sl, wfe: w.wfe });
}

export function decodeFredCsWord(value: bigint): FredCsWord {
  const f = decodeFields(FRED_CS_WORD_FIELDS, value);
  return { selector: Number(f.selector), sl: Number(f.sl), wfe: f.wfe === 1n };
}

export function encodeFredSsWord(w: FredSsWord): bigint {
  return encodeFields(FRED_SS_WORD_FIELDS, { ...w });
}

export function decodeFredSsWord(value: bigint): FredSsWord {
  const f = decodeFields(FRED_SS_WORD_FIELDS, value);
  return {
    selector: Number(f.selector), sti: f.sti === 1n, swevent: f.swevent === 1n, nmi: f.nmi === 1n,
    vector: Number(f.vector), type: Number(f.type), enclave: f.enclave === 1n, l: f.l === 1n,
    nested: f.nested === 1n, insnLen: Number(f.insnLen),
  };
}

/** Offset into the FRED entry page for events from ring 0 (ring-3 events enter at +0). */
export const FRED_RING0_ENTRY_OFFSET = 0x100;
