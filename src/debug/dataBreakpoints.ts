// Data breakpoints (DAP dataBreakpointInfo / setDataBreakpoints): writes to guest memory (the
// machine's debugger watch hook stops after the writing instruction) and writes to MSRs (the trace's
// `msrWrite` records, ARCHITECTURE §4: the FRED MSRs, IA32_STAR and IA32_KERNEL_GS_BASE).
// A dataId is self-describing, so it stays valid across stops and restarts:
//   `mem:0x<address>:<bytes>` and `msr:<MSR name>`.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { msrByName } from '../arch/index';
import type { Machine } from '../machine/machine';
import type { MsrWriteRecord } from '../machine/trace';
import { hitTestPasses, parseHitCondition, type HitTest } from './breakpoints';
import { ExpressionError } from './expressions';

/** What a variable or an expression can be watched as. */
export type DataTarget = { kind: 'memory'; address: bigint; bytes: number } | { kind: 'msr'; name: string };

/** MSR writes the trace records (ARCHITECTURE §4 `msrWrite`): the FRED MSRs, STAR, KERNEL_GS_BASE. */
export function msrWriteIsTraced(name: string): boolean {
  const def = msrByName(name);
  return def !== undefined && (def.name.startsWith('IA32_FRED_') || def.name === 'IA32_STAR' || def.name === 'IA32_KERNEL_GS_BASE');
}

/** An MSR as a data target, or why it cannot be one. */
export function msrTarget(name: string): DataTarget | string {
  const def = msrByName(name);
  if (!def) return `${name} is not an MSR`;
  return msrWriteIsTraced(def.name) ? { kind: 'msr', name: def.name } : `writes to ${def.name} are not on the trace (only the FRED MSRs, IA32_STAR and IA32_KERNEL_GS_BASE are)`;
}

const MAX_BYTES = 4096;
const hex = (v: bigint) => `0x${v.toString(16)}`;

export function dataId(t: DataTarget): string {
  return t.kind === 'memory' ? `mem:${hex(t.address)}:${t.bytes}` : `msr:${t.name}`;
}

export function describeTarget(t: DataTarget): string {
  return t.kind === 'memory' ? `${t.bytes} byte${t.bytes === 1 ? '' : 's'} at ${hex(t.address)}` : `writes to ${t.name}`;
}

/** Parse a dataId back; undefined when it is not one of ours. */
export function parseDataId(id: string): DataTarget | undefined {
  const mem = /^mem:(0x[0-9a-f]+):(\d+)$/i.exec(id);
  if (mem) {
    const bytes = Number(mem[2]);
    return bytes >= 1 && bytes <= MAX_BYTES ? { kind: 'memory', address: BigInt(mem[1]), bytes } : undefined;
  }
  const msr = /^msr:(\w+)$/.exec(id);
  if (msr && msrWriteIsTraced(msr[1])) return { kind: 'msr', name: msrByName(msr[1])!.name };
  return undefined;
}

const SIZES: Record<string, number> = { byte: 1, word: 2, dword: 4, qword: 8 };

/**
 * A watch or console expression as memory: `[rsp+8]` (8 bytes), `dword [counter]`, or a label
 * (`counter`, 8 bytes); `bytes` (the client's range) overrides the size. `asAddress`: the name is an
 * address. Throws ExpressionError when the expression is not memory.
 */
export function memoryTarget(
  name: string, evaluate: (text: string) => bigint, symbols: ReadonlyMap<string, bigint>, bytes?: number, asAddress?: boolean,
): DataTarget {
  const text = name.trim();
  let address: bigint;
  let size = 8;
  const operand = /^(?:(byte|word|dword|qword)\s*(?:ptr\s*)?)?\[(.+)\]$/i.exec(text);
  if (asAddress) address = evaluate(text);
  else if (operand) {
    address = evaluate(operand[2]);
    if (operand[1]) size = SIZES[operand[1].toLowerCase()];
  } else if (symbols.has(text)) address = symbols.get(text)!;
  else throw new ExpressionError(`'${text}' is not memory: watch [address], dword [address] or a label`);
  if (bytes !== undefined) {
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > MAX_BYTES) throw new ExpressionError(`a data breakpoint covers 1 to ${MAX_BYTES} bytes (got ${bytes})`);
    size = bytes;
  }
  return { kind: 'memory', address: BigInt.asUintN(64, address), bytes: size };
}

interface DataBreakpoint {
  id: number;
  target: DataTarget;
  condition?: string;
  hitTest?: HitTest;
  hits: number;
}

export class DataBreakpoints {
  private list: DataBreakpoint[] = [];
  private nextId = 1_000_000; // apart from the other breakpoints' ids

  constructor(private readonly machine: Machine) {}

  /** Replace every data breakpoint (setDataBreakpoints); arms the machine's memory watches. */
  set(requested: readonly DebugProtocol.DataBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.list = [];
    const out = requested.map((b): DebugProtocol.Breakpoint => {
      const target = parseDataId(b.dataId);
      if (!target) return { verified: false, message: `'${b.dataId}' is not a data breakpoint of this debugger` };
      if (b.accessType && b.accessType !== 'write') return { verified: false, message: `only writes can be watched (got '${b.accessType}')` };
      const hitTest = b.hitCondition?.trim() ? parseHitCondition(b.hitCondition) : undefined;
      if (b.hitCondition?.trim() && !hitTest) return { verified: false, message: `hit condition '${b.hitCondition}' is not N, >= N, > N, == N or % N` };
      const bp: DataBreakpoint = { id: this.nextId++, target, condition: b.condition?.trim() || undefined, hitTest, hits: 0 };
      this.list.push(bp);
      return { id: bp.id, verified: true, message: describeTarget(target) };
    });
    this.arm();
    return out;
  }

  private arm(): void {
    this.machine.setDataWatches(this.list.flatMap((bp) => (bp.target.kind === 'memory' ? [{ address: bp.target.address, length: bp.target.bytes }] : [])));
  }

  private matching(test: (t: DataTarget) => boolean): DataBreakpoint[] {
    return this.list.filter((bp) => test(bp.target));
  }

  /** The breakpoints a guest write of `size` bytes at `address` hit. */
  memoryHits(address: bigint, size: number): DataBreakpoint[] {
    return this.matching((t) => t.kind === 'memory' && address < t.address + BigInt(t.bytes) && t.address < address + BigInt(size));
  }

  /** The breakpoints an MSR write record hits (a refused write changes nothing). */
  msrHits(r: MsrWriteRecord): DataBreakpoint[] {
    if (r.fault) return [];
    return this.matching((t) => t.kind === 'msr' && t.name === r.name);
  }

  /** Conditions and hit counts of the breakpoints hit; the ids of those that stop (empty: go on). */
  decide(hit: readonly DataBreakpoint[], evaluate: (text: string) => bigint, log: (text: string) => void): number[] {
    const ids: number[] = [];
    for (const bp of hit) {
      if (bp.condition) {
        try {
          if (evaluate(bp.condition) === 0n) continue;
        } catch (error) {
          log(`data breakpoint condition '${bp.condition}': ${(error as Error).message}`);
          ids.push(bp.id);
          continue;
        }
      }
      bp.hits++;
      if (hitTestPasses(bp.hitTest, bp.hits)) ids.push(bp.id);
    }
    return ids;
  }

  get size(): number {
    return this.list.length;
  }
}
