// The VMCS as the debugger shows it: every field the monitor's VMCS supports, grouped as the SDM
// groups them (src/arch VMCS_GROUP_TITLES), with the bit layouts of src/arch and notes in words (exit
// reason names, event names of interruption-information fields). One model for the VMCS scope, the
// `info vmcs` console command and the `fredLab/vmcs` request; writes go through Vmcs.vmwrite, so
// VMWRITE's rules apply (read-only exit-information fields: VM-instruction error 13).
import {
  ACTIVITY_STATES, EVENT_TYPES, VMCS_FIELDS, VMCS_GROUP_TITLES, VM_INSTRUCTION_ERRORS, bitRangeText, decodeInterruptionInfo, exceptionByVector,
  exitQualificationLayout, exitReasonInfo, extractField, vmcsFieldBits, vmcsFieldByName, type BitLayout, type VmcsFieldDef, type VmcsGroup,
} from '../arch/index';
import type { Vmcs } from '../machine/vmx/vmcs';
import type { VmcsBitView, VmcsFieldJson, VmcsGroupJson } from './customRequests';
import { eventName } from './eventStack';

export interface VmcsFieldView {
  readonly def: VmcsFieldDef;
  readonly value: bigint;
  /** Exit-information fields: VMWRITE refuses them (error 13). */
  readonly readOnly: boolean;
  /** Named bit fields (the exit qualification's by the current exit reason). */
  readonly layout?: BitLayout;
  /** The value in words, where there is something to say. */
  readonly note?: string;
}

export interface VmcsGroupView {
  readonly group: VmcsGroup;
  readonly title: string;
  readonly fields: readonly VmcsFieldView[];
}

const GROUPS = Object.keys(VMCS_GROUP_TITLES) as VmcsGroup[];
const INTERRUPTION_INFO_FIELDS = new Set(['VM_ENTRY_INTR_INFO_FIELD', 'VM_EXIT_INTR_INFO', 'IDT_VECTORING_INFO_FIELD']);

export const hexField = (def: VmcsFieldDef, v: bigint) => `0x${v.toString(16).padStart(vmcsFieldBits(def) / 4, '0')}`;

/** An interruption-information value in words: `valid: #PF (hardware exception 14), error code` or `not valid`. */
export function interruptionText(value: bigint): string {
  const info = decodeInterruptionInfo(value);
  if (!info.valid) return 'not valid';
  const type = (EVENT_TYPES[info.type]?.name ?? `type ${info.type}`).toLowerCase();
  return `${eventName(info.type, info.vector)} (${type} ${info.vector})${info.errorCode ? ', error code' : ''}${info.nested ? ', nested' : ''}`;
}

function note(def: VmcsFieldDef, value: bigint): string | undefined {
  if (def.name === 'VM_EXIT_REASON') {
    const info = exitReasonInfo(Number(value & 0xffffn));
    return `${info?.short ?? 'unknown'} (${Number(value & 0xffffn)})${value & 0x80000000n ? ', VM-entry failure' : ''}`;
  }
  if (INTERRUPTION_INFO_FIELDS.has(def.name)) return interruptionText(value);
  if (def.name === 'VM_INSTRUCTION_ERROR' && value !== 0n) return VM_INSTRUCTION_ERRORS.find((e) => BigInt(e.value) === value)?.name;
  if (def.name === 'GUEST_ACTIVITY_STATE') return ACTIVITY_STATES.find((s) => BigInt(s.value) === value)?.name;
  return undefined;
}

/** A field of `vmcs` as shown: value, read-only rule, layout and note. */
export function fieldView(vmcs: Vmcs, def: VmcsFieldDef): VmcsFieldView {
  const value = vmcs.get(def.name);
  const layout = def.name === 'EXIT_QUALIFICATION' ? exitQualificationLayout(Number(vmcs.get('VM_EXIT_REASON'))) : def.layout;
  const text = note(def, value);
  return { def, value, readOnly: def.type === 'exitInformation', ...(layout ? { layout } : {}), ...(text ? { note: text } : {}) };
}

/** Every supported field, grouped in the SDM's order. */
export function vmcsGroups(vmcs: Vmcs): VmcsGroupView[] {
  return GROUPS.map((group) => ({
    group,
    title: VMCS_GROUP_TITLES[group],
    fields: VMCS_FIELDS.filter((f) => f.group === group && vmcs.supports(f)).map((f) => fieldView(vmcs, f)),
  }));
}

/** Words for one bit field of a VMCS field (event type and vector names, the basic exit reason). */
export function bitNote(field: string, bit: string, v: bigint): string | undefined {
  if (bit === 'type' && INTERRUPTION_INFO_FIELDS.has(field)) return EVENT_TYPES[Number(v)]?.name;
  if (bit === 'vector' && INTERRUPTION_INFO_FIELDS.has(field)) return exceptionByVector(Number(v))?.mnemonic;
  if (bit === 'basic' && field === 'VM_EXIT_REASON') return exitReasonInfo(Number(v))?.short;
  return undefined;
}

export class VmcsWriteError extends Error {}

/** setVariable / console: VMWRITE a field by name; refused writes (unknown, unsupported, read-only) throw with the SDM's reason. */
export function writeField(vmcs: Vmcs, name: string, value: bigint): VmcsFieldView {
  const ref = vmcsFieldByName(name);
  if (!ref || ref.high) throw new VmcsWriteError(`'${name}' is not a VMCS field`);
  const r = vmcs.vmwrite(ref.field.encoding, value);
  if (!r.ok) throw new VmcsWriteError(`VMWRITE ${ref.field.name} failed with VM-instruction error ${r.error}: ${r.message}`);
  return fieldView(vmcs, ref.field);
}

/** `fredLab/vmcs` groups: every value a "0x…" string, bit fields decoded. */
export function vmcsJson(vmcs: Vmcs): VmcsGroupJson[] {
  return vmcsGroups(vmcs).map((g) => ({
    group: g.group,
    title: g.title,
    fields: g.fields.map((f): VmcsFieldJson => ({
      name: f.def.name, encoding: `0x${f.def.encoding.toString(16).padStart(4, '0')}`, title: f.def.title, width: vmcsFieldBits(f.def),
      value: `0x${f.value.toString(16)}`, readOnly: f.readOnly, ...(f.note ? { note: f.note } : {}),
      ...(f.layout ? { bits: f.layout.map((b): VmcsBitView => {
        const v = extractField(b, f.value);
        const words = bitNote(f.def.name, b.name, v);
        return { name: b.name, bits: bitRangeText(b), value: `0x${v.toString(16)}`, ...(words ? { note: words } : {}) };
      }) } : {}),
    })),
  }));
}

/** `info vmcs`: the non-zero fields by group, like `info fred`. */
export function infoVmcs(vmcs: Vmcs, header: string): string {
  const lines = [header];
  for (const g of vmcsGroups(vmcs)) {
    const set = g.fields.filter((f) => f.value !== 0n);
    lines.push(`${g.title} (${set.length} of ${g.fields.length} fields non-zero):`);
    for (const f of set) {
      const flags = f.layout?.filter((b) => b.width === 1 && extractField(b, f.value) === 1n).map((b) => b.name) ?? [];
      lines.push(`  ${f.def.name} = ${hexField(f.def, f.value)}${f.note ? ` ${f.note}` : ''}${flags.length && !f.note ? ` [${flags.join(' ')}]` : ''}`);
    }
  }
  return lines.join('\n');
}
