// The boot contract (ARCHITECTURE §3; README "The guest machine (boot contract)"): guest RAM with identity
// paging on 4 KiB pages, the GDT and a 64-bit TSS, the boot stack, control registers and MSRs as a
// freshly loaded 64-bit kernel would find them. Fixed physical (= linear) addresses, all below the
// default image origin 0x100000:
//   0x1000  GDT (0x50 bytes)          0x2000  TSS (0x68 bytes, no I/O bitmap)
//   0x10000–0x20000  boot stack (RSP = 0x20000)
//   0x20000 PML4, 0x21000 PDPT, 0x22000 PD, 0x23000… page tables (one per 2 MiB of RAM)
import type { Cpu } from './cpu/cpu';
import { PAGE_SIZE, type PhysicalMemory } from './memory/physical';
import { CS, DS, ES, FS, GS, RSP, SS, nullSegment } from './cpu/state';
import { readDescriptor, segmentFrom } from './cpu/segments';

export const GDT_BASE = 0x1000;
export const TSS_BASE = 0x2000;
export const TSS_LIMIT = 0x67;
export const BOOT_STACK_BOTTOM = 0x10000;
export const BOOT_STACK_TOP = 0x20000;
export const PML4_BASE = 0x20000;
export const DEFAULT_ORG = 0x100000;
export const MAX_MEMORY_MIB = 256;

/** Selectors of the boot GDT. */
export const SELECTORS = { kernelCode32: 0x08, kernelCode: 0x10, kernelData: 0x18, userCode32: 0x20, userData: 0x28, userCode: 0x30, tss: 0x40 } as const;

const GDT_ENTRIES: bigint[] = [
  0n,
  0x00cf9b000000ffffn, // 0x08 kernel code, 32-bit
  0x00af9b000000ffffn, // 0x10 kernel code, 64-bit (L = 1)
  0x00cf93000000ffffn, // 0x18 kernel data
  0x00cffb000000ffffn, // 0x20 user code, 32-bit (selector 0x23)
  0x00cff3000000ffffn, // 0x28 user data (0x2B)
  0x00affb000000ffffn, // 0x30 user code, 64-bit (0x33)
  0n, // 0x38 unused
];

export interface PageRange {
  /** Linear = physical start. */
  start: number;
  end: number;
}

function write64(mem: PhysicalMemory, pa: number, value: bigint): void {
  mem.write32(pa, Number(BigInt.asIntN(32, value)));
  mem.write32(pa + 4, Number(BigInt.asIntN(32, value >> 32n)));
}

/** Build the identity map: every RAM page supervisor/writable/executable; `user` ranges get U/S = 1. */
export function buildPageTables(mem: PhysicalMemory, userRanges: PageRange[]): void {
  const pages = mem.size / PAGE_SIZE;
  const tables = Math.ceil(pages / 512);
  const pdCount = Math.ceil(tables / 512);
  const pdptBase = PML4_BASE + PAGE_SIZE;
  const pdBase = pdptBase + PAGE_SIZE;
  const ptBase = pdBase + pdCount * PAGE_SIZE;
  const upper = 0x7n; // P, RW, US: the leaf entries decide
  write64(mem, PML4_BASE, BigInt(pdptBase) | upper);
  for (let i = 0; i < pdCount; i++) write64(mem, pdptBase + i * 8, BigInt(pdBase + i * PAGE_SIZE) | upper);
  for (let t = 0; t < tables; t++) write64(mem, pdBase + t * 8, BigInt(ptBase + t * PAGE_SIZE) | upper);
  for (let p = 0; p < pages; p++) {
    const address = p * PAGE_SIZE;
    const user = userRanges.some((r) => address < r.end && r.start < address + PAGE_SIZE);
    write64(mem, ptBase + p * 8, BigInt(address) | 0x3n | (user ? 0x4n : 0n));
  }
}

/** Physical address of the page-table entry that maps RAM address `linear` (identity map). */
export function pteAddress(memoryBytes: number, linear: number): number {
  const tables = Math.ceil(memoryBytes / PAGE_SIZE / 512);
  return PML4_BASE + (2 + Math.ceil(tables / 512)) * PAGE_SIZE + Math.floor(linear / PAGE_SIZE) * 8;
}

/** End of the paging structures for a RAM size (they must stay below the image origin). */
export function pageTablesEnd(memoryBytes: number): number {
  const tables = Math.ceil(memoryBytes / PAGE_SIZE / 512);
  return PML4_BASE + (2 + Math.ceil(tables / 512) + tables) * PAGE_SIZE;
}

/** Load the architectural boot state into `c` (memory already holds GDT, TSS and page tables). */
export function bootCpu(c: Cpu, mem: PhysicalMemory, entry: number): void {
  GDT_ENTRIES.forEach((entry, i) => write64(mem, GDT_BASE + i * 8, entry));
  // 0x40: 64-bit TSS descriptor (16 bytes), already busy because TR is loaded.
  const tssLow = BigInt(TSS_LIMIT) | (BigInt(TSS_BASE & 0xffffff) << 16n) | (0x8bn << 40n) | (BigInt((TSS_BASE >>> 24) & 0xff) << 56n);
  write64(mem, GDT_BASE + 0x40, tssLow);
  write64(mem, GDT_BASE + 0x48, 0n);
  // TSS: RSP0 = boot stack top, I/O map base beyond the limit (no bitmap: CPL 3 port I/O faults).
  write64(mem, TSS_BASE + 4, BigInt(BOOT_STACK_TOP));
  mem.write32(TSS_BASE + 0x64, (TSS_LIMIT + 1) << 16);

  c.cr0 = 0x80050033n; // PE MP ET NE WP PG
  c.cr4 = 0x6a0n; // PAE PGE OSFXSR OSXMMEXCPT
  c.cr3 = BigInt(PML4_BASE);
  c.efer = 0xd01n; // SCE LME LMA NXE
  c.msr.set(0xc0000081, 0x0023_0010_0000_0000n); // IA32_STAR
  c.gdtr = { base: GDT_BASE, limit: GDT_ENTRIES.length * 8 + 15 };
  c.idtr = { base: 0, limit: 0 };
  c.cpl = 0;
  c.syncPaging();
  c.seg[CS] = segmentFrom(SELECTORS.kernelCode, readDescriptor(c, SELECTORS.kernelCode));
  for (const reg of [SS, DS, ES]) c.seg[reg] = segmentFrom(SELECTORS.kernelData, readDescriptor(c, SELECTORS.kernelData));
  c.seg[FS] = { ...nullSegment(), base: 0 };
  c.seg[GS] = { ...nullSegment(), base: 0 };
  const tss = readDescriptor(c, SELECTORS.tss, true);
  c.tr = { sel: SELECTORS.tss, base: tss.base, limit: tss.limit, attr: tss.attr };
  c.ldtr = nullSegment();
  c.rflags = 0x2;
  c.setGprNumber(RSP, BOOT_STACK_TOP);
  c.rip = entry;
}
