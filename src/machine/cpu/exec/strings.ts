// String instructions MOVS, STOS, LODS, SCAS, CMPS with REP/REPE/REPNE and RFLAGS.DF (SDM Vol. 2B
// "REP/REPE/REPZ/REPNE/REPNZ"). A REP instruction runs to completion as one retired instruction; a
// fault part-way leaves RCX/RSI/RDI describing the remaining work, so delivery and return resume it.
import type { Cpu } from '../cpu';
import { Mnemonic, type DecodedInsn } from '../decode';
import { DF, ZF } from '../flags';
import { maskOf, setStatus, writeGprSized } from './operands';
import { subFlags, type Helper } from './integer';

const RAX = 0, RCX = 1, RSI = 6, RDI = 7;

function reg(c: Cpu, i: number, addrSize: number): bigint {
  return c.gpr(i) & maskOf(addrSize);
}

function linear(c: Cpu, seg: number, offset: bigint): number {
  const base = !c.long64 || seg === 4 || seg === 5 ? c.seg[seg].base : 0;
  return Number(BigInt.asIntN(64, offset)) + base;
}

function advance(c: Cpu, i: number, addrSize: number, delta: number): void {
  writeGprSized(c, i, addrSize, false, (c.gpr(i) + BigInt(delta)) & maskOf(addrSize));
}

function strings(c: Cpu, d: DecodedInsn): void {
  const size = d.ops.find((op) => op.size)?.size ?? 1;
  const as = d.addrSize;
  const step = c.rflags & DF ? -size : size;
  const M = Mnemonic;
  const kind = d.mnemonic;
  const compares = kind === M.Scasb || kind === M.Scasw || kind === M.Scasd || kind === M.Scasq || kind === M.Cmpsb || kind === M.Cmpsw || kind === M.Cmpsd || kind === M.Cmpsq;
  const srcSeg = d.seg; // DS unless overridden
  for (;;) {
    if (d.rep && reg(c, RCX, as) === 0n) return;
    switch (kind) {
      case M.Movsb: case M.Movsw: case M.Movsd: case M.Movsq: {
        const v = c.m.readBig(linear(c, srcSeg, reg(c, RSI, as)), size);
        c.m.writeBig(linear(c, 0, reg(c, RDI, as)), size, v);
        advance(c, RSI, as, step);
        advance(c, RDI, as, step);
        break;
      }
      case M.Stosb: case M.Stosw: case M.Stosd: case M.Stosq:
        c.m.writeBig(linear(c, 0, reg(c, RDI, as)), size, c.gpr(RAX) & maskOf(size));
        advance(c, RDI, as, step);
        break;
      case M.Lodsb: case M.Lodsw: case M.Lodsd: case M.Lodsq:
        writeGprSized(c, RAX, size, false, c.m.readBig(linear(c, srcSeg, reg(c, RSI, as)), size));
        advance(c, RSI, as, step);
        break;
      case M.Scasb: case M.Scasw: case M.Scasd: case M.Scasq: {
        const v = c.m.readBig(linear(c, 0, reg(c, RDI, as)), size);
        setStatus(c, subFlags(c.gpr(RAX) & maskOf(size), v, size));
        advance(c, RDI, as, step);
        break;
      }
      default: {
        const x = c.m.readBig(linear(c, srcSeg, reg(c, RSI, as)), size);
        const y = c.m.readBig(linear(c, 0, reg(c, RDI, as)), size);
        setStatus(c, subFlags(x, y, size));
        advance(c, RSI, as, step);
        advance(c, RDI, as, step);
      }
    }
    if (!d.rep) return;
    advance(c, RCX, as, -1);
    if (compares) {
      const zf = (c.rflags & ZF) !== 0;
      if ((d.rep === 1 && !zf) || (d.rep === 2 && zf)) return;
    }
  }
}

const M = Mnemonic;
export const STRING_HELPERS: Partial<Record<Mnemonic, Helper>> = Object.fromEntries(
  [M.Movsb, M.Movsw, M.Movsd, M.Movsq, M.Stosb, M.Stosw, M.Stosd, M.Stosq, M.Lodsb, M.Lodsw, M.Lodsd, M.Lodsq,
    M.Scasb, M.Scasw, M.Scasd, M.Scasq, M.Cmpsb, M.Cmpsw, M.Cmpsd, M.Cmpsq].map((m) => [m, strings]),
);
