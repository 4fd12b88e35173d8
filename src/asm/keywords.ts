// The words that start a statement (directives, data and reserve units, prefixes), shared by the
// general parser and its fast path (lineScanner.ts).
import { RepPrefixKind } from './iced';

export const DATA_UNITS: ReadonlyMap<string, number> = new Map([['db', 1], ['dw', 2], ['dd', 4], ['dq', 8]]);
export const RES_UNITS: ReadonlyMap<string, number> = new Map([['resb', 1], ['resw', 2], ['resd', 4], ['resq', 8]]);
export const DIRECTIVES: ReadonlySet<string> = new Set(['section', 'segment', 'org', 'bits', 'align', 'alignb', 'default', 'global', 'equ', 'times', 'use64', 'cpu', 'extern']);

export interface PrefixWord {
  readonly lock?: boolean;
  readonly rep?: RepPrefixKind;
  readonly operandSize?: number;
}
const PREFIX_LIST: Record<string, PrefixWord> = {
  lock: { lock: true },
  rep: { rep: RepPrefixKind.Repe },
  repe: { rep: RepPrefixKind.Repe },
  repz: { rep: RepPrefixKind.Repe },
  repne: { rep: RepPrefixKind.Repne },
  repnz: { rep: RepPrefixKind.Repne },
  o16: { operandSize: 16 },
  o32: { operandSize: 32 },
  o64: { operandSize: 64 },
};
export const PREFIXES: ReadonlyMap<string, PrefixWord> = new Map(Object.entries(PREFIX_LIST));
