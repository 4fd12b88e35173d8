import { describe, expect, it } from 'vitest';
import {
  CR_ACCESS_QUALIFICATION, EPT_VIOLATION_QUALIFICATION, EXIT_REASONS, EXIT_REASON_ENTRY_FAILURE, IO_QUALIFICATION,
  MOV_DR_QUALIFICATION, assemblerConstants, decodeFields, exitQualificationLayout, exitReasonInfo,
} from '../../src/arch/index';

describe('exit reasons', () => {
  it('unique numbers and names', () => {
    expect(new Set(EXIT_REASONS.map((r) => r.reason)).size).toBe(EXIT_REASONS.length);
    expect(new Set(EXIT_REASONS.map((r) => r.short)).size).toBe(EXIT_REASONS.length);
  });

  it('looks up the basic reason of a full exit-reason value', () => {
    expect(exitReasonInfo(10)?.short).toBe('CPUID');
    expect(exitReasonInfo(EXIT_REASON_ENTRY_FAILURE | 33)?.short).toBe('INVALID_STATE');
    expect(exitReasonInfo(35)).toBeUndefined();
  });

  it('entry-failure reasons are 33, 34, 41', () => {
    expect(EXIT_REASONS.filter((r) => r.entryFailure).map((r) => r.reason)).toEqual([33, 34, 41]);
  });
});

describe('exit qualifications', () => {
  const reason = (n: string) => Number(assemblerConstants.get(`EXIT_REASON_${n}`));
  it('layout by exit reason', () => {
    expect(exitQualificationLayout(reason('CR_ACCESS'))).toBe(CR_ACCESS_QUALIFICATION);
    expect(exitQualificationLayout(reason('DR_ACCESS'))).toBe(MOV_DR_QUALIFICATION);
    expect(exitQualificationLayout(reason('IO_INSTRUCTION'))).toBe(IO_QUALIFICATION);
    expect(exitQualificationLayout(reason('EPT_VIOLATION'))).toBe(EPT_VIOLATION_QUALIFICATION);
    expect(exitQualificationLayout(reason('CPUID'))).toBeUndefined();
  });

  it('decodes MOV CR4, RAX and OUT 0xF4, AL', () => {
    expect(decodeFields(CR_ACCESS_QUALIFICATION, 0x004n)).toMatchObject({ cr: 4n, accessType: 0n, gpr: 0n });
    expect(decodeFields(CR_ACCESS_QUALIFICATION, 0x318n)).toMatchObject({ cr: 8n, accessType: 1n, gpr: 3n });
    expect(decodeFields(IO_QUALIFICATION, 0x00f4_0040n)).toMatchObject({ size: 0n, direction: 0n, immediate: 1n, port: 0xf4n });
  });
});
