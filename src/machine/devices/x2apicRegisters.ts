// Which x2APIC registers exist and their static WRMSR rules come from the one MSR table in
// src/arch/msr.ts (SDM Vol. 3 §11.12.1.2 Table 11-6, §11.12.1.3 reserved-bit checking). This module
// adds what depends on this APIC's capabilities, and the LVT layout the device uses.
import { checkMsrWrite, msrByIndex, type MsrDef } from '../../arch/msr';

export const IA32_APIC_BASE = 0x1b;
export const X2APIC_FIRST = 0x800;
export const X2APIC_LAST = 0x8ff;

/** The x2APIC register at MSR `index`, or undefined for a non-existent one (RDMSR/WRMSR → #GP). */
export function x2ApicRegister(index: number): MsrDef | undefined {
  if (index < X2APIC_FIRST || index > X2APIC_LAST) return undefined;
  return msrByIndex(index);
}

/** MSR indices of the local vector table, in the order LocalApic stores them: timer, thermal
 *  sensor, performance monitoring, LINT0, LINT1, error. There is no CMCI LVT (0x82F): this APIC
 *  reports max LVT entry 5, so 0x82F does not exist. */
export const LVT_INDICES = [0x832, 0x833, 0x834, 0x835, 0x836, 0x837] as const;
export const LVT_TIMER_INDEX = 0x832;
export const LVT_ERROR_INDEX = 0x837;
export const SVR_INDEX = 0x80f;
/** LVT bits that are read-only (delivery status, remote IRR): a write leaves them 0. */
export const LVT_READ_ONLY = 0x5000;
export const LVT_MASK = 0x1_0000;

/**
 * WRMSR checks for an existing x2APIC register: the table's rules, then this APIC's capabilities.
 * Returns the #GP reason, or undefined when the write is allowed.
 */
export function x2ApicWriteFault(register: MsrDef, value: bigint): string | undefined {
  const check = checkMsrWrite(register, value);
  if (!check.ok) return check.rule;
  // CPUID.01H:ECX.TSC_Deadline = 0, so timer mode 2 does not exist; mode 3 is reserved (SDM §11.5.4.1).
  if (register.index === LVT_TIMER_INDEX && ((value >> 17n) & 3n) >= 2n) {
    return `${register.name}: timer mode ${(value >> 17n) & 3n} is not supported (one-shot 0 and periodic 1 only)`;
  }
  // Version bit 24 = 0: no EOI-broadcast suppression, so SVR bit 12 is reserved (SDM §11.9).
  if (register.index === SVR_INDEX && (value & 0x1000n) !== 0n) {
    return `${register.name}: EOI-broadcast suppression (bit 12) is not supported`;
  }
  return undefined;
}
