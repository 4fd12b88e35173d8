// The VMCS store: one value per field of src/arch's VMCS table, with VMREAD/VMWRITE semantics
// (SDM Vol. 3C §25.11.2 field encodings, Vol. 2B VMREAD/VMWRITE; vmx-fred.md §1.2, §3.1):
// - 16/32-bit fields: VMWRITE keeps the low 16/32 bits of the source, VMREAD zero-extends;
// - 64-bit fields: full access reads/writes all 64 bits; the high access (encoding + 1) reads
//   bits 63:32 zero-extended and writes them from the source's low 32 bits, leaving 31:0 alone;
// - natural-width fields are 64 bits on this 64-bit CPU;
// - an encoding that names no supported field → VM-instruction error 12 (FRED encodings count as
//   unsupported when FRED is not exposed, BX-VMCS); VMWRITE to a read-only exit-information field →
//   error 13 (this CPU reports IA32_VMX_MISC[29] = 0).
// The monitor and the simulated CPU use `get`/`set`/`field` by name, which are not VMX
// instructions: `set` writes exit-information fields too (the CPU fills them on VM exit).
import { VMCS_FIELDS, vmcsFieldBits, vmcsFieldByEncoding, vmcsFieldByName, type VmcsFieldDef } from '../../arch/index';

/** VM-instruction errors a VMREAD/VMWRITE can report (SDM Vol. 3C §31.4). */
export const VMERR_UNSUPPORTED_COMPONENT = 12;
export const VMERR_VMWRITE_READ_ONLY = 13;

export type VmcsAccessResult =
  | { readonly ok: true; readonly value: bigint }
  | { readonly ok: false; readonly error: 12 | 13; readonly message: string };

export interface VmcsOptions {
  /** Is FRED exposed (CPUID FRED, VMX FRED controls)? Otherwise the 19 FRED encodings are unsupported. */
  readonly fred: boolean;
}

/** Plain data for snapshots: the value of every field by name, plus the FRED exposure. */
export interface VmcsSnapshot {
  readonly fred: boolean;
  readonly values: Readonly<Record<string, bigint>>;
}

/** A field resolved once by name: fast get/set for the monitor's hot paths. */
export interface VmcsFieldHandle {
  readonly def: VmcsFieldDef;
  get(): bigint;
  set(value: bigint): void;
}

const MASK32 = 0xffff_ffffn;
const slotOf = new Map<VmcsFieldDef, number>(VMCS_FIELDS.map((f, i) => [f, i]));
const widthMask = VMCS_FIELDS.map((f) => (1n << BigInt(vmcsFieldBits(f))) - 1n);

/** The storage slot of a full field by name, resolved once (for `read`/`write` on hot paths). */
export function vmcsSlot(name: string): number {
  const ref = vmcsFieldByName(name);
  if (!ref || ref.high) throw new RangeError(`vmcsSlot: '${name}' is not a full VMCS field`);
  return slotOf.get(ref.field)!;
}

function hex(n: number | bigint): string {
  return `0x${n.toString(16)}`;
}

/** Guest-state fields (the monitor keeps them lazily in the vCPU between exits, see monitor.ts). */
const isGuestSlot = VMCS_FIELDS.map((f) => f.group.startsWith('guest'));

/**
 * Observer of accesses to the guest-state area: the monitor keeps the guest state in the emulated CPU
 * and copies it into the VMCS only when someone looks (SDM-visible contents are the same).
 */
export interface GuestStateObserver {
  beforeGuestRead(): void;
  afterWrite(guest: boolean): void;
}

export class Vmcs {
  readonly fred: boolean;
  private readonly values = new BigUint64Array(VMCS_FIELDS.length);
  /** Set by the monitor; undefined for a stand-alone VMCS. */
  observer: GuestStateObserver | undefined = undefined;
  private readonly names = new Map<string, { slot: number; high: boolean }>();

  constructor(options: VmcsOptions) {
    this.fred = options.fred;
  }

  /** Is this field part of the VMCS of this CPU (FRED fields only when FRED is exposed)? */
  supports(def: VmcsFieldDef): boolean {
    return this.fred || !def.fred;
  }

  /** VMREAD by encoding. */
  vmread(encoding: number): VmcsAccessResult {
    const ref = this.resolve(encoding);
    if (!ref.ok) return ref;
    const slot = slotOf.get(ref.field)!;
    if (isGuestSlot[slot]) this.observer?.beforeGuestRead();
    const full = this.values[slot]!;
    return { ok: true, value: ref.high ? full >> 32n : full };
  }

  /** VMWRITE by encoding; the source is truncated to the field's width (SDM VMWRITE). */
  vmwrite(encoding: number, source: bigint): VmcsAccessResult {
    const ref = this.resolve(encoding);
    if (!ref.ok) return ref;
    if (ref.field.type === 'exitInformation') {
      return { ok: false, error: VMERR_VMWRITE_READ_ONLY, message: `VMWRITE to read-only field ${ref.field.name} (${hex(encoding)})` };
    }
    const slot = slotOf.get(ref.field)!;
    const src = BigInt.asUintN(64, source);
    if (isGuestSlot[slot]) this.observer?.beforeGuestRead();
    const value = ref.high ? (this.values[slot]! & MASK32) | ((src & MASK32) << 32n) : src & widthMask[slot]!;
    this.values[slot] = value;
    this.observer?.afterWrite(isGuestSlot[slot]!);
    return { ok: true, value };
  }

  /** The value of a field by name (`<NAME>_HIGH` reads bits 63:32). Throws on an unknown or unsupported name. */
  get(name: string): bigint {
    const { slot, high } = this.slotByName(name);
    if (isGuestSlot[slot]) this.observer?.beforeGuestRead();
    const v = this.values[slot]!;
    return high ? v >> 32n : v;
  }

  /** Set a field by name (monitor/CPU side: read-only exit-information fields included), truncated to its width. */
  set(name: string, value: bigint): void {
    const { slot, high } = this.slotByName(name);
    if (isGuestSlot[slot] && this.observer) this.observer.beforeGuestRead();
    const v = BigInt.asUintN(64, value);
    this.values[slot] = high ? (this.values[slot]! & MASK32) | ((v & MASK32) << 32n) : v & widthMask[slot]!;
    this.observer?.afterWrite(isGuestSlot[slot]!);
  }

  /**
   * Resolve a field once (throws on an unknown name, so a typo fails when the caller is built). Handles
   * are the monitor's own access path: they bypass the guest-state observer.
   */
  field(name: string): VmcsFieldHandle {
    const { slot, high } = this.slotByName(name);
    if (high) throw new RangeError(`field handles take the full field, not '${name}'`);
    const values = this.values;
    const mask = widthMask[slot]!;
    return {
      def: VMCS_FIELDS[slot]!,
      get: () => values[slot]!,
      set: (value: bigint) => { values[slot] = BigInt.asUintN(64, value) & mask; },
    };
  }

  save(): VmcsSnapshot {
    this.observer?.beforeGuestRead();
    const values: Record<string, bigint> = {};
    VMCS_FIELDS.forEach((f, i) => { if (this.supports(f)) values[f.name] = this.values[i]!; });
    return { fred: this.fred, values };
  }

  /** Restore a snapshot taken from a VMCS with the same FRED exposure; fields it lacks become 0. */
  restore(snapshot: VmcsSnapshot): void {
    if (snapshot.fred !== this.fred) {
      throw new RangeError(`VMCS snapshot was taken with FRED ${snapshot.fred ? 'exposed' : 'hidden'}, this VMCS has it ${this.fred ? 'exposed' : 'hidden'}`);
    }
    VMCS_FIELDS.forEach((f, i) => {
      const v = snapshot.values[f.name];
      this.values[i] = this.supports(f) && v !== undefined ? BigInt.asUintN(64, v) & widthMask[i]! : 0n;
    });
  }

  private resolve(encoding: number):
    | { ok: true; field: VmcsFieldDef; high: boolean }
    | { ok: false; error: 12; message: string } {
    const ref = Number.isInteger(encoding) && encoding >= 0 && encoding <= 0xffff_ffff ? vmcsFieldByEncoding(encoding) : undefined;
    if (!ref) return { ok: false, error: VMERR_UNSUPPORTED_COMPONENT, message: `unsupported VMCS component ${hex(encoding)}` };
    if (!this.supports(ref.field)) {
      return { ok: false, error: VMERR_UNSUPPORTED_COMPONENT, message: `${ref.field.name} (${hex(encoding)}) exists only when FRED is exposed` };
    }
    return { ok: true, field: ref.field, high: ref.high };
  }

  private slotByName(name: string): { slot: number; high: boolean } {
    const known = this.names.get(name);
    if (known) return known;
    const ref = vmcsFieldByName(name);
    if (!ref) throw new RangeError(`unknown VMCS field '${name}'`);
    if (!this.supports(ref.field)) throw new RangeError(`VMCS field ${ref.field.name} exists only when FRED is exposed`);
    const resolved = { slot: slotOf.get(ref.field)!, high: ref.high };
    this.names.set(name, resolved);
    return resolved;
  }

  /**
   * The value in a slot (vmcsSlot) without the guest-state observer: the CPU's and the monitor's own
   * accesses (exit recording, trace records), never VMREAD semantics for software.
   */
  read(slot: number): bigint {
    return this.values[slot]!;
  }

  /** Write a slot (vmcsSlot) truncated to the field's width, without the observer (see `read`). */
  write(slot: number, value: bigint): void {
    const mask = widthMask[slot]!;
    this.values[slot] = value >= 0n && value <= mask ? value : BigInt.asUintN(64, value) & mask;
  }

  /** Raw copy of every value (monitor snapshots; no observer involved). */
  saveRaw(): BigUint64Array {
    return this.values.slice();
  }

  restoreRaw(values: BigUint64Array): void {
    this.values.set(values);
  }
}
