/**
 * 32-bit hashing of masked key words (murmur3 steps) and a counting hash set of such hashes.
 *
 * The counting set is OVS's `ccmap`: each subtable keeps one per lookup stage holding the
 * partial hashes of its rules' masked fields up to that stage, so a lookup can give up on a
 * subtable after the metadata or L2 stage and un-wildcard only what it has looked at.
 * Everything is int32 so V8 keeps it in Smis and typed arrays.
 */

/** Mixes one word into a running hash. */
export function mix(h: number, k: number): number {
  k = Math.imul(k, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Finalises a running hash (murmur3 fmix32), as int32. */
export function fin(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/** Finaliser for the partial hash at a stage boundary (distinct from `fin`). */
export const finStage = (h: number): number => fin(h ^ 0x2545f491);

/** Open-addressing (linear probing) multiset of int32 hashes. */
export class HashCounter {
  private keys: Int32Array;
  private counts: Int32Array;
  private used = 0;

  constructor(cap = 8) {
    this.keys = new Int32Array(cap);
    this.counts = new Int32Array(cap);
  }

  get byteLength(): number {
    return this.keys.byteLength + this.counts.byteLength;
  }

  has(h: number): boolean {
    const m = this.keys.length - 1;
    for (let i = h & m; ; i = (i + 1) & m) {
      if (this.counts[i] === 0) return false;
      if (this.keys[i] === h) return true;
    }
  }

  add(h: number): void {
    if ((this.used + 1) * 2 > this.keys.length) this.grow();
    const m = this.keys.length - 1;
    for (let i = h & m; ; i = (i + 1) & m) {
      const c = this.counts[i]!;
      if (c === 0) {
        this.keys[i] = h;
        this.counts[i] = 1;
        this.used++;
        return;
      }
      if (this.keys[i] === h) {
        this.counts[i] = c + 1;
        return;
      }
    }
  }

  remove(h: number): void {
    const m = this.keys.length - 1;
    let i = h & m;
    for (; ; i = (i + 1) & m) {
      if (this.counts[i] === 0) return;
      if (this.keys[i] === h) break;
    }
    if (--this.counts[i]! > 0) return;
    this.used--;
    // Backward-shift deletion keeps probe chains unbroken without tombstones.
    let j = i;
    for (;;) {
      j = (j + 1) & m;
      if (this.counts[j] === 0) break;
      const k = this.keys[j]! & m;
      if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
        this.keys[i] = this.keys[j]!;
        this.counts[i] = this.counts[j]!;
        i = j;
      }
    }
    this.counts[i] = 0;
  }

  private grow(): void {
    const ok = this.keys;
    const oc = this.counts;
    this.keys = new Int32Array(ok.length * 2);
    this.counts = new Int32Array(ok.length * 2);
    const m = this.keys.length - 1;
    for (let s = 0; s < ok.length; s++) {
      const c = oc[s]!;
      if (c === 0) continue;
      let i = ok[s]! & m;
      while (this.counts[i] !== 0) i = (i + 1) & m;
      this.keys[i] = ok[s]!;
      this.counts[i] = c;
    }
  }
}

/**
 * Per-row-word multipliers of the subtable hash: odd, fixed, distinct per word. A subtable
 * row's hash is Σ row[k] · WORD_MUL[k] mod 2³², with no finaliser: tables index it by its top
 * bits (multiplicative hashing: every input bit reaches them), so a finaliser's serial
 * multiplies and shifts would only lengthen each lookup's critical path, and a sum of
 * independent products has no serial dependency between words (a murmur chain does).
 */
export const WORD_MUL: Int32Array = (() => {
  const a = new Int32Array(1024);
  for (let w = 0; w < a.length; w++) a[w] = fin(Math.imul(w + 1, 0x9e3779b9) ^ 0x5bd1e995) | 1;
  return a;
})();
