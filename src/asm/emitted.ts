// What the emitting pass produced, one record per statement that occupies bytes, kept compact: section,
// offset, size, listing row and column in one Int32Array. The source map and the listing resolve the
// records against the final sections on demand (most assemblies never read either), so a run does not
// keep one object, one bigint address and one byte view alive per statement.
import type { ListingRows } from './parser';
import type { SourceMapEntry } from './sourceMap';

/** One emitted statement: its source-map entry, listing row and bytes (undefined for reserved space). */
export interface Emitted extends SourceMapEntry {
  readonly row: number;
  readonly bytes: Uint8Array | undefined;
}

/** The final placement of a section: its address and initialised bytes. */
export interface PlacedSection {
  readonly address: bigint;
  readonly bytes: Uint8Array;
}

const SECTION = 0;
const OFFSET = 1;
const SIZE = 2;
const ROW = 3;
/** 1-based column, negative when the statement has no initialised bytes (reserved or nobits). */
const COLUMN = 4;
const STRIDE = 5;

export class EmittedRecords {
  private data = new Int32Array(STRIDE * 1024);
  private count = 0;

  add(section: number, offset: number, size: number, row: number, column: number, hasBytes: boolean): void {
    if ((this.count + 1) * STRIDE > this.data.length) {
      const grown = new Int32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    const p = this.count++ * STRIDE;
    const d = this.data;
    (d[p + SECTION] = section), (d[p + OFFSET] = offset), (d[p + SIZE] = size), (d[p + ROW] = row), (d[p + COLUMN] = hasBytes ? column : -column);
  }

  /** The records in emitting order; file and line come from the listing row, bytes from the section image. */
  resolve(rows: ListingRows, sections: readonly PlacedSection[]): Emitted[] {
    const out: Emitted[] = new Array(this.count);
    const d = this.data;
    for (let i = 0; i < this.count; i++) {
      const p = i * STRIDE;
      const sec = sections[d[p + SECTION]];
      const offset = d[p + OFFSET];
      const size = d[p + SIZE];
      const row = d[p + ROW];
      const column = d[p + COLUMN];
      out[i] = {
        address: sec.address + BigInt(offset), size, file: rows.file(row), line: rows.line(row), column: Math.abs(column), row,
        bytes: column > 0 ? sec.bytes.subarray(offset, offset + size) : undefined,
      };
    }
    return out;
  }
}
