/**
 * Binary prefix trie, the classifier's prefix-tracking structure (OVS `lib/classifier.c`,
 * "A longest-prefix match tree", and the per-subtable ports trie).
 *
 * Its purpose is the megaflow, not speed: when a lookup asks "can any rule whose prefix on
 * nw_dst is /24 match this address?", the trie answers, and also says how many leading bits of
 * the address were needed to reach that answer (`maskbits`). The classifier then un-wildcards
 * only those bits instead of the whole field, which is what keeps OVS megaflows such as
 * `nw_dst=11.0.0.0/8` narrow.
 *
 * OVS path-compresses its tries; this one stores one node per bit (simpler to keep correct,
 * a little more memory). The answers are the same: a mismatch inside a compressed node is, in
 * an uncompressed trie, a node with only the other child, and both report "matched bits + 1".
 * Nodes live in typed arrays (two child links, a reference count and a rule count per node),
 * node 0 is the root, and 0 as a child link means "none".
 */

/** Bit `ofs` (0 = most significant bit of word `at`) of a big-endian multi-word value. */
export function bitAt(words: ArrayLike<number>, at: number, ofs: number): number {
  return ((words[at + (ofs >>> 5)] as number) >>> (31 - (ofs & 31))) & 1;
}

export class PrefixTrie {
  /** Child links: kids[2n] for a 0 bit, kids[2n+1] for a 1 bit. */
  private kids: Int32Array;
  /** Prefixes passing through or ending at each node (0 = free node). */
  private refs: Int32Array;
  /** Prefixes ending exactly at each node. */
  private ends: Int32Array;
  private nNodes = 1;
  private freeList = 0;

  constructor(initialNodes = 64) {
    const n = Math.max(2, initialNodes);
    this.kids = new Int32Array(2 * n);
    this.refs = new Int32Array(n);
    this.ends = new Int32Array(n);
  }

  /** Typed-array bytes held by the trie. */
  get byteLength(): number {
    return this.kids.byteLength + this.refs.byteLength + this.ends.byteLength;
  }

  /** True if no prefix is stored. */
  get isEmpty(): boolean {
    return this.kids[0] === 0 && this.kids[1] === 0;
  }

  private alloc(): number {
    let n = this.freeList;
    if (n !== 0) {
      this.freeList = this.kids[2 * n]!;
      this.kids[2 * n] = 0;
      this.kids[2 * n + 1] = 0;
      return n;
    }
    n = this.nNodes++;
    if (n >= this.refs.length) {
      const cap = this.refs.length * 2;
      const k = new Int32Array(2 * cap);
      k.set(this.kids);
      this.kids = k;
      const r = new Int32Array(cap);
      r.set(this.refs);
      this.refs = r;
      const e = new Int32Array(cap);
      e.set(this.ends);
      this.ends = e;
    }
    return n;
  }

  /** Adds the `plen`-bit prefix of the value at words[at…]. `plen` 0 is not stored (as in OVS). */
  insert(words: ArrayLike<number>, at: number, plen: number, bit0 = 0): void {
    if (plen === 0) return;
    let node = 0;
    this.refs[0]!++;
    for (let d = 0; d < plen; d++) {
      const b = bitAt(words, at, bit0 + d);
      let next = this.kids[2 * node + b]!;
      if (next === 0) {
        next = this.alloc();
        this.kids[2 * node + b] = next;
      }
      this.refs[next]!++;
      node = next;
    }
    this.ends[node]!++;
  }

  /** Removes one copy of a prefix previously inserted. */
  remove(words: ArrayLike<number>, at: number, plen: number, bit0 = 0): void {
    if (plen === 0) return;
    let node = 0;
    this.refs[0]!--;
    for (let d = 0; d < plen; d++) {
      const b = bitAt(words, at, bit0 + d);
      const next = this.kids[2 * node + b]!;
      if (next === 0) throw new Error("PrefixTrie.remove: prefix not present");
      if (--this.refs[next]! === 0) {
        // Unlink the rest of the path and free it.
        this.kids[2 * node + b] = 0;
        let n = next;
        for (let e = d + 1; ; e++) {
          const b2 = e < plen ? bitAt(words, at, bit0 + e) : 0;
          const n2 = e < plen ? this.kids[2 * n + b2]! : 0;
          this.ends[n] = 0;
          this.refs[n] = 0;
          this.kids[2 * n] = this.freeList;
          this.kids[2 * n + 1] = 0;
          this.freeList = n;
          if (n2 === 0) break;
          n = n2;
        }
        return;
      }
      node = next;
    }
    this.ends[node]!--;
  }

  /**
   * Looks up the `nBits`-bit value at words[at…] (starting `bit0` bits in). Sets, in `plens` (a bitset, bit i of the
   * big-endian words at plens[pAt…] = prefix length i+1), every prefix length at which a stored
   * prefix equals the value's leading bits. Returns how many leading bits of the value
   * decided the answer (OVS `trie_lookup_value`): the first mismatching bit included, or the
   * full matched length at a leaf.
   */
  lookup(
    words: ArrayLike<number>,
    at: number,
    nBits: number,
    plens: Uint32Array,
    pAt: number,
    bit0 = 0,
  ): number {
    const kids = this.kids;
    const ends = this.ends;
    let node = 0;
    let d = 0;
    for (;;) {
      if (d >= nBits) return nBits;
      const b = bitAt(words, at, bit0 + d);
      const next = kids[2 * node + b]!;
      if (next === 0) return kids[2 * node + (b ^ 1)]! === 0 ? d : d + 1;
      node = next;
      if (ends[node]! > 0) plens[pAt + (d >>> 5)]! |= 1 << (31 - (d & 31));
      d++;
    }
  }
}
