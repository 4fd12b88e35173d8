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

/** `fredLab/vmcs`: the monitor's VMCS, every supported field by SDM group. */
export interface VmcsArguments {}
export interface VmcsBitView {
  name: string;
  /** `7:0`, `31`. */
  bits: string;
  value: string;
  note?: string;
}
export interface VmcsFieldJson {
  name: string;
  /** `0x681e`. */
  encoding: string;
  title: string;
  width: 16 | 32 | 64;
  value: string;
  /** Exit-information fields: VMWRITE (and setVariable) refuses them. */
  readOnly: boolean;
  /** The value in words (exit reason name, the event of an interruption-information field). */
  note?: string;
  bits?: VmcsBitView[];
}
export interface VmcsGroupJson {
  /** `guestRegisterState`, `guestNonRegisterState`, `hostState`, `executionControl`, `exitControl`, `entryControl`, `exitInformation`. */
  group: string;
  title: string;
  fields: VmcsFieldJson[];
}
export interface VmcsResponseBody {
  /** false on bare metal (`"vmx": false`): no groups then. */
  active: boolean;
  /** VM exits so far. */
  exitCount: number;
  /** The exit the machine is stopped at (before the monitor handles it), if any. */
  stoppedAtExit: { reason: number; name: string; qualification: string; guestRip: string; icount: number } | null;
  groups: VmcsGroupJson[];
}

/** `fredLab/inject`: ask the monitor to inject an event at the next VM entry (like the console's `inject`). */
export interface InjectArguments {
  /** `nmi`, `interrupt` (external, type 0) or `exception` (hardware exception, type 3). */
  kind: 'nmi' | 'interrupt' | 'exception';
  /** 0–255 for interrupts, 0–31 for exceptions; ignored for NMIs. */
  vector?: number;
  /** Exceptions that push one (#DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP): the error code. */
  errorCode?: number;
  /** FRED event data ("0x…" or a number); e.g. the faulting address of an injected #PF. */
  eventData?: string | number;
}
export interface InjectResponseBody {
  /** The event in words, as the Debug Console prints it. */
  description: string;
}

export const CUSTOM_REQUESTS = ['fredLab/stackLevels', 'fredLab/timeline', 'fredLab/travelTo', 'fredLab/vmcs', 'fredLab/inject'] as const;
