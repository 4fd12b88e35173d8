// Pins src/arch's numbers against the shared reference notes (vmx-fred.md, fred-architecture.md):
// every table or list of numbers there is parsed and compared with ours.
import { describe, expect, it } from 'vitest';
import {
  ACCESS_RIGHTS_FIELDS, ACCESS_RIGHTS_RESERVED_MASK, ACTIVITY_STATES, CONTROL_FIELD_LAYOUTS, CR_ACCESS_QUALIFICATION,
  ENTRY_INTR_INFO_FIELDS, EPT_VIOLATION_QUALIFICATION, EVENT_TYPES, EXIT_INTR_INFO_FIELDS, EXIT_REASON_FIELDS,
  EXIT_REASONS, FRED_CONFIG_FIELDS, FRED_CS_WORD_FIELDS, FRED_FRAME_SLOTS, FRED_SS_WORD_FIELDS,
  IDT_VECTORING_INFO_FIELDS, INTERRUPTIBILITY_FIELDS, IO_QUALIFICATION, MOV_DR_QUALIFICATION, VMCS_FIELDS,
  VMCS_GROUP_TYPE, assemblerConstants, layoutMask, msrByName, vmcsFieldByEncoding, type BitLayout, type MsrDef,
  type VmcsType,
} from '../../src/arch/index';
import { expandEncodings, readReference, section, tableRows, tokens } from './referenceDocs';

const vmx = readReference('vmx-fred.md');
const fred = readReference('fred-architecture.md');

const STOP = new Set(['guest', 'host', 'vm', 'field', 'fields', 'of', 'the', 'address', 'a', 'b', 'i', 'o', 'values', 'ia32', 'ia']);
// "PDPTE0..3" must match "Guest PDPTE1": also keep each longer token without its trailing index.
const words = (s: string): Set<string> =>
  new Set([...tokens(s)].flatMap((t) => (t.length > 3 ? [t, t.replace(/\d+$/, '')] : [t])).filter((t) => !STOP.has(t)));
const sharesWord = (a: string, b: string): boolean => [...words(a)].some((w) => words(b).has(w));

/** Ranges `hi:lo` or `n` as [lsb, width]. */
function range(text: string): [number, number] {
  const m = /^(\d+)(?::(\d+))?$/.exec(text.trim());
  if (!m) throw new Error(`not a bit range: '${text}'`);
  const hi = Number(m[1]);
  const lo = m[2] === undefined ? hi : Number(m[2]);
  return [lo, hi - lo + 1];
}
const rangesOf = (layout: BitLayout): string[] => layout.map((f) => `${f.lsb}/${f.width}`).sort();

/** "bits 3:0 x, 5:4 y, 3/4/5 z" → the bit ranges mentioned, in order. */
function listedRanges(text: string): [number, number][] {
  const out: [number, number][] = [];
  const clean = text.replace(/\([^)]*\)/g, '').replace(/\*\*/g, '');
  for (const item of clean.split(/[,;]\s*/)) {
    const m = /^\s*(?:bits? )?(\d+(?::\d+)?(?:\/\d+)*)\s+\S/.exec(item);
    if (!m) continue;
    for (const part of m[1]!.split('/')) out.push(range(part));
  }
  return out;
}

/** Resolve an MSR name from a reference table cell, allowing a dropped common prefix (`CSTAR`). */
function resolveMsr(name: string): MsrDef | undefined {
  return msrByName(name) ?? msrByName(`IA32_VMX_${name}`);
}

describe('vmx-fred.md §1.2: the 19 FRED VMCS fields', () => {
  const rows = tableRows(section(vmx, '1.2'));
  const CLASS: Record<string, VmcsType> = { control: 'control', 'read-only': 'exitInformation', guest: 'guestState', host: 'hostState' };

  it('lists 19 fields and we mark exactly those as FRED fields', () => {
    expect(rows).toHaveLength(19);
    expect(VMCS_FIELDS.filter((f) => f.fred).map((f) => f.title.toLowerCase()).sort())
      .toEqual(rows.map((r) => r[0]!.toLowerCase()).sort());
  });

  it.each(rows.map((r) => [r[0]!, r[1]!, r[2]!] as const))('%s = %s (%s)', (title, enc, cls) => {
    const [encoding, high] = expandEncodings(enc.replace(/\(high (\w+)\)|\((\w+)\)/, '/$1$2'));
    const f = VMCS_FIELDS.find((x) => x.title.toLowerCase() === title.toLowerCase());
    expect(f, title).toBeDefined();
    expect(f!.encoding).toBe(encoding);
    if (high !== undefined) expect(vmcsFieldByEncoding(high)).toEqual({ field: f, high: true });
    expect(f!.width).toBe('64');
    const kind = Object.keys(CLASS).find((k) => cls.includes(k))!;
    expect(f!.type).toBe(CLASS[kind]);
  });
});

describe('vmx-fred.md §3.2–§3.5: generic VMCS field encodings', () => {
  /** (reference name, encodings) pairs of a section: from its tables or its `name enc; …` prose. */
  function pairs(num: string): [string, number[]][] {
    const text = section(vmx, num);
    const out: [string, number[]][] = [];
    for (const row of tableRows(text)) {
      for (let i = 0; i + 1 < row.length; i += 2) if (row[i]) out.push([row[i]!, expandEncodings(row[i + 1]!)]);
    }
    if (out.length > 0) return out;
    const prose = text.split('\n\n').map((p) => p.replace(/\n/g, ' ').trim()).find((p) => /;/.test(p))!;
    for (const piece of prose.replace(/\([^)]*\)/g, '').replace(/\.\s*$/, '').split(';')) {
      const m = /^(.*\S)\s+([0-9A-F]{3,4}(?:\/[0-9A-F]{3,4})*)$/.exec(piece.trim());
      if (m) out.push([m[1]!, expandEncodings(m[2]!)]);
    }
    return out;
  }

  const sections: [string, VmcsType][] = [['3.2', 'guestState'], ['3.3', 'hostState'], ['3.4', 'control'], ['3.5', 'exitInformation']];
  for (const [num, type] of sections) {
    const list = pairs(num);
    it(`§${num} lists fields`, () => expect(list.length).toBeGreaterThan(5));
    it.each(list.map(([n, e]) => [n, e.map((x) => x.toString(16)).join(','), e] as const))(
      `§${num}: %s = %s`, (name, _hex, encodings) => {
        for (const e of encodings) {
          const ref = vmcsFieldByEncoding(e);
          expect(ref, `encoding 0x${e.toString(16)} (${name})`).toBeDefined();
          expect(ref!.high).toBe(false);
          expect(ref!.field.type).toBe(type);
          expect(VMCS_GROUP_TYPE[ref!.field.group]).toBe(type);
          expect(sharesWord(name, `${ref!.field.title} ${ref!.field.name}`), `${name} vs ${ref!.field.title}`).toBe(true);
        }
        expect(new Set(encodings).size).toBe(encodings.length);
      });
  }
});

describe('vmx-fred.md §1.3 and §3.4: control bits', () => {
  it('§1.3 FRED control bits have the reference positions, masks and KVM names', () => {
    const rows = tableRows(section(vmx, '1.3')).filter((r) => /^\d+$/.test(r[2]!));
    expect(rows.length).toBe(4);
    for (const [control, fieldCell, bitCell, maskCell] of rows) {
      const enc = parseInt(/\(([0-9A-F]+)\)|^([0-9A-F]+)$/.exec(fieldCell!)!.slice(1).find((x) => x)!, 16);
      const field = vmcsFieldByEncoding(enc)!.field;
      const layout = CONTROL_FIELD_LAYOUTS.find((c) => c.field === field.name)!;
      const b = layout.bits.find((x) => x.lsb === Number(bitCell));
      expect(b, control).toBeDefined();
      expect(1n << BigInt(bitCell!)).toBe(BigInt(`0x${maskCell}`));
      const kvm = /\((?:KVM: )?([A-Z0-9_]+)\)/.exec(control!)?.[1];
      if (kvm) expect(assemblerConstants.get(kvm)).toBe(BigInt(`0x${maskCell}`));
    }
  });

  const bullets = section(vmx, '3.4').split('\n* ').slice(1).map((b) => b.replace(/\n\s*/g, ' '));
  it('§3.4 has the five control bullets', () => expect(bullets).toHaveLength(5));
  it.each(bullets.map((b) => [b.slice(0, 40), b] as const))('§3.4 %s…', (_title, bullet) => {
    const enc = parseInt(/\(([0-9A-F]{4})\)/.exec(bullet)![1]!, 16);
    const layout = CONTROL_FIELD_LAYOUTS.find((c) => c.field === vmcsFieldByEncoding(enc)!.field.name)!;
    const [list, defaults] = bullet.slice(bullet.indexOf(':') + 1).split(';');
    const refBits = listedRanges(list!).map(([lsb]) => lsb).sort((a, b) => a - b);
    expect(layout.bits.map((b) => b.lsb).sort((a, b) => a - b)).toEqual(refBits);
    const d = /default-1 (?:mask ([0-9A-F]+)|bits [\d,]+ \((0x[0-9a-f]+)\))/.exec(defaults ?? '');
    expect(layout.default1).toBe(d ? BigInt(d[1] ? `0x${d[1]}` : d[2]!) : 0n);
  });
});

describe('vmx-fred.md §3.2, §3.5, §3.7: field layouts', () => {
  it('access rights bits and reserved mask', () => {
    const line = /Access-rights format[^:]*:(.*?)reserved mask ([0-9A-F]+)/s.exec(section(vmx, '3.2'))!;
    expect(rangesOf(ACCESS_RIGHTS_FIELDS)).toEqual(listedRanges(line[1]!).map(([l, w]) => `${l}/${w}`).sort());
    expect(ACCESS_RIGHTS_RESERVED_MASK).toBe(parseInt(line[2]!, 16));
    expect(BigInt(ACCESS_RIGHTS_RESERVED_MASK)).toBe(0xffffffffn & ~layoutMask(ACCESS_RIGHTS_FIELDS));
  });

  it('interruptibility and activity state', () => {
    const text = section(vmx, '3.2').replace(/\n/g, ' ');
    const intr = /Interruptibility: (.*?)\. Activity: (.*?)\./.exec(text)!;
    expect(INTERRUPTIBILITY_FIELDS.map((f) => f.lsb)).toEqual(listedRanges(intr[1]!).map(([l]) => l));
    const acts = intr[2]!.split(', ').map((s) => /^(\d+) (.*)$/.exec(s)!);
    expect(ACTIVITY_STATES.map((a) => [a.value, a.name.toLowerCase()])).toEqual(acts.map((m) => [Number(m[1]), m[2]!.toLowerCase()]));
  });

  it('exit reason bits', () => {
    const text = /Exit reason: (.*?)\(BX/s.exec(section(vmx, '3.5'))![1]!.replace(/\n/g, ' ');
    expect(rangesOf(EXIT_REASON_FIELDS)).toEqual(listedRanges(text).map(([l, w]) => `${l}/${w}`).sort());
  });

  it('interruption-information formats (incl. the nested bit 13)', () => {
    const rows = tableRows(section(vmx, '3.7'));
    const layouts = [ENTRY_INTR_INFO_FIELDS, EXIT_INTR_INFO_FIELDS, IDT_VECTORING_INFO_FIELDS];
    for (const row of rows) {
      const [lsb, width] = range(row[0]!);
      layouts.forEach((layout, i) => {
        const cell = row[i + 1]!;
        const ours = layout.find((f) => f.lsb === lsb);
        if (/^(reserved|0$)/.test(cell)) expect(ours, `${row[0]} ${cell}`).toBeUndefined();
        else if (!/^undefined/.test(cell)) expect([ours?.lsb, ours?.width], `${row[0]} ${cell}`).toEqual([lsb, width]);
      });
    }
    for (const layout of layouts) expect(layout.find((f) => f.lsb === 13)?.name).toBe('nested');
  });
});

describe('vmx-fred.md §3.6: basic exit reasons', () => {
  const text = section(vmx, '3.6').trim().split('\n\n')[0]!.replace(/\n/g, ' ');
  const items = text.split('·').map((s) => s.trim().replace(/\.$/, '')).map((s) => /^(\d+)(?:\/(\d+))?\s+(.*)$/.exec(s)!);

  it('has every number of the reference (plus 71, SGX conflict, from the Intel TDX module)', () => {
    const ref = items.flatMap((m) => (m[2] ? [Number(m[1]), Number(m[2])] : [Number(m[1])]));
    expect(EXIT_REASONS.map((r) => r.reason)).toEqual([...ref, 71].sort((a, b) => a - b));
  });

  it.each(items.filter((m) => !m[2]).map((m) => [Number(m[1]), m[3]!] as const))('%i %s', (n, title) => {
    expect(EXIT_REASONS.find((r) => r.reason === n)!.title.toLowerCase()).toBe(title.toLowerCase());
    expect(assemblerConstants.get(`EXIT_REASON_${EXIT_REASONS.find((r) => r.reason === n)!.short}`)).toBe(BigInt(n));
  });
});

describe('vmx-fred.md §3.10: exit-qualification layouts', () => {
  const bullets = section(vmx, '3.10').split('\n* ').slice(1).map((b) => b.replace(/\n\s*/g, ' '));
  const cases: [string, BitLayout][] = [
    ['CR access', CR_ACCESS_QUALIFICATION], ['MOV DR', MOV_DR_QUALIFICATION],
    ['I/O', IO_QUALIFICATION], ['EPT violation', EPT_VIOLATION_QUALIFICATION],
  ];
  it.each(cases)('%s', (prefix, layout) => {
    const bullet = bullets.find((b) => b.startsWith(prefix))!;
    const body = bullet.slice(bullet.indexOf(':') + 1).split(/\. [A-Z]/)[0]!;
    expect(rangesOf(layout)).toEqual(listedRanges(body).map(([l, w]) => `${l}/${w}`).sort());
  });
});

describe('vmx-fred.md §1.4 and fred-architecture.md §2.1: MSR numbers', () => {
  const rows = [...tableRows(section(fred, '2.1')), ...tableRows(section(vmx, '1.4'))];
  it.each(rows.map((r) => [r[0]!, r[1]!.replace(/\*\*/g, '')] as const))('%s = %s', (names, indices) => {
    const ns = names.split('/').map((s) => s.trim());
    const is = indices.split('/').map((s) => parseInt(s.trim(), 16));
    expect(ns).toHaveLength(is.length);
    ns.forEach((n, i) => expect(resolveMsr(n)?.index, n).toBe(is[i]));
    ns.forEach((n) => expect(assemblerConstants.get(resolveMsr(n)!.name)).toBe(BigInt(resolveMsr(n)!.index)));
  });
});

describe('fred-architecture.md §2.2: IA32_FRED_CONFIG layout', () => {
  const rows = tableRows(section(fred, '2.2'));
  it('fields and reserved bits', () => {
    const reserved = rows.filter((r) => r[1]!.startsWith('reserved'));
    const fields = rows.filter((r) => !r[1]!.startsWith('reserved'));
    expect(rangesOf(FRED_CONFIG_FIELDS)).toEqual(fields.map((r) => range(r[0]!)).map(([l, w]) => `${l}/${w}`).sort());
    const mask = reserved.map((r) => range(r[0]!)).reduce((m, [l, w]) => m | (((1n << BigInt(w)) - 1n) << BigInt(l)), 0n);
    expect(mask).toBe(0x834n);
    expect(msrByName('IA32_FRED_CONFIG')!.rules).toContainEqual({ kind: 'reserved', mask });
  });
});

describe('fred-architecture.md §3.1 and §3.5: event types and the frame', () => {
  it('event types', () => {
    const rows = tableRows(section(fred, '3.1'));
    expect(EVENT_TYPES.map((e) => [e.type, e.name.toLowerCase()])).toEqual(rows.map((r) => [Number(r[0]), r[1]!.toLowerCase()]));
  });

  const text = section(fred, '3.5');
  const [frameText, rest] = text.split('CS word (64 bits):');
  const [csText, ssText] = rest!.split('SS word (64 bits):');

  it('frame slot offsets', () => {
    const rows = tableRows(frameText!);
    expect(FRED_FRAME_SLOTS.map((s) => s.offset)).toEqual(rows.map((r) => parseInt(r[0]!.replace('+', ''), 16)));
    rows.forEach((r, i) => expect(sharesWord(r[1]!.replace(/\*\*/g, ''), FRED_FRAME_SLOTS[i]!.title), r[1]).toBe(true));
  });

  it.each([['CS', csText!, FRED_CS_WORD_FIELDS], ['SS', ssText!, FRED_SS_WORD_FIELDS]] as const)('%s word fields', (_n, t, layout) => {
    const rows = tableRows(t).filter((r) => r[1] !== '0');
    expect(rangesOf(layout)).toEqual(rows.map((r) => range(r[0]!)).map(([l, w]) => `${l}/${w}`).sort());
  });
});
