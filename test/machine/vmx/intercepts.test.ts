import { describe, expect, it } from 'vitest';
import {
  IoBitmap, MsrBitmap, cltsCausesExit, crAccessQualification, crReadCausesExit, crReadValue, crWriteCausesExit, exceptionCausesExit,
  instructionCausesExit, ioCausesExit, ioQualification, lmswCausesExit, msrAccessCausesExit, UNCONDITIONAL_EXIT_REASONS,
} from '../../../src/machine/vmx/intercepts';
import { Vmcs } from '../../../src/machine/vmx/vmcs';

const PROC_BASE = 0x0400_6172n;
function vmcs(proc = PROC_BASE): Vmcs {
  const v = new Vmcs({ fred: true });
  v.set('CPU_BASED_VM_EXEC_CONTROL', proc);
  return v;
}

describe('exceptions through the exception bitmap (SDM §25.6.3)', () => {
  it('a set bit makes the vector exit', () => {
    const v = vmcs();
    v.set('EXCEPTION_BITMAP', (1n << 6n) | (1n << 13n));
    expect(exceptionCausesExit(v, 6)).toBe(true);
    expect(exceptionCausesExit(v, 13, 0x10)).toBe(true);
    expect(exceptionCausesExit(v, 3)).toBe(false);
  });

  it('#PF: error code & mask = match → bit 14 decides; otherwise its inverse decides', () => {
    const v = vmcs();
    v.set('PAGE_FAULT_ERROR_CODE_MASK', 0x2n); // W
    v.set('PAGE_FAULT_ERROR_CODE_MATCH', 0x2n);
    v.set('EXCEPTION_BITMAP', 1n << 14n);
    expect(exceptionCausesExit(v, 14, 0x3)).toBe(true); // write fault: matches, bit 14 = 1
    expect(exceptionCausesExit(v, 14, 0x1)).toBe(false); // read fault: no match, exits only if bit 14 = 0
    v.set('EXCEPTION_BITMAP', 0n);
    expect(exceptionCausesExit(v, 14, 0x1)).toBe(true);
    expect(exceptionCausesExit(v, 14, 0x3)).toBe(false);
  });
});

describe('RDMSR/WRMSR through the MSR bitmap (SDM §25.6.9)', () => {
  it('without "use MSR bitmaps" every access exits', () => {
    expect(msrAccessCausesExit(vmcs(), new MsrBitmap(), 0x1d4, false)).toBe(true);
  });

  it('reads and writes are separate bits, in the low and high ranges', () => {
    const v = vmcs(PROC_BASE | (1n << 28n));
    const b = MsrBitmap.intercepting([0x6a4, 0xc000_0080]);
    b.set(0x1d4, true, true);
    expect(msrAccessCausesExit(v, b, 0x6a4, false)).toBe(true);
    expect(msrAccessCausesExit(v, b, 0xc000_0080, true)).toBe(true);
    expect(msrAccessCausesExit(v, b, 0x1d4, true)).toBe(true);
    expect(msrAccessCausesExit(v, b, 0x1d4, false)).toBe(false);
    expect(msrAccessCausesExit(v, b, 0xc000_0102, false)).toBe(false);
    b.set(0x6a4, false, false);
    expect(msrAccessCausesExit(v, b, 0x6a4, false)).toBe(false);
  });

  it('the layout is the hardware one: write-high bitmap at byte 3072', () => {
    const b = new MsrBitmap();
    b.set(0xc000_0001, true, true);
    expect(b.bytes[3072]).toBe(2);
    b.set(0x9, false, true);
    expect(b.bytes[1]).toBe(2);
  });

  it('MSRs outside both ranges always exit and cannot be set', () => {
    const v = vmcs(PROC_BASE | (1n << 28n));
    expect(msrAccessCausesExit(v, new MsrBitmap(), 0x4000_0000, false)).toBe(true);
    expect(() => new MsrBitmap().set(0x2000, false, true)).toThrow(/outside the MSR-bitmap ranges/);
  });
});

describe('port I/O (SDM §25.6.4)', () => {
  it('unconditional I/O exiting without bitmaps; bitmaps decide when used, per byte of the access', () => {
    const b = new IoBitmap();
    b.set(0x3f9, true);
    expect(ioCausesExit(vmcs(), b, 0x3f8, 1)).toBe(false);
    expect(ioCausesExit(vmcs(PROC_BASE | (1n << 24n)), b, 0x3f8, 1)).toBe(true);
    const withBitmaps = vmcs(PROC_BASE | (1n << 24n) | (1n << 25n));
    expect(ioCausesExit(withBitmaps, b, 0x3f8, 1)).toBe(false);
    expect(ioCausesExit(withBitmaps, b, 0x3f8, 2)).toBe(true);
    expect(ioCausesExit(withBitmaps, b, 0xffff, 2)).toBe(true); // wraps
  });
});

describe('control-register accesses (SDM §26.1.3)', () => {
  it('MOV to CR0/CR4 exits when a host-owned bit differs from the read shadow', () => {
    const v = vmcs();
    v.set('CR4_GUEST_HOST_MASK', 0x2000n); // VMXE host-owned, shadow 0
    expect(crWriteCausesExit(v, 4, 0x20n | (1n << 32n))).toBe(false); // guest sets PAE and FRED
    expect(crWriteCausesExit(v, 4, 0x2000n)).toBe(true);
    v.set('CR0_GUEST_HOST_MASK', 0x8000_0001n);
    v.set('CR0_READ_SHADOW', 0x8000_0001n);
    expect(crWriteCausesExit(v, 0, 0x8005_0033n)).toBe(false);
    expect(crWriteCausesExit(v, 0, 0x0005_0033n)).toBe(true);
  });

  it('MOV to CR3 exits with CR3-load exiting unless the value is one of the first CR3_TARGET_COUNT targets', () => {
    const v = vmcs(PROC_BASE | (1n << 15n));
    expect(crWriteCausesExit(v, 3, 0x5000n)).toBe(true); // CR3-load exiting with no targets
    v.set('CR3_TARGET_COUNT', 2n);
    v.set('CR3_TARGET_VALUE1', 0x5000n);
    v.set('CR3_TARGET_VALUE2', 0x6000n);
    expect(crWriteCausesExit(v, 3, 0x5000n)).toBe(false);
    expect(crWriteCausesExit(v, 3, 0x6000n)).toBe(true);
    v.set('CPU_BASED_VM_EXEC_CONTROL', PROC_BASE & ~(1n << 15n));
    expect(crWriteCausesExit(v, 3, 0x6000n)).toBe(false);
  });

  it('CR8 and MOV from CR3/CR8 follow their controls; MOV from CR0/CR4 never exits', () => {
    const v = vmcs(PROC_BASE | (1n << 19n) | (1n << 16n));
    expect(crWriteCausesExit(v, 8, 1n)).toBe(true);
    expect(crReadCausesExit(v, 3)).toBe(true);
    expect(crReadCausesExit(v, 8)).toBe(false);
    expect(crReadCausesExit(v, 0)).toBe(false);
    v.set('CPU_BASED_VM_EXEC_CONTROL', PROC_BASE | (1n << 20n));
    expect(crReadCausesExit(v, 3)).toBe(false);
    expect(crReadCausesExit(v, 8)).toBe(true);
  });

  it('MOV from CR0/CR4 reads the shadow for host-owned bits', () => {
    const v = vmcs();
    v.set('CR4_GUEST_HOST_MASK', 0x2000n);
    expect(crReadValue(v, 4, 0x26a0n | (1n << 32n))).toBe(0x6a0n | (1n << 32n));
  });

  it('CLTS and LMSW', () => {
    const v = vmcs();
    v.set('CR0_GUEST_HOST_MASK', 0x9n);
    expect(cltsCausesExit(v)).toBe(false);
    v.set('CR0_READ_SHADOW', 0x8n);
    expect(cltsCausesExit(v)).toBe(true);
    expect(lmswCausesExit(v, 0x8)).toBe(false); // TS matches the shadow, PE stays 0
    expect(lmswCausesExit(v, 0x9)).toBe(true); // sets host-owned PE while the shadow has PE = 0
    expect(lmswCausesExit(v, 0x0)).toBe(true); // clears host-owned TS
  });
});

describe('instructions', () => {
  it('CPUID and VMCALL always exit; HLT and RDTSC by their controls', () => {
    const v = vmcs();
    expect(instructionCausesExit(v, 'CPUID')).toBe(true);
    expect(instructionCausesExit(v, 'VMCALL')).toBe(true);
    expect(instructionCausesExit(v, 'HLT')).toBe(false);
    v.set('CPU_BASED_VM_EXEC_CONTROL', PROC_BASE | 0x80n | (1n << 12n));
    expect(instructionCausesExit(v, 'HLT')).toBe(true);
    expect(instructionCausesExit(v, 'RDTSCP')).toBe(true);
    expect(() => instructionCausesExit(v, 'NOP')).toThrow(/no VM-exit rule/);
  });
});

describe('exit qualifications', () => {
  it('CR access: MOV to CR4 from R9 = 0x904; MOV from CR3 to RAX = 0x13; LMSW source in 31:16', () => {
    expect(crAccessQualification({ cr: 4, type: 'movTo', gpr: 9 })).toBe(0x904n);
    expect(crAccessQualification({ cr: 3, type: 'movFrom', gpr: 0 })).toBe(0x13n);
    expect(crAccessQualification({ cr: 0, type: 'lmsw', lmswSource: 0xb, lmswMemory: true })).toBe(0xb_0070n);
  });

  it('I/O: OUT DX, AL to 0x3F8 = 0x3F80000; IN EAX, 0x60 = 0x60004B', () => {
    expect(ioQualification({ port: 0x3f8, size: 1, in: false })).toBe(0x3f8_0000n);
    expect(ioQualification({ port: 0x60, size: 4, in: true, immediate: true })).toBe(0x60_004bn);
  });
});

describe('unconditional exits', () => {
  it('name the basic reasons of src/arch', () => {
    expect(UNCONDITIONAL_EXIT_REASONS.get('CPUID')).toBe(10);
    expect(UNCONDITIONAL_EXIT_REASONS.get('VMCALL')).toBe(18);
    expect(UNCONDITIONAL_EXIT_REASONS.get('XSETBV')).toBe(55);
    expect(UNCONDITIONAL_EXIT_REASONS.get('VMXOFF')).toBe(26);
  });
});
