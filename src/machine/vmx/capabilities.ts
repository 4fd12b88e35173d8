// The VMX capability MSRs this CPU reports (SDM Vol. 3D Appendix A; vmx-fred.md §1.4, §1.15, §4):
// what the simulated processor supports, hence what VM entry accepts. With FRED exposed:
// IA32_VMX_BASIC[58] (nested-exception bit 13), VM-exit control 31 (activate secondary controls),
// IA32_VMX_EXIT_CTLS2 = 3 (save/load FRED state), VM-entry control 23 (load FRED state) and
// CR4_FIXED1 bit 32. The controls offered are the ones the emulator implements.
import {
  CONTROL_FIELD_LAYOUTS, CR0_BITS, CR4_BITS, CR4_FIELDS, ENTRY_CONTROLS, PIN_BASED_CONTROLS, PRIMARY_EXIT_CONTROLS,
  PRIMARY_PROC_CONTROLS, SECONDARY_PROC_CONTROLS, VMCS_FIELDS, findField, insertField, layoutMask, msrByIndex,
  msrByName, vmcsIndexOf, EPT_VPID_CAP_BITS, VMX_MISC_BITS, VMX_MISC_FIELDS, type BitLayout,
} from '../../arch/index';

/** Mask of the named controls of a layout (a typo throws when the module loads). */
function controlMask(layout: BitLayout, names: readonly string[]): bigint {
  let m = 0n;
  for (const n of names) {
    const f = findField(layout, n);
    if (!f) throw new RangeError(`unknown control '${n}'`);
    m |= 1n << BigInt(f.lsb);
  }
  return m;
}

function default1(field: string): bigint {
  return CONTROL_FIELD_LAYOUTS.find((c) => c.field === field)!.default1;
}

/** IA32_VMX_BASIC fields beyond src/arch's named bits that we fill (SDM A.1). */
export const VMCS_REVISION_ID = 1n;
export const VMCS_REGION_SIZE = 0x1000n;
const MEMORY_TYPE_WB = 6n;


/** Controls this CPU can set (allowed-1 beyond the default-1 class). */
const OFFERED = {
  pin: controlMask(PIN_BASED_CONTROLS, ['PIN_BASED_EXT_INTR_MASK', 'PIN_BASED_NMI_EXITING', 'PIN_BASED_VIRTUAL_NMIS']),
  proc: controlMask(PRIMARY_PROC_CONTROLS, [
    'CPU_BASED_INTR_WINDOW_EXITING', 'CPU_BASED_USE_TSC_OFFSETTING', 'CPU_BASED_HLT_EXITING', 'CPU_BASED_INVLPG_EXITING',
    'CPU_BASED_MWAIT_EXITING', 'CPU_BASED_RDPMC_EXITING', 'CPU_BASED_RDTSC_EXITING', 'CPU_BASED_CR3_LOAD_EXITING',
    'CPU_BASED_CR3_STORE_EXITING', 'CPU_BASED_CR8_LOAD_EXITING', 'CPU_BASED_CR8_STORE_EXITING',
    'CPU_BASED_NMI_WINDOW_EXITING', 'CPU_BASED_MOV_DR_EXITING', 'CPU_BASED_UNCOND_IO_EXITING', 'CPU_BASED_USE_IO_BITMAPS',
    'CPU_BASED_MONITOR_TRAP_FLAG', 'CPU_BASED_USE_MSR_BITMAPS', 'CPU_BASED_MONITOR_EXITING', 'CPU_BASED_PAUSE_EXITING',
    'CPU_BASED_ACTIVATE_SECONDARY_CONTROLS',
  ]),
  proc2: controlMask(SECONDARY_PROC_CONTROLS, [
    'SECONDARY_EXEC_ENABLE_EPT', 'SECONDARY_EXEC_DESC', 'SECONDARY_EXEC_ENABLE_RDTSCP', 'SECONDARY_EXEC_ENABLE_VPID',
    'SECONDARY_EXEC_WBINVD_EXITING', 'SECONDARY_EXEC_UNRESTRICTED_GUEST', 'SECONDARY_EXEC_ENABLE_INVPCID',
  ]),
  exit: controlMask(PRIMARY_EXIT_CONTROLS, [
    'VM_EXIT_SAVE_DEBUG_CONTROLS', 'VM_EXIT_HOST_ADDR_SPACE_SIZE', 'VM_EXIT_ACK_INTR_ON_EXIT', 'VM_EXIT_SAVE_IA32_PAT',
    'VM_EXIT_LOAD_IA32_PAT', 'VM_EXIT_SAVE_IA32_EFER', 'VM_EXIT_LOAD_IA32_EFER',
  ]),
  entry: controlMask(ENTRY_CONTROLS, [
    'VM_ENTRY_LOAD_DEBUG_CONTROLS', 'VM_ENTRY_IA32E_MODE', 'VM_ENTRY_LOAD_IA32_PAT', 'VM_ENTRY_LOAD_IA32_EFER',
  ]),
};
const EXIT_ACTIVATE_SECONDARY = controlMask(PRIMARY_EXIT_CONTROLS, ['VM_EXIT_ACTIVATE_SECONDARY_CONTROLS']);
const ENTRY_LOAD_FRED = controlMask(ENTRY_CONTROLS, ['VM_ENTRY_LOAD_IA32_FRED']);

/** Default-1 bits that the TRUE_* MSRs allow to be 0 (SDM A.2–A.5: CR3-load/store exiting, save/load debug controls). */
const TRUE_MAY_CLEAR = {
  proc: controlMask(PRIMARY_PROC_CONTROLS, ['CPU_BASED_CR3_LOAD_EXITING', 'CPU_BASED_CR3_STORE_EXITING']),
  exit: controlMask(PRIMARY_EXIT_CONTROLS, ['VM_EXIT_SAVE_DEBUG_CONTROLS']),
  entry: controlMask(ENTRY_CONTROLS, ['VM_ENTRY_LOAD_DEBUG_CONTROLS']),
};

/** A 32-bit control capability: allowed-0 settings in bits 31:0, allowed-1 in 63:32. */
function ctl(allowed0: bigint, allowed1: bigint): bigint {
  return (allowed1 << 32n) | allowed0;
}

export interface VmxCapabilityOptions {
  /** Expose FRED (default true). */
  readonly fred?: boolean;
  /** Report IA32_VMX_BASIC[56]: no error-code consistency check on injected hardware exceptions (default true). */
  readonly noErrorCodeCheck?: boolean;
  /** Report IA32_VMX_MISC[30]: software events may be injected with instruction length 0 (default false). */
  readonly zeroLengthInjection?: boolean;
  /** MAXPHYADDR (default 52, ARCHITECTURE's CPU has no narrower physical address width). */
  readonly physicalAddressBits?: number;
}

/** The capability MSRs by index, plus the facts the entry checks use. */
export interface VmxCapabilities {
  readonly fred: boolean;
  readonly physicalAddressBits: number;
  /** IA32_VMX_* MSR values by index (0x480–0x493). Plain data: a variant is `{ ...caps, msrs: new Map(…) }`. */
  readonly msrs: ReadonlyMap<number, bigint>;
}

/** Value of a capability MSR by name (`IA32_VMX_BASIC`) or index; throws on one that is not a capability MSR. */
export function capabilityMsr(caps: VmxCapabilities, msr: string | number): bigint {
  const def = typeof msr === 'number' ? msrByIndex(msr) : msrByName(msr);
  const v = def ? caps.msrs.get(def.index) : undefined;
  if (v === undefined) throw new RangeError(`'${msr}' is not a VMX capability MSR`);
  return v;
}

/** Build the capability MSRs of this CPU. */
export function vmxCapabilities(options: VmxCapabilityOptions = {}): VmxCapabilities {
  const fred = options.fred ?? true;
  const physicalAddressBits = options.physicalAddressBits ?? 52;
  const basic = VMCS_REVISION_ID | (VMCS_REGION_SIZE << 32n) | (MEMORY_TYPE_WB << 50n)
    | (1n << 54n) // INS/OUTS instruction information
    | (1n << 55n) // TRUE_CTLS
    | ((options.noErrorCodeCheck ?? true) ? 1n << 56n : 0n)
    | (fred ? 1n << 58n : 0n);
  const pin0 = default1('PIN_BASED_VM_EXEC_CONTROL');
  const proc0 = default1('CPU_BASED_VM_EXEC_CONTROL');
  const exit0 = default1('VM_EXIT_CONTROLS');
  const entry0 = default1('VM_ENTRY_CONTROLS');
  const exit1 = exit0 | OFFERED.exit | (fred ? EXIT_ACTIVATE_SECONDARY : 0n);
  const entry1 = entry0 | OFFERED.entry | (fred ? ENTRY_LOAD_FRED : 0n);
  const misc = 5n // preemption-timer rate (KVM's emulated value)
    | VMX_MISC_BITS.SAVE_EFER_LMA | VMX_MISC_BITS.ACTIVITY_HLT
    | insertField(findField(VMX_MISC_FIELDS, 'CR3_TARGETS')!, 0n, 4n) // CR3-target values
    | (options.zeroLengthInjection ? VMX_MISC_BITS.ZERO_LENGTH_INJECTION : 0n);
  const cr4Supported = layoutMask(CR4_FIELDS) & ~(fred ? 0n : CR4_BITS.FRED);
  // Highest index of any supported encoding (SDM A.9: IA32_VMX_VMCS_ENUM bits 9:1).
  const highestIndex = VMCS_FIELDS.filter((f) => fred || !f.fred).reduce((m, f) => Math.max(m, vmcsIndexOf(f.encoding)), 0);
  const e = EPT_VPID_CAP_BITS;
  const values: [string, bigint][] = [
    ['IA32_VMX_BASIC', basic],
    ['IA32_VMX_PINBASED_CTLS', ctl(pin0, pin0 | OFFERED.pin)],
    ['IA32_VMX_PROCBASED_CTLS', ctl(proc0, proc0 | OFFERED.proc)],
    ['IA32_VMX_EXIT_CTLS', ctl(exit0, exit1)],
    ['IA32_VMX_ENTRY_CTLS', ctl(entry0, entry1)],
    ['IA32_VMX_MISC', misc],
    ['IA32_VMX_CR0_FIXED0', CR0_BITS.PE | CR0_BITS.NE | CR0_BITS.PG],
    ['IA32_VMX_CR0_FIXED1', 0xffff_ffffn],
    ['IA32_VMX_CR4_FIXED0', CR4_BITS.VMXE],
    ['IA32_VMX_CR4_FIXED1', cr4Supported],
    ['IA32_VMX_VMCS_ENUM', BigInt(highestIndex) << 1n],
    ['IA32_VMX_PROCBASED_CTLS2', ctl(0n, OFFERED.proc2)],
    ['IA32_VMX_EPT_VPID_CAP', e.EXECUTE_ONLY | e.WALK_LENGTH_4 | e.MEMTYPE_UC | e.MEMTYPE_WB | e.PAGE_2M | e.PAGE_1G | e.INVEPT
      | e.AD_FLAGS | e.INVEPT_SINGLE | e.INVEPT_ALL | e.INVVPID | e.INVVPID_ADDRESS | e.INVVPID_SINGLE | e.INVVPID_ALL
      | e.INVVPID_SINGLE_GLOBALS],
    ['IA32_VMX_TRUE_PINBASED_CTLS', ctl(pin0, pin0 | OFFERED.pin)],
    ['IA32_VMX_TRUE_PROCBASED_CTLS', ctl(proc0 & ~TRUE_MAY_CLEAR.proc, proc0 | OFFERED.proc)],
    ['IA32_VMX_TRUE_EXIT_CTLS', ctl(exit0 & ~TRUE_MAY_CLEAR.exit, exit1)],
    ['IA32_VMX_TRUE_ENTRY_CTLS', ctl(entry0 & ~TRUE_MAY_CLEAR.entry, entry1)],
    ['IA32_VMX_VMFUNC', 0n],
    ['IA32_VMX_PROCBASED_CTLS3', 0n],
    ['IA32_VMX_EXIT_CTLS2', fred ? 3n : 0n],
  ];
  const msrs = new Map<number, bigint>(values.map(([name, v]) => [msrByName(name)!.index, v]));
  return { fred, physicalAddressBits, msrs };
}

/** Capability MSRs that hold only allowed-1 bits (64-bit controls, SDM A.3.4, vmx-fred.md §1.4). */
export const ALLOWED1_ONLY_CAPABILITIES: ReadonlySet<string> = new Set(['IA32_VMX_PROCBASED_CTLS3', 'IA32_VMX_EXIT_CTLS2']);

export interface ControlCheck {
  readonly ok: boolean;
  /** Bits that must be 1 (allowed-0 = 1) but are 0 in the value. */
  readonly missing: bigint;
  /** Bits that are 1 in the value but not allowed to be 1. */
  readonly notAllowed: bigint;
}

/**
 * Is `value` a legal setting of the controls governed by capability MSR `capMsr` (name or index)?
 * 32-bit control MSRs: (value & allowed0) = allowed0 and (value & ~allowed1) = 0; the 64-bit
 * allowed-1-only MSRs (0x492, 0x493): value & ~cap = 0 (vmx-fred.md §1.4).
 */
export function controlAllowed(caps: VmxCapabilities, capMsr: string | number, value: bigint): ControlCheck {
  const cap = capabilityMsr(caps, capMsr);
  const v = BigInt.asUintN(64, value);
  if (ALLOWED1_ONLY_CAPABILITIES.has((typeof capMsr === 'number' ? msrByIndex(capMsr) : msrByName(capMsr))!.name)) {
    const notAllowed = v & ~cap;
    return { ok: notAllowed === 0n, missing: 0n, notAllowed };
  }
  const allowed0 = cap & 0xffff_ffffn;
  const allowed1 = cap >> 32n;
  const missing = allowed0 & ~v;
  const notAllowed = v & ~allowed1;
  return { ok: missing === 0n && notAllowed === 0n, missing, notAllowed };
}
