// Active event deliveries, derived from the trace's `delivery` and `return` records (ARCHITECTURE §4):
// a delivery pushes, ERETS/ERETU/IRETQ pop (SYSRET pops only a SYSCALL frame). The call stack, the
// Event frame scope, stepOut and the stack-levels view read this; nothing peeks at the CPU for it.
import { EVENT_TYPES, OTHER_EVENT_VECTORS, exceptionByVector } from '../arch/index';
import type { DeliveryRecord, ReturnRecord, TraceRecord } from '../machine/trace';

export class EventStack {
  private frames: DeliveryRecord[] = [];
  private consumed = 0;

  /** Bring the stack up to date with `records` (a shorter list than last time means a restore: start over). */
  update(records: readonly TraceRecord[]): readonly DeliveryRecord[] {
    if (records.length < this.consumed) {
      this.frames = [];
      this.consumed = 0;
    }
    for (; this.consumed < records.length; this.consumed++) this.apply(records[this.consumed]);
    return this.frames;
  }

  apply(r: TraceRecord): void {
    if (r.kind === 'delivery') this.frames.push(r);
    else if (r.kind === 'return' && popsFrame(r, this.frames[this.frames.length - 1])) this.frames.pop();
  }

  /** Innermost last. */
  get active(): readonly DeliveryRecord[] {
    return this.frames;
  }

  reset(): void {
    this.frames = [];
    this.consumed = 0;
  }
}

export function popsFrame(r: ReturnRecord, top: DeliveryRecord | undefined): boolean {
  if (!top) return false;
  if (r.instruction === 'sysret') return top.type === 7;
  return true;
}

/** `#PF`, `NMI`, `INT 0x80`, `SYSCALL`, `vector 0x20`: the event's name in the SDM's words. */
export function eventName(type: number, vector: number): string {
  if (type === 7) return OTHER_EVENT_VECTORS.find((v) => v.vector === vector)?.short ?? `other event ${vector}`;
  if (type === 4) return `INT 0x${vector.toString(16)}`;
  if (type === 0) return `vector 0x${vector.toString(16)}`;
  return exceptionByVector(vector)?.mnemonic ?? `vector 0x${vector.toString(16)}`;
}

/** `#PF (hardware exception 14) · SL1 · from CPL 3` (IDT deliveries say `IDT` instead of the stack level). */
export function deliveryLabel(d: DeliveryRecord): string {
  const type = (EVENT_TYPES[d.type]?.name ?? `type ${d.type}`).toLowerCase();
  const level = d.mechanism === 'fred' ? `SL${d.newCsl}` : 'IDT';
  return `${eventName(d.type, d.vector)} (${type} ${d.vector})${d.nested ? ' · nested' : ''} · ${level} · from CPL ${d.fromCpl}`;
}
