// The x2APIC register map: one table of MSR index, SDM name, access and the bits a WRMSR may set
// (SDM Vol. 3 §11.12.1.2 Table 11-6 and §11.12.1.3 "Reserved Bit Checking": a WRMSR that sets a
// reserved bit, a WRMSR to a read-only register, an RDMSR of a write-only register and any access to
// an index in 0x800–0x8FF that is not in this table raise #GP(0)).

export const IA32_APIC_BASE = 0x1b;
export const X2APIC_FIRST = 0x800;
export const X2APIC_LAST = 0x8ff;

export type X2ApicAccess = 'rw' | 'ro' | 'wo';

export interface X2ApicRegister {
  readonly index: number;
  readonly name: string;
  readonly access: X2ApicAccess;
  /** Bits a WRMSR may set; any other bit set → #GP(0). Read-only bits inside are ignored on write. */
  readonly writable: bigint;
}

// LVT fields (SDM Vol. 3 Figure 11-8): vector 7:0, delivery mode 10:8, delivery status 12 (read-only),
// pin polarity 13, remote IRR 14 (read-only), trigger mode 15, mask 16, timer mode 18:17. Bit 18
// (TSC-deadline) is reserved because CPUID does not report TSC-deadline.
const LVT_COMMON = 0x1_10ffn; // vector, delivery status, mask
const LVT_WITH_MODE = LVT_COMMON | 0x700n;
const LVT_LINT = LVT_WITH_MODE | 0xe000n;
const LVT_TIMER = LVT_COMMON | 0x2_0000n;
// ICR (x2APIC, 64-bit): vector, delivery mode, destination mode 11, level 14, trigger 15,
// shorthand 19:18, destination 63:32. Delivery status (12) no longer exists in x2APIC mode.
const ICR_WRITABLE = 0xffff_ffff_000c_cfffn;

const table: readonly X2ApicRegister[] = [
  { index: 0x802, name: 'APIC ID', access: 'ro', writable: 0n },
  { index: 0x803, name: 'APIC version', access: 'ro', writable: 0n },
  { index: 0x808, name: 'TPR', access: 'rw', writable: 0xffn },
  { index: 0x80a, name: 'PPR', access: 'ro', writable: 0n },
  { index: 0x80b, name: 'EOI', access: 'wo', writable: 0n },
  { index: 0x80d, name: 'LDR', access: 'ro', writable: 0n },
  { index: 0x80f, name: 'SVR', access: 'rw', writable: 0x3ffn },
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ index: 0x810 + i, name: `ISR${i}`, access: 'ro' as const, writable: 0n })),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ index: 0x818 + i, name: `TMR${i}`, access: 'ro' as const, writable: 0n })),
  ...[0, 1, 2, 3, 4, 5, 6, 7].map((i) => ({ index: 0x820 + i, name: `IRR${i}`, access: 'ro' as const, writable: 0n })),
  { index: 0x828, name: 'ESR', access: 'rw', writable: 0n },
  { index: 0x82f, name: 'LVT CMCI', access: 'rw', writable: LVT_WITH_MODE },
  { index: 0x830, name: 'ICR', access: 'rw', writable: ICR_WRITABLE },
  { index: 0x832, name: 'LVT timer', access: 'rw', writable: LVT_TIMER },
  { index: 0x833, name: 'LVT thermal sensor', access: 'rw', writable: LVT_WITH_MODE },
  { index: 0x834, name: 'LVT performance monitoring', access: 'rw', writable: LVT_WITH_MODE },
  { index: 0x835, name: 'LVT LINT0', access: 'rw', writable: LVT_LINT },
  { index: 0x836, name: 'LVT LINT1', access: 'rw', writable: LVT_LINT },
  { index: 0x837, name: 'LVT error', access: 'rw', writable: LVT_COMMON },
  { index: 0x838, name: 'timer initial count', access: 'rw', writable: 0xffff_ffffn },
  { index: 0x839, name: 'timer current count', access: 'ro', writable: 0n },
  { index: 0x83e, name: 'timer divide configuration', access: 'rw', writable: 0xbn },
  { index: 0x83f, name: 'SELF IPI', access: 'wo', writable: 0xffn },
];

const byIndex = new Map(table.map((r) => [r.index, r]));

/** The x2APIC register at MSR `index`, or undefined for a non-existent one. */
export function x2ApicRegister(index: number): X2ApicRegister | undefined {
  return byIndex.get(index);
}

export const x2ApicRegisters: readonly X2ApicRegister[] = table;

/** MSR indices of the local vector table, in the order LocalApic stores them. */
export const LVT_INDICES = [0x82f, 0x832, 0x833, 0x834, 0x835, 0x836, 0x837] as const;
export const LVT_TIMER_INDEX = 0x832;
export const LVT_ERROR_INDEX = 0x837;
/** LVT bits that are read-only (delivery status, remote IRR): a write leaves them 0. */
export const LVT_READ_ONLY = 0x5000;
export const LVT_MASK = 0x1_0000;
