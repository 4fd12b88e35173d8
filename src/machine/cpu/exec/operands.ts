// Operand access for the helper-executed instructions: values as unsigned bigints of the operand
// size. The compiled block computes the effective address `a` once and passes it in.
import type { Cpu } from '../cpu';
import { OperandKind, type DecodedInsn } from '../decode';
import { STATUS, ZF, SF, parity } from '../flags';

export function maskOf(size: number): bigint {
  return (1n << BigInt(size * 8)) - 1n;
}

export function signed(value: bigint, size: number): bigint {
  return BigInt.asIntN(size * 8, value);
}

export function readOp(c: Cpu, d: DecodedInsn, k: number, a: number, size = d.ops[k].size): bigint {
  const op = d.ops[k];
  switch (op.kind) {
    case OperandKind.Gpr:
      if (op.high) return BigInt((c.r[2 * op.reg] >> 8) & 0xff);
      return c.gpr(op.reg) & maskOf(size);
    case OperandKind.Mem:
      return c.m.readBig(a, size);
    case OperandKind.Imm:
      return ((BigInt(d.immHi) << 32n) | BigInt(d.immLo >>> 0)) & maskOf(size);
    default:
      throw new Error(`operand ${k} of '${d.text}' has no value`);
  }
}

export function writeOp(c: Cpu, d: DecodedInsn, k: number, a: number, value: bigint, size = d.ops[k].size): void {
  const op = d.ops[k];
  value &= maskOf(size);
  if (op.kind === OperandKind.Mem) return c.m.writeBig(a, size, value);
  if (op.kind !== OperandKind.Gpr) throw new Error(`operand ${k} of '${d.text}' is not writable`);
  writeGprSized(c, op.reg, size, op.high, value);
}

/** Register write with the SDM's width rules (32-bit writes zero-extend, 8/16-bit merge). */
export function writeGprSized(c: Cpu, reg: number, size: number, high: boolean, value: bigint): void {
  const old = c.gpr(reg);
  if (size === 8) c.setGpr(reg, value);
  else if (size === 4) c.setGpr(reg, value & 0xffffffffn);
  else if (high) c.setGpr(reg, (old & ~0xff00n) | ((value & 0xffn) << 8n));
  else c.setGpr(reg, (old & ~maskOf(size)) | (value & maskOf(size)));
}

/** ZF, SF, PF of a result of `size` bytes. */
export function szp(result: bigint, size: number): number {
  result &= maskOf(size);
  let flags = parity(Number(result & 0xffn));
  if (result === 0n) flags |= ZF;
  if ((result >> BigInt(size * 8 - 1)) & 1n) flags |= SF;
  return flags;
}

/** Replace the status flags selected by `which` with `values` (materializing lazy flags first). */
export function setStatus(c: Cpu, values: number, which = STATUS): void {
  c.rflags = (c.rflags & ~which) | (values & which);
}

/** Operand size of a helper instruction: the first operand's, or the default. */
export function opSize(d: DecodedInsn): number {
  return d.ops.length ? d.ops[0].size : 8;
}
