// A 256-bit vector register (IRR, ISR, TMR): eight 32-bit words, word i holding vectors 32i..32i+31,
// exactly the layout of the x2APIC MSRs 0x810+i / 0x818+i / 0x820+i (SDM Vol. 3 §11.8.4).
export class VectorSet {
  readonly words = new Uint32Array(8);

  has(vector: number): boolean {
    return ((this.words[vector >>> 5] >>> (vector & 31)) & 1) !== 0;
  }

  set(vector: number): void {
    this.words[vector >>> 5] |= 1 << (vector & 31);
  }

  clear(vector: number): void {
    this.words[vector >>> 5] &= ~(1 << (vector & 31));
  }

  /** Highest vector in the set, or -1 when empty. */
  highest(): number {
    for (let i = 7; i >= 0; i--) {
      const word = this.words[i];
      if (word !== 0) return i * 32 + 31 - Math.clz32(word);
    }
    return -1;
  }

  save(): number[] {
    return Array.from(this.words);
  }

  restore(words: readonly number[]): void {
    this.words.set(words);
  }
}
