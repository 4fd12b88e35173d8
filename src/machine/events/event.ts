// One classification of events shared by legacy IDT delivery and FRED delivery
// (fred-architecture.md §3.1–§3.2, §3.7): event type 0–7, vector, error code, the RIP to save
// (fault → the instruction, trap/software event → the next one), instruction length for software
// events, and FRED event data.
import { exceptionByVector, exceptionHasErrorCode } from '../../arch/index';
import type { EventType } from '../trace';
import type { CpuFault } from './fault';

export const EXTERNAL_INTERRUPT = 0, NMI_EVENT = 2, HARDWARE_EXCEPTION = 3, SOFTWARE_INTERRUPT = 4,
  PRIVILEGED_SOFTWARE_EXCEPTION = 5, SOFTWARE_EXCEPTION = 6, OTHER_EVENT = 7;

export interface MachineEvent {
  type: EventType;
  vector: number;
  errorCode?: number;
  /** RIP saved in the frame. */
  rip: number;
  /** Length of INT n / INT3 / INTO / INT1 / SYSCALL (0 for everything else). */
  instructionLength: number;
  eventData: bigint;
  /** #PF faulting address (CR2). */
  address?: number;
  detail?: string;
  /** Fault-class exceptions save RFLAGS with RF = 1 so the return does not re-trigger an instruction breakpoint (SDM Vol. 3B §18.3.1.1). */
  setRf?: boolean;
}

/** A hardware exception from a CpuFault at the instruction `rip` (faults save the instruction's RIP). */
export function exceptionEvent(fault: CpuFault, rip: number, dr6Bits = 0): MachineEvent {
  return {
    type: HARDWARE_EXCEPTION,
    vector: fault.vector,
    errorCode: exceptionHasErrorCode(fault.vector) ? fault.errorCode ?? 0 : undefined,
    rip,
    instructionLength: 0,
    eventData: fault.vector === 14 ? BigInt.asUintN(64, BigInt(fault.address ?? 0)) : fault.vector === 1 ? BigInt(dr6Bits) : 0n,
    address: fault.address,
    detail: fault.detail,
  };
}

/** INT n (type 4), INT3/INTO (type 6), INT1 (type 5): traps saving the next RIP. */
export function softwareEvent(type: 4 | 5 | 6, vector: number, nextRip: number, length: number): MachineEvent {
  return { type, vector, rip: nextRip, instructionLength: length, eventData: 0n };
}

export function interruptEvent(vector: number, rip: number): MachineEvent {
  return { type: vector === 2 ? NMI_EVENT : EXTERNAL_INTERRUPT, vector, rip, instructionLength: 0, eventData: 0n };
}

/** Is this a CPU exception for the #DF table? (Interrupts and software interrupts count as benign.) */
export function exceptionVectorForClasses(ev: MachineEvent): number {
  return ev.type === HARDWARE_EXCEPTION ? ev.vector : -1;
}

/** "#PF (page fault)", "INT 0x80", "interrupt 0x20" — for trace and stop messages. */
export function describeEvent(ev: MachineEvent): string {
  switch (ev.type) {
    case HARDWARE_EXCEPTION: {
      const info = exceptionByVector(ev.vector);
      const code = ev.errorCode !== undefined ? `(0x${ev.errorCode.toString(16)})` : '';
      return `${info?.mnemonic ?? `vector ${ev.vector}`}${code}${ev.detail ? ` [${ev.detail}]` : ''}`;
    }
    case SOFTWARE_INTERRUPT: return `INT 0x${ev.vector.toString(16)}`;
    case SOFTWARE_EXCEPTION: return ev.vector === 3 ? 'INT3' : 'INTO';
    case PRIVILEGED_SOFTWARE_EXCEPTION: return 'INT1';
    case NMI_EVENT: return 'NMI';
    case OTHER_EVENT: return ev.vector === 1 ? 'SYSCALL' : ev.vector === 2 ? 'SYSENTER' : `other event ${ev.vector}`;
    default: return `external interrupt 0x${ev.vector.toString(16)}`;
  }
}
