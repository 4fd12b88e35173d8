// Guest physical memory: one flat RAM buffer, per-page flags for the decode cache (pages holding
// translated code) and copy-on-write capture for snapshots (snapshot.ts). Accesses beyond RAM read all
// ones and ignore writes (an unbacked bus), so a wild physical address cannot crash the host.
export const PAGE_SIZE = 4096;
/** Physical page holds decoded/compiled code: writes must invalidate it. */
export const PAGE_CODE = 1;
/** Page contents at the current snapshot epoch are already captured (writes may go fast). */
export const PAGE_CAPTURED = 2;

export class PhysicalMemory {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly pageFlags: Uint8Array;
  readonly pages: number;
  /** Copy-on-write capture target: page number → contents at the start of the current epoch. */
  capture: Map<number, Uint8Array> | undefined;
  /** Called when a page with PAGE_CODE is written (decode-cache invalidation). */
  onCodeWrite: (page: number) => void = () => {};
  /** Called when a page loses fast-write permission (the MMU drops cached write permissions). */
  onWriteProtect: () => void = () => {};

  constructor(readonly size: number) {
    this.bytes = new Uint8Array(size);
    this.view = new DataView(this.bytes.buffer);
    this.pages = Math.ceil(size / PAGE_SIZE);
    this.pageFlags = new Uint8Array(this.pages).fill(PAGE_CAPTURED);
  }

  /** May a write to this page skip the slow path? */
  fastWritable(page: number): boolean {
    return page < this.pages && (this.pageFlags[page] & (PAGE_CODE | PAGE_CAPTURED)) === PAGE_CAPTURED;
  }

  /** Prepare page for a write: capture it for the snapshot and invalidate code on it. */
  beforeWrite(page: number): void {
    if (page >= this.pages) return;
    const flags = this.pageFlags[page];
    if ((flags & PAGE_CAPTURED) === 0) {
      this.capture?.set(page, this.bytes.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE));
      this.pageFlags[page] = flags | PAGE_CAPTURED;
    }
    if (flags & PAGE_CODE) {
      this.pageFlags[page] &= ~PAGE_CODE;
      this.onCodeWrite(page);
    }
  }

  markCode(page: number): void {
    if (page < this.pages && (this.pageFlags[page] & PAGE_CODE) === 0) {
      this.pageFlags[page] |= PAGE_CODE;
      this.onWriteProtect();
    }
  }

  read8(pa: number): number {
    return pa < this.size ? this.bytes[pa] : 0xff;
  }

  write8(pa: number, value: number): void {
    if (pa >= this.size) return;
    this.beforeWrite(Math.floor(pa / PAGE_SIZE));
    this.bytes[pa] = value;
  }

  read32(pa: number): number {
    return pa + 4 <= this.size ? this.view.getInt32(pa, true) : -1;
  }

  write32(pa: number, value: number): void {
    if (pa + 4 > this.size) return;
    this.beforeWrite(Math.floor(pa / PAGE_SIZE));
    this.view.setInt32(pa, value, true);
  }

  /** Bulk load (boot, --load); goes through the same capture/invalidation as guest writes. */
  load(pa: number, data: Uint8Array): void {
    for (let page = Math.floor(pa / PAGE_SIZE); page * PAGE_SIZE < pa + data.length; page++) this.beforeWrite(page);
    const end = Math.min(this.size, pa + data.length);
    if (pa < end) this.bytes.set(data.subarray(0, end - pa), pa);
  }
}
