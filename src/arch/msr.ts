// Model-specific registers: SDM names, indices, field layouts and the static WRMSR checks as data
// (Intel SDM Vol. 4 "Model-Specific Registers"; FRED MSRs per fred-architecture.md §2 and
// vmx-fred.md §1.1; x2APIC registers SDM Vol. 3A §11.12.1.2 Table 11-6; VMX capability MSRs SDM
// Vol. 3D Appendix A). State-dependent rules (EFER.LME with paging on, x2APIC mode, LMA) belong
// to the CPU; `checkMsrWrite` applies only what the table says.

import { bit, bits, fieldMasks, rangeMask, type BitLayout } from './bitField';
import { EFER_FIELDS } from './controlRegisters';

/** A static WRMSR rule; a violation is #GP(0). */
export type MsrWriteRule =
  | { readonly kind: 'readOnly' }
  /** Bits that must be 0. */
  | { readonly kind: 'reserved'; readonly mask: bigint }
  /** The whole value must be a canonical linear address. */
  | { readonly kind: 'canonical' }
  /** Bits [bits-1:0] must be 0, i.e. the value is 2^bits-byte aligned. */
  | { readonly kind: 'aligned'; readonly bits: number }
  /** Every byte is a valid memory type (0, 1, 4, 5, 6, 7), IA32_PAT (SDM 12.12.2). */
  | { readonly kind: 'memoryTypes' };

export interface MsrDef {
  readonly name: string;
  readonly index: number;
  readonly doc: string;
  readonly fields: BitLayout;
  readonly rules: readonly MsrWriteRule[];
  /** False for MSRs that cannot be read (x2APIC EOI and SELF_IPI are write-only). */
  readonly readable: boolean;
  /** Other names of the same MSR (IA32_PL0_SSP is also IA32_FRED_SSP0). */
  readonly aliases: readonly string[];
}

const RO: MsrWriteRule = { kind: 'readOnly' };
const CANON: MsrWriteRule = { kind: 'canonical' };
const reservedBits = (mask: bigint): MsrWriteRule => ({ kind: 'reserved', mask });
const aligned = (n: number): MsrWriteRule => ({ kind: 'aligned', bits: n });
const HIGH32 = 0xffffffff_00000000n;
const ALL64 = (1n << 64n) - 1n;

function msr(name: string, index: number, doc: string, rules: readonly MsrWriteRule[] = [],
  fields: BitLayout = [], readable = true, aliases: readonly string[] = []): MsrDef {
  return { name, index, doc, fields, rules, readable, aliases };
}

export const FRED_CONFIG_FIELDS = [
  bits('CSL', 1, 0, 'Current stack level (maintained by event delivery and ERETS)'),
  bit('SSP_DECREMENT', 3, 'Shadow-stack decrement: same-level delivery first lowers SSP by 8'),
  bits('REDZONE', 8, 6, 'Red zone in 64-byte units, skipped for same-level ring-0 delivery'),
  bits('INT_STKLVL', 10, 9, 'Stack level for external interrupts delivered in ring 0'),
  bits('ENTRYPOINT', 63, 12, 'Entry point (4 KiB page): ring 3 enters at +0, ring 0 at +256'),
] as const;

/** `FRED_CONFIG_BITS.REDZONE` = 0x1C0n etc. */
export const FRED_CONFIG_BITS = fieldMasks(FRED_CONFIG_FIELDS);

const STAR_FIELDS: BitLayout = [
  bits('SYSCALL_EIP', 31, 0, 'Legacy-mode SYSCALL target EIP'),
  bits('SYSCALL_CS', 47, 32, 'Kernel CS selector for SYSCALL; FRED ring-3 events load CS = this & ~3, SS = CS + 8'),
  bits('SYSRET_CS', 63, 48, 'SYSRET CS/SS base; ERETU fast path matches CS = this + 16, SS = this + 8'),
];

const APIC_BASE_FIELDS: BitLayout = [
  bit('BSP', 8, 'Bootstrap processor (read-only)'),
  bit('EXTD', 10, 'x2APIC mode enable'),
  bit('EN', 11, 'xAPIC global enable'),
  bits('BASE', 51, 12, 'APIC base physical page'),
];

const DEBUGCTL_FIELDS: BitLayout = [
  bit('LBR', 0, 'Last-branch record'),
  bit('BTF', 1, 'Single-step on branches'),
  bit('BLD', 2, 'Bus-lock detection'),
  bit('TR', 6, 'Trace messages enable'),
  bit('BTS', 7, 'Branch trace store'),
  bit('BTINT', 8, 'Branch trace interrupt'),
  bit('BTS_OFF_OS', 9, 'BTS off in ring 0'),
  bit('BTS_OFF_USR', 10, 'BTS off in ring 3'),
  bit('FREEZE_LBRS_ON_PMI', 11, 'Freeze LBRs on PMI'),
  bit('FREEZE_PERFMON_ON_PMI', 12, 'Freeze performance counters on PMI'),
  bit('ENABLE_UNCORE_PMI', 13, 'Enable uncore PMI'),
  bit('FREEZE_WHILE_SMM', 14, 'Freeze perfmon and trace while in SMM'),
  bit('RTM_DEBUG', 15, 'RTM debugging'),
];

const CET_FIELDS: BitLayout = [
  bit('SH_STK_EN', 0, 'Shadow stacks enable'),
  bit('WR_SHSTK_EN', 1, 'WRSS enable'),
  bit('ENDBR_EN', 2, 'Indirect-branch tracking enable'),
  bit('LEG_IW_EN', 3, 'Legacy indirect-branch bitmap enable'),
  bit('NO_TRACK_EN', 4, 'NOTRACK prefix honoured'),
  bit('SUPPRESS_DIS', 5, 'Disable IBT suppression'),
  bit('SUPPRESS', 10, 'IBT tracker suppressed'),
  bit('TRACKER', 11, 'IBT tracker in WAIT_FOR_ENDBRANCH'),
  bits('EB_LEG_BITMAP_BASE', 63, 12, 'Legacy code-page bitmap base'),
];

const FEATURE_CONTROL_FIELDS: BitLayout = [
  bit('LOCK', 0, 'Lock bit: further writes #GP'),
  bit('VMX_INSIDE_SMX', 1, 'VMXON allowed inside SMX'),
  bit('VMX_OUTSIDE_SMX', 2, 'VMXON allowed outside SMX'),
];

const LVT_FIELDS: BitLayout = [
  bits('VECTOR', 7, 0, 'Interrupt vector'),
  bits('DELIVERY_MODE', 10, 8, 'Delivery mode (0 fixed, 2 SMI, 4 NMI, 5 INIT, 7 ExtINT)'),
  bit('DELIVERY_STATUS', 12, 'Send pending (read-only)'),
  bit('MASK', 16, 'Masked'),
];

const ICR_FIELDS: BitLayout = [
  bits('VECTOR', 7, 0, 'Vector'),
  bits('DELIVERY_MODE', 10, 8, 'Delivery mode (0 fixed, 1 lowest priority, 2 SMI, 4 NMI, 5 INIT, 6 start-up)'),
  bit('DEST_MODE', 11, 'Destination mode (0 physical, 1 logical)'),
  bit('LEVEL', 14, 'Level (1 = assert)'),
  bit('TRIGGER', 15, 'Trigger mode (0 edge, 1 level)'),
  bits('SHORTHAND', 19, 18, 'Destination shorthand (0 none, 1 self, 2 all incl. self, 3 all but self)'),
  bits('DESTINATION', 63, 32, 'x2APIC destination ID'),
];

// The upper 32 bits of every x2APIC register except the ICR are reserved (SDM 11.12.1.2).
function x2apic(suffix: string, offset: number, doc: string, rules: readonly MsrWriteRule[] = [reservedBits(HIGH32)],
  fields: BitLayout = [], readable = true): MsrDef {
  return msr(`IA32_X2APIC_${suffix}`, 0x800 + offset, doc, rules, fields, readable);
}

function x2apicBank(suffix: string, offset: number, what: string): MsrDef[] {
  return Array.from({ length: 8 }, (_, i) =>
    x2apic(`${suffix}${i}`, offset + i, `x2APIC ${what} bits ${32 * i + 31}:${32 * i}`, [RO]));
}

const VMX_CAPABILITIES: readonly [string, string][] = [
  ['BASIC', 'VMX basic information: revision, VMCS size, memory type, TRUE_CTLS (55), nested exception (58)'],
  ['PINBASED_CTLS', 'Allowed settings of the pin-based VM-execution controls'],
  ['PROCBASED_CTLS', 'Allowed settings of the primary processor-based VM-execution controls'],
  ['EXIT_CTLS', 'Allowed settings of the primary VM-exit controls (bit 31 activates secondary)'],
  ['ENTRY_CTLS', 'Allowed settings of the VM-entry controls (bit 23 = load guest FRED state)'],
  ['MISC', 'Miscellaneous VMX data (preemption-timer rate, activity states, CR3 targets)'],
  ['CR0_FIXED0', 'CR0 bits fixed to 1 in VMX operation'],
  ['CR0_FIXED1', 'CR0 bits that may be 1 in VMX operation'],
  ['CR4_FIXED0', 'CR4 bits fixed to 1 in VMX operation'],
  ['CR4_FIXED1', 'CR4 bits that may be 1 in VMX operation (bit 32 with FRED)'],
  ['VMCS_ENUM', 'Highest VMCS field index (bits 9:1)'],
  ['PROCBASED_CTLS2', 'Allowed settings of the secondary processor-based controls'],
  ['EPT_VPID_CAP', 'EPT and VPID capabilities'],
  ['TRUE_PINBASED_CTLS', 'True allowed settings of the pin-based controls'],
  ['TRUE_PROCBASED_CTLS', 'True allowed settings of the primary processor-based controls'],
  ['TRUE_EXIT_CTLS', 'True allowed settings of the primary VM-exit controls'],
  ['TRUE_ENTRY_CTLS', 'True allowed settings of the VM-entry controls'],
  ['VMFUNC', 'Allowed VM functions'],
  ['PROCBASED_CTLS3', 'Allowed-1 settings of the tertiary processor-based controls (64-bit)'],
  ['EXIT_CTLS2', 'Allowed-1 settings of the secondary VM-exit controls (bits 0/1 = save/load FRED)'],
];

export const MSRS: readonly MsrDef[] = [
  msr('IA32_TSC', 0x10, 'Time-stamp counter (RDTSC)'),
  msr('IA32_APIC_BASE', 0x1b, 'Local APIC base address, global enable and x2APIC mode',
    // Bits 7:0, 9 and 63:52 (above MAXPHYADDR 52) are reserved; BSP is read-only.
    [reservedBits(0x2ffn | rangeMask(63, 52))], APIC_BASE_FIELDS),
  msr('IA32_FEATURE_CONTROL', 0x3a, 'Feature control: lock bit and VMXON enables',
    [reservedBits(ALL64 & ~0x7n)], FEATURE_CONTROL_FIELDS),
  msr('IA32_SYSENTER_CS', 0x174, 'SYSENTER target CS selector (unused under FRED)', [reservedBits(HIGH32)],
    [bits('CS', 15, 0, 'Kernel CS selector')]),
  msr('IA32_SYSENTER_ESP', 0x175, 'SYSENTER target RSP (unused under FRED)', [CANON]),
  msr('IA32_SYSENTER_EIP', 0x176, 'SYSENTER target RIP (unused under FRED)', [CANON]),
  msr('IA32_XFD', 0x1c4, 'Extended feature disable: XSAVE components that raise #NM (bit 18 = AMX TILEDATA)',
    [reservedBits(ALL64 & ~(1n << 18n))]),
  msr('IA32_XFD_ERR', 0x1c5, 'XFD error: which disabled component caused the last #NM (FRED #NM event data)',
    [reservedBits(ALL64 & ~(1n << 18n))]),
  ...[0, 1, 2, 3].map((n) => msr(`IA32_FRED_RSP${n}`, 0x1cc + n,
    n === 0 ? 'FRED stack pointer for stack level 0 (events from ring 3); not in the VMCS'
      : `FRED stack pointer for stack level ${n}`,
    [aligned(6), CANON])),
  msr('IA32_FRED_STKLVLS', 0x1d0, 'FRED stack level for each exception vector 0–31: bits 2v+1:2v', [],
    Array.from({ length: 32 }, (_, v) => bits(`VECTOR${v}`, 2 * v + 1, 2 * v, `Stack level for vector ${v}`))),
  ...[1, 2, 3].map((n) => msr(`IA32_FRED_SSP${n}`, 0x1d0 + n, `FRED shadow-stack pointer for stack level ${n}`,
    [aligned(3), CANON])),
  msr('IA32_FRED_CONFIG', 0x1d4, 'FRED configuration: entry point, red zone, interrupt stack level, CSL',
    [reservedBits(0x834n), CANON], FRED_CONFIG_FIELDS),
  msr('IA32_DEBUGCTL', 0x1d9, 'Debug control: LBR, BTF, BTS', [reservedBits(ALL64 & ~0xffc7n)], DEBUGCTL_FIELDS),
  msr('IA32_PAT', 0x277, 'Page attribute table: 8 memory types PA0..PA7', [{ kind: 'memoryTypes' }],
    Array.from({ length: 8 }, (_, i) => bits(`PA${i}`, 8 * i + 2, 8 * i, `Memory type of PAT entry ${i}`))),
  msr('IA32_VMX_BASIC', 0x480, VMX_CAPABILITIES[0]![1], [RO], [
    bits('REVISION', 30, 0, 'VMCS revision identifier'),
    bits('VMCS_SIZE', 44, 32, 'VMCS region size in bytes'),
    bit('PHYS_ADDR_WIDTH_32', 48, 'VMXON/VMCS addresses limited to 32 bits'),
    bit('DUAL_MONITOR', 49, 'Dual-monitor treatment of SMIs supported'),
    bits('MEMORY_TYPE', 53, 50, 'VMCS memory type (6 = write-back)'),
    bit('INOUT', 54, 'INS/OUTS instruction information reported'),
    bit('TRUE_CTLS', 55, 'IA32_VMX_TRUE_*_CTLS MSRs exist'),
    bit('NO_HW_ERRCODE_CHECK', 56, 'Hardware exceptions may be injected with or without error code'),
    bit('NESTED_EXCEPTION', 58, 'Nested-exception bit 13 supported in interruption information (FRED)'),
  ]),
  ...VMX_CAPABILITIES.slice(1).map(([suffix, doc], i) => msr(`IA32_VMX_${suffix}`, 0x481 + i, doc, [RO])),
  msr('IA32_U_CET', 0x6a0, 'User-mode CET configuration', [reservedBits(0x3c0n), CANON], CET_FIELDS),
  msr('IA32_S_CET', 0x6a2, 'Supervisor-mode CET configuration', [reservedBits(0x3c0n), CANON], CET_FIELDS),
  // PL0_SSP doubles as IA32_FRED_SSP0; KVM's CET rule: canonical and 4-byte aligned (vmx-fred.md §1.1).
  ...[0, 1, 2, 3].map((n) => msr(`IA32_PL${n}_SSP`, 0x6a4 + n,
    n === 0 ? 'Shadow-stack pointer for CPL 0; also the FRED SSP for stack level 0'
      : `Shadow-stack pointer for CPL ${n}`,
    [aligned(2), CANON], [], true, n === 0 ? ['IA32_FRED_SSP0'] : [])),
  msr('IA32_INTERRUPT_SSP_TABLE_ADDR', 0x6a8, 'Interrupt shadow-stack table (IDT delivery with IST)', [CANON]),
  x2apic('APICID', 0x02, 'x2APIC ID', [RO]),
  x2apic('VERSION', 0x03, 'Local APIC version and max LVT entry', [RO]),
  x2apic('TPR', 0x08, 'Task-priority register', [reservedBits(ALL64 & ~0xffn)],
    [bits('PRIORITY_SUBCLASS', 3, 0, 'Sub-class'), bits('PRIORITY_CLASS', 7, 4, 'Priority class')]),
  x2apic('PPR', 0x0a, 'Processor-priority register', [RO]),
  x2apic('EOI', 0x0b, 'End of interrupt (write 0; write-only)', [reservedBits(ALL64)], [], false),
  x2apic('LDR', 0x0d, 'Logical destination register', [RO]),
  x2apic('SIVR', 0x0f, 'Spurious-interrupt vector register: vector, APIC software enable',
    [reservedBits(ALL64 & ~0x13ffn)],
    [bits('VECTOR', 7, 0, 'Spurious vector'), bit('APIC_ENABLE', 8, 'APIC software enable'),
      bit('FOCUS_CHECK_DISABLE', 9, 'Focus processor checking'), bit('EOI_BROADCAST_SUPPRESS', 12, 'Suppress EOI broadcasts')]),
  ...x2apicBank('ISR', 0x10, 'in-service register'),
  ...x2apicBank('TMR', 0x18, 'trigger-mode register'),
  ...x2apicBank('IRR', 0x20, 'interrupt-request register'),
  x2apic('ESR', 0x28, 'Error status register (write 0 to update)', [reservedBits(ALL64)]),
  x2apic('ICR', 0x30, 'Interrupt command register (64-bit in x2APIC mode)',
    [reservedBits(rangeMask(31, 20) | rangeMask(17, 16) | rangeMask(13, 12))], ICR_FIELDS),
  x2apic('LVT_TIMER', 0x32, 'LVT timer: vector, mask, mode (one-shot/periodic/TSC-deadline)',
    [reservedBits(ALL64 & ~0x710ffn)],
    [bits('VECTOR', 7, 0, 'Timer vector'), bit('DELIVERY_STATUS', 12, 'Send pending (read-only)'),
      bit('MASK', 16, 'Masked'), bits('TIMER_MODE', 18, 17, '0 one-shot, 1 periodic, 2 TSC-deadline')]),
  x2apic('LVT_THERMAL', 0x33, 'LVT thermal sensor', [reservedBits(ALL64 & ~0x117ffn)], LVT_FIELDS),
  x2apic('LVT_PMI', 0x34, 'LVT performance-monitoring counters', [reservedBits(ALL64 & ~0x117ffn)], LVT_FIELDS),
  x2apic('LVT_LINT0', 0x35, 'LVT LINT0', [reservedBits(ALL64 & ~0x1f7ffn)], LVT_FIELDS),
  x2apic('LVT_LINT1', 0x36, 'LVT LINT1', [reservedBits(ALL64 & ~0x1f7ffn)], LVT_FIELDS),
  x2apic('LVT_ERROR', 0x37, 'LVT error', [reservedBits(ALL64 & ~0x110ffn)], LVT_FIELDS),
  x2apic('INIT_COUNT', 0x38, 'Timer initial count'),
  x2apic('CUR_COUNT', 0x39, 'Timer current count', [RO]),
  x2apic('DIV_CONF', 0x3e, 'Timer divide configuration (bits 3, 1:0)', [reservedBits(ALL64 & ~0xbn)]),
  x2apic('SELF_IPI', 0x3f, 'Self IPI: write a vector (write-only)', [reservedBits(ALL64 & ~0xffn)],
    [bits('VECTOR', 7, 0, 'Vector to send to self')], false),
  msr('IA32_EFER', 0xc0000080, 'Extended feature enables: SCE, LME, LMA, NXE',
    [reservedBits(ALL64 & ~0xd01n)], EFER_FIELDS),
  msr('IA32_STAR', 0xc0000081, 'SYSCALL/SYSRET selectors; FRED uses bits 47:32 for ring-3 events', [], STAR_FIELDS),
  msr('IA32_LSTAR', 0xc0000082, 'SYSCALL target RIP in 64-bit mode (unused under FRED)', [CANON]),
  msr('IA32_CSTAR', 0xc0000083, 'SYSCALL target RIP in compatibility mode (unused under FRED)', [CANON]),
  msr('IA32_FMASK', 0xc0000084, 'SYSCALL RFLAGS mask (unused under FRED)', [reservedBits(HIGH32)]),
  msr('IA32_FS_BASE', 0xc0000100, 'FS segment base', [CANON]),
  msr('IA32_GS_BASE', 0xc0000101, 'GS segment base', [CANON]),
  msr('IA32_KERNEL_GS_BASE', 0xc0000102, 'Swapped with GS base by SWAPGS, FRED ring-3 delivery and ERETU; LKGS target',
    [CANON]),
  msr('IA32_TSC_AUX', 0xc0000103, 'Auxiliary TSC value returned by RDTSCP/RDPID', [reservedBits(HIGH32)]),
];

const byIndex = new Map<number, MsrDef>(MSRS.map((m) => [m.index, m]));
const byName = new Map<string, MsrDef>(MSRS.flatMap((m) => [m.name, ...m.aliases].map((n) => [n, m] as const)));

/** MSR by index (e.g. 0x1D4). */
export function msrByIndex(index: number): MsrDef | undefined {
  return byIndex.get(index);
}

/** MSR by SDM name or alias, case-insensitive; the `IA32_` prefix may be omitted (`FRED_CONFIG`). */
export function msrByName(name: string): MsrDef | undefined {
  const n = name.toUpperCase();
  return byName.get(n) ?? byName.get(`IA32_${n}`);
}

/** Index of an MSR by name; throws on an unknown name, so a typo fails when the module loads. */
export function msrIndex(name: string): number {
  const m = msrByName(name);
  if (!m) throw new RangeError(`unknown MSR name '${name}'`);
  return m.index;
}

/** Is `value` canonical for `linearAddressBits` (48, or 57 with CR4.LA57)? */
export function isCanonical(value: bigint, linearAddressBits = 48): boolean {
  const v = BigInt.asUintN(64, value);
  const top = v >> BigInt(linearAddressBits - 1);
  return top === 0n || top === (1n << BigInt(65 - linearAddressBits)) - 1n;
}

export type MsrCheckResult = { ok: true } | { ok: false; rule: string };

export interface MsrCheckOptions {
  /** 48 (default) or 57 when CR4.LA57 = 1. */
  readonly linearAddressBits?: number;
}

const VALID_MEMORY_TYPES = new Set([0, 1, 4, 5, 6, 7]);

/** Why `value` violates `rule` for MSR `m`, or undefined when it does not. */
function violation(m: MsrDef, rule: MsrWriteRule, value: bigint, opts: MsrCheckOptions): string | undefined {
  switch (rule.kind) {
    case 'readOnly':
      return `${m.name} is read-only`;
    case 'reserved': {
      const bad = value & rule.mask;
      return bad === 0n ? undefined
        : `${m.name} reserved bits must be 0 (mask 0x${rule.mask.toString(16)}; set: 0x${bad.toString(16)})`;
    }
    case 'canonical': {
      const la = opts.linearAddressBits ?? 48;
      return isCanonical(value, la) ? undefined : `${m.name} must be canonical (${la}-bit linear address)`;
    }
    case 'aligned':
      return (value & ((1n << BigInt(rule.bits)) - 1n)) === 0n ? undefined
        : `${m.name} bits ${rule.bits === 1 ? '0' : `${rule.bits - 1}:0`} must be 0 (${1 << rule.bits}-byte aligned)`;
    case 'memoryTypes':
      for (let i = 0; i < 8; i++) {
        const t = Number((value >> BigInt(8 * i)) & 0xffn);
        if (!VALID_MEMORY_TYPES.has(t)) return `${m.name} PA${i} = ${t} is not a valid memory type (0, 1, 4, 5, 6, 7)`;
      }
      return undefined;
  }
}

/**
 * Apply the table's static WRMSR checks. `msr` is a definition, an index or a name. An unknown MSR
 * fails with rule "unknown MSR". The first violated rule is reported, in table order.
 */
export function checkMsrWrite(msr: MsrDef | number | string, value: bigint, opts: MsrCheckOptions = {}): MsrCheckResult {
  const m = typeof msr === 'object' ? msr : typeof msr === 'number' ? msrByIndex(msr) : msrByName(msr);
  if (!m) return { ok: false, rule: `unknown MSR ${typeof msr === 'number' ? '0x' + msr.toString(16) : msr}` };
  const v = BigInt.asUintN(64, value);
  for (const rule of m.rules) {
    const why = violation(m, rule, v, opts);
    if (why !== undefined) return { ok: false, rule: why };
  }
  return { ok: true };
}
