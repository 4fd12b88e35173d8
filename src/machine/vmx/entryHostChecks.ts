// VM-entry checks on the host-state area (SDM Vol. 3C §27.2.2–§27.2.4; failure = VMfail,
// VM-instruction error 8), including the FRED host checks of vmx-fred.md §1.11 items 3–4.
import { CR4_BITS, VMCS_FIELDS } from '../../arch/index';
import { bitSet, canonical, ENTRY, EXIT, EXIT2, fixedChecks, high32Clear, msrValueChecks, type EntryCheck } from './entryCheckKit';

const REGS = '§27.2.2';
const SEGS = '§27.2.3';
const SIZE = '§27.2.4';


const HOST_FRED_FIELDS = VMCS_FIELDS.filter((f) => f.fred && f.group === 'hostState');

export const HOST_CHECKS: readonly EntryCheck[] = [
  ...fixedChecks('CR0', 'HOST', REGS),
  ...fixedChecks('CR4', 'HOST', REGS),
  {
    id: 'host.cr3.physical', field: 'HOST_CR3',
    rule: `HOST_CR3 bits above the physical-address width must be 0 (SDM ${REGS})`,
    holds: (v, x) => x.physical(v),
  },
  ...['HOST_IA32_SYSENTER_ESP', 'HOST_IA32_SYSENTER_EIP'].map((f): EntryCheck => ({
    id: `host.${f}`, field: f, rule: `${f} must be canonical (SDM ${REGS})`, holds: canonical,
  })),
  ...msrValueChecks('host.pat', VMCS_FIELDS.filter((f) => f.name === 'HOST_IA32_PAT'), `SDM ${REGS}, "load IA32_PAT"`,
    (x) => bitSet(x.exit, EXIT.VM_EXIT_LOAD_IA32_PAT)),
  ...msrValueChecks('host.efer', VMCS_FIELDS.filter((f) => f.name === 'HOST_IA32_EFER'), `SDM ${REGS}, "load IA32_EFER"`,
    (x) => bitSet(x.exit, EXIT.VM_EXIT_LOAD_IA32_EFER)),
  {
    id: 'host.efer.lmaLme', field: 'HOST_IA32_EFER', when: (x) => bitSet(x.exit, EXIT.VM_EXIT_LOAD_IA32_EFER),
    rule: `HOST_IA32_EFER.LMA and .LME must both equal the "host address-space size" exit control (SDM ${REGS})`,
    holds: (v, x) => ((v >> 10n) & 1n) === BigInt(x.hostAddressSpace) && ((v >> 8n) & 1n) === BigInt(x.hostAddressSpace),
  },
  ...msrValueChecks('host.fred', HOST_FRED_FIELDS, 'vmx-fred.md §1.11 item 3, when secondary exit control 1 "load host FRED state" is 1',
    (x) => bitSet(x.exit2, EXIT2.SECONDARY_VM_EXIT_LOAD_IA32_FRED)),
  // Address-space size (SDM §27.2.4).
  {
    id: 'host.addressSpace.ia32eProcessor', field: 'VM_EXIT_CONTROLS', when: (x) => x.hostIa32e,
    rule: `"host address-space size" must be 1 when VM entry is executed in IA-32e mode (SDM ${SIZE})`,
    holds: (_v, x) => x.hostAddressSpace,
  },
  {
    id: 'host.addressSpace.legacyProcessor', field: 'VM_EXIT_CONTROLS', when: (x) => !x.hostIa32e,
    rule: `outside IA-32e mode, "host address-space size" and "IA-32e mode guest" must both be 0 (SDM ${SIZE})`,
    holds: (_v, x) => !x.hostAddressSpace && !bitSet(x.entry, ENTRY.VM_ENTRY_IA32E_MODE),
  },
  {
    id: 'host.addressSpace.pae', field: 'HOST_CR4', when: (x) => x.hostAddressSpace,
    rule: `HOST_CR4.PAE must be 1 with "host address-space size" = 1 (SDM ${SIZE})`,
    holds: (v) => bitSet(v, CR4_BITS.PAE),
  },
  {
    id: 'host.addressSpace.ripCanonical', field: 'HOST_RIP', when: (x) => x.hostAddressSpace,
    rule: `HOST_RIP must be canonical with "host address-space size" = 1 (SDM ${SIZE})`,
    holds: canonical,
  },
  {
    id: 'host.addressSpace.pcide', field: 'HOST_CR4', when: (x) => !x.hostAddressSpace,
    rule: `HOST_CR4.PCIDE must be 0 with "host address-space size" = 0 (SDM ${SIZE})`,
    holds: (v) => !bitSet(v, CR4_BITS.PCIDE),
  },
  {
    id: 'host.addressSpace.fred', field: 'HOST_CR4', when: (x) => !x.hostAddressSpace,
    rule: 'HOST_CR4.FRED (bit 32) must be 0 with "host address-space size" = 0 (vmx-fred.md §1.10, §1.11 item 4)',
    holds: (v) => !bitSet(v, CR4_BITS.FRED),
  },
  {
    id: 'host.addressSpace.ripHigh', field: 'HOST_RIP', when: (x) => !x.hostAddressSpace,
    rule: `HOST_RIP bits 63:32 must be 0 with "host address-space size" = 0 (SDM ${SIZE})`,
    holds: high32Clear,
  },
  // Segment and descriptor-table registers (SDM §27.2.3).
  ...['ES', 'CS', 'SS', 'DS', 'FS', 'GS', 'TR'].map((s): EntryCheck => ({
    id: `host.selector.${s}`, field: `HOST_${s}_SELECTOR`,
    rule: `HOST_${s}_SELECTOR RPL (bits 1:0) and TI (bit 2) must be 0 (SDM ${SEGS})`,
    holds: (v) => (v & 7n) === 0n,
  })),
  ...['CS', 'TR'].map((s): EntryCheck => ({
    id: `host.selector.${s}.nonNull`, field: `HOST_${s}_SELECTOR`,
    rule: `HOST_${s}_SELECTOR must not be 0 (SDM ${SEGS})`,
    holds: (v) => v !== 0n,
  })),
  {
    id: 'host.selector.SS.nonNull', field: 'HOST_SS_SELECTOR', when: (x) => !x.hostAddressSpace,
    rule: `HOST_SS_SELECTOR must not be 0 with "host address-space size" = 0 (SDM ${SEGS})`,
    holds: (v) => v !== 0n,
  },
  ...['HOST_FS_BASE', 'HOST_GS_BASE', 'HOST_TR_BASE', 'HOST_GDTR_BASE', 'HOST_IDTR_BASE'].map((f): EntryCheck => ({
    id: `host.base.${f}`, field: f, rule: `${f} must be canonical (SDM ${SEGS})`, holds: canonical,
  })),
];
