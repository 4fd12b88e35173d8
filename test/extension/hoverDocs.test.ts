// Hover texts: words under the cursor, MSR/VMCS/constant facts from src/arch, instruction docs, numbers.
import { describe, expect, it } from 'vitest';
import { assemblerConstantDocs, assemblerConstants, msrByName, VMCS_FIELDS } from '../../src/arch/index';
import { hoverMarkdown, numberHover, wordAt } from '../../src/extension/hoverDocs';

const at = (line: string, text: string) => hoverMarkdown(line, line.indexOf(text) + 1);

describe('wordAt', () => {
  it('finds labels with dots, numbers and nothing inside comments or strings', () => {
    expect(wordAt('        jmp .next', 14)).toEqual({ text: '.next', start: 12, end: 17 });
    expect(wordAt('_start.loop: dec rcx', 3)?.text).toBe('_start.loop');
    expect(wordAt('mov rax, 0x1F', 11)?.text).toBe('0x1F');
    expect(wordAt('nop ; erets here', 8)).toBeUndefined();
    expect(wordAt('db "erets", 0', 5)).toBeUndefined();
    expect(wordAt('mov rax, 1', 3)).toBeUndefined();
  });
});

describe('hoverMarkdown', () => {
  it('shows an MSR with its index and field layout', () => {
    const md = at('mov ecx, IA32_FRED_CONFIG', 'IA32_FRED_CONFIG')!.markdown;
    expect(md).toContain('MSR 0x1D4');
    expect(md).toContain(msrByName('IA32_FRED_CONFIG')!.doc);
    expect(md).toMatch(/\| 1:0 \| CSL \|/);
    expect(md).toMatch(/\| 63:12 \| ENTRYPOINT \|/);
  });

  it('shows a VMCS field with encoding, width and group', () => {
    const rip = VMCS_FIELDS.find((f) => f.name === 'GUEST_RIP')!;
    const md = at('mov rdx, GUEST_RIP', 'GUEST_RIP')!.markdown;
    expect(md).toContain(`VMCS field 0x${rip.encoding.toString(16).toUpperCase()}`);
    expect(md).toContain('natural width');
    expect(md).toContain('Guest-state area');
    const fred = at('mov rdx, INJECTED_EVENT_DATA', 'INJECTED_EVENT_DATA')!.markdown;
    expect(fred).toContain('(FRED)');
    expect(fred).toContain('64-bit');
    const holder = VMCS_FIELDS.find((f) => f.msr !== undefined)!;
    expect(at(`mov rdx, ${holder.name}`, holder.name)!.markdown).toContain(`Holds the MSR ${holder.msr}.`);
  });

  it('shows the high half of a 64-bit VMCS field at encoding + 1', () => {
    const pat = VMCS_FIELDS.find((f) => f.name === 'GUEST_IA32_PAT')!;
    const md = at('mov rdx, GUEST_IA32_PAT_HIGH', 'GUEST_IA32_PAT_HIGH')!.markdown;
    expect(md).toContain(`0x${(pat.encoding + 1).toString(16).toUpperCase()}`);
    expect(md).toContain('high 32 bits');
  });

  it('shows other constants with their value and src/arch doc', () => {
    for (const name of ['X86_TRAP_PF', 'CR4_FRED_BIT', 'EXIT_REASON_CPUID', 'FRED_FRAME_EVENT_DATA']) {
      const md = at(`mov eax, ${name}`, name)!.markdown;
      const value = assemblerConstants.get(name)!;
      expect(md).toContain(`= 0x${value.toString(16).toUpperCase()} (${value})`);
      expect(md).toContain(assemblerConstantDocs.get(name));
    }
  });

  it('shows an MSR alias under the name used, with the other name', () => {
    const md = at('mov ecx, IA32_FRED_SSP0', 'IA32_FRED_SSP0')!.markdown;
    expect(md).toContain(`**IA32_FRED_SSP0** — MSR 0x${msrByName('IA32_PL0_SSP')!.index.toString(16).toUpperCase()}`);
    expect(md).toContain('Also named IA32_PL0_SSP');
  });

  it('documents FRED and VMX instructions, case-insensitively', () => {
    expect(at('        ERETU', 'ERETU')!.markdown).toContain('F3 0F 01 CA');
    expect(at('        erets', 'erets')!.markdown).toContain('Event return to supervisor');
    expect(at('        lkgs ax', 'lkgs')!.markdown).toContain('IA32_KERNEL_GS_BASE');
    for (const m of ['vmxon', 'vmlaunch', 'vmresume', 'vmread', 'vmwrite', 'invept', 'vmfunc', 'wrmsrns']) {
      expect(at(`  ${m}`, m), m).toBeDefined();
    }
    expect(at('mov rax, rbx', 'mov')).toBeUndefined();
    expect(at('call my_label', 'my_label')).toBeUndefined();
  });
});

describe('numberHover', () => {
  it('shows hex, decimal and binary in the assembler syntax', () => {
    expect(numberHover('0x1F')).toContain('dec `31`');
    expect(numberHover('1Fh')).toContain('bin `0b0001_1111`');
    expect(numberHover('0b101')).toContain('hex `0x5`');
    expect(numberHover('17q')).toContain('dec `15`');
    expect(numberHover('0xFFFFFFFFFFFFFFFF')).toContain('signed 64-bit `-1`');
    expect(numberHover('1234')).not.toContain('signed');
  });

  it('says nothing for what the assembler rejects', () => {
    expect(numberHover('0x')).toBeUndefined();
    expect(numberHover('12z')).toBeUndefined();
    expect(numberHover('0x1_0000_0000_0000_0000')).toBeUndefined();
  });
});
