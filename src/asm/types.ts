// The assembler's public data types (ARCHITECTURE §1: text → bytes, symbols, line map, diagnostics).
import type { SourceMap } from './sourceMap';

export type Severity = 'error' | 'warning' | 'info';

/** A message about the source with its range; lines and columns are 1-based, end is exclusive. */
export interface Diagnostic {
  readonly severity: Severity;
  readonly message: string;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly endLine: number;
  readonly endColumn: number;
}

export interface ImageSection {
  readonly name: string;
  readonly address: bigint;
  /** Initialised bytes, starting at `address`. */
  readonly bytes: Uint8Array;
  /** Size in memory, ≥ bytes.length: the tail past the initialised bytes is zero (bss). */
  readonly size: number;
  /** Pages of this section have U/S = 1 in the guest's page tables. */
  readonly user: boolean;
  readonly writable: boolean;
  readonly executable: boolean;
}

export interface ProgramImage {
  readonly sections: readonly ImageSection[];
  /** `_start` if defined, else the first byte of the first section. */
  readonly entry: bigint;
  readonly symbols: ReadonlyMap<string, bigint>;
}

export interface AssembleOptions {
  /** Name used in diagnostics and the source map (default `input.fred`). */
  readonly fileName?: string;
  /** Reads an `%include`d file (path already resolved relative to the including file); undefined = not found. */
  readonly readFile?: (path: string) => string | undefined;
  /** Default origin when the source has no `org` (default 0x100000, the boot contract's load address). */
  readonly org?: bigint;
}

export interface AssemblyResult {
  readonly diagnostics: readonly Diagnostic[];
  /** True when no diagnostic is an error. */
  readonly ok: boolean;
  readonly image: ProgramImage;
  readonly sourceMap: SourceMap;
  readonly listing: string;
}
