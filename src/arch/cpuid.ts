// CPUID feature flags the emulator reports or guest code tests (Intel SDM Vol. 2A CPUID, Tables 3-8
// to 3-11; FRED/LKGS/WRMSRNS/NMI-source per fred-architecture.md §1.1). One row per flag: leaf,
// sub-leaf, output register, bit. Names follow the SDM mnemonic (Linux's X86_FEATURE_* spelling).

export type CpuidRegister = 'eax' | 'ebx' | 'ecx' | 'edx';

export interface CpuidFeature {
  readonly name: string;
  readonly leaf: number;
  readonly subleaf: number;
  readonly register: CpuidRegister;
  readonly bit: number;
  readonly doc: string;
}

const f = (name: string, leaf: number, subleaf: number, register: CpuidRegister, bit: number, doc: string): CpuidFeature =>
  ({ name, leaf, subleaf, register, bit, doc });

export const CPUID_FEATURES: readonly CpuidFeature[] = [
  f('FPU', 1, 0, 'edx', 0, 'x87 FPU on chip'),
  f('TSC', 1, 0, 'edx', 4, 'RDTSC and CR4.TSD'),
  f('MSR', 1, 0, 'edx', 5, 'RDMSR/WRMSR'),
  f('PAE', 1, 0, 'edx', 6, 'Physical address extension'),
  f('CX8', 1, 0, 'edx', 8, 'CMPXCHG8B'),
  f('APIC', 1, 0, 'edx', 9, 'Local APIC on chip'),
  f('SEP', 1, 0, 'edx', 11, 'SYSENTER/SYSEXIT'),
  f('PGE', 1, 0, 'edx', 13, 'Global pages (CR4.PGE)'),
  f('CMOV', 1, 0, 'edx', 15, 'CMOVcc'),
  f('PAT', 1, 0, 'edx', 16, 'Page attribute table'),
  f('FXSR', 1, 0, 'edx', 24, 'FXSAVE/FXRSTOR'),
  f('SSE', 1, 0, 'edx', 25, 'SSE'),
  f('SSE2', 1, 0, 'edx', 26, 'SSE2'),
  f('SSE3', 1, 0, 'ecx', 0, 'SSE3'),
  f('VMX', 1, 0, 'ecx', 5, 'Virtual-machine extensions'),
  f('SSSE3', 1, 0, 'ecx', 9, 'SSSE3'),
  f('CX16', 1, 0, 'ecx', 13, 'CMPXCHG16B'),
  f('PCID', 1, 0, 'ecx', 17, 'Process-context identifiers (CR4.PCIDE)'),
  f('SSE4_1', 1, 0, 'ecx', 19, 'SSE4.1'),
  f('SSE4_2', 1, 0, 'ecx', 20, 'SSE4.2'),
  f('X2APIC', 1, 0, 'ecx', 21, 'x2APIC mode'),
  f('POPCNT', 1, 0, 'ecx', 23, 'POPCNT'),
  f('TSC_DEADLINE', 1, 0, 'ecx', 24, 'APIC timer TSC-deadline mode'),
  f('XSAVE', 1, 0, 'ecx', 26, 'XSAVE/XRSTOR, XCR0'),
  f('OSXSAVE', 1, 0, 'ecx', 27, 'CR4.OSXSAVE is set'),
  f('HYPERVISOR', 1, 0, 'ecx', 31, 'Running under a hypervisor'),
  f('FSGSBASE', 7, 0, 'ebx', 0, 'RDFSBASE/RDGSBASE/WRFSBASE/WRGSBASE'),
  f('SMEP', 7, 0, 'ebx', 7, 'Supervisor-mode execution prevention'),
  f('ERMS', 7, 0, 'ebx', 9, 'Enhanced REP MOVSB/STOSB'),
  f('INVPCID', 7, 0, 'ebx', 10, 'INVPCID'),
  f('SMAP', 7, 0, 'ebx', 20, 'Supervisor-mode access prevention'),
  f('UMIP', 7, 0, 'ecx', 2, 'User-mode instruction prevention'),
  f('PKU', 7, 0, 'ecx', 3, 'Protection keys for user-mode pages'),
  f('SHSTK', 7, 0, 'ecx', 7, 'CET shadow stacks'),
  f('LA57', 7, 0, 'ecx', 16, '5-level paging'),
  f('IBT', 7, 0, 'edx', 20, 'CET indirect-branch tracking'),
  f('FRED', 7, 1, 'eax', 17, 'Flexible return and event delivery'),
  f('LKGS', 7, 1, 'eax', 18, 'LKGS instruction'),
  f('WRMSRNS', 7, 1, 'eax', 19, 'Non-serializing WRMSR'),
  f('NMI_SOURCE', 7, 1, 'eax', 20, 'NMI-source reporting (FRED NMI event data)'),
  f('LAHF_LM', 0x80000001, 0, 'ecx', 0, 'LAHF/SAHF in 64-bit mode'),
  f('ABM', 0x80000001, 0, 'ecx', 5, 'LZCNT'),
  f('SYSCALL', 0x80000001, 0, 'edx', 11, 'SYSCALL/SYSRET'),
  f('NX', 0x80000001, 0, 'edx', 20, 'Execute-disable bit'),
  f('PDPE1GB', 0x80000001, 0, 'edx', 26, '1-GByte pages'),
  f('RDTSCP', 0x80000001, 0, 'edx', 27, 'RDTSCP and IA32_TSC_AUX'),
  f('LM', 0x80000001, 0, 'edx', 29, 'Intel 64 architecture (long mode)'),
];

/** A feature by name (case-insensitive). */
export function cpuidFeature(name: string): CpuidFeature | undefined {
  const n = name.toUpperCase();
  return CPUID_FEATURES.find((x) => x.name === n);
}

/** The register mask of a set of features within one leaf/sub-leaf/register (throws on an unknown name
 *  or a feature that lives elsewhere), e.g. `cpuidMask(7, 1, 'eax', ['FRED', 'LKGS'])`. */
export function cpuidMask(leaf: number, subleaf: number, register: CpuidRegister, names: readonly string[]): number {
  let m = 0;
  for (const n of names) {
    const x = cpuidFeature(n);
    if (!x) throw new RangeError(`unknown CPUID feature '${n}'`);
    if (x.leaf !== leaf || x.subleaf !== subleaf || x.register !== register) {
      throw new RangeError(`CPUID feature ${x.name} is in leaf 0x${x.leaf.toString(16)}.${x.subleaf} ${x.register.toUpperCase()}, not 0x${leaf.toString(16)}.${subleaf} ${register.toUpperCase()}`);
    }
    m |= 1 << x.bit;
  }
  return m >>> 0;
}
