// Assembler diagnostics → per-file 0-based ranges for VS Code.
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/asm/types';
import { diagnosticsByFile, problemSummary } from '../../src/extension/diagnosticsModel';

const diag = (over: Partial<Diagnostic>): Diagnostic => ({
  severity: 'error', message: 'bad', file: '/w/main.fred', line: 3, column: 5, endLine: 3, endColumn: 9, ...over,
});

describe('diagnosticsByFile', () => {
  it('converts 1-based, end-exclusive positions to 0-based ranges', () => {
    const m = diagnosticsByFile([diag({})], '/w/main.fred');
    expect(m.get('/w/main.fred')).toEqual([
      { severity: 'error', message: 'bad', startLine: 2, startColumn: 4, endLine: 2, endColumn: 8 },
    ]);
  });

  it('puts errors of included files on those files and keeps an empty list for the root', () => {
    const m = diagnosticsByFile([diag({ file: '/w/lib.fred', message: 'in lib' })], '/w/main.fred');
    expect(m.get('/w/main.fred')).toEqual([]);
    expect(m.get('/w/lib.fred')?.map((d) => d.message)).toEqual(['in lib']);
  });

  it('widens an empty range to one character', () => {
    const [d] = diagnosticsByFile([diag({ column: 7, endColumn: 7 })], '/w/main.fred').get('/w/main.fred')!;
    expect([d.startColumn, d.endColumn]).toEqual([6, 7]);
  });

  it('keeps multi-line ranges', () => {
    const [d] = diagnosticsByFile([diag({ line: 2, column: 1, endLine: 4, endColumn: 1 })], '/w/main.fred').get('/w/main.fred')!;
    expect(d).toMatchObject({ startLine: 1, startColumn: 0, endLine: 3, endColumn: 0 });
  });
});

describe('problemSummary', () => {
  it('counts errors and warnings', () => {
    expect(problemSummary([])).toBe('no problems');
    expect(problemSummary([diag({}), diag({}), diag({ severity: 'warning' })])).toBe('2 errors, 1 warning');
    expect(problemSummary([diag({ severity: 'info' })])).toBe('no problems');
  });
});
