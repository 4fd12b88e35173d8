// VM-entry checks on the guest-state area (SDM Vol. 3C §27.3.1; failure = VM-entry failure exit,
// basic reason 33 with bit 31), for a protected-mode or IA-32e guest (this monitor never enters
// virtual-8086 mode), including the FRED guest checks of vmx-fred.md §1.11 items 5–7 and the
// injection checks tied to guest state (§3.8: RFLAGS.IF and blocking for interrupt/NMI injection).
import { ACCESS_RIGHTS_RESERVED_MASK, CR0_BITS, CR4_BITS, DR6_BITS, INTERRUPTIBILITY_FIELDS, RFLAGS_BITS, VMCS_FIELDS, fieldMasks } from '../../arch/index';
import { VMX_MISC_BITS } from '../../arch/index';
import { AR, bitSet, canonical, ENTRY, fixedChecks, high32Clear, msrValueChecks, PIN, type EntryCheck, type EntryContext } from './entryCheckKit';

const CRS = '§27.3.1.1';
const SEGMENTS = '§27.3.1.2';
const TABLES = '§27.3.1.3';
const RIP_RFLAGS = '§27.3.1.4';
const NON_REGISTER = '§27.3.1.5';

const BLOCKING = fieldMasks(INTERRUPTIBILITY_FIELDS);
const STI_OR_MOV_SS = BLOCKING.STI | BLOCKING.MOV_SS;
/** RFLAGS bits 63:22, 15, 5, 3 are reserved (SDM §27.3.1.4). */
const RFLAGS_RESERVED = ~0x3f_7fd7n & ((1n << 64n) - 1n);
/** Pending debug exceptions: only B3–B0, enabled breakpoint (12) and BS (14) without RTM (SDM §27.3.1.5). */
const PENDING_DBG_RESERVED = ~0x500fn & ((1n << 64n) - 1n);
const ACTIVITY_HLT = 1n;
const ACTIVITY_MISC_BIT: Readonly<Record<number, bigint>> = {
  1: VMX_MISC_BITS.ACTIVITY_HLT, 2: VMX_MISC_BITS.ACTIVITY_SHUTDOWN, 3: VMX_MISC_BITS.ACTIVITY_WAIT_SIPI,
};

const guestCr4Fred = (x: EntryContext): boolean => bitSet(x.get('GUEST_CR4'), CR4_BITS.FRED);
const arType = (ar: bigint): bigint => ar & AR.TYPE;
const rpl = (x: EntryContext, seg: string): bigint => x.get(`GUEST_${seg}_SELECTOR`) & 3n;
const ti = (x: EntryContext, seg: string): boolean => bitSet(x.get(`GUEST_${seg}_SELECTOR`), 4n);

/** Limit and granularity agree: G = 1 needs limit bits 11:0 all 1; G = 0 needs limit bits 31:20 all 0. */
function limitMatchesGranularity(limit: bigint, ar: bigint): boolean {
  return bitSet(ar, AR.G) ? (limit & 0xfffn) === 0xfffn : limit >> 20n === 0n;
}

/** A rule applied to several segments: generates one check per segment (`guest.seg.<SEG>.<name>`). */
interface SegmentRule {
  readonly name: string;
  readonly segs: readonly string[];
  readonly field: (seg: string) => string;
  readonly words: (seg: string) => string;
  /** Checked only when the segment is usable (default true; CS and TR are always checked). */
  readonly onlyUsable?: boolean;
  readonly when?: (x: EntryContext, seg: string) => boolean;
  readonly holds: (v: bigint, x: EntryContext, seg: string) => boolean;
}

const DATA = ['DS', 'ES', 'FS', 'GS'];
const CODE_DATA = ['CS', 'SS', ...DATA];
const ar = (s: string): string => `GUEST_${s}_AR_BYTES`;

const SEGMENT_RULES: readonly SegmentRule[] = [
  {
    name: 'usable', segs: ['TR'], field: ar, onlyUsable: false,
    words: (s) => `${s} must be usable (access-rights bit 16 = 0)`, holds: (v) => !bitSet(v, AR.UNUSABLE),
  },
  {
    name: 'ti', segs: ['TR', 'LDTR'], field: (s) => `GUEST_${s}_SELECTOR`,
    words: (s) => `${s} selector TI flag (bit 2) must be 0`, holds: (v) => !bitSet(v, 4n),
  },
  {
    name: 'reservedAr', segs: [...CODE_DATA, 'LDTR', 'TR'], field: ar,
    words: (s) => `${s} access rights bits 11:8 and 31:17 are reserved`, holds: (v) => (v & BigInt(ACCESS_RIGHTS_RESERVED_MASK)) === 0n,
  },
  {
    name: 'present', segs: [...CODE_DATA, 'LDTR', 'TR'], field: ar,
    words: (s) => `${s} must be present (P = 1)`, holds: (v) => bitSet(v, AR.P),
  },
  {
    name: 'descriptorType', segs: CODE_DATA, field: ar,
    words: (s) => `${s} must be a code or data segment (S = 1)`, holds: (v) => bitSet(v, AR.S),
  },
  {
    name: 'systemDescriptor', segs: ['LDTR', 'TR'], field: ar,
    words: (s) => `${s} must be a system segment (S = 0)`, holds: (v) => !bitSet(v, AR.S),
  },
  {
    name: 'limitGranularity', segs: [...CODE_DATA, 'LDTR', 'TR'], field: (s) => `GUEST_${s}_LIMIT`,
    words: (s) => `${s} limit and G flag agree (G = 1: limit bits 11:0 all 1; G = 0: limit bits 31:20 all 0)`,
    holds: (v, x, s) => limitMatchesGranularity(v, x.ar(s)),
  },
  {
    name: 'baseHigh', segs: ['CS', 'SS', 'DS', 'ES'], field: (s) => `GUEST_${s}_BASE`,
    words: (s) => `${s} base bits 63:32 must be 0`, holds: high32Clear,
  },
  {
    name: 'baseCanonical', segs: ['FS', 'GS', 'LDTR', 'TR'], field: (s) => `GUEST_${s}_BASE`, onlyUsable: false,
    when: (x, s) => s !== 'LDTR' || x.usable(s),
    words: (s) => `${s} base must be canonical`, holds: canonical,
  },
  {
    name: 'accessed', segs: DATA, field: ar,
    words: (s) => `${s} type bit 0 (accessed) must be 1`, holds: (v) => bitSet(v, 1n),
  },
  {
    name: 'readableCode', segs: DATA, field: ar,
    words: (s) => `${s}: a code segment must be readable (type bit 1)`, holds: (v) => !bitSet(v, 8n) || bitSet(v, 2n),
  },
  {
    name: 'dplRpl', segs: DATA, field: ar, when: (x, s) => !x.unrestricted && arType(x.ar(s)) <= 11n,
    words: (s) => `${s}: for a data or non-conforming code segment, DPL must be at least the selector's RPL (without "unrestricted guest")`,
    holds: (v, x, s) => (v & AR.DPL) >> 5n >= rpl(x, s),
  },
];

function segmentChecks(): EntryCheck[] {
  return SEGMENT_RULES.flatMap((r) => r.segs.map((seg): EntryCheck => ({
    id: `guest.seg.${seg}.${r.name}`, field: r.field(seg),
    rule: `${r.words(seg)} (SDM ${SEGMENTS})`,
    when: (x) => (r.onlyUsable === false || seg === 'CS' || x.usable(seg)) && (r.when?.(x, seg) ?? true),
    holds: (v, x) => r.holds(v, x, seg),
  })));
}

const GUEST_FRED_FIELDS = VMCS_FIELDS.filter((f) => f.fred && f.group === 'guestRegisterState');
const byName = (name: string) => VMCS_FIELDS.filter((f) => f.name === name);

export const GUEST_CHECKS: readonly EntryCheck[] = [
  // Control registers, debug registers and MSRs (SDM §27.3.1.1).
  ...fixedChecks('CR0', 'GUEST', CRS, undefined, (x) => (x.unrestricted ? CR0_BITS.PE | CR0_BITS.PG : 0n)),
  {
    id: 'guest.cr0.pgNeedsPe', field: 'GUEST_CR0', rule: `GUEST_CR0.PG = 1 requires CR0.PE = 1 (SDM ${CRS})`,
    holds: (v) => !bitSet(v, CR0_BITS.PG) || bitSet(v, CR0_BITS.PE),
  },
  ...fixedChecks('CR4', 'GUEST', CRS),
  {
    id: 'guest.cr3.physical', field: 'GUEST_CR3', rule: `GUEST_CR3 bits above the physical-address width must be 0 (SDM ${CRS})`,
    holds: (v, x) => x.physical(v),
  },
  ...msrValueChecks('guest.debugctl', byName('GUEST_IA32_DEBUGCTL'), `SDM ${CRS}, "load debug controls"`,
    (x) => bitSet(x.entry, ENTRY.VM_ENTRY_LOAD_DEBUG_CONTROLS)),
  {
    id: 'guest.dr7.high', field: 'GUEST_DR7', when: (x) => bitSet(x.entry, ENTRY.VM_ENTRY_LOAD_DEBUG_CONTROLS),
    rule: `GUEST_DR7 bits 63:32 must be 0 with "load debug controls" (SDM ${CRS})`, holds: high32Clear,
  },
  {
    id: 'guest.ia32e.paging', field: 'GUEST_CR0', when: (x) => x.ia32eGuest,
    rule: `an IA-32e mode guest needs GUEST_CR0.PG = 1 (SDM ${CRS})`, holds: (v) => bitSet(v, CR0_BITS.PG),
  },
  {
    id: 'guest.ia32e.pae', field: 'GUEST_CR4', when: (x) => x.ia32eGuest,
    rule: `an IA-32e mode guest needs GUEST_CR4.PAE = 1 (SDM ${CRS})`, holds: (v) => bitSet(v, CR4_BITS.PAE),
  },
  {
    id: 'guest.notIa32e.pcide', field: 'GUEST_CR4', when: (x) => !x.ia32eGuest,
    rule: `without "IA-32e mode guest", GUEST_CR4.PCIDE must be 0 (SDM ${CRS})`, holds: (v) => !bitSet(v, CR4_BITS.PCIDE),
  },
  {
    id: 'guest.fred.needsIa32e', field: 'GUEST_CR4', when: (x) => !x.ia32eGuest,
    rule: 'without "IA-32e mode guest", GUEST_CR4.FRED (bit 32) must be 0 (vmx-fred.md §1.10, §1.11 item 6)',
    holds: (v) => !bitSet(v, CR4_BITS.FRED),
  },
  ...['GUEST_SYSENTER_ESP', 'GUEST_SYSENTER_EIP'].map((f): EntryCheck => ({
    id: `guest.${f}`, field: f, rule: `${f} must be canonical (SDM ${CRS})`, holds: canonical,
  })),
  ...msrValueChecks('guest.pat', byName('GUEST_IA32_PAT'), `SDM ${CRS}, "load IA32_PAT"`, (x) => bitSet(x.entry, ENTRY.VM_ENTRY_LOAD_IA32_PAT)),
  ...msrValueChecks('guest.efer', byName('GUEST_IA32_EFER'), `SDM ${CRS}, "load IA32_EFER"`, (x) => bitSet(x.entry, ENTRY.VM_ENTRY_LOAD_IA32_EFER)),
  {
    id: 'guest.efer.lma', field: 'GUEST_IA32_EFER', when: (x) => bitSet(x.entry, ENTRY.VM_ENTRY_LOAD_IA32_EFER),
    rule: `GUEST_IA32_EFER.LMA must equal the "IA-32e mode guest" entry control (SDM ${CRS})`,
    holds: (v, x) => ((v >> 10n) & 1n) === BigInt(x.ia32eGuest),
  },
  {
    id: 'guest.efer.lme', field: 'GUEST_IA32_EFER',
    when: (x) => bitSet(x.entry, ENTRY.VM_ENTRY_LOAD_IA32_EFER) && bitSet(x.get('GUEST_CR0'), CR0_BITS.PG),
    rule: `with GUEST_CR0.PG = 1, GUEST_IA32_EFER.LME must equal EFER.LMA (SDM ${CRS})`,
    holds: (v) => ((v >> 10n) & 1n) === ((v >> 8n) & 1n),
  },
  // FRED guest state (vmx-fred.md §1.11 items 5 and 7; checked whenever the control is set, as Bochs does).
  ...msrValueChecks('guest.fred', GUEST_FRED_FIELDS, 'vmx-fred.md §1.11 item 5, when entry control 23 "load guest FRED state" is 1',
    (x) => bitSet(x.entry, ENTRY.VM_ENTRY_LOAD_IA32_FRED)),
  {
    id: 'guest.fred.ssDpl', field: 'GUEST_SS_AR_BYTES', when: guestCr4Fred,
    rule: 'with GUEST_CR4.FRED = 1, SS.DPL (the CPL) must be 0 or 3 (vmx-fred.md §1.11 item 7)',
    holds: (v) => ((v & AR.DPL) >> 5n) % 3n === 0n,
  },
  {
    id: 'guest.fred.cpl0Needs64Bit', field: 'GUEST_CS_AR_BYTES', when: (x) => guestCr4Fred(x) && x.dpl('SS') === 0n,
    rule: 'with GUEST_CR4.FRED = 1 and SS.DPL = 0, CS.L must be 1 (ring 0 runs in 64-bit mode) (vmx-fred.md §1.11 item 7)',
    holds: (v) => bitSet(v, AR.L),
  },
  {
    id: 'guest.fred.cpl3Iopl', field: 'GUEST_RFLAGS', when: (x) => guestCr4Fred(x) && x.dpl('SS') === 3n,
    rule: 'with GUEST_CR4.FRED = 1 and SS.DPL = 3, RFLAGS.IOPL must be 0 (vmx-fred.md §1.11 item 7)',
    holds: (v) => !bitSet(v, RFLAGS_BITS.IOPL),
  },
  {
    id: 'guest.fred.cpl3StiBlocking', field: 'GUEST_INTERRUPTIBILITY_INFO', when: (x) => guestCr4Fred(x) && x.dpl('SS') === 3n,
    rule: 'with GUEST_CR4.FRED = 1 and SS.DPL = 3, blocking by STI (interruptibility bit 0) must be 0 (vmx-fred.md §1.11 item 7)',
    holds: (v) => !bitSet(v, BLOCKING.STI),
  },
  // Segment registers (SDM §27.3.1.2).
  ...segmentChecks(),
  {
    id: 'guest.seg.CS.type', field: 'GUEST_CS_AR_BYTES',
    rule: `CS type must be 9, 11, 13 or 15 (accessed code; 3 also with "unrestricted guest") (SDM ${SEGMENTS})`,
    holds: (v, x) => [9n, 11n, 13n, 15n].includes(arType(v)) || (x.unrestricted && arType(v) === 3n),
  },
  {
    id: 'guest.seg.CS.dplNonConforming', field: 'GUEST_CS_AR_BYTES', when: (x) => [9n, 11n].includes(arType(x.ar('CS'))),
    rule: `a non-conforming CS (type 9 or 11) must have DPL = SS.DPL (SDM ${SEGMENTS})`,
    holds: (v, x) => (v & AR.DPL) >> 5n === x.dpl('SS'),
  },
  {
    id: 'guest.seg.CS.dplConforming', field: 'GUEST_CS_AR_BYTES', when: (x) => [13n, 15n].includes(arType(x.ar('CS'))),
    rule: `a conforming CS (type 13 or 15) must have DPL ≤ SS.DPL (SDM ${SEGMENTS})`,
    holds: (v, x) => (v & AR.DPL) >> 5n <= x.dpl('SS'),
  },
  {
    id: 'guest.seg.CS.longAndDefault', field: 'GUEST_CS_AR_BYTES', when: (x) => x.ia32eGuest && bitSet(x.ar('CS'), AR.L),
    rule: `for an IA-32e mode guest with CS.L = 1, CS.D/B must be 0 (SDM ${SEGMENTS})`,
    holds: (v) => !bitSet(v, AR.DB),
  },
  {
    id: 'guest.seg.SS.type', field: 'GUEST_SS_AR_BYTES', when: (x) => x.usable('SS'),
    rule: `a usable SS must have type 3 or 7 (read/write data, accessed) (SDM ${SEGMENTS})`,
    holds: (v) => arType(v) === 3n || arType(v) === 7n,
  },
  {
    id: 'guest.seg.SS.rplMatchesCs', field: 'GUEST_SS_SELECTOR', when: (x) => !x.unrestricted,
    rule: `SS selector RPL must equal CS selector RPL (without "unrestricted guest") (SDM ${SEGMENTS})`,
    holds: (v, x) => (v & 3n) === rpl(x, 'CS'),
  },
  {
    id: 'guest.seg.SS.dplMatchesRpl', field: 'GUEST_SS_AR_BYTES', when: (x) => !x.unrestricted,
    rule: `SS.DPL must equal the SS selector's RPL (without "unrestricted guest") (SDM ${SEGMENTS})`,
    holds: (v, x) => (v & AR.DPL) >> 5n === rpl(x, 'SS'),
  },
  {
    id: 'guest.seg.TR.type', field: 'GUEST_TR_AR_BYTES',
    rule: `TR type must be 11 (busy 64-bit TSS) for an IA-32e mode guest, else 3 or 11 (SDM ${SEGMENTS})`,
    holds: (v, x) => arType(v) === 11n || (!x.ia32eGuest && arType(v) === 3n),
  },
  {
    id: 'guest.seg.LDTR.type', field: 'GUEST_LDTR_AR_BYTES', when: (x) => x.usable('LDTR'),
    rule: `a usable LDTR must have type 2 (LDT) (SDM ${SEGMENTS})`,
    holds: (v) => arType(v) === 2n,
  },
  // Descriptor-table registers (SDM §27.3.1.3).
  ...['GDTR', 'IDTR'].flatMap((t): EntryCheck[] => [
    { id: `guest.${t}.base`, field: `GUEST_${t}_BASE`, rule: `GUEST_${t}_BASE must be canonical (SDM ${TABLES})`, holds: canonical },
    { id: `guest.${t}.limit`, field: `GUEST_${t}_LIMIT`, rule: `GUEST_${t}_LIMIT bits 31:16 must be 0 (SDM ${TABLES})`, holds: (v) => v >> 16n === 0n },
  ]),
  // RIP and RFLAGS (SDM §27.3.1.4).
  {
    id: 'guest.rip.high', field: 'GUEST_RIP', when: (x) => !x.ia32eGuest || !bitSet(x.ar('CS'), AR.L),
    rule: `GUEST_RIP bits 63:32 must be 0 unless the guest is IA-32e with CS.L = 1 (SDM ${RIP_RFLAGS})`, holds: high32Clear,
  },
  {
    id: 'guest.rip.canonical', field: 'GUEST_RIP', when: (x) => x.ia32eGuest && bitSet(x.ar('CS'), AR.L),
    rule: `GUEST_RIP must be canonical for an IA-32e guest with CS.L = 1 (SDM ${RIP_RFLAGS})`, holds: canonical,
  },
  {
    id: 'guest.rflags.reserved', field: 'GUEST_RFLAGS',
    rule: `GUEST_RFLAGS bits 63:22, 15, 5 and 3 must be 0 (SDM ${RIP_RFLAGS})`, holds: (v) => (v & RFLAGS_RESERVED) === 0n,
  },
  {
    id: 'guest.rflags.bit1', field: 'GUEST_RFLAGS', rule: `GUEST_RFLAGS bit 1 must be 1 (SDM ${RIP_RFLAGS})`,
    holds: (v) => bitSet(v, 2n),
  },
  {
    id: 'guest.rflags.vm', field: 'GUEST_RFLAGS', when: (x) => x.ia32eGuest || !bitSet(x.get('GUEST_CR0'), CR0_BITS.PE),
    rule: `GUEST_RFLAGS.VM must be 0 for an IA-32e mode guest or with CR0.PE = 0 (SDM ${RIP_RFLAGS})`,
    holds: (v) => !bitSet(v, RFLAGS_BITS.VM),
  },
  {
    id: 'guest.rflags.ifForExternalInterrupt', field: 'GUEST_RFLAGS', when: (x) => x.injecting(0),
    rule: `injecting an external interrupt needs GUEST_RFLAGS.IF = 1 (SDM ${RIP_RFLAGS}; vmx-fred.md §3.8)`,
    holds: (v) => bitSet(v, RFLAGS_BITS.IF),
  },
  // Non-register state (SDM §27.3.1.5).
  {
    id: 'guest.activity.supported', field: 'GUEST_ACTIVITY_STATE',
    rule: `GUEST_ACTIVITY_STATE must be 0 (active) or a state IA32_VMX_MISC bits 8:6 report (HLT on this CPU) (SDM ${NON_REGISTER})`,
    holds: (v, x) => v === 0n || (ACTIVITY_MISC_BIT[Number(v)] !== undefined && bitSet(x.cap('IA32_VMX_MISC'), ACTIVITY_MISC_BIT[Number(v)]!)),
  },
  {
    id: 'guest.activity.hltNeedsCpl0', field: 'GUEST_ACTIVITY_STATE', when: (x) => x.get('GUEST_ACTIVITY_STATE') === ACTIVITY_HLT,
    rule: `the HLT activity state needs SS.DPL = 0 (SDM ${NON_REGISTER})`,
    holds: (_v, x) => x.dpl('SS') === 0n,
  },
  {
    id: 'guest.activity.blockingNeedsActive', field: 'GUEST_ACTIVITY_STATE',
    when: (x) => bitSet(x.get('GUEST_INTERRUPTIBILITY_INFO'), STI_OR_MOV_SS),
    rule: `with blocking by STI or MOV SS the activity state must be active (SDM ${NON_REGISTER})`,
    holds: (v) => v === 0n,
  },
  {
    id: 'guest.activity.hltInjection', field: 'VM_ENTRY_INTR_INFO_FIELD', when: (x) => x.event.valid && x.get('GUEST_ACTIVITY_STATE') === ACTIVITY_HLT,
    rule: `into the HLT state only an external interrupt, NMI, #DB or #MC (type 3) or a pending MTF (type 7, vector 0) may be injected (SDM ${NON_REGISTER})`,
    holds: (_v, x) => {
      const { type, vector } = x.event;
      return type === 0 || type === 2 || (type === 3 && (vector === 1 || vector === 18)) || (type === 7 && vector === 0);
    },
  },
  {
    id: 'guest.interruptibility.reserved', field: 'GUEST_INTERRUPTIBILITY_INFO',
    rule: `GUEST_INTERRUPTIBILITY_INFO bits 31:4 must be 0 (bit 4, enclave interruption, needs SGX, which this CPU lacks) (SDM ${NON_REGISTER})`,
    holds: (v) => v >> 4n === 0n,
  },
  {
    id: 'guest.interruptibility.stiAndMovSs', field: 'GUEST_INTERRUPTIBILITY_INFO',
    rule: `blocking by STI and blocking by MOV SS must not both be 1 (SDM ${NON_REGISTER})`,
    holds: (v) => (v & STI_OR_MOV_SS) !== STI_OR_MOV_SS,
  },
  {
    id: 'guest.interruptibility.stiNeedsIf', field: 'GUEST_INTERRUPTIBILITY_INFO', when: (x) => !bitSet(x.get('GUEST_RFLAGS'), RFLAGS_BITS.IF),
    rule: `blocking by STI must be 0 when RFLAGS.IF = 0 (SDM ${NON_REGISTER})`,
    holds: (v) => !bitSet(v, BLOCKING.STI),
  },
  {
    id: 'guest.interruptibility.smi', field: 'GUEST_INTERRUPTIBILITY_INFO',
    rule: `blocking by SMI must be 0 outside SMM (SDM ${NON_REGISTER})`, holds: (v) => !bitSet(v, BLOCKING.SMI),
  },
  {
    id: 'guest.interruptibility.externalInterruptInjection', field: 'GUEST_INTERRUPTIBILITY_INFO', when: (x) => x.injecting(0),
    rule: `injecting an external interrupt needs blocking by STI and by MOV SS both 0 (SDM ${NON_REGISTER}; vmx-fred.md §3.8)`,
    holds: (v) => !bitSet(v, STI_OR_MOV_SS),
  },
  {
    id: 'guest.interruptibility.nmiInjectionMovSs', field: 'GUEST_INTERRUPTIBILITY_INFO', when: (x) => x.injecting(2),
    rule: `injecting an NMI needs blocking by MOV SS = 0 (SDM ${NON_REGISTER}; vmx-fred.md §3.8)`,
    holds: (v) => !bitSet(v, BLOCKING.MOV_SS),
  },
  {
    id: 'guest.interruptibility.nmiInjectionSti', field: 'GUEST_INTERRUPTIBILITY_INFO', when: (x) => x.injecting(2), qualification: 3,
    rule: `injecting an NMI needs blocking by STI = 0 (exit qualification 3) (SDM ${NON_REGISTER}, §27.8; vmx-fred.md §3.8)`,
    holds: (v) => !bitSet(v, BLOCKING.STI),
  },
  {
    id: 'guest.interruptibility.virtualNmiBlocking', field: 'GUEST_INTERRUPTIBILITY_INFO',
    when: (x) => x.injecting(2) && bitSet(x.pin, PIN.PIN_BASED_VIRTUAL_NMIS),
    rule: `injecting an NMI with "virtual NMIs" needs blocking by NMI = 0 (SDM ${NON_REGISTER}; vmx-fred.md §3.8)`,
    holds: (v) => !bitSet(v, BLOCKING.NMI),
  },
  {
    id: 'guest.pendingDebug.reserved', field: 'GUEST_PENDING_DBG_EXCEPTIONS',
    rule: `GUEST_PENDING_DBG_EXCEPTIONS bits 11:4, 13, 15 and 63:16 must be 0 (no RTM) (SDM ${NON_REGISTER})`,
    holds: (v) => (v & PENDING_DBG_RESERVED) === 0n,
  },
  {
    id: 'guest.pendingDebug.singleStep', field: 'GUEST_PENDING_DBG_EXCEPTIONS',
    when: (x) => bitSet(x.get('GUEST_INTERRUPTIBILITY_INFO'), STI_OR_MOV_SS) || x.get('GUEST_ACTIVITY_STATE') === ACTIVITY_HLT,
    rule: `with blocking by STI/MOV SS or in HLT, pending BS (bit 14) must be 1 exactly when RFLAGS.TF = 1 and IA32_DEBUGCTL.BTF = 0 (SDM ${NON_REGISTER})`,
    holds: (v, x) => bitSet(v, DR6_BITS.BS)
      === (bitSet(x.get('GUEST_RFLAGS'), RFLAGS_BITS.TF) && !bitSet(x.get('GUEST_IA32_DEBUGCTL'), 2n)),
  },
  {
    id: 'guest.vmcsLinkPointer', field: 'VMCS_LINK_POINTER', qualification: 4,
    rule: `VMCS_LINK_POINTER must be FFFFFFFF_FFFFFFFF: this CPU has no VMCS shadowing and no other VMCS (exit qualification 4) (SDM ${NON_REGISTER})`,
    holds: (v) => v === 0xffff_ffff_ffff_ffffn,
  },
];
