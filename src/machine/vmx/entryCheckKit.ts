// The pieces every VM-entry check family is built from (SDM Vol. 3C §27.2–§27.4): a check is data —
// an id, the rule in words with its citation, the VMCS field it reports, when it applies and what
// must hold — evaluated against a read-only view of the VMCS (`EntryContext`). Generators turn the
// repetitive SDM rules (capability MSR allowed-0/allowed-1 settings, MSR values loaded from the VMCS,
// address alignment) into checks so no rule is written twice.
import {
  ACCESS_RIGHTS_FIELDS, CR0_BITS, ENTRY_CONTROLS, PIN_BASED_CONTROLS, PRIMARY_EXIT_CONTROLS, PRIMARY_PROC_CONTROLS,
  SECONDARY_EXIT_CONTROLS, SECONDARY_PROC_CONTROLS, checkMsrWrite, decodeInterruptionInfo, fieldMasks, isCanonical,
  msrByName, type InterruptionInfo, type MsrWriteRule,
} from '../../arch/index';
import { ALLOWED1_ONLY_CAPABILITIES, capabilityMsr, controlAllowed, type VmxCapabilities } from './capabilities';
import type { Vmcs } from './vmcs';

export const PIN = fieldMasks(PIN_BASED_CONTROLS);
export const PROC = fieldMasks(PRIMARY_PROC_CONTROLS);
export const PROC2 = fieldMasks(SECONDARY_PROC_CONTROLS);
export const EXIT = fieldMasks(PRIMARY_EXIT_CONTROLS);
export const EXIT2 = fieldMasks(SECONDARY_EXIT_CONTROLS);
export const ENTRY = fieldMasks(ENTRY_CONTROLS);
export const AR = fieldMasks(ACCESS_RIGHTS_FIELDS);

export interface EntryEnvironment {
  /** Is the processor executing VMLAUNCH/VMRESUME in IA-32e mode? (default true: the monitor is 64-bit) */
  readonly hostIa32e?: boolean;
  /** Reads 8 bytes of physical memory for the VM-entry MSR-load area (SDM §27.4); without it a
   *  non-empty area cannot be loaded and the entry fails with exit reason 34. */
  readPhysical64?(address: bigint): bigint;
}

/** A read-only view of the VMCS with the derived facts the checks share. */
export class EntryContext {
  readonly pin: bigint;
  readonly proc: bigint;
  /** Secondary controls as VM entry uses them: 0 unless "activate secondary controls" (SDM §25.6.2). */
  readonly proc2: bigint;
  readonly exit: bigint;
  /** Secondary exit controls: 0 unless exit control 31 (vmx-fred.md §1.3). */
  readonly exit2: bigint;
  readonly entry: bigint;
  readonly ia32eGuest: boolean;
  readonly hostAddressSpace: boolean;
  readonly unrestricted: boolean;
  readonly hostIa32e: boolean;
  /** The VM-entry interruption information, decoded. */
  readonly event: InterruptionInfo;

  constructor(readonly vmcs: Vmcs, readonly caps: VmxCapabilities, readonly env: EntryEnvironment) {
    this.pin = vmcs.get('PIN_BASED_VM_EXEC_CONTROL');
    this.proc = vmcs.get('CPU_BASED_VM_EXEC_CONTROL');
    this.proc2 = (this.proc & PROC.CPU_BASED_ACTIVATE_SECONDARY_CONTROLS) !== 0n ? vmcs.get('SECONDARY_VM_EXEC_CONTROL') : 0n;
    this.exit = vmcs.get('VM_EXIT_CONTROLS');
    this.exit2 = vmcs.fred && (this.exit & EXIT.VM_EXIT_ACTIVATE_SECONDARY_CONTROLS) !== 0n ? vmcs.get('SECONDARY_VM_EXIT_CONTROLS') : 0n;
    this.entry = vmcs.get('VM_ENTRY_CONTROLS');
    this.ia32eGuest = (this.entry & ENTRY.VM_ENTRY_IA32E_MODE) !== 0n;
    this.hostAddressSpace = (this.exit & EXIT.VM_EXIT_HOST_ADDR_SPACE_SIZE) !== 0n;
    this.unrestricted = (this.proc2 & PROC2.SECONDARY_EXEC_UNRESTRICTED_GUEST) !== 0n;
    this.hostIa32e = env.hostIa32e ?? true;
    this.event = decodeInterruptionInfo(vmcs.get('VM_ENTRY_INTR_INFO_FIELD'));
  }

  get(name: string): bigint {
    return this.vmcs.get(name);
  }

  cap(name: string): bigint {
    return capabilityMsr(this.caps, name);
  }

  /** Is the event to inject of this type (and valid)? */
  injecting(type: number): boolean {
    return this.event.valid && this.event.type === type;
  }

  /** Guest CR0.PE, or the unrestricted-guest exemption does not apply (SDM §27.2.1.3 error-code rule). */
  protectedModeGuest(): boolean {
    return !this.unrestricted || (this.get('GUEST_CR0') & CR0_BITS.PE) !== 0n;
  }

  /** Guest segment access rights (`CS`, `SS`, …) and whether the segment is usable (AR bit 16 clear). */
  ar(seg: string): bigint {
    return this.get(`GUEST_${seg}_AR_BYTES`);
  }

  usable(seg: string): boolean {
    return (this.ar(seg) & AR.UNUSABLE) === 0n;
  }

  dpl(seg: string): bigint {
    return (this.ar(seg) & AR.DPL) >> 5n;
  }

  /** Does `value` fit the processor's physical-address width? */
  physical(value: bigint): boolean {
    return value >> BigInt(this.caps.physicalAddressBits) === 0n;
  }
}

/** One VM-entry check. */
export interface EntryCheck {
  /** Stable identifier (`guest.fred.ssDpl`), used by the tests and the trace. */
  readonly id: string;
  /** The rule in words with its source (SDM section and/or vmx-fred.md item). */
  readonly rule: string;
  /** The VMCS field whose value is reported. */
  readonly field: string;
  /** The check applies only when this holds (default: always). */
  readonly when?: (x: EntryContext) => boolean;
  /** What must hold for the field's value `v`. */
  readonly holds: (v: bigint, x: EntryContext) => boolean;
  /** Exit qualification of a guest-state failure (SDM §27.8: 3 NMI injection vs. STI blocking, 4 VMCS link pointer). */
  readonly qualification?: number;
}

export const canonical = (v: bigint): boolean => isCanonical(v);
export const high32Clear = (v: bigint): boolean => v >> 32n === 0n;
export const bitSet = (v: bigint, mask: bigint): boolean => (v & mask) !== 0n;

/**
 * The allowed-0 and allowed-1 checks of a control field against its capability MSR (SDM §27.2.1.1–
 * §27.2.1.3, Appendix A). An allowed-0 check is generated only when the MSR can require a 1.
 */
export function capabilityChecks(idBase: string, field: string, capMsr: string, section: string,
  when?: (x: EntryContext) => boolean): EntryCheck[] {
  const out: EntryCheck[] = [];
  if (!ALLOWED1_ONLY_CAPABILITIES.has(capMsr)) out.push({
    id: `${idBase}.allowed0`, field, when,
    rule: `${field}: every bit that is 1 in the allowed-0 settings of ${capMsr} (bits 31:0) must be 1 (SDM ${section}, Appendix A)`,
    holds: (v, x) => controlAllowed(x.caps, capMsr, v).missing === 0n,
  });
  out.push({
    id: `${idBase}.allowed1`, field, when,
    rule: `${field}: a bit may be 1 only if ${capMsr} allows it (allowed-1 settings) (SDM ${section}, Appendix A)`,
    holds: (v, x) => controlAllowed(x.caps, capMsr, v).notAllowed === 0n,
  });
  return out;
}

function describeRule(rule: MsrWriteRule): string {
  switch (rule.kind) {
    case 'readOnly': return 'not writable';
    case 'reserved': return `reserved bits (mask 0x${rule.mask.toString(16)}) 0`;
    case 'canonical': return 'canonical';
    case 'aligned': return `bits ${rule.bits === 1 ? '0' : `${rule.bits - 1}:0`} 0`;
    case 'memoryTypes': return 'every byte a valid memory type (0, 1, 4, 5, 6, 7)';
  }
}

/**
 * A guest/host field that holds an MSR must pass that MSR's WRMSR checks from src/arch (the VMCS
 * table names the MSR; checkMsrWrite holds the rules). Fields whose MSR has no rules yield no check.
 */
export function msrValueChecks(idBase: string, fields: readonly { name: string; msr?: string }[], citation: string,
  when: (x: EntryContext) => boolean): EntryCheck[] {
  return fields.flatMap((f) => {
    const def = f.msr ? msrByName(f.msr) : undefined;
    if (!def || def.rules.length === 0) return [];
    return [{
      id: `${idBase}.${f.name}`, field: f.name, when,
      rule: `${f.name} must be a value WRMSR ${def.name} accepts: ${def.rules.map(describeRule).join(', ')} (${citation})`,
      holds: (v: bigint) => checkMsrWrite(def, v).ok,
    }];
  });
}

/** A physical address that must be aligned to `alignBits` and fit the physical-address width. */
export function physicalAddressCheck(id: string, field: string, alignBits: number, why: string, section: string,
  when: (x: EntryContext) => boolean): EntryCheck {
  return {
    id, field, when,
    rule: `${field} must be ${1 << alignBits}-byte aligned and within the physical-address width ${why} (SDM ${section})`,
    holds: (v, x) => (v & ((1n << BigInt(alignBits)) - 1n)) === 0n && x.physical(v),
  };
}

/** CR0/CR4 against IA32_VMX_CRn_FIXED0/FIXED1 (bits in `fixed0Exempt` may be 0 anyway). */
export const fixedChecks = (cr: 'CR0' | 'CR4', prefix: 'HOST' | 'GUEST', section: string, when?: (x: EntryContext) => boolean,
  fixed0Exempt: (x: EntryContext) => bigint = () => 0n): EntryCheck[] => [
  {
    id: `${prefix.toLowerCase()}.${cr.toLowerCase()}.fixed0`, field: `${prefix}_${cr}`, when,
    rule: `${prefix}_${cr}: every bit set in IA32_VMX_${cr}_FIXED0 must be 1 (SDM ${section})`,
    holds: (v, x) => (x.cap(`IA32_VMX_${cr}_FIXED0`) & ~fixed0Exempt(x) & ~v) === 0n,
  },
  {
    id: `${prefix.toLowerCase()}.${cr.toLowerCase()}.fixed1`, field: `${prefix}_${cr}`, when,
    rule: `${prefix}_${cr}: every bit clear in IA32_VMX_${cr}_FIXED1 must be 0 (SDM ${section})`,
    holds: (v, x) => (v & ~x.cap(`IA32_VMX_${cr}_FIXED1`)) === 0n,
  },
];
