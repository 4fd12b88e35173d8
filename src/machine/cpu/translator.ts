// The translation cache: decoded and compiled blocks by start address, indexed by the physical pages
// their bytes come from so a write to a code page (self-modifying code, a debugger patch) drops
// exactly the blocks it affects. Blocks stop before breakpoint addresses so breakpoints stay exact.
// A block may go on through up to MAX_FOLLOWED direct branches in its page (`continuation`) and ends
// with a system instruction, so a loop whose body raises an event is one block plus its handler.
import { CpuFault, MachineStop } from '../events/fault';
import { ACCESS_EXEC } from '../memory/paging';
import { PAGE_SIZE, type PhysicalMemory } from '../memory/physical';
import { buildBlock, compileBlock, MAX_BLOCK, type Block } from './codegen/block';
import { translate, type Snippet } from './codegen/translate';
import type { CodegenMode } from './codegen/emitter';
import { systemHelper, type Cpu } from './cpu';
import { decodeInstruction, type DecodedInsn } from './decode';
import { ATTR_DB, SS } from './state';

const RECENT_SLOTS = 256;

export class Translator {
  private readonly blocks = new Map<number, Block>();
  /** The last block of `blocks` looked up per slot (holds only blocks that are in `blocks`). */
  private readonly recent: (Block | undefined)[] = new Array<Block | undefined>(RECENT_SLOTS).fill(undefined);
  private readonly singles = new Map<number, Block>();
  private readonly byPage = new Map<number, Set<Block>>();
  /** Linear addresses where execution must stop before the instruction (debugger breakpoints). */
  readonly breakpoints = new Set<number>();
  /** Linear addresses that always start a block (the run loop looks at RIP there: VMX policy `at` labels). */
  readonly blockStarts = new Set<number>();
  /** Force one-instruction blocks everywhere (the "interpreter" mode used by tests and stepping). */
  interpretOnly = false;
  /** Executions of a block before it is recompiled optimized (0: optimize at once). */
  optimizeAfter = 4;
  /** Bumped whenever a block may be dropped (flush, page invalidation): chain links (Block.succ) of older generations are void. */
  generation = 0;

  constructor(
    private readonly c: Cpu,
    private readonly mem: PhysicalMemory,
  ) {
    const previous = mem.onCodeWrite;
    mem.onCodeWrite = (page) => {
      previous(page);
      this.invalidatePage(page);
    };
  }

  get(rip: number, single: boolean): Block {
    const one = single || this.interpretOnly;
    const key = this.c.modeKey;
    // Direct-mapped front of `blocks`: event-heavy code enters a new block every few instructions.
    const slot = (rip ^ (rip >>> 12)) & (RECENT_SLOTS - 1);
    let block = one ? this.singles.get(rip) : this.recent[slot];
    if (!one && (block === undefined || block.rip !== rip)) block = this.blocks.get(rip);
    if (block === undefined || block.modeKey !== key) {
      block = this.build(rip, one, key);
      (one ? this.singles : this.blocks).set(rip, block);
      if (!one) this.recent[slot] = block;
    } else if (block.tier === 0 && ++block.hits > this.optimizeAfter && !block.unimplemented && block.source) {
      // Hot: recompile with registers in locals and inlined translation.
      const { source, consts } = buildBlock(block.insns, this.mode(), single || this.interpretOnly, true);
      block.run = compileBlock(source, consts, systemHelper(block.insns[block.insns.length - 1].mnemonic));
      block.source = source;
      block.tier = 1;
    }
    if (!one) this.recent[slot] = block;
    return block;
  }

  /** Drop every translation (CR3/CR0/CR4/EFER change, INVLPG, breakpoint change, restore). */
  flush(): void {
    this.generation++;
    this.recent.fill(undefined);
    this.blocks.clear();
    this.singles.clear();
    this.byPage.clear();
  }

  invalidatePage(page: number): void {
    const set = this.byPage.get(page);
    if (!set) return;
    this.generation++;
    for (const block of set) {
      if (this.blocks.get(block.rip) === block) this.blocks.delete(block.rip);
      const slot = (block.rip ^ (block.rip >>> 12)) & (RECENT_SLOTS - 1);
      if (this.recent[slot] === block) this.recent[slot] = undefined;
      if (this.singles.get(block.rip) === block) this.singles.delete(block.rip);
    }
    this.byPage.delete(page);
  }

  private mode(): CodegenMode {
    const c = this.c;
    return { bitness: c.bitness, stackSize: c.long64 ? 8 : c.seg[SS].attr & ATTR_DB ? 4 : 4 };
  }

  /** Fetch and decode at `pc`; a fetch fault past the page end only matters if the instruction needs those bytes. */
  private decodeAt(pc: number): { d: DecodedInsn; pages: number[] } {
    const c = this.c;
    let bytes: Uint8Array;
    let fault: CpuFault | undefined;
    try {
      bytes = c.m.fetch(pc, 15);
    } catch (e) {
      if (!(e instanceof CpuFault)) throw e;
      const available = PAGE_SIZE - (((pc % PAGE_SIZE) + PAGE_SIZE) % PAGE_SIZE);
      if (available >= 15) throw e;
      bytes = c.m.fetch(pc, available);
      fault = e;
    }
    const d = decodeInstruction(bytes, pc, c.bitness);
    if (fault && (d.invalid || d.length > bytes.length)) throw fault;
    const first = Math.floor(c.m.translate(pc, ACCESS_EXEC) / PAGE_SIZE);
    const last = Math.floor(c.m.translate(pc + d.length - 1, ACCESS_EXEC) / PAGE_SIZE);
    return { d, pages: first === last ? [first] : [first, last] };
  }

  private build(rip: number, single: boolean, modeKey: number): Block {
    // Debugger hook (src/debug): a block that starts at a breakpoint is one instruction, so a loop
    // whose head has a breakpoint cannot iterate inside the block and skip the breakpoint.
    if (this.breakpoints.has(rip)) single = true;
    const mode = this.mode();
    const insns: DecodedInsn[] = [];
    const pages = new Set<number>();
    const startPage = Math.floor(rip / PAGE_SIZE);
    let pc = rip;
    let unimplemented: DecodedInsn | undefined;
    let followed = 0;
    for (;;) {
      if (insns.length && (this.breakpoints.has(pc) || this.blockStarts.has(pc))) break;
      let decoded;
      try {
        decoded = this.decodeAt(pc);
      } catch (e) {
        if (insns.length) break; // the fault belongs to a later block
        throw e;
      }
      const { d } = decoded;
      const snippet = d.invalid ? undefined : translate(d, mode, true, undefined);
      const kind = snippet === undefined ? 'invalid' : snippet.kind;
      if (kind === 'unimplemented' || kind === 'invalid') {
        if (insns.length) break;
        decoded.pages.forEach((p) => pages.add(p));
        insns.push(d);
        if (kind === 'unimplemented') unimplemented = d;
        break;
      }
      decoded.pages.forEach((p) => pages.add(p));
      insns.push(d);
      // A system instruction ends its block (it may change the mode, RIP or what the run loop checks).
      if (kind === 'system' || single || insns.length >= MAX_BLOCK) break;
      if (kind === 'branch') {
        const next = followed < MAX_FOLLOWED ? continuation(d, snippet!, rip, startPage, insns) : undefined;
        if (next === undefined) break;
        followed++;
        pc = next;
        continue;
      }
      if (Math.floor(d.next / PAGE_SIZE) !== startPage) break;
      pc = d.next;
    }
    const block = this.compile(rip, modeKey, insns, [...pages], mode, single, unimplemented);
    for (const page of pages) {
      this.mem.markCode(page);
      let set = this.byPage.get(page);
      if (!set) this.byPage.set(page, (set = new Set()));
      set.add(block);
    }
    return block;
  }

  private compile(rip: number, modeKey: number, insns: DecodedInsn[], pages: number[], mode: CodegenMode, single: boolean, unimplemented?: DecodedInsn): Block {
    const d = insns[0];
    if (unimplemented) {
      const message = `unimplemented instruction '${d.text}' at 0x${BigInt.asUintN(64, BigInt(d.rip)).toString(16)}`;
      return newBlock(rip, modeKey, insns, pages, '', () => { throw new MachineStop('unimplemented', message); }, 1, unimplemented, false);
    }
    if (d.invalid) {
      const fault = () => new CpuFault(6, undefined, undefined, `invalid opcode ${d.text}`);
      return newBlock(rip, modeKey, insns, pages, '', () => { throw fault(); }, 1, undefined, false);
    }
    const optimize = this.optimizeAfter === 0;
    const { source, consts } = buildBlock(insns, mode, single, optimize);
    const lastInsn = insns[insns.length - 1];
    const endsInSystem = translate(lastInsn, mode, true, undefined).kind === 'system';
    return newBlock(rip, modeKey, insns, pages, source, compileBlock(source, consts, systemHelper(lastInsn.mnemonic)), optimize ? 1 : 0, undefined, endsInSystem);
  }
}

/** Direct branches a block may translate through (block.ts: a mid-block branch exits on its other direction). */
const MAX_FOLLOWED = 2;

/**
 * Where a block goes on after the direct branch `d` (a superblock), or undefined when the branch ends
 * it. Unconditional (JMP): the target. Conditional: the direction usually taken (backward taken, forward not
 * taken), so a loop back edge and the skip over an error path stay inside the block; the other direction
 * leaves it. Not to the block's start (the block loops there instead), not to an instruction already in
 * the block, not to another page.
 */
function continuation(d: DecodedInsn, snippet: Snippet, start: number, startPage: number, insns: DecodedInsn[]): number | undefined {
  const branch = snippet.branch;
  // CALL writes the return address: a write that may hit code ends the block, as the run loop must look.
  if (branch === undefined || branch.target === undefined || branch.cond === 'false' || snippet.writes) return undefined;
  const next = branch.cond === 'true' || branch.target <= d.rip ? branch.target : d.next;
  if (next === start || Math.floor(next / PAGE_SIZE) !== startPage || insns.some((i) => i.rip === next)) return undefined;
  return next;
}

/** Every block is made here, so all have one hidden class (the run loop reads their fields on every block). */
function newBlock(rip: number, modeKey: number, insns: DecodedInsn[], pages: number[], source: string, run: (c: unknown) => void, tier: number, unimplemented: DecodedInsn | undefined, endsInSystem: boolean): Block {
  return { rip, modeKey, insns, pages, run, tier, hits: 0, unimplemented, endsInSystem, source, succ: undefined, succGen: -1 };
}
