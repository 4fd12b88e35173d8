// System instructions (SDM Vol. 2 per instruction): SYSCALL/SYSRET, MSR accesses and their trace
// records, CR writes with checks, CPUID, deterministic RDTSC, port I/O permission, SWAPGS,
// RD/WRFSBASE, compatibility mode, HLT with interrupts, single-step and debug-register breakpoints.
import { describe, expect, test } from 'vitest';
import { KERNEL_LIB, machineFor, runBoth, setGates } from '../helpers';
import type { CrWriteRecord, DeliveryRecord, MsrWriteRecord, ReturnRecord } from '../../../src/machine/trace';
import { VENDOR } from '../../../src/machine/cpu/exec/cpuid';

const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSI = 6, R8 = 8, R9 = 9, R10 = 10, R11 = 11;

function gpHandler(body: string, user = ''): ReturnType<typeof machineFor> {
  const m = machineFor(`
_start:
${setGates([[13, 'gp_handler'], [6, 'ud_handler']])}
        call    load_idt
${body}
        hlt
gp_handler:
        mov     r8, 13
        mov     r9, [rsp]
        hlt
ud_handler:
        mov     r8, 6
        hlt
${KERNEL_LIB}
${user}`);
  (m as unknown as { lastStop: unknown }).lastStop = m.run(100_000);
  return m;
}

describe('SYSCALL and SYSRET', () => {
  test('ring 3 → SYSCALL → LSTAR at CPL 0 with RCX/R11 → SYSRET back to ring 3', () => {
    const m = gpHandler(`
        mov     ecx, 0xC0000082          ; IA32_LSTAR
        lea     rax, [rel kernel_entry]
        mov     rdx, rax
        shr     rdx, 32
        wrmsr
        mov     ecx, 0xC0000084          ; IA32_FMASK: clear IF and TF
        mov     eax, 0x300
        xor     edx, edx
        wrmsr
        lea     rsi, [rel user_code]
        lea     rdx, [rel user_code + 0x800]
        jmp     to_user
kernel_entry:
        mov     r10, rcx
        mov     rbx, 0x42
        o64 sysret`, `
section .user
user_code:
        syscall
        mov     rsi, 0x99
        mov     rdi, rbx
        hlt                               ; #GP at CPL 3: ends in the #GP handler`);
    expect(m.getGpr(7)).toBe(0x42n);
    expect(m.getGpr(RSI)).toBe(0x99n);
    expect(m.getGpr(R8)).toBe(13n); // HLT at CPL 3 faulted
    const ret = m.trace.records.find((r) => r.kind === 'return' && r.instruction === 'sysret') as ReturnRecord;
    expect(ret).toMatchObject({ instruction: 'sysret', toCpl: 3 });
    expect(ret.toRip).toBe(m.getGpr(R10));
  });
  test('SYSRET at CPL 3 is #GP, SWAPGS at CPL 3 is #GP', () => {
    const m = gpHandler(`
        lea     rsi, [rel user_code]
        lea     rdx, [rel user_code + 0x800]
        jmp     to_user`, `
section .user
user_code:
        swapgs`);
    expect(m.getGpr(R8)).toBe(13n);
  });
});

describe('MSRs and control registers', () => {
  test('WRMSR of STAR, KERNEL_GS_BASE and FRED MSRs is traced; a refused value is traced with its fault', () => {
    const m = gpHandler(`
        mov     ecx, 0xC0000102
        mov     eax, 0x1000
        xor     edx, edx
        wrmsr
        swapgs
        rdgsbase_skip:
        mov     ecx, 0x1CC                ; IA32_FRED_RSP0: must be 64-byte aligned
        mov     eax, 0x1008
        wrmsr`);
    const writes = m.trace.records.filter((r): r is MsrWriteRecord => r.kind === 'msrWrite');
    expect(writes.map((w) => w.name)).toEqual(['IA32_KERNEL_GS_BASE', 'IA32_FRED_RSP0']);
    expect(writes[0].fault).toBeUndefined();
    expect(writes[1].fault).toMatch(/aligned/);
    expect(m.getGpr(R8)).toBe(13n);
    expect(m.cpu.seg[5].base).toBe(0x1000);
  });
  test('MOV to CR4 with a reserved bit → #GP and a crWrite record with the fault', () => {
    const m = gpHandler(`
        mov     rax, cr4
        bts     rax, 30
        mov     cr4, rax`);
    const rec = m.trace.records.find((r) => r.kind === 'crWrite') as CrWriteRecord;
    expect(rec.fault).toMatch(/reserved/);
    expect(m.getGpr(R8)).toBe(13n);
  });
  test('RDMSR of an unknown MSR and MOV CR at CPL 3 fault', () => {
    expect(gpHandler('mov ecx, 0x12345\n rdmsr').getGpr(R8)).toBe(13n);
  });
  test('RD/WRFSBASE need CR4.FSGSBASE (#UD), then work', () => {
    expect(gpHandler('wrfsbase rax').getGpr(R8)).toBe(6n);
    const m = gpHandler(`
        mov     rax, cr4
        bts     rax, 16
        mov     cr4, rax
        mov     rax, 0x5000
        wrfsbase rax
        mov     qword [0x5010], 77
        mov     r10, [fs:0x10]
        rdfsbase r11`);
    expect([m.getGpr(R10), m.getGpr(R11)]).toEqual([77n, 0x5000n]);
  });
});

describe('identification and time', () => {
  test('CPUID: vendor, FRED/LKGS/WRMSRNS in 7.1 EAX, NX and long mode', () => {
    const m = runBoth('xor eax, eax\n cpuid\n mov r8, rbx\n mov r9, rdx\n mov r10, rcx\n mov eax, 7\n mov ecx, 1\n cpuid\n mov r11, rax\n mov eax, 0x80000001\n cpuid');
    const text = [m.getGpr(R8), m.getGpr(R9), m.getGpr(R10)].map((v) => Buffer.from(new BigUint64Array([v]).buffer).subarray(0, 4).toString('latin1')).join('');
    expect(text).toBe(VENDOR);
    expect(m.getGpr(R11) & (7n << 17n)).toBe(7n << 17n);
    expect(m.getGpr(RDX) & ((1n << 20n) | (1n << 29n))).toBe((1n << 20n) | (1n << 29n));
  });
  test('RDTSC counts retired instructions: two runs agree', () => {
    const a = runBoth('nop\n nop\n rdtsc\n mov r8, rax\n rdtsc');
    expect(a.getGpr(RAX) - a.getGpr(R8)).toBe(2n);
    expect(a.getGpr(R8)).toBe(2n);
  });
});

describe('port I/O and interrupts', () => {
  test('IN/OUT at CPL 3 without IOPL and without an I/O bitmap → #GP(0)', () => {
    const m = gpHandler(`
        lea     rsi, [rel user_code]
        lea     rdx, [rel user_code + 0x800]
        jmp     to_user`, `
section .user
user_code:
        mov     al, 'x'
        out     0xE9, al`);
    expect([m.getGpr(R8), m.getGpr(R9)]).toEqual([13n, 0n]);
  });
  test('with IOPL = 3 ring 3 may use ports (COM1 output from user mode)', () => {
    const m = gpHandler(`
        push    0x2b
        lea     rax, [rel user_code + 0x800]
        push    rax
        push    0x3002                    ; IOPL = 3
        push    0x33
        lea     rax, [rel user_code]
        push    rax
        iretq`, `
section .user
user_code:
        mov     dx, 0x3f8
        mov     al, 'u'
        out     dx, al
        hlt`);
    expect(m.output).toBe('u');
    expect(m.getGpr(R8)).toBe(13n); // the HLT at CPL 3
  });
  test('an unclaimed port reads all ones', () => {
    expect(runBoth('in al, 0x80\n mov dx, 0x1234\n in eax, dx').getGpr(RAX)).toBe(0xffffffffn);
  });
  test('HLT with IF = 1 waits for the scheduled interrupt; the handler runs; STI shadow', () => {
    const m = machineFor(`
_start:
${setGates([[0x20, 'irq']])}
        call    load_idt
        mov     ecx, 0x80F                ; x2APIC SVR: software enable
        mov     eax, 0x1FF
        xor     edx, edx
        wrmsr
        sti
        hlt
        mov     r9, 1
        cli
        hlt
irq:    inc     r8
        mov     ecx, 0x80B                ; x2APIC EOI
        xor     eax, eax
        xor     edx, edx
        wrmsr
        iretq
${KERNEL_LIB}`, { interrupts: [{ vector: 0x20, every: 5000 }] });
    const stop = m.run(100_000);
    expect(stop.reason).toBe('halted');
    expect([m.getGpr(R8), m.getGpr(R9)]).toEqual([1n, 1n]);
    const d = m.trace.records.find((r) => r.kind === 'delivery') as DeliveryRecord;
    expect(d).toMatchObject({ type: 0, vector: 0x20 });
    expect(d.icount).toBe(5000); // HLT skipped the idle time to the schedule's first request
  });
});

describe('debug features', () => {
  test('TF single-steps: #DB after each instruction with DR6.BS', () => {
    const m = gpHandler(`
${setGates([[1, 'db_handler']])}
        pushfq
        or      qword [rsp], 0x100
        popfq
        nop
        nop
        hlt                               ; the trap after HLT returns to the next HLT
        hlt
db_handler:
        inc     r10
        mov     rax, dr6
        mov     r11, rax
        cmp     r10, 3
        je      .stop
        iretq
.stop:  and     qword [rsp + 16], ~0x100
        iretq`);
    expect(m.getGpr(R10)).toBe(3n);
    expect(m.getGpr(R11) & 0x4000n).toBe(0x4000n);
  });
  test('DR0 execution breakpoint → #DB fault with B0, resumed with RF', () => {
    const m = gpHandler(`
${setGates([[1, 'db_handler']])}
        lea     rax, [rel target]
        mov     dr0, rax
        mov     rax, 1
        mov     dr7, rax
        nop
target: mov     rbx, 5
        hlt
db_handler:
        inc     r10
        mov     rax, dr6
        mov     r11, rax
        or      qword [rsp + 16], 0x10000 ; RF: do not fault again on the same instruction
        iretq`);
    expect(m.getGpr(R10)).toBe(1n);
    expect(m.getGpr(RBX)).toBe(5n);
    expect(m.getGpr(R11) & 1n).toBe(1n);
  });
  test('DR1 write watchpoint → #DB trap after the store', () => {
    const m = gpHandler(`
${setGates([[1, 'db_handler']])}
        mov     rax, 0x5000
        mov     dr1, rax
        mov     rax, (1 << 2) | (1 << 20) | (3 << 22)  ; L1, R/W1 = write, LEN1 = 4 bytes
        mov     dr7, rax
        mov     dword [0x5000], 1
        mov     rbx, 7
        hlt
db_handler:
        inc     r10
        mov     rax, dr6
        mov     r11, rax
        mov     rcx, rbx
        iretq`);
    expect(m.getGpr(R10)).toBe(1n);
    expect(m.getGpr(R11) & 2n).toBe(2n);
    expect(m.getGpr(RCX)).toBe(0n); // the trap came before MOV RBX
    expect(m.getGpr(RBX)).toBe(7n);
  });
});

describe('compatibility mode', () => {
  test('ring-3 code on the 32-bit code segment runs with 32-bit operands and stack', () => {
    const m = gpHandler(`
${setGates([[0x80, 'back', 0xEE00]])}
        push    0x2b
        push    user_stack
        push    0x2
        push    0x23                      ; 32-bit user code
        lea     rax, [rel compat]
        push    rax
        iretq
back:   mov     r10, [rsp + 8]            ; CS
        hlt`, `
section .user
compat:                                   ; 32-bit code, as bytes (the assembler emits 64-bit code)
        db      0xB8, 0xFF, 0xFF, 0xFF, 0xFF  ; mov eax, 0xffffffff
        db      0x83, 0xC0, 0x02              ; add eax, 2
        db      0x50                          ; push eax
        db      0x5B                          ; pop ebx
        db      0xCD, 0x80                    ; int 0x80
align 16
        times 64 db 0
user_stack:`);
    expect(m.getGpr(R10)).toBe(0x23n);
    expect(m.getGpr(RBX)).toBe(1n);
    void [RCX, RDX, RSI, R11];
  });
});
