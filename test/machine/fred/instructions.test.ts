// Conformance: LKGS (§5.1), the instructions FRED turns into #UD (§1.3), IRET's FRED restrictions,
// SYSCALL's EFER.SCE switch (§5.2, §11.1), CR4.FRED and the FRED MSRs' WRMSR checks (§1.2, §2), CPUID
// enumeration (§1.1) and the CET "not supported" stop.
import { afterEach, describe, expect, it } from 'vitest';
import { GDT_BASE } from '../../../src/machine/boot';
import { writeControlRegister } from '../../../src/machine/cpu/exec/controlRegisters';
import { FRED_OPTIONS } from '../../../src/machine/cpu/exec/fred';
import { CpuFault } from '../../../src/machine/events/fault';
import { GS } from '../../../src/machine/cpu/state';
import type { Machine } from '../../../src/machine/machine';
import { boot, expectStop, fredSource, frameAt, gsBase, program, rsp, toUser, writeU64, wrmsr, type FredProgramParts } from './harness';

function run(parts: FredProgramParts, before?: (m: Machine) => void) {
  const p = program(fredSource(parts));
  const m = boot(p);
  before?.(m);
  const stop = m.run();
  return { m, p, stop, sym: (n: string) => p.symbol(n) };
}

/** The run ended in the ring-0 handler with this exception for the instruction at label `at`. */
function expectKernelFault(r: ReturnType<typeof run>, vector: number, errorCode = 0n): void {
  expectStop(r.stop, 'halted');
  expect(r.m.getRip()).toBe(r.sym('fred_entry_kernel') + 1n);
  const f = frameAt(r.m, rsp(r.m));
  expect(f.ss).toMatchObject({ type: 3, vector });
  expect([f.rip, f.errorCode]).toEqual([r.sym('at'), errorCode]);
}

const DATA_WITH_BASE = 0x12cff3345678ffffn; // DPL-3 data segment, base 0x12345678

describe('LKGS', () => {
  const gs = `${wrmsr('IA32_GS_BASE', '0x7000')}\n${wrmsr('IA32_KERNEL_GS_BASE', '0xffff888000002000')}`;

  it('loads GS like MOV GS but puts the descriptor base in IA32_KERNEL_GS_BASE; GS.base stays', () => {
    const r = run({ setup: gs, body: 'mov ax, 0x3b\nlkgs ax' }, (m) => writeU64(m, BigInt(GDT_BASE + 0x38), DATA_WITH_BASE));
    expectStop(r.stop, 'halted');
    expect(r.m.readMsr(0xc0000102)).toBe(0x12345678n);
    expect(gsBase(r.m)).toBe(0x7000n);
    expect(r.m.getSegment(GS).sel).toBe(0x3b);
  });

  it('takes a 16-bit memory operand and works without CR4.FRED', () => {
    const p = program(`_start:\n${gs}\n        lkgs word [rel sel]\n        hlt\nsel: dw 0x3b`);
    const m = boot(p);
    writeU64(m, BigInt(GDT_BASE + 0x38), DATA_WITH_BASE);
    expectStop(m.run(), 'halted');
    expect(m.readMsr(0xc0000102)).toBe(0x12345678n);
    expect(gsBase(m)).toBe(0x7000n);
  });

  it('a null selector clears IA32_KERNEL_GS_BASE', () => {
    const r = run({ setup: gs, body: 'xor eax, eax\nlkgs ax' });
    expectStop(r.stop, 'halted');
    expect(r.m.readMsr(0xc0000102)).toBe(0n);
    expect([r.m.getSegment(GS).sel, gsBase(r.m)]).toEqual([0, 0x7000n]);
  });

  it('#GP(selector) for a selector outside the GDT, nothing loaded', () => {
    const r = run({ setup: gs, body: 'mov ax, 0x1000\nat: lkgs ax' });
    expectKernelFault(r, 13, 0x1000n);
    expect(r.m.readMsr(0xc0000102)).toBe(0xffff888000002000n);
  });

  it('#NP(selector) for a segment not present', () => {
    const r = run({ setup: gs, body: 'mov ax, 0x38\nat: lkgs ax' }, (m) => writeU64(m, BigInt(GDT_BASE + 0x38), DATA_WITH_BASE & ~(0x80n << 40n)));
    expectKernelFault(r, 11, 0x38n);
  });

  it('#UD at CPL 3', () => {
    const r = run({ body: toUser(), user: 'at: lkgs ax' });
    expect(r.m.getRip()).toBe(r.sym('fred_entry') + 1n);
    expect(frameAt(r.m, rsp(r.m)).ss).toMatchObject({ vector: 6 });
  });
});

describe('instructions that raise #UD under FRED', () => {
  it.each([['swapgs'], ['sysretq'], ['sysret'], ['sysexit'], ['setssbsy'], ['clrssbsy qword [rax]']])('%s → #UD at CPL 0', (insn) => {
    const r = run({ body: `at: ${insn}` });
    expectKernelFault(r, 6);
  });

  it('SWAPGS still works with CR4.FRED = 0', () => {
    const p = program(`_start:\n${wrmsr('IA32_KERNEL_GS_BASE', '0x5000')}\n        swapgs\n        hlt`);
    const m = boot(p);
    expectStop(m.run(), 'halted');
    expect(gsBase(m)).toBe(0x5000n);
  });
});

describe('IRET under FRED (§1.3)', () => {
  const iret = (cs: string, ss = '0x18', rsp = '0x240000') => `
        mov     rax, ${ss}
        push    rax
        mov     rax, ${rsp}
        push    rax
        push    2
        push    ${cs}
        lea     rax, [rel back]
        push    rax
at:     iretq
back:   hlt`;

  it('returns at the same privilege in 64-bit mode', () => {
    const r = run({ body: iret('0x10') });
    expectStop(r.stop, 'halted');
    expect(r.m.getRip()).toBe(r.sym('back') + 1n);
    expect(rsp(r.m)).toBe(0x240000n);
  });

  it('#GP(CS) when it would change privilege (return to ring 3)', () => {
    expectKernelFault(run({ body: iret('0x33', '0x2b') }), 13, 0x30n);
  });

  it('#GP(CS) when it would enter compatibility mode at CPL 0', () => {
    expectKernelFault(run({ body: iret('0x08') }), 13, 0x08n);
  });
});

describe('SYSCALL and IA32_EFER.SCE (§11.1)', () => {
  afterEach(() => {
    FRED_OPTIONS.syscallChecksSce = false;
  });
  const noSce = { body: `
        mov     ecx, IA32_EFER
        rdmsr
        and     eax, ~1
        wrmsr
at:     syscall` };

  it('SDM rule (default): SYSCALL is delivered under FRED with SCE = 0', () => {
    const r = run(noSce);
    expectStop(r.stop, 'halted');
    expect(frameAt(r.m, rsp(r.m)).ss).toMatchObject({ type: 7, vector: 1 });
  });

  it('Bochs rule (switch on): #UD', () => {
    FRED_OPTIONS.syscallChecksSce = true;
    expectKernelFault(run(noSce), 6);
  });
});

describe('enabling FRED (§1.1, §1.2, §2)', () => {
  it('CPUID.(7,1):EAX enumerates FRED, LKGS and WRMSRNS (bits 17–19)', () => {
    const m = boot(program('_start:\n mov eax, 7\n mov ecx, 1\n cpuid\n hlt'));
    expectStop(m.run(), 'halted');
    expect(Number(m.getGpr(0)) & 0xe0000).toBe(0xe0000);
  });

  it('MOV to CR4 setting FRED raises #GP(0) when IA32_EFER.LMA = 0', () => {
    const m = boot(program('_start: hlt'));
    const c = m.cpu;
    c.efer &= ~(1n << 10n);
    let fault: unknown;
    try {
      writeControlRegister(c, 4, c.cr4 | (1n << 32n));
    } catch (e) {
      fault = e;
    }
    expect(fault).toBeInstanceOf(CpuFault);
    expect((fault as CpuFault).vector).toBe(13);
    expect(c.cr4 & (1n << 32n)).toBe(0n);
  });

  it('setting CR4.CET stops the run with a clear "not supported" reason', () => {
    const r = run({ body: 'mov rax, cr4\nbts rax, 23\nmov cr4, rax' });
    expectStop(r.stop, 'unimplemented');
    expect(r.stop.message).toMatch(/CET.*not supported/);
  });

  // WRMSR checks of src/arch (checkMsrWrite), exercised by a program with FRED on (#GP → handler).
  const wr: [string, string, string, boolean][] = [
    ['IA32_FRED_RSP0 64-byte aligned', 'IA32_FRED_RSP0', '0x300040', true],
    ['IA32_FRED_RSP1 bit 5 set', 'IA32_FRED_RSP1', '0x300020', false],
    ['IA32_FRED_RSP2 bit 0 set', 'IA32_FRED_RSP2', '0x300001', false],
    ['IA32_FRED_RSP3 not canonical', 'IA32_FRED_RSP3', '0x0000800000000000', false],
    ['IA32_FRED_STKLVLS all ones', 'IA32_FRED_STKLVLS', '-1', true],
    ['IA32_FRED_SSP1 bit 2 set', 'IA32_FRED_SSP1', '0x300004', false],
    ['IA32_FRED_SSP2 8-byte aligned', 'IA32_FRED_SSP2', '0x300008', true],
    ['IA32_FRED_SSP3 not canonical', 'IA32_FRED_SSP3', '0x0001000000000000', false],
    ['IA32_FRED_CONFIG bit 2 set', 'IA32_FRED_CONFIG', 'fred_entry | 4', false],
    ['IA32_FRED_CONFIG bit 4 set', 'IA32_FRED_CONFIG', 'fred_entry | 0x10', false],
    ['IA32_FRED_CONFIG bit 5 set', 'IA32_FRED_CONFIG', 'fred_entry | 0x20', false],
    ['IA32_FRED_CONFIG bit 11 set', 'IA32_FRED_CONFIG', 'fred_entry | 0x800', false],
    ['IA32_FRED_CONFIG not canonical', 'IA32_FRED_CONFIG', '0x0000800000000000', false],
    ['IA32_FRED_CONFIG with SSP decrement, red zone 7, interrupt SL 3 and CSL 3', 'IA32_FRED_CONFIG', 'fred_entry | 0x8 | 0x1c0 | 0x600 | 3', true],
    ['IA32_PL0_SSP bit 1 set', 'IA32_PL0_SSP', '0x300002', false],
  ];
  it.each(wr)('WRMSR %s', (_name, msr, value, ok) => {
    const r = run({ body: `${wrmsr(msr, value).replace('wrmsr', 'at: wrmsr')}\n        mov rbx, 1` });
    if (ok) {
      expectStop(r.stop, 'halted');
      expect(r.m.getRip()).toBe(r.sym('done') + 1n);
    } else expectKernelFault(r, 13);
  });

  it('the CSL written by WRMSR is the CSL delivery uses (IA32_FRED_CONFIG[1:0])', () => {
    const r = run({ stklvls: '1 << 6', body: `${wrmsr('IA32_FRED_CONFIG', 'fred_entry | 2')}\nint3` });
    expectStop(r.stop, 'halted');
    const f = frameAt(r.m, rsp(r.m));
    expect(f.cs.sl).toBe(2); // event SL 1 < CSL 2: stays on the current stack at SL 2
    expect(rsp(r.m)).toBe(0x20000n - 64n);
  });
});


describe('checks that come before the privilege checks (§1.3, §5.2–§5.3)', () => {
  it.each([['swapgs'], ['sysretq']])('%s at CPL 3 under FRED is #UD, not #GP', (insn) => {
    const r = run({ body: toUser(), user: `at: ${insn}` });
    expect(r.m.getRip()).toBe(r.sym('fred_entry') + 1n);
    const f = frameAt(r.m, rsp(r.m));
    expect(f.ss).toMatchObject({ type: 3, vector: 6 });
    expect(f.rip).toBe(r.sym('at'));
  });

  it('SYSCALL in compatibility mode is #UD under FRED', () => {
    const r = run({ body: toUser('0x2', '0x23'), user: 'at: syscall' });
    const f = frameAt(r.m, rsp(r.m));
    expect(f.ss).toMatchObject({ type: 3, vector: 6, l: false });
    expect([f.rip, f.csWord]).toEqual([r.sym('at'), 0x23n]);
  });

  it('SYSENTER in compatibility mode is delivered (type 7 vector 2, 64-bit bit clear)', () => {
    const r = run({ body: toUser('0x2', '0x23'), user: 'sysenter\nafter:' });
    const f = frameAt(r.m, rsp(r.m));
    expect(f.ss).toMatchObject({ type: 7, vector: 2, l: false, insnLen: 2, swevent: true });
    expect([f.rip, f.csWord]).toEqual([r.sym('after'), 0x23n]);
  });
});

describe('ERETx pops are speculative (§4.2)', () => {
  it.each([['erets'], ['eretu']])('%s: a #PF while reading the frame leaves RSP unchanged', (insn) => {
    const r = run({ stklvls: '1 << 28', body: `mov rsp, 0x40000000\nat: ${insn}` });
    expectKernelFault(r, 14, 0n);
    const f = frameAt(r.m, rsp(r.m));
    expect([f.rsp, f.eventData]).toEqual([0x40000000n, 0x40000008n]);
  });
});

describe('far transfers under FRED (§1.3)', () => {
  const retfq = (cs: string) => `
        push    0x18
        push    0x240000
        push    ${cs}
        lea     rax, [rel back]
        push    rax
at:     db      0x48, 0xcb              ; RETF with REX.W (64-bit offset and selector)
back:   hlt`;

  it('RET far at the same privilege into 64-bit code works', () => {
    const r = run({ body: retfq('0x10') });
    expectStop(r.stop, 'halted');
    expect(r.m.getRip()).toBe(r.sym('back') + 1n);
  });

  it('RET far to ring 3: #GP(selector)', () => {
    expectKernelFault(run({ body: retfq('0x33') }), 13, 0x30n);
  });

  it('RET far into compatibility mode at CPL 0: #GP(selector)', () => {
    expectKernelFault(run({ body: retfq('0x08') }), 13, 0x08n);
  });

  const farJmp = (sel: string) => ({
    body: 'at: jmp far dword [rel ptr]', // m16:32 pointer (NASM's default for `jmp far [m]` in 64-bit mode is m16:64)
    data: `ptr: dd target\n    dw ${sel}`,
    kernelHandler: 'hlt\ntarget: hlt',
  });

  it('far JMP to a 64-bit DPL-0 code segment works', () => {
    const r = run(farJmp('0x10'));
    expectStop(r.stop, 'halted');
    expect(r.m.getRip()).toBe(r.sym('target') + 1n);
  });

  it('far JMP to a DPL-0 code segment with L = 0: #GP(selector)', () => {
    expectKernelFault(run(farJmp('0x08')), 13, 0x08n);
  });

  it('far JMP through a call gate: #GP(gate selector)', () => {
    const r = run(farJmp('0x38'), (m) => writeU64(m, BigInt(GDT_BASE + 0x38), 0x0000_8c00_0010_0000n));
    expectKernelFault(r, 13, 0x38n);
  });
});
