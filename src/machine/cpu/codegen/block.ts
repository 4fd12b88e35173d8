// Basic-block translation (ARCHITECTURE §2): decode the instructions from an address to the next
// control transfer, page end or system instruction, generate one JavaScript function for them and let
// V8 compile it. Registers live in the Int32Array, lazy flags in F; a backward liveness pass drops
// lazy-flag records nobody can read; a block ending in a branch to its own start loops inside the
// function while the instruction budget lasts.
import type { DecodedInsn } from '../decode';
import { condition, type Producer } from './conditions';
import { translate, type Snippet } from './translate';
import { CODE_WRITTEN, setInlineMemory, type CodegenMode } from './emitter';
import { LazyOp } from '../flags';

export const MAX_BLOCK = 64;

export interface Block {
  rip: number;
  modeKey: number;
  insns: DecodedInsn[];
  /** Physical pages the block's bytes come from. */
  pages: number[];
  run: (c: unknown) => void;
  /** 0: first tier (quick to compile), 1: optimized. */
  tier: number;
  /** Executions at tier 0 (the translator optimizes hot blocks). */
  hits: number;
  /** The first instruction is not implemented: the run stops there. */
  unimplemented: DecodedInsn | undefined;
  /** The block ends with a system instruction: the only kind that can change the mode (CPL, CS, EFER.LMA) inside a block. */
  endsInSystem: boolean;
  source: string;
  /** The block that ran after this one last time (the run loop's chain link), valid while `succGen` is the translator's generation. */
  succ: Block | undefined;
  succGen: number;
}

const STATUS_ALL = 0x3f;
/** iced RflagsBits: OF=1 SF=2 ZF=4 AF=8 CF=0x10 PF=0x20 (lower six bits). */
const ICED_CF = 0x10;

function canFault(d: DecodedInsn, s: Snippet): boolean {
  return s.kind !== 'simple' || s.writes || s.code.includes('m.') || s.code.includes('throw') || s.code.includes('c.helper');
}

/**
 * Generate the block function source for `insns` (already cut at the right place). `snippetsFor`
 * translates each with flag liveness applied.
 */
/**
 * Generate the source of a block. `optimize` = the second tier: registers and flags in locals and
 * inlined translation. The first tier (arrays and MMU calls) compiles several times faster, which is
 * what code that runs once needs; the translator recompiles a block optimized once it is hot.
 */
export function buildBlock(insns: DecodedInsn[], mode: CodegenMode, single: boolean, optimize = true): { source: string; consts: DecodedInsn[] } {
  setInlineMemory(optimize);
  try {
    return generate(insns, mode, single, optimize);
  } finally {
    setInlineMemory(true);
  }
}

function generate(insns: DecodedInsn[], mode: CodegenMode, single: boolean, optimize: boolean): { source: string; consts: DecodedInsn[] } {
  // Pass 1 (forward, provisional): translate with flags recorded to learn fault points and which
  // producer each instruction sees (INC/DEC read CF from the record only when it is not known here).
  const seen: (Producer | undefined)[] = [];
  let p: Producer | undefined;
  const provisional = insns.map((d) => {
    seen.push(p);
    const s = translate(d, mode, true, p);
    if (s.producer) p = s.producer;
    else if (s.producer === null && (d.flagsWritten & STATUS_ALL) !== 0) p = undefined;
    return s;
  });
  // Pass 2 (backward): which lazy records are live.
  const record = new Array<boolean>(insns.length).fill(true);
  let live = STATUS_ALL;
  for (let k = insns.length - 1; k >= 0; k--) {
    const d = insns[k];
    let written = d.flagsWritten & STATUS_ALL;
    let read = d.flagsRead & STATUS_ALL;
    const op = provisional[k].producer?.op;
    // INC/DEC keep CF in their record's carry-in slot: the record supplies CF to later readers.
    if (op === LazyOp.Inc || op === LazyOp.Dec) {
      written |= ICED_CF;
      if (seen[k]?.op !== LazyOp.Logic) read |= ICED_CF;
    }
    record[k] = (live & written) !== 0;
    live = (live & ~written) | read;
    if (canFault(d, provisional[k])) live = STATUS_ALL;
  }
  // Pass 3 (forward): final snippets, tracking the lazy-record producer for inline conditions.
  let producer: Producer | undefined;
  let endsInSystem = false;
  const parts: string[] = [];
  const start = insns[0].rip;
  const total = insns.length;
  for (let k = 0; k < total; k++) {
    const d = insns[k];
    const s = translate(d, mode, record[k], producer);
    if (s.producer) producer = s.producer;
    else if (s.producer === null && (d.flagsWritten & STATUS_ALL) !== 0) producer = undefined;
    const code = s.code.replaceAll('D[K]', `D[${k}]`);
    parts.push(`i = ${k};`);
    if (s.kind === 'system') {
      // Optimized tier: the system helper is a constant of the block function (`S`, compileBlock), so
      // the call is direct and monomorphic instead of a table lookup behind Cpu.system.
      const direct = optimize ? code.replace(`c.system(${d.mnemonic}, `, 'S(c, ') : code;
      // After other instructions (a block ends with its system instruction): the helper sees the state
      // of a one-instruction block — icount with the k instructions before it retired (trace records,
      // RDTSC, VM exits read it) and the budget left (REP strings) — and the exits add one more (n = -k).
      const retired = k === 0 ? '' : `c.icount += ${k}; n = ${-k}; c.budget -= ${k}; `;
      parts.push(`${retired}c.rip = ${d.rip}; ${direct}`, 'break;');
      endsInSystem = true;
      break;
    }
    if (s.kind === 'branch' && k < total - 1) {
      // A branch the translator went on through (translator.ts `continuation`): the block continues
      // at the next instruction it decoded, and the other direction leaves the block.
      const b = s.branch!;
      const on = insns[k + 1].rip;
      if (b.target === undefined || (on !== b.target && on !== d.next)) throw new Error(`block at 0x${start.toString(16)}: instruction ${k + 1} follows no direction of the branch at 0x${d.rip.toString(16)}`);
      // Always or never taken (JMP; JO/JB after a logic op: 'false') the way the block goes, or both ways the same.
      if ((b.cond === 'true' && on === b.target) || (b.cond === 'false' && on === d.next) || b.target === d.next) {
        if (b.setup) parts.push(b.setup);
        continue;
      }
      parts.push(`${b.setup} u = (${b.cond}) ? 1 : 0;`);
      parts.push(`if (u === ${on === b.target ? 0 : 1}) { c.icount += n + ${k + 1}; c.rip = ${on === b.target ? d.next : b.target}; return; }`);
      continue;
    }
    if (s.kind === 'branch') {
      const b = s.branch!;
      const loops = !single && b.target === start;
      if (b.cond === 'false') {
        // Indirect (the setup sets c.rip), or a direct branch never taken (JO/JB after a logic op).
        parts.push(b.target === undefined ? b.setup : `${b.setup} c.rip = ${d.next};`, 'break;');
        break;
      }
      // The condition is evaluated in straight-line code (it may call into the CPU); the exit is separate.
      parts.push(`${b.setup} u = (${b.cond}) ? 1 : 0;`);
      const taken = loops ? `if (n <= lim) { n += ${total}; continue; } c.rip = ${start}; break;` : `c.rip = ${b.target}; break;`;
      parts.push(`if (u === 1) { ${taken} } c.rip = ${d.next}; break;`);
      break;
    }
    parts.push(code);
    // After a store that went through the MMU (or a helper that may write): did it hit code?
    if (k < total - 1 && code.includes(CODE_WRITTEN)) parts.push(`if (w === 1) { w = 0; if (m.codeWritten) { c.icount += n + ${k + 1}; c.rip = ${d.next}; return; } }`);
    else if (k < total - 1 && s.writes && code.includes('c.helper')) parts.push(`if (m.codeWritten) { c.icount += n + ${k + 1}; c.rip = ${d.next}; return; }`);
    if (k === total - 1) parts.push(`c.rip = ${d.next}; break;`);
  }
  const rips = insns.map((d) => d.rip).join(', ');
  const last = insns.length;
  // A first-tier loop returns after a few hundred instructions so the translator sees it is hot.
  const body = optimize ? localize(parts) : { parts, declare: '', store: '' };
  // A fault in the system instruction (always the last): the registers were stored before its helper
  // ran, which may have changed some before faulting (a REP string's completed iterations), so the
  // fault handler must not store the then stale locals.
  const faultStore = endsInSystem && body.store ? `if (i !== ${last - 1}) { ${body.store} }` : body.store;
  const source = `
const RIPS = [${rips}];
return function block(c) {
  const r = c.r, F = c.F, m = c.m;
  const T = m.tag, P = m.perm, FR = m.frame, DV = m.view, B = m.bytes, RN = m.rNeed, WN = m.wNeed;
  let p = 0, q = 0, o = 0, w = 0, rb = NaN, rf = 0, wb = NaN, wf = 0;
  let a = 0, t = 0, u = 0, x = 0, xl = 0, xh = 0, y = 0, yl = 0, yh = 0, z = 0, zl = 0, zh = 0;
  let i = 0, n = 0;
  ${body.declare}
  const lim = ${optimize ? 'c.budget' : 'Math.min(c.budget, 256)'} - ${2 * last};
  try {
    for (;;) {
      ${body.parts.join('\n      ')}
    }
  } catch (e) {
    ${faultStore}
    c.icount += n + i;
    c.rip = RIPS[i];
    throw e;
  }
  ${body.store}
  c.icount += n + ${last};
};`;
  return { source, consts: insns };
}

/** Calls through which the CPU object reads or writes registers and flags. */
const STATE_CALL = /c\.(helper|system|far|condition)\(|\bS\(c,/;

/**
 * Keep the GPR halves and the lazy-flag record in JS locals inside the block (V8 keeps them in
 * machine registers): `r[N]` → `rN`, `F[N]` → `fN`, loaded on entry and stored on every exit, in the
 * fault handler and around calls that look at the CPU state.
 */
function localize(parts: string[]): { parts: string[]; declare: string; store: string } {
  const regs = new Set<number>();
  const flags = new Set<number>();
  for (const p of parts) {
    for (const m of p.matchAll(/\br\[(\d+)\]/g)) regs.add(Number(m[1]));
    for (const m of p.matchAll(/\bF\[(\d+)\]/g)) flags.add(Number(m[1]));
  }
  const r = [...regs].sort((a, b) => a - b), f = [...flags].sort((a, b) => a - b);
  const store = [...r.map((k) => `r[${k}] = r${k};`), ...f.map((k) => `F[${k}] = f${k};`)].join(' ');
  const load = [...r.map((k) => `r${k} = r[${k}];`), ...f.map((k) => `f${k} = F[${k}];`)].join(' ');
  const declare = [...r.map((k) => `let r${k} = r[${k}];`), ...f.map((k) => `let f${k} = F[${k}];`)].join(' ');
  const out = parts.map((p) => {
    // A part that calls into the CPU works on the arrays: store the locals before, reload after.
    // Parts are straight-line code; exits (break/continue/return) are parts of their own.
    const q = p.replace(/\br\[(\d+)\]/g, 'r$1').replace(/\bF\[(\d+)\]/g, 'f$1');
    // (c.lazyCarry takes the record as values: it needs no store.)
    if (STATE_CALL.test(p)) return `${store} ${p} ${load}`;
    return q.replace(/return;/g, `${store} return;`);
  });
  return { parts: out, declare, store };
}

type BlockFactory = (consts: DecodedInsn[], system: ((c: never, d: DecodedInsn, a: number) => void) | undefined) => (c: unknown) => void;

/** Compiled block factories by source, shared by every machine of the process (see compileBlock). */
const factories = new Map<string, BlockFactory>();
/** Sources kept (a Map iterates in insertion order: the oldest is dropped first). */
export const FACTORY_CACHE_SIZE = 2048;

/**
 * Compile generated source into the block function. The factory (`new Function`) is kept by source:
 * the block closures it makes share one feedback cell, so V8's type feedback and optimized code for
 * a block carry over to every machine that translates the same code (a debugger restart, a
 * re-run, the next benchmark run) instead of being learned and compiled again.
 */
export function compileBlock(source: string, consts: DecodedInsn[], system?: (c: never, d: DecodedInsn, a: number) => void): (c: unknown) => void {
  let factory = factories.get(source);
  if (factory === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    factory = new Function('D', 'S', source) as BlockFactory;
    if (factories.size >= FACTORY_CACHE_SIZE) factories.delete(factories.keys().next().value!);
    factories.set(source, factory);
  }
  return factory(consts, system);
}

export { condition };
