// Integer instructions executed by helpers on bigints (SDM Vol. 2): multiply/divide, shifts and
// rotates, bit tests and scans, exchange-and-compare, conversions and flag instructions. They are
// less frequent than the ALU core (codegen/alu.ts), so clarity wins over speed here.
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decode';
import { Mnemonic } from '../decode';
import { AF, CF, DF, OF, SF, STATUS, ZF, PF } from '../flags';
import { CpuFault, DE } from '../../events/fault';
import { maskOf, opSize, readOp, setStatus, signed, szp, writeGprSized, writeOp } from './operands';

export type Helper = (c: Cpu, d: DecodedInsn, a: number) => void;

const RAX = 0, RDX = 2;

function accumulatorPair(c: Cpu, size: number): [bigint, bigint] {
  if (size === 1) return [c.gpr(RAX) & 0xffn, (c.gpr(RAX) >> 8n) & 0xffn];
  return [c.gpr(RAX) & maskOf(size), c.gpr(RDX) & maskOf(size)];
}

function setAccumulatorPair(c: Cpu, size: number, low: bigint, high: bigint): void {
  if (size === 1) return writeGprSized(c, RAX, 2, false, ((high & 0xffn) << 8n) | (low & 0xffn));
  writeGprSized(c, RAX, size, false, low);
  writeGprSized(c, RDX, size, false, high);
}

function mul(c: Cpu, d: DecodedInsn, a: number): void {
  const size = opSize(d), bits = BigInt(size * 8);
  const src = readOp(c, d, 0, a);
  const [acc] = accumulatorPair(c, size);
  const product = acc * src;
  const high = product >> bits;
  setAccumulatorPair(c, size, product, high);
  setStatus(c, high !== 0n ? CF | OF : 0);
}

function imul(c: Cpu, d: DecodedInsn, a: number): void {
  const size = opSize(d), bits = BigInt(size * 8);
  if (d.ops.length === 1) {
    const [acc] = accumulatorPair(c, size);
    const product = signed(acc, size) * signed(readOp(c, d, 0, a), size);
    setAccumulatorPair(c, size, product, product >> bits);
    setStatus(c, BigInt.asIntN(size * 8, product) !== product ? CF | OF : 0);
    return;
  }
  const x = d.ops.length === 3 ? readOp(c, d, 1, a) : readOp(c, d, 0, a);
  const y = d.ops.length === 3 ? readOp(c, d, 2, a, size) : readOp(c, d, 1, a);
  const product = signed(x, size) * signed(y, size);
  writeOp(c, d, 0, a, product);
  setStatus(c, (BigInt.asIntN(size * 8, product) !== product ? CF | OF : 0) | 0);
}

function divide(c: Cpu, d: DecodedInsn, a: number, isSigned: boolean): void {
  const size = opSize(d), bits = BigInt(size * 8);
  const divisor = readOp(c, d, 0, a);
  if (divisor === 0n) throw new CpuFault(DE, undefined, undefined, 'divide by zero');
  const [low, high] = accumulatorPair(c, size);
  let dividend = (high << bits) | low;
  let quotient: bigint, remainder: bigint;
  if (isSigned) {
    dividend = BigInt.asIntN(size * 16, dividend);
    const s = signed(divisor, size);
    quotient = dividend / s;
    remainder = dividend % s;
    if (quotient !== BigInt.asIntN(size * 8, quotient)) throw new CpuFault(DE, undefined, undefined, 'quotient too large');
  } else {
    quotient = dividend / divisor;
    remainder = dividend % divisor;
    if (quotient > maskOf(size)) throw new CpuFault(DE, undefined, undefined, 'quotient too large');
  }
  if (size === 1) writeGprSized(c, RAX, 2, false, ((remainder & 0xffn) << 8n) | (quotient & 0xffn));
  else setAccumulatorPair(c, size, quotient, remainder);
  setStatus(c, 0); // all six flags undefined → 0 (docs/machine.md)
}

/** SHL/SAL/SHR/SAR/ROL/ROR/RCL/RCR (SDM Vol. 2B "SAL/SAR/SHL/SHR", "RCL/RCR/ROL/ROR"). */
function shift(c: Cpu, d: DecodedInsn, a: number): void {
  const size = opSize(d), bits = size * 8;
  const x = readOp(c, d, 0, a);
  const countRaw = d.ops.length > 1 ? Number(readOp(c, d, 1, a, 1)) : 1;
  const count = countRaw & (size === 8 ? 63 : 31);
  if (count === 0) {
    // Flags unchanged, but the destination is written: a 32-bit register is zero-extended (as the
    // host CPU does) and a memory operand gets its write-access check.
    writeOp(c, d, 0, a, x);
    return;
  }
  const m = maskOf(size), B = BigInt(bits), n = BigInt(count);
  const msb = (v: bigint) => (v >> (B - 1n)) & 1n;
  const flags = c.rflags;
  let result: bigint, cf: bigint, of: bigint;
  switch (d.mnemonic) {
    case Mnemonic.Shl:
    case Mnemonic.Sal:
      result = (x << n) & m;
      cf = count <= bits ? (x >> (B - n)) & 1n : 0n;
      of = count === 1 ? msb(result) ^ cf : 0n;
      return finishShift(c, d, a, result, size, cf, of, true);
    case Mnemonic.Shr:
      result = x >> n;
      cf = (x >> (n - 1n)) & 1n;
      of = count === 1 ? msb(x) : 0n;
      return finishShift(c, d, a, result, size, cf, of, true);
    case Mnemonic.Sar: {
      const s = signed(x, size);
      result = (s >> n) & m;
      cf = (s >> (n - 1n)) & 1n;
      return finishShift(c, d, a, result, size, cf, 0n, true);
    }
    case Mnemonic.Rol: {
      const r = BigInt(count % bits);
      result = ((x << r) | (x >> ((B - r) % B))) & m;
      cf = result & 1n;
      of = count === 1 ? msb(result) ^ cf : 0n;
      return finishShift(c, d, a, result, size, cf, of, false);
    }
    case Mnemonic.Ror: {
      const r = BigInt(count % bits);
      result = ((x >> r) | (x << ((B - r) % B))) & m;
      cf = msb(result);
      of = count === 1 ? msb(result) ^ ((result >> (B - 2n)) & 1n) : 0n;
      return finishShift(c, d, a, result, size, cf, of, false);
    }
    case Mnemonic.Rcl:
    case Mnemonic.Rcr: {
      const width = bits + 1;
      const r = BigInt(count % width);
      const wide = (BigInt(flags & CF) << B) | x; // CF above the operand
      const W = BigInt(width), wm = (1n << W) - 1n;
      const rotated = d.mnemonic === Mnemonic.Rcl
        ? ((wide << r) | (wide >> ((W - r) % W))) & wm
        : ((wide >> r) | (wide << ((W - r) % W))) & wm;
      result = rotated & m;
      cf = rotated >> B;
      if (d.mnemonic === Mnemonic.Rcl) of = count === 1 ? msb(result) ^ cf : 0n;
      else of = count === 1 ? msb(x) ^ BigInt(flags & CF) : 0n;
      return finishShift(c, d, a, result, size, cf, of, false);
    }
    default:
      throw new Error(`shift helper: ${d.text}`);
  }
}

function finishShift(c: Cpu, d: DecodedInsn, a: number, result: bigint, size: number, cf: bigint, of: bigint, arithmetic: boolean): void {
  writeOp(c, d, 0, a, result);
  const bits = (cf ? CF : 0) | (of ? OF : 0);
  if (arithmetic) setStatus(c, bits | szp(result, size)); // AF undefined → 0
  else setStatus(c, bits, CF | OF);
}

/** SHLD/SHRD (SDM Vol. 2B). */
function doubleShift(c: Cpu, d: DecodedInsn, a: number): void {
  const size = opSize(d), bits = BigInt(size * 8);
  const count = BigInt(Number(readOp(c, d, 2, a, 1)) & (size === 8 ? 63 : 31));
  const x = readOp(c, d, 0, a), y = readOp(c, d, 1, a), m = maskOf(size);
  if (count === 0n) return writeOp(c, d, 0, a, x); // zero-extends a 32-bit register, flags unchanged
  let result: bigint, cf: bigint;
  if (d.mnemonic === Mnemonic.Shld) {
    const wide = (x << bits) | y;
    result = (wide >> (bits - count)) & m;
    cf = (x >> (bits - count)) & 1n;
  } else {
    const wide = (y << bits) | x;
    result = (wide >> count) & m;
    cf = (x >> (count - 1n)) & 1n;
  }
  writeOp(c, d, 0, a, result);
  const of = count === 1n && ((result ^ x) >> (bits - 1n)) & 1n ? OF : 0;
  setStatus(c, (cf ? CF : 0) | of | szp(result, size));
}

/** BT/BTS/BTR/BTC: register bit offsets address memory beyond the operand (SDM Vol. 2A "BT"). */
function bitTest(c: Cpu, d: DecodedInsn, a: number): void {
  const size = opSize(d), bits = size * 8;
  let offset = readOp(c, d, 1, a, d.ops[1].kind === 3 ? 1 : size);
  let address = a;
  if (d.ops[0].kind === 2 && d.ops[1].kind === 1) {
    const s = signed(offset, size);
    address = a + Number((s >> BigInt(Math.log2(bits))) * BigInt(size));
    offset = BigInt.asUintN(64, s) & BigInt(bits - 1);
  } else offset &= BigInt(bits - 1);
  const value = readOp(c, d, 0, address);
  const bit = (value >> offset) & 1n;
  let result = value;
  if (d.mnemonic === Mnemonic.Bts) result = value | (1n << offset);
  else if (d.mnemonic === Mnemonic.Btr) result = value & ~(1n << offset);
  else if (d.mnemonic === Mnemonic.Btc) result = value ^ (1n << offset);
  if (d.mnemonic !== Mnemonic.Bt) writeOp(c, d, 0, address, result);
  setStatus(c, bit ? CF : 0, CF | OF | SF | AF | PF); // ZF unaffected; OF/SF/AF/PF undefined → 0
}

function bitScan(c: Cpu, d: DecodedInsn, a: number): void {
  const size = opSize(d), bits = size * 8;
  const src = readOp(c, d, 1, a);
  const str = src.toString(2);
  const lowest = src === 0n ? bits : str.length - 1 - str.lastIndexOf('1');
  const highest = src === 0n ? -1 : str.length - 1;
  switch (d.mnemonic) {
    case Mnemonic.Bsf:
    case Mnemonic.Bsr:
      if (src !== 0n) writeOp(c, d, 0, a, BigInt(d.mnemonic === Mnemonic.Bsf ? lowest : highest));
      return setStatus(c, src === 0n ? ZF : 0);
    case Mnemonic.Tzcnt:
    case Mnemonic.Lzcnt: {
      const count = d.mnemonic === Mnemonic.Tzcnt ? lowest : bits - 1 - highest;
      writeOp(c, d, 0, a, BigInt(count));
      return setStatus(c, (src === 0n ? CF : 0) | (count === 0 ? ZF : 0));
    }
    default: {
      let ones = 0;
      for (const ch of str) if (ch === '1') ones++;
      writeOp(c, d, 0, a, BigInt(src === 0n ? 0 : ones));
      return setStatus(c, src === 0n ? ZF : 0);
    }
  }
}

function xadd(c: Cpu, d: DecodedInsn, a: number): void {
  const size = opSize(d);
  const x = readOp(c, d, 0, a), y = readOp(c, d, 1, a);
  const sum = (x + y) & maskOf(size);
  writeOp(c, d, 0, a, sum);
  writeOp(c, d, 1, a, x);
  setStatus(c, addFlags(x, y, sum, size));
}

export function addFlags(x: bigint, y: bigint, sum: bigint, size: number): number {
  const top = BigInt(size * 8 - 1);
  let f = szp(sum, size) | Number((x ^ y ^ sum) & 0x10n);
  if (sum < x) f |= CF;
  if ((((x ^ sum) & (y ^ sum)) >> top) & 1n) f |= OF;
  return f;
}

export function subFlags(x: bigint, y: bigint, size: number): number {
  const diff = (x - y) & maskOf(size), top = BigInt(size * 8 - 1);
  let f = szp(diff, size) | Number((x ^ y ^ diff) & 0x10n);
  if (x < y) f |= CF;
  if ((((x ^ y) & (x ^ diff)) >> top) & 1n) f |= OF;
  return f;
}

function cmpxchg(c: Cpu, d: DecodedInsn, a: number): void {
  const size = opSize(d);
  const dest = readOp(c, d, 0, a);
  const acc = c.gpr(RAX) & maskOf(size);
  setStatus(c, subFlags(acc, dest, size));
  if (acc === dest) writeOp(c, d, 0, a, readOp(c, d, 1, a));
  else {
    if (d.ops[0].kind === 2) writeOp(c, d, 0, a, dest); // the destination is always written
    writeGprSized(c, RAX, size, false, dest);
  }
}

/** CMPXCHG8B / CMPXCHG16B (SDM Vol. 2A): EDX:EAX vs m64, RDX:RAX vs m128 (16-byte aligned). */
function cmpxchgWide(c: Cpu, d: DecodedInsn, a: number): void {
  const half = d.mnemonic === Mnemonic.Cmpxchg16b ? 8 : 4;
  if (half === 8 && a % 16 !== 0) throw new CpuFault(13, 0, undefined, 'CMPXCHG16B operand not 16-byte aligned');
  const lo = c.m.readBig(a, half), hi = c.m.readBig(a + half, half);
  const m = maskOf(half);
  const ax = c.gpr(RAX) & m, dx = c.gpr(RDX) & m;
  if (lo === ax && hi === dx) {
    c.m.writeBig(a, half, c.gpr(3) & m);
    c.m.writeBig(a + half, half, c.gpr(1) & m);
    setStatus(c, ZF, ZF);
  } else {
    c.m.writeBig(a, half, lo);
    c.m.writeBig(a + half, half, hi);
    writeGprSized(c, RAX, half, false, lo);
    writeGprSized(c, RDX, half, false, hi);
    setStatus(c, 0, ZF);
  }
}

function bswap(c: Cpu, d: DecodedInsn, a: number): void {
  const size = opSize(d);
  const x = readOp(c, d, 0, a);
  let y = 0n;
  for (let k = 0; k < size; k++) y = (y << 8n) | ((x >> BigInt(8 * k)) & 0xffn);
  if (size === 2) y = 0n; // BSWAP r16 is undefined; we define it as 0 (docs/machine.md)
  writeOp(c, d, 0, a, y);
}

function movbe(c: Cpu, d: DecodedInsn, a: number): void {
  const size = d.ops[0].size;
  const x = readOp(c, d, 1, a, size);
  let y = 0n;
  for (let k = 0; k < size; k++) y = (y << 8n) | ((x >> BigInt(8 * k)) & 0xffn);
  writeOp(c, d, 0, a, y, size);
}

/** CBW/CWDE/CDQE and CWD/CDQ/CQO. */
function convert(c: Cpu, d: DecodedInsn): void {
  const M = Mnemonic;
  const widen: Partial<Record<number, [number, number]>> = { [M.Cbw]: [1, 2], [M.Cwde]: [2, 4], [M.Cdqe]: [4, 8] };
  const w = widen[d.mnemonic];
  if (w) return writeGprSized(c, RAX, w[1], false, BigInt.asUintN(w[1] * 8, signed(c.gpr(RAX), w[0])));
  const size = d.mnemonic === M.Cwd ? 2 : d.mnemonic === M.Cdq ? 4 : 8;
  writeGprSized(c, RDX, size, false, signed(c.gpr(RAX), size) < 0n ? maskOf(size) : 0n);
}

function flagOps(c: Cpu, d: DecodedInsn): void {
  const M = Mnemonic;
  const f = c.rflags;
  switch (d.mnemonic) {
    case M.Clc: c.rflags = f & ~CF; break;
    case M.Stc: c.rflags = f | CF; break;
    case M.Cmc: c.rflags = f ^ CF; break;
    case M.Cld: c.rflags = f & ~DF; break;
    case M.Std: c.rflags = f | DF; break;
    case M.Lahf: writeGprSized(c, RAX, 1, true, BigInt((f & 0xd5) | 2)); break;
    case M.Sahf: c.rflags = (f & ~0xd5) | (Number((c.gpr(RAX) >> 8n) & 0xffn) & 0xd5); break;
  }
}

function xlat(c: Cpu, d: DecodedInsn): void {
  const base = d.addrSize === 4 ? Number(c.gpr(3) & 0xffffffffn) : c.gprNumber(3);
  const segBase = d.seg === 4 || d.seg === 5 || !c.long64 ? c.seg[d.seg].base : 0;
  const value = c.m.rd8(base + segBase + Number(c.gpr(RAX) & 0xffn));
  writeGprSized(c, RAX, 1, false, BigInt(value));
}

const M = Mnemonic;
export const INTEGER_HELPERS: Partial<Record<Mnemonic, Helper>> = {
  [M.Mul]: mul,
  [M.Imul]: imul,
  [M.Div]: (c, d, a) => divide(c, d, a, false),
  [M.Idiv]: (c, d, a) => divide(c, d, a, true),
  [M.Shl]: shift, [M.Sal]: shift, [M.Shr]: shift, [M.Sar]: shift,
  [M.Rol]: shift, [M.Ror]: shift, [M.Rcl]: shift, [M.Rcr]: shift,
  [M.Shld]: doubleShift, [M.Shrd]: doubleShift,
  [M.Bt]: bitTest, [M.Bts]: bitTest, [M.Btr]: bitTest, [M.Btc]: bitTest,
  [M.Bsf]: bitScan, [M.Bsr]: bitScan, [M.Tzcnt]: bitScan, [M.Lzcnt]: bitScan, [M.Popcnt]: bitScan,
  [M.Xadd]: xadd,
  [M.Cmpxchg]: cmpxchg,
  [M.Cmpxchg8b]: cmpxchgWide, [M.Cmpxchg16b]: cmpxchgWide,
  [M.Bswap]: bswap,
  [M.Movbe]: movbe,
  [M.Cbw]: convert, [M.Cwde]: convert, [M.Cdqe]: convert, [M.Cwd]: convert, [M.Cdq]: convert, [M.Cqo]: convert,
  [M.Clc]: flagOps, [M.Stc]: flagOps, [M.Cmc]: flagOps, [M.Cld]: flagOps, [M.Std]: flagOps, [M.Lahf]: flagOps, [M.Sahf]: flagOps,
  [M.Xlatb]: xlat,
};

export { STATUS };
