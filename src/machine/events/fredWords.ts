// The CS and SS words of the FRED frame as the 32-bit halves delivery writes. The bit layout is the one
// in src/arch/fredFrame.ts (fred-architecture.md §3.5): the field positions are read from that table once,
// here, and the words are composed with integer shifts. Delivery is hot, and these functions are small
// enough for the JIT to inline into it (the arch encoders work field by field on bigints).
import { FRED_CS_WORD_FIELDS, FRED_SS_WORD_FIELDS } from '../../arch/index';
import { findField, type BitLayout } from '../../arch/bitField';

/** Least significant bit of `name` in `layout`, relative to `base` (0 for bits 31:0, 32 for bits 63:32). */
function shiftOf(layout: BitLayout, name: string, base: number): number {
  const field = findField(layout, name);
  if (!field || field.lsb < base || field.lsb + field.width > base + 32) throw new Error(`src/arch/fredFrame.ts: ${name} is not in bits ${base + 31}:${base}`);
  return field.lsb - base;
}

const CS_SL = shiftOf(FRED_CS_WORD_FIELDS, 'sl', 0);
const CS_WFE = 1 << shiftOf(FRED_CS_WORD_FIELDS, 'wfe', 0);
const SS_STI = 1 << shiftOf(FRED_SS_WORD_FIELDS, 'sti', 0);
const SS_SWEVENT = 1 << shiftOf(FRED_SS_WORD_FIELDS, 'swevent', 0);
const SS_NMI = 1 << shiftOf(FRED_SS_WORD_FIELDS, 'nmi', 0);
const SS_VECTOR = shiftOf(FRED_SS_WORD_FIELDS, 'vector', 32);
const SS_TYPE = shiftOf(FRED_SS_WORD_FIELDS, 'type', 32);
const SS_ENCLAVE = 1 << shiftOf(FRED_SS_WORD_FIELDS, 'enclave', 32);
const SS_L = 1 << shiftOf(FRED_SS_WORD_FIELDS, 'l', 32);
const SS_NESTED = 1 << shiftOf(FRED_SS_WORD_FIELDS, 'nested', 32);
const SS_INSN_LEN = shiftOf(FRED_SS_WORD_FIELDS, 'insnLen', 32);

/** CS word (all in bits 18:0): selector, SL, WFE. */
export function csWordLow(selector: number, sl: number, wfe: boolean): number {
  return (selector & 0xffff) | ((sl & 3) << CS_SL) | (wfe ? CS_WFE : 0);
}

/** SS word bits 31:0: selector, STI, swevent, NMI (the bits ERETx act on). */
export function ssWordLow(selector: number, sti: boolean, swevent: boolean, nmi: boolean): number {
  return (selector & 0xffff) | (sti ? SS_STI : 0) | (swevent ? SS_SWEVENT : 0) | (nmi ? SS_NMI : 0);
}

/** SS word bits 63:32 as a signed 32-bit half: vector, type, enclave, 64-bit mode, nested, instruction length (informational). */
export function ssWordHigh(vector: number, type: number, enclave: boolean, l: boolean, nested: boolean, insnLen: number): number {
  return ((vector & 0xff) << SS_VECTOR) | ((type & 0xf) << SS_TYPE) | (enclave ? SS_ENCLAVE : 0) | (l ? SS_L : 0) | (nested ? SS_NESTED : 0) | ((insnLen & 0xf) << SS_INSN_LEN);
}
