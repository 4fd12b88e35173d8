import { describe, expect, it } from 'vitest';
import {
  EXCEPTIONS, doubleFaultOutcome, exceptionByMnemonic, exceptionByVector, exceptionClassOf, exceptionHasErrorCode,
} from '../../src/arch/index';

describe('exception table', () => {
  it('has vectors 0–31 in order', () => {
    expect(EXCEPTIONS.map((e) => e.vector)).toEqual(Array.from({ length: 32 }, (_, i) => i));
  });

  it.each([
    [0, '#DE'], [1, '#DB'], [2, 'NMI'], [3, '#BP'], [4, '#OF'], [5, '#BR'], [6, '#UD'], [7, '#NM'], [8, '#DF'],
    [10, '#TS'], [11, '#NP'], [12, '#SS'], [13, '#GP'], [14, '#PF'], [16, '#MF'], [17, '#AC'], [18, '#MC'],
    [19, '#XM'], [20, '#VE'], [21, '#CP'], [28, '#HV'], [29, '#VC'], [30, '#SX'],
  ])('vector %i is %s', (v, m) => {
    expect(exceptionByVector(v)!.mnemonic).toBe(m);
    expect(exceptionByMnemonic(m)!.vector).toBe(v);
    expect(exceptionByMnemonic(m.replace('#', '').toLowerCase())!.vector).toBe(v);
  });

  it('error-code vectors: #DF, #TS, #NP, #SS, #GP, #PF, #AC, #CP (+ AMD #VC, #SX)', () => {
    expect(EXCEPTIONS.filter((e) => e.errorCode).map((e) => e.vector)).toEqual([8, 10, 11, 12, 13, 14, 17, 21, 29, 30]);
    expect(exceptionHasErrorCode(14)).toBe(true);
    expect(exceptionHasErrorCode(3)).toBe(false);
    expect(exceptionHasErrorCode(0x80)).toBe(false);
  });

  it('classes (fred-architecture.md §3.9)', () => {
    const cls = (c: string) => EXCEPTIONS.filter((e) => e.class === c && e.vector < 28).map((e) => e.mnemonic);
    expect(cls('contributory')).toEqual(['#DE', '#TS', '#NP', '#SS', '#GP', '#CP']);
    expect(cls('pageFault')).toEqual(['#PF', '#VE']);
    expect(cls('doubleFault')).toEqual(['#DF']);
    expect(exceptionClassOf(0x20)).toBe('benign');
  });

  it('kinds', () => {
    expect(exceptionByVector(3)!.kind).toBe('trap');
    expect(exceptionByVector(14)!.kind).toBe('fault');
    expect(exceptionByVector(8)!.kind).toBe('abort');
    expect(exceptionByVector(18)!.kind).toBe('abort');
    expect(exceptionByVector(1)!.kind).toBe('faultOrTrap');
    expect(exceptionByVector(15)!.kind).toBe('reserved');
  });

  it('lookups outside the table', () => {
    expect(exceptionByVector(32)).toBeUndefined();
    expect(exceptionByVector(1.5)).toBeUndefined();
    expect(exceptionByMnemonic('#ZZ')).toBeUndefined();
  });
});

describe('double-fault table (SDM Table 6-5)', () => {
  const GP = 13, PF = 14, DE = 0, TS = 10, VE = 20, UD = 6, DB = 1, NMI = 2, DF = 8;
  it.each([
    [DE, GP, 'doubleFault'], [GP, TS, 'doubleFault'], [GP, PF, 'deliverSecond'], [GP, UD, 'deliverSecond'],
    [PF, PF, 'doubleFault'], [PF, GP, 'doubleFault'], [PF, VE, 'doubleFault'], [VE, PF, 'doubleFault'],
    [PF, UD, 'deliverSecond'], [UD, GP, 'deliverSecond'], [DB, PF, 'deliverSecond'], [NMI, GP, 'deliverSecond'],
    [0x30, GP, 'deliverSecond'], [0x30, PF, 'deliverSecond'],
    [DF, GP, 'shutdown'], [DF, PF, 'shutdown'], [DF, UD, 'shutdown'],
  ] as const)('%i then %i → %s', (a, b, r) => expect(doubleFaultOutcome(a, b)).toBe(r));
});
