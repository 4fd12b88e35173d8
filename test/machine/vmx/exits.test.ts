// VM exits of the running guest, one basic reason at a time: the exit-information fields the VM exit
// records (seen from a stop at the exit, before the monitor handles it), the `vmexit` record, and the
// monitor's handling as KVM does it (docs/vmx.md "Exits and their handling").
import { describe, expect, it } from 'vitest';
import { wrmsr } from '../fred/harness';
import { deliveries, EAGER, entryAfter, exits, KVM, plain, policy, runFred, runSource, stopAt, valid } from './guest';
import { boot, program, fredSource } from '../fred/harness';

const CR4_FRED = 1n << 32n;
/** Software-enable the x2APIC (SVR), as the conformance tests do. */
const APIC_ON = wrmsr('0x80f', '0x1ff');

describe('instruction exits', () => {
  it('CPUID (10): exits at the instruction with its length; the monitor answers with the policy FRED/LKGS/WRMSRNS bits', () => {
    const source = plain('mov eax, 7\nmov ecx, 1\nat: cpuid\nafter: mov r15, rax\nhlt');
    const p = program(source);
    const m = boot(p, { vmx: policy({ cpuid: { fred: false, lkgs: true, wrmsrns: false } }) });
    const { stop, exit } = stopAt(m, (r) => r.basicReason === 10);
    expect(stop.message).toBe(`VM exit: CPUID (10) at guest RIP 0x${p.symbol('at').toString(16)}`);
    expect(exit).toMatchObject({ basicReason: 10, reasonName: 'CPUID', qualification: 0n, exitInterruptionInfo: 0, idtVectoringInfo: 0, guestRip: p.symbol('at') });
    expect(m.vmx!.vmcs.get('VM_EXIT_INSTRUCTION_LEN')).toBe(2n);
    expect(m.getRip()).toBe(p.symbol('at')); // not executed yet
    expect(m.run().reason).toBe('halted');
    expect(m.getGpr(15)).toBe(1n << 18n); // LKGS only
    const bare = boot(p);
    bare.run();
    expect(bare.getGpr(15)).toBe((1n << 17n) | (1n << 18n) | (1n << 19n));
    expect(bare.icount).toBe(m.icount); // the emulated CPUID retires once
  });

  it('HLT (12) with RFLAGS.IF = 0: the monitor ends the run as bare metal does', () => {
    const r = runSource(plain('nop\nat: hlt'));
    expect(exits(r.m, 12)).toMatchObject([{ guestRip: r.p.symbol('at') }]);
    const bare = runSource(plain('nop\nat: hlt'), false);
    expect(r.stop).toEqual(bare.stop);
    expect(r.m.trace.records.filter((x) => x.kind === 'halt')).toEqual(bare.m.trace.records.filter((x) => x.kind === 'halt'));
  });

  it('RDMSR/WRMSR (31/32) exit through the MSR bitmap: IA32_STAR is intercepted, the FRED RSPs are passed through', () => {
    const body = `${wrmsr('IA32_FRED_RSP1', '0x40000')}\nmov ecx, IA32_FRED_RSP1\nrdmsr\n${wrmsr('IA32_STAR', '0x0023001000000000')}\nmov ecx, IA32_STAR\nrdmsr\nmov r15, rdx\nhlt`;
    const r = runSource(plain(body));
    expect(exits(r.m, 32)).toHaveLength(1);
    expect(exits(r.m, 31)).toHaveLength(1);
    expect(r.m.getGpr(15)).toBe(0x00230010n);
    expect(r.m.trace.records.filter((x) => x.kind === 'msrWrite').map((x) => x.kind === 'msrWrite' && x.name)).toEqual(['IA32_FRED_RSP1', 'IA32_STAR']);
    // The policy decides: intercept RSP1, pass STAR through.
    const q = runSource(plain(body), policy({ msrIntercepts: [0x1cd] }));
    expect(exits(q.m, 32)).toHaveLength(1);
    expect(exits(q.m, 31)).toHaveLength(1);
    expect(exits(q.m, 32)[0]!.guestRip).toBeLessThan(exits(r.m, 32)[0]!.guestRip);
  });

  it('with guest CPUID FRED hidden, the FRED MSRs are intercepted and refused (#GP), as KVM v9 does', () => {
    const r = runSource(plain(`${wrmsr('IA32_FRED_CONFIG', '0x101000')}\nhlt`), policy({ cpuid: { fred: false, lkgs: true, wrmsrns: true } }));
    expect(exits(r.m, 32)).toHaveLength(1);
    expect(r.m.readMsr(0x1d4)).toBe(0n);
    expect(r.stop.reason).toBe('shutdown'); // #GP without an IDT
    expect(r.stop.message).toMatch(/#GP/);
    expect(exits(runSource(plain(`${wrmsr('IA32_FRED_CONFIG', '0x101000')}\nhlt`)).m, 32)).toEqual([]);
  });

  it('MOV to CR4 that sets CR4.FRED exits (28): CR4.FRED is host-owned; the read shadow follows the guest', () => {
    const p = program(fredSource({ body: 'mov rbx, cr4' }));
    const m = boot(p, { vmx: KVM });
    const { exit } = stopAt(m, (r) => r.basicReason === 28);
    expect(exit.qualification).toBe(4n); // CR4, MOV to CR, RAX
    expect(m.vmx!.vmcs.get('CR4_READ_SHADOW') & CR4_FRED).toBe(0n);
    expect(m.run().reason).toBe('halted');
    expect(m.vmx!.vmcs.get('CR4_READ_SHADOW') & CR4_FRED).toBe(CR4_FRED);
    expect(m.vmx!.vmcs.get('GUEST_CR4') & CR4_FRED).toBe(CR4_FRED);
    expect(m.getGpr(3) & CR4_FRED).toBe(CR4_FRED);
    expect(exits(m, 28)).toHaveLength(1);
  });

  it('with guest CPUID FRED hidden, the CR4.FRED write is #GP (KVM v9 patch 15): no IDT, so a triple fault (2) ends the run', () => {
    const r = runSource(plain('mov rax, cr4\nbts rax, 32\nmov cr4, rax\nhlt'), policy({ cpuid: { fred: false, lkgs: true, wrmsrns: true } }));
    expect(r.m.trace.records.filter((x) => x.kind === 'crWrite')).toMatchObject([{ cr: 4, fault: expect.stringMatching(/CPUID/) }]);
    expect(exits(r.m).map((e) => e.basicReason)).toEqual(expect.arrayContaining([28, 2]));
    expect(exits(r.m, 2)[0]).toMatchObject({ idtVectoringInfo: 0, exitInterruptionInfo: 0 });
    expect(r.stop.reason).toBe('shutdown');
    expect(r.stop.message).toMatch(/^shutdown: triple fault: #GP/);
  });

  it('I/O instructions (30) exit unconditionally; the monitor emulates COM1 and the debug-exit port on the same port bus', () => {
    const r = runSource(plain("mov dx, 0x3f8\nmov al, 'V'\nout dx, al\nmov dx, 0x3fd\nin al, dx\nmov r15, rax\nmov al, 7\nout 0xf4, al"));
    const io = exits(r.m, 30);
    expect(io.map((e) => e.qualification)).toEqual([0x03f8_0000n, 0x03fd_0008n, 0x00f4_0040n]); // port, IN bit 3, immediate bit 6
    expect(r.m.output).toBe('V');
    expect(r.stop).toMatchObject({ reason: 'debugExit', exitCode: 7 });
    const bare = runSource(plain("mov dx, 0x3f8\nmov al, 'V'\nout dx, al\nmov dx, 0x3fd\nin al, dx\nmov r15, rax\nmov al, 7\nout 0xf4, al"), false);
    expect(r.m.getGpr(15)).toBe(bare.m.getGpr(15));
    expect(r.stop).toEqual(bare.stop);
  });
});

describe('VMCALL (18): the hypercall ABI', () => {
  it('0 prints the string at RBX (output record of the hypercall device), 1 ends the run with exit code RBX', () => {
    const r = runSource(plain('xor eax, eax\nlea rbx, [rel msg]\nvmcall\nmov r15, rax\nmov eax, 99\nvmcall\nmov r14, rax\nmov eax, 1\nmov ebx, 42\nvmcall\nhlt', 'msg: db "hello from the guest", 10, 0'));
    expect(r.stop).toMatchObject({ reason: 'debugExit', exitCode: 42, message: 'hypercall 1 (exit) with code 42' });
    expect(r.m.output).toBe('hello from the guest\n');
    expect(r.m.trace.records.filter((x) => x.kind === 'output')).toMatchObject([{ device: 'hypercall', text: 'hello from the guest\n' }]);
    expect(r.m.getGpr(15)).toBe(0n);
    expect(r.m.getGpr(14)).toBe(BigInt.asUintN(64, -1000n)); // -KVM_ENOSYS
    expect(exits(r.m, 18)).toHaveLength(3);
  });

  it('bare metal: VMCALL is #UD', () => {
    const r = runSource(plain('vmcall\nhlt'), false);
    expect(r.stop.reason).toBe('shutdown');
    expect(r.stop.message).toMatch(/#UD/);
  });
});

describe('EPT violations (48)', () => {
  it('lazy EPT: the first fetch exits with the qualification of a final fetch, the guest-physical and guest-linear addresses', () => {
    const p = program(plain('nop\nhlt'));
    const m = boot(p, { vmx: KVM });
    const { exit } = stopAt(m, (r) => r.basicReason === 48 && (r.qualification & 0x100n) !== 0n);
    expect(exit.qualification).toBe(0x184n); // fetch, no permissions (not mapped), linear valid, final translation
    expect(m.vmx!.vmcs.get('GUEST_PHYSICAL_ADDRESS')).toBe(0x100000n);
    expect(m.vmx!.vmcs.get('GUEST_LINEAR_ADDRESS')).toBe(0x100000n);
    // Before it, the walk's own paging-structure reads exited (bit 8 clear).
    const walkExits = exits(m, 48).filter((e) => (e.qualification & 0x100n) === 0n);
    expect(walkExits.length).toBeGreaterThan(0);
    expect(walkExits.every((e) => e.qualification === 0x81n)).toBe(true); // read, linear valid
    expect(m.run().reason).toBe('halted');
    expect(m.vmx!.ept.mappedPages).toBeGreaterThan(walkExits.length);
  });

  it('eager EPT maps all guest RAM before the first entry: no EPT violations', () => {
    const r = runSource(plain('mov rax, [0x300000]\nmov [0x310000], rax\nhlt'), EAGER);
    expect(exits(r.m, 48)).toEqual([]);
    expect(r.m.vmx!.ept.mappedPages).toBe(4 * 256);
  });

  it('a guest-physical address outside guest RAM cannot be mapped: the run stops at the exit, naming the address', () => {
    // Point the PTE of linear 0x300000 at physical 256 MiB (the machine has 4 MiB).
    const body = `mov rax, cr3\nmov rax, [rax]\nand eax, 0xfffff000\nmov rax, [rax]\nand eax, 0xfffff000\nmov rax, [rax + 8]\nand eax, 0xfffff000
mov qword [rax + 0x100 * 8], 0x10000003\ninvlpg [0x300000]\nat: mov rbx, [0x300000]\nhlt`;
    const r = runSource(plain(body), EAGER);
    expect(r.stop.reason).toBe('vmexit');
    expect(r.stop.message).toBe(`VM exit: EPT violation (48) at guest RIP 0x${r.p.symbol('at').toString(16)}: guest-physical address 0x10000000 is not guest RAM (RAM ends at 0x400000); the monitor cannot map it`);
    expect(r.m.vmx!.stoppedAtExit).toMatchObject({ basicReason: 48, qualification: 0x181n });
    expect(r.m.vmx!.vmcs.get('GUEST_PHYSICAL_ADDRESS')).toBe(0x10000000n);
    expect(r.m.run().reason).toBe('vmexit'); // it stays pending
    const bare = runSource(plain(body), false);
    expect(bare.m.getGpr(3)).toBe(0xffff_ffff_ffff_ffffn); // bare metal reads an unbacked bus
  });

  it('a write to a fresh page: write access bit, guest-physical address of the page', () => {
    const r = runSource(plain('mov qword [0x312345], 1\nhlt'));
    const write = exits(r.m, 48).find((e) => (e.qualification & 2n) !== 0n && (e.qualification & 0x100n) !== 0n);
    expect(write).toBeDefined();
    expect(write!.qualification).toBe(0x182n);
  });
});

describe('exceptions and interrupts', () => {
  it('exception bitmap (0): #UD is intercepted as KVM does; exit interruption information, re-injection into the guest', () => {
    const r = runFred({ body: 'at: ud2' });
    const [ud] = exits(r.m, 0);
    expect(ud).toMatchObject({ exitInterruptionInfo: valid(0x306), guestRip: r.p.symbol('at'), idtVectoringInfo: 0 });
    expect(entryAfter(r.m, ud!)).toMatchObject({ injectedInterruptionInfo: valid(0x306) });
    expect(deliveries(r.m)).toMatchObject([{ type: 3, vector: 6, injected: true, fromRip: r.p.symbol('at') }]);
  });

  it('#PF through the exception bitmap with the error-code mask/match: only write faults exit', () => {
    const pf = policy({ exceptionBitmap: (1 << 14) | KVM.exceptionBitmap });
    const run = (access: string) => runFred({ body: `at: ${access}` }, pf, {}, (m) => {
      m.vmx!.vmcs.set('PAGE_FAULT_ERROR_CODE_MASK', 2n);
      m.vmx!.vmcs.set('PAGE_FAULT_ERROR_CODE_MATCH', 2n);
    });
    const read = run('mov rax, [0x40000000]');
    expect(exits(read.m, 0)).toEqual([]);
    const write = run('mov qword [0x40000000], 1');
    expect(exits(write.m, 0)).toMatchObject([{ exitInterruptionInfo: valid(0xb0e), exitInterruptionErrorCode: 2, qualification: 0x40000000n }]);
    // Reflected: CR2 written by the monitor, event data = the address, as on bare metal.
    expect(deliveries(write.m)).toMatchObject([{ type: 3, vector: 14, errorCode: 2, eventData: 0x40000000n, injected: true }]);
    expect(write.m.cpu.cr2).toBe(0x40000000n);
  });

  it('external interrupt (1) and injection: an interrupt for the guest makes the CPU exit; the entry injects it', () => {
    const r = runFred({ config: '2 << 9', setup: APIC_ON, body: 'sti\nspin: jmp spin', kernelHandler: 'hlt' }, KVM, { interrupts: [{ vector: 0x41, every: 200 }] });
    const [ext] = exits(r.m, 1);
    expect(ext).toMatchObject({ exitInterruptionInfo: valid(0xec) }); // host timer vector, acknowledged on exit
    expect(entryAfter(r.m, ext!)).toMatchObject({ injectedInterruptionInfo: valid(0x41) });
    expect(deliveries(r.m)).toMatchObject([{ type: 0, vector: 0x41, injected: true, newCsl: 2 }]);
  });

  it('interrupt window (7): an interrupt that arrives with RFLAGS.IF = 0 waits for STI and its shadow', () => {
    const r = runFred({ setup: APIC_ON, body: 'mov ecx, 300\ndelay: dec ecx\njnz delay\nsti\nshadow: nop\nafter: nop\nspin: jmp spin', kernelHandler: 'hlt' }, KVM, { interrupts: [{ vector: 0x41, every: 100 }] });
    const ext = exits(r.m, 1)[0]!;
    expect(entryAfter(r.m, ext)!.injectedInterruptionInfo).toBeLessThan(valid(0));
    const [window] = exits(r.m, 7);
    expect(window!.guestRip).toBe(r.p.symbol('after'));
    expect(entryAfter(r.m, window!)).toMatchObject({ injectedInterruptionInfo: valid(0x41) });
    const bare = runFred({ setup: APIC_ON, body: 'mov ecx, 300\ndelay: dec ecx\njnz delay\nsti\nshadow: nop\nafter: nop\nspin: jmp spin', kernelHandler: 'hlt' }, false, { interrupts: [{ vector: 0x41, every: 100 }] });
    expect(deliveries(r.m).map(({ injected: _i, ...d }) => d)).toEqual(deliveries(bare.m).map(({ injected: _i, ...d }) => d));
  });

  it('NMI window (8): an NMI raised while NMIs are blocked is injected when ERETS unblocks them', () => {
    const nmi = 'mov ecx, 0x830\nmov eax, 0x40400\nxor edx, edx\nwrmsr';
    const r = runFred({
      stklvls: '2 << 4',
      body: `${nmi}\nspin: jmp spin`,
      kernelHandler: `inc qword [rel count]\ncmp qword [rel count], 1\njne second\n${nmi}\nerets\nsecond: hlt`,
      data: 'count: dq 0',
    });
    expect(r.stop.reason).toBe('halted');
    const [window] = exits(r.m, 8);
    expect(window).toBeDefined();
    expect(entryAfter(r.m, window!)).toMatchObject({ injectedInterruptionInfo: valid(0x202) });
    expect(deliveries(r.m).map((d) => [d.type, d.vector])).toEqual([[2, 2], [2, 2]]);
    expect(r.m.trace.records.findIndex((x) => x.kind === 'return')).toBeLessThan(r.m.trace.records.indexOf(window!));
  });

  it('triple fault (2) under the monitor ends the run as a shutdown with the same reason as bare metal', () => {
    const r = runSource(plain('mov rax, [0x40000000]'), policy({ exceptionBitmap: 0 }));
    const bare = runSource(plain('mov rax, [0x40000000]'), false);
    expect(exits(r.m, 2)).toHaveLength(1);
    expect(r.stop).toEqual(bare.stop);
    expect(r.m.trace.records.filter((x) => x.kind === 'shutdown')).toEqual(bare.m.trace.records.filter((x) => x.kind === 'shutdown'));
  });
});
