// The one vocabulary of events (ARCHITECTURE §4). The machine emits these records on one stream;
// breakpoints, the call stack, the timeline, CLI output, exercise checks and time travel consume it.
// 64-bit architectural values are bigint here; the CLI turns them into "0x…" strings.

/** FRED event types and VMX interruption types share these numbers (fred-architecture.md §3.1). */
export type EventType = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

export interface TraceBase {
  /** Instructions retired before this record was produced. */
  readonly icount: number;
}

export interface DeliveryRecord extends TraceBase {
  readonly kind: 'delivery';
  readonly mechanism: 'fred' | 'idt';
  readonly type: EventType;
  readonly vector: number;
  /** undefined when the event pushes no error code. */
  readonly errorCode?: number;
  /** FRED event data (frame +0x30); 0n for IDT delivery. */
  readonly eventData: bigint;
  readonly nested: boolean;
  readonly fromCpl: number;
  readonly fromRip: bigint;
  readonly fromRsp: bigint;
  /** Stack levels (FRED only; 0 for IDT delivery). */
  readonly oldCsl: number;
  readonly newCsl: number;
  readonly stackSwitched: boolean;
  /** Linear address of the frame's lowest byte (the new RSP). */
  readonly frameAddress: bigint;
  readonly entryRip: bigint;
  /** The event was injected by VM entry (the machine always sets it: false for every other event). */
  readonly injected?: boolean;
}

export interface ReturnRecord extends TraceBase {
  readonly kind: 'return';
  readonly instruction: 'erets' | 'eretu' | 'iretq' | 'sysret';
  readonly fromRip: bigint;
  readonly toCpl: number;
  readonly toRip: bigint;
  readonly toRsp: bigint;
  readonly cslAfter: number;
}

export interface VmExitRecord extends TraceBase {
  readonly kind: 'vmexit';
  readonly basicReason: number;
  readonly reasonName: string;
  readonly qualification: bigint;
  readonly exitInterruptionInfo: number;
  readonly exitInterruptionErrorCode?: number;
  readonly idtVectoringInfo: number;
  readonly idtVectoringErrorCode?: number;
  readonly originalEventData: bigint;
  readonly guestRip: bigint;
}

export interface VmEntryRecord extends TraceBase {
  readonly kind: 'vmentry';
  /** VM-entry interruption-information field (bit 31 clear when nothing is injected). */
  readonly injectedInterruptionInfo: number;
  readonly injectedErrorCode?: number;
  readonly injectedEventData: bigint;
  readonly instructionLength: number;
  readonly checksPassed: true;
}

export interface VmEntryFailureRecord extends TraceBase {
  readonly kind: 'vmentryFailure';
  /** The check that failed, in words. */
  readonly check: string;
  readonly field: string;
  readonly value: bigint;
  /** 'vmfail' (VM-instruction error) or 'exit' (basic reason 33/34 with bit 31). */
  readonly failure: 'vmfail' | 'exit';
  readonly errorNumber: number;
}

export interface MsrWriteRecord extends TraceBase {
  readonly kind: 'msrWrite';
  readonly msr: number;
  readonly name: string;
  readonly value: bigint;
  /** Set when the WRMSR checks refused the value (#GP); the MSR kept its old value. */
  readonly fault?: string;
}

export interface CrWriteRecord extends TraceBase {
  readonly kind: 'crWrite';
  readonly cr: 0 | 2 | 3 | 4 | 8;
  readonly value: bigint;
  readonly fault?: string;
}

export interface OutputRecord extends TraceBase {
  readonly kind: 'output';
  readonly device: 'com1' | 'hypercall';
  readonly text: string;
}

export interface HaltRecord extends TraceBase {
  readonly kind: 'halt';
  readonly rip: bigint;
}

export interface ShutdownRecord extends TraceBase {
  readonly kind: 'shutdown';
  /** The chain of exceptions that ended in the triple fault, in words. */
  readonly reason: string;
}

export interface DebugExitRecord extends TraceBase {
  readonly kind: 'debugExit';
  readonly code: number;
}

export type TraceRecord =
  | DeliveryRecord
  | ReturnRecord
  | VmExitRecord
  | VmEntryRecord
  | VmEntryFailureRecord
  | MsrWriteRecord
  | CrWriteRecord
  | OutputRecord
  | HaltRecord
  | ShutdownRecord
  | DebugExitRecord;

export type TraceListener = (record: TraceRecord) => void;

/** The instructions of return records, by the number `Trace.return_` takes. */
export const RETURN_INSTRUCTIONS: readonly ReturnRecord['instruction'][] = ['erets', 'eretu', 'iretq', 'sysret'];
export const RETURN_ERETS = 0, RETURN_ERETU = 1;
/** Delivery mechanisms by the number `Trace.delivery` takes. */
export const MECHANISM_FRED = 0, MECHANISM_IDT = 1;

// Memo of fromLinear: a direct-mapped front (slot from the address mixed with its high half) over a
// Map (a Map keyed by non-Smi numbers hashes a heap number on every lookup; addresses that share a
// slot, such as 0 and a page-aligned stack top, alternate through the Map without a new bigint).
const BIG_SLOTS = 1024;
const bigKeys = new Float64Array(BIG_SLOTS).fill(NaN);
const bigValues: bigint[] = new Array<bigint>(BIG_SLOTS).fill(0n);
const bigCache = new Map<number, bigint>();

/**
 * fromLinear(n) memoized: delivery and ERETx produce the same few addresses again and again (entry
 * point, stack tops, handler RIPs), and the trace records want them as bigints.
 */
export function linearBig(n: number): bigint {
  const slot = (n ^ (n >>> 10) ^ (n >>> 20) ^ Math.floor(n / 4294967296)) & (BIG_SLOTS - 1);
  if (bigKeys[slot] === n) return bigValues[slot];
  let v = bigCache.get(n);
  if (v === undefined) {
    if (bigCache.size >= 4096) bigCache.clear();
    v = BigInt.asUintN(64, BigInt(n));
    bigCache.set(n, v);
  }
  bigKeys[slot] = n;
  bigValues[slot] = v;
  return v;
}

const CANONICAL_LIMIT = 140737488355328; // 2^47

/** A 64-bit value from its signed 32-bit halves (memoized when it is a canonical address). */
function halvesBig(lo: number, hi: number): bigint {
  const n = hi * 4294967296 + (lo >>> 0);
  return n >= -CANONICAL_LIMIT && n < CANONICAL_LIMIT ? linearBig(n) : (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

// Compact storage of the two records every round trip produces (delivery, return): one row of
// numbers per record in a Float64Array, event data in a parallel array. Rows become TraceRecord
// objects only when someone looks: `records` is read, or a listener is subscribed (then at once).
const STRIDE = 8; // 64 bytes: one cache line per record
// Row layout: [0] packed bits (below), [1] icount. Delivery: [2] error code (NaN: none), [3] fromRip,
// [4] fromRsp, [5] frameAddress, [6] entryRip (linear addresses as signed numbers). Return:
// [2] fromRip, [3] toRip, [4] toRsp bits 31:0, [5] toRsp bits 63:32 (RSP after ERETS may be any value).
// Bits: [0] 1 = return. Delivery: [1] IDT, [2] nested, [3] stack switched, [4] injected, [5] event
// data ≠ 0 (in `data`), [8:6] type, [10:9] fromCpl, [12:11] oldCsl, [14:13] newCsl, [22:15] vector.
// Return: [2:1] instruction, [4:3] toCpl, [6:5] cslAfter.
const KIND_RETURN = 1;
const D_IDT = 1 << 1, D_NESTED = 1 << 2, D_SWITCHED = 1 << 3, D_INJECTED = 1 << 4, D_DATA = 1 << 5;
const INITIAL_ROWS = 256;

/**
 * The trace stream. Records are kept (for the CLI, the timeline and time travel) and handed to
 * listeners as they happen. Deliveries and returns are stored compactly (`delivery`, `return_`) and
 * materialized on demand, so a run nobody watches pays a few typed-array stores per event.
 */
export class Trace {
  private readonly list: TraceRecord[] = [];
  private readonly listeners: TraceListener[] = [];
  /** Compact rows not yet in `list` (always 0 while a listener is subscribed). */
  private pending = 0;
  private rows = new Float64Array(INITIAL_ROWS * STRIDE);
  private data: bigint[] = new Array<bigint>(INITIAL_ROWS).fill(0n);

  /** Every record so far, oldest first (compact rows are materialized here). */
  get records(): TraceRecord[] {
    if (this.pending !== 0) this.materialize();
    return this.list;
  }

  /** Number of records so far, without materializing. */
  get length(): number {
    return this.list.length + this.pending;
  }

  /** Forget every record (a long benchmark run). */
  clear(): void {
    if (this.list.length !== 0) this.list.length = 0;
    this.pending = 0;
  }

  emit(record: TraceRecord): void {
    if (this.pending !== 0) this.materialize();
    this.list.push(record);
    const listeners = this.listeners;
    for (let k = 0; k < listeners.length; k++) listeners[k](record); // as for-of: live length
  }

  /** A delivery record (fields as in DeliveryRecord; addresses as linear numbers, fromLinear on materialization). */
  delivery(icount: number, mechanism: number, type: EventType, vector: number, errorCode: number | undefined, eventData: bigint, nested: boolean,
    fromCpl: number, fromRip: number, fromRsp: number, oldCsl: number, newCsl: number, stackSwitched: boolean, frameAddress: number, entryRip: number, injected: boolean): void {
    const at = this.row();
    const w = this.rows;
    w[at] = (mechanism === MECHANISM_IDT ? D_IDT : 0) | (nested ? D_NESTED : 0) | (stackSwitched ? D_SWITCHED : 0) | (injected ? D_INJECTED : 0) |
      (eventData ? D_DATA : 0) | (type << 6) | (fromCpl << 9) | (oldCsl << 11) | (newCsl << 13) | (vector << 15);
    w[at + 1] = icount;
    w[at + 2] = errorCode === undefined ? NaN : errorCode;
    w[at + 3] = fromRip;
    w[at + 4] = fromRsp;
    w[at + 5] = frameAddress;
    w[at + 6] = entryRip;
    if (eventData) this.data[this.pending] = eventData; // 0n: a ToBoolean test; most events carry none
    this.commit();
  }

  /** A return record (`instruction`: index in RETURN_INSTRUCTIONS); `toRspLo`/`toRspHi` are RSP's 32-bit halves. */
  return_(icount: number, instruction: number, fromRip: number, toCpl: number, toRip: number, toRspLo: number, toRspHi: number, cslAfter: number): void {
    const at = this.row();
    const w = this.rows;
    w[at] = KIND_RETURN | (instruction << 1) | (toCpl << 3) | (cslAfter << 5);
    w[at + 1] = icount;
    w[at + 2] = fromRip;
    w[at + 3] = toRip;
    w[at + 4] = toRspLo;
    w[at + 5] = toRspHi;
    this.commit();
  }

  subscribe(listener: TraceListener): () => void {
    if (this.pending !== 0) this.materialize(); // earlier records are not this listener's
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /** Time travel: forget records produced after `icount` (they will be produced again on replay). */
  truncateAfter(icount: number): void {
    const list = this.records;
    let keep = list.length;
    while (keep > 0 && list[keep - 1].icount > icount) keep--;
    list.length = keep;
  }

  /** Keep the first `length` records. */
  truncate(length: number): void {
    const list = this.records;
    if (length < list.length) list.length = length;
  }

  /** The offset of a fresh row (small enough to inline into delivery and ERETx; growing is out of line). */
  private row(): number {
    const at = this.pending * STRIDE;
    if (at === this.rows.length) this.grow();
    return at;
  }

  /** Storage doubles when full. */
  private grow(): void {
    const rows = new Float64Array(this.rows.length * 2);
    rows.set(this.rows);
    this.rows = rows;
    this.data.length = rows.length / STRIDE;
  }

  private commit(): void {
    if (this.listeners.length === 0) this.pending++;
    else this.publish();
  }

  /** A listener is subscribed: the row (row 0, pending is 0 while listeners exist) becomes a record now. */
  private publish(): void {
    const record = this.recordAt(0);
    this.list.push(record);
    const listeners = this.listeners;
    for (let k = 0; k < listeners.length; k++) listeners[k](record);
  }

  private materialize(): void {
    const list = this.list;
    for (let k = 0; k < this.pending; k++) list.push(this.recordAt(k));
    this.pending = 0;
  }

  private recordAt(k: number): TraceRecord {
    const w = this.rows;
    const at = k * STRIDE;
    const bits = w[at];
    if (bits & KIND_RETURN) {
      return {
        kind: 'return', icount: w[at + 1], instruction: RETURN_INSTRUCTIONS[(bits >> 1) & 3], fromRip: linearBig(w[at + 2]), toCpl: (bits >> 3) & 3,
        toRip: linearBig(w[at + 3]), toRsp: halvesBig(w[at + 4], w[at + 5]), cslAfter: (bits >> 5) & 3,
      };
    }
    const errorCode = w[at + 2];
    const eventData = bits & D_DATA ? this.data[k] : 0n;
    return {
      kind: 'delivery', icount: w[at + 1], mechanism: bits & D_IDT ? 'idt' : 'fred', type: ((bits >> 6) & 7) as EventType, vector: (bits >> 15) & 0xff,
      errorCode: Number.isNaN(errorCode) ? undefined : errorCode, eventData, nested: (bits & D_NESTED) !== 0,
      fromCpl: (bits >> 9) & 3, fromRip: linearBig(w[at + 3]), fromRsp: linearBig(w[at + 4]), oldCsl: (bits >> 11) & 3, newCsl: (bits >> 13) & 3,
      stackSwitched: (bits & D_SWITCHED) !== 0, frameAddress: linearBig(w[at + 5]), entryRip: linearBig(w[at + 6]), injected: (bits & D_INJECTED) !== 0,
    };
  }
}
