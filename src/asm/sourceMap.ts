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
  private sorted: SourceMapEntry[] | undefined;
  private byLine: Map<string, bigint[]> | undefined;

  /**
   * `raw` need not be sorted, and may be a function that produces the entries: they and the indexes
   * are built on first use (assembling does not pay for them).
   */
  constructor(private readonly raw: readonly SourceMapEntry[] | (() => readonly SourceMapEntry[])) {}

  /** Entries sorted by address; ranges do not overlap. */
  get entries(): readonly SourceMapEntry[] {
    this.sorted ??= (typeof this.raw === 'function' ? this.raw() : this.raw).filter((e) => e.size > 0).sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
    return this.sorted;
  }

  /** The statement whose bytes contain `address`, or undefined. */
  addressToLocation(address: bigint): SourceMapEntry | undefined {
    const entries = this.entries;
    let lo = 0;
    let hi = entries.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = entries[mid];
      if (address < e.address) hi = mid - 1;
      else if (address >= e.address + BigInt(e.size)) lo = mid + 1;
      else return e;
    }
    return undefined;
  }

  /** Start addresses of the byte ranges emitted by `file:line`, ascending (empty when the line emits nothing). */
  locationToAddresses(file: string, line: number): bigint[] {
    if (!this.byLine) {
      this.byLine = new Map();
      for (const e of this.entries) {
        const key = `${e.file}\n${e.line}`;
        const list = this.byLine.get(key);
        if (list) list.push(e.address);
        else this.byLine.set(key, [e.address]);
      }
    }
    return [...(this.byLine.get(`${file}\n${line}`) ?? [])];
  }
}
