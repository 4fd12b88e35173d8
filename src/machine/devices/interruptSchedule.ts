// `--interrupt VECTOR@EVERY`: an external interrupt source that requests VECTOR every EVERY retired
// instructions (at icount EVERY, 2·EVERY, …), on the same deterministic time base as the APIC timer.
// The sink is whatever receives external interrupts: the local APIC for a bare run, or the VMX
// monitor, which decides how to inject it into its guest. Requests coalesce like an edge-triggered
// IRR bit: several due in one advance reach the sink as one request, and a request while the previous
// one is still unacknowledged sets the same IRR bit again (docs/devices.md "Interrupt schedule").

export interface InterruptSink {
  requestInterrupt(vector: number): void;
}

export interface InterruptSpec {
  vector: number;
  every: number;
}

export interface InterruptScheduleState {
  vector: number;
  every: number;
  nextAt: number;
}

/** Parse `VECTOR@EVERY` (decimal or 0x-hex), e.g. `0x20@1000`. Vectors 32–255 only: 0–31 are
 *  exceptions, and an external interrupt with such a vector is what the APIC rejects as illegal. */
export function parseInterruptSpec(text: string): { ok: true; spec: InterruptSpec } | { ok: false; message: string } {
  const match = /^\s*(0x[0-9a-f]+|\d+)\s*@\s*(0x[0-9a-f]+|\d+)\s*$/i.exec(text);
  if (!match) return { ok: false, message: `--interrupt '${text}': expected VECTOR@EVERY, e.g. 0x20@1000` };
  const vector = Number(match[1]);
  const every = Number(match[2]);
  if (vector < 32 || vector > 255) {
    return { ok: false, message: `--interrupt '${text}': vector ${vector} is outside 32–255` };
  }
  if (!Number.isSafeInteger(every) || every < 1) {
    return { ok: false, message: `--interrupt '${text}': EVERY must be a positive instruction count` };
  }
  return { ok: true, spec: { vector, every } };
}

export class InterruptSchedule {
  private state: InterruptScheduleState;

  /** `start`: the icount the period counts from (requests at start + k·every, k ≥ 1). */
  constructor(spec: InterruptSpec, private readonly sink: InterruptSink, start = 0) {
    if (!Number.isSafeInteger(spec.every) || spec.every < 1) throw new RangeError(`InterruptSchedule: every = ${spec.every}`);
    this.state = { vector: spec.vector & 0xff, every: spec.every, nextAt: start + spec.every };
  }

  get vector(): number {
    return this.state.vector;
  }

  /** The icount of the next request. */
  nextEventAt(): number {
    return this.state.nextAt;
  }

  /** Raise what is due at `icount`; returns how many periods elapsed (0 = nothing requested). */
  advanceTo(icount: number): number {
    const s = this.state;
    if (icount < s.nextAt) return 0;
    const periods = 1 + Math.floor((icount - s.nextAt) / s.every);
    s.nextAt += periods * s.every;
    this.sink.requestInterrupt(s.vector);
    return periods;
  }

  save(): InterruptScheduleState {
    return { ...this.state };
  }

  restore(state: unknown): void {
    this.state = { ...(state as InterruptScheduleState) };
  }
}
