// Integer ISA by family, each program run interpreted (one-instruction blocks) and compiled; the two
// must agree, and the results must be the architectural ones (SDM Vol. 2 per instruction).
import { describe, expect, test } from 'vitest';
import { AF, CF, OF, PF, SF, STATUS, ZF, runBoth } from '../helpers';

const RAX = 0, RCX = 1, RDX = 2, RBX = 3, RSI = 6, RDI = 7, R8 = 8;
const flags = (m: ReturnType<typeof runBoth>) => m.getRflags() & STATUS;

describe('arithmetic and flags', () => {
  test('ADD sets CF, ZF, PF, AF on 64-bit wrap-around', () => {
    const m = runBoth('mov rax, -1\n mov rbx, 1\n add rax, rbx');
    expect(m.getGpr(RAX)).toBe(0n);
    expect(flags(m)).toBe(CF | ZF | PF | AF);
  });
  test('signed overflow sets OF and SF at every width', () => {
    for (const [reg, max] of [['al', '0x7f'], ['ax', '0x7fff'], ['eax', '0x7fffffff'], ['rax', '0x7fffffffffffffff']]) {
      const m = runBoth(`mov rax, 0\n mov ${reg}, ${max}\n add ${reg}, 1`);
      expect(flags(m) & (OF | SF | CF | ZF)).toBe(OF | SF);
    }
  });
  test('32-bit writes zero the upper half, 8- and 16-bit writes merge', () => {
    const m = runBoth('mov rax, -1\n mov eax, 5\n mov rbx, -1\n mov bx, 7\n mov rcx, -1\n mov ch, 0x12');
    expect(m.getGpr(RAX)).toBe(5n);
    expect(m.getGpr(RBX)).toBe(0xffffffffffff0007n);
    expect(m.getGpr(RCX)).toBe(0xffffffffffff12ffn);
  });
  test('ADC and SBB chain a 128-bit addition and subtraction', () => {
    const m = runBoth('mov rax, -1\n mov rdx, 1\n add rax, 1\n adc rdx, 0\n mov rsi, 0\n mov rdi, 0\n sub rsi, 1\n sbb rdi, 0');
    expect([m.getGpr(RAX), m.getGpr(RDX)]).toEqual([0n, 2n]);
    expect([m.getGpr(RSI), m.getGpr(RDI)]).toEqual([0xffffffffffffffffn, 0xffffffffffffffffn]);
    expect(flags(m) & CF).toBe(CF);
  });
  test('INC and DEC keep CF; NEG sets CF for non-zero', () => {
    const m = runBoth(`stc\n mov rax, -1\n inc rax\n mov rbx, 5\n neg rbx\n clc\n mov rcx, 1\n dec rcx`);
    expect(m.getGpr(RAX)).toBe(0n);
    expect(m.getGpr(RBX)).toBe(BigInt.asUintN(64, -5n));
    expect(flags(m) & (CF | ZF)).toBe(ZF);
  });
  test('CMP + Jcc: signed and unsigned conditions after a compare', () => {
    const m = runBoth(`
      xor r8, r8
      mov rax, -2
      cmp rax, 3
      jl .l1
      jmp .fail
.l1:  or r8, 1
      cmp rax, 3
      ja .l2
      jmp .fail
.l2:  or r8, 2
      mov ecx, 5
      cmp ecx, 5
      jbe .l3
      jmp .fail
.l3:  or r8, 4
      cmp cl, 6
      jge .fail
      or r8, 8
      test rax, rax
      js .l4
      jmp .fail
.l4:  or r8, 16
.fail: nop`);
    expect(m.getGpr(R8)).toBe(31n);
  });
  test('SETcc and CMOVcc; CMOV with a false condition still zero-extends 32-bit', () => {
    const m = runBoth('mov rax, -1\n mov rbx, 2\n cmp rbx, 3\n setb cl\n setg dl\n cmovae eax, ebx');
    expect(m.getGpr(RCX) & 0xffn).toBe(1n);
    expect(m.getGpr(RDX) & 0xffn).toBe(0n);
    expect(m.getGpr(RAX)).toBe(0xffffffffn);
  });
  test('logic clears CF/OF; NOT leaves flags', () => {
    const m = runBoth('stc\n mov rax, 0xf0\n and rax, 0x0f\n not rbx');
    expect(flags(m)).toBe(ZF | PF);
  });
});

describe('multiply and divide', () => {
  test('MUL and IMUL in their one-, two- and three-operand forms', () => {
    const m = runBoth('mov rax, -1\n mov rbx, 2\n mul rbx\n mov rsi, rdx\n mov rcx, -3\n imul rcx, rcx, 7\n mov rdi, 6\n imul rdi, rcx');
    expect(m.getGpr(RAX)).toBe(0xfffffffffffffffen);
    expect(m.getGpr(RSI)).toBe(1n);
    expect(m.getGpr(RCX)).toBe(BigInt.asUintN(64, -21n));
    expect(m.getGpr(RDI)).toBe(BigInt.asUintN(64, -126n));
  });
  test('DIV and IDIV quotient and remainder', () => {
    const m = runBoth('mov rdx, 0\n mov rax, 100\n mov rcx, 7\n div rcx\n mov rsi, rax\n mov rdi, rdx\n mov rax, -100\n cqo\n idiv rcx');
    expect([m.getGpr(RSI), m.getGpr(RDI)]).toEqual([14n, 2n]);
    expect([m.getGpr(RAX), m.getGpr(RDX)]).toEqual([BigInt.asUintN(64, -14n), BigInt.asUintN(64, -2n)]);
  });
  test('divide by zero raises #DE (a shutdown without an IDT, naming #DE)', () => {
    const m = runBoth('xor ecx, ecx\n div rcx');
    expect(m.getRip()).toBeDefined();
    expect((m as unknown as { lastStop: { reason: string; message: string } }).lastStop.message).toMatch(/#DE/);
  });
});

describe('shifts, rotates and bit operations', () => {
  test('SHL/SHR/SAR with CF and the count masked to 6 bits', () => {
    const m = runBoth('mov rax, 0x8000000000000001\n shl rax, 1\n mov rbx, -8\n sar rbx, 2\n mov rcx, 65\n mov rdx, 4\n shr rdx, cl');
    expect(m.getGpr(RAX)).toBe(2n);
    expect(m.getGpr(RBX)).toBe(BigInt.asUintN(64, -2n));
    expect(m.getGpr(RDX)).toBe(2n);
  });
  test('ROL/ROR/RCL/RCR', () => {
    const m = runBoth('mov al, 0x81\n rol al, 1\n mov bl, 0x81\n ror bl, 1\n clc\n mov cl, 0x80\n rcl cl, 1\n mov dl, 1\n rcr dl, 1');
    expect(m.getGpr(RAX) & 0xffn).toBe(0x03n);
    expect(m.getGpr(RBX) & 0xffn).toBe(0xc0n);
    expect(m.getGpr(RCX) & 0xffn).toBe(0x00n);
    expect(m.getGpr(RDX) & 0xffn).toBe(0x80n); // CF from RCL (1) rotated in
  });
  test('SHLD/SHRD', () => {
    const m = runBoth('mov rax, 0x1\n mov rbx, 0x8000000000000000\n shld rax, rbx, 1\n mov rcx, 0x10\n mov rdx, 0x3\n shrd rcx, rdx, 4');
    expect(m.getGpr(RAX)).toBe(3n);
    expect(m.getGpr(RCX)).toBe(0x3000000000000001n);
  });
  test('BT/BTS/BTR/BTC and bit scans', () => {
    const m = runBoth('mov rax, 0b1010\n bt rax, 1\n setc r8b\n bts rax, 0\n btr rax, 3\n btc rax, 63\n mov rbx, 0x50\n bsf rcx, rbx\n bsr rdx, rbx\n lzcnt rsi, rbx\n tzcnt rdi, rbx\n popcnt rbx, rbx');
    expect(m.getGpr(R8) & 0xffn).toBe(1n);
    expect(m.getGpr(RAX)).toBe(0x8000000000000003n);
    expect([m.getGpr(RCX), m.getGpr(RDX), m.getGpr(RSI), m.getGpr(RDI), m.getGpr(RBX)]).toEqual([4n, 6n, 57n, 4n, 2n]);
  });
});

describe('moves, exchanges and conversions', () => {
  test('MOVZX/MOVSX/MOVSXD, BSWAP, XCHG, XADD, CMPXCHG', () => {
    const m = runBoth(`
      mov rbx, 0x80
      movsx rax, bl
      movzx ecx, bl
      mov edx, 0x80000000
      movsxd rdx, edx
      mov rsi, 0x0102030405060708
      bswap rsi
      mov rdi, 1
      mov r8, 2
      xadd rdi, r8
      xchg rbx, rcx`);
    expect(m.getGpr(RAX)).toBe(0xffffffffffffff80n);
    expect(m.getGpr(RBX)).toBe(0x80n);
    expect(m.getGpr(RDX)).toBe(0xffffffff80000000n);
    expect(m.getGpr(RSI)).toBe(0x0807060504030201n);
    expect([m.getGpr(RDI), m.getGpr(R8)]).toEqual([3n, 1n]);
  });
  test('CMPXCHG success and failure, CMPXCHG16B', () => {
    const m = runBoth(`
      lea rdi, [rel .data]
      mov rax, 5
      mov rbx, 9
      lock cmpxchg [rdi], rbx
      setz r8b
      mov rax, 7
      cmpxchg [rdi], rbx
      mov rsi, rax
      xor eax, eax
      xor edx, edx
      mov rbx, 11
      mov rcx, 12
      lock cmpxchg16b [rdi + 16]
      mov rcx, [rdi + 16]
      jmp .end
align 16
.data: dq 5, 0, 0, 0
.end: nop`);
    expect(m.getGpr(R8) & 0xffn).toBe(1n);
    expect(m.getGpr(RSI)).toBe(9n);
    expect(m.getGpr(RCX)).toBe(11n);
  });
  test('CBW/CWDE/CDQE, CWD/CDQ/CQO, LAHF/SAHF, LEA', () => {
    const m = runBoth('mov rax, 0x80\n cbw\n cwde\n cdqe\n mov rbx, rax\n cqo\n mov rcx, rdx\n stc\n lahf\n mov rsi, rax\n lea rdi, [rbx + rcx*4 + 10]');
    expect(m.getGpr(RBX)).toBe(0xffffffffffffff80n);
    expect(m.getGpr(RCX)).toBe(0xffffffffffffffffn);
    expect((m.getGpr(RSI) >> 8n) & 1n).toBe(1n);
    expect(m.getGpr(RDI)).toBe(BigInt.asUintN(64, -128n - 4n + 10n));
  });
});

describe('stack and control transfer', () => {
  test('PUSH/POP of registers, memory and immediates; CALL/RET; ENTER/LEAVE', () => {
    const m = runBoth(`
      push -2
      pop rax
      call .f
      mov rbx, rcx
      jmp .end
.f:   enter 16, 0
      mov rcx, rsp
      sub rcx, rbp
      leave
      ret
.end: nop`);
    expect(m.getGpr(RAX)).toBe(BigInt.asUintN(64, -2n));
    expect(m.getGpr(RBX)).toBe(BigInt.asUintN(64, -16n));
    expect(m.getGpr(4)).toBe(0x20000n);
  });
  test('LOOP, LOOPNE, JRCXZ and RET imm16', () => {
    const m = runBoth(`
      mov rcx, 10
      xor eax, eax
.l:   add rax, 2
      loop .l
      jrcxz .z
      mov rax, 0
.z:   push 1
      call .g
      mov rbx, rsp
      jmp .end
.g:   ret 8
.end: nop`);
    expect(m.getGpr(RAX)).toBe(20n);
    expect(m.getGpr(RBX)).toBe(0x20000n);
  });
  test('string instructions with REP, DF and REPNE SCASB', () => {
    const m = runBoth(`
      lea rsi, [rel .src]
      lea rdi, [rel .dst]
      mov rcx, 5
      rep movsb
      lea rdi, [rel .dst]
      mov al, 'c'
      mov rcx, 5
      repne scasb
      mov rbx, rcx
      std
      lea rdi, [rel .dst + 4]
      mov al, 'z'
      mov rcx, 2
      rep stosb
      cld
      mov rdx, [rel .dst]
      jmp .end
.src: db "abcde"
.dst: db 0, 0, 0, 0, 0, 0, 0, 0
.end: nop`);
    expect(m.getGpr(RBX)).toBe(2n);
    expect(m.getGpr(RDX) & 0xffffffffffn).toBe(0x7a7a636261n);
  });
});

describe('more forms', () => {
  test('MOVBE, XLAT, memory PUSH/POP, XCHG and NEG on memory, 16-bit arithmetic', () => {
    const m = runBoth(`
      lea rsi, [rel .tab]
      movbe eax, [rsi]
      mov r8, rax
      mov rbx, rsi
      mov al, 2
      xlatb
      mov r9, rax
      push qword [rsi]
      pop qword [rsi + 8]
      mov r10, [rsi + 8]
      mov rcx, 5
      xchg [rsi + 16], rcx
      neg qword [rsi + 16]
      mov r11, [rsi + 16]
      mov dx, 0xffff
      add dx, 2
      jmp .end
.tab: db 1, 2, 3, 4, 5, 6, 7, 8
      dq 0, 0
.end: nop`);
    expect(m.getGpr(8)).toBe(0x01020304n);
    expect(m.getGpr(9) & 0xffn).toBe(3n);
    expect(m.getGpr(10)).toBe(0x0807060504030201n);
    expect(m.getGpr(1)).toBe(0n);
    expect(m.getGpr(11)).toBe(BigInt.asUintN(64, -5n));
    expect(m.getGpr(2) & 0xffffn).toBe(1n);
  });
  test('REPE CMPSB stops at the first difference; LODSQ; LOOPE', () => {
    const m = runBoth(`
      lea rsi, [rel .a]
      lea rdi, [rel .b]
      mov rcx, 8
      repe cmpsb
      mov r8, rcx
      lea rsi, [rel .a]
      lodsq
      mov r9, rax
      mov rcx, 5
      xor edx, edx
.l:   inc rdx
      cmp rdx, 3
      loopne .l
      mov r10, rcx
      jmp .end
.a:   db "abcdefgh"
.b:   db "abcXefgh"
.end: nop`);
    expect(m.getGpr(8)).toBe(4n);
    expect(m.getGpr(9)).toBe(0x6867666564636261n);
    expect(m.getGpr(10)).toBe(2n);
  });
  test('PUSHFQ/POPFQ round-trip the status flags and DF', () => {
    const m = runBoth(`stc
 std
 pushfq
 clc
 cld
 popfq
 setc al
 pushfq
 pop rbx
 cld`);
    expect(m.getGpr(0) & 0xffn).toBe(1n);
    expect(m.getGpr(3) & 0x401n).toBe(0x401n);
  });
});

