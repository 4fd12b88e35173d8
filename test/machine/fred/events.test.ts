// Conformance: every event class delivered through FRED by a running program (fred-architecture.md
// §3.1–§3.7, §5.2–§5.4). Each program stops with HLT in the handler, so the test sees the state exactly
// as the handler's first instruction found it: frame, RSP, CSL, selectors, GS bases, RFLAGS.
import { describe, expect, it } from 'vitest';
import type { Machine } from '../../../src/machine/machine';
import type { DeliveryRecord } from '../../../src/machine/trace';
import { boot, config, csl, expectStop, fredSource, frameAt, gsBase, program, rsp, selectors, STACKS, toUser, wrmsr, type FredProgramParts } from './harness';

const L = 1n << 57n;

function run(parts: FredProgramParts, setup?: (m: Machine) => void) {
  const p = program(fredSource(parts));
  const m = boot(p);
  setup?.(m);
  const stop = m.run();
  expectStop(stop, 'halted');
  return { p, m, f: frameAt(m, rsp(m)), sym: (n: string) => p.symbol(n) };
}

const atKernelEntry = (r: ReturnType<typeof run>) => expect(r.m.getRip()).toBe(r.sym('fred_entry_kernel') + 1n);
const atUserEntry = (r: ReturnType<typeof run>) => expect(r.m.getRip()).toBe(r.sym('fred_entry') + 1n);
/** Boot stack top 0x20000, aligned already: the ring-0 frame sits right below it. */
const RING0_FRAME = 0x20000n - 64n;

describe('ring 0 software events', () => {
  it('INT3 (CC): type 6, vector 3, length 1, next RIP, no swevent, on the aligned current stack', () => {
    const r = run({ body: 'before: int3\nafter:' });
    atKernelEntry(r);
    expect(rsp(r.m)).toBe(RING0_FRAME);
    expect(r.f.rip).toBe(r.sym('after'));
    expect(r.f.rsp).toBe(0x20000n);
    expect(r.f.ssWord).toBe(0x18n | (3n << 32n) | (6n << 48n) | L | (1n << 60n));
    expect(r.f.csWord).toBe(0x10n);
    expect(r.m.getRflags()).toBe(2n);
  });

  it('INT 3 written as CD 03 is a software interrupt: type 4, swevent, length 2', () => {
    const r = run({ body: 'int 3\nafter:' });
    expect(r.f.ssWord).toBe(0x18n | (1n << 17n) | (3n << 32n) | (4n << 48n) | L | (2n << 60n));
    expect(r.f.rip).toBe(r.sym('after'));
  });

  it('INT1 (F1): type 5, vector 1, length 1, event data 0', () => {
    const r = run({ body: 'int1\nafter:', stklvls: '1 << 2' });
    expect(r.f.ss).toMatchObject({ type: 5, vector: 1, insnLen: 1, swevent: false });
    expect(r.f.eventData).toBe(0n);
    expect(rsp(r.m)).toBe(STACKS.rsp1 - 64n); // STKLVLS[1] applies to INT1
    expect(csl(r.m)).toBe(1);
  });

  it('SYSCALL at CPL 0: type 7 vector 1 on the current stack below the red zone, entry + 256', () => {
    const r = run({ config: '1 << 6', body: 'mov rsp, 0x250010\nmov rcx, 0x1111\nmov r11, 0x2222\nsyscall\nafter:' });
    atKernelEntry(r);
    expect(rsp(r.m)).toBe(0x250000n - 0x40n - 64n);
    expect(r.f.ss).toMatchObject({ type: 7, vector: 1, insnLen: 2, swevent: true, l: true });
    expect([r.m.getGpr(1), r.m.getGpr(11)]).toEqual([0x1111n, 0x2222n]);
  });

  it('INTO is #UD in 64-bit mode (fault on the INTO byte)', () => {
    const r = run({ body: 'at: db 0xce\nafter:' });
    expect(r.f.ss).toMatchObject({ type: 3, vector: 6, insnLen: 0 });
    expect(r.f.rip).toBe(r.sym('at'));
    expect(r.f.rflags & 0x10000n).toBe(0x10000n); // RF: fault-class exception
  });
});

describe('events from ring 3', () => {
  const user = (code: string, extra: Partial<FredProgramParts> = {}) =>
    run({ setup: wrmsr('IA32_GS_BASE', '0xffff888000002000') + '\n' + wrmsr('IA32_KERNEL_GS_BASE', '0x7000'), body: toUser('0x202'), user: code, ...extra });

  it('SYSCALL: type 7 vector 1 on RSP0, STAR selectors, GS swapped, RCX/R11 untouched', () => {
    const r = user('mov rcx, 0x1111\nmov r11, 0x2222\nsys: syscall\nafter:');
    atUserEntry(r);
    expect(rsp(r.m)).toBe(STACKS.rsp0 - 64n);
    expect(r.f.errorCode).toBe(0n);
    expect(r.f.rip).toBe(r.sym('after'));
    expect(r.f.csWord).toBe(0x33n);
    expect(r.f.rflags).toBe(0x202n);
    expect(r.f.rsp).toBe(STACKS.user);
    expect(r.f.ssWord).toBe(0x2bn | (1n << 17n) | (1n << 32n) | (7n << 48n) | L | (2n << 60n));
    expect(r.f.eventData).toBe(0n);
    expect(r.f.reserved).toBe(0n);
    expect(selectors(r.m)).toEqual({ cs: 0x10, ss: 0x18 });
    expect(gsBase(r.m)).toBe(0xffff888000002000n);
    expect(r.m.readMsr(0xc0000102)).toBe(0x7000n);
    expect([r.m.getGpr(1), r.m.getGpr(11)]).toEqual([0x1111n, 0x2222n]);
    expect(r.m.getRflags()).toBe(2n);
    expect(csl(r.m)).toBe(0);
  });

  it('SYSENTER: type 7 vector 2, length 2', () => {
    const r = user('sysenter\nafter:');
    expect(r.f.ss).toMatchObject({ type: 7, vector: 2, insnLen: 2, swevent: true });
    expect(r.f.rip).toBe(r.sym('after'));
  });

  it('INT 0x80 from ring 3: no gate DPL check, type 4', () => {
    const r = user('int 0x80\nafter:');
    atUserEntry(r);
    expect(r.f.ss).toMatchObject({ type: 4, vector: 0x80, insnLen: 2, swevent: true });
  });

  it('#PF from ring 3: error code P|U, event data = CR2 = address, RIP of the access, RF saved', () => {
    const r = user('mov rbx, 0x100000\nat: mov rax, [rbx]');
    atUserEntry(r);
    expect(r.f.errorCode).toBe(5n);
    expect(r.f.eventData).toBe(0x100000n);
    expect(r.m.cpu.cr2).toBe(0x100000n);
    expect(r.f.rip).toBe(r.sym('at'));
    expect(r.f.rflags).toBe(0x10202n);
    expect(r.f.ss).toMatchObject({ type: 3, vector: 14, nested: false, insnLen: 0 });
  });

  it('NMI from ring 3 lands on SL0 even with STKLVLS[2] = 2 (ordinary user event)', () => {
    const p = program(fredSource({ stklvls: '2 << 4', body: toUser(), user: 'first: nop\nnop' }));
    const m = boot(p);
    m.addBreakpoint(p.symbol('first'));
    expectStop(m.run(), 'breakpoint');
    m.devices.apic.requestNmi();
    m.resumeOverBreakpoint();
    expectStop(m.run(), 'halted');
    expect(m.getRip()).toBe(p.symbol('fred_entry') + 1n);
    expect(rsp(m)).toBe(STACKS.rsp0 - 64n);
    const f = frameAt(m, rsp(m));
    expect(f.ss).toMatchObject({ type: 2, vector: 2, nmi: true });
    expect(f.cs).toMatchObject({ selector: 0x33, sl: 0 });
    expect(f.rip).toBe(p.symbol('first'));
  });

  it('#DB single step from ring 3: event data BS, RIP of the next instruction, TF saved', () => {
    const r = run({ body: toUser('0x102'), user: 'first: nop\nsecond: nop' });
    atUserEntry(r);
    expect(r.f.ss).toMatchObject({ type: 3, vector: 1 });
    expect(r.f.eventData).toBe(0x4000n);
    expect(r.f.rip).toBe(r.sym('second'));
    expect(r.f.rflags & 0x10100n).toBe(0x100n); // TF, and no RF for #DB
  });
});

describe('ring 0 hardware events', () => {
  it('#PF at CPL 0 on an unmapped address, with STKLVLS[14] = 1', () => {
    const r = run({ stklvls: '1 << 28', body: 'mov rbx, 0x10000000\nat: mov [rbx], eax' });
    atKernelEntry(r);
    expect(rsp(r.m)).toBe(STACKS.rsp1 - 64n);
    expect([r.f.errorCode, r.f.eventData, r.f.rip]).toEqual([2n, 0x10000000n, r.sym('at')]);
    expect(r.f.cs.sl).toBe(0);
    expect(csl(r.m)).toBe(1);
  });

  const apicOn = `${wrmsr('0x80f', '0x1ff')}`;

  it('external interrupt (self-IPI) on the interrupt stack level CONFIG[10:9]', () => {
    const r = run({ config: '2 << 9', setup: apicOn, body: 'mov ecx, 0x83f\nmov eax, 0x41\nxor edx, edx\nwrmsr\nsti\nspin: jmp spin' });
    atKernelEntry(r);
    expect(rsp(r.m)).toBe(STACKS.rsp2 - 64n);
    expect(r.f.ss).toMatchObject({ type: 0, vector: 0x41, insnLen: 0, swevent: false });
    expect(r.f.rip).toBe(r.sym('spin'));
    expect(r.f.rflags & 0x200n).toBe(0x200n);
    expect(config(r.m) & 3n).toBe(2n);
  });

  it('NMI (self-IPI, NMI delivery mode) on STKLVLS[2], NMI bit set, NMIs blocked', () => {
    const r = run({ stklvls: '2 << 4', body: 'mov ecx, 0x830\nmov eax, 0x40400\nxor edx, edx\nwrmsr\nafter: nop' });
    atKernelEntry(r);
    expect(rsp(r.m)).toBe(STACKS.rsp2 - 64n);
    expect(r.f.ssWord).toBe(0x18n | (1n << 18n) | (2n << 32n) | (2n << 48n) | L);
    expect(r.f.rip).toBe(r.sym('after'));
    expect(r.m.cpu.nmiBlocked).toBe(true);
  });
});

describe('frame writes are implicit supervisor accesses', () => {
  it('with CR4.SMAP, an RSP0 in a user page faults (nested #PF) even after ring 3 used that page', () => {
    const r = run({
      stklvls: '1 << 28',
      setup: `
        mov     ecx, IA32_FRED_RSP0
        lea     rax, [rel user_frame_top]
        xor     edx, edx
        wrmsr
        mov     rax, cr4
        bts     rax, 21                 ; CR4.SMAP
        mov     cr4, rax`,
      body: toUser('0x40002'), // RFLAGS.AC = 1 in ring 3 does not matter to implicit accesses
      user: `
        lea     rsp, [rel user_frame_top]
        push    rax                     ; ring 3 writes the page: the TLB holds it for user writes
        pop     rax
        at: syscall
align 64
        times 256 db 0
user_frame_top:`,
    });
    atUserEntry(r);
    expect(rsp(r.m)).toBe(STACKS.rsp1 - 64n);
    expect(r.f.ss).toMatchObject({ type: 3, vector: 14, nested: true });
    expect(r.f.errorCode).toBe(3n); // present, write, supervisor (implicit) access
    expect(r.f.eventData).toBe(r.sym('user_frame_top') - 8n);
  });
});

describe('single-stepping over events (TF = 1)', () => {
  const secondEntryHalts = `
        inc     r12
        cmp     r12, 1
        jne     .second
        ERET
.second:
        hlt`;
  const deliveries = (m: Machine) => m.trace.records.filter((rec) => rec.kind === 'delivery') as DeliveryRecord[];

  it('SYSCALL: no #DB at the handler; ERETU with the swevent bit takes it right after the return', () => {
    const r = run({ body: toUser('0x102'), user: 'syscall\nafter: nop', userHandler: secondEntryHalts.replace('ERET', 'eretu') });
    expect(deliveries(r.m).map((d) => [d.type, d.vector, d.fromCpl, d.fromRip])).toEqual([
      [7, 1, 3, r.sym('after')],
      [3, 1, 3, r.sym('after')], // before the NOP ran
    ]);
    expect(r.f.eventData).toBe(0x4000n);
  });

  it('INT3 at CPL 0: no #DB at the handler; after ERETS TF traps after the next instruction as usual', () => {
    const r = run({
      body: 'pushfq\nor qword [rsp], 0x100\npopfq\nint3\nafter: nop\nafter2: nop',
      kernelHandler: secondEntryHalts.replace('ERET', 'erets'),
    });
    expect(deliveries(r.m).map((d) => [d.type, d.vector, d.fromRip])).toEqual([
      [6, 3, r.sym('after')],
      [3, 1, r.sym('after2')],
    ]);
  });
});
