// A CPU-detected exception in flight (SDM Vol. 3A §6.3). Thrown by the executors and the MMU, caught by
// the run loop, which hands it to deliverEvent. Guest faults are ordinary control flow of the
// emulator, never host errors.
export class CpuFault {
  constructor(
    readonly vector: number,
    /** Error code, for the vectors that push one (arch/exceptions.ts). */
    readonly errorCode?: number,
    /** #PF: the faulting linear address (CR2, FRED event data). */
    readonly address?: number,
    /** Words for the trace and stop reasons ("write to a read-only page", …). */
    readonly detail?: string,
  ) {}
}

export const DE = 0, DB = 1, NMI = 2, BP = 3, OF = 4, UD = 6, NM = 7, DF = 8, TS = 10, NP = 11, SS = 12, GP = 13, PF = 14, AC = 17;

export function gp(errorCode = 0, detail?: string): CpuFault {
  return new CpuFault(GP, errorCode, undefined, detail);
}

export function ud(detail?: string): CpuFault {
  return new CpuFault(UD, undefined, undefined, detail);
}

/** Thrown when the run must stop at an instruction (unimplemented instruction, host-side limit). */
export class MachineStop {
  constructor(
    readonly reason: 'unimplemented' | 'hostError',
    readonly message: string,
  ) {}
}
