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
  /** Delivered by VM entry (event injection). */
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

/**
 * The trace stream. Records are kept (for the CLI, the timeline and time travel) and handed to
 * listeners as they happen. Emission is off the hot path: it happens only on architectural events.
 */
export class Trace {
  readonly records: TraceRecord[] = [];
  private readonly listeners: TraceListener[] = [];

  emit(record: TraceRecord): void {
    this.records.push(record);
    const listeners = this.listeners;
    for (let k = 0; k < listeners.length; k++) listeners[k](record); // as for-of: live length
  }

  subscribe(listener: TraceListener): () => void {
    this.listeners.push(listener);
    return () => {
      const at = this.listeners.indexOf(listener);
      if (at >= 0) this.listeners.splice(at, 1);
    };
  }

  /** Time travel: forget records produced after `icount` (they will be produced again on replay). */
  truncateAfter(icount: number): void {
    let keep = this.records.length;
    while (keep > 0 && this.records[keep - 1].icount > icount) keep--;
    this.records.length = keep;
  }
}
