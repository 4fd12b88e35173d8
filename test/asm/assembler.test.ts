import { describe, expect, it } from 'vitest';
import { asm, bytesOf, errorsOf } from './helpers';

describe('directives', () => {
  it('db/dw/dd/dq store numbers, strings and character literals little-endian', () => {
    expect(bytesOf('db 1, 0xff, -1, "ab", \'c\'')).toBe('01ffff616263');
    expect(bytesOf('dw 0x1234, "abc"')).toBe('3412616263' + '00');
    expect(bytesOf("dd 'AB' + 1")).toBe('42420000');
    expect(bytesOf('dq -2')).toBe('feffffffffffffff');
  });

  it('reports data values that do not fit their unit', () => {
    expect(errorsOf('db 256')).toEqual(['1:4: value 0x100 does not fit in 8 bits']);
    expect(errorsOf('dw -32769')).toEqual(['1:4: value -0x8001 does not fit in 16 bits']);
  });

  it('resb/resw/resd/resq reserve zeroed space; a trailing reserve is a bss tail', () => {
    const r = asm('section .data\ndb 1\nresw 2\ndb 2\nresq 1');
    const data = r.image.sections[0];
    expect(Buffer.from(data.bytes).toString('hex')).toBe('010000000002');
    expect(data.size).toBe(14);
  });

  it('times repeats data and instructions, with $ and $$', () => {
    expect(bytesOf('times 3 db 7')).toBe('070707');
    expect(bytesOf('times 2 nop')).toBe('9090');
    expect(bytesOf('db 1\ntimes 4-($-$$) db 0')).toBe('01000000');
    expect(errorsOf('times -1 db 0')).toEqual(['1:7: times count is negative (-1)']);
  });

  it('align pads with NOP in code and zero in data', () => {
    expect(bytesOf('nop\nalign 4\nnop')).toBe('9090909090');
    expect(bytesOf('section .data\ndb 1\nalign 4\ndb 2')).toBe('0100000002');
    expect(errorsOf('align 3')).toEqual(['1:7: align needs a power of two, not 3']);
  });

  it('equ and %define give constants; equ may refer forward', () => {
    expect(bytesOf('mov eax, A\nA equ B + 1\nB equ 4')).toBe('b805000000');
    expect(bytesOf('%define COUNT 3\n%define TWICE (COUNT*2)\ndb TWICE')).toBe('06');
    expect(errorsOf('A equ A + 1')[0]).toMatch(/'A' is defined in terms of itself/);
  });

  it('%include reads relative files through options.readFile', () => {
    const files: Record<string, string> = { 'src/inc/defs.fred': 'VALUE equ 0x42\n%include "../more.fred"', 'src/more.fred': 'db VALUE' };
    const r = asm('%include "inc/defs.fred"\ndb VALUE + 1', { fileName: 'src/main.fred', readFile: (p) => files[p] });
    expect(r.diagnostics).toEqual([]);
    expect(Buffer.from(r.image.sections[0].bytes).toString('hex')).toBe('4243');
    expect(r.sourceMap.addressToLocation(0x100000n)).toMatchObject({ file: 'src/more.fred', line: 1 });
    expect(errorsOf('%include "nope.fred"', { readFile: () => undefined })[0]).toMatch(/^1:10: cannot read include file 'nope.fred'/);
    expect(errorsOf('%include "self.fred"', { fileName: 'self.fred', readFile: () => '%include "self.fred"' }).some((e) => /nested more than/.test(e))).toBe(true);
  });

  it('accepts segment, global, alignb, %assign and %undef', () => {
    expect(bytesOf('global _start\nsegment .text\n_start: nop')).toBe('90');
    expect(bytesOf('%assign N 2*3\ndb N\n%define X 1\n%undef X\nX equ 9\ndb X')).toBe('0609');
    const r = asm('section .data\ndb 1\nalignb 8\ndb 2');
    expect(Buffer.from(r.image.sections[0].bytes).toString('hex')).toBe('010000000000000002');
    expect(errorsOf('%macro foo 0')[0]).toMatch(/unsupported preprocessor directive '%macro'/);
  });

  it('repeats relative instructions with their own displacement each time', () => {
    expect(bytesOf('x: times 2 lea rax, [rel x]')).toBe('488d05f9ffffff' + '488d05f2ffffff');
  });

  it('bits 64 is accepted, other modes are errors', () => {
    expect(errorsOf('bits 64')).toEqual([]);
    expect(errorsOf('bits 32')).toEqual(['1:6: only bits 64 is supported (the guest runs in 64-bit mode)']);
  });
});

describe('sections and layout', () => {
  it('places sections page-aligned after org, in order of appearance, with attributes', () => {
    const r = asm('org 0x200000\nsection .text\nnop\nsection .data\ndb 1\nsection .bss\nresb 16\nsection .user_text user\nret');
    const s = r.image.sections;
    expect(s.map((x) => [x.name, x.address, x.size, x.user, x.writable, x.executable])).toEqual([
      ['.text', 0x200000n, 1, false, false, true],
      ['.data', 0x201000n, 1, false, true, false],
      ['.bss', 0x202000n, 16, false, true, false],
      ['.user_text', 0x203000n, 1, true, false, true],
    ]);
    expect(s[2].bytes.length).toBe(0);
    expect(r.image.entry).toBe(0x200000n);
  });

  it('honours start= and reports overlapping sections', () => {
    const r = asm('section .text\nnop\nsection .high start=0x400000 user\nret');
    expect(r.image.sections[1]).toMatchObject({ address: 0x400000n, user: true });
    expect(errorsOf('section .a\ntimes 16 nop\nsection .b start=0x100008\nnop')[0]).toMatch(/section '.b' at 0x100008 overlaps section '.a'/);
  });

  it('enters at _start when defined, else at the first byte', () => {
    expect(asm('nop\n_start: ret').image.entry).toBe(0x100001n);
    expect(asm('nop', { org: 0x5000n }).image.entry).toBe(0x5000n);
  });

  it('scopes local labels to the previous global label', () => {
    const r = asm('a:\n.l: jmp .l\nb:\n.l: jmp .l\njmp a.l');
    expect(r.diagnostics).toEqual([]);
    expect(r.image.symbols.get('a.l')).toBe(0x100000n);
    expect(r.image.symbols.get('b.l')).toBe(0x100002n);
    expect(Buffer.from(r.image.sections[0].bytes).toString('hex')).toBe('ebfeebfeebfa');
  });

  it('relaxes branches: rel8 when in range, rel32 otherwise, and loop has only rel8', () => {
    expect(bytesOf('jmp x\nx: nop')).toBe('eb0090');
    expect(bytesOf('jne x\ntimes 127 nop\nx:')).toBe('757f' + '90'.repeat(127));
    expect(bytesOf('jne x\ntimes 128 nop\nx:')).toBe('0f8580000000' + '90'.repeat(128));
    expect(bytesOf('x: times 126 nop\njmp x')).toBe('90'.repeat(126) + 'eb80');
    expect(bytesOf('call x\nx:')).toBe('e800000000');
    expect(bytesOf('jmp near x\nx:')).toBe('e900000000');
    expect(errorsOf('loop x\ntimes 200 nop\nx:')[0]).toMatch(/^1:6: branch target 0x1000ca is out of range of 'loop'/);
  });

  it('reports duplicate labels, reserved names and unknown instructions', () => {
    expect(errorsOf('a: nop\na: nop')).toEqual(["2:1: 'a' is already defined at input.fred:1"]);
    expect(errorsOf('rax: nop')).toEqual(["1:1: 'rax' is a register name and cannot be a label"]);
    expect(errorsOf('  frobnicate rax')).toEqual(["1:3: unknown instruction 'frobnicate'"]);
  });

  it('reports every error of a file with its line and column, and still assembles the rest', () => {
    const source = ['nop', 'mov rax, undefined_thing', 'add eax, [rbx', 'db 300', 'mov al, 0x1ff', 'jmp', 'inc [rax]', 'ret'].join('\n');
    const r = asm(source);
    expect(r.diagnostics.map((d) => `${d.line}:${d.column}-${d.endColumn}: ${d.message}`)).toEqual([
      "2:10-25: undefined symbol 'undefined_thing'",
      "3:14-15: expected ']'",
      '4:4-7: value 0x12c does not fit in 8 bits',
      '5:9-14: value 0x1ff does not fit in a 8-bit immediate',
      "6:1-4: 'jmp' takes 1 operand, not 0",
      "7:5-10: operation size not specified for 'inc': write byte, word, dword or qword before the memory operand",
    ]);
    expect(r.ok).toBe(false);
  });
});

describe('source map and listing', () => {
  const source = 'bits 64\n_start:\n  mov eax, 1\n  ret\nsection .data\nmsg: db "hi", 0';
  const r = asm(source, { fileName: 'p.fred' });

  it('maps addresses to lines and lines to addresses', () => {
    expect(r.sourceMap.addressToLocation(0x100000n)).toMatchObject({ file: 'p.fred', line: 3, column: 3, size: 5 });
    expect(r.sourceMap.addressToLocation(0x100005n)).toMatchObject({ line: 4 });
    expect(r.sourceMap.addressToLocation(0x100006n)).toBeUndefined();
    expect(r.sourceMap.locationToAddresses('p.fred', 4)).toEqual([0x100005n]);
    expect(r.sourceMap.locationToAddresses('p.fred', 6)).toEqual([0x101000n]);
    expect(r.sourceMap.locationToAddresses('p.fred', 1)).toEqual([]);
  });

  it('lists address, bytes and source for every line', () => {
    const lines = r.listing.split('\n');
    expect(lines[2]).toMatch(/^\s+3 0000000000100000 B801000000\s+ mov eax, 1$/);
    expect(lines[3]).toMatch(/^\s+4 0000000000100005 C3\s+ ret$/);
    expect(lines[0]).toMatch(/^\s+1\s+bits 64$/);
  });
});
