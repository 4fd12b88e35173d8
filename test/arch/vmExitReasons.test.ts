import { describe, expect, it } from 'vitest';
import { EXIT_REASONS, EXIT_REASON_ENTRY_FAILURE, exitReasonInfo } from '../../src/arch/index';

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
