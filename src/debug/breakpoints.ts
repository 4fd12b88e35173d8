// Breakpoints of every DAP kind, resolved to guest addresses (the machine's breakpoints) or to trace
// records (events and exception filters consume `delivery`/`return` records, ARCHITECTURE §1).
// Source lines resolve through the assembler's source map; `fred:user`/`fred:kernel` follow
// IA32_FRED_CONFIG as the guest writes it.
import type { DebugProtocol } from '@vscode/debugprotocol';
import { EXIT_REASONS, FRED_CONFIG_BITS, FRED_RING0_ENTRY_OFFSET, exceptionByMnemonic, exitReasonInfo, msrIndex } from '../arch/index';
import type { Machine } from '../machine/machine';
import type { DeliveryRecord, TraceRecord, VmExitRecord } from '../machine/trace';
import type { SourceMap } from '../asm/index';
import { deliveryLabel } from './eventStack';

export const IA32_FRED_CONFIG = msrIndex('IA32_FRED_CONFIG');

export type HitTest = { op: '==' | '>=' | '>' | '%'; n: number };

interface UserBreakpoint {
  id: number;
  addresses: bigint[];
  condition?: string;
  hitTest?: HitTest;
  logMessage?: string;
  hits: number;
  verified: boolean;
  message?: string;
  /** Source breakpoints: the requested line (reported back). */
  line?: number;
  /** Function breakpoints: what the name resolved to. */
  target?: FunctionTarget;
  name?: string;
}

/** What event conditions look at: the event type (FRED/VMX numbering) and vector. */
type EventKey = Pick<DeliveryRecord, 'type' | 'vector'>;

/** `#PF, vector:0x20, nmi`: any of the events (empty = every event); an error names the bad item. */
function parseEventList(text: string): { ok: true; matches: ((d: EventKey) => boolean) | undefined } | { ok: false; message: string } {
  const tests: ((d: EventKey) => boolean)[] = [];
  for (const item of text.split(',').map((x) => x.trim()).filter(Boolean)) {
    const test = parseEventSpec(item);
    if (!test) return { ok: false, message: `'${item}' is not an event (#PF, vector:0x20, int:0x80, syscall, sysenter, nmi)` };
    tests.push(test);
  }
  return { ok: true, matches: tests.length ? (d) => tests.some((t) => t(d)) : undefined };
}

const RETURN_INSTRUCTIONS = ['erets', 'eretu', 'iretq'];

type FunctionTarget =
  | { kind: 'label' }
  | { kind: 'fredEntry'; ring: 'user' | 'kernel' }
  | { kind: 'event'; matches: (d: DeliveryRecord) => boolean }
  | { kind: 'vmexit'; matches: (basicReason: number) => boolean }
  | { kind: 'vmentry' };

export type StopCategory = 'breakpoint' | 'function breakpoint' | 'instruction breakpoint';

export interface BreakpointHit {
  stop: boolean;
  reason: StopCategory;
  ids: number[];
  /** Log points that fired (already interpolated). */
  logs: string[];
  /** Condition errors: the breakpoint stops and says why. */
  errors: string[];
}

/**
 * A trace record that should stop the machine at `address` (the handler's first instruction or the
 * return target); `address` undefined: where the VM entry goes (Execution resolves it).
 */
export interface EventTrigger {
  address: bigint | undefined;
  reason: 'function breakpoint' | 'exception' | 'data breakpoint';
  description: string;
  ids: number[];
}

/** Filters whose condition is a list of events (as function breakpoints name them). */
const EVENT_CONDITION = { supportsCondition: true, conditionDescription: 'Events, comma-separated: #PF, #GP, vector:0x20, int:0x80, syscall, nmi (empty = every one)' };

export const EXCEPTION_FILTERS: DebugProtocol.ExceptionBreakpointsFilter[] = [
  { filter: 'hardwareException', label: 'Hardware exceptions (#PF, #GP, #UD, …)', description: 'Stop at the handler when an exception (event type 3) is delivered', default: false, ...EVENT_CONDITION },
  { filter: 'softwareEvent', label: 'INT n / INT3 / INT1', description: 'Stop at the handler for software interrupts and exceptions (types 4, 5, 6)', default: false, ...EVENT_CONDITION },
  { filter: 'externalInterrupt', label: 'External interrupts', description: 'Stop at the handler for external interrupts (type 0)', default: false, ...EVENT_CONDITION },
  { filter: 'nmi', label: 'NMI', description: 'Stop at the handler for NMIs (type 2)', default: false },
  { filter: 'syscall', label: 'SYSCALL / SYSENTER', description: 'Stop at the handler for SYSCALL and SYSENTER events (type 7)', default: false, ...EVENT_CONDITION },
  { filter: 'nested', label: 'Nested exceptions', description: 'Stop when an exception is delivered while delivering another event (nested bit set)', default: true, ...EVENT_CONDITION },
  { filter: 'doubleFault', label: '#DF and shutdown', description: 'Stop at a double fault handler, and at a shutdown (triple fault) before the session ends', default: true },
  {
    filter: 'eret', label: 'ERETS / ERETU / IRETQ', description: 'Stop at the instruction an event return goes back to', default: false,
    supportsCondition: true, conditionDescription: 'Return instructions, comma-separated: erets, eretu, iretq (empty = all three)',
  },
  {
    filter: 'vmExit', label: 'VM exits', description: 'Stop at a VM exit, before the monitor handles it (the condition names reasons)', default: false,
    supportsCondition: true, conditionDescription: 'Exit reasons, comma-separated: EPT_VIOLATION, CPUID, 48 (empty = every exit)',
  },
  { filter: 'vmEntryInjection', label: 'VM-entry injection', description: 'Stop at the handler of an event that a VM entry injects', default: false, ...EVENT_CONDITION },
  { filter: 'vmEntryFailure', label: 'VM-entry failure', description: 'Stop when a VM entry fails its checks (the VMCS can be fixed and the entry retried)', default: true },
];

const FILTER_TYPES: Record<string, number[]> = { hardwareException: [3], softwareEvent: [4, 5, 6], externalInterrupt: [0], nmi: [2], syscall: [7] };

export function parseHitCondition(text: string): HitTest | undefined {
  const m = /^\s*(>=|>|==|%)?\s*(\d+)\s*$/.exec(text);
  if (!m || Number(m[2]) === 0) return undefined;
  return { op: (m[1] ?? '==') as HitTest['op'], n: Number(m[2]) };
}

export function hitTestPasses(t: HitTest | undefined, hits: number): boolean {
  if (!t) return true;
  switch (t.op) {
    case '==': return hits === t.n;
    case '>=': return hits >= t.n;
    case '>': return hits > t.n;
    case '%': return hits % t.n === 0;
  }
}

/** An event name of a function breakpoint: `#PF`, `PF`, `vector:0x20`, `syscall`, `sysenter`, `nmi`, `int:0x80`. */
export function parseEventSpec(name: string): ((d: EventKey) => boolean) | undefined {
  const n = name.trim().toLowerCase();
  if (n === 'syscall') return (d) => d.type === 7 && d.vector === 1;
  if (n === 'sysenter') return (d) => d.type === 7 && d.vector === 2;
  if (n === 'nmi') return (d) => d.type === 2;
  const m = /^(vector|int):\s*(0x[0-9a-f]+|\d+)$/.exec(n);
  if (m) {
    const v = Number(m[2]);
    if (v > 255) return undefined;
    return m[1] === 'int' ? (d) => d.type === 4 && d.vector === v : (d) => d.vector === v && d.type !== 7;
  }
  if (n.startsWith('#') || /^[a-z]{2}$/.test(n)) {
    const ex = exceptionByMnemonic(n);
    if (ex && ex.kind !== 'reserved') return (d) => d.vector === ex.vector && (d.type === 3 || d.type === 5 || d.type === 6 || (d.type === 2 && ex.vector === 2));
  }
  return undefined;
}

/**
 * Exit reasons by name or number: `EPT_VIOLATION`, `ept_violation`, `EXIT_REASON_CPUID`, `cpuid`,
 * `48`, `0x30`, `*` (every exit). Returns the reason numbers (undefined = all) or an error in words.
 */
export function parseExitReasons(text: string): { ok: true; reasons: Set<number> | undefined } | { ok: false; message: string } {
  const reasons = new Set<number>();
  for (const item of text.split(',').map((x) => x.trim()).filter(Boolean)) {
    if (item === '*') return { ok: true, reasons: undefined };
    const number = /^(0x[0-9a-f]+|\d+)$/i.test(item) ? Number(item) : undefined;
    const byName = EXIT_REASONS.find((r) => r.short === item.toUpperCase().replace(/^EXIT_REASON_/, ''));
    const info = number !== undefined ? exitReasonInfo(number) : byName;
    if (!info || (number !== undefined && number > 0xffff)) {
      return { ok: false, message: `'${item}' is not a VM-exit reason (a name such as EPT_VIOLATION, CPUID, EXCEPTION_NMI, or a number 0–${EXIT_REASONS[EXIT_REASONS.length - 1].reason})` };
    }
    reasons.add(info.reason);
  }
  return { ok: true, reasons: reasons.size ? reasons : undefined };
}

export class Breakpoints {
  private nextId = 1;
  private readonly source = new Map<string, UserBreakpoint[]>();
  private functions: UserBreakpoint[] = [];
  private instructions: UserBreakpoint[] = [];
  private filters = new Set(EXCEPTION_FILTERS.filter((f) => f.default).map((f) => f.filter));
  /** The vmExit filter's condition: these basic reasons only (undefined = every exit). */
  private exitFilterReasons: Set<number> | undefined;
  /** Event conditions of the delivery filters (filter id → events; absent = every event). */
  private eventConditions = new Map<string, (d: EventKey) => boolean>();
  /** The eret filter's condition: these instructions only. */
  private eretCondition: Set<string> | undefined;
  private installed = new Set<bigint>();
  private fredEntry = 0n;

  constructor(
    private machine: Machine,
    private readonly sourceMap: SourceMap,
    private readonly symbols: ReadonlyMap<string, bigint>,
  ) {}

  /** After restart: the same breakpoints on a new machine. */
  attach(machine: Machine): void {
    this.machine = machine;
    this.installed.clear();
    this.fredEntry = 0n;
    this.refreshFredEntry();
    this.sync();
  }

  setSource(path: string, requested: readonly DebugProtocol.SourceBreakpoint[]): DebugProtocol.Breakpoint[] {
    const list = requested.map((b) => {
      const addresses = this.sourceMap.locationToAddresses(path, b.line);
      const bp = this.make(addresses, b.condition, b.hitCondition, b.logMessage);
      bp.line = b.line;
      if (bp.verified && addresses.length === 0) {
        bp.verified = false;
        bp.message = this.sourceMap.entries.some((e) => e.file === path) ? `line ${b.line} has no code` : `${path} is not part of the program`;
      }
      return bp;
    });
    this.source.set(path, list);
    this.sync();
    return list.map((bp) => this.describe(bp));
  }

  setFunction(requested: readonly DebugProtocol.FunctionBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.functions = requested.map((b) => {
      const name = b.name.trim();
      const label = this.symbols.get(name);
      const bp = this.make(label !== undefined ? [label] : [], b.condition, b.hitCondition);
      bp.name = name;
      if (label !== undefined) bp.target = { kind: 'label' };
      else if (/^fred:(user|kernel)$/i.test(name)) bp.target = { kind: 'fredEntry', ring: name.toLowerCase().endsWith('user') ? 'user' : 'kernel' };
      else if (/^vmentry$/i.test(name)) bp.target = { kind: 'vmentry' };
      else if (/^vmexit:/i.test(name)) {
        const spec = name.slice('vmexit:'.length);
        const parsed = parseExitReasons(spec);
        if (parsed.ok && spec.trim() !== '') {
          const reasons = parsed.reasons;
          bp.target = { kind: 'vmexit', matches: (r) => !reasons || reasons.has(r) };
        } else {
          bp.verified = false;
          bp.message = parsed.ok ? `'${name}' names no exit reason (vmexit:EPT_VIOLATION, vmexit:48, vmexit:*)` : `${name}: ${parsed.message}`;
        }
      } else {
        const matches = parseEventSpec(name);
        if (matches) bp.target = { kind: 'event', matches };
        else {
          bp.verified = false;
          bp.message = `'${name}' is not a label, fred:user/fred:kernel, an event (#PF, vector:0x20, int:0x80, syscall, sysenter, nmi), vmexit:REASON or vmentry`;
        }
      }
      return bp;
    });
    this.refreshFredEntry(true);
    this.sync();
    return this.functions.map((bp) => this.describe(bp));
  }

  setInstruction(requested: readonly DebugProtocol.InstructionBreakpoint[]): DebugProtocol.Breakpoint[] {
    this.instructions = requested.map((b) => {
      let address: bigint | undefined;
      try {
        address = BigInt.asUintN(64, BigInt(b.instructionReference) + BigInt(b.offset ?? 0));
      } catch {
        address = undefined;
      }
      const bp = this.make(address !== undefined ? [address] : [], b.condition, b.hitCondition);
      if (address === undefined) {
        bp.verified = false;
        bp.message = `'${b.instructionReference}' is not an address`;
      }
      return bp;
    });
    this.sync();
    return this.instructions.map((bp) => this.describe(bp));
  }

  /**
   * `conditions`: filter id → condition text: events for the delivery filters and VM-entry
   * injection, instructions for eret, exit reasons for vmExit. An error names the filter and the item.
   */
  setExceptionFilters(filters: readonly string[], conditions: ReadonlyMap<string, string> = new Map()): string | undefined {
    const unknown = filters.filter((f) => !EXCEPTION_FILTERS.some((x) => x.filter === f));
    if (unknown.length) return `unknown exception filter(s): ${unknown.join(', ')}`;
    const given = [...conditions].filter(([, text]) => text.trim());
    const bad = given.filter(([f]) => !EXCEPTION_FILTERS.find((x) => x.filter === f)?.supportsCondition).map(([f]) => f);
    if (bad.length) return `exception filter(s) ${bad.join(', ')} take no condition`;
    const eventConditions = new Map<string, (d: EventKey) => boolean>();
    let eret: Set<string> | undefined;
    let exits: Set<number> | undefined;
    for (const [filter, text] of given) {
      const label = EXCEPTION_FILTERS.find((x) => x.filter === filter)!.label;
      if (filter === 'vmExit') {
        const parsed = parseExitReasons(text);
        if (!parsed.ok) return `${label} filter condition: ${parsed.message}`;
        exits = parsed.reasons;
      } else if (filter === 'eret') {
        const names = text.split(',').map((x) => x.trim().toLowerCase()).filter(Boolean);
        const wrong = names.find((n) => !RETURN_INSTRUCTIONS.includes(n));
        if (wrong) return `${label} filter condition: '${wrong}' is not erets, eretu or iretq`;
        eret = names.length ? new Set(names) : undefined;
      } else {
        const parsed = parseEventList(text);
        if (!parsed.ok) return `${label} filter condition: ${parsed.message}`;
        if (parsed.matches) eventConditions.set(filter, parsed.matches);
      }
    }
    this.filters = new Set(filters);
    this.exitFilterReasons = exits;
    this.eventConditions = eventConditions;
    this.eretCondition = eret;
    return undefined;
  }

  /** Is `filter` on, and does its event condition (if any) accept this event? */
  private filterAccepts(filter: string, d: EventKey): boolean {
    return this.filters.has(filter) && (this.eventConditions.get(filter)?.(d) ?? true);
  }

  hasFilter(filter: string): boolean {
    return this.filters.has(filter);
  }

  private make(addresses: bigint[], condition?: string, hitCondition?: string, logMessage?: string): UserBreakpoint {
    const bp: UserBreakpoint = { id: this.nextId++, addresses, hits: 0, verified: true, condition: condition?.trim() || undefined, logMessage };
    if (hitCondition?.trim()) {
      bp.hitTest = parseHitCondition(hitCondition);
      if (!bp.hitTest) {
        bp.verified = false;
        bp.message = `hit condition '${hitCondition}' is not N, >= N, > N, == N or % N`;
      }
    }
    return bp;
  }

  private describe(bp: UserBreakpoint): DebugProtocol.Breakpoint {
    const out: DebugProtocol.Breakpoint = { id: bp.id, verified: bp.verified };
    if (bp.message) out.message = bp.message;
    if (bp.line !== undefined) out.line = bp.line;
    if (bp.addresses.length) out.instructionReference = `0x${bp.addresses[0].toString(16)}`;
    return out;
  }

  private all(): UserBreakpoint[] {
    return [...[...this.source.values()].flat(), ...this.functions, ...this.instructions];
  }

  private active(): UserBreakpoint[] {
    return this.all().filter((bp) => bp.verified);
  }

  /** Is there a user breakpoint (not an event) at this address? */
  isUserAddress(address: bigint): boolean {
    return this.installed.has(address);
  }

  private suspended = false;

  /** Replay runs without breakpoints (each stop costs a machine call): take them out of the machine meanwhile. */
  suspend<T>(run: () => T): T {
    this.suspended = true;
    this.sync();
    try {
      return run();
    } finally {
      this.suspended = false;
      this.sync();
    }
  }

  /** Make the machine's breakpoint set equal to the user breakpoints' addresses. */
  sync(): void {
    const want = new Set(this.suspended ? [] : this.active().flatMap((bp) => bp.addresses));
    for (const a of this.installed) if (!want.has(a)) this.machine.removeBreakpoint(a);
    for (const a of want) if (!this.installed.has(a)) this.machine.addBreakpoint(a);
    this.installed = want;
  }

  /**
   * Re-resolve fred:user / fred:kernel from IA32_FRED_CONFIG. Returns the breakpoints whose
   * resolution changed (the session sends `breakpoint` events for them).
   */
  refreshFredEntry(force = false): DebugProtocol.Breakpoint[] {
    const config = this.machine.readMsr(IA32_FRED_CONFIG) ?? 0n;
    const entry = config & FRED_CONFIG_BITS.ENTRYPOINT;
    if (entry === this.fredEntry && !force) return [];
    this.fredEntry = entry;
    const changed: UserBreakpoint[] = [];
    for (const bp of this.functions) {
      if (bp.target?.kind !== 'fredEntry') continue;
      if (entry === 0n) {
        bp.addresses = [];
        bp.verified = false;
        bp.message = 'IA32_FRED_CONFIG has no entry point yet (followed as the program writes it)';
      } else {
        bp.addresses = [entry + (bp.target.ring === 'kernel' ? BigInt(FRED_RING0_ENTRY_OFFSET) : 0n)];
        bp.verified = true;
        bp.message = undefined;
      }
      changed.push(bp);
    }
    if (changed.length) this.sync();
    return changed.map((bp) => this.describe(bp));
  }

  /**
   * The machine stopped on a breakpoint at `rip`: count hits, evaluate conditions and log points.
   * `evaluate` throws on a bad expression; `interpolate` renders a log message.
   */
  hitAt(rip: bigint, evaluate: (expression: string) => bigint, interpolate: (message: string) => string): BreakpointHit {
    const hit: BreakpointHit = { stop: false, reason: 'breakpoint', ids: [], logs: [], errors: [] };
    for (const [reason, list] of [['breakpoint', [...this.source.values()].flat()], ['function breakpoint', this.functions], ['instruction breakpoint', this.instructions]] as const) {
      for (const bp of list) {
        if (!bp.verified || !bp.addresses.includes(rip)) continue;
        if (bp.condition) {
          try {
            if (evaluate(bp.condition) === 0n) continue;
          } catch (error) {
            hit.errors.push(`breakpoint condition '${bp.condition}': ${(error as Error).message}`);
            hit.stop = true;
            hit.ids.push(bp.id);
            hit.reason = reason;
            continue;
          }
        }
        bp.hits++;
        if (!hitTestPasses(bp.hitTest, bp.hits)) continue;
        if (bp.logMessage !== undefined) {
          hit.logs.push(interpolate(bp.logMessage));
          continue;
        }
        if (!hit.stop) hit.reason = reason;
        hit.stop = true;
        hit.ids.push(bp.id);
      }
    }
    return hit;
  }

  /** Reverse continue: would a breakpoint at `rip` stop here (conditions apply, hit counts and log points do not)? */
  stopsAt(rip: bigint, evaluate: (expression: string) => bigint): boolean {
    return this.active().some((bp) => {
      if (bp.logMessage !== undefined || !bp.addresses.includes(rip)) return false;
      if (!bp.condition) return true;
      try {
        return evaluate(bp.condition) !== 0n;
      } catch {
        return true;
      }
    });
  }

  /** Does any breakpoint or filter stop at VM exits (machine.stopAtVmExit is set only then)? */
  watchesVmExits(): boolean {
    return this.filters.has('vmExit') || this.functions.some((bp) => bp.verified && bp.target?.kind === 'vmexit');
  }

  /** A VM exit that a `vmexit:` breakpoint or the vmExit filter stops at (before the monitor handles it). */
  matchVmExit(r: VmExitRecord): Omit<EventTrigger, 'address'> | undefined {
    const description = `VM exit: ${r.reasonName} (${r.basicReason}) at guest RIP 0x${r.guestRip.toString(16)}`;
    const ids = this.functions.filter((bp) => bp.verified && bp.target?.kind === 'vmexit' && bp.target.matches(r.basicReason)).map((bp) => bp.id);
    if (ids.length) return { reason: 'function breakpoint', description, ids };
    if (this.filters.has('vmExit') && (!this.exitFilterReasons || this.exitFilterReasons.has(r.basicReason))) return { reason: 'exception', description, ids: [] };
    return undefined;
  }

  /** A trace record that an event breakpoint or exception filter stops on. */
  matchRecord(r: TraceRecord): EventTrigger | undefined {
    if (r.kind === 'vmentry') {
      const injecting = (r.injectedInterruptionInfo & 0x8000_0000) !== 0;
      const ids = this.functions.filter((bp) => bp.verified && bp.target?.kind === 'vmentry').map((bp) => bp.id);
      const what = injecting ? `VM entry injecting 0x${(r.injectedInterruptionInfo >>> 0).toString(16)}` : 'VM entry';
      if (ids.length) return { address: undefined, reason: 'function breakpoint', description: what, ids };
      const injected = { type: ((r.injectedInterruptionInfo >>> 8) & 7) as EventKey['type'], vector: r.injectedInterruptionInfo & 0xff };
      if (injecting && this.filterAccepts('vmEntryInjection', injected)) return { address: undefined, reason: 'exception', description: what, ids: [] };
      return undefined;
    }
    if (r.kind === 'delivery') {
      const ids = this.functions.filter((bp) => bp.verified && bp.target?.kind === 'event' && bp.target.matches(r)).map((bp) => bp.id);
      if (ids.length) return { address: r.entryRip, reason: 'function breakpoint', description: `Event breakpoint: ${deliveryLabel(r)}`, ids };
      const byType = Object.entries(FILTER_TYPES).some(([f, types]) => types.includes(r.type) && this.filterAccepts(f, r));
      const nested = r.nested && this.filterAccepts('nested', r);
      const df = r.type === 3 && r.vector === 8 && this.filters.has('doubleFault');
      if (byType || nested || df) return { address: r.entryRip, reason: 'exception', description: `Exception: ${deliveryLabel(r)}`, ids: [] };
    } else if (r.kind === 'return' && r.instruction !== 'sysret' && this.filters.has('eret') && (this.eretCondition?.has(r.instruction) ?? true)) {
      return { address: r.toRip, reason: 'exception', description: `${r.instruction.toUpperCase()} returned to CPL ${r.toCpl} at 0x${r.toRip.toString(16)}`, ids: [] };
    }
    return undefined;
  }
}
