// Lazy arithmetic flags (SDM Vol. 1 §3.4.3.1). The hot arithmetic instructions record their operands
// and result in `F`; CF/PF/AF/ZF/SF/OF are computed only when something reads them. Everything else
// (shifts, multiplies, bit scans, POPF, …) writes materialized flags with `setStatus`.
//
// Undefined flags (docs/machine.md "Undefined flags"): ONE rule — every flag the SDM leaves undefined
// for an instruction is written as 0.

export const CF = 0x1;
export const PF = 0x4;
export const AF = 0x10;
export const ZF = 0x40;
export const SF = 0x80;
export const TF = 0x100;
export const IF = 0x200;
export const DF = 0x400;
export const OF = 0x800;
export const IOPL = 0x3000;
export const NT = 0x4000;
export const RF = 0x10000;
export const VM = 0x20000;
export const AC = 0x40000;
export const VIF = 0x80000;
export const VIP = 0x100000;
export const ID = 0x200000;
export const STATUS = CF | PF | AF | ZF | SF | OF;

/** Lazy-flag operation kinds stored in F[OP]. */
export const enum LazyOp {
  None = 0,
  Add = 1,
  Adc = 2,
  Sub = 3,
  Sbb = 4,
  Logic = 5,
  Inc = 6,
  Dec = 7,
}

/** Indices into the lazy-flag Int32Array. */
export const OP = 0, SIZE = 1, RL = 2, RH = 3, AL = 4, AH = 5, BL = 6, BH = 7, CFIN = 8;

const PARITY = new Uint8Array(256);
for (let i = 0; i < 256; i++) {
  let bits = 0;
  for (let b = i; b; b >>= 1) bits += b & 1;
  PARITY[i] = bits & 1 ? 0 : PF;
}
export function parity(low: number): number {
  return PARITY[low & 0xff];
}

/** Unsigned compare of two 64-bit values given as halves: -1, 0, 1. */
export function cmpU64(al: number, ah: number, bl: number, bh: number): number {
  const x = ah >>> 0, y = bh >>> 0;
  if (x !== y) return x < y ? -1 : 1;
  const p = al >>> 0, q = bl >>> 0;
  return p === q ? 0 : p < q ? -1 : 1;
}

/** Sign bit (0/1) of a value of `size` bytes given as halves. */
export function signOf(lo: number, hi: number, size: number): number {
  return size === 8 ? hi >>> 31 : (lo >>> (size * 8 - 1)) & 1;
}

/** The six status flags from the lazy record. */
export function lazyStatus(F: Int32Array): number {
  const op = F[OP], size = F[SIZE];
  const rl = F[RL], rh = F[RH], al = F[AL], ah = F[AH], bl = F[BL], bh = F[BH];
  let flags = parity(rl);
  if ((rl | rh) === 0) flags |= ZF;
  const sr = signOf(rl, rh, size);
  if (sr) flags |= SF;
  if (op !== LazyOp.Logic) flags |= (al ^ bl ^ rl) & AF;
  flags |= lazyCarry(op, rl, rh, al, ah, bl, bh, F[CFIN]);
  const sa = signOf(al, ah, size), sb = signOf(bl, bh, size);
  switch (op) {
    case LazyOp.Add:
    case LazyOp.Adc:
      if (sa === sb && sr !== sa) flags |= OF;
      break;
    case LazyOp.Sub:
    case LazyOp.Sbb:
      if (sa !== sb && sr !== sa) flags |= OF;
      break;
    case LazyOp.Inc:
      if (sa === 0 && sr === 1) flags |= OF;
      break;
    case LazyOp.Dec:
      if (sa === 1 && sr === 0) flags |= OF;
      break;
    default:
      break;
  }
  return flags;
}

/**
 * CF from the lazy record's fields, passed as values (lazyStatus takes its CF from here too): ADC, SBB,
 * INC and DEC read the carry this way, so a translated block keeps the record in locals and need not store
 * them first. The values of narrower operations are zero-extended, so one 64-bit compare serves all sizes.
 */
export function lazyCarry(op: number, rl: number, rh: number, al: number, ah: number, bl: number, bh: number, carryIn: number): number {
  switch (op) {
    case LazyOp.Add: return cmpU64(rl, rh, al, ah) < 0 ? CF : 0;
    case LazyOp.Adc: { const c = cmpU64(rl, rh, al, ah); return c < 0 || (carryIn && c === 0) ? CF : 0; }
    case LazyOp.Sub: return cmpU64(al, ah, bl, bh) < 0 ? CF : 0;
    case LazyOp.Sbb: { const c = cmpU64(al, ah, bl, bh); return c < 0 || (carryIn && c === 0) ? CF : 0; }
    case LazyOp.Inc: case LazyOp.Dec: return carryIn & CF;
    default: return 0;
  }
}

/**
 * Condition codes 0–15 in the order of the Jcc/SETcc/CMOVcc opcodes (SDM Vol. 1 Appendix B):
 * O, NO, B, AE, E, NE, BE, A, S, NS, P, NP, L, GE, LE, G.
 */
export function testCondition(flags: number, cc: number): boolean {
  let r: boolean;
  switch (cc >> 1) {
    case 0: r = (flags & OF) !== 0; break;
    case 1: r = (flags & CF) !== 0; break;
    case 2: r = (flags & ZF) !== 0; break;
    case 3: r = (flags & (CF | ZF)) !== 0; break;
    case 4: r = (flags & SF) !== 0; break;
    case 5: r = (flags & PF) !== 0; break;
    case 6: r = ((flags & SF) !== 0) !== ((flags & OF) !== 0); break;
    default: r = (flags & ZF) !== 0 || ((flags & SF) !== 0) !== ((flags & OF) !== 0); break;
  }
  return (cc & 1) === 0 ? r : !r;
}
