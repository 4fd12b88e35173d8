// REP string instructions (src/machine/cpu/exec/strings.ts): exact results for counts 0, 1 and
// large, DF = 1, the 67h (ECX/ESI/EDI) forms, restartability after a #PF in the middle (SDM Vol. 1
// §7.3.9.1: RCX/RSI/RDI describe the completed iterations, RIP at the instruction), the instruction
// limit and interrupts between iterations, and interpreted = compiled everywhere.
import { describe, expect, test } from 'vitest';
import { assembleImage, KERNEL_LIB, runBoth, stopOf } from '../../helpers';
import { createMachine, type Machine, type MachineOptions } from '../../../../src/machine/machine';
import { pteAddress } from '../../../../src/machine/boot';

const RAX = 0, RCX = 1, RBX = 3, RBP = 5, RSI = 6, RDI = 7, R10 = 10, R11 = 11, R12 = 12, R13 = 13, R14 = 14, R15 = 15;
const SRC = 0x300000, DST = 0x340000;
const U64 = (v: bigint) => BigInt.asUintN(64, v);

/** Fill SRC with bytes i * 7 + 1 (mod 256) for `n` bytes, as a program prefix. */
const fillSource = (n: number) => `
      mov rdi, ${SRC}
      mov ecx, ${n}
      mov al, 1
.fill: stosb
      add al, 7
      dec ecx
      jnz .fill
      cld`;
const srcByte = (i: number) => (i * 7 + 1) & 0xff;

function bytesAt(m: Machine, address: number, length: number): number[] {
  return Array.from(m.readMemory(BigInt(address), length));
}

/** Boot the same image interpreted (one-instruction blocks) and compiled; run both. */
function runPair(source: string, options: MachineOptions = {}, max = 2_000_000): [Machine, Machine] {
  const image = assembleImage(source);
  const pair: [Machine, Machine] = [createMachine(image, { ...options, interpretOnly: true }), createMachine(image, { ...options, optimizeAfter: 0 })];
  for (const m of pair) (m as Machine & { lastStop?: unknown }).lastStop = m.run(max);
  return pair;
}

function sameState(a: Machine, b: Machine): void {
  const state = (m: Machine) => ({
    gprs: Array.from({ length: 16 }, (_, i) => m.getGpr(i).toString(16)), rip: m.getRip(), rflags: m.getRflags(), icount: m.icount,
    trace: m.trace.records.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? v.toString(16) : v))),
  });
  expect(state(b)).toEqual(state(a));
}

describe('REP string results', () => {
  test('MOVSB/MOVSQ/STOSB/STOSW with counts 0, 1 and large (crossing pages) both ways of DF; one instruction per iteration', () => {
    const base = (count: number, body: string) => runBoth(`${fillSource(20000)}
      mov rsi, ${SRC}
      mov rdi, ${DST + 0xe00}  ; unaligned: every large count crosses a page
      mov rcx, ${count}
      ${body}`);
    for (const [insn, size] of [['rep movsb', 1], ['rep movsq', 8], ['rep stosb', 1], ['rep stosw', 2]] as const) {
      for (const down of [false, true]) {
        const zero = base(0, `${down ? 'std' : ''}\n mov rax, 0x1122334455667788\n ${insn}`);
        for (const count of [0, 1, 2500]) {
          const start = down ? (count - 1) * size : 0; // DF = 1: RSI/RDI point at the last element
          const m = base(count, `${down ? `add rsi, ${start}\n add rdi, ${start}\n std` : 'nop\n nop\n nop'}\n mov rax, 0x1122334455667788\n ${insn}`);
          const step = down ? -size : size;
          expect(m.getGpr(RCX), `${insn} ${count} down=${down}`).toBe(0n);
          expect(m.getGpr(RDI)).toBe(BigInt(DST + 0xe00 + start + count * step));
          if (insn.includes('movs')) expect(m.getGpr(RSI)).toBe(BigInt(SRC + start + count * step));
          const got = bytesAt(m, DST + 0xe00, count * size + 16);
          const want = Array.from({ length: count * size + 16 }, (_, i) => (i >= count * size ? 0 : insn.includes('movs') ? srcByte(i) : insn === 'rep stosb' ? 0x88 : [0x88, 0x77][i % 2]));
          expect(got).toEqual(want);
          // Every iteration counts as an instruction; a zero count counts one (vs. `zero`, which runs
          // the same program but for the three NOP/ADD/STD padding instructions before the REP).
          expect(m.icount - zero.icount).toBe(Math.max(count, 1) - 1 + (down ? 3 : 3) - (down ? 1 : 0));
        }
      }
    }
  });

  test('overlapping MOVSB replicates forward (dst = src + 1) and copies backward with DF = 1', () => {
    const m = runBoth(`${fillSource(8)}
      mov rsi, ${SRC}
      lea rdi, [rsi + 1]
      mov rcx, 6000
      rep movsb
      mov rsi, ${SRC + 0x3000 + 5000}
      lea rdi, [rsi + 3]
      mov rcx, 5000
      std
      rep movsb
      cld`);
    expect(bytesAt(m, SRC, 6001)).toEqual(Array(6001).fill(1));
    // Backward, destination above source by 3: no clobbering, a plain copy of the source range.
    expect(bytesAt(m, SRC + 0x3000 + 4, 5000)).toEqual(bytesAt(m, SRC + 0x3000 + 1, 5000));
  });

  test('LODSB with REP leaves the last element in AL; REPE/REPNE SCAS and CMPS stop on the condition', () => {
    const m = runBoth(`${fillSource(9000)}
      mov rsi, ${SRC}
      mov rcx, 8000
      rep lodsb
      mov r8, rax
      mov r9, rsi
      mov rdi, ${SRC}
      mov al, ${srcByte(6000)}
      mov rcx, 9000
      repne scasb           ; first byte equal to AL: index 6000 % 256 pattern repeats every 256
      mov r10, rcx
      mov rsi, ${SRC}
      mov rdi, ${SRC + 256}
      mov rcx, 8000
      repe cmpsb            ; the pattern repeats with period 256: equal until SRC + 256 + 8744 (beyond)
      pushfq
      pop r11
      mov r12, rcx
      mov byte [${SRC + 256 + 5000}], 0
      mov rsi, ${SRC}
      mov rdi, ${SRC + 256}
      mov rcx, 8000
      repe cmpsb
      mov r13, rcx
      mov r14, rdi
      mov rdi, ${SRC}
      mov eax, 0x01
      mov rcx, 0
      repne scasb          ; count 0: nothing compared, flags unchanged
      mov r15, rdi`);
    expect(m.getGpr(8) & 0xffn).toBe(BigInt(srcByte(7999)));
    expect(m.getGpr(9)).toBe(BigInt(SRC + 8000));
    // srcByte has period 256 and is a bijection on 0..255: the first match is index 6000 % 256.
    expect(m.getGpr(10)).toBe(BigInt(9000 - (6000 % 256) - 1));
    expect(m.getGpr(12)).toBe(0n);
    expect(m.getGpr(11) & 0x40n).toBe(0x40n); // ZF: all equal
    expect(m.getGpr(13)).toBe(BigInt(8000 - 5001));
    expect(m.getGpr(14)).toBe(BigInt(SRC + 256 + 5001));
    expect(m.getGpr(15)).toBe(BigInt(SRC));
  });

  test('page-local fast paths agree with the element-by-element path (forced by an armed data breakpoint)', () => {
    const program = (dr7: number) => `${fillSource(0x3000)}
      mov rax, 0x500000
      mov dr0, rax
      mov rax, ${dr7}
      mov dr7, rax              ; a write breakpoint elsewhere forces one element per execution
      mov rsi, ${SRC + 0x2ffe}
      mov rdi, ${DST + 0x2ffe}
      mov rcx, 0x1800
      std
      rep movsw                 ; backwards over three pages
      mov byte [${SRC + 0x2345}], 0x99
      mov rdi, ${DST + 0x2ff8}
      mov rcx, 0x600
      mov ax, ${srcByte(0x2222) | (srcByte(0x2223) << 8)}
      repne scasw               ; finds the word at 0x2222 going down
      mov r8, rcx
      mov r9, rdi
      cld
      mov rsi, ${SRC}
      mov rdi, ${DST}
      mov rcx, 0x600
      repe cmpsq                ; differs at the 0x99 byte (qword 0x468)
      pushfq
      pop r10
      mov r11, rcx
      mov rsi, ${SRC + 3}
      mov rdi, ${DST + 1}
      mov rcx, 0x400
      repne cmpsd
      mov r12, rcx
      mov rdi, ${DST + 0x1ffc}
      mov rax, 0x0123456789abcdef
      mov rcx, 0x300
      rep stosq
      mov r13, rdi
      mov rsi, ${DST + 0x800}
      lea rdi, [rsi + 3]
      mov rcx, 0x1000
      rep movsb                 ; overlapping forwards`;
    const [plain, watched] = [program(0), program(0xd0001)].map((source) => runBoth(source));
    const state = (m: Machine) => ({ gprs: Array.from({ length: 16 }, (_, i) => m.getGpr(i)), rflags: m.getRflags(), icount: m.icount, dst: bytesAt(m, DST, 0x4000).join(',') });
    expect(state(plain)).toEqual(state(watched));
    expect(plain.getGpr(R11)).toBeGreaterThan(0n); // REPE CMPSQ stopped early
    expect(plain.getGpr(R10) & 0x40n).toBe(0n);
  });

  test('67h forms use ECX/ESI/EDI: upper halves are ignored and the registers written as 32-bit', () => {
    const m = runBoth(`${fillSource(16)}
      mov rsi, 0xabcd000000000000 + ${SRC}
      mov rdi, 0x1234000000000000 + ${DST}
      mov rcx, 0x7777000000000005
      db 0x67, 0xf3, 0xa4   ; rep movsb with ECX, ESI, EDI
      mov r8, rcx
      mov r9, rsi
      mov r10, rdi
      mov rdi, 0x5555000000000000 + ${DST + 100}
      mov rcx, 0x1111000000000003
      mov eax, 0x99
      std
      db 0x67, 0xf3, 0xaa   ; rep stosb downwards with ECX, EDI
      cld`);
    expect([m.getGpr(8), m.getGpr(9), m.getGpr(10)]).toEqual([0n, BigInt(SRC + 5), BigInt(DST + 5)]);
    expect(bytesAt(m, DST, 6)).toEqual([1, 8, 15, 22, 29, 0]);
    expect(m.getGpr(RCX)).toBe(0n);
    expect(m.getGpr(RDI)).toBe(BigInt(DST + 97));
    expect(bytesAt(m, DST + 97, 5)).toEqual([0, 0x99, 0x99, 0x99, 0]);
  });
});

describe('REP strings in compatibility mode', () => {
  test('ring-3 32-bit code: REP MOVSB with ESI/EDI/ECX across a page, stopped by the instruction limit and resumed', () => {
    const source = `_start:
      mov rdi, 0x80
      lea rsi, [rel back]
      mov edx, 0xEE00
      call set_gate
      call load_idt
      push 0x2b
      push user_stack
      push 0x2
      push 0x23                 ; 32-bit user code
      lea rax, [rel compat]
      push rax
      iretq
back: hlt
${KERNEL_LIB}
section .user
compat:                         ; 32-bit code, as bytes (the assembler emits 64-bit code)
      db 0xB8, 0x2B, 0, 0, 0    ; mov eax, 0x2b
      db 0x8E, 0xD8             ; mov ds, eax
      db 0x8E, 0xC0             ; mov es, eax
      db 0xBE
      dd usrc                   ; mov esi, usrc
      db 0xBF
      dd udst                   ; mov edi, udst
      db 0xB9
      dd 6000                   ; mov ecx, 6000
      db 0xF3, 0xA4             ; rep movsb
      db 0xCD, 0x80             ; int 0x80
align 16
      times 64 db 0
user_stack:
usrc: times 6000 db 0x3c
udst: times 6010 db 0`;
    const image = assembleImage(source);
    const machines = [createMachine(image, { interpretOnly: true }), createMachine(image, { optimizeAfter: 0 })];
    for (const m of machines) {
      expect(m.run(2000).reason).toBe('instructionLimit'); // in the middle of the REP
      const ecx = Number(m.getGpr(RCX) & 0xffffffffn);
      expect(ecx > 0 && ecx < 6000).toBe(true);
      expect(m.run(100_000).reason).toBe('halted');
      expect(m.getGpr(RCX) & 0xffffffffn).toBe(0n);
    }
    sameState(machines[0], machines[1]);
    const m = machines[1];
    const dst = Number(m.getGpr(RDI) & 0xffffffffn) - 6000;
    expect(Number(m.getGpr(RSI) & 0xffffffffn)).toBe(dst); // usrc + 6000 = udst
    expect(bytesAt(m, dst, 6010)).toEqual(Array(6000).fill(0x3c).concat(Array(10).fill(0)));
  });
});

describe('REP string restartability', () => {
  const PAGE = DST + 0x2000;
  const PTE = pteAddress(64 * 1024 * 1024, PAGE);
  const faultProgram = (insn: string, size: number, down: boolean) => `
_start:
${fillSource(0x3000)}
      mov rdi, 14
      lea rsi, [rel pf]
      mov edx, 0x8E00
      call set_gate
      call load_idt
      and qword [${PTE}], ~1      ; the page at DST + 0x2000 is not present
      invlpg [${PAGE}]
      xor ebp, ebp
      ${down
    ? `mov rsi, ${SRC + 0x2000 - size}\n      mov rdi, ${DST + 0x4000 - size}\n      std`
    : `mov rsi, ${SRC}\n      mov rdi, ${DST + 0x1000}`}
      mov rcx, ${0x2000 / size}
      mov eax, 0x04030201
.rep: ${insn}
      cld
      hlt
pf:   test ebp, ebp
      jnz .again
      mov rbp, 1
      mov r12, cr2
      mov r13, rcx
      mov r14, rsi
      mov r15, rdi
      mov rbx, [rsp + 8]
      lea r10, [rel _start.rep]
      sub rbx, r10                ; saved RIP - address of the REP instruction
      mov r11, [rsp]              ; error code
      or qword [${PTE}], 1        ; map the page and return: the REP continues where it stopped
      add rsp, 8
      iretq
.again: hlt
${KERNEL_LIB}`;

  for (const [insn, size, down] of [['rep movsb', 1, false], ['rep movsq', 8, false], ['rep movsq', 8, true], ['rep stosd', 4, false]] as const) {
    test(`${insn}${down ? ' (DF = 1)' : ''}: a #PF in the middle leaves the completed iterations in RCX/RSI/RDI, RIP at the instruction; returning completes it`, () => {
      const [a, b] = runPair(faultProgram(insn, size, down));
      sameState(a, b);
      const m = b;
      expect(stopOf(m).reason).toBe('halted');
      expect(m.getGpr(RBP)).toBe(1n);
      const done = 0x1000 / size; // iterations before the destination reaches the missing page
      expect(m.getGpr(R12)).toBe(BigInt(down ? PAGE + 0x1000 - size : PAGE)); // CR2: first byte of the faulting element
      expect(m.getGpr(R13)).toBe(BigInt(0x2000 / size - done));
      if (insn.includes('movs')) expect(m.getGpr(R14)).toBe(BigInt(down ? SRC + 0x2000 - size - 0x1000 : SRC + 0x1000));
      expect(m.getGpr(R15)).toBe(BigInt(down ? PAGE + 0x1000 - size : PAGE));
      expect(m.getGpr(RBX)).toBe(0n);
      expect(m.getGpr(R11)).toBe(2n); // write to a not-present page, supervisor
      expect(m.getGpr(RCX)).toBe(0n);
      const first = down ? DST + 0x2000 : DST + 0x1000;
      const got = bytesAt(m, first, 0x2000);
      if (insn.includes('movs')) expect(got).toEqual(Array.from({ length: 0x2000 }, (_, i) => srcByte(i)));
      else expect(got).toEqual(Array.from({ length: 0x2000 }, (_, i) => (i % 4) + 1));
    });
  }

  test('with TF = 1 each iteration ends in a single-step #DB with RIP at the REP until the last', () => {
    const [a, b] = runPair(`_start:
      mov rdi, 1
      lea rsi, [rel dbh]
      mov edx, 0x8E00
      call set_gate
      call load_idt
      xor r12d, r12d
      xor r15d, r15d
      mov rsi, ${SRC}
      mov rdi, ${DST}
      mov rcx, 3
      pushfq
      or qword [rsp], 0x100
      popfq
.rep: rep movsb
      pushfq
      and qword [rsp], ~0x100
      popfq
      hlt
dbh:  push rax
      mov rax, [rsp + 8]
      lea r10, [rel _start.rep]
      cmp rax, r10
      jne .x
      inc r15
      shl r12, 8
      or r12, rcx
.x:   pop rax
      iretq
${KERNEL_LIB}`);
    sameState(a, b);
    expect(stopOf(b).reason).toBe('halted');
    expect(b.getGpr(R15)).toBe(2n); // after iterations 1 and 2; the third trap reports the next instruction
    expect(b.getGpr(R12)).toBe(0x0201n);
    expect(b.getGpr(RCX)).toBe(0n);
  });

  test('the instruction limit stops a huge REP STOSB in the middle; the next run continues it', () => {
    const source = `_start:
      mov rdi, 0x200000
      mov rcx, -1
      mov al, 0xee
.rep: rep stosb
      hlt`;
    const m = createMachine(assembleImage(source));
    const stop = m.run(1000);
    expect(stop.reason).toBe('instructionLimit');
    expect(m.icount).toBe(1000);
    expect(Array.from(m.readMemory(m.getRip(), 2))).toEqual([0xf3, 0xaa]); // RIP at the REP STOSB
    expect(m.getGpr(RCX)).toBe(U64(-1n - 997n));
    expect(m.getGpr(RDI)).toBe(BigInt(0x200000 + 997));
    // Shorten the count and run on: the REP finishes the remaining iterations.
    m.setGpr(RCX, 5000n);
    expect(m.run(100_000).reason).toBe('halted');
    expect(m.getGpr(RCX)).toBe(0n);
    expect(m.icount).toBe(1000 + 5000 + 1);
    expect(bytesAt(m, 0x200000, 5999)).toEqual(Array(5997).fill(0xee).concat([0, 0]));
  });

  test('an --interrupt delivery in the middle of a long REP STOSB saves RIP = the REP and a partial RCX', () => {
    const source = `_start:
      mov rdi, 0x30
      lea rsi, [rel tick]
      mov edx, 0x8E00
      call set_gate
      call load_idt
      mov ecx, 0x80F
      mov eax, 0x1FF
      xor edx, edx
      wrmsr
      xor r15d, r15d
      mov rdi, ${DST}
      mov rcx, 100000
      mov al, 0x5a
      sti
.rep: rep stosb
      cli
      hlt
tick: push rax
      push rcx
      push rdx
      test r15, r15
      jnz .eoi
      mov r12, rcx
      mov r13, rdi
      mov r14, [rsp + 24]
      lea rax, [rel _start.rep]
      sub r14, rax
.eoi: inc r15
      mov ecx, 0x80B
      xor eax, eax
      xor edx, edx
      wrmsr
      pop rdx
      pop rcx
      pop rax
      iretq
${KERNEL_LIB}`;
    const [a, b] = runPair(source, { interrupts: [{ vector: 0x30, every: 500 }] });
    sameState(a, b);
    const m = b;
    expect(stopOf(m).reason).toBe('halted');
    const ticks = m.trace.records.filter((r) => r.kind === 'delivery' && r.vector === 0x30).map((r) => r.icount);
    expect(ticks.slice(0, 3)).toEqual([500, 1000, 1500]); // exact, between iterations
    expect(m.getGpr(R15)).toBe(BigInt(ticks.length));
    expect(ticks.length).toBeGreaterThan(100);
    expect(m.getGpr(R14)).toBe(0n);
    const doneAtFirst = m.getGpr(R13) - BigInt(DST);
    expect(doneAtFirst > 0n && doneAtFirst < 500n).toBe(true);
    expect(m.getGpr(R12)).toBe(100000n - doneAtFirst);
    expect(m.getGpr(RCX)).toBe(0n);
    expect(bytesAt(m, DST, 100001)).toEqual(Array(100000).fill(0x5a).concat([0]));
  });
});
