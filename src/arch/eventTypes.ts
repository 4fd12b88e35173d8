// Event types 0–7: FRED frame SS word bits 51:48 (fred-architecture.md §3.1) and the VMX
// interruption type, bits 10:8 of the interruption-information fields (vmx-fred.md §3.7) — the same
// numbers (Linux trapnr.h: "used by FRED, Intel VT-x and AMD SVM").

export interface EventTypeInfo {
  readonly type: number;
  /** Linux trapnr.h suffix: EVENT_TYPE_<short>. */
  readonly short: string;
  /** Linux vmx.h INTR_TYPE_ name (interruption type shifted to bits 10:8). */
  readonly vmxName: string;
  readonly name: string;
  readonly doc: string;
}

export const EVENT_TYPES: readonly EventTypeInfo[] = [
  { type: 0, short: 'EXTINT', vmxName: 'INTR_TYPE_EXT_INTR', name: 'External interrupt',
    doc: 'Maskable interrupt from the APIC/PIC; FRED uses IA32_FRED_CONFIG[10:9] as its stack level in ring 0' },
  { type: 1, short: 'RESERVED', vmxName: 'INTR_TYPE_RESERVED', name: 'Reserved', doc: 'Reserved event type' },
  { type: 2, short: 'NMI', vmxName: 'INTR_TYPE_NMI_INTR', name: 'NMI', doc: 'NMI (vector 2); delivery blocks NMIs' },
  { type: 3, short: 'HWEXC', vmxName: 'INTR_TYPE_HARD_EXCEPTION', name: 'Hardware exception',
    doc: 'Exception detected by the processor (#DE, #DB, #UD, #GP, #PF, …)' },
  { type: 4, short: 'SWINT', vmxName: 'INTR_TYPE_SOFT_INTR', name: 'Software interrupt', doc: 'INT n (CD ib)' },
  { type: 5, short: 'PRIV_SWEXC', vmxName: 'INTR_TYPE_PRIV_SW_EXCEPTION', name: 'Privileged software exception',
    doc: 'INT1 / ICEBP (F1), vector 1' },
  { type: 6, short: 'SWEXC', vmxName: 'INTR_TYPE_SOFT_EXCEPTION', name: 'Software exception',
    doc: 'INT3 (vector 3) and INTO (vector 4)' },
  { type: 7, short: 'OTHER', vmxName: 'INTR_TYPE_OTHER_EVENT', name: 'Other',
    doc: 'FRED: SYSCALL (vector 1), SYSENTER (vector 2); VMX: pending MTF VM exit (vector 0)' },
];

/** Event type by number 0–7. */
export function eventTypeInfo(type: number): EventTypeInfo | undefined {
  return Number.isInteger(type) ? EVENT_TYPES[type] : undefined;
}

/** Vectors of event type 7 ("other event"), fred-architecture.md §3.1, vmx-fred.md §1.6. */
export const OTHER_EVENT_VECTORS = [
  { vector: 0, short: 'MTF', name: 'Pending MTF VM exit (VMX injection only)' },
  { vector: 1, short: 'SYSCALL', name: 'SYSCALL' },
  { vector: 2, short: 'SYSENTER', name: 'SYSENTER' },
] as const;
