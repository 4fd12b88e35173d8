// One mechanism for every register/field layout in src/arch: a named bit range [lsb + width - 1 : lsb].
// All layouts use bigint so 64-bit registers (CR4.FRED is bit 32, MSRs, VMCS natural-width fields)
// and 32-bit fields share the same code.

/** A named bit field: bits [lsb + width - 1 : lsb]. */
export interface BitField<N extends string = string> {
  /** Short SDM-style name, e.g. `LME`, `CSL`, `vector`. */
  readonly name: N;
  /** Least significant bit position. */
  readonly lsb: number;
  /** Number of bits (1 for a flag). */
  readonly width: number;
  /** One-line description for hovers and views. */
  readonly doc: string;
}

/** A field list; fields may not overlap (checked by the tests for every layout). */
export type BitLayout = readonly BitField[];

/** Shorthand for building tables: `bit('LME', 8, 'Long-mode enable')`. */
export function bit<N extends string>(name: N, pos: number, doc: string): BitField<N> {
  return { name, lsb: pos, width: 1, doc };
}

/** Shorthand for a multi-bit field given as `hi:lo` like the SDM writes it. */
export function bits<N extends string>(name: N, hi: number, lo: number, doc: string): BitField<N> {
  return { name, lsb: lo, width: hi - lo + 1, doc };
}

/** The mask of a field in place, e.g. `fieldMask(bits('x', 8, 6, ''))` = 0x1C0n. */
export function fieldMask(f: BitField): bigint {
  return ((1n << BigInt(f.width)) - 1n) << BigInt(f.lsb);
}

/** The value of a field (shifted down). */
export function extractField(f: BitField, value: bigint): bigint {
  return (value >> BigInt(f.lsb)) & ((1n << BigInt(f.width)) - 1n);
}

/** `value` with field `f` replaced by `fieldValue` (which must fit the field). */
export function insertField(f: BitField, value: bigint, fieldValue: bigint): bigint {
  const max = (1n << BigInt(f.width)) - 1n;
  if (fieldValue < 0n || fieldValue > max) {
    throw new RangeError(`${f.name}: value ${fieldValue} does not fit in ${f.width} bit(s)`);
  }
  return (value & ~fieldMask(f)) | (fieldValue << BigInt(f.lsb));
}

/** The union of all field masks of a layout (the defined bits). */
export function layoutMask(layout: BitLayout): bigint {
  let m = 0n;
  for (const f of layout) m |= fieldMask(f);
  return m;
}

/** Find a field by name (case-insensitive); undefined if the layout has no such field. */
export function findField(layout: BitLayout, name: string): BitField | undefined {
  const n = name.toLowerCase();
  return layout.find((f) => f.name.toLowerCase() === n);
}

/** Decode a value into `{ fieldName: value }` for every field of the layout. */
export function decodeFields(layout: BitLayout, value: bigint): Record<string, bigint> {
  const out: Record<string, bigint> = {};
  for (const f of layout) out[f.name] = extractField(f, value);
  return out;
}

/** Encode `{ fieldName: value }` (missing fields are 0); unknown names throw. */
export function encodeFields(layout: BitLayout, values: Readonly<Record<string, bigint | number | boolean>>): bigint {
  let v = 0n;
  for (const [name, raw] of Object.entries(values)) {
    const f = layout.find((x) => x.name === name);
    if (!f) throw new RangeError(`unknown field '${name}'`);
    v = insertField(f, v, typeof raw === 'boolean' ? (raw ? 1n : 0n) : BigInt(raw));
  }
  return v;
}

/** `{ FIELD: mask-in-place }` for a layout declared `as const`, e.g. `CR4_BITS.FRED` = 1n << 32n. */
export type FieldMasks<L extends readonly BitField[]> = { readonly [F in L[number] as F['name']]: bigint };

/** Masks of every field of a layout, keyed by field name (typed when the layout is `as const`). */
export function fieldMasks<const L extends readonly BitField[]>(layout: L): FieldMasks<L> {
  const out: Record<string, bigint> = {};
  for (const f of layout) out[f.name] = fieldMask(f);
  return Object.freeze(out) as FieldMasks<L>;
}

/** Bit range as the SDM writes it: `5:0` or `8` for a single bit. */
export function bitRangeText(f: BitField): string {
  return f.width === 1 ? `${f.lsb}` : `${f.lsb + f.width - 1}:${f.lsb}`;
}

/** Mask of bits [hi:lo] (SDM notation). */
export function rangeMask(hi: number, lo: number): bigint {
  return ((1n << BigInt(hi - lo + 1)) - 1n) << BigInt(lo);
}
