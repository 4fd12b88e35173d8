// A VMCS that passes every VM-entry check: a 64-bit host and a 64-bit ring-0 guest in the boot state
// of ARCHITECTURE §3 (flat segments, TSS at 0x40), EPT + VPID, MSR and I/O bitmaps, FRED load/save.
import { Vmcs } from '../../../src/machine/vmx/vmcs';

export const GUEST_CR0 = 0x8005_0033n; // PE MP ET NE WP PG
export const GUEST_CR4 = 0x26a0n; // PAE PGE OSFXSR OSXMMEXCPT VMXE
export const EFER_LONG = 0xd01n; // SCE LME LMA NXE
export const PAT = 0x0007_0406_0007_0406n;
export const CS64_AR = 0xa09bn; // type 11, S, DPL 0, P, L, G
export const DATA_AR = 0xc093n; // type 3, S, DPL 0, P, D/B, G
export const UNUSABLE = 0x1_0000n;

export function validVmcs(fred = true): Vmcs {
  const v = new Vmcs({ fred });
  const set = (entries: Record<string, bigint>): void => { for (const [k, val] of Object.entries(entries)) v.set(k, val); };
  set({
    PIN_BASED_VM_EXEC_CONTROL: 0x16n | 0x1n | 0x8n | 0x20n,
    CPU_BASED_VM_EXEC_CONTROL: 0x0400_6172n | 0x80n | (1n << 25n) | (1n << 28n) | (1n << 31n),
    SECONDARY_VM_EXEC_CONTROL: 0x2n | 0x20n,
    IO_BITMAP_A: 0x1000n, IO_BITMAP_B: 0x2000n, MSR_BITMAP: 0x3000n,
    EPT_POINTER: 0x5000n | 6n | (3n << 3n),
    VIRTUAL_PROCESSOR_ID: 1n,
    VM_EXIT_CONTROLS: 0x36dfbn | (1n << 9n) | (1n << 20n) | (1n << 21n) | (fred ? 1n << 31n : 0n),
    VM_ENTRY_CONTROLS: 0x11fbn | (1n << 9n) | (1n << 15n) | (fred ? 1n << 23n : 0n),
    HOST_CR0: GUEST_CR0, HOST_CR4: GUEST_CR4, HOST_CR3: 0x10000n,
    HOST_CS_SELECTOR: 0x10n, HOST_SS_SELECTOR: 0x18n, HOST_DS_SELECTOR: 0x18n, HOST_ES_SELECTOR: 0x18n, HOST_TR_SELECTOR: 0x40n,
    HOST_RIP: 0xffff_ffff_8100_0000n, HOST_RSP: 0xffff_c900_0000_8000n,
    HOST_IA32_EFER: EFER_LONG, HOST_IA32_PAT: PAT,
    GUEST_CR0, GUEST_CR4, GUEST_CR3: 0x2000n, GUEST_DR7: 0x400n,
    GUEST_RIP: 0x10_0000n, GUEST_RSP: 0x20_0000n, GUEST_RFLAGS: 0x2n,
    GUEST_IA32_EFER: EFER_LONG, GUEST_IA32_PAT: PAT,
    GUEST_CS_SELECTOR: 0x10n, GUEST_CS_AR_BYTES: CS64_AR, GUEST_CS_LIMIT: 0xffff_ffffn,
    GUEST_TR_SELECTOR: 0x40n, GUEST_TR_AR_BYTES: 0x8bn, GUEST_TR_LIMIT: 0x67n,
    GUEST_LDTR_AR_BYTES: UNUSABLE,
    GUEST_GDTR_BASE: 0x1000n, GUEST_GDTR_LIMIT: 0x4fn,
    VMCS_LINK_POINTER: 0xffff_ffff_ffff_ffffn,
  });
  for (const s of ['SS', 'DS', 'ES']) set({ [`GUEST_${s}_SELECTOR`]: 0x18n, [`GUEST_${s}_AR_BYTES`]: DATA_AR, [`GUEST_${s}_LIMIT`]: 0xffff_ffffn });
  for (const s of ['FS', 'GS']) set({ [`GUEST_${s}_AR_BYTES`]: UNUSABLE });
  if (fred) {
    set({
      SECONDARY_VM_EXIT_CONTROLS: 3n,
      HOST_IA32_FRED_CONFIG: 0xffff_ffff_8100_2000n | (1n << 9n),
      HOST_IA32_FRED_RSP1: 0xffff_c900_0001_0000n, HOST_IA32_FRED_RSP2: 0xffff_c900_0002_0000n, HOST_IA32_FRED_RSP3: 0xffff_c900_0003_0000n,
      HOST_IA32_FRED_STKLVLS: 0x3_0000n,
    });
  }
  return v;
}

/** Turn the fixture's guest into a FRED guest at CPL 0 (GUEST_CR4.FRED = 1, FRED entry point set). */
export function makeFredGuest(v: Vmcs): void {
  v.set('GUEST_CR4', v.get('GUEST_CR4') | (1n << 32n));
  v.set('GUEST_IA32_FRED_CONFIG', 0x10_4000n);
  v.set('GUEST_IA32_FRED_RSP1', 0x30_0000n);
}

/** The guest at CPL 3 (CS 0x33 64-bit, SS 0x2B), for the FRED ring-3 checks. */
export function makeUserGuest(v: Vmcs): void {
  v.set('GUEST_CS_SELECTOR', 0x33n);
  v.set('GUEST_CS_AR_BYTES', CS64_AR | (3n << 5n));
  v.set('GUEST_SS_SELECTOR', 0x2bn);
  v.set('GUEST_SS_AR_BYTES', DATA_AR | (3n << 5n));
  for (const s of ['DS', 'ES']) { v.set(`GUEST_${s}_SELECTOR`, 0x2bn); v.set(`GUEST_${s}_AR_BYTES`, DATA_AR | (3n << 5n)); }
}
