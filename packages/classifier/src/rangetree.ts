/**
 * A packet classifier for ACL / firewall rule sets with range fields (ClassBench's 5-tuple and
 * the like): the answer of a linear first-match scan at the speed of a decision tree.
 *
 * Why not the OpenFlow classifier? OVS matches by value/mask, so a port range becomes up to
 * 30 prefixes per port and a filter with two ranges up to 900 rules in as many masks; tuple
 * space search then probes hundreds of hash tables per packet (docs/performance.md §2.2). Here
 * fields stay ranges, and the structure is a hybrid of the CutSplit and HyperSplit families:
 *
 * - Partitions (CutSplit, Li et al. INFOCOM 2018): each rule goes to the partition of the
 *   first field (source, then destination address) whose range is "small" (at most 2^(w/2)
 *   values: a /16 or longer prefix for IPv4), or to the wide partition: up to three trees.
 *   A partition then only holds rules that are narrow in the field its tree cuts first,
 *   which keeps rule replication (and memory) low where a single tree over fw-style sets
 *   full of wildcards would copy them into every leaf. (Four partitions, one per
 *   small/large combination, visited 0.44 more trees per ipc1 lookup and were ~10% slower
 *   on all three 10k sets, A/B in one process.)
 * - One binary decision tree per partition (HyperSplit, Qi et al. INFOCOM 2009): a node
 *   compares one field with a threshold chosen among rule end points to balance the two
 *   children while bounding replication; a leaf holds a few rule slots sorted by priority, so
 *   its first match is its best. A rule that straddles a threshold is in both subtrees.
 * - Incremental: an insert descends to every leaf its ranges reach and adds itself in
 *   priority order; a leaf that grows past `leafSize` splits on the spot (the same heuristic
 *   over its own rules). A delete removes the slot from those leaves. No global rebuild.
 * - Optionally (`wideTop`, off by default) the wide partition's best few rules are also kept
 *   in one small array, which a lookup scans before that tree. It paid when a tree was skipped
 *   by ten bound compares; since the bounds fold wildcards in (five), the plain walk is faster:
 *   wideTop 0 vs 8 measured +4–6% on acl1/fw1/ipc1 10k (21 paired runs, one process).
 * - Lookup: partitions largest first, skipping one whose cell, bounds or top priority cannot
 *   beat the match found; in each, a walk down the tree (one compare per level) and a scan of
 *   one leaf that stops at the first match or at the first rule that cannot win. The code is
 *   generated (`new Function`) per field layout and per sequence of trees (each one's cut
 *   field and shift), so that V8 sees straight-line code over typed arrays with the key in
 *   registers: one block per tree and no loop over them (the first block has no priority
 *   tests at all), cell indexes as constant shifts, the later trees' cells read before the
 *   first walk (their loads overlap its mispredicts), node refs that carry the node's field
 *   (a step loads the key field from the caller's array without waiting for the node), and
 *   `lookup` is that function itself. Each of these measured +1–13% on acl1/fw1/ipc1 10k, A/B
 *   in one process; together ×1.13 / ×1.34 / ×1.17 over the loop version (session 10, 21
 *   paired runs, load ≈ 5).
 *   Tried in the same harness and dropped: leaves split in two sections (each entry's
 *   first-checked field apart, so most rejects read 8 bytes: no gain, the lines were not
 *   the cost); HiCuts-style multi-way bit-slice nodes beside the binary ones (+2% acl1,
 *   −4% fw1, 1.6× the leaf entries: the leaves a trace reaches hold overlapping rules that
 *   no bit slice separates; a per-leaf bitmap over the best 4-bit slice would check 3.9
 *   instead of 5.3 entries per acl1 lookup); int32 priorities and branch-free walk steps (no
 *   change), branch-free entry checks (0.8–0.9×), the source checked first in the trees cut
 *   on the destination (there the destination still rejects 5–20× more entries), the later
 *   trees' bounds read early too (fw1 −6%), cell max and bounds in one test (fw1 −3%).
 *
 * Ties: among equal priorities the rule inserted first wins, as in the linear scan
 * (`RangeLinearClassifier`), against which the property tests check every answer.
 */
import { SimError } from "@ovnsim/packet";
import {
  badKey,
  checkFields,
  validateRangeSpec,
  type RangeClassifierOptions,
  type RangeRule,
  type RangeRuleSpec,
} from "./rangerule.js";

export interface RangeTreeOptions extends RangeClassifierOptions {
  /** Rules per leaf before a split may copy rules into both children. Default 16. */
  readonly leafSize?: number;
  /** Fields whose width decides the partition, in order (at most 3): a rule goes to the tree of
   * the first of them it is narrow in. Default: the first two fields of
   * width ≥ 16 bits (ClassBench: source and destination address). [] = one tree. */
  readonly partitionFields?: readonly number[];
  /** Bits of the top-level cut of each narrow partition (2^cutBits cells). Default 12. */
  readonly cutBits?: number;
  /** A split may put at most this many times a leaf's rules into its two children. Default 1.25. */
  readonly maxReplication?: number;
  /** The wide partition's best rules (by priority) kept as leaf entries in their own array that a lookup scans
   * before walking its tree: the walk is skipped when that scan finds the answer or reaches a
   * rule that cannot beat the match in hand. Default 0 (none). */
  readonly wideTop?: number;
}

/** What a leaf entry points at: its rule (a TreeRule; untyped here, as trees are not generic). */
interface Held {
  readonly slot: number;
  readonly id: number;
}

/** A rule held by a RangeClassifier: lo/hi are read from the classifier's flat storage. */
class TreeRule<T> implements RangeRule<T> {
  slot: number;
  private snapLo: Uint32Array | null = null;
  private snapHi: Uint32Array | null = null;
  constructor(
    private readonly owner: RangeClassifier<T>,
    readonly id: number,
    readonly priority: number,
    readonly payload: T,
    slot: number,
  ) {
    this.slot = slot;
  }
  get lo(): Uint32Array {
    return this.snapLo ?? this.owner.fieldCopy(this.slot, false);
  }
  get hi(): Uint32Array {
    return this.snapHi ?? this.owner.fieldCopy(this.slot, true);
  }
  /** Keeps lo/hi readable after the slot is freed. */
  detach(lo: Uint32Array, hi: Uint32Array): void {
    this.snapLo = lo;
    this.snapHi = hi;
    this.slot = -1;
  }
}

/**
 * One partition's decision tree. Child refs: ≥ 0 the node ref >>> 6, whose field is ref & 63
 * (checkFields allows 64), so that a walk step loads the key field without waiting for the
 * node; < 0 the leaf ~ref.
 *
 * Leaves live in one arena per tree: each leaf's rules in priority order as entries
 * [priority, lo0, width0, lo1, width1, …] (stride E words), so a leaf scan reads adjacent
 * cache lines and never the rule table. The entry's rule is in a parallel array (ps, one
 * per entry), read only on a match: ClassBench's entries are then 8 words, two per cache
 * line, where 9 words with the slot inline straddled two lines in five of nine entries; and
 * it holds the rule object itself, so that a match is one load from the answer, not two
 * (slot, then the slot's rule). leaf (offset, count) and leafCap locate each block; a
 * block that outgrows its capacity moves to the arena's end, and the arena is compacted when
 * it is full (with 50% room) or, after enough changes, trimmed.
 */
class Tree {
  /** Per node: field, left ref, right ref, threshold (uint32 stored as int32): one load site. */
  nodes = new Int32Array(4 * 16);
  nNodes = 0;
  nLeaves = 0;
  /** Per leaf: offset of its block in the pool, then its entry count (adjacent: one miss). */
  leaf = new Int32Array(2 * 16);
  leafCap = new Int32Array(16);
  /** Size at which a leaf last failed to split (0 = never tried). */
  frozen = new Int32Array(16);
  pool: Uint32Array;
  /** Rule of the entry at pool[i·E]. */
  ps: (Held | undefined)[];
  poolUsed = 0;
  poolLive = 0;
  root = ~0;
  count = 0;
  maxPri = -1;
  maxStale = false;
  /** Wide partition only: its best rules in priority order as leaf entries (null: none),
   * scanned before the walk; rebuilt lazily when a change reaches them. Own array, so that
   * the pool's growth is not doubled for it. */
  top: Uint32Array | null = null;
  topS: (Held | undefined)[] | null = null;
  nTop = 0;
  topStale = false;
  /** Top-level cut (HiCuts-style): cell c = v >>> cutShift of field cutField (cutField −1:
   * none) is cells[2c], its ref, and cells[2c + 1], the highest priority of any rule under it
   * (−1 = none): a lookup skips the walk when the cell cannot beat the match it has. */
  readonly cells: Int32Array;
  readonly nCells: number;
  /** Per field, per bucket of its top 8 bits: the highest priority of this tree's rules whose
   * range reaches the bucket (−1: none), wildcards included; bAll[f]: the highest of those
   * that span all of field f (a wildcard rewrites the field's 256 buckets only when it raises
   * bAll, and a remove checks it alone). A lookup that holds a match skips
   * the tree when one field's bucket cannot beat it. Rebuilt at the next lookup when a remove
   * takes out a bucket's best. */
  readonly bound: Int32Array;
  readonly bAll: Int32Array;
  boundStale = false;
  constructor(
    readonly key: number,
    readonly cutField: number,
    readonly cutShift: number,
    readonly cutBits: number,
    readonly E: number,
    boundSize: number,
    d: number,
  ) {
    this.bound = new Int32Array(boundSize).fill(-1);
    this.bAll = new Int32Array(d).fill(-1);
    // Leaf 0 stays empty: cells point at it until a rule lands there.
    this.nCells = cutField < 0 ? 0 : 1 << cutBits;
    this.cells = new Int32Array(2 * this.nCells);
    for (let c = 0; c < this.nCells; c++) {
      this.cells[2 * c] = ~0;
      this.cells[2 * c + 1] = -1;
    }
    this.pool = new Uint32Array(16 * E);
    this.ps = new Array<Held | undefined>(16).fill(undefined);
    this.newLeaf();
  }

  newLeaf(): number {
    const li = this.nLeaves++;
    if (li >= this.leafCap.length) {
      const n = this.leafCap.length * 2;
      const grow = (a: Int32Array): Int32Array<ArrayBuffer> => {
        const b = new Int32Array(n);
        b.set(a);
        return b;
      };
      const l = new Int32Array(2 * n);
      l.set(this.leaf);
      this.leaf = l;
      this.leafCap = grow(this.leafCap);
      this.frozen = grow(this.frozen);
    }
    return li;
  }

  /** Gives leaf li room for `n` entries (moving its block, contents kept); returns the offset. */
  reserve(li: number, n: number, slack: boolean): number {
    const E = this.E;
    const oldCap = this.leafCap[li]!;
    if (n <= oldCap) return this.leaf[2 * li]!;
    const cap = slack ? n + (n >> 2) + 1 : n;
    if (this.poolUsed + cap * E > this.pool.length) this.compact(cap * E);
    const off = this.poolUsed;
    const old = this.leaf[2 * li]!;
    this.pool.copyWithin(off, old, old + this.leaf[2 * li + 1]! * E);
    // Loops, not copyWithin: on a plain array that builtin is generic and slow (100k inserts
    // took half again as long). The old places are cleared so that they hold no removed rule.
    for (let i = 0, d = off / E, o = old / E, m = this.leaf[2 * li + 1]!; i < m; i++) {
      this.ps[d + i] = this.ps[o + i];
      this.ps[o + i] = undefined;
    }
    this.poolUsed += cap * E;
    this.poolLive += (cap - oldCap) * E;
    this.leaf[2 * li] = off;
    this.leafCap[li] = cap;
    return off;
  }

  /** Copies the live blocks into a fresh arena with room for `extra` more words: as much room
   * again while filling (amortised O(1) per entry), none when trimming (extra = 0). */
  compact(extra: number): void {
    const need = this.poolLive + extra;
    const E = this.E;
    const np = new Uint32Array(Math.max(extra === 0 ? need : 2 * need, 16 * E));
    const nps = new Array<Held | undefined>(np.length / E);
    let at = 0;
    for (let li = 0; li < this.nLeaves; li++) {
      const c = this.leafCap[li]! * E;
      if (c === 0) continue;
      const o = this.leaf[2 * li]!;
      const n = this.leaf[2 * li + 1]!;
      np.set(this.pool.subarray(o, o + n * E), at);
      const ai = at / E;
      const oi = o / E;
      for (let i = 0; i < n; i++) nps[ai + i] = this.ps[oi + i];
      this.leaf[2 * li] = at;
      at += c;
    }
    this.pool = np;
    this.ps = nps;
    this.poolUsed = at;
  }

  /** Slots of leaf li in priority order. */
  slots(li: number): number[] {
    const out: number[] = [];
    const off = this.leaf[2 * li]!;
    for (let i = 0; i < this.leaf[2 * li + 1]!; i++) out.push(this.ps[off / this.E + i]!.slot);
    return out;
  }

  newNode(f: number, t: number, l: number, r: number): number {
    const n = this.nNodes++;
    if (4 * n >= this.nodes.length) {
      const nn = new Int32Array(this.nodes.length * 2);
      nn.set(this.nodes);
      this.nodes = nn;
    }
    this.nodes[4 * n] = f;
    this.nodes[4 * n + 1] = l;
    this.nodes[4 * n + 2] = r;
    this.nodes[4 * n + 3] = t | 0;
    return (n << 6) | f;
  }
}

/** Words of a leaf entry: priority, and lo/width per field (one word for ≤ 16-bit fields). */
function entryWords(widths: Int32Array): number {
  let e = 1;
  for (const w of widths) e += w <= 16 ? 1 : 2;
  return e;
}

type LookupFn = (key: ArrayLike<number>, off?: number) => RangeRule<never> | undefined;

/** Compiled per field layout and sequence of trees: the lookup over all partitions (see the
 * module comment). */
function compileLookup(
  widths: Int32Array,
  order: readonly number[],
  bOff: Int32Array,
  bSh: Int32Array,
  withTop: boolean,
  kinds: readonly (readonly number[])[],
): LookupFn {
  const d = widths.length;
  const E = entryWords(widths);
  const loads = Array.from({ length: d }, (_, f) => `const k${f} = key[off + ${f}];`).join("\n");
  const checks: string[] = [];
  // Entries hold lo and width (hi − lo): one unsigned compare per field, (k − lo) mod 2³² >
  // width rejects. Short-circuit: most entries fail on their first field, and each typed-array
  // load costs bounds and detach checks (a branch-free and of all fields measured slower).
  for (let f = 0, w = 1; f < d; f++) {
    if (widths[f]! <= 16) {
      checks.push(`((k${f} - (pool[b + ${w}] & 0xffff)) >>> 0) > pool[b + ${w}] >>> 16`);
      w++;
    } else {
      checks.push(`((k${f} - pool[b + ${w}]) >>> 0) > pool[b + ${w + 1}]`);
      w += 2;
    }
  }
  const ck = order.map((f) => checks[f]!);
  const buckets = Array.from(
    { length: d },
    (_, f) => `const c${f} = ${bOff[f]} + (k${f} >>> ${bSh[f]});`,
  ).join("\n");
  // After the cell's own max (cheaper, and on fw1 it skips more): one field's bucket below
  // the match in hand proves the tree holds nothing better. Buckets and priorities are
  // int32 ≥ −1, so no difference overflows and their OR is negative iff one is: one branch,
  // not five (A/B ×1.01–1.05).
  const bounds = `(${order.map((f) => `(bd[c${f}] - bestPri)`).join(" | ")}) < 0`;
  const skip = `if (bestPri >= 0) {
    const bd = tr.bound;
    if (${bounds}) @NEXT@
  }`;
  // The wide tree's top array (wideTop > 0 only; otherwise left out of the code).
  const topScan = !withTop
    ? ""
    : `    const pool = tr.top;
    if (pool !== null) {
      const ps = tr.topS;
      const nf = tr.nTop;
      let done = nf === tr.count;
      for (let i = 0, b = 0; i < nf; i++, b += ${E}) {
        const p = pool[b];
        if (p < bestPri || (p === bestPri && ps[i].id > best.id)) { done = true; break; }
        if (${ck.join(" || ")}) continue;
        best = ps[i]; bestPri = p;
        done = true;
        break;
      }
      if (done) @NEXT@
    }`;
  // One block per tree, in the order the lookup visits them (kinds: each tree's cut field
  // and shift, field −1 for the wide tree), instead of a loop over trees: the first block
  // knows that no match is in hand (bestPri is −1), so V8 folds every priority test out of
  // it; no block tests the tree's kind, and a cell index is one shift of a key in a register.
  // The cells of the trees after the first are read before the first tree is walked: its
  // walk and scan mispredict, and a load issued after them would wait for the flush, where
  // one issued here overlaps them (ipc1 / fw1 10k walk a second tree's cell on 0.9 / 0.4
  // lookups: ×1.04 / ×1.05, A/B in one process).
  const later = (t: number, kind: readonly number[]): string =>
    `const cl${t} = trees[${t}].cells, cc${t} = 2 * (k${kind[0]} >>> ${kind[1]}), cm${t} = cl${t}[cc${t} + 1], cr${t} = cl${t}[cc${t}];`;
  const block = (t: number, kind: readonly number[]): string => {
    const skipT = t === 0 ? "" : skip;
    const enter =
      kind[0]! < 0
        ? `${skipT}
    ref = tr.root;
    {${topScan}}`
        : t === 0
          ? `ref = tr.cells[2 * (k${kind[0]} >>> ${kind[1]})];`
          : `if (cm${t} < bestPri) @NEXT@
    ${skipT}
    ref = cr${t};`;
    const firstScan = `for (; i < e; i++, b += ${E}) {
      if (${ck.join(" || ")}) continue;
      best = ps[i]; bestPri = pool[b];
      break;
    }`;
    const scan =
      t === 0
        ? firstScan
        : `if (bestPri < 0) {
    ${firstScan}
    @NEXT@
  }
  for (; i < e; i++, b += ${E}) {
    const p = pool[b];
    if (p < bestPri || (p === bestPri && ps[i].id > best.id)) break;
    if (${ck.join(" || ")}) continue;
    best = ps[i]; bestPri = p;
    break;
  }`;
    const code = `{
  const tr = trees[${t}];
  ${t === 0 ? "" : "if (tr.maxPri < bestPri) @NEXT@"}
  const nodes = tr.nodes;
  let ref;
  ${enter}
  while (ref >= 0) {
    const n4 = (ref >> 4) & ~3;
    ref = key[off + (ref & 63)] < (nodes[n4 + 3] >>> 0) ? nodes[n4 + 1] : nodes[n4 + 2];
  }
  const pool = tr.pool;
  const li = ~ref;
  const leaf = tr.leaf;
  let b = leaf[2 * li];
  const ps = tr.ps;
  let i = ${(E & (E - 1)) === 0 ? `b >>> ${Math.log2(E)}` : `b / ${E}`};
  const e = i + leaf[2 * li + 1];
  ${scan}
}`;
    return `T${t}: ${code.replaceAll("@NEXT@", `break T${t};`)}`;
  };
  const body = `
${loads}
${buckets}
${kinds.map((k, t) => (t === 0 || k[0]! < 0 ? "" : later(t, k))).join("\n")}
let best = undefined, bestPri = -1;
${kinds.map((k, t) => block(t, k)).join("\n")}
return best;`;
  // The classifier's own `lookup` (see RangeClassifier.lookup): one call, not a method that
  // calls this.
  return new Function(
    "badKey",
    `return function lookup(key, off = 0) {
if (this.dirty) return this.relookup(key, off);
if (key.length < off + ${d}) throw badKey(${d}, key, off);
const trees = this.order;
${body}}`,
  )(badKey) as LookupFn;
}

const compiled = new Map<string, LookupFn>();
/** Top bits of each field bucketed by Tree.bound (256 buckets: 1 KB per 32-bit field). */
const BOUND_BITS = 8;
/** Sort buffers of `split` (reused: splits are frequent during bulk inserts). */
let scratchLo = new Float64Array(64);
let scratchHi = new Float64Array(64);

/**
 * Decision-tree range classifier (see the module comment).
 *
 * @example
 * const acl = new RangeClassifier<string>({ fields: CLASSBENCH_FIELDS });
 * // 10.0.0.0/8 → any, any source port, destination ports 1024–65535, TCP
 * acl.insert({ priority: 10, lo: [0x0a000000, 0, 0, 1024, 6], hi: [0x0affffff, 0xffffffff, 65535, 65535, 6], payload: "allow" });
 * acl.lookup(Uint32Array.of(0x0a010203, 0xc0a80001, 40000, 8080, 6))?.payload; // "allow"
 */
export class RangeClassifier<T> {
  readonly widths: Int32Array;
  private readonly d: number;
  private readonly leafSize: number;
  private readonly maxRep: number;
  private readonly cutBits: number;
  private readonly wideTop: number;
  private readonly partFields: Int32Array;
  private readonly smallMax: Float64Array;
  /** Bound buckets (see Tree.bound): field f's buckets start at bOff[f], bucket = v >>> bSh[f]. */
  private readonly bOff: Int32Array;
  private readonly bSh: Int32Array;
  private readonly fMax: Float64Array;
  /** Per rule slot: priority, seq (tie order), then lo, hi of each field: one cache line. */
  private R: Uint32Array;
  private readonly S: number;
  /** Words of a leaf entry (entryWords). */
  private readonly E: number;
  private part: Int8Array;
  private recs: (TreeRule<T> | undefined)[] = [];
  private free: number[] = [];
  private cap = 0;
  private nextId = 1;
  private n = 0;
  private treeByKey: (Tree | undefined)[];
  /** Trees, largest first (the likeliest to hold the match, after which the others' cells
   * and leaves are skipped by priority); rebuilt lazily. */
  private order: Tree[] = [];
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: read by the compiled lookup
  private dirty = false;
  /** Inserts and removes since the arenas were last trimmed. */
  private changes = 0;
  /**
   * The highest-priority rule (ties: the earliest inserted) whose ranges hold the key
   * key[offset … offset + fields), or undefined. Allocates nothing. A property, not a
   * method: the code compiled for this classifier's trees (compileLookup), so that a lookup
   * is one call.
   */
  lookup: (key: ArrayLike<number>, offset?: number) => RangeRule<T> | undefined;
  /** Range checks' field order, and whether the wide tree has a top array (compileLookup). */
  private readonly checkOrder: readonly number[];
  private readonly withTop: boolean;

  constructor(options: RangeTreeOptions) {
    this.widths = checkFields(options.fields);
    const d = this.widths.length;
    this.d = d;
    this.bOff = new Int32Array(d + 1);
    this.bSh = new Int32Array(d);
    this.fMax = new Float64Array(d);
    for (let f = 0; f < d; f++) {
      const w = this.widths[f]!;
      this.bSh[f] = Math.max(0, w - BOUND_BITS);
      this.bOff[f + 1] = this.bOff[f]! + 2 ** (w - this.bSh[f]!);
      this.fMax[f] = 2 ** w - 1;
    }
    const ls = options.leafSize ?? 16;
    if (!Number.isInteger(ls) || ls < 1 || ls > 4096)
      throw new SimError("BAD_VALUE", `range classifier: leafSize ${ls} is not an integer in 1..4096`);
    this.leafSize = ls;
    const rep = options.maxReplication ?? 1.25;
    if (!(rep >= 1 && rep <= 2))
      throw new SimError("BAD_VALUE", `range classifier: maxReplication ${rep} is not in 1..2`);
    this.maxRep = rep;
    const cb = options.cutBits ?? 12;
    if (!Number.isInteger(cb) || cb < 1 || cb > 20)
      throw new SimError("BAD_VALUE", `range classifier: cutBits ${cb} is not an integer in 1..20`);
    this.cutBits = cb;
    const wt = options.wideTop ?? 0;
    if (!Number.isInteger(wt) || wt < 0 || wt > 4096)
      throw new SimError("BAD_VALUE", `range classifier: wideTop ${wt} is not an integer in 0..4096`);
    this.wideTop = wt;
    const pf =
      options.partitionFields ?? [...this.widths.keys()].filter((f) => this.widths[f]! >= 16).slice(0, 2);
    if (pf.length > 3 || pf.some((f) => !Number.isInteger(f) || f < 0 || f >= d))
      throw new SimError(
        "BAD_VALUE",
        `range classifier: partitionFields ${JSON.stringify(pf)} are not ≤ 3 fields`,
      );
    this.partFields = Int32Array.from(pf);
    this.smallMax = Float64Array.from(pf, (f) => 2 ** Math.floor(this.widths[f]! / 2) - 1);
    this.treeByKey = new Array(pf.length + 1).fill(undefined);
    this.S = 2 * d + 2;
    this.E = entryWords(this.widths);
    this.R = new Uint32Array(0);
    this.part = new Int8Array(0);
    this.grow(64);
    // Range checks: the partition fields last to first, then the others. Leaves are reached
    // through cells on the first partition field, so their entries often share its top bits
    // and it rejects least: destination first rejected 8–12% more entries per check on
    // ipc1/fw1 10k (A/B in one process), acl1 unchanged.
    const order = [
      ...Array.from(this.partFields).reverse(),
      ...[...this.widths.keys()].filter((f) => !pf.includes(f)),
    ];
    this.checkOrder = order;
    this.withTop = this.wideTop > 0 && pf.length > 0;
    this.lookup = this.compiled([]);
  }

  /** The lookup for trees of these kinds in this order (see compileLookup), compiled once per
   * field layout and kinds for all classifiers. */
  private compiled(kinds: readonly (readonly number[])[]): LookupFn {
    const sig = `${this.widths.join(",")}/${this.checkOrder.join(",")}/${this.withTop}/${kinds.join(";")}`;
    let fn = compiled.get(sig);
    if (!fn) {
      fn = compileLookup(this.widths, this.checkOrder, this.bOff, this.bSh, this.withTop, kinds);
      compiled.set(sig, fn);
    }
    return fn;
  }

  /** Rules held. */
  get size(): number {
    return this.n;
  }

  /** Partitions (trees) in use. */
  get partitions(): number {
    return this.treeByKey.filter((t) => t !== undefined && t.count > 0).length;
  }

  /** Shape figures for benchmarks: nodes, leaves, rule slots in leaves (replication). */
  get shape(): { nodes: number; leaves: number; leafEntries: number; maxDepth: number } {
    let nodes = 0;
    let leaves = 0;
    let entries = 0;
    let maxDepth = 0;
    for (const t of this.treeByKey) {
      if (!t) continue;
      nodes += t.nNodes;
      const walk = (ref: number, depth: number): void => {
        if (ref < 0) {
          leaves++;
          entries += t.leaf[2 * ~ref + 1]!;
          if (depth > maxDepth) maxDepth = depth;
          return;
        }
        walk(t.nodes[4 * (ref >>> 6) + 1]!, depth + 1);
        walk(t.nodes[4 * (ref >>> 6) + 2]!, depth + 1);
      };
      if (t.cutField < 0) walk(t.root, 0);
      else for (let c = 0; c < t.nCells; c++) if (t.cells[2 * c] !== ~0) walk(t.cells[2 * c]!, 1);
    }
    return { nodes, leaves, leafEntries: entries, maxDepth };
  }

  /**
   * Structural bytes: flat rule storage, nodes, leaf arrays (4 bytes per slot entry plus an
   * array header) and one record object per rule (estimated at 48 bytes).
   */
  get byteEstimate(): number {
    let b = this.cap * (4 * this.S + 1 + 4) + this.n * 48;
    for (const t of this.treeByKey) {
      if (!t) continue;
      b += t.nodes.byteLength + t.cells.byteLength + (t.top?.byteLength ?? 0);
      b += t.bound.byteLength + t.bAll.byteLength;
      b +=
        t.pool.byteLength +
        8 * t.ps.length +
        8 * (t.topS?.length ?? 0) +
        t.leaf.byteLength +
        t.leafCap.byteLength +
        t.frozen.byteLength;
    }
    return b;
  }

  /** A copy of one rule's lo or hi fields (for TreeRule). */
  fieldCopy(slot: number, high: boolean): Uint32Array {
    const out = new Uint32Array(this.d);
    for (let f = 0; f < this.d; f++) out[f] = this.R[slot * this.S + 2 + 2 * f + (high ? 1 : 0)]!;
    return out;
  }

  private grow(cap: number): void {
    const r = new Uint32Array(cap * this.S);
    r.set(this.R);
    this.R = r;
    const part = new Int8Array(cap);
    part.set(this.part);
    this.part = part;
    for (let s = cap - 1; s >= this.cap; s--) this.free.push(s);
    this.cap = cap;
  }

  /** Adds a rule; throws SimError BAD_VALUE for a malformed one. */
  insert(spec: RangeRuleSpec<T>): RangeRule<T> {
    const id = this.nextId;
    validateRangeSpec(spec, this.widths, id);
    const lo = spec.lo;
    const hi = spec.hi;
    if (id > 0x7ffffffe) throw new SimError("UNSUPPORTED", "range classifier: rule ids exhausted");
    this.nextId++;
    if (this.free.length === 0) this.grow(this.cap + (this.cap >> 2) + 64);
    const s = this.free.pop()!;
    const d = this.d;
    const rb = s * this.S;
    this.R[rb] = spec.priority;
    this.R[rb + 1] = id;
    for (let f = 0; f < d; f++) {
      this.R[rb + 2 + 2 * f] = lo[f]!;
      this.R[rb + 3 + 2 * f] = hi[f]!;
    }
    let key = 0;
    for (let i = 0; i < this.partFields.length; i++) {
      const f = this.partFields[i]!;
      if (hi[f]! - lo[f]! <= this.smallMax[i]!) {
        key = i + 1;
        break;
      }
    }
    this.part[s] = key;
    let t = this.treeByKey[key];
    if (!t) {
      t = this.newTree(key, 4);
      this.treeByKey[key] = t;
    }
    const r = new TreeRule<T>(this, id, spec.priority, spec.payload, s);
    this.recs[s] = r;
    this.place(t, s);
    t.count++;
    if (t.top !== null) {
      const nf = t.nTop;
      if (nf < this.wideTop || spec.priority > t.top[(nf - 1) * t.E]!) t.topStale = true;
    }
    if (spec.priority > t.maxPri) {
      t.maxPri = spec.priority;
      this.dirty = true;
    }
    // Four times more cells once there are two rules per cell (amortised: each re-cut
    // re-places a quarter as many rules as the next one).
    if (
      t.cutField >= 0 &&
      t.count > 2 * t.nCells &&
      t.cutBits < Math.min(this.cutBits, this.widths[t.cutField]!)
    )
      this.recut(t);
    this.n++;
    this.changes++;
    this.dirty = true;
    return r;
  }

  /** Removes a rule (the object insert returned); false if it is not in this classifier. */
  remove(rule: RangeRule<T>): boolean {
    const r = rule as TreeRule<T>;
    if (!(r instanceof TreeRule) || r.slot < 0 || this.recs[r.slot] !== r) return false;
    const s = r.slot;
    const t = this.treeByKey[this.part[s]!]!;
    if (!t.boundStale && this.boundHolds(t, s, this.R[s * this.S]! | 0)) t.boundStale = true;
    if (t.top !== null) for (let i = 0; i < t.nTop; i++) if (t.topS![i] === r) t.topStale = true;
    if (t.cutField < 0) this.removeRef(t, t.root, s);
    else {
      const b = s * this.S + 2 + 2 * t.cutField;
      const c1 = this.R[b + 1]! >>> t.cutShift;
      for (let c = this.R[b]! >>> t.cutShift; c <= c1; c++) {
        this.removeRef(t, t.cells[2 * c]!, s);
        if (this.R[s * this.S] === t.cells[2 * c + 1]) t.cells[2 * c + 1] = this.topUnder(t, t.cells[2 * c]!);
      }
    }
    t.count--;
    if (this.R[s * this.S] === t.maxPri) {
      t.maxStale = true;
      this.dirty = true;
    }
    r.detach(this.fieldCopy(s, false), this.fieldCopy(s, true));
    this.recs[s] = undefined;
    this.free.push(s);
    this.n--;
    this.changes++;
    this.dirty = true;
    return true;
  }

  /** Rules held, by priority (highest first), then insertion order. */
  rules(): RangeRule<T>[] {
    return this.recs
      .filter((r): r is TreeRule<T> => r !== undefined)
      .sort((a, b) => b.priority - a.priority || a.id - b.id);
  }

  /** The first lookup after changes: publishes them, then looks up with the new code. */
  // biome-ignore lint/correctness/noUnusedPrivateClassMembers: called by the compiled lookup
  private relookup(key: ArrayLike<number>, offset: number): RangeRule<T> | undefined {
    this.publish();
    return this.lookup(key, offset);
  }

  private publish(): void {
    // Trim arenas with more than an eighth of slack once enough changes have happened since
    // the last trim to pay for it (bulk inserts leave up to a third).
    if (this.changes * 8 >= this.n) {
      this.changes = 0;
      for (const t of this.treeByKey) {
        if (!t || t.pool.length <= 16 * this.S) continue;
        let used = 0;
        for (let li = 0; li < t.nLeaves; li++) used += t.leaf[2 * li + 1]!;
        if (used * t.E * 8 >= t.pool.length * 7) continue;
        // Leaves keep no spare room here: an insert that reaches one moves its block with
        // room again (amortised), and lookups read a quarter fewer lines (ipc1 10k: pool
        // 625 → 440 KB, +7% A/B in one process).
        for (let li = 0; li < t.nLeaves; li++) t.leafCap[li] = t.leaf[2 * li + 1]!;
        t.poolLive = used * t.E;
        t.compact(0);
      }
    }
    for (const t of this.treeByKey) if (t?.topStale) this.rebuildTop(t);
    for (const t of this.treeByKey) {
      if (!t?.boundStale) continue;
      t.bound.fill(-1);
      t.bAll.fill(-1);
      t.boundStale = false;
      for (let s = 0; s < this.cap; s++)
        if (this.recs[s] !== undefined && this.part[s] === t.key)
          this.boundAdd(t, s, this.R[s * this.S]! | 0);
    }
    for (const t of this.treeByKey) {
      if (!t?.maxStale) continue;
      let m = -1;
      for (let s = 0; s < this.cap; s++)
        if (this.recs[s] !== undefined && this.part[s] === t.key && this.R[s * this.S]! > m)
          m = this.R[s * this.S]!;
      t.maxPri = m;
      t.maxStale = false;
    }
    this.order = this.treeByKey
      .filter((t): t is Tree => t !== undefined && t.count > 0)
      .sort((a, b) => b.count - a.count || b.maxPri - a.maxPri);
    this.lookup = this.compiled(this.order.map((t) => [t.cutField, t.cutShift]));
    this.dirty = false;
  }

  /** A tree for partition `key`, cutting the first field its rules are small in (none for the
   * wide partition) into 2^bits cells. */
  private newTree(key: number, bits: number): Tree {
    const cf = key === 0 ? -1 : this.partFields[key - 1]!;
    const b = cf < 0 ? 0 : Math.min(bits, this.cutBits, this.widths[cf]!);
    const t = new Tree(
      key,
      cf,
      cf < 0 ? 0 : this.widths[cf]! - b,
      b,
      entryWords(this.widths),
      this.bOff[this.d]!,
      this.d,
    );
    if (cf < 0 && this.partFields.length > 0 && this.wideTop > 0) {
      t.top = new Uint32Array(this.wideTop * t.E);
      t.topS = new Array<Held | undefined>(this.wideTop).fill(undefined);
    }
    return t;
  }

  /** Rewrites the wide tree's top entries: its wideTop best rules (priority, then age). */
  private rebuildTop(t: Tree): void {
    const slots: number[] = [];
    for (let s = 0; s < this.cap; s++)
      if (this.recs[s] !== undefined && this.part[s] === t.key) slots.push(s);
    const S = this.S;
    slots.sort((a, b) => this.R[b * S]! - this.R[a * S]! || this.R[a * S + 1]! - this.R[b * S + 1]!);
    if (slots.length > this.wideTop) slots.length = this.wideTop;
    for (let i = 0; i < slots.length; i++) this.writeEntry(t.top!, t.topS!, i, slots[i]!);
    t.nTop = slots.length;
    t.topStale = false;
  }

  /** Puts slot s into tree t (every cell and leaf its ranges reach). */
  private place(t: Tree, s: number): void {
    const p = this.R[s * this.S]! | 0;
    if (!t.boundStale) this.boundAdd(t, s, p);
    if (t.cutField < 0) {
      t.root = this.insertRef(t, t.root, s);
      return;
    }
    const b = s * this.S + 2 + 2 * t.cutField;
    const c1 = this.R[b + 1]! >>> t.cutShift;
    for (let c = this.R[b]! >>> t.cutShift; c <= c1; c++) {
      let ref = t.cells[2 * c]!;
      if (ref === ~0) ref = ~t.newLeaf();
      t.cells[2 * c] = this.insertRef(t, ref, s);
      if (p > t.cells[2 * c + 1]!) t.cells[2 * c + 1] = p;
    }
  }

  /** Raises tree t's bound buckets that slot s (priority p) reaches to p. */
  private boundAdd(t: Tree, s: number, p: number): void {
    const R = this.R;
    const bd = t.bound;
    for (let f = 0, b = s * this.S + 2; f < this.d; f++, b += 2) {
      const lo = R[b]!;
      const hi = R[b + 1]!;
      const sh = this.bSh[f]!;
      const o = this.bOff[f]!;
      if (lo === 0 && hi === this.fMax[f]) {
        // bAll only says which buckets a remove may lower; the buckets hold it too, so that
        // a lookup reads one word per field. Written only when it rises: at most once per
        // field per rule, 256 words.
        if (p <= t.bAll[f]!) continue;
        t.bAll[f] = p;
      }
      for (let c = o + (lo >>> sh), e = o + (hi >>> sh); c <= e; c++) if (p > bd[c]!) bd[c] = p;
    }
  }

  /** Whether removing slot s (priority p) from tree t may lower one of its bound buckets. */
  private boundHolds(t: Tree, s: number, p: number): boolean {
    const R = this.R;
    for (let f = 0, b = s * this.S + 2; f < this.d; f++, b += 2) {
      const lo = R[b]!;
      const hi = R[b + 1]!;
      if (lo === 0 && hi === this.fMax[f]) {
        if (t.bAll[f] === p) return true;
        continue;
      }
      const sh = this.bSh[f]!;
      const o = this.bOff[f]!;
      for (let c = o + (lo >>> sh), e = o + (hi >>> sh); c <= e; c++) if (t.bound[c] === p) return true;
    }
    return false;
  }

  /** Rebuilds tree t with four times as many cells, re-placing its rules in insertion order. */
  private recut(t: Tree): void {
    const slots: number[] = [];
    for (let s = 0; s < this.cap; s++)
      if (this.recs[s] !== undefined && this.part[s] === t.key) slots.push(s);
    slots.sort((a, b) => this.R[a * this.S + 1]! - this.R[b * this.S + 1]!);
    const nt = this.newTree(t.key, t.cutBits + 2);
    for (const s of slots) this.place(nt, s);
    nt.count = t.count;
    nt.maxPri = t.maxPri;
    nt.maxStale = t.maxStale;
    this.treeByKey[t.key] = nt;
    this.dirty = true;
  }

  /** Writes slot s as entry i of pool/ps: priority, then each field's lo and hi as lo and
   * width hi − lo (one word lo | width << 16 for fields of at most 16 bits); ps[i] = its rule. */
  private writeEntry(pool: Uint32Array, ps: (Held | undefined)[], i: number, s: number): void {
    const R = this.R;
    const r = s * this.S;
    const b = i * this.E;
    pool[b] = R[r]!;
    ps[i] = this.recs[s];
    let w = b + 1;
    for (let f = 0; f < this.d; f++) {
      const lo = R[r + 2 + 2 * f]!;
      const hi = R[r + 3 + 2 * f]!;
      if (this.widths[f]! <= 16) pool[w++] = (lo | ((hi - lo) << 16)) >>> 0;
      else {
        pool[w++] = lo;
        pool[w++] = hi - lo;
      }
    }
  }

  /** Rewrites leaf li's block from a slot list in priority order. */
  private writeLeaf(t: Tree, li: number, slots: readonly number[]): void {
    const n = slots.length;
    for (let i = 0, o = t.leaf[2 * li]! / t.E, m = t.leaf[2 * li + 1]!; i < m; i++) t.ps[o + i] = undefined;
    t.leaf[2 * li + 1] = 0;
    const off = t.reserve(li, n, false);
    for (let i = 0; i < n; i++) this.writeEntry(t.pool, t.ps, off / t.E + i, slots[i]!);
    t.leaf[2 * li + 1] = n;
  }

  /** Highest priority of the rules under `ref` (−1 if none). */
  private topUnder(t: Tree, ref: number): number {
    if (ref < 0) return t.leaf[2 * ~ref + 1] === 0 ? -1 : t.pool[t.leaf[2 * ~ref]!]!;
    const l = this.topUnder(t, t.nodes[4 * (ref >>> 6) + 1]!);
    const r = this.topUnder(t, t.nodes[4 * (ref >>> 6) + 2]!);
    return Math.max(l, r);
  }

  /** Adds slot s under `ref`; returns the (possibly new) ref. */
  private insertRef(t: Tree, ref: number, s: number): number {
    if (ref >= 0) {
      const f = t.nodes[4 * (ref >>> 6)]!;
      const th = t.nodes[4 * (ref >>> 6) + 3]! >>> 0;
      const b = s * this.S + 2 + 2 * f;
      if (this.R[b]! < th) {
        const c = this.insertRef(t, t.nodes[4 * (ref >>> 6) + 1]!, s);
        t.nodes[4 * (ref >>> 6) + 1] = c;
      }
      if (this.R[b + 1]! >= th) {
        const c = this.insertRef(t, t.nodes[4 * (ref >>> 6) + 2]!, s);
        t.nodes[4 * (ref >>> 6) + 2] = c;
      }
      return ref;
    }
    const li = ~ref;
    const E = t.E;
    const n = t.leaf[2 * li + 1]! + 1;
    const off = t.reserve(li, n, true);
    const pool = t.pool;
    // Sorted by (priority desc, seq asc); a new rule has the largest seq of its priority.
    const p = this.R[s * this.S]!;
    let i = n - 1;
    while (i > 0 && pool[off + (i - 1) * E]! < p) i--;
    pool.copyWithin(off + (i + 1) * E, off + i * E, off + (n - 1) * E);
    const i0 = off / E;
    for (let j = i0 + n - 1; j > i0 + i; j--) t.ps[j] = t.ps[j - 1];
    this.writeEntry(pool, t.ps, i0 + i, s);
    t.leaf[2 * li + 1] = n;
    if (n > this.leafSize && n >= t.frozen[li]! + this.leafSize) return this.split(t, li);
    return ref;
  }

  private removeRef(t: Tree, ref: number, s: number): void {
    if (ref >= 0) {
      const f = t.nodes[4 * (ref >>> 6)]!;
      const th = t.nodes[4 * (ref >>> 6) + 3]! >>> 0;
      const b = s * this.S + 2 + 2 * f;
      if (this.R[b]! < th) this.removeRef(t, t.nodes[4 * (ref >>> 6) + 1]!, s);
      if (this.R[b + 1]! >= th) this.removeRef(t, t.nodes[4 * (ref >>> 6) + 2]!, s);
      return;
    }
    const li = ~ref;
    const E = t.E;
    const n = t.leaf[2 * li + 1]!;
    const off = t.leaf[2 * li]!;
    const pool = t.pool;
    const ps = t.ps;
    const i0 = off / E;
    let i = 0;
    const r = this.recs[s];
    while (i < n && ps[i0 + i] !== r) i++;
    if (i === n) return;
    pool.copyWithin(off + i * E, off + (i + 1) * E, off + n * E);
    for (let j = i0 + i; j < i0 + n - 1; j++) ps[j] = ps[j + 1];
    ps[i0 + n - 1] = undefined;
    t.leaf[2 * li + 1] = n - 1;
    if (n - 1 < t.frozen[li]!) t.frozen[li] = n - 1;
  }

  /**
   * Splits leaf `li` if some field and threshold make both halves smaller without copying
   * more than maxReplication × its rules; returns the ref now standing for it.
   */
  private split(t: Tree, li: number): number {
    const leaf = t.slots(li);
    const n = leaf.length;
    const d = this.d;
    if (scratchLo.length < n) {
      scratchLo = new Float64Array(2 * n);
      scratchHi = new Float64Array(2 * n);
    }
    const los = scratchLo.subarray(0, n);
    const his = scratchHi.subarray(0, n);
    let bestF = -1;
    let bestT = 0;
    // Each child must lose at least an eighth of the rules (keeps the recursion logarithmic).
    const limit = n - Math.ceil(n / 8);
    const maxSum = Math.floor(n * this.maxRep);
    let bestMax = limit + 1;
    let bestSum = maxSum + 1;
    for (let f = 0; f < d; f++) {
      for (let i = 0; i < n; i++) {
        const b = leaf[i]! * this.S + 2 + 2 * f;
        los[i] = this.R[b]!;
        his[i] = this.R[b + 1]! + 1;
      }
      los.sort();
      his.sort();
      // Candidates: every end point; left = #(lo < c), right = #(hi ≥ c) = n − #(hi + 1 ≤ c).
      let i = 0;
      let j = 0;
      while (i < n || j < n) {
        const c = j >= n || (i < n && los[i]! < his[j]!) ? los[i]! : his[j]!;
        while (i < n && los[i]! < c) i++;
        while (j < n && his[j]! <= c) j++;
        const left = i;
        const right = n - j;
        if (left > 0 && right > 0) {
          const mx = Math.max(left, right);
          const sum = left + right;
          if (mx <= limit && sum <= maxSum && (mx < bestMax || (mx === bestMax && sum < bestSum))) {
            bestMax = mx;
            bestSum = sum;
            bestF = f;
            bestT = c;
          }
        }
        // Step past c.
        while (i < n && los[i]! === c) i++;
      }
    }
    if (bestF < 0) {
      t.frozen[li] = n;
      return ~li;
    }
    const left: number[] = [];
    const right: number[] = [];
    for (let i = 0; i < n; i++) {
      const s = leaf[i]!;
      const b = s * this.S + 2 + 2 * bestF;
      if (this.R[b]! < bestT) left.push(s);
      if (this.R[b + 1]! >= bestT) right.push(s);
    }
    const ri = t.newLeaf();
    this.writeLeaf(t, li, left);
    this.writeLeaf(t, ri, right);
    t.frozen[li] = 0;
    t.frozen[ri] = 0;
    let l = ~li;
    let r = ~ri;
    if (left.length > this.leafSize) l = this.split(t, li);
    if (right.length > this.leafSize) r = this.split(t, ri);
    return t.newNode(bestF, bestT, l, r);
  }
}
