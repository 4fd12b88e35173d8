// Source map: every emitted byte range ⇄ file:line:column (the debugger's breakpoints and stepping use it).

export interface SourceLocation {
  readonly file: string;
  readonly line: number;
  readonly column: number;
}

export interface SourceMapEntry extends SourceLocation {
  readonly address: bigint;
  /** Bytes the statement occupies (instructions, data and reserved space). */
  readonly size: number;
}

export class SourceMap {
  /** Entries sorted by address; ranges do not overlap. */
  readonly entries: readonly SourceMapEntry[];
  private readonly byLine = new Map<string, bigint[]>();

  constructor(entries: SourceMapEntry[]) {
    this.entries = entries.filter((e) => e.size > 0).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    for (const e of this.entries) {
      const key = `${e.file}\n${e.line}`;
      const list = this.byLine.get(key);
      if (list) list.push(e.address);
      else this.byLine.set(key, [e.address]);
    }
  }

  /** The statement whose bytes contain `address`, or undefined. */
  addressToLocation(address: bigint): SourceMapEntry | undefined {
    let lo = 0;
    let hi = this.entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = this.entries[mid];
      if (address < e.address) hi = mid - 1;
      else if (address >= e.address + BigInt(e.size)) lo = mid + 1;
      else return e;
    }
    return undefined;
  }

  /** Start addresses of the byte ranges emitted by `file:line`, ascending (empty when the line emits nothing). */
  locationToAddresses(file: string, line: number): bigint[] {
    return [...(this.byLine.get(`${file}\n${line}`) ?? [])];
  }
}
