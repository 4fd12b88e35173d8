// One-line hover docs for the FRED, VMX and system instructions a FRED Lab program uses (ARCHITECTURE
// §1: instruction docs for hovers are architectural facts, so they live in src/arch).
// Sources: fred-architecture.md §4–§5 (ERETS/ERETU/LKGS, SYSCALL under FRED), vmx-fred.md, SDM Vol. 2
// instruction pages and Vol. 3C ch. 31 (VMX instructions).

export interface InstructionDoc {
  /** Operand forms, SDM style. */
  readonly forms: string;
  readonly summary: string;
  /** Where the full rules are. */
  readonly reference: string;
}

const fred = 'fred-architecture.md';
const vmx = 'SDM Vol. 3C §31.3 (VMX instruction reference)';

export const INSTRUCTION_DOCS: Readonly<Record<string, InstructionDoc>> = {
  erets: { forms: 'ERETS (F2 0F 01 CA)', reference: `${fred} §4.2`,
    summary: 'Event return to supervisor: pops the FRED frame (RIP, CS, RFLAGS, RSP, SS), stays in ring 0, CSL := min(CSL, frame CS[17:16]). #UD unless CR4.FRED = 1 and CPL = 0.' },
  eretu: { forms: 'ERETU (F3 0F 01 CA)', reference: `${fred} §4.3`,
    summary: 'Event return to user: pops the FRED frame and enters ring 3, swapping GS.base with IA32_KERNEL_GS_BASE. #GP(0) if CSL > 0; fast path when CS/SS match IA32_STAR[63:48] + 16 / + 8.' },
  lkgs: { forms: 'LKGS r/m16 (F2 0F 00 /6)', reference: `${fred} §5.1`,
    summary: 'Load "kernel" GS: like MOV GS, but the descriptor base goes to IA32_KERNEL_GS_BASE and GS.base is unchanged. CPL 0, 64-bit mode; does not need CR4.FRED.' },
  wrmsrns: { forms: 'WRMSRNS (0F 01 C6)', reference: 'SDM Vol. 2 WRMSRNS',
    summary: 'Non-serializing WRMSR: writes EDX:EAX to the MSR in ECX with the same checks as WRMSR.' },
  wrmsr: { forms: 'WRMSR (0F 30)', reference: 'SDM Vol. 2 WRMSR',
    summary: 'Writes EDX:EAX to the MSR in ECX (CPL 0). #GP(0) for an unknown MSR or a value its checks reject. Serializing.' },
  rdmsr: { forms: 'RDMSR (0F 32)', reference: 'SDM Vol. 2 RDMSR',
    summary: 'Reads the MSR in ECX into EDX:EAX (CPL 0). #GP(0) for an unknown or write-only MSR.' },
  syscall: { forms: 'SYSCALL (0F 05)', reference: `${fred} §5.2`,
    summary: 'With CR4.FRED = 1: FRED event delivery of type 7 (other event), vector 1, RIP saved = next instruction; otherwise the legacy LSTAR path.' },
  sysret: { forms: 'SYSRET (0F 07)', reference: `${fred} §1.3`,
    summary: 'Legacy return to ring 3 from SYSCALL (RIP := RCX, RFLAGS := R11). #UD when CR4.FRED = 1: FRED kernels return with ERETU.' },
  sysenter: { forms: 'SYSENTER (0F 34)', reference: `${fred} §5.3`,
    summary: 'With CR4.FRED = 1: FRED event delivery of type 7, vector 2.' },
  swapgs: { forms: 'SWAPGS (0F 01 F8)', reference: `${fred} §1.3`,
    summary: 'Exchanges GS.base with IA32_KERNEL_GS_BASE (CPL 0). #UD when CR4.FRED = 1: FRED delivery and ERETU do the swap.' },
  int: { forms: 'INT imm8 (CD ib)', reference: `${fred} §5`,
    summary: 'Software interrupt: event type 4 (software interrupt) with the given vector.' },
  int3: { forms: 'INT3 (CC)', reference: `${fred} §5`, summary: 'Breakpoint: #BP, event type 6 (software exception), vector 3.' },
  int1: { forms: 'INT1 / ICEBP (F1)', reference: `${fred} §5`,
    summary: 'Privileged software exception: #DB, event type 5, vector 1.' },
  iretq: { forms: 'IRETQ (48 CF)', reference: 'SDM Vol. 2 IRET',
    summary: 'Legacy return from an IDT-delivered event (pops RIP, CS, RFLAGS, RSP, SS). FRED handlers use ERETS/ERETU.' },
  hlt: { forms: 'HLT (F4)', reference: 'SDM Vol. 2 HLT',
    summary: 'Halts until the next event. In FRED Lab a HLT with RFLAGS.IF = 0 and nothing pending ends the run ("halted").' },
  cli: { forms: 'CLI (FA)', reference: 'SDM Vol. 2 CLI', summary: 'Clears RFLAGS.IF: external interrupts are held pending.' },
  sti: { forms: 'STI (FB)', reference: 'SDM Vol. 2 STI',
    summary: 'Sets RFLAGS.IF; interrupts stay blocked until after the next instruction (STI shadow).' },
  lidt: { forms: 'LIDT m16&64', reference: 'SDM Vol. 2 LGDT/LIDT', summary: 'Loads IDTR (legacy IDT delivery; unused once CR4.FRED = 1).' },
  lgdt: { forms: 'LGDT m16&64', reference: 'SDM Vol. 2 LGDT/LIDT', summary: 'Loads GDTR.' },
  ltr: { forms: 'LTR r/m16', reference: 'SDM Vol. 2 LTR', summary: 'Loads the task register (TSS selector).' },
  invlpg: { forms: 'INVLPG m', reference: 'SDM Vol. 2 INVLPG', summary: 'Invalidates the TLB entries of one page.' },
  cpuid: { forms: 'CPUID (0F A2)', reference: 'SDM Vol. 2 CPUID',
    summary: 'Processor identification. Leaf 7 subleaf 1 EAX bits 17/18/19 report FRED/LKGS/WRMSRNS. Exits unconditionally in VMX non-root operation.' },
  vmxon: { forms: 'VMXON m64', reference: vmx, summary: 'Enters VMX root operation using the VMXON region at the given physical address (CR4.VMXE = 1).' },
  vmxoff: { forms: 'VMXOFF (0F 01 C4)', reference: vmx, summary: 'Leaves VMX operation.' },
  vmlaunch: { forms: 'VMLAUNCH (0F 01 C2)', reference: vmx,
    summary: 'VM entry with the current (clear) VMCS: runs the VM-entry checks, loads guest state and may inject an event.' },
  vmresume: { forms: 'VMRESUME (0F 01 C3)', reference: vmx, summary: 'VM entry with the current, already launched VMCS.' },
  vmcall: { forms: 'VMCALL (0F 01 C1)', reference: vmx, summary: 'In VMX non-root operation: VM exit (reason 18) to the monitor, a hypercall.' },
  vmread: { forms: 'VMREAD r/m64, r64', reference: vmx, summary: 'Reads the VMCS field whose encoding is in the source register.' },
  vmwrite: { forms: 'VMWRITE r64, r/m64', reference: vmx, summary: 'Writes the VMCS field whose encoding is in the destination register.' },
  vmptrld: { forms: 'VMPTRLD m64', reference: vmx, summary: 'Makes the VMCS at the given physical address current.' },
  vmptrst: { forms: 'VMPTRST m64', reference: vmx, summary: 'Stores the current-VMCS pointer.' },
  vmclear: { forms: 'VMCLEAR m64', reference: vmx, summary: 'Flushes a VMCS to memory and sets its launch state to clear.' },
  invept: { forms: 'INVEPT r64, m128', reference: vmx, summary: 'Invalidates EPT-derived translations (single-context or all-context).' },
  invvpid: { forms: 'INVVPID r64, m128', reference: vmx, summary: 'Invalidates translations tagged with a VPID.' },
  vmfunc: { forms: 'VMFUNC (0F 01 D4)', reference: vmx, summary: 'Invokes VM function EAX (0 = EPTP switching) without a VM exit.' },
};

export function instructionDoc(mnemonic: string): InstructionDoc | undefined {
  return Object.hasOwn(INSTRUCTION_DOCS, mnemonic.toLowerCase()) ? INSTRUCTION_DOCS[mnemonic.toLowerCase()] : undefined;
}
