// CPUID (SDM Vol. 2A CPUID) for this emulated processor: long mode, NX, 1 GiB pages, SYSCALL,
// RDTSCP, FSGSBASE, SMEP, SMAP, x2APIC, MOVBE, POPCNT, CX16, LZCNT, and FRED/LKGS/WRMSRNS in leaf 7.1
// EAX[17–19] (fred-architecture.md §1.1). The vendor string names the emulator.
import type { Cpu } from '../cpu';
import type { DecodedInsn } from '../decode';

export const VENDOR = 'FREDLabEmu64';
const BRAND = 'FRED Lab emulated x86-64 CPU';

function text(s: string, at: number): number {
  let v = 0;
  for (let k = 3; k >= 0; k--) v = v * 256 + (s.charCodeAt(at + k) || 0);
  return v;
}

const VENDOR_WORDS = [text(VENDOR, 0), text(VENDOR, 8), text(VENDOR, 4)] as const;

/** [EAX, EBX, ECX, EDX] for leaf/subleaf. */
export function cpuidLeaf(leaf: number, subleaf: number): [number, number, number, number] {
  switch (leaf) {
    case 0: return [7, VENDOR_WORDS[0], VENDOR_WORDS[1], VENDOR_WORDS[2]];
    case 1: {
      const edx = (1 << 4) | (1 << 5) | (1 << 6) | (1 << 8) | (1 << 9) | (1 << 13) | (1 << 15);
      const ecx = (1 << 13) | (1 << 21) | (1 << 22) | (1 << 23);
      return [0x000806f0, 0x00010000, ecx, edx];
    }
    case 7:
      if (subleaf === 0) return [1, (1 << 0) | (1 << 7) | (1 << 20), 0, 0];
      if (subleaf === 1) return [(1 << 17) | (1 << 18) | (1 << 19), 0, 0, 0];
      return [0, 0, 0, 0];
    case 0x80000000: return [0x80000008, 0, 0, 0];
    case 0x80000001: return [0, 0, (1 << 0) | (1 << 5), (1 << 11) | (1 << 20) | (1 << 26) | (1 << 27) | (1 << 29)];
    case 0x80000002: case 0x80000003: case 0x80000004: {
      const at = (leaf - 0x80000002) * 16;
      return [text(BRAND, at), text(BRAND, at + 4), text(BRAND, at + 8), text(BRAND, at + 12)];
    }
    case 0x80000008: return [0x3028, 0, 0, 0];
  }
  return [0, 0, 0, 0];
}

export function cpuid(c: Cpu, d: DecodedInsn): void {
  if (c.vmx) { c.vmExitPending = c.vmx.cpuid(d.length); return; } // CPUID always exits in VMX non-root operation (SDM Vol. 3C §26.1.2)
  const [a, b, cx, dx] = cpuidLeaf(Number(c.gpr(0) & 0xffffffffn), Number(c.gpr(1) & 0xffffffffn));
  c.setGpr(0, BigInt(a >>> 0));
  c.setGpr(3, BigInt(b >>> 0));
  c.setGpr(1, BigInt(cx >>> 0));
  c.setGpr(2, BigInt(dx >>> 0));
  c.rip = d.next;
}
