// Custom DAP requests of the `fred` debug type (ARCHITECTURE §6): typed here for the extension's
// views and documented in docs/debugger.md. Every 64-bit value is a "0x…" string.

/** `fredLab/stackLevels`: FRED stack levels as the machine holds them now. */
export interface StackLevelsArguments {}
export interface StackLevelsResponseBody {
  fredEnabled: boolean;
  cpl: number;
  /** IA32_FRED_CONFIG[1:0]. */
  csl: number;
  config: string;
  entryPoint: string;
  redZoneBytes: number;
  interruptStackLevel: number;
  levels: { level: number; rsp: string; ssp: string | null; current: boolean }[];
  /** IA32_FRED_STKLVLS: the stack level of each exception vector 0–31. */
  vectorLevels: { vector: number; mnemonic: string; level: number }[];
  /** Active event deliveries, innermost first. */
  activeEvents: { label: string; mechanism: 'fred' | 'idt'; type: number; vector: number; fromCpl: number; oldCsl: number; newCsl: number; frameAddress: string; fromRip: string; entryRip: string; icount: number }[];
}

/** `fredLab/timeline`: the trace records so far (paged). */
export interface TimelineArguments {
  /** First record index (default 0). */
  start?: number;
  /** At most this many records (default 1000). */
  count?: number;
  /** Only these kinds (`delivery`, `return`, `msrWrite`, …). */
  kinds?: string[];
}
export interface TimelineResponseBody {
  /** Records matching `kinds` in total. */
  total: number;
  /** Current instruction count and the earliest one time travel can reach. */
  icount: number;
  historyStart: number;
  records: { index: number; icount: number; kind: string; summary: string; record: Record<string, unknown> }[];
}

/** `fredLab/travelTo`: go to an instruction count in the recorded past (or stay in the present). */
export interface TravelToArguments {
  icount: number;
}
export interface TravelToResponseBody {
  icount: number;
  rip: string;
}

export const CUSTOM_REQUESTS = ['fredLab/stackLevels', 'fredLab/timeline', 'fredLab/travelTo'] as const;
