// The extension's one view of src/arch's tables: which built-in names exist (for the generated
// grammar) and what each one is (for hovers). It copies no architectural fact; it only looks names
// up in the assembler's constant table and its docs (src/arch/constants.ts), MSRS and VMCS_FIELDS. No `vscode` import, so the grammar generator and the unit tests can load it.
import {
  assemblerConstantDocs, assemblerConstants, bitRangeText, MSRS, VMCS_FIELDS, VMCS_GROUP_TITLES, type MsrDef, type VmcsFieldDef,
} from '../arch/index';

export interface ArchConstantNames {
  readonly msr: readonly string[];
  /** VMCS field names, including the `_HIGH` names of the high halves of 64-bit fields. */
  readonly vmcs: readonly string[];
  /** Every other built-in constant of the assembler (bits, event types, vectors, …). */
  readonly other: readonly string[];
}

/** MSRs by name and by alias (IA32_FRED_SSP0 is IA32_PL0_SSP). */
const msrByName = new Map<string, MsrDef>(MSRS.flatMap((m) => [m.name, ...m.aliases].map((n) => [n, m] as const)));
const vmcsByName = new Map<string, VmcsFieldDef>(VMCS_FIELDS.map((f) => [f.name, f]));

/** The VMCS field a constant names: `GUEST_RIP`, or `GUEST_IA32_PAT_HIGH` for the high half. */
function vmcsField(name: string): { field: VmcsFieldDef; high: boolean } | undefined {
  const field = vmcsByName.get(name);
  if (field) return { field, high: false };
  const low = name.endsWith('_HIGH') ? vmcsByName.get(name.slice(0, -'_HIGH'.length)) : undefined;
  return low && low.width === '64' ? { field: low, high: true } : undefined;
}

/** Built-in names by kind, each list sorted; together they are exactly the assembler's constants. */
export function archConstantNames(): ArchConstantNames {
  const msr: string[] = [];
  const vmcs: string[] = [];
  const other: string[] = [];
  for (const name of assemblerConstants.keys()) {
    (msrByName.has(name) ? msr : vmcsField(name) ? vmcs : other).push(name);
  }
  return { msr: msr.sort(), vmcs: vmcs.sort(), other: other.sort() };
}

/** What a built-in name is, as a kind plus the facts a hover shows. */
export type ArchConstant =
  | { readonly kind: 'msr'; readonly name: string; readonly msr: MsrDef }
  | { readonly kind: 'vmcs'; readonly field: VmcsFieldDef; readonly high: boolean; readonly encoding: number;
      readonly groupTitle: string }
  | { readonly kind: 'constant'; readonly name: string; readonly value: bigint; readonly doc?: string };

export function lookupArchConstant(name: string): ArchConstant | undefined {
  const value = assemblerConstants.get(name);
  if (value === undefined) return undefined;
  const msr = msrByName.get(name);
  if (msr) return { kind: 'msr', name, msr };
  const vmcs = vmcsField(name);
  if (vmcs) {
    return { kind: 'vmcs', field: vmcs.field, high: vmcs.high, encoding: Number(value),
      groupTitle: VMCS_GROUP_TITLES[vmcs.field.group] };
  }
  const doc = assemblerConstantDocs.get(name);
  return { kind: 'constant', name, value, ...(doc ? { doc } : {}) };
}

export { bitRangeText };
