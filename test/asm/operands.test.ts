import { describe, expect, it } from 'vitest';
import { bytesOf, errorsOf } from './helpers';

describe('operands', () => {
  it('encodes every GPR width including the REX-only byte registers', () => {
    expect(bytesOf('mov spl, bpl')).toBe('4088ec');
    expect(bytesOf('mov sil, dil')).toBe('4088fe');
    expect(bytesOf('mov r8b, r15b')).toBe('4588f8');
    expect(bytesOf('mov r8w, ax')).toBe('664189c0');
    expect(bytesOf('mov r8d, eax')).toBe('4189c0');
    expect(errorsOf('mov ah, sil')[0]).toMatch(/ah, bh, ch and dh cannot be used/);
  });

  it('encodes memory operands with base, index, scale and the shortest displacement', () => {
    expect(bytesOf('mov rax, [rbx]')).toBe('488b03');
    expect(bytesOf('mov rax, [rbx + 8]')).toBe('488b4308');
    expect(bytesOf('mov rax, [rbx + 0x80]')).toBe('488b8380000000');
    expect(bytesOf('mov rax, [rbx + rcx*8 - 8]')).toBe('488b44cbf8');
    expect(bytesOf('mov rax, [8*rcx + rbx]')).toBe('488b04cb');
    expect(bytesOf('mov rax, [rbp]')).toBe('488b4500');
    expect(bytesOf('mov rax, [rax*2]')).toBe('488b0400');
    expect(bytesOf('mov rax, [rax*5]')).toBe('488b0480');
    expect(bytesOf('mov rax, [0x1000]')).toBe('488b042500100000');
    expect(bytesOf('mov eax, [ecx]')).toBe('678b01');
  });

  it('encodes rip-relative forms: [rel label], [rip + d] and default rel', () => {
    expect(bytesOf('lea rax, [rel x]\nx:')).toBe('488d0500000000');
    expect(bytesOf('lea rax, [rip + 4]')).toBe('488d0504000000');
    expect(bytesOf('default rel\nmov eax, [x]\nx: dd 0')).toBe('8b050000000000000000');
    expect(bytesOf('default rel\nmov eax, [abs 0x1000]')).toBe('8b042500100000');
  });

  it('keeps the displacement of an xchg memory operand written second (it is encoded first)', () => {
    // nasm 2.16.01: 48 87 43 08, and 48 87 05 rel32 / 87 04 25 abs32 for labels.
    expect(bytesOf('xchg rax, [rbx + 8]')).toBe('48874308');
    expect(bytesOf('xchg rax, [rel x]\nx:')).toBe('48870500000000');
    expect(bytesOf('xchg eax, [x]\nx:', 0x1000n)).toBe('87042507100000');
  });

  it('accepts segment overrides outside and inside the brackets', () => {
    expect(bytesOf('mov rax, fs:[rbx]')).toBe('64488b03');
    expect(bytesOf('mov rax, [gs:rbx]')).toBe('65488b03');
    expect(bytesOf('mov rax, [gs:0x28]')).toBe('65488b042528000000');
  });

  it('takes size keywords with or without ptr, and needs one when nothing else fixes the size', () => {
    expect(bytesOf('inc byte [rax]')).toBe('fe00');
    expect(bytesOf('inc word ptr [rax]')).toBe('66ff00');
    expect(bytesOf('inc dword [rax]')).toBe('ff00');
    expect(bytesOf('inc qword ptr [rax]')).toBe('48ff00');
    expect(errorsOf('mov [rax], 1')[0]).toMatch(/operation size not specified/);
    expect(errorsOf('mov dword [rax], bl')[0]).toMatch(/invalid combination of operands for 'mov'/);
  });

  it('encodes indirect and far branches', () => {
    expect(bytesOf('call rax\njmp [rax]\njmp qword [rax]\ncall far [rax]')).toBe('ffd0' + 'ff20' + 'ff20' + '48ff18'); // NASM: far is m16:64
    expect(bytesOf('jmp far dword [rax]\nretfq\nretf')).toBe('ff28' + '48cb' + 'cb');
    expect(errorsOf('jmp far tword [rax]')[0]).toMatch(/invalid combination of operands for 'jmp'/); // NASM sizes the offset, not the pointer
    expect(bytesOf('jmp short x\nx:')).toBe('eb00');
    expect(errorsOf('jmp short x\ntimes 200 nop\nx:')[0]).toMatch(/out of range/);
  });

  it('encodes control, debug and segment registers', () => {
    expect(bytesOf('mov cr4, rax')).toBe('0f22e0');
    expect(bytesOf('mov rax, cr8')).toBe('440f20c0');
    expect(bytesOf('mov dr7, rcx')).toBe('0f23f9');
    expect(bytesOf('mov ss, ax')).toBe('8ed0'); // as NASM (llvm-mc: 66 8E D0)
  });

  it('takes prefixes lock, rep, repe, repz, repne, repnz and o64', () => {
    expect(bytesOf('lock inc qword [rax]')).toBe('f048ff00');
    expect(bytesOf('rep movsb')).toBe('f3a4');
    expect(bytesOf('repz cmpsq')).toBe('f348a7');
    expect(bytesOf('repnz scasb')).toBe('f2ae');
    expect(bytesOf('o64 sysret')).toBe('480f07');
    expect(bytesOf('sysret')).toBe('0f07');
  });

  it('chooses short immediates like NASM and reports values that do not fit', () => {
    expect(bytesOf('add rax, 1')).toBe('4883c001');
    expect(bytesOf('mov rax, 1')).toBe('b801000000');
    expect(bytesOf('mov rax, -1')).toBe('48c7c0ffffffff');
    expect(bytesOf('mov rax, 0x123456789')).toBe('48b88967452301000000');
    expect(bytesOf('mov rax, x\nx:')).toBe('48b80a00100000000000');
    expect(bytesOf('add rax, dword 1')).toBe('480501000000');
    expect(bytesOf('int 3')).toBe('cd03');
    expect(bytesOf('int3')).toBe('cc');
    expect(errorsOf('add rax, 0x80000000')[0]).toMatch(/does not fit in a 32-bit immediate/);
  });

  it('rejects malformed addresses with a clear message', () => {
    expect(errorsOf('mov rax, [rax*3 + rbx]')[0]).toMatch(/invalid scale 3/);
    expect(errorsOf('mov rax, [rax + rbx + rcx]')[0]).toMatch(/too many registers/);
    expect(errorsOf('mov rax, [rbx - rcx]')[0]).toMatch(/cannot be subtracted/);
    expect(errorsOf('mov rax, [rip + rbx]')[0]).toMatch(/rip-relative addresses cannot have an index/);
    expect(errorsOf('mov rax, [cr0]')[0]).toMatch(/undefined symbol 'cr0'|cannot be used in an address/);
  });
});
