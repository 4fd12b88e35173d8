import { describe, expect, it } from 'vitest';
import { msrIndex } from '../../../src/arch/index';
import { capabilityMsr, vmxCapabilities, type VmxCapabilities } from '../../../src/machine/vmx/capabilities';
import { ENTRY_CHECK_FAMILIES, checkVmEntry, describeEntryOutcome, type EntryEnvironment } from '../../../src/machine/vmx/entryChecks';
import type { Vmcs } from '../../../src/machine/vmx/vmcs';
import { DATA_AR, makeFredGuest, makeUserGuest, validVmcs } from './fixtures';

const CAPS = vmxCapabilities();
const NONCANONICAL = 0x0000_8000_0000_0000n;
const FRED = 1n << 32n;

function withCap(name: string, update: (v: bigint) => bigint): VmxCapabilities {
  return { ...CAPS, msrs: new Map(CAPS.msrs).set(msrIndex(name), update(capabilityMsr(CAPS, name))) };
}

const or = (v: Vmcs, f: string, bits: bigint): void => v.set(f, v.get(f) | bits);
const clear = (v: Vmcs, f: string, bits: bigint): void => v.set(f, v.get(f) & ~bits);
/** A 32-bit host (VM entry outside IA-32e mode): host address-space size, IA-32e guest and EFER loads off. */
function legacyHost(v: Vmcs): void {
  clear(v, 'VM_EXIT_CONTROLS', (1n << 9n) | (1n << 21n));
  clear(v, 'VM_ENTRY_CONTROLS', 1n << 9n);
}
const LEGACY: EntryEnvironment = { hostIa32e: false };
/** Make FS/GS/LDTR usable so their checks apply. */
function usable(v: Vmcs, seg: string): void {
  if (seg === 'LDTR') { v.set('GUEST_LDTR_AR_BYTES', 0x82n); v.set('GUEST_LDTR_SELECTOR', 0x48n); v.set('GUEST_LDTR_LIMIT', 0xffn); }
  if (seg === 'FS' || seg === 'GS') { v.set(`GUEST_${seg}_AR_BYTES`, DATA_AR); v.set(`GUEST_${seg}_LIMIT`, 0xffff_ffffn); }
}

interface Case {
  readonly id: string;
  readonly mutate: (v: Vmcs) => void;
  readonly caps?: VmxCapabilities;
  readonly env?: EntryEnvironment;
  /** Words the reported rule must contain. */
  readonly words?: string;
  readonly qualification?: number;
}

const FRED_REGS = ['CONFIG', 'RSP1', 'RSP2', 'RSP3', 'SSP1', 'SSP2', 'SSP3'] as const;
const BAD_FRED: Record<(typeof FRED_REGS)[number], (old: bigint) => bigint> = {
  CONFIG: (o) => o | 4n, RSP1: (o) => o + 0x20n, RSP2: () => NONCANONICAL, RSP3: (o) => o + 8n,
  SSP1: () => 4n, SSP2: () => NONCANONICAL, SSP3: () => 1n,
};

const SEGMENT_CASES: Record<string, (v: Vmcs, seg: string) => void> = {
  usable: (v, s) => or(v, `GUEST_${s}_AR_BYTES`, 0x1_0000n),
  ti: (v, s) => or(v, `GUEST_${s}_SELECTOR`, 4n),
  reservedAr: (v, s) => or(v, `GUEST_${s}_AR_BYTES`, 0x100n),
  present: (v, s) => clear(v, `GUEST_${s}_AR_BYTES`, 0x80n),
  descriptorType: (v, s) => clear(v, `GUEST_${s}_AR_BYTES`, 0x10n),
  systemDescriptor: (v, s) => or(v, `GUEST_${s}_AR_BYTES`, 0x10n),
  limitGranularity: (v, s) => v.set(`GUEST_${s}_LIMIT`, (v.get(`GUEST_${s}_AR_BYTES`) & 0x8000n) !== 0n ? 0n : 0x10_0000n),
  baseHigh: (v, s) => v.set(`GUEST_${s}_BASE`, 1n << 32n),
  baseCanonical: (v, s) => v.set(`GUEST_${s}_BASE`, NONCANONICAL),
  accessed: (v, s) => clear(v, `GUEST_${s}_AR_BYTES`, 1n),
  readableCode: (v, s) => v.set(`GUEST_${s}_AR_BYTES`, (v.get(`GUEST_${s}_AR_BYTES`) & ~0xfn) | 9n),
  dplRpl: (v, s) => or(v, `GUEST_${s}_SELECTOR`, 3n),
};

const segmentCases: Case[] = ENTRY_CHECK_FAMILIES.flatMap((f) => f.checks)
  .map((c) => /^guest\.seg\.(\w+)\.(\w+)$/.exec(c.id))
  .filter((m): m is RegExpExecArray => m !== null && SEGMENT_CASES[m[2]!] !== undefined)
  .map(([id, seg, rule]) => ({ id: id!, mutate: (v: Vmcs) => { usable(v, seg!); SEGMENT_CASES[rule!]!(v, seg!); } }));

const CASES: Case[] = [
  // control checks (VMfail 7)
  { id: 'control.pin.allowed0', mutate: (v) => clear(v, 'PIN_BASED_VM_EXEC_CONTROL', 2n) },
  { id: 'control.pin.allowed1', mutate: (v) => or(v, 'PIN_BASED_VM_EXEC_CONTROL', 1n << 6n) },
  { id: 'control.proc.allowed0', mutate: (v) => clear(v, 'CPU_BASED_VM_EXEC_CONTROL', 2n) },
  { id: 'control.proc.allowed1', mutate: (v) => or(v, 'CPU_BASED_VM_EXEC_CONTROL', 1n << 21n) },
  {
    id: 'control.proc2.allowed0', caps: withCap('IA32_VMX_PROCBASED_CTLS2', (c) => c | 0x2n),
    mutate: (v) => v.set('SECONDARY_VM_EXEC_CONTROL', 0x20n),
  },
  { id: 'control.proc2.allowed1', mutate: (v) => or(v, 'SECONDARY_VM_EXEC_CONTROL', 1n) },
  { id: 'control.cr3TargetCount', mutate: (v) => v.set('CR3_TARGET_COUNT', 5n) },
  { id: 'control.IO_BITMAP_A', mutate: (v) => v.set('IO_BITMAP_A', 0x1001n), words: '4096-byte aligned' },
  { id: 'control.IO_BITMAP_B', mutate: (v) => v.set('IO_BITMAP_B', 1n << 52n) },
  { id: 'control.MSR_BITMAP', mutate: (v) => v.set('MSR_BITMAP', 0x3800n) },
  { id: 'control.virtualNmiNeedsNmiExiting', mutate: (v) => clear(v, 'PIN_BASED_VM_EXEC_CONTROL', 8n) },
  {
    id: 'control.nmiWindowNeedsVirtualNmi',
    mutate: (v) => { clear(v, 'PIN_BASED_VM_EXEC_CONTROL', 0x20n); or(v, 'CPU_BASED_VM_EXEC_CONTROL', 1n << 22n); },
  },
  { id: 'control.eptpMemoryType', mutate: (v) => v.set('EPT_POINTER', 0x5000n | 1n | (3n << 3n)) },
  { id: 'control.eptpWalkLength', mutate: (v) => v.set('EPT_POINTER', 0x5000n | 6n | (2n << 3n)) },
  { id: 'control.eptpReserved', mutate: (v) => or(v, 'EPT_POINTER', 0x100n) },
  { id: 'control.unrestrictedNeedsEpt', mutate: (v) => v.set('SECONDARY_VM_EXEC_CONTROL', 0xa0n) },
  { id: 'control.vpidNonZero', mutate: (v) => v.set('VIRTUAL_PROCESSOR_ID', 0n) },
  { id: 'control.exit.allowed0', mutate: (v) => clear(v, 'VM_EXIT_CONTROLS', 1n) },
  { id: 'control.exit.allowed1', mutate: (v) => or(v, 'VM_EXIT_CONTROLS', 1n << 12n) },
  { id: 'control.exit2.allowed1', mutate: (v) => v.set('SECONDARY_VM_EXIT_CONTROLS', 7n), words: 'vmx-fred.md §1.11 item 1' },
  { id: 'control.VM_EXIT_MSR_STORE_ADDR', mutate: (v) => { v.set('VM_EXIT_MSR_STORE_COUNT', 1n); v.set('VM_EXIT_MSR_STORE_ADDR', 0x8008n); } },
  { id: 'control.VM_EXIT_MSR_LOAD_ADDR', mutate: (v) => { v.set('VM_EXIT_MSR_LOAD_COUNT', 1n); v.set('VM_EXIT_MSR_LOAD_ADDR', 0x8004n); } },
  { id: 'control.entry.allowed0', mutate: (v) => clear(v, 'VM_ENTRY_CONTROLS', 1n) },
  { id: 'control.entry.allowed1', mutate: (v) => or(v, 'VM_ENTRY_CONTROLS', 1n << 13n) },
  { id: 'control.VM_ENTRY_MSR_LOAD_ADDR', mutate: (v) => { v.set('VM_ENTRY_MSR_LOAD_COUNT', 1n); v.set('VM_ENTRY_MSR_LOAD_ADDR', 0x9001n); } },
  { id: 'control.intr.reserved', mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8010_030en), words: 'reserved mask 0x7FFFD000' },
  { id: 'control.intr.typeReserved', mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0120n), words: 'type 1 is reserved' },
  { id: 'control.intr.nmiVector', mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0203n), words: 'vector 2' },
  { id: 'control.intr.hardwareExceptionVector', mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0320n), words: '0–31' },
  {
    id: 'control.intr.nestedNeedsHardwareException', mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_2020n),
    words: 'bit 13 (nested exception) may be 1 only with interruption type 3',
  },
  { id: 'control.intr.otherEventVector', mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0701n), words: 'FRED guest' },
  {
    id: 'control.intr.errorCodeType',
    mutate: (v) => { v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0c80n); v.set('VM_ENTRY_INSTRUCTION_LEN', 2n); },
  },
  {
    id: 'control.intr.errorCodeConsistency', caps: withCap('IA32_VMX_BASIC', (c) => c & ~(1n << 56n)),
    mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_030en), words: 'IA32_VMX_BASIC[56]',
  },
  {
    id: 'control.intr.errorCodeBits',
    mutate: (v) => { v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0b0en); v.set('VM_ENTRY_EXCEPTION_ERROR_CODE', 0x1_0000n); },
    words: 'bits 31:16',
  },
  {
    id: 'control.intr.softwareLength',
    mutate: (v) => { v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0480n); v.set('VM_ENTRY_INSTRUCTION_LEN', 0n); }, words: '1–15',
  },
  {
    id: 'control.intr.otherEventLength',
    mutate: (v) => { makeFredGuest(v); v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0701n); v.set('VM_ENTRY_INSTRUCTION_LEN', 16n); },
  },
  // host-state checks (VMfail 8)
  { id: 'host.cr0.fixed0', mutate: (v) => clear(v, 'HOST_CR0', 0x20n) },
  { id: 'host.cr0.fixed1', mutate: (v) => or(v, 'HOST_CR0', 1n << 32n) },
  { id: 'host.cr4.fixed0', mutate: (v) => clear(v, 'HOST_CR4', 0x2000n) },
  { id: 'host.cr4.fixed1', mutate: (v) => or(v, 'HOST_CR4', 1n << 15n) },
  { id: 'host.cr3.physical', mutate: (v) => v.set('HOST_CR3', 1n << 52n) },
  { id: 'host.HOST_IA32_SYSENTER_ESP', mutate: (v) => v.set('HOST_IA32_SYSENTER_ESP', NONCANONICAL) },
  { id: 'host.HOST_IA32_SYSENTER_EIP', mutate: (v) => v.set('HOST_IA32_SYSENTER_EIP', NONCANONICAL) },
  { id: 'host.pat.HOST_IA32_PAT', mutate: (v) => { or(v, 'VM_EXIT_CONTROLS', 1n << 19n); v.set('HOST_IA32_PAT', 2n); }, words: 'valid memory type' },
  { id: 'host.efer.HOST_IA32_EFER', mutate: (v) => or(v, 'HOST_IA32_EFER', 2n) },
  { id: 'host.efer.lmaLme', mutate: (v) => v.set('HOST_IA32_EFER', 0xc01n) },
  ...FRED_REGS.map((r): Case => ({
    id: `host.fred.HOST_IA32_FRED_${r}`, words: 'vmx-fred.md §1.11 item 3',
    mutate: (v) => v.set(`HOST_IA32_FRED_${r}`, BAD_FRED[r](v.get(`HOST_IA32_FRED_${r}`))),
  })),
  { id: 'host.addressSpace.ia32eProcessor', mutate: (v) => clear(v, 'VM_EXIT_CONTROLS', (1n << 9n) | (1n << 21n)) },
  { id: 'host.addressSpace.legacyProcessor', env: LEGACY, mutate: () => undefined },
  { id: 'host.addressSpace.pae', mutate: (v) => clear(v, 'HOST_CR4', 0x20n) },
  { id: 'host.addressSpace.ripCanonical', mutate: (v) => v.set('HOST_RIP', NONCANONICAL) },
  { id: 'host.addressSpace.pcide', env: LEGACY, mutate: (v) => { legacyHost(v); or(v, 'HOST_CR4', 1n << 17n); } },
  { id: 'host.addressSpace.fred', env: LEGACY, mutate: (v) => { legacyHost(v); or(v, 'HOST_CR4', FRED); }, words: 'vmx-fred.md §1.10, §1.11 item 4' },
  { id: 'host.addressSpace.ripHigh', env: LEGACY, mutate: legacyHost },
  ...['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'TR'].map((s): Case => ({ id: `host.selector.${s}`, mutate: (v) => or(v, `HOST_${s}_SELECTOR`, 1n) })),
  { id: 'host.selector.CS.nonNull', mutate: (v) => v.set('HOST_CS_SELECTOR', 0n) },
  { id: 'host.selector.TR.nonNull', mutate: (v) => v.set('HOST_TR_SELECTOR', 0n) },
  { id: 'host.selector.SS.nonNull', env: LEGACY, mutate: (v) => { legacyHost(v); v.set('HOST_RIP', 0x1000n); v.set('HOST_SS_SELECTOR', 0n); } },
  ...['FS', 'GS', 'TR', 'GDTR', 'IDTR'].map((s): Case => ({ id: `host.base.HOST_${s}_BASE`, mutate: (v) => v.set(`HOST_${s}_BASE`, NONCANONICAL) })),
  // guest-state checks (exit reason 33)
  { id: 'guest.cr0.fixed0', mutate: (v) => clear(v, 'GUEST_CR0', 0x20n) },
  { id: 'guest.cr0.fixed1', mutate: (v) => or(v, 'GUEST_CR0', 1n << 32n) },
  { id: 'guest.cr0.pgNeedsPe', mutate: (v) => { or(v, 'SECONDARY_VM_EXEC_CONTROL', 0x80n); clear(v, 'GUEST_CR0', 1n); } },
  { id: 'guest.cr4.fixed0', mutate: (v) => clear(v, 'GUEST_CR4', 0x2000n) },
  { id: 'guest.cr4.fixed1', mutate: (v) => or(v, 'GUEST_CR4', 1n << 15n) },
  { id: 'guest.cr3.physical', mutate: (v) => v.set('GUEST_CR3', 1n << 52n) },
  { id: 'guest.debugctl.GUEST_IA32_DEBUGCTL', mutate: (v) => { or(v, 'VM_ENTRY_CONTROLS', 4n); v.set('GUEST_IA32_DEBUGCTL', 8n); } },
  { id: 'guest.dr7.high', mutate: (v) => { or(v, 'VM_ENTRY_CONTROLS', 4n); or(v, 'GUEST_DR7', 1n << 32n); } },
  { id: 'guest.ia32e.paging', mutate: (v) => { or(v, 'SECONDARY_VM_EXEC_CONTROL', 0x80n); clear(v, 'GUEST_CR0', 1n << 31n); } },
  { id: 'guest.ia32e.pae', mutate: (v) => clear(v, 'GUEST_CR4', 0x20n) },
  { id: 'guest.notIa32e.pcide', mutate: (v) => { clear(v, 'VM_ENTRY_CONTROLS', 1n << 9n); or(v, 'GUEST_CR4', 1n << 17n); } },
  {
    id: 'guest.fred.needsIa32e', words: 'vmx-fred.md §1.10, §1.11 item 6',
    mutate: (v) => { clear(v, 'VM_ENTRY_CONTROLS', 1n << 9n); or(v, 'GUEST_CR4', FRED); },
  },
  { id: 'guest.GUEST_SYSENTER_ESP', mutate: (v) => v.set('GUEST_SYSENTER_ESP', NONCANONICAL) },
  { id: 'guest.GUEST_SYSENTER_EIP', mutate: (v) => v.set('GUEST_SYSENTER_EIP', NONCANONICAL) },
  { id: 'guest.pat.GUEST_IA32_PAT', mutate: (v) => { or(v, 'VM_ENTRY_CONTROLS', 1n << 14n); v.set('GUEST_IA32_PAT', 2n); } },
  { id: 'guest.efer.GUEST_IA32_EFER', mutate: (v) => or(v, 'GUEST_IA32_EFER', 2n) },
  { id: 'guest.efer.lma', mutate: (v) => v.set('GUEST_IA32_EFER', 0x901n) },
  { id: 'guest.efer.lme', mutate: (v) => v.set('GUEST_IA32_EFER', 0xc01n) },
  ...FRED_REGS.map((r): Case => ({
    id: `guest.fred.GUEST_IA32_FRED_${r}`, words: 'vmx-fred.md §1.11 item 5',
    mutate: (v) => v.set(`GUEST_IA32_FRED_${r}`, BAD_FRED[r](0x10_0000n)),
  })),
  { id: 'guest.fred.ssDpl', mutate: (v) => { makeFredGuest(v); or(v, 'GUEST_SS_AR_BYTES', 1n << 5n); }, words: 'SS.DPL (the CPL) must be 0 or 3' },
  { id: 'guest.fred.cpl0Needs64Bit', mutate: (v) => { makeFredGuest(v); clear(v, 'GUEST_CS_AR_BYTES', 1n << 13n); }, words: 'CS.L must be 1' },
  { id: 'guest.fred.cpl3Iopl', mutate: (v) => { makeFredGuest(v); makeUserGuest(v); or(v, 'GUEST_RFLAGS', 0x3000n); }, words: 'IOPL must be 0' },
  {
    id: 'guest.fred.cpl3StiBlocking', words: 'blocking by STI',
    mutate: (v) => { makeFredGuest(v); makeUserGuest(v); or(v, 'GUEST_RFLAGS', 0x200n); v.set('GUEST_INTERRUPTIBILITY_INFO', 1n); },
  },
  ...segmentCases,
  { id: 'guest.seg.CS.type', mutate: (v) => v.set('GUEST_CS_AR_BYTES', (v.get('GUEST_CS_AR_BYTES') & ~0xfn) | 3n) },
  { id: 'guest.seg.CS.dplNonConforming', mutate: (v) => or(v, 'GUEST_CS_AR_BYTES', 0x60n) },
  { id: 'guest.seg.CS.dplConforming', mutate: (v) => or(v, 'GUEST_CS_AR_BYTES', 0x6fn) },
  { id: 'guest.seg.CS.longAndDefault', mutate: (v) => or(v, 'GUEST_CS_AR_BYTES', 0x4000n) },
  { id: 'guest.seg.SS.type', mutate: (v) => v.set('GUEST_SS_AR_BYTES', (v.get('GUEST_SS_AR_BYTES') & ~0xfn) | 1n) },
  { id: 'guest.seg.SS.rplMatchesCs', mutate: (v) => v.set('GUEST_SS_SELECTOR', 0x1bn) },
  { id: 'guest.seg.SS.dplMatchesRpl', mutate: (v) => { or(v, 'GUEST_CS_AR_BYTES', 0x60n); or(v, 'GUEST_SS_AR_BYTES', 0x60n); } },
  { id: 'guest.seg.TR.type', mutate: (v) => v.set('GUEST_TR_AR_BYTES', 0x83n) },
  { id: 'guest.seg.LDTR.type', mutate: (v) => { usable(v, 'LDTR'); v.set('GUEST_LDTR_AR_BYTES', 0x83n); } },
  { id: 'guest.GDTR.base', mutate: (v) => v.set('GUEST_GDTR_BASE', NONCANONICAL) },
  { id: 'guest.GDTR.limit', mutate: (v) => v.set('GUEST_GDTR_LIMIT', 0x1_0000n) },
  { id: 'guest.IDTR.base', mutate: (v) => v.set('GUEST_IDTR_BASE', NONCANONICAL) },
  { id: 'guest.IDTR.limit', mutate: (v) => v.set('GUEST_IDTR_LIMIT', 0x1_0000n) },
  { id: 'guest.rip.high', mutate: (v) => { clear(v, 'GUEST_CS_AR_BYTES', 1n << 13n); v.set('GUEST_RIP', 1n << 32n); } },
  { id: 'guest.rip.canonical', mutate: (v) => v.set('GUEST_RIP', NONCANONICAL) },
  { id: 'guest.rflags.reserved', mutate: (v) => or(v, 'GUEST_RFLAGS', 1n << 22n) },
  { id: 'guest.rflags.bit1', mutate: (v) => v.set('GUEST_RFLAGS', 0n) },
  { id: 'guest.rflags.vm', mutate: (v) => or(v, 'GUEST_RFLAGS', 1n << 17n) },
  { id: 'guest.rflags.ifForExternalInterrupt', mutate: (v) => v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0020n), words: 'RFLAGS.IF = 1' },
  { id: 'guest.activity.supported', mutate: (v) => v.set('GUEST_ACTIVITY_STATE', 2n) },
  { id: 'guest.activity.hltNeedsCpl0', mutate: (v) => { makeUserGuest(v); v.set('GUEST_ACTIVITY_STATE', 1n); } },
  { id: 'guest.activity.blockingNeedsActive', mutate: (v) => { v.set('GUEST_ACTIVITY_STATE', 1n); v.set('GUEST_INTERRUPTIBILITY_INFO', 2n); } },
  { id: 'guest.activity.hltInjection', mutate: (v) => { v.set('GUEST_ACTIVITY_STATE', 1n); v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0b0dn); } },
  { id: 'guest.interruptibility.reserved', mutate: (v) => v.set('GUEST_INTERRUPTIBILITY_INFO', 0x20n) },
  { id: 'guest.interruptibility.stiAndMovSs', mutate: (v) => { or(v, 'GUEST_RFLAGS', 0x200n); v.set('GUEST_INTERRUPTIBILITY_INFO', 3n); } },
  { id: 'guest.interruptibility.stiNeedsIf', mutate: (v) => v.set('GUEST_INTERRUPTIBILITY_INFO', 1n) },
  { id: 'guest.interruptibility.smi', mutate: (v) => v.set('GUEST_INTERRUPTIBILITY_INFO', 4n) },
  {
    id: 'guest.interruptibility.externalInterruptInjection', words: 'blocking by STI and by MOV SS',
    mutate: (v) => { or(v, 'GUEST_RFLAGS', 0x200n); v.set('GUEST_INTERRUPTIBILITY_INFO', 1n); v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0020n); },
  },
  {
    id: 'guest.interruptibility.nmiInjectionMovSs',
    mutate: (v) => { v.set('GUEST_INTERRUPTIBILITY_INFO', 2n); v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0202n); },
  },
  {
    id: 'guest.interruptibility.nmiInjectionSti', qualification: 3,
    mutate: (v) => { or(v, 'GUEST_RFLAGS', 0x200n); v.set('GUEST_INTERRUPTIBILITY_INFO', 1n); v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0202n); },
  },
  {
    id: 'guest.interruptibility.virtualNmiBlocking',
    mutate: (v) => { v.set('GUEST_INTERRUPTIBILITY_INFO', 8n); v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0202n); },
  },
  { id: 'guest.pendingDebug.reserved', mutate: (v) => v.set('GUEST_PENDING_DBG_EXCEPTIONS', 0x10n) },
  {
    id: 'guest.pendingDebug.singleStep',
    mutate: (v) => { or(v, 'GUEST_RFLAGS', 0x300n); v.set('GUEST_INTERRUPTIBILITY_INFO', 1n); },
  },
  { id: 'guest.vmcsLinkPointer', mutate: (v) => v.set('VMCS_LINK_POINTER', 0n), qualification: 4 },
];

const FAMILY_OF = new Map(ENTRY_CHECK_FAMILIES.flatMap((f) => f.checks.map((c) => [c.id, { family: f.name, check: c }] as const)));

describe('VM-entry checks: the valid fixture', () => {
  it('passes every check, with and without FRED exposed', () => {
    expect(checkVmEntry(validVmcs(), CAPS)).toBeUndefined();
    expect(checkVmEntry(validVmcs(false), vmxCapabilities({ fred: false }))).toBeUndefined();
  });

  it('a FRED guest at CPL 0 and at CPL 3 passes', () => {
    const v = validVmcs();
    makeFredGuest(v);
    expect(checkVmEntry(v, CAPS)).toBeUndefined();
    makeUserGuest(v);
    expect(checkVmEntry(v, CAPS)).toBeUndefined();
  });

  it('a VMCS and capabilities that disagree on FRED are a programming error, not a guest failure', () => {
    expect(() => checkVmEntry(validVmcs(false), CAPS)).toThrow(/lacks the FRED fields but the capabilities expose FRED/);
  });

  it('allowed-0 rules say which bits must be 1', () => {
    const v = validVmcs();
    v.set('PIN_BASED_VM_EXEC_CONTROL', 0x29n);
    expect(checkVmEntry(v, CAPS)?.check).toContain('every bit that is 1 in the allowed-0 settings of IA32_VMX_TRUE_PINBASED_CTLS');
  });

  it('every check of the three families has a violating test case below', () => {
    const tested = new Set(CASES.map((c) => c.id));
    const missing = [...FAMILY_OF.keys()].filter((id) => !tested.has(id));
    expect(missing).toEqual([]);
    expect(CASES.map((c) => c.id).filter((id) => !FAMILY_OF.has(id))).toEqual([]);
  });
});

describe('VM-entry checks: one violation per check', () => {
  it.each(CASES.map((c) => [c.id, c] as const))('%s', (id, c) => {
    const v = validVmcs();
    c.mutate(v);
    const failure = checkVmEntry(v, c.caps ?? CAPS, c.env ?? {});
    const { family, check } = FAMILY_OF.get(id)!;
    expect(failure?.id).toBe(id);
    expect(failure!.field).toBe(check.field);
    expect(failure!.value).toBe(v.get(check.field));
    expect(failure!.check).toMatch(/SDM §27|vmx-fred\.md §/);
    if (c.words) expect(failure!.check).toContain(c.words);
    const o = failure!.outcome;
    if (family === 'control') expect(o).toEqual({ kind: 'vmfail', vmInstructionError: 7 });
    else if (family === 'host') expect(o).toEqual({ kind: 'vmfail', vmInstructionError: 8 });
    else expect(o).toEqual({ kind: 'exit', basicReason: 33, exitReason: 0x8000_0021, qualification: c.qualification ?? 0 });
  });
});

describe('VM-entry checks: rules that need more than one case', () => {
  it('bit 13 counts as reserved without IA32_VMX_BASIC[58]', () => {
    const v = validVmcs();
    v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_2b0en);
    expect(checkVmEntry(v, CAPS)).toBeUndefined(); // nested #PF with FRED support
    const f = checkVmEntry(v, withCap('IA32_VMX_BASIC', (c) => c & ~(1n << 58n)));
    expect(f?.id).toBe('control.intr.reserved');
    expect(f?.check).toContain('0x7FFFF000');
  });

  it('SYSCALL/SYSENTER (type 7, vectors 1/2) may be injected into a FRED guest; vector 3 may not', () => {
    const v = validVmcs();
    makeFredGuest(v);
    v.set('VM_ENTRY_INSTRUCTION_LEN', 2n);
    for (const vector of [0n, 1n, 2n]) {
      v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0700n | vector);
      expect(checkVmEntry(v, CAPS)).toBeUndefined();
    }
    v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0703n);
    expect(checkVmEntry(v, CAPS)?.id).toBe('control.intr.otherEventVector');
  });

  it('software events: length 16 fails, length 0 is allowed only with IA32_VMX_MISC[30]', () => {
    const v = validVmcs();
    v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0603n); // INT3
    v.set('VM_ENTRY_INSTRUCTION_LEN', 16n);
    expect(checkVmEntry(v, CAPS)?.id).toBe('control.intr.softwareLength');
    v.set('VM_ENTRY_INSTRUCTION_LEN', 0n);
    expect(checkVmEntry(v, vmxCapabilities({ zeroLengthInjection: true }))).toBeUndefined();
  });

  it('error-code consistency: #PF must and #UD must not deliver an error code without BASIC[56]', () => {
    const strict = withCap('IA32_VMX_BASIC', (c) => c & ~(1n << 56n));
    const v = validVmcs();
    v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0b0en);
    expect(checkVmEntry(v, strict)).toBeUndefined();
    v.set('VM_ENTRY_INTR_INFO_FIELD', 0x8000_0b06n);
    expect(checkVmEntry(v, strict)?.id).toBe('control.intr.errorCodeConsistency');
    expect(checkVmEntry(v, CAPS)).toBeUndefined();
  });

  it('secondary exit controls are ignored while exit control 31 is 0', () => {
    const v = validVmcs();
    v.set('SECONDARY_VM_EXIT_CONTROLS', 0xffn);
    clear(v, 'VM_EXIT_CONTROLS', 1n << 31n);
    expect(checkVmEntry(v, CAPS)).toBeUndefined();
  });

  it('host FRED fields are checked only with "load host FRED state"; guest ones only with entry control 23', () => {
    const v = validVmcs();
    v.set('HOST_IA32_FRED_RSP1', 1n);
    v.set('GUEST_IA32_FRED_RSP1', 1n);
    expect(checkVmEntry(v, CAPS)?.id).toBe('host.fred.HOST_IA32_FRED_RSP1');
    v.set('SECONDARY_VM_EXIT_CONTROLS', 1n);
    expect(checkVmEntry(v, CAPS)?.id).toBe('guest.fred.GUEST_IA32_FRED_RSP1');
    clear(v, 'VM_ENTRY_CONTROLS', 1n << 23n);
    expect(checkVmEntry(v, CAPS)).toBeUndefined();
  });

  it('the FRED checks name the value and the MSR rule that failed', () => {
    const v = validVmcs();
    v.set('HOST_IA32_FRED_CONFIG', 0xffff_ffff_8100_2834n);
    const f = checkVmEntry(v, CAPS)!;
    expect(f.field).toBe('HOST_IA32_FRED_CONFIG');
    expect(f.value).toBe(0xffff_ffff_8100_2834n);
    expect(f.check).toContain('reserved bits (mask 0x834) 0');
    expect(describeEntryOutcome(f.outcome)).toBe('VMfailValid, VM-instruction error 8');
  });
});

describe('VM-entry MSR-load area (exit reason 34)', () => {
  const area = (words: bigint[]): EntryEnvironment => ({ readPhysical64: (a) => words[Number((a - 0x9000n) / 8n)] ?? 0n });
  const withArea = (count: bigint): Vmcs => {
    const v = validVmcs();
    v.set('VM_ENTRY_MSR_LOAD_COUNT', count);
    v.set('VM_ENTRY_MSR_LOAD_ADDR', 0x9000n);
    return v;
  };

  it('loads acceptable entries', () => {
    expect(checkVmEntry(withArea(2n), CAPS, area([0xc000_0081n, 0x0023_0010_0000_0000n, 0xc000_0102n, 0n]))).toBeUndefined();
  });

  it.each([
    ['FS base', [0xc000_0081n, 0n, 0xc000_0100n, 0n], 2, 'IA32_FS_BASE'],
    ['x2APIC', [0x808n, 0n], 1, 'x2APIC'],
    ['reserved bits', [1n << 32n, 0n], 1, 'bits 63:32'],
    ['unknown MSR', [0x12345n, 0n], 1, 'does not exist'],
    ['WRMSR check', [0x1d4n, 4n], 1, 'IA32_FRED_CONFIG reserved bits'],
  ] as const)('%s fails with exit reason 34 and the entry number as qualification', (_w, words, n, text) => {
    const f = checkVmEntry(withArea(BigInt(words.length / 2)), CAPS, area([...words]));
    expect(f?.id).toBe('msrLoad');
    expect(f?.field).toBe('VM_ENTRY_MSR_LOAD_ADDR');
    expect(f?.check).toContain(text);
    expect(f?.outcome).toEqual({ kind: 'exit', basicReason: 34, exitReason: 0x8000_0022, qualification: n });
  });

  it('a non-empty area without a memory reader fails instead of being skipped', () => {
    expect(checkVmEntry(withArea(1n), CAPS)?.check).toContain('not readable');
  });
});
