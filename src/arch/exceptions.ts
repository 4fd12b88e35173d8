// Exception vectors 0–31 (Intel SDM Vol. 3A §6.3.1 Table 6-1, §6.15; #HV/#VC/#SX are AMD-defined
// vectors kept for names only) and the double-fault table (SDM §6.15 "Interrupt 8", Tables 6-4/6-5;
// fred-architecture.md §3.9: FRED reuses the same classes).

/** Exception class for the #DF table: #PF and #VE form the page-fault class. */
export type ExceptionClass = 'benign' | 'contributory' | 'pageFault' | 'doubleFault';
/** How the saved RIP relates to the instruction (SDM §6.5). */
export type ExceptionKind = 'fault' | 'trap' | 'faultOrTrap' | 'abort' | 'interrupt' | 'reserved';

export interface ExceptionInfo {
  readonly vector: number;
  /** SDM mnemonic (#PF, NMI, …); reserved vectors use `#RES<n>`. */
  readonly mnemonic: string;
  /** Upper-case short name used in constants (`X86_TRAP_PF`). */
  readonly short: string;
  readonly name: string;
  readonly kind: ExceptionKind;
  readonly class: ExceptionClass;
  /** Pushes an error code in protected/long mode (also the VMX error-code consistency rule). */
  readonly errorCode: boolean;
  readonly doc: string;
}

function ex(vector: number, mnemonic: string, short: string, name: string, kind: ExceptionKind,
  cls: ExceptionClass, errorCode: boolean, doc: string): ExceptionInfo {
  return { vector, mnemonic, short, name, kind, class: cls, errorCode, doc };
}

function reserved(vector: number): ExceptionInfo {
  return ex(vector, `#RES${vector}`, `RES${vector}`, 'Reserved', 'reserved', 'benign', false,
    `Vector ${vector} is reserved by Intel`);
}

export const EXCEPTIONS: readonly ExceptionInfo[] = [
  ex(0, '#DE', 'DE', 'Divide Error', 'fault', 'contributory', false, 'DIV/IDIV by zero or quotient overflow'),
  ex(1, '#DB', 'DB', 'Debug', 'faultOrTrap', 'benign', false,
    'Debug exception: breakpoints, single step (TF), MOV DR with DR7.GD, INT1; FRED event data = pending-debug bits'),
  ex(2, 'NMI', 'NMI', 'Non-maskable Interrupt', 'interrupt', 'benign', false, 'Non-maskable external interrupt (event type 2)'),
  ex(3, '#BP', 'BP', 'Breakpoint', 'trap', 'benign', false, 'INT3 (event type 6)'),
  ex(4, '#OF', 'OF', 'Overflow', 'trap', 'benign', false, 'INTO with OF = 1 (event type 6; INTO is #UD in 64-bit mode)'),
  ex(5, '#BR', 'BR', 'BOUND Range Exceeded', 'fault', 'benign', false, 'BOUND range exceeded (legacy modes)'),
  ex(6, '#UD', 'UD', 'Invalid Opcode', 'fault', 'benign', false, 'Undefined or disallowed instruction'),
  ex(7, '#NM', 'NM', 'Device Not Available', 'fault', 'benign', false,
    'FPU/SIMD use with CR0.TS/EM set or XFD-disabled state; FRED event data = IA32_XFD_ERR'),
  ex(8, '#DF', 'DF', 'Double Fault', 'abort', 'doubleFault', true,
    'Second exception while delivering the first (error code 0); a fault delivering #DF shuts down'),
  ex(9, 'CSO', 'OLD_MF', 'Coprocessor Segment Overrun', 'reserved', 'benign', false,
    'Coprocessor segment overrun (not generated since the i486)'),
  ex(10, '#TS', 'TS', 'Invalid TSS', 'fault', 'contributory', true, 'Invalid TSS on task switch or TSS access'),
  ex(11, '#NP', 'NP', 'Segment Not Present', 'fault', 'contributory', true, 'Segment or gate not present (error code = selector)'),
  ex(12, '#SS', 'SS', 'Stack-Segment Fault', 'fault', 'contributory', true,
    'Stack limit/non-canonical stack address or SS load fault'),
  ex(13, '#GP', 'GP', 'General Protection', 'fault', 'contributory', true,
    'General protection violation (reserved bits, privilege, non-canonical address, …)'),
  ex(14, '#PF', 'PF', 'Page Fault', 'fault', 'pageFault', true,
    'Page fault: CR2 (and FRED event data) = faulting linear address, error code P/W/U/RSVD/I/PK/SS'),
  reserved(15),
  ex(16, '#MF', 'MF', 'x87 FPU Floating-Point Error', 'fault', 'benign', false, 'Pending unmasked x87 exception'),
  ex(17, '#AC', 'AC', 'Alignment Check', 'fault', 'benign', true, 'Unaligned access at CPL 3 with CR0.AM and RFLAGS.AC (error code 0)'),
  ex(18, '#MC', 'MC', 'Machine Check', 'abort', 'benign', false, 'Machine check'),
  ex(19, '#XM', 'XF', 'SIMD Floating-Point Exception', 'fault', 'benign', false, 'Unmasked SSE/AVX floating-point exception'),
  ex(20, '#VE', 'VE', 'Virtualization Exception', 'fault', 'pageFault', false, 'EPT violation converted to #VE'),
  ex(21, '#CP', 'CP', 'Control Protection', 'fault', 'contributory', true, 'CET shadow-stack or indirect-branch-tracking violation'),
  reserved(22), reserved(23), reserved(24), reserved(25), reserved(26), reserved(27),
  ex(28, '#HV', 'HV', 'Hypervisor Injection', 'fault', 'benign', false, 'AMD SEV-SNP hypervisor injection exception'),
  ex(29, '#VC', 'VC', 'VMM Communication', 'fault', 'contributory', true, 'AMD SEV-ES VMM communication exception'),
  ex(30, '#SX', 'SX', 'Security Exception', 'fault', 'contributory', true, 'AMD security exception'),
  reserved(31),
];

/** Exception by vector (0–31); undefined outside that range. */
export function exceptionByVector(vector: number): ExceptionInfo | undefined {
  return Number.isInteger(vector) ? EXCEPTIONS[vector] : undefined;
}

/** Exception by mnemonic, with or without `#`, case-insensitive (`#PF`, `pf`, `NMI`). */
export function exceptionByMnemonic(mnemonic: string): ExceptionInfo | undefined {
  const m = mnemonic.toUpperCase().replace(/^#/, '');
  return EXCEPTIONS.find((e) => e.mnemonic.replace(/^#/, '') === m || e.short === m);
}

/** Does this vector push an error code (protected/long mode delivery)? */
export function exceptionHasErrorCode(vector: number): boolean {
  return exceptionByVector(vector)?.errorCode ?? false;
}

export type DoubleFaultOutcome = 'deliverSecond' | 'doubleFault' | 'shutdown';

/**
 * SDM Table 6-5: what happens when `second` is detected while delivering `first` (vectors 0–31;
 * non-exception first events — interrupts, NMI — count as benign).
 * - fault while delivering #DF → shutdown (triple fault), SDM §6.15 "Interrupt 8";
 * - contributory after contributory → #DF;
 * - contributory or page fault after page-fault class → #DF;
 * - everything else → the second exception is delivered normally.
 */
export function doubleFaultOutcome(first: number, second: number): DoubleFaultOutcome {
  const c1 = exceptionClassOf(first);
  const c2 = exceptionClassOf(second);
  if (c1 === 'doubleFault') return 'shutdown';
  if (c1 === 'contributory' && c2 === 'contributory') return 'doubleFault';
  if (c1 === 'pageFault' && (c2 === 'contributory' || c2 === 'pageFault')) return 'doubleFault';
  return 'deliverSecond';
}

/** Class of a vector; vectors ≥ 32 (interrupts) are benign. */
export function exceptionClassOf(vector: number): ExceptionClass {
  return exceptionByVector(vector)?.class ?? 'benign';
}
