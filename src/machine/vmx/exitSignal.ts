// The hook surface for the run loop (docs/vmx.md "Run-loop hooks"): `VmExit`, the value an executor
// throws when the guest must leave non-root operation (as it throws CpuFault for exceptions), and
// `VmxIntercepts`, the per-instruction questions the executors ask, answered from the VMCS controls
// and the monitor's bitmaps through intercepts.ts. On bare metal the CPU has no intercepts object.
import { EXIT_REASONS } from '../../arch/index';
import type { EventType } from '../trace';
import {
  IoBitmap, MsrBitmap, cltsCausesExit, crAccessQualification, crReadCausesExit, crReadValue, crWriteCausesExit, exceptionCausesExit,
  instructionCausesExit, ioCausesExit, ioQualification, msrAccessCausesExit,
} from './intercepts';
import type { DeliveringEvent } from './reinjection';
import type { Vmcs } from './vmcs';

const reason = (short: string): number => {
  const r = EXIT_REASONS.find((x) => x.short === short);
  if (!r) throw new RangeError(`unknown exit reason ${short}`);
  return r.reason;
};

/** Basic exit reasons the hooks produce, by src/arch's EXIT_REASONS names (SDM Appendix C). */
export const EXIT = {
  EXCEPTION_NMI: reason('EXCEPTION_NMI'), EXTERNAL_INTERRUPT: reason('EXTERNAL_INTERRUPT'), TRIPLE_FAULT: reason('TRIPLE_FAULT'),
  CPUID: reason('CPUID'), HLT: reason('HLT'), VMCALL: reason('VMCALL'), CR_ACCESS: reason('CR_ACCESS'),
  IO_INSTRUCTION: reason('IO_INSTRUCTION'), MSR_READ: reason('MSR_READ'), MSR_WRITE: reason('MSR_WRITE'),
  EPT_VIOLATION: reason('EPT_VIOLATION'), INTERRUPT_WINDOW: reason('INTERRUPT_WINDOW'), NMI_WINDOW: reason('NMI_WINDOW'),
} as const;

export interface VmExitEvent {
  readonly type: EventType;
  readonly vector: number;
  readonly errorCode?: number;
  readonly nested: boolean;
}

/** A VM exit raised inside the emulated CPU; the monitor records it (exitInfo.ts) and handles it. */
export class VmExit {
  constructor(
    readonly basicReason: number,
    readonly qualification = 0n,
    /** Length of the exiting instruction (instruction exits). */
    readonly instructionLength = 0,
    /** The exception/NMI/interrupt that exited (reason 0/1). */
    readonly event?: VmExitEvent,
    /** The delivery this exit interrupted (set by deliverEvent's catch, see `during`). */
    readonly delivering?: DeliveringEvent,
    /** EPT violations: the addresses. */
    readonly guestLinearAddress?: bigint,
    readonly guestPhysicalAddress?: bigint,
    /** Words for the stop reason (triple fault: the chain of events). */
    readonly detail?: string,
    /**
     * Raised while delivering a software event of a guest instruction (INT n, INT3, INT1, SYSCALL…),
     * not an injected one: that instruction retires once the delivery completes (the machine's
     * instruction count; not architectural state).
     */
    readonly softwareInstruction = false,
  ) {}

  /** The same exit, raised while delivering `ev` (it becomes IDT-vectoring information). */
  during(ev: DeliveringEvent): VmExit {
    return new VmExit(this.basicReason, this.qualification, this.instructionLength, this.event, ev,
      this.guestLinearAddress, this.guestPhysicalAddress, this.detail, this.softwareInstruction);
  }

  /** The same exit, raised while delivering the software event of a guest instruction. */
  fromSoftwareInstruction(): VmExit {
    return new VmExit(this.basicReason, this.qualification, this.instructionLength, this.event, this.delivering,
      this.guestLinearAddress, this.guestPhysicalAddress, this.detail, true);
  }
}

/** The questions the executors ask; each answer is a VmExit to throw, or undefined to carry on. */
export interface VmxIntercepts {
  cpuid(length: number): VmExit;
  vmcall(length: number): VmExit;
  hlt(length: number): VmExit | undefined;
  msr(index: number, write: boolean, length: number): VmExit | undefined;
  crWrite(cr: 0 | 3 | 4 | 8, gpr: number, value: bigint, length: number): VmExit | undefined;
  crRead(cr: 0 | 3 | 4 | 8, gpr: number, length: number): VmExit | undefined;
  /** What MOV from CR0/CR4 returns (read shadows of host-owned bits). */
  crValue(cr: 0 | 4, actual: bigint): bigint;
  clts(length: number): VmExit | undefined;
  io(port: number, size: 1 | 2 | 4, input: boolean, length: number, immediate: boolean): VmExit | undefined;
  /**
   * An exception about to be delivered: exits through the exception bitmap. Qualification: #PF the
   * linear address (CR2 is not written), #DB the pending-debug bits (vmx-fred.md §3.10); else 0.
   */
  exception(type: EventType, vector: number, errorCode: number | undefined, nested: boolean, payload?: bigint, instructionLength?: number): VmExit | undefined;
}

/** Bind the decisions of intercepts.ts to a VMCS and the monitor's bitmaps. */
export function createIntercepts(vmcs: Vmcs, msrBitmap: MsrBitmap, ioBitmap: IoBitmap = new IoBitmap()): VmxIntercepts {
  const cr = (type: 'movTo' | 'movFrom' | 'clts', n: number, gpr: number, length: number): VmExit =>
    new VmExit(EXIT.CR_ACCESS, crAccessQualification({ cr: n, type, gpr }), length);
  // Exits without a qualification are the same value for a given length (VmExit is immutable): one
  // object per reason and length keeps the CPUID loop of the benchmark free of allocations here.
  const plain = new Map<number, VmExit>();
  const exitOf = (reason: number, length: number): VmExit => {
    const key = reason * 16 + (length & 15);
    let e = plain.get(key);
    if (e === undefined) plain.set(key, (e = new VmExit(reason, 0n, length)));
    return e;
  };
  return {
    cpuid: (length) => exitOf(EXIT.CPUID, length),
    vmcall: (length) => exitOf(EXIT.VMCALL, length),
    hlt: (length) => (instructionCausesExit(vmcs, 'HLT') ? exitOf(EXIT.HLT, length) : undefined),
    msr: (index, write, length) => (msrAccessCausesExit(vmcs, msrBitmap, index, write)
      ? new VmExit(write ? EXIT.MSR_WRITE : EXIT.MSR_READ, 0n, length) : undefined),
    crWrite: (n, gpr, value, length) => (crWriteCausesExit(vmcs, n, value) ? cr('movTo', n, gpr, length) : undefined),
    crRead: (n, gpr, length) => (crReadCausesExit(vmcs, n) ? cr('movFrom', n, gpr, length) : undefined),
    crValue: (n, actual) => crReadValue(vmcs, n, actual),
    clts: (length) => (cltsCausesExit(vmcs) ? cr('clts', 0, 0, length) : undefined),
    io: (port, size, input, length, immediate) => (ioCausesExit(vmcs, ioBitmap, port, size)
      ? new VmExit(EXIT.IO_INSTRUCTION, ioQualification({ port, size, in: input, immediate }), length) : undefined),
    exception: (type, vector, errorCode, nested, payload = 0n, instructionLength = 0) => {
      if (!exceptionCausesExit(vmcs, vector, errorCode ?? 0)) return undefined;
      const qualification = vector === 14 || vector === 1 ? BigInt.asUintN(64, payload) : 0n;
      // Software exceptions (INT3, INTO, ICEBP) report their length (SDM §28.2.4 VM-exit instruction length).
      return new VmExit(EXIT.EXCEPTION_NMI, qualification, type >= 4 ? instructionLength : 0, { type, vector, errorCode, nested });
    },
  };
}
