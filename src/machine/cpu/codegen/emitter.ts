// Code generation primitives: operand reads and writes, effective addresses and stack accesses as
// JavaScript source snippets over the generated block's locals (`r` = GPR halves, `F` = lazy flags,
// `m` = MMU, `c` = CPU). Values of 8/16-bit operands are unsigned numbers, 32-bit values are int32,
// 64-bit values are the pair `<v>l`/`<v>h` of int32 halves.
import { OperandKind, type DecodedInsn } from '../decode';

export const TWO32 = 4294967296;
const CANON = 140737488355328;

export interface CodegenMode {
  /** 64 in 64-bit mode, 32 in compatibility mode. */
  bitness: 64 | 32;
  /** Stack-pointer width in bytes (8 in 64-bit mode, 4 with a 32-bit SS in compatibility mode). */
  stackSize: number;
}

export function hex(n: number): string {
  return n < 0 ? `-0x${(-n).toString(16)}` : `0x${n.toString(16)}`;
}

export function mask(size: number): string {
  return size === 1 ? '0xff' : '0xffff';
}

/** Read GPR `reg` of `size` into `v`. */
export function readGpr(reg: number, size: number, high: boolean, v: string): string {
  const lo = `r[${2 * reg}]`;
  switch (size) {
    case 8: return `${v}l = ${lo}; ${v}h = r[${2 * reg + 1}];`;
    case 4: return `${v} = ${lo};`;
    case 2: return `${v} = ${lo} & 0xffff;`;
    default: return high ? `${v} = (${lo} >> 8) & 0xff;` : `${v} = ${lo} & 0xff;`;
  }
}

/** Write `v` to GPR `reg` of `size` (32-bit writes zero the upper half, SDM Vol. 1 §3.4.1.1). */
export function writeGpr(reg: number, size: number, high: boolean, v: string): string {
  const lo = `r[${2 * reg}]`;
  switch (size) {
    case 8: return `${lo} = ${v}l; r[${2 * reg + 1}] = ${v}h;`;
    case 4: return `${lo} = ${v}; r[${2 * reg + 1}] = 0;`;
    case 2: return `${lo} = (${lo} & -65536) | (${v} & 0xffff);`;
    default: return high ? `${lo} = (${lo} & -65281) | ((${v} & 0xff) << 8);` : `${lo} = (${lo} & -256) | (${v} & 0xff);`;
  }
}

/** Segment base term for a memory operand (only FS/GS in 64-bit mode, SDM Vol. 3A §3.2.4). */
function segBase(d: DecodedInsn, mode: CodegenMode): string {
  if (mode.bitness === 64 && d.seg !== 4 && d.seg !== 5) return '';
  return ` + c.seg[${d.seg}].base`;
}

/** Source that sets `a` to the linear address of the instruction's memory operand. */
export function effectiveAddress(d: DecodedInsn, mode: CodegenMode): string {
  const base = segBase(d, mode);
  if (d.base === 16) return `a = ${hex(d.disp)}${base};`;
  if (d.addrSize === 8) {
    const lo: string[] = [];
    const hi: string[] = [];
    if (d.base >= 0) {
      lo.push(`(r[${2 * d.base}] >>> 0)`);
      hi.push(`r[${2 * d.base + 1}]`);
    }
    if (d.index >= 0) {
      lo.push(`(r[${2 * d.index}] >>> 0) * ${d.scale}`);
      hi.push(`r[${2 * d.index + 1}] * ${d.scale}`);
    }
    if (d.disp) lo.push(hex(d.disp));
    if (!hi.length) return `a = ${hex(d.disp)}${base}; if (a >= ${CANON} || a < -${CANON}) a = c.wrapAddress(0, a);`;
    const l = lo.join(' + '), h = hi.join(' + ');
    // A non-canonical stack-segment reference (RSP/RBP base) is #SS(0), others #GP(0) (SDM Vol. 3A §6.15).
    const stack = d.seg === 2 ? ` if (a >= ${CANON} || a < -${CANON}) throw c.fault(12, 0, 'non-canonical stack address');` : '';
    return `a = (${h}) * ${TWO32} + ${l}${base}; if (a >= ${CANON} || a < -${CANON}) { a = c.wrapAddress(${h}, ${l}${base});${stack} }`;
  }
  const parts: string[] = [];
  if (d.base >= 0) parts.push(`r[${2 * d.base}]`);
  if (d.index >= 0) parts.push(`r[${2 * d.index}] * ${d.scale}`);
  if (d.disp || !parts.length) parts.push(hex(d.disp));
  const wrap = d.addrSize === 2 ? ' & 0xffff' : ' >>> 0';
  if (mode.bitness === 32) return `a = ((${parts.join(' + ')})${wrap}${base}) >>> 0;`;
  return `a = ((${parts.join(' + ')})${wrap})${base};`;
}

/**
 * Whether loads and stores inline the translation (optimized blocks) or call the MMU (first-tier
 * blocks, which are cheaper to compile). Set by block.ts around the generation of one block.
 */
let inlineMemory = true;

export function setInlineMemory(on: boolean): void {
  inlineMemory = on;
}

/**
 * Inlined translation for loads and stores. First a one-entry memo per block and direction
 * (`rb`/`rf`: linear page base and frame of the last read page, `wb`/`wf` for writes), then the TLB
 * probe (memory/mmu.ts fast path: `T`/`P`/`FR` = tag, permission and frame arrays; `RN`/`WN` = the
 * permission bits the current privilege needs, read at block entry since they only change between
 * blocks), then the MMU's slow path. On a hit `p` is the physical offset. The memo is as good as a TLB
 * entry: translations only change through instructions that end the block.
 */
function access(size: number, write: boolean, hit: string, miss: string): string {
  if (!inlineMemory) return miss;
  const [base, frame, need] = write ? ['wb', 'wf', 'WN'] : ['rb', 'rf', 'RN'];
  const last = 4096 - size;
  return `o = a - ${base}; if (o >= 0 && o <= ${last}) { p = (${frame} + o) | 0; ${hit} } else { o = Math.floor(a / 4096); q = o & 1023; ` +
    `if (T[q] === o && (P[q] & ${need}) !== 0 && a - o * 4096 <= ${last}) { ${base} = o * 4096; ${frame} = FR[q]; p = (${frame} + (a - ${base})) | 0; ${hit} } else { ${miss} } }`;
}

/**
 * Marks a store that took the MMU's slow path (`w = 1`): only the slow path can write a page holding
 * translated code (fast-path write permission is never cached for code pages), so the block checks
 * for a code write after such an instruction only.
 */
export const CODE_WRITTEN = 'w = 1;';

/** Load `size` bytes at `a` into `v`. */
export function load(size: number, v: string): string {
  switch (size) {
    case 8: return access(8, false, `${v}l = DV.getInt32(p, true); ${v}h = DV.getInt32(p + 4, true);`, `${v}l = m.rd64q(a); ${v}h = m.hi;`);
    case 4: return access(4, false, `${v} = DV.getInt32(p, true);`, `${v} = m.rd32(a);`);
    case 2: return access(2, false, `${v} = DV.getUint16(p, true);`, `${v} = m.rd16(a);`);
    default: return access(1, false, `${v} = B[p];`, `${v} = m.rd8(a);`);
  }
}

export function store(size: number, v: string): string {
  switch (size) {
    case 8: return access(8, true, `DV.setInt32(p, ${v}l, true); DV.setInt32(p + 4, ${v}h, true);`, `m.wr64(a, ${v}l, ${v}h); ${CODE_WRITTEN}`);
    case 4: return access(4, true, `DV.setInt32(p, ${v}, true);`, `m.wr32(a, ${v}); ${CODE_WRITTEN}`);
    case 2: return access(2, true, `DV.setUint16(p, ${v}, true);`, `m.wr16(a, ${v}); ${CODE_WRITTEN}`);
    default: return access(1, true, `B[p] = ${v};`, `m.wr8(a, ${v}); ${CODE_WRITTEN}`);
  }
}

/** Immediate of operand size `size` into `v`. */
export function immediate(d: DecodedInsn, size: number, v: string): string {
  if (size === 8) return `${v}l = ${d.immLo}; ${v}h = ${d.immHi};`;
  if (size === 4) return `${v} = ${d.immLo | 0};`;
  return `${v} = ${d.immLo & (size === 2 ? 0xffff : 0xff)};`;
}

/** Read operand k (register, memory at `a`, or immediate) at `size` into `v`. */
export function readOperand(d: DecodedInsn, k: number, size: number, v: string): string {
  const op = d.ops[k];
  if (op.kind === OperandKind.Gpr) return readGpr(op.reg, size, op.high, v);
  if (op.kind === OperandKind.Mem) return load(size, v);
  if (op.kind === OperandKind.Imm) return immediate(d, size, v);
  throw new Error(`operand ${k} of ${d.text} is not a value`);
}

export function writeOperand(d: DecodedInsn, k: number, size: number, v: string): string {
  const op = d.ops[k];
  if (op.kind === OperandKind.Gpr) return writeGpr(op.reg, size, op.high, v);
  if (op.kind === OperandKind.Mem) return store(size, v);
  throw new Error(`operand ${k} of ${d.text} is not writable`);
}

export function hasMemory(d: DecodedInsn): boolean {
  return d.ops.some((op) => op.kind === OperandKind.Mem);
}

/** Stack pointer as a linear address into `a`, adjusted by `delta` (SS base is 0 in 64-bit mode). */
export function stackAddress(mode: CodegenMode, delta: number): string {
  if (mode.stackSize === 8) return `a = r[9] * ${TWO32} + (r[8] >>> 0)${delta ? ` + ${hex(delta)}` : ''}; if (a >= ${CANON} || a < -${CANON}) throw c.fault(12, 0, 'non-canonical stack address');`;
  return `a = ((r[8] + ${delta}) >>> 0) + c.seg[2].base;`;
}

/** RSP := the address in `a` (64-bit stack) or ESP := a − SS.base (32-bit stack). */
export function setStackPointer(mode: CodegenMode, expr = 'a'): string {
  if (mode.stackSize === 8) return `r[8] = ${expr} | 0; r[9] = Math.floor(${expr} / ${TWO32}) | 0;`;
  return `r[8] = (${expr} - c.seg[2].base) | 0;`;
}

/** PUSH of a value of `size` held in `v`. */
export function push(mode: CodegenMode, size: number, v: string): string {
  return `${stackAddress(mode, -size)} ${store(size, v)} ${setStackPointer(mode)}`;
}

/** POP of `size` bytes into `v` (RSP updated after the read, so a faulting read changes nothing). */
export function pop(mode: CodegenMode, size: number, v: string): string {
  return `${stackAddress(mode, 0)} ${load(size, v)} ${stackAddress(mode, size)} ${setStackPointer(mode)}`;
}

/** Halves of a constant canonical address. */
export function addressHalves(x: number): [number, number] {
  const hi = Math.floor(x / TWO32);
  return [(x - hi * TWO32) | 0, hi | 0];
}
