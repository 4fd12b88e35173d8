import { describe, expect, it } from 'vitest';
import { INSTRUCTION_DOCS, instructionDoc } from '../../src/arch/instructionDocs';
import { allMnemonics } from '../../src/asm/index';

describe('instruction docs', () => {
  it('documents the FRED instructions with their encodings and reference sections', () => {
    expect(instructionDoc('ERETS')?.forms).toContain('F2 0F 01 CA');
    expect(instructionDoc('eretu')?.forms).toContain('F3 0F 01 CA');
    expect(instructionDoc('lkgs')?.reference).toContain('§5.1');
  });

  it('documents only mnemonics the assembler accepts', () => {
    const known = new Set(allMnemonics().map((m) => m.toLowerCase()));
    const unknown = Object.keys(INSTRUCTION_DOCS).filter((m) => !known.has(m));
    expect(unknown).toEqual([]);
  });
});
