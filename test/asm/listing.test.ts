// The listing and the source map, built on demand from the emitting pass's compact records: every
// statement with its address, its bytes (from the final image) or its reserved size.
import { describe, expect, it } from 'vitest';
import { asm } from './helpers';

describe('listing and source map', () => {
  it('shows bytes of code and data, reserved space as <res n>, and bytes in nobits sections as reserved', () => {
    const r = asm(['nop', 'section .data', 'db 1, 2', 'resq 1', 'section .bss', 'db 7'].join('\n'), { org: 0x1000n });
    const lines = r.listing.split('\n');
    expect(lines[0]).toMatch(/^ {5}1 0000000000001000 90 +nop$/);
    expect(lines[2]).toMatch(/^ {5}3 0000000000002000 0102 +db 1, 2$/);
    expect(lines[3]).toMatch(/^ {5}4 0000000000002002 <res 8> +resq 1$/);
    expect(lines[5]).toMatch(/^ {5}6 0000000000003000 <res 1> +db 7$/);
    expect(r.diagnostics.map((d) => d.message)).toEqual(["initialised data in nobits section '.bss' is ignored"]);
    expect(r.sourceMap.entries.map((e) => [e.address, e.size, e.line, e.column])).toEqual([
      [0x1000n, 1, 1, 1], [0x2000n, 2, 3, 1], [0x2002n, 8, 4, 1], [0x3000n, 1, 6, 1],
    ]);
  });

  it('long statements continue on following rows and show at most 40 bytes', () => {
    const r = asm('times 50 db 0xAB');
    const lines = r.listing.split('\n').filter((l) => l.trim());
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^ {6} 000000000010001e (AB){10}- *$/i);
    expect(r.sourceMap.addressToLocation(0x100031n)).toMatchObject({ line: 1, column: 1, size: 50 });
  });

  it('marks where an included file starts and ends, with each file\'s own line numbers', () => {
    const r = asm('nop\n%include "inc.fred"\nret', { fileName: 'main.fred', readFile: (path) => (path === 'inc.fred' ? 'hlt\n' : undefined) });
    expect(r.listing.split('\n').map((l) => l.replace(/ +/g, ' ').trim())).toEqual([
      '1 0000000000100000 90 nop', '2 %include "inc.fred"', '; ---- inc.fred', '1 0000000000100001 F4 hlt', '2', '; ---- main.fred', '3 0000000000100002 C3 ret', '',
    ]);
    expect(r.sourceMap.addressToLocation(0x100001n)).toMatchObject({ file: 'inc.fred', line: 1 });
  });

  it('rows keep file, line and text across includes, repeated includes, CRLF and empty lines', () => {
    // ListingRows keeps offsets into each file's source, one run per stretch of consecutive lines.
    const files: Record<string, string> = { 'a.fred': 'nop\r\n\r\n%include "b.fred"\r\nhlt', 'b.fred': 'ret\n\nint3' };
    const main = 'nop\n%include "a.fred"\n%include "b.fred"\n\n%include "b.fred"\nret\n';
    const r = asm(main, { fileName: 'main.fred', readFile: (path) => files[path] });
    expect(r.ok).toBe(true);
    // What the rows must say, from the sources read line by line.
    const expected: string[] = [];
    const read = (file: string, source: string): void => {
      source.split('\n').forEach((raw, i) => {
        const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
        expected.push(`${file}:${i + 1} ${text}`);
        const include = /^%include "(.*)"$/.exec(text);
        if (include) read(include[1], files[include[1]]);
      });
    };
    read('main.fred', main);
    const listed: string[] = [];
    let file = 'main.fred';
    for (const line of r.listing.split('\n').slice(0, -1)) {
      const marker = /^; ---- (.*)$/.exec(line);
      if (marker) file = marker[1];
      else {
        const m = /^ *(\d+) (?:[0-9a-f]{16} [0-9A-F]* +| {39})(.*)$/.exec(line);
        listed.push(`${file}:${m![1]} ${m![2]}`);
      }
    }
    expect(listed.map((l) => l.trimEnd())).toEqual(expected.map((l) => l.trimEnd()));
    expect(r.sourceMap.entries.map((e) => `${e.file}:${e.line}`)).toEqual(['main.fred:1', 'a.fred:1', 'b.fred:1', 'b.fred:3', 'a.fred:4', 'b.fred:1', 'b.fred:3', 'b.fred:1', 'b.fred:3', 'main.fred:6']);
  });
});
