// Scopes and variables: what the machine holds, decoded with src/arch's tables (bit layouts, MSR
// definitions, the FRED frame). Nothing architectural is computed here; setVariable writes through
// the machine (MSRs through the CPU's WRMSR path, so its checks apply and a refused write is an error).
import type { DebugProtocol } from '@vscode/debugprotocol';
import { Handles, Scope } from '@vscode/debugadapter';
import {
  ACCESS_RIGHTS_FIELDS, CR0_FIELDS, CR3_FIELDS, CR4_FIELDS, EFER_FIELDS, FRED_CONFIG_FIELDS, FRED_CS_WORD_FIELDS, FRED_FRAME_SLOTS,
  FRED_SS_WORD_FIELDS, MSRS, RFLAGS_FIELDS, SELECTOR_FIELDS, bitRangeText, eventTypeInfo, exceptionByVector, extractField, msrByName,
  registerLayout, type BitLayout, type VmcsGroup,
} from '../arch/index';
import { GPR_NAMES, SEGMENT_NAMES, type Segment } from '../machine/cpu/state';
import { writeMsr } from '../machine/cpu/exec/msr';
import type { Machine } from '../machine/machine';
import type { DeliveryRecord } from '../machine/trace';
import { loadLittleEndian } from './expressions';
import { eventName } from './eventStack';
import { msrTarget, type DataTarget } from './dataBreakpoints';
import { monitorOf } from './monitor';
import { VmcsWriteError, bitNote, hexField, vmcsGroups, writeField, type VmcsFieldView, type VmcsGroupView } from './vmcsView';

type Container =
  | { kind: 'registers' }
  | { kind: 'segments' }
  | { kind: 'segment'; name: string; segment: Segment }
  | { kind: 'control' }
  | { kind: 'fred' }
  | { kind: 'stklvls'; value: bigint }
  | { kind: 'eventFrame'; delivery: DeliveryRecord }
  | { kind: 'msrs' }
  | { kind: 'vmcs' }
  | { kind: 'vmcsGroup'; group: VmcsGroup }
  | { kind: 'fields'; layout: BitLayout; value: bigint; annotate?: (field: string, value: bigint) => string | undefined };

export const hex64 = (v: bigint) => `0x${BigInt.asUintN(64, v).toString(16).padStart(16, '0')}`;
export const hex = (v: bigint | number) => `0x${BigInt.asUintN(64, BigInt(v)).toString(16)}`;

const FRED_MSRS = ['IA32_FRED_CONFIG', 'IA32_FRED_RSP0', 'IA32_FRED_RSP1', 'IA32_FRED_RSP2', 'IA32_FRED_RSP3', 'IA32_FRED_STKLVLS', 'IA32_FRED_SSP1', 'IA32_FRED_SSP2', 'IA32_FRED_SSP3'];
/** MSRs whose value is a linear address (they get a memoryReference). */
const ADDRESS_MSRS = new Set(['IA32_FRED_RSP0', 'IA32_FRED_RSP1', 'IA32_FRED_RSP2', 'IA32_FRED_RSP3', 'IA32_FRED_SSP1', 'IA32_FRED_SSP2', 'IA32_FRED_SSP3', 'IA32_FS_BASE', 'IA32_GS_BASE', 'IA32_KERNEL_GS_BASE', 'IA32_LSTAR', 'IA32_CSTAR', 'IA32_SYSENTER_ESP', 'IA32_SYSENTER_EIP']);

export class SetVariableError extends Error {}

export class Variables {
  private handles = new Handles<Container>();

  constructor(private readonly machine: Machine) {}

  /** The VMCS as shown at this stop (read once: every read of a guest field syncs the vCPU's state into it). */
  private vmcsView: VmcsGroupView[] | undefined;

  /** Handles are valid until the next stop. */
  reset(): void {
    this.handles.reset();
    this.vmcsView = undefined;
  }

  /** Scopes of a frame; `delivery` is the FRED/IDT delivery whose frame the Event frame scope shows. */
  scopes(delivery: DeliveryRecord | undefined): DebugProtocol.Scope[] {
    const scope = (name: string, c: Container, expensive = false) => new Scope(name, this.handles.create(c), expensive);
    const out: DebugProtocol.Scope[] = [
      { ...scope('Registers', { kind: 'registers' }), presentationHint: 'registers' },
      scope('Segments', { kind: 'segments' }),
      scope('Control registers', { kind: 'control' }),
      scope('FRED', { kind: 'fred' }),
    ];
    if (delivery) out.push(scope(delivery.mechanism === 'fred' ? 'Event frame' : 'Event frame (IDT)', { kind: 'eventFrame', delivery }));
    out.push(scope('MSRs', { kind: 'msrs' }, true));
    if (monitorOf(this.machine)) out.push(scope('VMCS', { kind: 'vmcs' }));
    return out;
  }

  private variable(name: string, value: string, extra: Partial<DebugProtocol.Variable> = {}, children?: Container): DebugProtocol.Variable {
    return { name, value, variablesReference: children ? this.handles.create(children) : 0, ...extra };
  }

  private fieldsOf(layout: BitLayout, value: bigint, annotate?: (f: string, v: bigint) => string | undefined): Container {
    return { kind: 'fields', layout, value, annotate };
  }

  variables(reference: number): DebugProtocol.Variable[] {
    const c = this.handles.get(reference);
    if (!c) return [];
    const m = this.machine;
    const cpu = m.cpu;
    switch (c.kind) {
      case 'registers': {
        const list = GPR_NAMES.map((name, i) => {
          const v = m.getGpr(i);
          return this.variable(name, hex64(v), { evaluateName: name, memoryReference: hex(v), type: 'u64' });
        });
        list.push(this.variable('rip', hex64(m.getRip()), { evaluateName: 'rip', memoryReference: hex(m.getRip()), type: 'u64' }));
        const rflags = m.getRflags();
        list.push(this.variable('rflags', `${hex(rflags)} ${setFlags(RFLAGS_FIELDS, rflags)}`, { evaluateName: 'rflags', type: 'u64' }, this.fieldsOf(RFLAGS_FIELDS, rflags)));
        list.push(this.variable('cpl', String(cpu.cpl), { evaluateName: 'cpl', presentationHint: { attributes: ['readOnly'] } }));
        return list;
      }
      case 'segments': {
        const segs: [string, Segment][] = [...SEGMENT_NAMES.map((n, i) => [n, m.getSegment(i)] as [string, Segment]), ['ldtr', { ...cpu.ldtr }], ['tr', { ...cpu.tr }]];
        const out = segs.map(([name, s]) => this.variable(name, `${hex(s.sel)} base ${hex(s.base)} limit ${hex(s.limit)}`, { presentationHint: { attributes: ['readOnly'] } }, { kind: 'segment', name, segment: s }));
        out.push(this.variable('gdtr', `base ${hex(cpu.gdtr.base)} limit ${hex(cpu.gdtr.limit)}`, { memoryReference: hex(cpu.gdtr.base), presentationHint: { attributes: ['readOnly'] } }));
        out.push(this.variable('idtr', `base ${hex(cpu.idtr.base)} limit ${hex(cpu.idtr.limit)}`, { memoryReference: hex(cpu.idtr.base), presentationHint: { attributes: ['readOnly'] } }));
        return out;
      }
      case 'segment': {
        const s = c.segment;
        const ro: Partial<DebugProtocol.Variable> = { presentationHint: { attributes: ['readOnly'] } };
        return [
          this.variable('selector', hex(s.sel), ro, this.fieldsOf(SELECTOR_FIELDS, BigInt(s.sel))),
          this.variable('base', hex(s.base), { ...ro, memoryReference: hex(s.base) }),
          this.variable('limit', hex(s.limit), ro),
          this.variable('attributes', hex(s.attr), ro, this.fieldsOf(ACCESS_RIGHTS_FIELDS, BigInt(s.attr))),
        ];
      }
      case 'control': {
        const ro: Partial<DebugProtocol.Variable> = { presentationHint: { attributes: ['readOnly'] } };
        return [
          this.variable('cr0', `${hex(cpu.cr0)} ${setFlags(CR0_FIELDS, cpu.cr0)}`, { ...ro, evaluateName: 'cr0' }, this.fieldsOf(CR0_FIELDS, cpu.cr0)),
          this.variable('cr2', hex64(cpu.cr2), { ...ro, evaluateName: 'cr2', memoryReference: hex(cpu.cr2) }),
          this.variable('cr3', hex64(cpu.cr3), { ...ro, evaluateName: 'cr3' }, this.fieldsOf(CR3_FIELDS, cpu.cr3)),
          this.variable('cr4', `${hex(cpu.cr4)} ${setFlags(CR4_FIELDS, cpu.cr4)}`, { ...ro, evaluateName: 'cr4' }, this.fieldsOf(CR4_FIELDS, cpu.cr4)),
          this.variable('cr8', hex(cpu.cr8), { ...ro, evaluateName: 'cr8' }),
          this.variable('IA32_EFER', `${hex(cpu.efer)} ${setFlags(EFER_FIELDS, cpu.efer)}`, { evaluateName: 'IA32_EFER' }, this.fieldsOf(EFER_FIELDS, cpu.efer)),
        ];
      }
      case 'fred':
        return FRED_MSRS.map((name) => this.msrVariable(name));
      case 'stklvls':
        return Array.from({ length: 32 }, (_, v) => {
          const level = Number((c.value >> BigInt(2 * v)) & 3n);
          return this.variable(`${v} ${exceptionByVector(v)?.mnemonic ?? ''}`.trim(), `SL${level}`, { presentationHint: { attributes: ['readOnly'] } });
        });
      case 'eventFrame':
        return this.eventFrame(c.delivery);
      case 'msrs':
        return MSRS.filter((d) => d.readable && m.readMsr(d.index) !== undefined).map((d) => this.msrVariable(d.name));
      case 'vmcs':
      case 'vmcsGroup': {
        const vmx = monitorOf(m);
        if (!vmx) return [];
        const groups = (this.vmcsView ??= vmcsGroups(vmx.vmcs));
        if (c.kind === 'vmcs') {
          return groups.map((g) => this.variable(g.title, `${g.fields.filter((f) => f.value !== 0n).length} of ${g.fields.length} fields non-zero`,
            { presentationHint: { attributes: ['readOnly'] } }, { kind: 'vmcsGroup', group: g.group }));
        }
        return groups.find((g) => g.group === c.group)!.fields.map((f) => this.vmcsVariable(f));
      }
      case 'fields':
        return c.layout.map((f) => {
          const v = extractField(f, c.value);
          const note = c.annotate?.(f.name, v);
          const value = f.width === 1 ? String(v) : `${hex(v)}${note ? ` (${note})` : ''}`;
          return this.variable(`${f.name} [${bitRangeText(f)}]`, f.width === 1 && note ? `${value} (${note})` : value, { type: f.doc, presentationHint: { attributes: ['readOnly'] } });
        });
    }
  }

  private vmcsVariable(f: VmcsFieldView): DebugProtocol.Variable {
    const extra: Partial<DebugProtocol.Variable> = { evaluateName: `vmcs.${f.def.name}`, type: `${f.def.title} (0x${f.def.encoding.toString(16).padStart(4, '0')})` };
    if (f.readOnly) extra.presentationHint = { attributes: ['readOnly'] };
    const value = `${hexField(f.def, f.value)}${f.note ? ` ${f.note}` : f.layout ? ` ${setFlags(f.layout, f.value)}` : ''}`;
    const name = f.def.name;
    return this.variable(name, value, extra, f.layout ? this.fieldsOf(f.layout, f.value, (bit, v) => bitNote(name, bit, v)) : undefined);
  }

  private msrVariable(name: string): DebugProtocol.Variable {
    const def = msrByName(name);
    const value = def ? this.machine.readMsr(def.index) : undefined;
    if (!def || value === undefined) return this.variable(name, '(not readable)', { presentationHint: { attributes: ['readOnly'] } });
    const extra: Partial<DebugProtocol.Variable> = { evaluateName: def.name, type: def.doc };
    if (ADDRESS_MSRS.has(def.name)) extra.memoryReference = hex(value);
    if (def.name === 'IA32_FRED_STKLVLS') return this.variable(def.name, hex64(value), extra, { kind: 'stklvls', value });
    if (def.name === 'IA32_FRED_CONFIG') {
      const entry = value & ~0xfffn;
      extra.memoryReference = hex(entry);
      return this.variable(def.name, `${hex64(value)} entry ${hex(entry)} CSL ${value & 3n}`, extra, this.fieldsOf(FRED_CONFIG_FIELDS, value, fredConfigNote));
    }
    return this.variable(def.name, hex64(value), extra, def.fields.length ? this.fieldsOf(def.fields, value) : undefined);
  }

  private eventFrame(d: DeliveryRecord): DebugProtocol.Variable[] {
    const ro: Partial<DebugProtocol.Variable> = { presentationHint: { attributes: ['readOnly'] } };
    const read = (offset: number): bigint | undefined => {
      try {
        return loadLittleEndian(this.machine, d.frameAddress + BigInt(offset), 8);
      } catch {
        return undefined;
      }
    };
    const head = this.variable('frame address', hex(d.frameAddress), { ...ro, memoryReference: hex(d.frameAddress) });
    if (d.mechanism === 'idt') {
      const slots = [...(d.errorCode !== undefined ? ['error code'] : []), 'rip', 'cs', 'rflags', 'rsp', 'ss'];
      return [head, ...slots.map((name, k) => {
        const v = read(8 * k);
        return this.variable(name, v === undefined ? '(unmapped)' : hex64(v), { ...ro, ...(v !== undefined && (name === 'rip' || name === 'rsp') ? { memoryReference: hex(v) } : {}) });
      })];
    }
    return [head, ...FRED_FRAME_SLOTS.map((slot) => {
      const v = read(slot.offset);
      const name = `+${hex(slot.offset)} ${slot.name}`;
      if (v === undefined) return this.variable(name, '(unmapped)', { ...ro, type: slot.title });
      const extra = { ...ro, type: slot.title };
      switch (slot.name) {
        case 'csWord':
          return this.variable(name, hex64(v), extra, this.fieldsOf(FRED_CS_WORD_FIELDS, v));
        case 'ssWord':
          return this.variable(name, `${hex64(v)} ${eventName(Number((v >> 48n) & 0xfn), Number((v >> 32n) & 0xffn))}`, extra, this.fieldsOf(FRED_SS_WORD_FIELDS, v, ssWordNote));
        case 'rflags':
          return this.variable(name, `${hex64(v)} ${setFlags(RFLAGS_FIELDS, v)}`, extra, this.fieldsOf(RFLAGS_FIELDS, v));
        case 'rip': case 'rsp': case 'eventData':
          return this.variable(name, hex64(v), { ...extra, memoryReference: hex(v) });
        default:
          return this.variable(name, hex64(v), extra);
      }
    })];
  }

  /**
   * What `name` in container `reference` can be watched as (dataBreakpointInfo): an MSR of the FRED,
   * MSRs or Control registers scope, or an Event frame slot (memory). Other variables: a reason.
   */
  dataTarget(reference: number, name: string): DataTarget | string {
    const c = this.handles.get(reference);
    if (!c) return `variable container ${reference} no longer exists`;
    if (c.kind === 'fred' || c.kind === 'msrs' || (c.kind === 'control' && name === 'IA32_EFER')) {
      return msrTarget(name);
    }
    if (c.kind === 'eventFrame') {
      const slot = FRED_FRAME_SLOTS.find((s) => name === `+${hex(s.offset)} ${s.name}`);
      if (c.delivery.mechanism === 'fred' && slot) return { kind: 'memory', address: c.delivery.frameAddress + BigInt(slot.offset), bytes: 8 };
    }
    return `${name} is not memory or a traced MSR: watch an address in the Watch view ([rsp+8], dword [label]) instead`;
  }

  /** Write a register or an MSR; the parent container says which. Returns the new display value. */
  set(reference: number, name: string, value: bigint): DebugProtocol.SetVariableResponse['body'] {
    const c = this.handles.get(reference);
    if (!c) throw new SetVariableError(`variable container ${reference} no longer exists`);
    const m = this.machine;
    this.vmcsView = undefined; // RIP, RSP, RFLAGS and MSRs are guest-state fields too
    if (c.kind === 'registers') {
      const gpr = (GPR_NAMES as readonly string[]).indexOf(name);
      if (gpr >= 0) m.setGpr(gpr, value);
      else if (name === 'rip') {
        if (!isCanonical(value)) throw new SetVariableError(`RIP ${hex(value)} is not canonical`);
        m.setRip(value);
      } else if (name === 'rflags') {
        const layout = registerLayout('RFLAGS');
        const bad = value & layout.reservedMask;
        if (bad) throw new SetVariableError(`RFLAGS: reserved bits must be 0 (set: ${hex(bad)})`);
        m.setRflags(value | layout.fixed1Mask);
      } else throw new SetVariableError(`${name} is read-only`);
      const now = name === 'rip' ? m.getRip() : name === 'rflags' ? m.getRflags() : m.getGpr(gpr);
      return { value: hex64(now), memoryReference: name === 'rflags' ? undefined : hex(now) };
    }
    if (c.kind === 'fred' || c.kind === 'msrs' || (c.kind === 'control' && name === 'IA32_EFER')) {
      const def = msrByName(name);
      if (!def) throw new SetVariableError(`${name} is not an MSR`);
      const r = writeMsr(m.cpu, def.index, BigInt.asUintN(64, value));
      if (!r.ok) throw new SetVariableError(`WRMSR ${def.name} ← ${hex(value)} would raise #GP: ${r.reason}`);
      return { value: hex64(m.readMsr(def.index) ?? value) };
    }
    if (c.kind === 'vmcsGroup') {
      const vmx = monitorOf(m);
      if (!vmx) throw new SetVariableError('the guest runs without the VMX monitor');
      try {
        const f = writeField(vmx.vmcs, name, value);
        return { value: `${hexField(f.def, f.value)}${f.note ? ` ${f.note}` : ''}` };
      } catch (error) {
        if (error instanceof VmcsWriteError) throw new SetVariableError(error.message);
        throw error;
      }
    }
    throw new SetVariableError(`${name} is read-only here`);
  }
}

function isCanonical(v: bigint): boolean {
  const top = BigInt.asUintN(64, v) >> 47n;
  return top === 0n || top === (1n << 17n) - 1n;
}

/** `[PE MP ET PG]`: the names of the one-bit fields that are set. */
export function setFlags(layout: BitLayout, value: bigint): string {
  const names = layout.filter((f) => f.width === 1 && extractField(f, value) === 1n).map((f) => f.name);
  return `[${names.join(' ')}]`;
}

function fredConfigNote(field: string, v: bigint): string | undefined {
  if (field === 'ENTRYPOINT') return `entry point ${hex(v << 12n)}: ring 3 at +0, ring 0 at +0x100`;
  if (field === 'REDZONE') return `${v * 64n} bytes`;
  if (field === 'INT_STKLVL') return `SL${v}`;
  if (field === 'CSL') return `SL${v}`;
  return undefined;
}

function ssWordNote(field: string, v: bigint): string | undefined {
  if (field === 'type') return eventTypeInfo(Number(v))?.name;
  if (field === 'vector') return exceptionByVector(Number(v))?.mnemonic;
  return undefined;
}
