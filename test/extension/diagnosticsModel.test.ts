// Assembler diagnostics → per-file 0-based ranges for VS Code.
import { describe, expect, it } from 'vitest';
import type { Diagnostic } from '../../src/asm/types';
import { DiagnosticLedger, diagnosticsByFile, problemSummary } from '../../src/extension/diagnosticsModel';

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

describe('DiagnosticLedger', () => {
  const d = (message: string) => ({ severity: 'error' as const, message, startLine: 0, startColumn: 0, endLine: 0, endColumn: 1 });

  it('shows the union of what every open program reports on a shared include, without duplicates', () => {
    const ledger = new DiagnosticLedger();
    ledger.set('main', new Map([['main', []], ['lib', [d('bad op')]]]));
    const affected = ledger.set('lib', new Map([['lib', [d('bad op'), d('undefined symbol')]]]));
    expect([...affected]).toEqual(['lib']);
    expect(ledger.get('lib').map((x) => x.message)).toEqual(['bad op', 'undefined symbol']);
  });

  it('keeps a file\'s own diagnostics when a program including it closes', () => {
    const ledger = new DiagnosticLedger();
    ledger.set('main', new Map([['main', []], ['lib', [d('from main')]]]));
    ledger.set('lib', new Map([['lib', [d('own')]]]));
    expect([...ledger.remove('main')].sort()).toEqual(['lib', 'main']);
    expect(ledger.get('lib').map((x) => x.message)).toEqual(['own']);
    expect(ledger.get('main')).toEqual([]);
  });

  it('reports files that a fixed program no longer mentions, so their problems clear', () => {
    const ledger = new DiagnosticLedger();
    ledger.set('main', new Map([['main', []], ['lib', [d('x')]]]));
    expect([...ledger.set('main', new Map([['main', []]]))].sort()).toEqual(['lib', 'main']);
    expect(ledger.get('lib')).toEqual([]);
  });
});
