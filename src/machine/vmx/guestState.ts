// Guest state between the emulated CPU and the VMCS guest-state area (SDM Vol. 3C §25.4, §27.3.2
// "Loading Guest State", §28.3 "Saving Guest State", §28.5 "Loading Host State"; FRED state per
// vmx-fred.md §1.3, §1.12). The CPU's segment attributes are already in the VMX access-rights format.
// Guest fields that hold an MSR are found through the arch table (`VmcsFieldDef.msr`), so the FRED
// fields GUEST_IA32_FRED_* map to MSRs 0x1CD–0x1D4 without a second list; IA32_FRED_RSP0 and
// IA32_PL0_SSP are not VMCS fields and stay in the vCPU's MSRs (vmx-fred.md §1.9).
import {
  CR4_BITS, ENTRY_CONTROLS, INTERRUPTIBILITY_FIELDS, PRIMARY_EXIT_CONTROLS, RFLAGS_BITS, SECONDARY_EXIT_CONTROLS, VMCS_FIELDS,
  fieldMasks, msrByName, type VmcsFieldDef,
} from '../../arch/index';
import { fromLinear, toLinear, type Segment, type TableRegister } from '../cpu/state';
import { DEFAULT_PAT } from './controls';
import type { Vmcs } from './vmcs';

const ENTRY = fieldMasks(ENTRY_CONTROLS);
const EXIT = fieldMasks(PRIMARY_EXIT_CONTROLS);
const EXIT2 = fieldMasks(SECONDARY_EXIT_CONTROLS);
const BLOCKING = fieldMasks(INTERRUPTIBILITY_FIELDS);
const IA32_EFER = 0xc000_0080;
const EFER_LME = 1n << 8n, EFER_LMA = 1n << 10n;
const RSP = 4;

/** The CPU state the monitor reads and writes (the machine's `Cpu` has this shape). */
export interface VcpuRegisters {
  readonly seg: Segment[];
  ldtr: Segment;
  tr: Segment;
  gdtr: TableRegister;
  idtr: TableRegister;
  cr0: bigint;
  cr3: bigint;
  cr4: bigint;
  readonly dr: bigint[];
  efer: bigint;
  readonly msr: Map<number, bigint>;
  rip: number;
  rflags: number;
  cpl: number;
  /** Blocking by STI and by MOV SS (SDM Vol. 3C Table 25-3 bits 0 and 1), kept apart by the CPU. */
  blockingBySti: boolean;
  blockingByMovSs: boolean;
  nmiBlocked: boolean;
  halted: boolean;
  gpr(i: number): bigint;
  setGpr(i: number, value: bigint): void;
}

const SEGMENTS = ['ES', 'CS', 'SS', 'DS', 'FS', 'GS'] as const; // the CPU's segment order

/** Guest fields that hold an MSR (arch table), split by the control that moves them. */
const MSR_FIELDS = VMCS_FIELDS.filter((f) => f.group === 'guestRegisterState' && f.msr !== undefined && msrByName(f.msr) !== undefined);
const FRED_FIELDS = MSR_FIELDS.filter((f) => f.fred);
const HOST_FRED_FIELDS = VMCS_FIELDS.filter((f) => f.fred && f.group === 'hostState' && f.msr !== undefined);

function msrIndexOf(f: VmcsFieldDef): number {
  return msrByName(f.msr!)!.index;
}

function readMsr(v: VcpuRegisters, index: number): bigint {
  if (index === IA32_EFER) return v.efer;
  return v.msr.get(index) ?? (index === 0x277 ? DEFAULT_PAT : 0n);
}

/** Which MSR-backed guest fields move with the given controls: `entry` = loaded by VM entry, `exit` = saved by VM exit. */
function movedMsrFields(vmcs: Vmcs, direction: 'entry' | 'exit'): VmcsFieldDef[] {
  const entry = vmcs.get('VM_ENTRY_CONTROLS');
  const exit = vmcs.get('VM_EXIT_CONTROLS');
  const exit2 = vmcs.fred && (exit & EXIT.VM_EXIT_ACTIVATE_SECONDARY_CONTROLS) !== 0n ? vmcs.get('SECONDARY_VM_EXIT_CONTROLS') : 0n;
  const moves: Readonly<Record<string, boolean>> = direction === 'entry'
    ? {
      GUEST_IA32_DEBUGCTL: (entry & ENTRY.VM_ENTRY_LOAD_DEBUG_CONTROLS) !== 0n,
      GUEST_IA32_PAT: (entry & ENTRY.VM_ENTRY_LOAD_IA32_PAT) !== 0n,
      GUEST_IA32_EFER: (entry & ENTRY.VM_ENTRY_LOAD_IA32_EFER) !== 0n,
      FRED: (entry & ENTRY.VM_ENTRY_LOAD_IA32_FRED) !== 0n,
    }
    : {
      GUEST_IA32_DEBUGCTL: (exit & EXIT.VM_EXIT_SAVE_DEBUG_CONTROLS) !== 0n,
      GUEST_IA32_PAT: (exit & EXIT.VM_EXIT_SAVE_IA32_PAT) !== 0n,
      GUEST_IA32_EFER: (exit & EXIT.VM_EXIT_SAVE_IA32_EFER) !== 0n,
      FRED: (exit2 & EXIT2.SECONDARY_VM_EXIT_SAVE_IA32_FRED) !== 0n,
    };
  return MSR_FIELDS.filter((f) => vmcs.supports(f) && (f.fred ? moves['FRED'] : moves[f.name] ?? /* SYSENTER_*: always */ true));
}

/**
 * Store the CPU's state into the guest-state area. `all` (setting up the VMCS) stores every field;
 * `exit` stores what a VM exit saves: MSR fields only by their save controls (FRED by secondary exit
 * control 0). CR4.VMXE, which VMX requires and the emulated CPU does not implement, is set in GUEST_CR4.
 */
export function saveGuestState(v: VcpuRegisters, vmcs: Vmcs, mode: 'all' | 'exit'): void {
  SEGMENTS.forEach((name, i) => saveSegment(vmcs, name, v.seg[i]!));
  saveSegment(vmcs, 'LDTR', v.ldtr);
  saveSegment(vmcs, 'TR', v.tr);
  vmcs.set('GUEST_GDTR_BASE', fromLinear(v.gdtr.base));
  vmcs.set('GUEST_GDTR_LIMIT', BigInt(v.gdtr.limit));
  vmcs.set('GUEST_IDTR_BASE', fromLinear(v.idtr.base));
  vmcs.set('GUEST_IDTR_LIMIT', BigInt(v.idtr.limit));
  vmcs.set('GUEST_CR0', v.cr0);
  vmcs.set('GUEST_CR3', v.cr3);
  vmcs.set('GUEST_CR4', v.cr4 | CR4_BITS.VMXE);
  if (mode === 'all' || (vmcs.get('VM_EXIT_CONTROLS') & EXIT.VM_EXIT_SAVE_DEBUG_CONTROLS) !== 0n) vmcs.set('GUEST_DR7', v.dr[7]!);
  vmcs.set('GUEST_RSP', v.gpr(RSP));
  vmcs.set('GUEST_RIP', fromLinear(v.rip));
  vmcs.set('GUEST_RFLAGS', BigInt(v.rflags));
  const fields = mode === 'all' ? MSR_FIELDS.filter((f) => vmcs.supports(f)) : movedMsrFields(vmcs, 'exit');
  for (const f of fields) vmcs.set(f.name, readMsr(v, msrIndexOf(f)));
  vmcs.set('GUEST_INTERRUPTIBILITY_INFO', (v.blockingBySti ? BLOCKING.STI : 0n) | (v.blockingByMovSs ? BLOCKING.MOV_SS : 0n) | (v.nmiBlocked ? BLOCKING.NMI : 0n));
  vmcs.set('GUEST_ACTIVITY_STATE', v.halted ? 1n : 0n);
  // A single step pending across an interrupt shadow or HLT (SDM §28.3.4: BS with TF = 1 and
  // IA32_DEBUGCTL.BTF = 0); the emulated CPU delivers it itself after the next instruction.
  const tf = (v.rflags & Number(RFLAGS_BITS.TF)) !== 0 && ((v.msr.get(0x1d9) ?? 0n) & 2n) === 0n;
  vmcs.set('GUEST_PENDING_DBG_EXCEPTIONS', tf && (v.blockingBySti || v.blockingByMovSs || v.halted) ? 0x4000n : 0n);
}

function saveSegment(vmcs: Vmcs, name: string, s: Segment): void {
  vmcs.set(`GUEST_${name}_SELECTOR`, BigInt(s.sel));
  vmcs.set(`GUEST_${name}_BASE`, fromLinear(s.base));
  vmcs.set(`GUEST_${name}_LIMIT`, BigInt(s.limit >>> 0));
  vmcs.set(`GUEST_${name}_AR_BYTES`, BigInt(s.attr));
}

function loadSegment(vmcs: Vmcs, name: string): Segment {
  return {
    sel: Number(vmcs.get(`GUEST_${name}_SELECTOR`)),
    base: toLinear(vmcs.get(`GUEST_${name}_BASE`)),
    limit: Number(vmcs.get(`GUEST_${name}_LIMIT`)),
    attr: Number(vmcs.get(`GUEST_${name}_AR_BYTES`)),
  };
}

/**
 * Load the guest-state area into the CPU as VM entry does after its checks passed (SDM §27.3.2):
 * MSR fields by their load controls (FRED by entry control 23), EFER.LMA/LME from "IA-32e mode guest"
 * when EFER is not loaded, CPL from SS.DPL, CR4 without VMXE. The caller resynchronises the CPU's
 * caches (paging, privilege, translations).
 */
export function loadGuestState(vmcs: Vmcs, v: VcpuRegisters): void {
  SEGMENTS.forEach((name, i) => { v.seg[i] = loadSegment(vmcs, name); });
  v.ldtr = loadSegment(vmcs, 'LDTR');
  v.tr = loadSegment(vmcs, 'TR');
  v.gdtr = { base: toLinear(vmcs.get('GUEST_GDTR_BASE')), limit: Number(vmcs.get('GUEST_GDTR_LIMIT')) };
  v.idtr = { base: toLinear(vmcs.get('GUEST_IDTR_BASE')), limit: Number(vmcs.get('GUEST_IDTR_LIMIT')) };
  v.cr0 = vmcs.get('GUEST_CR0');
  v.cr3 = vmcs.get('GUEST_CR3');
  v.cr4 = vmcs.get('GUEST_CR4') & ~CR4_BITS.VMXE;
  const entry = vmcs.get('VM_ENTRY_CONTROLS');
  if ((entry & ENTRY.VM_ENTRY_LOAD_DEBUG_CONTROLS) !== 0n) v.dr[7] = (vmcs.get('GUEST_DR7') & ~0xc000n) | 0x400n;
  for (const f of movedMsrFields(vmcs, 'entry')) {
    const index = msrIndexOf(f);
    if (index === IA32_EFER) v.efer = vmcs.get(f.name);
    else v.msr.set(index, vmcs.get(f.name));
  }
  if ((entry & ENTRY.VM_ENTRY_LOAD_IA32_EFER) === 0n) {
    v.efer = (entry & ENTRY.VM_ENTRY_IA32E_MODE) !== 0n ? v.efer | EFER_LME | EFER_LMA : v.efer & ~EFER_LMA;
  }
  v.setGpr(RSP, vmcs.get('GUEST_RSP'));
  v.rip = toLinear(vmcs.get('GUEST_RIP'));
  v.rflags = Number(vmcs.get('GUEST_RFLAGS'));
  v.cpl = (v.seg[2]!.attr >> 5) & 3;
  const blocking = vmcs.get('GUEST_INTERRUPTIBILITY_INFO');
  v.blockingBySti = (blocking & BLOCKING.STI) !== 0n;
  v.blockingByMovSs = (blocking & BLOCKING.MOV_SS) !== 0n;
  v.nmiBlocked = (blocking & BLOCKING.NMI) !== 0n;
  v.halted = vmcs.get('GUEST_ACTIVITY_STATE') === 1n;
}

/** VM exit with secondary exit control 1: the CPU's FRED MSRs take the host values (vmx-fred.md §1.12). */
export function loadHostFredState(vmcs: Vmcs, msrs: Map<number, bigint>): boolean {
  const exit = vmcs.get('VM_EXIT_CONTROLS');
  if (!vmcs.fred || (exit & EXIT.VM_EXIT_ACTIVATE_SECONDARY_CONTROLS) === 0n) return false;
  if ((vmcs.get('SECONDARY_VM_EXIT_CONTROLS') & EXIT2.SECONDARY_VM_EXIT_LOAD_IA32_FRED) === 0n) return false;
  for (const f of HOST_FRED_FIELDS) msrs.set(msrIndexOf(f), vmcs.get(f.name));
  return true;
}

/** The guest FRED fields (for tests and views): MSR index ↔ VMCS field. */
export const GUEST_FRED_MSR_FIELDS: ReadonlyMap<number, string> = new Map(FRED_FIELDS.map((f) => [msrIndexOf(f), f.name]));
