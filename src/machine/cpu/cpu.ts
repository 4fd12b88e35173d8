// The CPU as the compiled code and the helpers see it: architectural state, the MMU, and the
// machine-level services (ports, device MSRs, trace) it reaches through `SystemBus`.
import type { Trace } from '../trace';
import type { Mmu } from '../memory/mmu';
import type { MsrReadResult, MsrWriteResult, PortSize } from '../devices/types';
import { AC, IF } from './flags';
import { CpuState } from './state';
import { CpuFault } from '../events/fault';
import type { DecodedInsn } from './decode';
import type { VmExit, VmxIntercepts } from '../vmx/exitSignal';
import { INTEGER_HELPERS, type Helper } from './exec/integer';
import { STRING_HELPERS } from './exec/strings';
import { SYSTEM_HELPERS, farBranch } from './exec/system';

const HELPERS: Partial<Record<number, Helper>> = { ...STRING_HELPERS, ...INTEGER_HELPERS };

/** SYSTEM_HELPERS as a dense array: mnemonic numbers are sparse, and an object keyed by them is a hash table. */
let systemTable: (Helper | undefined)[] | undefined;

/** The system-instruction executor for a mnemonic (undefined for other mnemonics). */
export function systemHelper(mnemonic: number): Helper {
  let table = systemTable;
  if (table === undefined) {
    const helpers = SYSTEM_HELPERS as Partial<Record<number, Helper>>;
    const size = Math.max(...Object.keys(helpers).map(Number)) + 1;
    table = Array.from({ length: size }, (_, k) => helpers[k]); // packed: no holes
    systemTable = table;
  }
  return table[mnemonic]!;
}

export interface SystemBus {
  portRead(port: number, size: PortSize): number;
  portWrite(port: number, size: PortSize, value: number): void;
  /** x2APIC / APIC-base MSRs; undefined when no device claims the index. */
  deviceMsrRead(index: number): MsrReadResult | undefined;
  deviceMsrWrite(index: number, value: bigint): MsrWriteResult | undefined;
  /** Instructions whose effect the run loop handles (HLT). */
  halt(): void;
}

export class Cpu extends CpuState {
  /** Instructions the current block call may retire (run loop sets it before each call). */
  budget = 0;
  halted = false;
  /** Pending #DB trap bits (DR6 B0–B3, BS) raised during the instruction. */
  pendingDebug = 0;
  /** IA32_TSC = icount + tscOffset. */
  tscOffset = 0n;
  /** Set while the guest runs in VMX non-root operation (docs/vmx.md); undefined on bare metal. */
  vmx: VmxIntercepts | undefined = undefined;
  /**
   * A VM exit raised by the system instruction that ends the current block, signalled without a
   * throw (the hot path of instruction exits): the block counted the instruction, the run loop takes
   * it back and hands the exit to the monitor. RIP stays at the instruction.
   */
  vmExitPending: VmExit | undefined = undefined;
  /** Called when linear→physical translations may have changed (the machine drops translated code). */
  onTranslationChange: () => void = () => {};
  /** Called after a write to DR0–DR7 (the machine re-arms breakpoints). */
  onDebugRegistersChange: () => void = () => {};

  constructor(
    readonly m: Mmu,
    readonly trace: Trace,
    readonly bus: SystemBus,
  ) {
    super();
  }

  /** Re-derive everything the MMU caches from CPL, CR0, CR4, EFER and RFLAGS.AC. */
  syncPrivilege(): void {
    const user = this.cpl === 3;
    const am = this.alignmentMask;
    const ac = (this.flags & AC) !== 0;
    this.m.setPrivilege(user, am && ac && user, ac);
  }

  syncPaging(): void {
    this.m.ctl = {
      cr3: Number(this.cr3 & 0x000f_ffff_ffff_f000n),
      wp: (this.cr0 & 0x10000n) !== 0n,
      nxe: (this.efer & 0x800n) !== 0n,
      smep: (this.cr4 & (1n << 20n)) !== 0n,
      smap: (this.cr4 & (1n << 21n)) !== 0n,
    };
    this.m.flush();
    this.syncPrivilege();
  }

  /** CR3 load: non-global TLB entries go (SDM Vol. 3A §4.10.4.1). */
  syncPagingKeepGlobal(): void {
    this.m.ctl = { ...this.m.ctl, cr3: Number(this.cr3 & 0x000f_ffff_ffff_f000n) };
    this.m.flush((this.cr4 & 0x80n) !== 0n);
  }

  /** Generated code: run a helper-executed instruction. */
  helper(mnemonic: number, d: DecodedInsn, a: number): void {
    HELPERS[mnemonic]!(this, d, a);
  }

  /** Generated code: run a system instruction (it sets rip). */
  system(mnemonic: number, d: DecodedInsn, a: number): void {
    systemHelper(mnemonic)(this, d, a);
  }

  /** Generated code: far JMP/CALL through memory (system block). */
  far(d: DecodedInsn, a: number): void {
    farBranch(this, d, a);
  }

  /** Generated code: build a fault to throw. */
  fault(vector: number, errorCode: number | undefined, detail: string): CpuFault {
    return new CpuFault(vector, errorCode, undefined, detail);
  }

  get interruptsEnabled(): boolean {
    return (this.flags & IF) !== 0;
  }

  /** Current code size for decoding: 64 in 64-bit mode, else 32 (compatibility mode, CS.D = 1). */
  get bitness(): 64 | 32 {
    return this.long64 ? 64 : 32;
  }
}
