// Segment and descriptor-table instructions (SDM Vol. 2: MOV Sreg, PUSH/POP Sreg, LGDT/SGDT/LIDT/
// SIDT/LTR/STR/SLDT), #AC, NMI delivery and blocking, the MOV SS interrupt shadow.
import { describe, expect, test } from 'vitest';
import { KERNEL_LIB, machineFor, setGates } from '../helpers';
import type { DeliveryRecord } from '../../../src/machine/trace';

const RAX = 0, RBX = 3, RCX = 1, R8 = 8, R9 = 9, R10 = 10, R11 = 11;

function withHandlers(body: string, user = '', options?: Parameters<typeof machineFor>[1]) {
  const m = machineFor(`
_start:
${setGates([[13, 'gp_handler'], [11, 'np_handler'], [17, 'ac_handler']])}
        call    load_idt
${body}
        hlt
gp_handler:
        mov     r8, 13
        mov     r9, [rsp]
        hlt
np_handler:
        mov     r8, 11
        mov     r9, [rsp]
        hlt
ac_handler:
        mov     r8, 17
        mov     r9, [rsp]
        hlt
${KERNEL_LIB}
${user}`, options);
  const stop = m.run(100_000);
  return { m, stop };
}

describe('segment registers', () => {
  test('MOV DS with a data selector works; a code selector that is not readable or beyond the GDT → #GP(selector)', () => {
    const ok = withHandlers('mov ax, 0x2b\n mov ds, ax\n mov bx, ds');
    expect(ok.m.getGpr(RBX) & 0xffffn).toBe(0x2bn);
    expect(ok.m.getGpr(R8)).toBe(0n);
    const beyond = withHandlers('mov ax, 0x80\n mov es, ax');
    expect([beyond.m.getGpr(R8), beyond.m.getGpr(R9)]).toEqual([13n, 0x80n]);
  });
  test('MOV SS: RPL ≠ CPL → #GP(selector); a not-present data segment in DS → #NP(selector)', () => {
    const ss = withHandlers('mov ax, 0x2b\n mov ss, ax');
    expect([ss.m.getGpr(R8), ss.m.getGpr(R9)]).toEqual([13n, 0x28n]);
    const np = withHandlers(`
        sgdt    [rel .gdtr_save]
        mov     rax, [rel .gdtr_save + 2]
        btr     qword [rax + 0x28], 47       ; clear P of the user data descriptor
        mov     ax, 0x2b
        mov     ds, ax
        jmp     .end
.gdtr_save: dq 0, 0
.end:`);
    expect([np.m.getGpr(R8), np.m.getGpr(R9)]).toEqual([11n, 0x28n]);
  });
  test('PUSH/POP FS and GS; a null selector in GS is allowed', () => {
    const { m } = withHandlers('mov ax, 0x18\n mov fs, ax\n push fs\n pop rbx\n xor eax, eax\n mov gs, ax\n push gs\n pop rcx');
    expect([m.getGpr(RBX), m.getGpr(RCX)]).toEqual([0x18n, 0n]);
  });
  test('SGDT/SIDT/STR/SLDT report the boot state; LIDT/LGDT load new tables', () => {
    const { m } = withHandlers(`
        sgdt    [rel .buf]
        movzx   r10, word [rel .buf]
        mov     r11, [rel .buf + 2]
        str     bx
        sldt    cx
        jmp     .end
.buf:   dq 0, 0
.end:`);
    expect([m.getGpr(R10), m.getGpr(R11)]).toEqual([0x4fn, 0x1000n]);
    expect(m.getGpr(RBX) & 0xffffn).toBe(0x40n);
    expect(m.getGpr(RCX) & 0xffffn).toBe(0n);
  });
  test('LTR of a busy TSS → #GP(selector)', () => {
    const { m } = withHandlers('mov ax, 0x40\n ltr ax');
    expect([m.getGpr(R8), m.getGpr(R9)]).toEqual([13n, 0x40n]);
  });
});

describe('far transfers', () => {
  test('RETF (o64) reloads CS at the same privilege; JMP and CALL through m16:32; RETF to ring 3', () => {
    const { m } = withHandlers(`
        push    0x10
        lea     rax, [rel .reloaded]
        push    rax
        o64 retf                            ; the idiom that reloads CS after LGDT
.reloaded:
        mov     r10, 1
        lea     rax, [rel .far_target]
        mov     [rel .ptr], eax             ; m16:32: 32-bit offset, then the selector
        mov     word [rel .ptr + 4], 0x10
        lea     rax, [rel .ptr]
        db      0xFF, 0x28                  ; jmp far [rax] (m16:32), as bytes: independent of the assembler's default
.ptr:   dd 0
        dw 0
.far_target:
        mov     r11, 2
        lea     rax, [rel .ptr2]
        db      0xFF, 0x18                  ; call far [rax] (m16:32): pushes CS and EIP as doublewords
        jmp     .to_user
.ptr2:  dd far_function
        dw 0x10
.to_user:
        push    0x2b                        ; SS
        lea     rax, [rel user_code + 0x800]
        push    rax                         ; RSP
        push    0x33                        ; CS
        lea     rax, [rel user_code]
        push    rax                         ; RIP
        o64 retf                            ; outer return: pops RIP, CS, RSP, SS
far_function:
        mov     ebx, [rsp + 4]              ; the pushed CS
        retf                                ; 32-bit operand size: pops EIP and CS`, `
section .user
user_code:
        mov     rcx, 3
        hlt`);
    expect([m.getGpr(R10), m.getGpr(R11), m.getGpr(RBX), m.getGpr(RCX)]).toEqual([1n, 2n, 0x10n, 3n]);
    expect(m.getGpr(R8)).toBe(13n); // the HLT at CPL 3
  });
});

describe('alignment check', () => {
  test('#AC(0) for an unaligned access at CPL 3 with CR0.AM and RFLAGS.AC; none at CPL 0', () => {
    const { m } = withHandlers(`
        mov     rax, cr0
        bts     rax, 18
        mov     cr0, rax
        mov     rax, [rel user_data + 1]          ; CPL 0: no #AC
        lea     rsi, [rel user_code]
        lea     rdx, [rel user_code + 0x800]
        push    0x2b
        push    rdx
        push    0x40002                           ; AC
        push    0x33
        push    rsi
        iretq`, `
section .user
user_code:
        mov     rax, [rel user_data]
        mov     rbx, [rel user_data + 1]
        jmp     $
user_data: dq 1, 2`);
    expect([m.getGpr(R8), m.getGpr(R9)]).toEqual([17n, 0n]);
  });
});

describe('NMI and the interrupt shadow', () => {
  test('a self-NMI through the ICR is delivered as type 2; NMIs stay blocked until IRETQ', () => {
    const m = machineFor(`
_start:
${setGates([[2, 'nmi']])}
        call    load_idt
        call    send_nmi
        mov     r10, r8                 ; NMIs taken so far
        hlt
nmi:    inc     r8
        cmp     r8, 1
        jne     .out
        call    send_nmi                ; blocked while in the handler
        mov     r9, r8
.out:   iretq
send_nmi:
        mov     ecx, 0x830              ; ICR: delivery mode NMI, shorthand self
        mov     eax, (1 << 18) | (4 << 8)
        xor     edx, edx
        wrmsr
        ret
${KERNEL_LIB}`);
    m.run(10_000);
    expect(m.getGpr(R9)).toBe(1n); // the second NMI waited for IRETQ
    expect(m.getGpr(R10)).toBe(2n);
    const nmis = m.trace.records.filter((r): r is DeliveryRecord => r.kind === 'delivery');
    expect(nmis.map((d) => [d.type, d.vector])).toEqual([[2, 2], [2, 2]]);
  });
  test('an interrupt is held for one instruction after STI', () => {
    const m = machineFor(`
_start:
${setGates([[0x30, 'irq']])}
        call    load_idt
        mov     ecx, 0x80F
        mov     eax, 0x1FF
        xor     edx, edx
        wrmsr
        mov     ecx, 0x83F              ; SELF_IPI vector 0x30
        mov     eax, 0x30
        wrmsr
        sti
        mov     rbx, 1                  ; runs in the STI shadow, before the interrupt
        mov     rcx, 2
        cli
        hlt
irq:    mov     r10, rbx
        mov     r11, rcx
        iretq
${KERNEL_LIB}`);
    m.run(10_000);
    expect([m.getGpr(R10), m.getGpr(R11)]).toEqual([1n, 0x83fn]);
    void RAX;
  });
});
