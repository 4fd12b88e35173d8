// The generated TextMate grammar: the committed file is what the generator produces from iced-x86
// and src/arch (so it cannot drift), every pattern is valid, and sample lines get the right scopes.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assemblerConstants } from '../../../src/arch/index';
import { allMnemonics } from '../../../src/asm/index';
import { GRAMMAR_PATH, grammarText, instructionSet } from '../../../src/extension/grammar/buildGrammar';
import { compilePattern, MatchScanner, type Grammar } from './matchScanner';

const committed = readFileSync(GRAMMAR_PATH, 'utf8');
const grammar = JSON.parse(committed) as Grammar;
const scanner = new MatchScanner(grammar);
const scope = (line: string, text: string) => scanner.scopeOf(line, text);

describe('generated grammar', () => {
  it('is the committed file (run `node scripts/generate-grammar.mjs` after changing src/arch)', () => {
    // A boolean, not toBe(text): the diff of two 30 KB one-line regexes helps nobody.
    expect(committed === grammarText(), `${GRAMMAR_PATH} is stale`).toBe(true);
  });

  it('has the scope name package.json contributes', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    const contributed = pkg.contributes.grammars.find((g: { language: string }) => g.language === 'fred-asm');
    expect(contributed.scopeName).toBe(grammar.scopeName);
    expect(contributed.path).toBe(`./${GRAMMAR_PATH}`);
  });

  it('uses only regex syntax JavaScript compiles, with (?i) only as a prefix', () => {
    for (const entry of Object.values(grammar.repository)) {
      for (const rule of entry.patterns) {
        const match = (rule as { match: string }).match;
        expect(() => compilePattern(match)).not.toThrow();
        expect(match.slice(4)).not.toContain('(?i)');
      }
    }
  });
});

describe('instructions', () => {
  const set = instructionSet();
  const fredAndVmx = ['erets', 'eretu', 'lkgs', 'wrmsrns', 'vmxon', 'vmxoff', 'vmlaunch', 'vmresume', 'vmcall',
    'vmread', 'vmwrite', 'vmptrld', 'vmptrst', 'vmclear', 'invept', 'invvpid', 'vmfunc'];

  it.each(fredAndVmx)('%s is a system instruction', (m) => {
    expect(set.system).toContain(m);
    expect(scope(`        ${m}`, m)).toBe('keyword.control.instruction.system.fred-asm');
    expect(scope(`        ${m.toUpperCase()}`, m.toUpperCase())).toBe('keyword.control.instruction.system.fred-asm');
  });

  it('highlights exactly the mnemonics the assembler accepts, aliases included', () => {
    expect([...set.general, ...set.system].sort()).toEqual(allMnemonics());
    expect(set.general.filter((m) => set.system.includes(m))).toEqual([]);
    for (const m of ['mov', 'add', 'lea', 'jz', 'jnz', 'cmovnae', 'setz', 'movsxd', 'cqo']) expect(set.general).toContain(m);
    for (const m of ['syscall', 'sysret', 'swapgs', 'iretq', 'int3', 'icebp', 'hlt', 'wrmsr', 'rdmsr', 'lidt']) {
      expect(set.system).toContain(m);
    }
    expect(scanner.tokenize('        jecxz .out').every((t) => t.scope === undefined)).toBe(true);
  });

  it('scopes mnemonics, registers and prefixes', () => {
    const line = '        lock cmpxchg [rdi + 8], r8d';
    expect(scope(line, 'lock')).toBe('keyword.other.prefix.fred-asm');
    expect(scope(line, 'cmpxchg')).toBe('keyword.other.instruction.fred-asm');
    expect(scope(line, 'rdi')).toBe('variable.other.register.general.fred-asm');
    expect(scope(line, 'r8d')).toBe('variable.other.register.general.fred-asm');
    expect(scope('mov rax, cr4', 'cr4')).toBe('variable.other.register.control.fred-asm');
    expect(scope('mov dr7, rax', 'dr7')).toBe('variable.other.register.debug.fred-asm');
    expect(scope('mov ss, ax', 'ss')).toBe('variable.other.register.segment.fred-asm');
    expect(scope('lea rsi, [rel message]', 'rel')).toBe('storage.modifier.size.fred-asm');
    expect(scope('MOV QWORD [RSP], 0', 'QWORD')).toBe('storage.modifier.size.fred-asm');
  });

  it('does not take a local label or an identifier part for a mnemonic', () => {
    const tokens = scanner.tokenize('        loop .loop');
    expect(tokens.filter((t) => t.text.trim()).map((t) => [t.text.trim(), t.scope])).toEqual([
      ['loop', 'keyword.other.instruction.fred-asm'], ['.loop', undefined],
    ]);
    expect(scanner.tokenize('call add_one').find((t) => t.text === 'add')).toBeUndefined();
  });
});

describe('labels, directives and literals', () => {
  it('scopes label definitions, global and local', () => {
    expect(scope('_start:', '_start')).toBe('entity.name.function.label.fred-asm');
    expect(scope('.next:', '.next')).toBe('entity.name.function.label.local.fred-asm');
    expect(scope('  _start.loop: dec rcx', 'dec')).toBe('keyword.other.instruction.fred-asm');
  });

  it('scopes directives and the preprocessor', () => {
    expect(scope('COM1 equ 0x3F8', 'COM1')).toBe('variable.other.constant.definition.fred-asm');
    expect(scope('COM1 equ 0x3F8', 'equ')).toBe('keyword.control.directive.fred-asm');
    expect(scope('section .data', 'section')).toBe('keyword.control.directive.fred-asm');
    expect(scope('section .data', '.data')).toBe('entity.name.namespace.section.fred-asm');
    for (const d of ['org 0x100000', 'bits 64', 'align 4096', 'times 16 db 0']) {
      expect(scope(d, d.split(' ')[0])).toBe('keyword.control.directive.fred-asm');
    }
    for (const d of ['db', 'dw', 'dd', 'dq', 'resb', 'resq']) expect(scope(`${d} 1`, d)).toBe('storage.type.data.fred-asm');
    expect(scope('%define STACK_SIZE 4096', '%define')).toBe('keyword.control.directive.preprocessor.fred-asm');
    expect(scope('%define STACK_SIZE 4096', 'STACK_SIZE')).toBe('entity.name.function.preprocessor.fred-asm');
    expect(scope('%include "lib.fred"', '%include')).toBe('keyword.control.directive.preprocessor.fred-asm');
    expect(scope('%include "lib.fred"', '"lib.fred"')).toBe('string.quoted.double.fred-asm');
    expect(scope('times 256 - ($ - entry) db 0', '$')).toBe('variable.language.location.fred-asm');
  });

  it.each([
    ['0x1F', 'hex'], ['0X1f', 'hex'], ['1Fh', 'hex'], ['0FFFF_0000h', 'hex'], ['0b101', 'binary'], ['101b', 'binary'],
    ['0o17', 'octal'], ['17q', 'octal'], ['42', 'decimal'], ['0d99', 'decimal'], ['1_000', 'decimal'],
  ])('scopes the number %s as %s', (n, kind) => {
    expect(scope(`mov rax, ${n}`, n)).toBe(`constant.numeric.${kind}.fred-asm`);
  });

  it('scopes strings, character literals and comments', () => {
    expect(scope('db "Hello; not a comment", 10', '"Hello; not a comment"')).toBe('string.quoted.double.fred-asm');
    expect(scope("cmp al, 'a'", "'a'")).toBe('constant.character.literal.fred-asm');
    expect(scope("db 'ab'", "'ab'")).toBe('string.quoted.single.fred-asm');
    expect(scope('db `tab\\t`', '`tab\\t`')).toBe('string.quoted.other.backtick.fred-asm');
    const tokens = scanner.tokenize('out 0xF4, al        ; debug exit: mov rax, 1');
    const fromComment = tokens.slice(tokens.findIndex((t) => t.text === ';'));
    expect(fromComment.map((t) => t.text).join('')).toBe('; debug exit: mov rax, 1');
    expect(fromComment.every((t) => t.scope?.startsWith('comment.line.semicolon.fred-asm'))).toBe(true);
  });
});

describe('built-in constants from src/arch', () => {
  it('scopes MSRs, VMCS fields and other constants, case-sensitively like the assembler', () => {
    expect(scope('mov ecx, IA32_FRED_CONFIG', 'IA32_FRED_CONFIG')).toBe('variable.other.constant.msr.fred-asm');
    expect(scope('mov ecx, IA32_STAR', 'IA32_STAR')).toBe('variable.other.constant.msr.fred-asm');
    expect(scope('mov ecx, IA32_FRED_SSP0', 'IA32_FRED_SSP0')).toBe('variable.other.constant.msr.fred-asm');
    expect(scope('mov rax, GUEST_RIP', 'GUEST_RIP')).toBe('variable.other.constant.vmcs.fred-asm');
    expect(scope('mov rax, INJECTED_EVENT_DATA', 'INJECTED_EVENT_DATA')).toBe('variable.other.constant.vmcs.fred-asm');
    expect(scope('bts rax, CR4_FRED_BIT', 'CR4_FRED_BIT')).toBe('variable.other.constant.arch.fred-asm');
    expect(scope('mov ecx, ia32_fred_config', 'ia32_fred_config')).toBeUndefined();
  });

  it('gives every assembler constant exactly one constant scope', () => {
    const lines = [...assemblerConstants.keys()].map((name) => ({ name, tokens: scanner.tokenize(`dq ${name}`) }));
    const wrong = lines.filter(({ name, tokens }) => {
      const t = tokens.find((x) => x.text === name);
      return !t || !/^variable\.other\.constant\.(msr|vmcs|arch)\.fred-asm$/.test(t.scope ?? '');
    });
    expect(wrong.map((w) => w.name)).toEqual([]);
  });
});
