// The listing: every source line with the address and bytes it produced (NASM -l style).
import type { Emitted } from './emitted';
import type { ListingRows } from './parser';

const BYTES_PER_ROW = 10;
const MAX_BYTES_SHOWN = 40;

export function formatListing(rows: ListingRows, emitted: readonly Emitted[]): string {
  const byRow = new Map<number, Emitted[]>();
  for (const e of emitted) {
    const list = byRow.get(e.row);
    if (list) list.push(e);
    else byRow.set(e.row, [e]);
  }
  const out: string[] = [];
  let file = rows.count ? rows.file(0) : undefined;
  const blank = ' '.repeat(16);
  const bytesWidth = BYTES_PER_ROW * 2;
  for (let i = 0; i < rows.count; i++) {
    const text = rows.text(i);
    if (rows.file(i) !== file) {
      file = rows.file(i);
      out.push(`; ---- ${file}`);
    }
    const lineNo = String(rows.line(i)).padStart(6);
    const chunks = byRow.get(i);
    if (!chunks) {
      out.push(`${lineNo} ${blank} ${''.padEnd(bytesWidth)}  ${text}`);
      continue;
    }
    let first = true;
    for (const c of chunks) {
      const address = c.address.toString(16).padStart(16, '0');
      if (!c.bytes) {
        out.push(`${first ? lineNo : '      '} ${address} ${`<res ${c.size}>`.padEnd(bytesWidth)}  ${first ? text : ''}`.trimEnd());
        first = false;
        continue;
      }
      const shown = Math.min(c.bytes.length, MAX_BYTES_SHOWN);
      for (let p = 0; p < shown; p += BYTES_PER_ROW) {
        const hex = Array.from(c.bytes.subarray(p, Math.min(p + BYTES_PER_ROW, shown)), (b) => b.toString(16).padStart(2, '0').toUpperCase()).join('');
        const more = p + BYTES_PER_ROW >= shown && shown < c.bytes.length ? '-' : '';
        const addr = (c.address + BigInt(p)).toString(16).padStart(16, '0');
        out.push(`${first ? lineNo : '      '} ${addr} ${(hex + more).padEnd(bytesWidth)}  ${first ? text : ''}`.trimEnd());
        first = false;
      }
    }
  }
  return `${out.join('\n')}\n`;
}
