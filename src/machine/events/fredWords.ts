// The CS and SS words of the FRED frame as the 32-bit halves delivery writes. The bit layout is the one
// in src/arch/fredFrame.ts (fred-architecture.md §3.5); these functions only memoize the arch encoders
// per field combination, because delivery is hot and the generic encoder works field by field on bigints.
import { encodeFredCsWord, encodeFredSsWord } from '../../arch/index';

const csLow = new Map<number, number>();
const ssLow = new Map<number, number>();
const ssHigh = new Map<number, number>();
// The last key and word of each (a loop of the same event skips even the Map lookup).
let csKey = -1, csWord = 0, ssLowKey = -1, ssLowWord = 0, ssHighKey = -1, ssHighWord = 0;

/** CS word (all in bits 18:0): selector, SL, WFE. */
export function csWordLow(selector: number, sl: number, wfe: boolean): number {
  const key = selector | (sl << 16) | (wfe ? 1 << 18 : 0);
  if (key === csKey) return csWord;
  let w = csLow.get(key);
  if (w === undefined) {
    const word = encodeFredCsWord({ selector, sl, wfe });
    w = Number(BigInt.asIntN(32, word));
    csLow.set(key, w);
  }
  csKey = key;
  csWord = w;
  return w;
}

const SS_NONE = { selector: 0, sti: false, swevent: false, nmi: false, vector: 0, type: 0, enclave: false, l: false, nested: false, insnLen: 0 };

/** SS word bits 31:0: selector, STI, swevent, NMI (the bits ERETx act on). */
export function ssWordLow(selector: number, sti: boolean, swevent: boolean, nmi: boolean): number {
  const key = selector | (sti ? 1 << 16 : 0) | (swevent ? 1 << 17 : 0) | (nmi ? 1 << 18 : 0);
  if (key === ssLowKey) return ssLowWord;
  let w = ssLow.get(key);
  if (w === undefined) {
    w = Number(BigInt.asIntN(32, encodeFredSsWord({ ...SS_NONE, selector, sti, swevent, nmi })));
    ssLow.set(key, w);
  }
  ssLowKey = key;
  ssLowWord = w;
  return w;
}

/** SS word bits 63:32: vector, type, enclave, 64-bit mode, nested, instruction length (informational). */
export function ssWordHigh(vector: number, type: number, enclave: boolean, l: boolean, nested: boolean, insnLen: number): number {
  const key = vector | (type << 8) | (enclave ? 1 << 12 : 0) | (l ? 1 << 13 : 0) | (nested ? 1 << 14 : 0) | (insnLen << 15);
  if (key === ssHighKey) return ssHighWord;
  let w = ssHigh.get(key);
  if (w === undefined) {
    w = Number(BigInt.asIntN(32, encodeFredSsWord({ ...SS_NONE, vector, type, enclave, l, nested, insnLen }) >> 32n));
    ssHigh.set(key, w);
  }
  ssHighKey = key;
  ssHighWord = w;
  return w;
}
