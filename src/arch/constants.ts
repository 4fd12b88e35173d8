// The assembler's built-in constants, generated from the tables of this folder (never a second list).
// Naming scheme (docs/arch.md):
//   MSRs                 IA32_FRED_CONFIG = 0x1d4                (SDM name → index)
//   VMCS fields          GUEST_RIP = 0x681e, GUEST_IA32_PAT_HIGH = 0x2805   (Linux name → encoding)
//   one-bit fields       CR4_FRED = 1 << 32, CR4_FRED_BIT = 32   (<REG>_<FIELD>, <REG>_<FIELD>_BIT)
//   multi-bit fields     RFLAGS_IOPL_MASK = 0x3000, RFLAGS_IOPL_SHIFT = 12
//   MSR fields           FRED_CONFIG_REDZONE_MASK = 0x1c0 (MSR name without IA32_ as the prefix)
//   exception vectors    X86_TRAP_PF = 14                          (Linux trapnr.h)
//   event types          EVENT_TYPE_HWEXC = 3, INTR_TYPE_HARD_EXCEPTION = 3 << 8 (Linux)
//   exit reasons         EXIT_REASON_CPUID = 10                    (Linux uapi vmx.h)
//   VMX controls         VM_ENTRY_LOAD_IA32_FRED = 1 << 23         (Linux vmx.h, masks)
//   FRED frame           FRED_FRAME_EVENT_DATA = 0x30, FRED_SS_NESTED = 1 << 58
//   paging               PTE_P, PTE_RW, PTE_US, PTE_ADDR_MASK, X86_PF_WRITE (Linux), EPT_READ, EPTP_WALK_LENGTH_SHIFT
//   CPUID flags          CPUID_FRED = 1 << 17, CPUID_FRED_BIT = 17  (leaf/register in the doc string)

import { bitRangeText, fieldMask, type BitLayout } from './bitField';
import { CR3_PCIDE_FIELDS, REGISTER_LAYOUTS } from './controlRegisters';
import { CPUID_FEATURES } from './cpuid';
import { EPT_ENTRY_FIELDS, EPTP_FIELDS } from './ept';
import { PAGE_ENTRY_FIELDS, PAGE_FAULT_ERROR_CODE_FIELDS } from './paging';
import { EVENT_TYPES, OTHER_EVENT_VECTORS } from './eventTypes';
import { EXCEPTIONS } from './exceptions';
import { FRED_CS_WORD_FIELDS, FRED_FRAME_SIZE, FRED_FRAME_SLOTS, FRED_RING0_ENTRY_OFFSET, FRED_SS_WORD_FIELDS } from './fredFrame';
import {
  ACTIVITY_STATES, ENTRY_INTR_INFO_FIELDS, ENTRY_INTR_INFO_RESERVED_MASK, EXIT_INTR_INFO_FIELDS, INTERRUPTIBILITY_FIELDS,
} from './interruptionInfo';
import { MSRS } from './msr';
import { ACCESS_RIGHTS_FIELDS, SELECTOR_ERROR_CODE_FIELDS, SELECTOR_FIELDS } from './segments';
import { EXIT_REASON_ENTRY_FAILURE, EXIT_REASONS, VM_INSTRUCTION_ERRORS } from './vmExitReasons';
import { VMCS_FIELDS, VMCS_GROUP_TITLES } from './vmcs';
import { CONTROL_FIELD_LAYOUTS } from './vmxControls';

/** camelCase or lower-case field names → UPPER_SNAKE (errorCode → ERROR_CODE). */
export function upperSnake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

class ConstantTable {
  readonly map = new Map<string, bigint>();
  readonly docs = new Map<string, string>();

  add(name: string, value: bigint | number, doc: string): void {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name)) throw new Error(`assembler constant '${name}' is not an upper-case identifier`);
    if (this.map.has(name)) throw new Error(`assembler constant '${name}' defined twice`);
    this.map.set(name, BigInt(value));
    this.docs.set(name, doc);
  }

  /** One-bit fields: PREFIX_FIELD (mask) and PREFIX_FIELD_BIT; multi-bit: PREFIX_FIELD_MASK and _SHIFT. */
  addLayout(prefix: string, layout: BitLayout, what: string): void {
    for (const f of layout) {
      const base = `${prefix}_${upperSnake(f.name)}`;
      const doc = `${what} bit${f.width === 1 ? '' : 's'} ${bitRangeText(f)}: ${f.doc}`;
      if (f.width === 1) {
        this.add(base, fieldMask(f), doc);
        this.add(`${base}_BIT`, f.lsb, `Bit position of ${base}. ${doc}`);
      } else {
        this.add(`${base}_MASK`, fieldMask(f), `Mask of ${doc}`);
        this.add(`${base}_SHIFT`, f.lsb, `Shift of ${doc}`);
      }
    }
  }
}

function build(): ConstantTable {
  const t = new ConstantTable();
  const registerLayouts = new Set<BitLayout>();

  for (const r of REGISTER_LAYOUTS) {
    t.addLayout(r.name, r.fields, r.name);
    registerLayouts.add(r.fields);
  }
  t.add('CR3_PCID_MASK', fieldMask(CR3_PCIDE_FIELDS[0]!), 'CR3 bits 11:0 with CR4.PCIDE = 1: process-context identifier');

  for (const m of MSRS) {
    t.add(m.name, m.index, `MSR 0x${m.index.toString(16).toUpperCase()}: ${m.doc}`);
    for (const a of m.aliases) t.add(a, m.index, `MSR 0x${m.index.toString(16).toUpperCase()}: ${a} is ${m.name}. ${m.doc}`);
    // Field constants, except STKLVLS's 32 per-vector slots (write `level << (2 * X86_TRAP_xx)`)
    // and layouts already emitted as a register (EFER).
    if (m.name === 'IA32_FRED_STKLVLS' || registerLayouts.has(m.fields)) continue;
    t.addLayout(m.name.replace(/^IA32_/, ''), m.fields, m.name);
  }

  for (const f of VMCS_FIELDS) {
    const what = `VMCS field 0x${f.encoding.toString(16).padStart(4, '0').toUpperCase()} (${VMCS_GROUP_TITLES[f.group]}, ${f.width === 'natural' ? 'natural-width' : f.width + '-bit'})`;
    t.add(f.name, f.encoding, `${f.title} — ${what}${f.doc !== f.title ? ': ' + f.doc : ''}`);
    if (f.width === '64') t.add(`${f.name}_HIGH`, f.encoding + 1, `High 32 bits of ${f.title} (${f.name})`);
  }
  for (const c of CONTROL_FIELD_LAYOUTS) {
    for (const b of c.bits) t.add(b.name, fieldMask(b), `${c.title} bit ${b.lsb}: ${b.doc}`);
  }

  for (const e of EXCEPTIONS) {
    if (e.kind !== 'reserved' || e.vector === 9) t.add(`X86_TRAP_${e.short}`, e.vector, `Vector ${e.vector}: ${e.mnemonic} ${e.name}`);
  }

  for (const e of EVENT_TYPES) {
    t.add(`EVENT_TYPE_${e.short}`, e.type, `Event type ${e.type}: ${e.name} — ${e.doc}`);
    t.add(e.vmxName, e.type << 8, `Interruption type ${e.type} (${e.name}) in bits 10:8 of interruption information`);
  }
  for (const v of OTHER_EVENT_VECTORS) {
    if (v.short !== 'MTF') t.add(`FRED_${v.short}`, v.vector, `Vector of ${v.name} in event type 7 (other event)`);
  }

  // Interruption information under Linux's names; the values come from the layouts.
  const intr = (name: string, layout: BitLayout, field: string): void => {
    const f = layout.find((x) => x.name === field);
    if (!f) throw new Error(`no field ${field}`);
    t.add(name, fieldMask(f), `Interruption information bits ${bitRangeText(f)}: ${f.doc}`);
  };
  intr('INTR_INFO_VECTOR_MASK', ENTRY_INTR_INFO_FIELDS, 'vector');
  intr('INTR_INFO_INTR_TYPE_MASK', ENTRY_INTR_INFO_FIELDS, 'type');
  intr('INTR_INFO_DELIVER_CODE_MASK', ENTRY_INTR_INFO_FIELDS, 'deliverErrorCode');
  intr('INTR_INFO_UNBLOCK_NMI', EXIT_INTR_INFO_FIELDS, 'nmiUnblockingDueToIret');
  intr('INTR_INFO_NESTED_EXCEPTION_MASK', ENTRY_INTR_INFO_FIELDS, 'nested');
  intr('INTR_INFO_VALID_MASK', ENTRY_INTR_INFO_FIELDS, 'valid');
  t.add('INTR_INFO_RESVD_BITS_MASK', ENTRY_INTR_INFO_RESERVED_MASK,
    'Reserved bits of the VM-entry interruption information (bit 13 allowed with nested-exception support)');

  t.addLayout('GUEST_INTR_STATE', INTERRUPTIBILITY_FIELDS, 'Guest interruptibility state');
  for (const a of ACTIVITY_STATES) t.add(`GUEST_ACTIVITY_${a.short}`, a.value, `Guest activity state ${a.value}: ${a.name}`);
  t.addLayout('AR', ACCESS_RIGHTS_FIELDS, 'VMX segment access rights');
  t.addLayout('SELECTOR', SELECTOR_FIELDS, 'Segment selector');
  t.addLayout('SELECTOR_ERROR', SELECTOR_ERROR_CODE_FIELDS, 'Selector error code');
  t.addLayout('PTE', PAGE_ENTRY_FIELDS, 'Paging-structure entry');
  t.addLayout('X86_PF', PAGE_FAULT_ERROR_CODE_FIELDS, 'Page-fault error code');
  t.addLayout('EPT', EPT_ENTRY_FIELDS, 'EPT entry');
  t.addLayout('EPTP', EPTP_FIELDS, 'EPT pointer');

  for (const r of EXIT_REASONS) t.add(`EXIT_REASON_${r.short}`, r.reason, `Basic exit reason ${r.reason}: ${r.title}`);
  t.add('VMX_EXIT_REASONS_FAILED_VMENTRY', EXIT_REASON_ENTRY_FAILURE, 'Exit reason bit 31: VM-entry failure');
  for (const e of VM_INSTRUCTION_ERRORS) t.add(`VMXERR_${e.short}`, e.value, `VM-instruction error ${e.value}: ${e.name}`);

  for (const s of FRED_FRAME_SLOTS) {
    t.add(`FRED_FRAME_${upperSnake(s.name)}`, s.offset, `FRED frame offset +0x${s.offset.toString(16)}: ${s.title}`);
  }
  t.add('FRED_FRAME_SIZE', FRED_FRAME_SIZE, 'Size of the FRED frame in bytes (8 quadwords)');
  t.add('FRED_RING0_ENTRY_OFFSET', FRED_RING0_ENTRY_OFFSET, 'Events from ring 0 enter at the FRED entry point + 0x100');
  t.addLayout('FRED_CS', FRED_CS_WORD_FIELDS, 'FRED frame CS word');
  t.addLayout('FRED_SS', FRED_SS_WORD_FIELDS, 'FRED frame SS word');

  for (const x of CPUID_FEATURES) {
    const where = `CPUID.(EAX=0x${x.leaf.toString(16).toUpperCase()}${x.subleaf ? `,ECX=${x.subleaf}` : ''}):${x.register.toUpperCase()}[${x.bit}]`;
    t.add(`CPUID_${x.name}`, 1 << x.bit >>> 0, `${where}: ${x.doc}`);
    t.add(`CPUID_${x.name}_BIT`, x.bit, `Bit position of ${where}: ${x.doc}`);
  }

  return t;
}

const table = build();

/** Upper-case name → value; the assembler's built-in constants. */
export const assemblerConstants: ReadonlyMap<string, bigint> = table.map;

/** Upper-case name → one-line description (for hovers and completion). */
export const assemblerConstantDocs: ReadonlyMap<string, string> = table.docs;
