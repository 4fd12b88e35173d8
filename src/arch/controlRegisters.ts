// CR0, CR3, CR4, EFER, RFLAGS, DR6, DR7 bit layouts (Intel SDM Vol. 3A §2.5 "Control Registers",
// §2.2.1 EFER, Vol. 1 §3.4.3 EFLAGS, Vol. 3B §18.2 debug registers; CR4.FRED = bit 32 per
// fred-architecture.md §1.2). The reserved masks are the bits whose setting faults on this CPU
// model (a MOV to CRn / WRMSR EFER with them set raises #GP); state-dependent rules (e.g. CR4.FRED
// needs EFER.LMA = 1, EFER.LME cannot change with paging on) belong to the CPU.

import { bit, bits, fieldMasks, layoutMask, type BitLayout } from './bitField';

export type RegisterName = 'CR0' | 'CR3' | 'CR4' | 'EFER' | 'RFLAGS' | 'DR6' | 'DR7';

/** A register's named bits plus the bits that must be 0 (and, for RFLAGS/DR6/DR7, always read as 1). */
export interface RegisterLayout {
  readonly name: RegisterName;
  readonly doc: string;
  readonly fields: BitLayout;
  /** Bits that fault when set (MOV to CR/DR, WRMSR) or that software must keep 0. */
  readonly reservedMask: bigint;
  /** Bits that always read as 1 (RFLAGS bit 1, DR6/DR7 fixed bits). */
  readonly fixed1Mask: bigint;
}

const ALL64 = (1n << 64n) - 1n;

export const CR0_FIELDS = [
  bit('PE', 0, 'Protection enable'),
  bit('MP', 1, 'Monitor coprocessor'),
  bit('EM', 2, 'x87 emulation'),
  bit('TS', 3, 'Task switched (lazy FPU state)'),
  bit('ET', 4, 'Extension type (always 1)'),
  bit('NE', 5, 'Numeric error: native x87 error reporting'),
  bit('WP', 16, 'Write protect: supervisor writes honour read-only pages'),
  bit('AM', 18, 'Alignment mask (enables #AC with RFLAGS.AC at CPL 3)'),
  bit('NW', 29, 'Not write-through'),
  bit('CD', 30, 'Cache disable'),
  bit('PG', 31, 'Paging'),
] as const;

/** CR3 without CR4.PCIDE: page-level cache bits and the PML4/PML5 table address. */
export const CR3_FIELDS = [
  bit('PWT', 3, 'Page-level write-through for the top-level table'),
  bit('PCD', 4, 'Page-level cache disable for the top-level table'),
  bits('BASE', 51, 12, 'Physical address of the PML4 (PML5 with LA57) table'),
  bit('LAM_U57', 61, 'LAM: 57-bit user pointer masking'),
  bit('LAM_U48', 62, 'LAM: 48-bit user pointer masking'),
  bit('NOFLUSH', 63, 'MOV to CR3 with CR4.PCIDE: do not invalidate the PCID (not stored)'),
] as const;

/** CR3 with CR4.PCIDE = 1: bits 11:0 are the PCID instead of PWT/PCD. */
export const CR3_PCIDE_FIELDS: BitLayout = [
  bits('PCID', 11, 0, 'Process-context identifier'),
  ...CR3_FIELDS.filter((f) => f.lsb >= 12),
];

export const CR4_FIELDS = [
  bit('VME', 0, 'Virtual-8086 mode extensions'),
  bit('PVI', 1, 'Protected-mode virtual interrupts'),
  bit('TSD', 2, 'Time stamp disable (RDTSC at CPL > 0 faults)'),
  bit('DE', 3, 'Debugging extensions'),
  bit('PSE', 4, 'Page size extensions'),
  bit('PAE', 5, 'Physical address extension'),
  bit('MCE', 6, 'Machine-check enable'),
  bit('PGE', 7, 'Page global enable'),
  bit('PCE', 8, 'Performance-monitoring counter enable'),
  bit('OSFXSR', 9, 'OS supports FXSAVE/FXRSTOR'),
  bit('OSXMMEXCPT', 10, 'OS supports unmasked SIMD floating-point exceptions'),
  bit('UMIP', 11, 'User-mode instruction prevention'),
  bit('LA57', 12, '57-bit linear addresses (5-level paging)'),
  bit('VMXE', 13, 'VMX enable'),
  bit('SMXE', 14, 'SMX enable'),
  bit('FSGSBASE', 16, 'Enables RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE'),
  bit('PCIDE', 17, 'PCID enable'),
  bit('OSXSAVE', 18, 'XSAVE and processor extended states enable'),
  bit('KL', 19, 'Key Locker enable'),
  bit('SMEP', 20, 'Supervisor-mode execution prevention'),
  bit('SMAP', 21, 'Supervisor-mode access prevention'),
  bit('PKE', 22, 'Protection keys for user-mode pages'),
  bit('CET', 23, 'Control-flow enforcement technology'),
  bit('PKS', 24, 'Protection keys for supervisor-mode pages'),
  bit('UINTR', 25, 'User interrupts enable'),
  bit('LASS', 27, 'Linear-address space separation'),
  bit('LAM_SUP', 28, 'LAM for supervisor pointers'),
  bit('FRED', 32, 'Flexible return and event delivery (needs IA32_EFER.LMA = 1)'),
] as const;

export const EFER_FIELDS = [
  bit('SCE', 0, 'SYSCALL enable'),
  bit('LME', 8, 'IA-32e (long) mode enable'),
  bit('LMA', 10, 'IA-32e mode active (set by the processor when paging is enabled with LME)'),
  bit('NXE', 11, 'Execute-disable (NX) bit enable'),
] as const;

export const RFLAGS_FIELDS = [
  bit('CF', 0, 'Carry flag'),
  bit('PF', 2, 'Parity flag'),
  bit('AF', 4, 'Auxiliary carry flag'),
  bit('ZF', 6, 'Zero flag'),
  bit('SF', 7, 'Sign flag'),
  bit('TF', 8, 'Trap flag (single step)'),
  bit('IF', 9, 'Interrupt enable flag'),
  bit('DF', 10, 'Direction flag'),
  bit('OF', 11, 'Overflow flag'),
  bits('IOPL', 13, 12, 'I/O privilege level'),
  bit('NT', 14, 'Nested task'),
  bit('RF', 16, 'Resume flag (suppresses instruction breakpoints for one instruction)'),
  bit('VM', 17, 'Virtual-8086 mode'),
  bit('AC', 18, 'Alignment check / SMAP override'),
  bit('VIF', 19, 'Virtual interrupt flag'),
  bit('VIP', 20, 'Virtual interrupt pending'),
  bit('ID', 21, 'CPUID available (software-toggleable)'),
] as const;

export const DR6_FIELDS = [
  bit('B0', 0, 'Breakpoint 0 condition detected'),
  bit('B1', 1, 'Breakpoint 1 condition detected'),
  bit('B2', 2, 'Breakpoint 2 condition detected'),
  bit('B3', 3, 'Breakpoint 3 condition detected'),
  bit('BLD', 11, 'Bus-lock detected (active low)'),
  bit('BD', 13, 'Debug-register access detected (DR7.GD)'),
  bit('BS', 14, 'Single step (RFLAGS.TF)'),
  bit('BT', 15, 'Task switch with the TSS T flag'),
  bit('RTM', 16, 'RTM debug (active low)'),
] as const;

export const DR7_FIELDS = [
  bit('L0', 0, 'Local enable breakpoint 0'),
  bit('G0', 1, 'Global enable breakpoint 0'),
  bit('L1', 2, 'Local enable breakpoint 1'),
  bit('G1', 3, 'Global enable breakpoint 1'),
  bit('L2', 4, 'Local enable breakpoint 2'),
  bit('G2', 5, 'Global enable breakpoint 2'),
  bit('L3', 6, 'Local enable breakpoint 3'),
  bit('G3', 7, 'Global enable breakpoint 3'),
  bit('LE', 8, 'Local exact breakpoint enable'),
  bit('GE', 9, 'Global exact breakpoint enable'),
  bit('RTM', 11, 'Restricted transactional memory debug'),
  bit('GD', 13, 'General detect: #DB on MOV DR'),
  bits('RW0', 17, 16, 'Breakpoint 0 condition (0 exec, 1 write, 2 I/O, 3 read/write)'),
  bits('LEN0', 19, 18, 'Breakpoint 0 length (0 = 1, 1 = 2, 3 = 4, 2 = 8 bytes)'),
  bits('RW1', 21, 20, 'Breakpoint 1 condition'),
  bits('LEN1', 23, 22, 'Breakpoint 1 length'),
  bits('RW2', 25, 24, 'Breakpoint 2 condition'),
  bits('LEN2', 27, 26, 'Breakpoint 2 length'),
  bits('RW3', 29, 28, 'Breakpoint 3 condition'),
  bits('LEN3', 31, 30, 'Breakpoint 3 length'),
] as const;

/** Masks by field name: `CR4_BITS.FRED` = 1n << 32n, `RFLAGS_BITS.IOPL` = 0x3000n (use these, not literals). */
export const CR0_BITS = fieldMasks(CR0_FIELDS);
export const CR3_BITS = fieldMasks(CR3_FIELDS);
export const CR4_BITS = fieldMasks(CR4_FIELDS);
export const EFER_BITS = fieldMasks(EFER_FIELDS);
export const RFLAGS_BITS = fieldMasks(RFLAGS_FIELDS);
export const DR6_BITS = fieldMasks(DR6_FIELDS);
export const DR7_BITS = fieldMasks(DR7_FIELDS);

/** RFLAGS bit 1 always reads 1; delivery under FRED loads RFLAGS = 0x2 (fred-architecture.md §3.6). */
export const RFLAGS_FIXED1 = 0x2n;
/** DR6 bits that read as 1 when no condition is reported (SDM 18.2.3; DR6 init value 0xFFFF0FF0). */
export const DR6_FIXED1 = 0xffff0ff0n;
/** DR7 bit 10 reads as 1 (DR7 init value 0x400). */
export const DR7_FIXED1 = 0x400n;

export const REGISTER_LAYOUTS: readonly RegisterLayout[] = [
  {
    name: 'CR0', doc: 'Control register 0: operating mode and state', fields: CR0_FIELDS,
    // Bits 63:32 fault on MOV to CR0; other undefined bits below 32 are ignored (SDM 2.5).
    reservedMask: 0xffffffff_00000000n, fixed1Mask: 0n,
  },
  {
    name: 'CR3', doc: 'Control register 3: top-level paging-structure address', fields: CR3_FIELDS,
    // Without PCIDE: bits 2:0, 11:5 are ignored; 60:52 must be 0 (MAXPHYADDR ≤ 52).
    reservedMask: 0x1ff0_0000_0000_0000n, fixed1Mask: 0n,
  },
  {
    name: 'CR4', doc: 'Control register 4: architectural extensions', fields: CR4_FIELDS,
    reservedMask: ALL64 & ~layoutMask(CR4_FIELDS), fixed1Mask: 0n,
  },
  {
    name: 'EFER', doc: 'IA32_EFER (MSR 0xC0000080): extended feature enables', fields: EFER_FIELDS,
    reservedMask: ALL64 & ~layoutMask(EFER_FIELDS), fixed1Mask: 0n,
  },
  {
    name: 'RFLAGS', doc: 'Flags register', fields: RFLAGS_FIELDS,
    reservedMask: ALL64 & ~layoutMask(RFLAGS_FIELDS) & ~RFLAGS_FIXED1, fixed1Mask: RFLAGS_FIXED1,
  },
  {
    name: 'DR6', doc: 'Debug status register', fields: DR6_FIELDS,
    // MOV to DR6 with bits 63:32 set faults (#GP); the rest reads fixed.
    reservedMask: 0xffffffff_00000000n, fixed1Mask: DR6_FIXED1 & ~layoutMask(DR6_FIELDS),
  },
  {
    name: 'DR7', doc: 'Debug control register', fields: DR7_FIELDS,
    reservedMask: 0xffffffff_00000000n, fixed1Mask: DR7_FIXED1,
  },
];

/** Layout of a register by name. */
export function registerLayout(name: RegisterName): RegisterLayout {
  const r = REGISTER_LAYOUTS.find((x) => x.name === name);
  if (!r) throw new RangeError(`unknown register ${name}`);
  return r;
}
