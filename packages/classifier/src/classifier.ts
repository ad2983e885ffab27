/**
 * Flow classifier: the priority lookup behind every OpenFlow table, modelled on OVS
 * `lib/classifier.{h,c}`.
 *
 * What?
 * =====
 * A classifier holds rules — a value/mask pair over a fixed-length `Uint32Array` key (by
 * default the @ovnsim/packet flow key, FLOW_WORDS words laid out as `W`), a priority 0–65535
 * and a payload — and, given a key, finds the highest-priority rule that matches it. As a
 * side output it can report which key bits the decision depended on (the "wildcards" or
 * megaflow mask), the way `classifier_lookup(cls, version, flow, wc)` does: the OpenFlow trace
 * prints it as `Megaflow:`, and a datapath cache installs it. Extra 1-bits are safe; a missing
 * 1-bit is a bug: any key that agrees with the looked-up key on the reported bits gets the
 * same rule (the property tests check exactly this).
 *
 * Determinism
 * ===========
 * OVS leaves the winner among overlapping rules of equal priority undefined (it depends on the
 * order of subtables in its priority vector). Here it is defined: among equal priorities the
 * rule inserted first wins (`replace` keeps the replaced rule's place). `LinearClassifier`
 * implements the same rule by brute force and is the oracle for the property tests. Lookups
 * allocate nothing and read no clock; the same inserts give the same answers and masks.
 *
 * Design
 * ======
 * - Tuple space search: one subtable per distinct mask, holding an open-addressing hash table
 *   (linear probing on Int32Array slots) of the rules' masked values. Rules identical except
 *   for priority share one bucket head and are chained by (priority desc, order asc), like
 *   OVS's `cls_match->next` lists. A slot is one int (hash tag and head index), and a head's
 *   masked value is stored as a row with the mask's narrow fields packed together (the ovstest
 *   mask's 17 words take 12), so a lookup reads one slot and, when the tag matches, one row of
 *   usually one cache line; a miss stops at an empty slot without touching a rule.
 * - Subtables sit in a flat array (OVS's pvector) sorted by their highest priority, ties by
 *   the insertion order of their first rule at that priority. A lookup stops as soon as the
 *   next subtable cannot beat the best match so far. Unlike OVS it also visits a subtable of
 *   equal maximum priority when that subtable holds an older rule of that priority (the tie
 *   rule above); that is the only way the reported mask can be wider than OVS's.
 * - The sorted array is rebuilt lazily before the next lookup after changes (OVS's deferred
 *   publication), so bulk inserts cost O(n log n), not O(n²).
 * - With a `wc` output, the lookup is staged as in OVS (`find_match_wc`): each subtable keeps a
 *   counting hash set of partial hashes per stage (metadata, L2, L3, L4 for the flow key); a
 *   miss at a stage un-wildcards only the fields of the stages seen so far.
 * - Prefix tries on ip_dst, ip_src, ipv6_dst, ipv6_src (OVS's defaults; configurable): before
 *   hashing a stage that holds a trie field, the lookup asks the classifier-wide trie whether
 *   any rule prefix of this subtable's length matches the address; if none does, the subtable
 *   is skipped and only the bits the trie needed are un-wildcarded (`nw_dst=11.0.0.0/8`).
 * - A ports trie per subtable over (tp_src << 16 | tp_dst): on a miss in the final stage only
 *   the port prefix that decided the miss is un-wildcarded (`tp_dst=0x40/0xffc0`).
 * - The hash-table hash is a sum of per-row-word products (`WORD_MUL`), not a murmur chain, so
 *   the words hash in parallel, and its top bits pick the home slot (multiplicative hashing, no
 *   finaliser on the critical path); a subtable probed often in a table of at most 64 masks gets a
 *   finder generated for its mask (constant word indices and masks, no loops), like OVS's
 *   per-shape dpcls lookup functions. A one-mask table without `wc` is then one call, one
 *   hash and one probe; outside a batch no rule version is checked (every rule held is
 *   visible: commits and removes take rules out physically).
 * - Packed keys (`lookupPacked`, `KeyLayout`): OVS's datapath looks up each packet's miniflow,
 *   the nonzero words only, not the whole flow. A one-mask table gets a finder generated for the
 *   layout, reading the masked words at their packed positions (0 for words the layout lacks),
 *   so a lookup reads one or two cache lines of key instead of the flow key's six. The
 *   classifier binds that finder once, so a lookup is one comparison of the layout and a
 *   bounds check before the call; any insert, remove or batch unbinds it.
 * - Lookups without `wc` hash the whole mask at once (OVS `find_match`). With 8 or more
 *   subtables they also use the tries up front (OVS consults them only when tracking
 *   wildcards; answers are the same): subtables are grouped by their prefix lengths on nw_dst
 *   and nw_src, and only the groups whose lengths the tries say can match are visited ("tuple
 *   space pruning", Srinivasan et al. 1999); inside a group, prefilter-only tries on tp_dst and
 *   tp_src (never used for megaflows) skip subtables whose port block no rule can match.
 * - Versioning (`beginBatch`/`commit`/`abortBatch`): rules added or removed in a batch carry
 *   version numbers and become visible, or invisible, all at once when the batch commits;
 *   lookups during the batch see the previous version, as OVS versions rules for bundles.
 *
 * Limits
 * ======
 * - No conjunctive ("soft") matches: `conjunction(id, k/n)` belongs to the OpenFlow layer.
 * - No metadata partitioning (OVS's `cls_partition` on `metadata`), and no per-field prefix
 *   configuration at run time (set tries at construction).
 * - The classifier keeps references to the value/mask arrays it is given; do not mutate them.
 * - Stage hashes are 32-bit; a collision only makes a lookup look further (wider mask), never
 *   wrong, as with OVS's ccmap.
 */
import { SimError } from "@ovnsim/packet";
import { fin, finStage, HashCounter, mix, WORD_MUL } from "./hash.js";
import {
  beats,
  type ClassifierOptions,
  type ResolvedOptions,
  type Rule,
  type RuleRec,
  sameMatch,
  stageOf,
  VERSION_MAX,
} from "./rule.js";
import type { KeyLayout } from "./keylayout.js";
import { RuleSet } from "./ruleset.js";
import { PrefixTrie } from "./trie.js";

/** Number of leading 1-bits if the words at mask[at…at+n) form a prefix mask, else 0. */
function prefixLen(mask: Uint32Array, at: number, n: number): number {
  let len = 0;
  let ended = false;
  for (let i = 0; i < n; i++) {
    const m = mask[at + i]!;
    if (ended) {
      if (m !== 0) return 0;
      continue;
    }
    if (m === 0xffffffff) {
      len += 32;
      continue;
    }
    const ones = Math.clz32(~m);
    if (m << ones !== 0) return 0; // not contiguous
    len += ones;
    ended = true;
  }
  return len;
}

/** Sets the leading `n` bits of the field at wc[at…]. */
function setPrefixBits(wc: Uint32Array, at: number, n: number): void {
  let i = at;
  for (; n >= 32; n -= 32) wc[i++] = 0xffffffff;
  if (n > 0) wc[i]! |= ~0 << (32 - n);
}

/** True if the leading `n` bits of the field at wc[at…] are all set. */
function prefixBitsSet(wc: Uint32Array, at: number, n: number): boolean {
  let i = at;
  for (; n >= 32; n -= 32) if (wc[i++] !== 0xffffffff) return false;
  if (n > 0) {
    const m = ~0 << (32 - n);
    if ((wc[i]! & m) !== m) return false;
  }
  return true;
}

/** Per-classifier trie state shared with subtables during one lookup (OVS `struct trie_ctx`). */
interface TrieCtx {
  readonly tries: PrefixTrie[];
  readonly word: Int32Array;
  readonly bits: Int32Array;
  /** First bit of the field within its word (16 for tp_src/tp_dst in the prefilter). */
  readonly bit0: Int32Array;
  /** Tries [0, nOvs) are OVS's (used for megaflows); the rest only prefilter lookups. */
  readonly nOvs: number;
  readonly preWord: Int32Array; // -1 = no prerequisite
  readonly preMask: Uint32Array;
  readonly preValue: Uint32Array;
  readonly done: Uint8Array;
  readonly maskbits: Int32Array;
  readonly plens: Uint32Array; // 4 words per trie
  /** Use the tries to skip subtables on lookups without wildcards (worth it with many subtables). */
  prefilter: boolean;
  /** Generate per-subtable finders (few subtables, as in OpenFlow tables; not ClassBench's hundreds). */
  codegen: boolean;
}

/** On-demand trie lookup for one lookup (OVS `check_tries`' `trie_lookup`). */
function trieLookup(tc: TrieCtx, t: number, key: Uint32Array): void {
  tc.done[t] = 1;
  const p = t * 4;
  const pw = tc.preWord[t]!;
  if (pw >= 0 && (key[pw]! & tc.preMask[t]!) !== tc.preValue[t]) {
    // Prerequisites not met: all prefix lengths "may match", no skipping.
    tc.plens[p] = tc.plens[p + 1] = tc.plens[p + 2] = tc.plens[p + 3] = 0xffffffff;
    tc.maskbits[t] = 0;
  } else {
    tc.plens[p] = tc.plens[p + 1] = tc.plens[p + 2] = tc.plens[p + 3] = 0;
    tc.maskbits[t] = tc.tries[t]!.lookup(key, tc.word[t]!, tc.bits[t]!, tc.plens, p, tc.bit0[t]!);
  }
}

let subtableSerial = 0;
const NO_TRIES = new Int32Array(0);
/** Scratch word for ports-trie values (lookups are single-threaded and not re-entrant). */
const PORTS_TMP = new Uint32Array(1);
const PORTS_PLENS = new Uint32Array(1);

/** Prefix length of the `bits`-bit field starting `bit0` bits into a mask word, 0 if not a prefix. */
function narrowPrefixLen(m: number, bit0: number, bits: number): number {
  const x = ((m << bit0) & (~0 << (32 - bits))) >>> 0;
  if (x === 0) return 0;
  const ones = Math.clz32(~x);
  if (ones < 32 && x << ones !== 0) return 0;
  return Math.min(ones, bits);
}

/** (key, version, offset): the key is key[offset … offset + nWords). */
type FindFn<T> = (key: Uint32Array, version: number, off: number) => RuleRec<T> | null;
/** (packed, offset): a packed key's visible rule outside a batch, or undefined. */
type PackedFn<T> = (packed: Uint32Array, off: number) => Rule<T> | undefined;
const NO_PACKED: PackedFn<never> = () => undefined;

/** Probes before a subtable gets a generated finder; classifiers with more subtables than
 * CODEGEN_MAX_SUBTABLES never generate (ClassBench-style tables have hundreds of masks). */
const FAST_AFTER = 256;
const CODEGEN_MAX_SUBTABLES = 64;
/** Generated finder factories by mask shape, shared by all subtables of that shape. */
const finderCache = new Map<string, (t: unknown, imul: typeof Math.imul) => unknown>();

/** `((t0 + t1) | 0) …` as a balanced tree: the adds of the hash then take log2(n) steps, not n. */
function sumTree(terms: readonly string[]): string {
  if (terms.length === 0) return "0";
  if (terms.length === 1) return terms[0]!;
  const mid = terms.length >> 1;
  return `((${sumTree(terms.slice(0, mid))} + ${sumTree(terms.slice(mid))}) | 0)`;
}

/**
 * A finder specialised to one subtable's mask: the masked key words are loaded once with
 * constant indices and masks, packed into the subtable's row words and hashed as `keyHash`
 * does (the same value, so the generic and the generated code share one table), and compared
 * against the bucket head's row without loops. This is OVS's per-subtable-shape lookup
 * functions (dpif-netdev-lookup.c) for V8: straight-line code the JIT keeps in registers.
 * With `layout`, word w is read at its packed position (0 when the layout lacks it) and the
 * finder is `PackedFn`: no version check (only used outside a batch), undefined on a miss.
 */
function compileFind<T>(st: Subtable<T>): FindFn<T>;
function compileFind<T>(st: Subtable<T>, layout: KeyLayout): PackedFn<T>;
function compileFind<T>(st: Subtable<T>, layout?: KeyLayout): FindFn<T> | PackedFn<T> {
  const nw = st.nw;
  const nc = st.nRow;
  const at = (w: number): number => (layout === undefined ? w : (layout.position[w] ?? -1));
  const sig = `${Array.from(st.words).join(",")}/${Array.from(st.masks).join(",")}${
    layout === undefined ? "" : `@${Array.from(st.words, at).join(",")}`
  }`;
  let factory = finderCache.get(sig);
  if (!factory) {
    const loads: string[] = [];
    const parts: string[][] = Array.from({ length: nc }, () => []);
    for (let j = 0; j < nw; j++) {
      const w = st.words[j]!;
      const p = at(w);
      loads.push(p < 0 ? `const a${j} = 0;` : `const a${j} = key[off + ${p}] & ${st.masks[j]! | 0};`);
      const lo = st.plan[j * PLAN + P_LO]!;
      const pos = st.plan[(nw + j) * PLAN + P_POS]!;
      parts[st.plan[(nw + j) * PLAN + P_ROW]!]!.push(
        lo === 0 && pos === 0 ? `a${j}` : `((a${j} >>> ${lo}) << ${pos})`,
      );
    }
    const rowWords = parts.map((ps, k) => `const c${k} = ${ps.join(" | ")};`);
    const h = sumTree(parts.map((_, k) => `imul(c${k}, ${WORD_MUL[k]!})`));
    const eq = parts.map((_, k) => `rows[b + ${k}] === c${k}`);
    const hit =
      layout === undefined
        ? `if (v < 0) return t.heads[s - 1];
        for (let r = t.heads[s - 1]; r !== null; r = r.next)
          if (r.addVersion <= v && v < r.removeVersion) return r;
        return null;`
        : "return t.heads[s - 1];";
    const miss = layout === undefined ? "null" : "undefined";
    const body = `return function ${layout === undefined ? "find(key, v, off)" : "findPacked(key, off)"} {
  ${loads.join("\n  ")}
  ${rowWords.join("\n  ")}
  const h = ${h};
  const tab = t.tab, rows = t.rows, m = tab.length - 1, shift = t.shift, tag = h << (32 - shift);
  for (let i = h >>> shift; ; i = (i + 1) & m) {
    const e = tab[i];
    if (e === 0) return ${miss};
    if ((e & ~m) === tag) {
      const s = e & m;
      const b = (s - 1) * ${nc};
      if (${eq.length === 0 ? "true" : eq.join(" && ")}) {
        ${hit}
      }
    }
  }
};`;
    factory = new Function("t", "imul", body) as (t: unknown, imul: typeof Math.imul) => unknown;
    finderCache.set(sig, factory);
  }
  return factory(st, Math.imul) as FindFn<T> | PackedFn<T>;
}

/** Subtable.plan: ints per mask word, and their offsets. */
const PLAN = 4;
const P_WORD = 0;
const P_MASK = 1;
const P_LO = 2;
const P_MUL = 3;
const P_ROW = 0;
const P_POS = 1;
const P_BITS = 2;

/** One distinct mask: OVS `struct cls_subtable`. */
class Subtable<T> {
  readonly serial = subtableSerial++;
  readonly maskHash: number;
  /** Key words with a non-zero mask, ascending, and their masks. */
  readonly words: Int32Array;
  readonly masks: Uint32Array;
  readonly nw: number;
  /** End (index into `words`) of each of this subtable's stages; the last is the final stage. */
  readonly stageEnd: Int32Array;
  readonly nStages: number;
  /** Counting sets of partial hashes for the non-final stages. */
  readonly stageSets: HashCounter[];
  /** Per stage, the tries to check before hashing it, and this subtable's prefix length. */
  readonly stageTries: Int32Array[];
  /** All tries with a prefix length here (the no-wildcards lookup checks them up front). */
  readonly allTries: Int32Array;
  readonly triePlen: Int32Array;
  /** Ports trie (OVS `ports_trie`), over (src << 16 | dst) & portsMask. */
  readonly portsLen: number;
  readonly portsMask: number;
  readonly portsTrie: PrefixTrie | null;
  readonly portsSrc: number;
  readonly portsDst: number;

  /**
   * Rows: a head's masked value with its narrow fields packed together (in_port, vlan_tci,
   * dl_type, … take 16 bits or fewer each), so the ovstest mask's 17 words are 12 and a row
   * compare reads one cache line more often than two. Mask word j's bits [lo, lo + width) sit
   * at bit pos of row word k (first fit; disjoint, so equal rows ⇔ equal masked values).
   */
  readonly nRow: number;
  /**
   * Per mask word j, PLAN ints at j * PLAN: key word, mask, lo, WORD_MUL[k] << pos (a row's
   * hash Σ row[k] · WORD_MUL[k] is Σ_j ((key[w] & m) >>> lo) · that, as its words are sums of
   * disjoint parts, so the generic paths hash without building a row); then, at (nw + j) *
   * PLAN, for row compares: k, pos, and the field's bits in its row word. One array, so that a
   * probe of one of a ClassBench table's thousand subtables reads one more object, not five.
   */
  readonly plan: Int32Array;

  // Hash table (read by the generated finders, hence not private), 2^k slots: a head's slot
  // holds the low 32 − k bits of its hash above head index + 1 (which is < 2^k: the table keeps
  // at least twice as many slots as heads), 0 = empty. The home slot is the hash's top k bits
  // (`shift` = 32 − k), which a sum of products spreads well without a finaliser; so one word
  // holds the whole hash and a probe reads a single int.
  tab: Int32Array;
  shift = 29;
  // Heads: one per distinct masked value, and its row at rows[head * nRow …].
  heads: (RuleRec<T> | null)[] = [];
  rows: Int32Array;
  /** Generated finder for this mask (see compileFind), once the subtable is probed often. */
  fast: FindFn<T> | null = null;
  /** Generated finder over packed keys of `packedLayout` (Classifier.lookupPacked). */
  packedFast: PackedFn<T> = NO_PACKED;
  packedLayout: KeyLayout | null = null;
  private probes = 0;
  private headHash: Int32Array;
  private freeHeads: number[] = [];
  private nHeads = 0;

  nRules = 0;
  maxPri = -1;
  /** Lowest order among rules at maxPri (tie rule); recomputed lazily when `minDirty`. */
  minOrd = 0;
  minDirty = false;
  private priCount = new Map<number, number>();

  constructor(mask: Uint32Array, opts: ResolvedOptions, tctx: TrieCtx) {
    this.maskHash = maskHash(mask);
    const words: number[] = [];
    for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) words.push(i);
    this.nw = words.length;
    this.words = Int32Array.from(words);
    this.masks = Uint32Array.from(words, (w) => mask[w]!);
    // Stages that add mask bits get an index; the last non-empty one is the final stage.
    const ends: number[] = [];
    const layoutStage: number[] = [];
    let j = 0;
    for (let s = 0; s < opts.stageEnds.length; s++) {
      const start = j;
      while (j < words.length && words[j]! < opts.stageEnds[s]!) j++;
      if (j > start) {
        ends.push(j);
        layoutStage.push(s);
      }
    }
    if (ends.length === 0) {
      ends.push(0);
      layoutStage.push(opts.stageEnds.length - 1);
    }
    this.stageEnd = Int32Array.from(ends);
    this.nStages = ends.length;
    this.stageSets = [];
    for (let s = 0; s < this.nStages - 1; s++) this.stageSets.push(new HashCounter(8));
    const nTries = tctx.tries.length;
    this.triePlen = new Int32Array(nTries);
    for (let t = 0; t < nTries; t++)
      this.triePlen[t] =
        tctx.bit0[t] === 0 && (tctx.bits[t]! & 31) === 0
          ? prefixLen(mask, tctx.word[t]!, tctx.bits[t]! >>> 5)
          : narrowPrefixLen(mask[tctx.word[t]!]!, tctx.bit0[t]!, tctx.bits[t]!);
    this.stageTries = [];
    for (let s = 0; s < this.nStages; s++) {
      const list: number[] = [];
      for (let t = 0; t < nTries; t++)
        if (
          t < tctx.nOvs &&
          this.triePlen[t]! > 0 &&
          stageOf(opts.stageEnds, tctx.word[t]!) === layoutStage[s]
        )
          list.push(t);
      this.stageTries.push(list.length === 0 ? NO_TRIES : Int32Array.from(list));
    }
    const all: number[] = [];
    for (let t = 0; t < nTries; t++) if (this.triePlen[t]! > 0) all.push(t);
    this.allTries = Int32Array.from(all);
    // Ports trie: only when the port words hold 16-bit values and sit in the final stage.
    let pm = 0;
    if (opts.ports) {
      const ms = mask[opts.ports.src]!;
      const md = mask[opts.ports.dst]!;
      const finalStage = layoutStage[this.nStages - 1]!;
      if (
        ms <= 0xffff &&
        md <= 0xffff &&
        (ms | md) !== 0 &&
        stageOf(opts.stageEnds, opts.ports.src) === finalStage &&
        stageOf(opts.stageEnds, opts.ports.dst) === finalStage
      )
        pm = ((ms << 16) | md) >>> 0;
    }
    this.portsMask = pm;
    this.portsSrc = opts.ports?.src ?? 0;
    this.portsDst = opts.ports?.dst ?? 0;
    this.portsLen = pm === 0 ? 0 : 32 - Math.min(32, ctz32(pm));
    this.portsTrie = pm === 0 ? null : new PrefixTrie(16);
    // Row layout: first fit of each mask word's span of bits.
    const plan = new Int32Array(2 * this.nw * PLAN);
    const fill: number[] = [];
    for (let j = 0; j < this.nw; j++) {
      const m = this.masks[j]!;
      const lo = ctz32(m);
      const width = 32 - Math.clz32(m) - lo;
      let k = fill.findIndex((f) => f + width <= 32);
      if (k < 0) {
        k = fill.length;
        fill.push(0);
      }
      const pos = fill[k]!;
      const p = j * PLAN;
      plan[p + P_WORD] = this.words[j]!;
      plan[p + P_MASK] = m;
      plan[p + P_LO] = lo;
      plan[p + P_MUL] = WORD_MUL[k]! << pos;
      const q = (this.nw + j) * PLAN;
      plan[q + P_ROW] = k;
      plan[q + P_POS] = pos;
      plan[q + P_BITS] = (m >>> lo) << pos;
      fill[k]! += width;
    }
    this.nRow = fill.length;
    this.plan = plan;
    this.tab = new Int32Array(8);
    this.rows = new Int32Array(4 * Math.max(1, this.nRow));
    this.headHash = new Int32Array(4);
  }

  get byteLength(): number {
    let b =
      this.tab.byteLength +
      this.rows.byteLength +
      this.plan.byteLength +
      this.headHash.byteLength +
      this.heads.length * 8 +
      // Object headers: ~13 typed arrays (view + buffer ≈ 120 B each), the record, the Map.
      2000;
    for (const s of this.stageSets) b += s.byteLength + 300;
    if (this.portsTrie) b += this.portsTrie.byteLength;
    return b;
  }

  /** True if `mask` (full width) is this subtable's mask. */
  sameMask(mask: Uint32Array): boolean {
    let j = 0;
    for (let i = 0; i < mask.length; i++) {
      const m = mask[i]!;
      if (m === 0) continue;
      if (j >= this.nw || this.words[j] !== i || this.masks[j] !== m) return false;
      j++;
    }
    return j === this.nw;
  }

  /** Hash-table hash of the key (or a rule value) under this subtable's mask: Σ row[k] ·
   * WORD_MUL[k] of its row, computed field by field. */
  keyHash(key: Uint32Array): number {
    const plan = this.plan;
    const end = this.nw * PLAN;
    let h = 0;
    for (let p = 0; p < end; p += PLAN)
      h = (h + Math.imul((key[plan[p]!]! & plan[p + P_MASK]!) >>> plan[p + P_LO]!, plan[p + P_MUL]!)) | 0;
    return h;
  }

  /** Head index whose masked value equals the key's (hash `h`, from `keyHash`), or -1. */
  findHead(key: Uint32Array, h: number): number {
    const tab = this.tab;
    const m = tab.length - 1;
    const shift = this.shift;
    const tag = h << (32 - shift);
    const nc = this.nRow;
    const end = this.nw * PLAN;
    const rows = this.rows;
    const plan = this.plan;
    for (let i = h >>> shift; ; i = (i + 1) & m) {
      const e = tab[i]!;
      if (e === 0) return -1;
      if ((e & ~m) === tag) {
        // Field by field against the row (rows hold nothing but these fields).
        const base = ((e & m) - 1) * nc;
        let p = 0;
        for (; p < end; p += PLAN) {
          const q = end + p;
          const part = ((key[plan[p]!]! & plan[p + P_MASK]!) >>> plan[p + P_LO]!) << plan[q + P_POS]!;
          if ((rows[base + plan[q + P_ROW]!]! & plan[q + P_BITS]!) !== part) break;
        }
        if (p === end) return (e & m) - 1;
      }
    }
  }

  /** The best rule visible in `version` whose masked value equals the key's, or null. */
  find(key: Uint32Array, version: number, tc: TrieCtx): RuleRec<T> | null {
    // Trie prefilter: skip the subtable if no rule prefix of its length matches the address.
    // (OVS uses the tries only when tracking wildcards; the answer is the same either way.)
    const at = tc.prefilter ? this.allTries : NO_TRIES;
    for (let i = 0; i < at.length; i++) {
      const t = at[i]!;
      if (tc.done[t] === 0) trieLookup(tc, t, key);
      const b = this.triePlen[t]! - 1;
      if (((tc.plens[t * 4 + (b >>> 5)]! >>> (31 - (b & 31))) & 1) === 0) return null;
    }
    if (this.fast !== null) return this.fast(key, version, 0);
    if (++this.probes === FAST_AFTER && tc.codegen) this.fast = compileFind(this);
    const hd = this.findHead(key, this.keyHash(key));
    if (hd < 0) return null;
    if (version < 0) return this.heads[hd]!;
    for (let r: RuleRec<T> | null = this.heads[hd]!; r !== null; r = r.next)
      if (r.addVersion <= version && version < r.removeVersion) return r;
    return null;
  }

  /** OVS `find_match_wc`: staged lookup with trie checks, un-wildcarding into `wc`. */
  findWc(key: Uint32Array, version: number, wc: Uint32Array, tc: TrieCtx): RuleRec<T> | null {
    const words = this.words;
    const masks = this.masks;
    const last = this.nStages - 1;
    let h = 0;
    let j = 0;
    for (let s = 0; s < last; s++) {
      if (this.checkTries(s, key, wc, tc)) {
        this.fold(wc, j);
        return null;
      }
      const end = this.stageEnd[s]!;
      for (; j < end; j++) h = mix(h, key[words[j]!]! & masks[j]!);
      if (!this.stageSets[s]!.has(finStage(h))) {
        this.fold(wc, j);
        return null;
      }
    }
    if (this.checkTries(last, key, wc, tc)) {
      this.fold(wc, j);
      return null;
    }
    const hd = this.findHead(key, this.keyHash(key));
    let rule: RuleRec<T> | null = null;
    if (hd >= 0) {
      for (let r: RuleRec<T> | null = this.heads[hd]!; r !== null; r = r.next)
        if (r.addVersion <= version && version < r.removeVersion) {
          rule = r;
          break;
        }
    }
    if (rule === null && this.portsTrie !== null) {
      // Un-wildcard only the port prefix that decided the miss (OVS ports trie).
      const ps = this.portsSrc;
      const pd = this.portsDst;
      const pm = this.portsMask;
      const value = (((key[ps]! << 16) | (key[pd]! & 0xffff)) & pm) >>> 0;
      PORTS_TMP[0] = value;
      const mbits = this.portsTrie.lookup(PORTS_TMP, 0, 32, PORTS_PLENS, 0);
      const keep = (pm & (mbits === 0 ? 0 : ~0 << (32 - mbits))) >>> 0;
      const oldS = wc[ps]!;
      const oldD = wc[pd]!;
      this.fold(wc, this.nw);
      wc[ps] = oldS | (keep >>> 16);
      wc[pd] = oldD | (keep & 0xffff);
      return null;
    }
    this.fold(wc, this.nw);
    return rule;
  }

  private fold(wc: Uint32Array, end: number): void {
    const words = this.words;
    const masks = this.masks;
    for (let j = 0; j < end; j++) wc[words[j]!]! |= masks[j]!;
  }

  /** OVS `check_tries`: true if the trie proves this subtable cannot match at stage `s`. */
  private checkTries(s: number, key: Uint32Array, wc: Uint32Array, tc: TrieCtx): boolean {
    const list = this.stageTries[s]!;
    for (let i = 0; i < list.length; i++) {
      const t = list[i]!;
      const plen = this.triePlen[t]!;
      if (tc.done[t] === 0) trieLookup(tc, t, key);
      const b = plen - 1;
      if (((tc.plens[t * 4 + (b >>> 5)]! >>> (31 - (b & 31))) & 1) === 0) {
        const mb = tc.maskbits[t]!;
        if (mb <= plen) {
          setPrefixBits(wc, tc.word[t]!, mb);
          return true;
        }
        if (prefixBitsSet(wc, tc.word[t]!, mb)) return true;
      }
    }
    return false;
  }

  /** Adds a rule (already validated; same mask). */
  insert(r: RuleRec<T>, tc: TrieCtx): void {
    const h = this.keyHash(r.value);
    let hd = this.findHead(r.value, h);
    if (hd < 0) {
      hd = this.newHead(r, h);
      // Stage sets and tries count distinct masked values (bucket heads), like OVS.
      this.addIndices(r.value, 1);
      for (let t = 0; t < tc.tries.length; t++)
        if (this.triePlen[t]! > 0) tc.tries[t]!.insert(r.value, tc.word[t]!, this.triePlen[t]!, tc.bit0[t]!);
      if (this.portsTrie !== null) {
        PORTS_TMP[0] = ((r.value[this.portsSrc]! << 16) | r.value[this.portsDst]!) & this.portsMask;
        this.portsTrie.insert(PORTS_TMP, 0, this.portsLen);
      }
    } else {
      // Chain in (priority desc, order asc).
      let prev: RuleRec<T> | null = null;
      let cur: RuleRec<T> | null = this.heads[hd]!;
      while (cur !== null && !beats(r.priority, r.order, cur.priority, cur.order)) {
        prev = cur;
        cur = cur.next;
      }
      r.next = cur;
      if (prev === null) this.heads[hd] = r;
      else prev.next = r;
    }
    this.nRules++;
    this.priCount.set(r.priority, (this.priCount.get(r.priority) ?? 0) + 1);
    if (r.priority > this.maxPri) {
      this.maxPri = r.priority;
      this.minOrd = r.order;
    } else if (r.priority === this.maxPri && r.order < this.minOrd) this.minOrd = r.order;
  }

  /** Removes a rule; returns false if it was not here. */
  remove(r: RuleRec<T>, tc: TrieCtx): boolean {
    const h = this.keyHash(r.value);
    const hd = this.findHead(r.value, h);
    if (hd < 0) return false;
    let prev: RuleRec<T> | null = null;
    let cur = this.heads[hd] ?? null;
    while (cur !== null && cur !== r) {
      prev = cur;
      cur = cur.next;
    }
    if (cur === null) return false;
    if (prev === null) this.heads[hd] = r.next;
    else prev.next = r.next;
    r.next = null;
    if (this.heads[hd] === null) {
      this.deleteHead(hd, h);
      this.addIndices(r.value, -1);
      for (let t = 0; t < tc.tries.length; t++)
        if (this.triePlen[t]! > 0) tc.tries[t]!.remove(r.value, tc.word[t]!, this.triePlen[t]!, tc.bit0[t]!);
      if (this.portsTrie !== null) {
        PORTS_TMP[0] = ((r.value[this.portsSrc]! << 16) | r.value[this.portsDst]!) & this.portsMask;
        this.portsTrie.remove(PORTS_TMP, 0, this.portsLen);
      }
    }
    this.nRules--;
    const c = this.priCount.get(r.priority)! - 1;
    if (c === 0) this.priCount.delete(r.priority);
    else this.priCount.set(r.priority, c);
    if (r.priority === this.maxPri) {
      if (c === 0) {
        let mx = -1;
        for (const p of this.priCount.keys()) if (p > mx) mx = p;
        this.maxPri = mx;
        this.minDirty = true;
      } else if (r.order === this.minOrd) this.minDirty = true;
    }
    return true;
  }

  /** Recomputes minOrd (lowest order among rules at maxPri). */
  refreshMinOrd(): void {
    let mo = VERSION_MAX;
    for (const head of this.heads) {
      for (let r = head ?? null; r !== null; r = r.next) {
        if (r.priority < this.maxPri) break;
        if (r.priority === this.maxPri && r.order < mo) mo = r.order;
      }
    }
    this.minOrd = mo;
    this.minDirty = false;
  }

  /** Visits every rule record. */
  forEach(f: (r: RuleRec<T>) => void): void {
    for (const head of this.heads) for (let r = head ?? null; r !== null; r = r.next) f(r);
  }

  /** A rule with the same value and priority (any version), scanning the bucket. */
  findSame(value: Uint32Array, priority: number, visible: (r: RuleRec<T>) => boolean): RuleRec<T> | null {
    const hd = this.findHead(value, this.keyHash(value));
    if (hd < 0) return null;
    for (let r = this.heads[hd] ?? null; r !== null; r = r.next)
      if (r.priority === priority && visible(r)) return r;
    return null;
  }

  private addIndices(value: Uint32Array, delta: 1 | -1): void {
    const words = this.words;
    const masks = this.masks;
    let h = 0;
    let j = 0;
    for (let s = 0; s < this.nStages - 1; s++) {
      const end = this.stageEnd[s]!;
      for (; j < end; j++) h = mix(h, value[words[j]!]! & masks[j]!);
      if (delta > 0) this.stageSets[s]!.add(finStage(h));
      else this.stageSets[s]!.remove(finStage(h));
    }
  }

  /** A head for `r`, whose hash is `h`. */
  private newHead(r: RuleRec<T>, h: number): number {
    const nc = this.nRow;
    let hd = this.freeHeads.pop();
    if (hd === undefined) {
      hd = this.heads.length;
      this.heads.push(null);
      if ((hd + 1) * nc > this.rows.length) {
        const nv = new Int32Array(this.rows.length * 2);
        nv.set(this.rows);
        this.rows = nv;
      }
      if (hd >= this.headHash.length) {
        const nh = new Int32Array(this.headHash.length * 2);
        nh.set(this.headHash);
        this.headHash = nh;
      }
    }
    this.heads[hd] = r;
    this.headHash[hd] = h;
    const rows = this.rows;
    const plan = this.plan;
    const base = hd * nc;
    for (let k = 0; k < nc; k++) rows[base + k] = 0;
    const end = this.nw * PLAN;
    for (let p = 0; p < end; p += PLAN)
      rows[base + plan[end + p + P_ROW]!]! |=
        ((r.value[plan[p]!]! & plan[p + P_MASK]!) >>> plan[p + P_LO]!) << plan[end + p + P_POS]!;
    this.nHeads++;
    if (this.nHeads * 2 > this.tab.length) this.rehash(this.tab.length * 2);
    else this.place(hd, h);
    return hd;
  }

  private place(hd: number, h: number): void {
    const tab = this.tab;
    const m = tab.length - 1;
    let i = h >>> this.shift;
    while (tab[i] !== 0) i = (i + 1) & m;
    tab[i] = (h << (32 - this.shift)) | (hd + 1);
  }

  /** A table of `slots` slots (a power of two ≥ 8) holding every head. */
  private rehash(slots: number): void {
    this.tab = new Int32Array(slots);
    this.shift = Math.clz32(slots) + 1;
    for (let hd = 0; hd < this.heads.length; hd++)
      if (this.heads[hd] != null) this.place(hd, this.headHash[hd]!);
  }

  private deleteHead(hd: number, h: number): void {
    const tab = this.tab;
    const m = tab.length - 1;
    const shift = this.shift;
    let i = h >>> shift;
    while ((tab[i]! & m) !== hd + 1) i = (i + 1) & m;
    let j = i;
    for (;;) {
      j = (j + 1) & m;
      const e = tab[j]!;
      if (e === 0) break;
      const k = this.headHash[(e & m) - 1]! >>> shift;
      if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
        tab[i] = e;
        i = j;
      }
    }
    tab[i] = 0;
    this.heads[hd] = null;
    this.freeHeads.push(hd);
    this.nHeads--;
  }
}

function ctz32(x: number): number {
  if (x === 0) return 32;
  return 31 - Math.clz32(x & -x);
}

function maskHash(mask: Uint32Array): number {
  let h = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) h = mix(mix(h, i), mask[i]!);
  return fin(h);
}

/** Counters a lookup can fill for benchmarks and tests. */
export interface LookupStats {
  /** Subtables probed. */
  subtables: number;
}

/**
 * Tuple-space-search classifier (OVS `struct classifier`). See the essay at the top of this
 * module for what it guarantees.
 *
 * @example
 * const cls = new Classifier<string>();
 * const mask = newKey(); mask[W.dl_type] = 0xffff;
 * const value = newKey(); value[W.dl_type] = 0x0800;
 * cls.insert({ priority: 10, value, mask, payload: "ip" });
 * const wc = newKey();
 * cls.lookup(flowToKey(makeFlow({ dl_type: 0x0800 })), wc)?.payload; // "ip"; wc[W.dl_type] = 0xffff
 */
export class Classifier<T> extends RuleSet<T> {
  private all: Subtable<T>[] = [];
  private pvec: Subtable<T>[] = [];
  private groups: (Subtable<T>[] | undefined)[] | null = null;
  private dirty = false;
  private byMask = new Map<number, Subtable<T>[]>();
  private readonly tc: TrieCtx;
  private total = 0;
  /** The only subtable when the table has one mask and no trie prefilter (see lookup). */
  private one: Subtable<T> | null = null;

  constructor(options: ClassifierOptions = {}) {
    super(options);
    const tries = [...this.options.tries, ...this.options.prefilterTries];
    const n = tries.length;
    this.tc = {
      tries: tries.map(() => new PrefixTrie(64)),
      word: Int32Array.from(tries, (t) => t.word),
      bits: Int32Array.from(tries, (t) => t.bits ?? 32 * (t.nWords ?? 1)),
      bit0: Int32Array.from(tries, (t) => t.bitOffset ?? 0),
      nOvs: this.options.tries.length,
      preWord: Int32Array.from(tries, (t) => (t.prereq ? t.prereq.word : -1)),
      preMask: Uint32Array.from(tries, (t) => (t.prereq ? t.prereq.mask >>> 0 : 0)),
      preValue: Uint32Array.from(tries, (t) => (t.prereq ? t.prereq.value >>> 0 : 0)),
      done: new Uint8Array(n),
      maskbits: new Int32Array(n),
      plens: new Uint32Array(4 * n),
      prefilter: false,
      codegen: true,
    };
  }

  /** Distinct masks (subtables), including those whose rules are all invisible. */
  get masks(): number {
    return this.all.length;
  }

  /** Approximate bytes of typed arrays and records held (for benchmarks). */
  get byteEstimate(): number {
    let b = 0;
    for (const s of this.all) b += s.byteLength;
    for (const t of this.tc.tries) b += t.byteLength;
    return b + this.total * 112;
  }

  private subtableFor(mask: Uint32Array, create: boolean): Subtable<T> | undefined {
    const h = maskHash(mask);
    const list = this.byMask.get(h);
    if (list) for (const s of list) if (s.sameMask(mask)) return s;
    if (!create) return undefined;
    const s = new Subtable<T>(mask, this.options, this.tc);
    if (list) list.push(s);
    else this.byMask.set(h, [s]);
    this.all.push(s);
    return s;
  }

  /** When `inserting`, the subtable for `mask` is made first; it stays (and counts in `masks`)
   * even if the insert then fails as a duplicate. */
  protected findVisible(
    value: Uint32Array,
    mask: Uint32Array,
    priority: number,
    v: number,
    inserting: boolean,
  ): RuleRec<T> | undefined {
    const s = this.subtableFor(mask, inserting);
    if (!s) return undefined;
    return s.findSame(value, priority, (r) => r.addVersion <= v && v < r.removeVersion) ?? undefined;
  }

  protected physicalInsert(r: RuleRec<T>): void {
    this.subtableFor(r.mask, true)!.insert(r, this.tc);
    this.total++;
    this.dirty = true;
    this.pkLayout = null;
  }

  protected holds(r: RuleRec<T>): boolean {
    const s = this.subtableFor(r.mask, false);
    return s !== undefined && s.findSame(r.value, r.priority, (x) => x === r) !== null;
  }

  protected physicalRemove(r: RuleRec<T>): boolean {
    const s = this.subtableFor(r.mask, false);
    if (!s?.remove(r, this.tc)) return false;
    this.total--;
    if (s.nRules === 0) {
      this.all.splice(this.all.indexOf(s), 1);
      const h = s.maskHash;
      const list = this.byMask.get(h)!;
      list.splice(list.indexOf(s), 1);
      if (list.length === 0) this.byMask.delete(h);
    }
    this.dirty = true;
    this.pkLayout = null;
    return true;
  }

  /** Rebuilds the priority vector (OVS `pvector_publish`). */
  private publish(): void {
    for (const s of this.all) if (s.minDirty) s.refreshMinOrd();
    this.pvec = this.all
      .slice()
      .sort((a, b) => b.maxPri - a.maxPri || a.minOrd - b.minOrd || a.serial - b.serial);
    this.tc.prefilter = this.all.length >= this.options.prefilterMinSubtables;
    this.tc.codegen = this.all.length <= CODEGEN_MAX_SUBTABLES;
    this.one = this.pvec.length === 1 && !this.tc.prefilter ? this.pvec[0]! : null;
    // Tuple space pruning (Srinivasan, Suri, Varghese, SIGCOMM'99): group subtables by their
    // prefix lengths on the first two 32-bit trie fields, so a lookup without wildcards visits
    // only the groups whose lengths the tries say can match.
    this.groups = null;
    const tc = this.tc;
    if (
      tc.prefilter &&
      tc.nOvs >= 2 &&
      tc.bits[0] === 32 &&
      tc.bits[1] === 32 &&
      tc.bit0[0] === 0 &&
      tc.bit0[1] === 0
    ) {
      const g: (Subtable<T>[] | undefined)[] = new Array(33 * 33).fill(undefined);
      for (const s of this.pvec) {
        const i = s.triePlen[0]! * 33 + s.triePlen[1]!;
        const list = g[i];
        if (list) list.push(s);
        else g[i] = [s];
      }
      this.groups = g;
    }
    this.dirty = false;
  }

  /** Lookup without wildcards over the pruned groups; undefined if pruning does not apply. */
  private lookupPruned(
    key: Uint32Array,
    v: number,
    stats: LookupStats | undefined,
  ): RuleRec<T> | null | undefined {
    const tc = this.tc;
    const groups = this.groups!;
    trieLookup(tc, 0, key);
    trieLookup(tc, 1, key);
    const p0 = tc.plens[0]!;
    const p1 = tc.plens[4]!;
    // Prerequisites not met (all lengths "may match"): pruning gains nothing.
    if (tc.plens[1] !== 0 || tc.plens[5] !== 0) return undefined;
    let best: RuleRec<T> | null = null;
    let bestPri = -1;
    let bestOrd = 0;
    let probed = 0;
    // Length 0 (no prefix on the field) always "matches"; bit b of plens is length b + 1.
    for (let x0 = p0, l0 = 0; ; ) {
      for (let x1 = p1, l1 = 0; ; ) {
        const grp = groups[l0 * 33 + l1];
        if (grp !== undefined)
          for (let i = 0; i < grp.length; i++) {
            const s = grp[i]!;
            if (s.maxPri < bestPri || (s.maxPri === bestPri && s.minOrd > bestOrd)) break;
            probed++;
            const r = s.find(key, v, tc);
            if (r !== null && (r.priority > bestPri || (r.priority === bestPri && r.order < bestOrd))) {
              best = r;
              bestPri = r.priority;
              bestOrd = r.order;
            }
          }
        if (x1 === 0) break;
        const b1 = Math.clz32(x1);
        l1 = b1 + 1;
        x1 &= ~(0x80000000 >>> b1);
      }
      if (x0 === 0) break;
      const b0 = Math.clz32(x0);
      l0 = b0 + 1;
      x0 &= ~(0x80000000 >>> b0);
    }
    if (stats) stats.subtables += probed;
    return best;
  }

  /**
   * The highest-priority rule visible in the current version that matches `key` (ties: the
   * earliest inserted). If `wc` is given, ORs into it the key bits the answer depended on
   * (the megaflow mask); `wc` is not cleared first, so a pipeline can accumulate across tables.
   */
  lookup(key: Uint32Array, wc?: Uint32Array, stats?: LookupStats): Rule<T> | undefined {
    if (this.dirty) this.publish();
    // One mask, no wildcards, outside a batch: straight to the subtable's generated finder
    // (one hash, one probe; no trie state to clear, no version to check).
    const one = this.one;
    if (one !== null && one.fast !== null && wc === undefined && stats === undefined && !this.inBatch)
      return one.fast(key, -1, 0) ?? undefined;
    const pv = this.pvec;
    const v = this.version_;
    let best: RuleRec<T> | null = null;
    let bestPri = -1;
    let bestOrd = 0;
    let probed = 0;
    const tc = this.tc;
    // Trie results are per lookup; only lookups that may consult the tries need them cleared.
    if (wc !== undefined || tc.prefilter) tc.done.fill(0);
    else if (pv.length === 1) {
      // One mask (the common OpenFlow table shape): one hash probe. Outside a batch every rule
      // held is visible (commit and remove take rules out physically), so version −1 tells the
      // finder to skip the per-rule version check.
      if (stats) stats.subtables++;
      return pv[0]!.find(key, this.inBatch ? v : -1, tc) ?? undefined;
    }
    if (wc === undefined && this.groups !== null) {
      const r = this.lookupPruned(key, v, stats);
      if (r !== undefined) return r ?? undefined;
    }
    if (wc === undefined) {
      for (let i = 0; i < pv.length; i++) {
        const s = pv[i]!;
        if (s.maxPri < bestPri || (s.maxPri === bestPri && s.minOrd > bestOrd)) break;
        probed++;
        const r = s.find(key, v, tc);
        if (r !== null && (r.priority > bestPri || (r.priority === bestPri && r.order < bestOrd))) {
          best = r;
          bestPri = r.priority;
          bestOrd = r.order;
        }
      }
    } else {
      for (let i = 0; i < pv.length; i++) {
        const s = pv[i]!;
        if (s.maxPri < bestPri || (s.maxPri === bestPri && s.minOrd > bestOrd)) break;
        probed++;
        const r = s.findWc(key, v, wc, tc);
        if (r !== null && (r.priority > bestPri || (r.priority === bestPri && r.order < bestOrd))) {
          best = r;
          bestPri = r.priority;
          bestOrd = r.order;
        }
      }
    }
    if (stats) stats.subtables += probed;
    return best ?? undefined;
  }

  /**
   * `lookup(keys.subarray(offset, offset + nWords))` without the view: for keys held in one
   * arena (a batch of packets, as dpif-netdev holds them), where reading a separate typed-array
   * view per key costs a cache miss of its own. No wildcards; a one-mask table is one
   * generated hash probe at `offset`. Throws SimError BAD_VALUE if the key does not fit.
   */
  lookupAt(keys: Uint32Array, offset: number): Rule<T> | undefined {
    if (this.dirty) this.publish();
    if (!(offset >= 0 && offset + this.nWords <= keys.length))
      throw new SimError(
        "BAD_VALUE",
        `classifier: a ${this.nWords}-word key at offset ${offset} does not fit in ${keys.length} words`,
      );
    const one = this.one;
    if (one !== null && one.fast !== null && !this.inBatch) return one.fast(keys, -1, offset) ?? undefined;
    return this.lookup(keys.subarray(offset, offset + this.nWords));
  }

  /**
   * `lookup` of the key packed at `packed[offset … offset + layout.size)` (see KeyLayout: the
   * layout's words, every other word zero), as dpcls looks up a packet's miniflow. No
   * wildcards. A one-mask table outside a batch is one hash probe generated for this layout
   * and mask, reading only the packed words; otherwise the key is unpacked into a scratch key
   * and looked up. Throws SimError BAD_VALUE if the key does not fit or the layout names a
   * word beyond this classifier's nWords.
   */
  lookupPacked(layout: KeyLayout, packed: Uint32Array, offset: number): Rule<T> | undefined {
    // The fast case in as few loads and tests as possible: this sits in a datapath's per-packet
    // loop, where each extra field read showed as a fifth of the lookup's time.
    if (layout === this.pkLayout && offset >= 0 && offset + this.pkSize <= packed.length)
      return this.pkFind(packed, offset);
    return this.lookupPackedSlow(layout, packed, offset);
  }

  /**
   * lookupPacked outside its fast case: validates, then either binds the one-mask table's
   * generated finder for `layout` (pkLayout/pkSize/pkFind, cleared by any insert, remove or
   * batch) or unpacks the key and looks it up in full.
   */
  private lookupPackedSlow(layout: KeyLayout, packed: Uint32Array, offset: number): Rule<T> | undefined {
    if (this.dirty) this.publish();
    if (!(offset >= 0 && offset + layout.size <= packed.length) || layout.maxWord >= this.nWords)
      throw new SimError(
        "BAD_VALUE",
        `classifier: no ${layout.size}-word packed key at offset ${offset} of ${packed.length} words, or a layout word beyond ${this.nWords}`,
      );
    const one = this.one;
    if (one !== null && !this.inBatch && this.tc.codegen) {
      if (one.packedLayout !== layout) {
        one.packedFast = compileFind(one, layout);
        one.packedLayout = layout;
      }
      this.pkLayout = layout;
      this.pkSize = layout.size;
      this.pkFind = one.packedFast;
      return this.pkFind(packed, offset);
    }
    const k = this.scratch;
    layout.unpack(packed, offset, k);
    return this.lookup(k);
  }

  /** lookupPacked's bound fast case: valid while pkLayout is not null. */
  private pkLayout: KeyLayout | null = null;
  private pkSize = 0;
  private pkFind: PackedFn<T> = NO_PACKED;

  override beginBatch(): void {
    super.beginBatch();
    this.pkLayout = null;
  }

  /** Full key for lookupPacked's general path (lookups are not re-entrant). */
  private readonly scratch = new Uint32Array(this.nWords);

  /**
   * The main loop of OVS `classifier_lookup__` for callers that keep "soft" rules (OpenFlow
   * conjunctive matches, whose clauses never match by themselves): subtables are visited in
   * priority order as in `lookup`, but a subtable's match whose payload `isSoft` says is soft
   * does not raise the bar: it is appended to `soft` (when given) and the search goes on. Returns
   * the best hard match. The caller resolves the soft matches (OVS's soft match loop).
   */
  lookupSoft(
    key: Uint32Array,
    wc: Uint32Array | undefined,
    isSoft: (payload: T) => boolean,
    soft: Rule<T>[] | null,
  ): Rule<T> | undefined {
    if (this.dirty) this.publish();
    const pv = this.pvec;
    const v = this.version_;
    const tc = this.tc;
    tc.done.fill(0);
    let best: RuleRec<T> | null = null;
    let bestPri = -1;
    let bestOrd = 0;
    for (let i = 0; i < pv.length; i++) {
      const s = pv[i]!;
      if (s.maxPri < bestPri || (s.maxPri === bestPri && s.minOrd > bestOrd)) break;
      const r = wc === undefined ? s.find(key, v, tc) : s.findWc(key, v, wc, tc);
      if (r === null || !(r.priority > bestPri || (r.priority === bestPri && r.order < bestOrd))) continue;
      if (isSoft(r.payload)) {
        soft?.push(r);
        continue;
      }
      best = r;
      bestPri = r.priority;
      bestOrd = r.order;
    }
    return best ?? undefined;
  }

  protected forEachRec(f: (r: RuleRec<T>) => void): void {
    for (const s of this.all) s.forEach(f);
  }
}

/** Checks that two classifier rule objects are the same (for tests). */
export const sameRule = (a: Rule<unknown> | undefined, b: Rule<unknown> | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.priority === b.priority && sameMatch(a, b));
