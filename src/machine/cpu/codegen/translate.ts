// One instruction → one JavaScript snippet (the "compact form" the executor runs). Hot families are
// generated inline (alu.ts, moves below, control.ts); the rest call helpers (exec/) with the effective
// address computed inline. A system instruction (exec/system*.ts) ends its block.
import { Mnemonic, OperandKind, type DecodedInsn } from '../decode';
import { LazyOp } from '../flags';
import { INTEGER_HELPERS } from '../exec/integer';
import { STRING_HELPERS, isRepString } from '../exec/strings';
import { SYSTEM_HELPERS } from '../exec/system';
import { alu, incDec, neg, not, type AluKind } from './alu';
import { carryKnown, condition, type Producer } from './conditions';
import { effectiveAddress, hasMemory, pop, push, readGpr, readOperand, TWO32, writeGpr, writeOperand, addressHalves, type CodegenMode } from './emitter';

const M = Mnemonic;
const CANON = 140737488355328;

export interface Snippet {
  code: string;
  /** 'branch' ends the block (code sets c.rip or continues the loop); 'system' runs alone. */
  kind: 'simple' | 'branch' | 'system' | 'unimplemented';
  /** May write memory (the block checks for writes to code pages after it). */
  writes: boolean;
  /** Lazy-flag record this instruction leaves (for inline conditions), undefined if unknown. */
  producer?: Producer | null;
  /** For branches: the taken condition and target, so the block can loop to itself. */
  branch?: { cond: string; target: number | undefined; setup: string };
}

const ALU: Partial<Record<Mnemonic, AluKind>> = {
  [M.Add]: 'add', [M.Adc]: 'adc', [M.Sub]: 'sub', [M.Sbb]: 'sbb', [M.Cmp]: 'cmp',
  [M.And]: 'and', [M.Or]: 'or', [M.Xor]: 'xor', [M.Test]: 'test',
};
const LAZY_OF: Record<AluKind, LazyOp> = {
  add: LazyOp.Add, adc: LazyOp.Adc, sub: LazyOp.Sub, sbb: LazyOp.Sbb, cmp: LazyOp.Sub, and: LazyOp.Logic, or: LazyOp.Logic, xor: LazyOp.Logic, test: LazyOp.Logic,
};

const NOPS = new Set<Mnemonic>([M.Nop, M.Pause, M.Lfence, M.Mfence, M.Sfence, M.Endbr64, M.Endbr32, M.Prefetch, M.Prefetchw, M.Prefetchnta, M.Prefetcht0, M.Prefetcht1, M.Prefetcht2]);
const UNDEFINED = new Set<Mnemonic>([M.Ud0, M.Ud1, M.Ud2]);

const CMOV = [M.Cmovo, M.Cmovno, M.Cmovb, M.Cmovae, M.Cmove, M.Cmovne, M.Cmovbe, M.Cmova, M.Cmovs, M.Cmovns, M.Cmovp, M.Cmovnp, M.Cmovl, M.Cmovge, M.Cmovle, M.Cmovg];
const SETCC = [M.Seto, M.Setno, M.Setb, M.Setae, M.Sete, M.Setne, M.Setbe, M.Seta, M.Sets, M.Setns, M.Setp, M.Setnp, M.Setl, M.Setge, M.Setle, M.Setg];
const JCC = [M.Jo, M.Jno, M.Jb, M.Jae, M.Je, M.Jne, M.Jbe, M.Ja, M.Js, M.Jns, M.Jp, M.Jnp, M.Jl, M.Jge, M.Jle, M.Jg];

function gprOnly(d: DecodedInsn): boolean {
  return d.ops.every((op) => op.kind === OperandKind.Gpr || op.kind === OperandKind.Mem || op.kind === OperandKind.Imm);
}

/** Target of an indirect branch held in `x`/`xl:xh` → c.rip, #GP(0) if not canonical (SDM Vol. 2A JMP). */
function indirectTarget(mode: CodegenMode, size: number): string {
  if (mode.bitness === 32 || size < 8) return `t = ${size === 2 ? 'x & 0xffff' : 'x >>> 0'};`;
  return `t = xh * ${TWO32} + (xl >>> 0); if (t >= ${CANON} || t < -${CANON}) throw c.fault(13, 0, 'non-canonical branch target');`;
}

function pushReturnAddress(d: DecodedInsn, mode: CodegenMode): string {
  const [lo, hi] = addressHalves(d.next);
  return mode.stackSize === 8 ? `yl = ${lo}; yh = ${hi}; ${push(mode, 8, 'y')}` : `y = ${d.next | 0}; ${push(mode, 4, 'y')}`;
}

export function translate(d: DecodedInsn, mode: CodegenMode, flags: boolean, producer: Producer | undefined): Snippet {
  const mn = d.mnemonic;
  const size = d.ops[0]?.size ?? 0;
  const mem = hasMemory(d) ? effectiveAddress(d, mode) + ' ' : '';
  const simple = (code: string, writes = false, produced: Producer | null | undefined = producer): Snippet => ({ code: mem + code, kind: 'simple', writes, producer: produced });
  const stores = d.ops[0]?.kind === OperandKind.Mem;

  if (d.invalid) return { code: '', kind: 'unimplemented', writes: false };
  const aluKind = ALU[mn];
  if (aluKind && gprOnly(d)) {
    return simple(alu(d, aluKind, size, flags), stores && aluKind !== 'cmp' && aluKind !== 'test', { op: LAZY_OF[aluKind], size, stored: flags });
  }
  switch (mn) {
    case M.Inc:
    case M.Dec:
      return simple(incDec(d, mn === M.Inc, size, flags, carryKnown(producer) ? `t = ${condition(2, producer)} ? 1 : 0;` : undefined), stores, { op: mn === M.Inc ? LazyOp.Inc : LazyOp.Dec, size, stored: flags });
    case M.Neg:
      return simple(neg(d, size, flags), stores, { op: LazyOp.Sub, size, stored: flags });
    case M.Not:
      return simple(not(d, size), stores);
    case M.Mov:
      if (!gprOnly(d)) break;
      return simple(`${readOperand(d, 1, size, 'x')} ${writeOperand(d, 0, size, 'x')}`, stores);
    case M.Movzx:
    case M.Movsx:
    case M.Movsxd: {
      const from = d.ops[1].size;
      const extend = mn === M.Movzx ? `x` : from === 1 ? '(x << 24 >> 24)' : from === 2 ? '(x << 16 >> 16)' : 'x';
      const body = size === 8
        ? `xl = ${extend}; xh = ${mn === M.Movzx ? '0' : 'xl >> 31'};`
        : `xl = ${extend}${size === 2 ? ' & 0xffff' : ''};`;
      const write = size === 8 ? writeGpr(d.ops[0].reg, 8, false, 'x') : writeGpr(d.ops[0].reg, size, false, 'xl');
      return simple(`${readOperand(d, 1, from, 'x')} ${body} ${write}`);
    }
    case M.Lea:
      return { code: lea(d, mode), kind: 'simple', writes: false, producer };
    case M.Xchg: {
      if (!gprOnly(d)) break;
      return simple(`${readOperand(d, 0, size, 'x')} ${readOperand(d, 1, size, 'y')} ${writeOperand(d, 0, size, 'y')} ${writeOperand(d, 1, size, 'x')}`, stores);
    }
    case M.Push: {
      const op = d.ops[0];
      if (op.kind === OperandKind.Seg) break;
      const s = op.kind === OperandKind.Imm ? (mode.stackSize === 8 ? 8 : 4) : op.size;
      return simple(`${readOperand(d, 0, s, 'x')} ${push(mode, s, 'x')}`, true);
    }
    case M.Pop: {
      const op = d.ops[0];
      if (op.kind === OperandKind.Seg) break;
      // The memory destination's address uses RSP after the increment (SDM Vol. 2B POP).
      const popCode = pop(mode, op.size, 'x');
      if (op.kind === OperandKind.Mem) return { code: `${popCode} ${effectiveAddress(d, mode)} ${writeOperand(d, 0, op.size, 'x')}`, kind: 'simple', writes: true, producer };
      return simple(`${popCode} ${writeOperand(d, 0, op.size, 'x')}`);
    }
    case M.Leave: {
      const s = mode.stackSize;
      const copy = s === 8 ? 'r[8] = r[10]; r[9] = r[11];' : 'r[8] = r[10];';
      return simple(`${copy} ${pop(mode, size || s, 'x')} ${writeGpr(5, size || s, false, 'x')}`);
    }
  }
  const ccIndex = CMOV.indexOf(mn);
  if (ccIndex >= 0) {
    const write = size === 4 ? `if (${condition(ccIndex, producer)}) { ${writeGpr(d.ops[0].reg, 4, false, 'x')} } else { r[${2 * d.ops[0].reg + 1}] = 0; }`
      : `if (${condition(ccIndex, producer)}) { ${writeGpr(d.ops[0].reg, size, false, 'x')} }`;
    return simple(`${readOperand(d, 1, size, 'x')} ${write}`);
  }
  const setIndex = SETCC.indexOf(mn);
  if (setIndex >= 0) return simple(`x = ${condition(setIndex, producer)} ? 1 : 0; ${writeOperand(d, 0, 1, 'x')}`, stores);
  if (NOPS.has(mn)) return simple('');
  if (UNDEFINED.has(mn)) return simple(`throw c.fault(6, undefined, '${d.text} (undefined opcode)');`);

  // JMP/CALL m16:16/32/64 (far pointer operands of 4, 6 or 10 bytes) reload CS: a system instruction.
  if ((mn === M.Jmp || mn === M.Call) && d.ops[0]?.kind === OperandKind.Mem && [4, 6, 10].includes(d.ops[0].size)) {
    return { code: `${mem}c.far(D[K], a);`, kind: 'system', writes: true, producer: null };
  }
  const branch = translateBranch(d, mode, producer);
  if (branch) return branch;

  // A REP string instruction runs chunks of iterations and leaves RIP at itself until done (exec/strings.ts).
  if (isRepString(d)) return { code: `c.helper(${mn}, D[K], 0);`, kind: 'system', writes: true, producer: null };
  const helper = INTEGER_HELPERS[mn] ?? (isStringInsn(d) ? STRING_HELPERS[mn] : undefined);
  if (helper) return { code: `${mem}c.helper(${mn}, D[K], a);`, kind: 'simple', writes: true, producer: null };
  if (SYSTEM_HELPERS[mn]) return { code: `${mem}c.system(${mn}, D[K], a);`, kind: 'system', writes: true, producer: null };
  return { code: '', kind: 'unimplemented', writes: false };
}

function isStringInsn(d: DecodedInsn): boolean {
  return d.ops.every((op) => op.kind === OperandKind.Other || op.kind === OperandKind.Gpr);
}

/** LEA computes the address on halves without the canonical check (it is not a memory access). */
function lea(d: DecodedInsn, mode: CodegenMode): string {
  const size = d.ops[0].size;
  const reg = d.ops[0].reg;
  if (d.base === 16) {
    const [lo, hi] = addressHalves(d.disp);
    return size === 8 ? `xl = ${lo}; xh = ${hi}; ${writeGpr(reg, 8, false, 'x')}` : `x = ${size === 2 ? lo & 0xffff : lo}; ${writeGpr(reg, size, false, 'x')}`;
  }
  const lo: string[] = [], hi: string[] = [];
  if (d.base >= 0) { lo.push(`(r[${2 * d.base}] >>> 0)`); hi.push(`r[${2 * d.base + 1}]`); }
  if (d.index >= 0) { lo.push(`(r[${2 * d.index}] >>> 0) * ${d.scale}`); hi.push(`r[${2 * d.index + 1}] * ${d.scale}`); }
  lo.push(String(d.disp));
  if (size === 8 && d.addrSize === 8) {
    hi.push('0');
    return `t = ${lo.join(' + ')}; xl = t | 0; xh = (${hi.join(' + ')} + Math.floor(t / ${TWO32})) | 0; ${writeGpr(reg, 8, false, 'x')}`;
  }
  const value = `(${lo.join(' + ')}) | 0`;
  if (size === 8) return `xl = ${value} ; xh = 0; ${d.addrSize === 2 ? 'xl &= 0xffff;' : ''} ${writeGpr(reg, 8, false, 'x')}`;
  return `x = ${value}${d.addrSize === 2 || size === 2 ? ' & 0xffff' : ''}; ${writeGpr(reg, size, false, 'x')}`;
}

function translateBranch(d: DecodedInsn, mode: CodegenMode, producer: Producer | undefined): Snippet | undefined {
  const mn = d.mnemonic;
  const jcc = JCC.indexOf(mn);
  const mem = hasMemory(d) ? effectiveAddress(d, mode) + ' ' : '';
  const direct = d.ops[0]?.kind === OperandKind.Branch;
  const br = (setup: string, cond: string, target: number | undefined): Snippet => ({ code: '', kind: 'branch', writes: setup.includes('m.wr'), producer: null, branch: { setup, cond, target } });
  if (jcc >= 0) return br('', condition(jcc, producer), d.target);
  const as = d.addrSize;
  const counter = as === 8 ? 'r[2] = (r[2] - 1) | 0; if (r[2] === -1) r[3] = (r[3] - 1) | 0;' : as === 4 ? 'r[2] = (r[2] - 1) | 0; r[3] = 0;' : 'r[2] = (r[2] & -65536) | ((r[2] - 1) & 0xffff);';
  const counterZero = as === 8 ? '(r[2] | r[3]) === 0' : as === 4 ? 'r[2] === 0' : '(r[2] & 0xffff) === 0';
  switch (mn) {
    case M.Jmp:
      if (direct) return br('', 'true', d.target);
      return br(`${mem}${readOperand(d, 0, d.ops[0].size, 'x')} ${indirectTarget(mode, d.ops[0].size)} c.rip = t;`, 'false', undefined);
    case M.Call:
      if (direct) return br(pushReturnAddress(d, mode), 'true', d.target);
      return br(`${mem}${readOperand(d, 0, d.ops[0].size, 'x')} ${indirectTarget(mode, d.ops[0].size)} ${pushReturnAddress(d, mode)} c.rip = t;`, 'false', undefined);
    case M.Ret: {
      const s = mode.stackSize;
      const extra = d.ops[0]?.kind === OperandKind.Imm ? d.immLo & 0xffff : 0;
      const popped = `${pop(mode, s, 'x')}`;
      // Check the target before RSP moves: pop() updates RSP only after the read.
      const setup = s === 8
        ? `a = r[9] * ${TWO32} + (r[8] >>> 0); xl = m.rd32(a); xh = m.rd32(a + 4); ${indirectTarget(mode, 8)} ${popped}${extra ? ` a += ${extra}; r[8] = a | 0; r[9] = Math.floor(a / ${TWO32}) | 0;` : ''} c.rip = t;`
        : `${popped} t = x >>> 0;${extra ? ` r[8] = (r[8] + ${extra}) | 0;` : ''} c.rip = t;`;
      return br(setup, 'false', undefined);
    }
    case M.Loop:
    case M.Loope:
    case M.Loopne: {
      const zf = mn === M.Loope ? ` && ${condition(4, producer)}` : mn === M.Loopne ? ` && !${condition(4, producer)}` : '';
      return br(`${counter} u = (!(${counterZero})${zf}) ? 1 : 0;`, 'u === 1', d.target);
    }
    case M.Jrcxz:
      return br('', '(r[2] | r[3]) === 0', d.target);
    case M.Jecxz:
      return br('', 'r[2] === 0', d.target);
  }
  return undefined;
}

export { readGpr };
