/**
 * Packed flow keys, as OVS's `struct miniflow` (lib/flow.h) packs a `struct flow`: only the
 * listed words are stored, in order, and every other word of the key reads as zero. dpif-netdev
 * extracts each packet's miniflow once and its megaflow classifier (dpcls) looks that compact
 * key up; here `Classifier.lookupPacked` does the same for keys kept in one arena, so a lookup
 * reads one or two cache lines of key instead of the full 162-word flow key's six.
 */
import { SimError } from "@ovnsim/packet";

/** The words of a full key that a packed key stores (ascending); the rest are zero. */
export class KeyLayout {
  /** Full-key word index of each packed word. */
  readonly words: Int32Array;
  /** Packed words per key. */
  readonly size: number;
  /** Highest full-key word listed, −1 for none. */
  readonly maxWord: number;
  /** Packed position of each full-key word (−1: not stored), up to maxWord. */
  readonly position: Int32Array;

  /** SimError BAD_VALUE unless `words` are distinct integers in 0..1023, ascending. */
  constructor(words: readonly number[]) {
    let prev = -1;
    for (const w of words) {
      if (!Number.isInteger(w) || w <= prev || w > 1023)
        throw new SimError(
          "BAD_VALUE",
          `key layout: words must be ascending distinct integers in 0..1023, got [${words.join(", ")}]`,
        );
      prev = w;
    }
    this.words = Int32Array.from(words);
    this.size = words.length;
    this.maxWord = prev;
    this.position = new Int32Array(prev + 1).fill(-1);
    words.forEach((w, j) => {
      this.position[w] = j;
    });
  }

  /** Writes the layout's words of `key` to `out[offset …]` (OVS `miniflow_extract`). */
  pack(key: Uint32Array, out: Uint32Array, offset = 0): void {
    if (this.maxWord >= key.length || offset < 0 || offset + this.size > out.length)
      throw new SimError("BAD_VALUE", `key layout: a ${key.length}-word key does not pack at ${offset}`);
    const ws = this.words;
    for (let j = 0; j < ws.length; j++) out[offset + j] = key[ws[j]!]!;
  }

  /** The full key of the packed key at `packed[offset …]` into `out` (other words zeroed). */
  unpack(packed: Uint32Array, offset: number, out: Uint32Array): void {
    if (this.maxWord >= out.length || offset < 0 || offset + this.size > packed.length)
      throw new SimError(
        "BAD_VALUE",
        `key layout: no packed key at ${offset}, or ${out.length} words too few`,
      );
    out.fill(0);
    const ws = this.words;
    for (let j = 0; j < ws.length; j++) out[ws[j]!] = packed[offset + j]!;
  }
}
