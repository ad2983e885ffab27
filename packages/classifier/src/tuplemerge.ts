/**
 * TupleMerge classifier (Daly, Bruschi, Linguaglossa, Pontarelli, Rossi, Tollet, Torng,
 * Yourtchenko, "TupleMerge: Fast Software Packet Processing for Online Packet Classification",
 * IEEE/ACM ToN 2019), offered beside the OVS-faithful `Classifier` for rule sets that are
 * hostile to plain tuple space search.
 *
 * What? ClassBench-like 5-tuple ACLs have hundreds of distinct masks (every prefix-length pair
 * and every block of an expanded port range is one), so TSS probes a hundred hash tables per
 * packet. TupleMerge lets a table's hash mask (its "tuple") be *less specific* than the masks
 * of the rules it holds: a rule can go into any table whose tuple is a subset of its mask, and
 * a hash bucket then holds a few rules that are checked one by one against their full masks.
 * Fewer tables, slightly longer buckets.
 *
 * Design (online variant): a new rule goes into the first table whose tuple it covers and whose
 * bucket for it has fewer than `bucketLimit` rules; otherwise a new table is made with the
 * rule's mask relaxed (each contiguous run of mask bits that does not end at a word's last bit,
 * i.e. a prefix of an address or a port block, is cut to a multiple of `relaxBits`; exact
 * fields stay exact). Tables are ordered by their highest priority with the same early exit and
 * tie rule as `Classifier`, and buckets are sorted (priority desc, insertion order asc) so a scan
 * stops at the first rule that matches or cannot win.
 *
 * Determinism and limits: answers equal `Classifier`'s and `LinearClassifier`'s (property
 * tested). The optional `wc` output is sound but wider than OVS's (the tuple masks of the tables
 * probed and the masks of the rules examined); use `Classifier` when the megaflow must look like
 * OVS's. No tries, no staged lookup. Versioning and batches as in `Classifier`.
 */
import type { LookupStats } from "./classifier.js";
import { fin, mix } from "./hash.js";
import { beats, type ClassifierOptions, type Rule, type RuleRec, VERSION_MAX } from "./rule.js";
import { RuleSet } from "./ruleset.js";

export interface TupleMergeOptions extends ClassifierOptions {
  /** Rules per hash bucket before a more specific table is made. Default 8. */
  readonly bucketLimit?: number;
  /** Granularity prefix lengths are cut to when a table is made. Default 8. */
  readonly relaxBits?: number;
}

interface Bucket<T> {
  hash: number;
  rules: RuleRec<T>[];
  /** Per rule: (word, mask, value) triples of the mask bits the tuple does not cover. */
  rest: Int32Array[];
}

let tableSerial = 0;

class Table<T> {
  readonly serial = tableSerial++;
  readonly tuple: Uint32Array;
  readonly words: Int32Array;
  readonly masks: Int32Array;
  readonly nw: number;
  private slots: Int32Array = new Int32Array(8);
  private buckets: (Bucket<T> | null)[] = [];
  private vals: Int32Array;
  private free: number[] = [];
  private nBuckets = 0;
  nRules = 0;
  maxPri = -1;
  minOrd = 0;
  minDirty = false;
  private priCount = new Map<number, number>();

  constructor(tuple: Uint32Array) {
    this.tuple = tuple;
    const ws: number[] = [];
    tuple.forEach((m, i) => {
      if (m !== 0) ws.push(i);
    });
    this.words = Int32Array.from(ws);
    this.masks = Int32Array.from(ws, (w) => tuple[w]! | 0);
    this.nw = ws.length;
    this.vals = new Int32Array(4 * Math.max(1, this.nw));
  }

  get byteLength(): number {
    let b = this.slots.byteLength + this.vals.byteLength + this.buckets.length * 8 + 160;
    for (const bk of this.buckets)
      if (bk) {
        b += 120 + bk.rules.length * 16;
        for (const r of bk.rest) b += r.byteLength + 120;
      }
    return b;
  }

  /** True if the tuple is a subset of `mask`. */
  coveredBy(mask: Uint32Array): boolean {
    for (let j = 0; j < this.nw; j++) if ((this.masks[j]! & ~mask[this.words[j]!]!) !== 0) return false;
    return true;
  }

  private hashOf(key: Uint32Array): number {
    let h = 0;
    for (let j = 0; j < this.nw; j++) h = mix(h, key[this.words[j]!]! & this.masks[j]!);
    return fin(h);
  }

  private findBucket(key: Uint32Array, h: number): number {
    const slots = this.slots;
    const m = slots.length - 1;
    const nw = this.nw;
    const words = this.words;
    const masks = this.masks;
    const vals = this.vals;
    const buckets = this.buckets;
    for (let i = h & m; ; i = (i + 1) & m) {
      const s = slots[i]!;
      if (s === 0) return -1;
      if (buckets[s - 1]!.hash === h) {
        const base = (s - 1) * nw;
        let j = 0;
        for (; j < nw; j++) if (vals[base + j] !== (key[words[j]!]! & masks[j]!)) break;
        if (j === nw) return s - 1;
      }
    }
  }

  /** Rules of the bucket `value` hashes to (or an empty list). */
  bucketOf(value: Uint32Array): readonly RuleRec<T>[] {
    const b = this.findBucket(value, this.hashOf(value));
    return b < 0 ? [] : this.buckets[b]!.rules;
  }

  /** Distinct priorities, other than `priority`, in the bucket `value` hashes to: the port-block
   * expansions of one filter share a priority and count once, as TupleMerge counts the range
   * rule once. */
  bucketLoad(value: Uint32Array, priority: number): number {
    const b = this.findBucket(value, this.hashOf(value));
    if (b < 0) return 0;
    let n = 0;
    let last = -1;
    for (const r of this.buckets[b]!.rules)
      if (r.priority !== last) {
        last = r.priority;
        if (r.priority !== priority) n++;
      }
    return n;
  }

  /** Best rule of this table for `key` that beats (bestPri, bestOrd), or null. */
  find(
    key: Uint32Array,
    version: number,
    bestPri: number,
    bestOrd: number,
    wc: Uint32Array | undefined,
  ): RuleRec<T> | null {
    const words = this.words;
    const masks = this.masks;
    let h = 0;
    for (let j = 0; j < this.nw; j++) h = mix(h, key[words[j]!]! & masks[j]!);
    if (wc !== undefined) for (let j = 0; j < this.nw; j++) wc[words[j]!]! |= masks[j]!;
    const b = this.findBucket(key, fin(h));
    if (b < 0) return null;
    const bk = this.buckets[b]!;
    const rules = bk.rules;
    for (let i = 0; i < rules.length; i++) {
      const r = rules[i]!;
      if (!beats(r.priority, r.order, bestPri, bestOrd)) return null;
      if (r.addVersion > version || version >= r.removeVersion) continue;
      const rest = bk.rest[i]!;
      let k = 0;
      for (; k < rest.length; k += 3) if (((key[rest[k]!]! ^ rest[k + 2]!) & rest[k + 1]!) !== 0) break;
      if (wc !== undefined) for (let q = 0; q < rest.length; q += 3) wc[rest[q]!]! |= rest[q + 1]!;
      if (k === rest.length) return r;
    }
    return null;
  }

  insert(r: RuleRec<T>): void {
    const h = this.hashOf(r.value);
    let b = this.findBucket(r.value, h);
    if (b < 0) b = this.newBucket(r.value, h);
    const bk = this.buckets[b]!;
    const rest: number[] = [];
    for (let w = 0; w < r.mask.length; w++) {
      const m = r.mask[w]! & ~this.tuple[w]!;
      if (m !== 0) rest.push(w, m | 0, r.value[w]! & m);
    }
    let i = 0;
    while (i < bk.rules.length && !beats(r.priority, r.order, bk.rules[i]!.priority, bk.rules[i]!.order)) i++;
    bk.rules.splice(i, 0, r);
    bk.rest.splice(i, 0, Int32Array.from(rest));
    this.nRules++;
    this.priCount.set(r.priority, (this.priCount.get(r.priority) ?? 0) + 1);
    if (r.priority > this.maxPri) {
      this.maxPri = r.priority;
      this.minOrd = r.order;
    } else if (r.priority === this.maxPri && r.order < this.minOrd) this.minOrd = r.order;
  }

  remove(r: RuleRec<T>): boolean {
    const h = this.hashOf(r.value);
    const b = this.findBucket(r.value, h);
    if (b < 0) return false;
    const bk = this.buckets[b]!;
    const i = bk.rules.indexOf(r);
    if (i < 0) return false;
    bk.rules.splice(i, 1);
    bk.rest.splice(i, 1);
    if (bk.rules.length === 0) this.deleteBucket(b, h);
    this.nRules--;
    const c = this.priCount.get(r.priority)! - 1;
    if (c === 0) this.priCount.delete(r.priority);
    else this.priCount.set(r.priority, c);
    if (r.priority === this.maxPri) {
      if (c === 0) {
        let mx = -1;
        for (const p of this.priCount.keys()) if (p > mx) mx = p;
        this.maxPri = mx;
      }
      this.minDirty = true;
    }
    return true;
  }

  refreshMinOrd(): void {
    let mo = VERSION_MAX;
    for (const bk of this.buckets)
      if (bk) for (const r of bk.rules) if (r.priority === this.maxPri && r.order < mo) mo = r.order;
    this.minOrd = mo;
    this.minDirty = false;
  }

  forEach(f: (r: RuleRec<T>) => void): void {
    for (const bk of this.buckets) if (bk) for (const r of bk.rules) f(r);
  }

  private newBucket(value: Uint32Array, h: number): number {
    let b = this.free.pop();
    if (b === undefined) {
      b = this.buckets.length;
      this.buckets.push(null);
      if ((b + 1) * this.nw > this.vals.length) {
        const nv = new Int32Array(this.vals.length * 2);
        nv.set(this.vals);
        this.vals = nv;
      }
    }
    this.buckets[b] = { hash: h, rules: [], rest: [] };
    for (let j = 0; j < this.nw; j++) this.vals[b * this.nw + j] = value[this.words[j]!]! & this.masks[j]!;
    this.nBuckets++;
    if (this.nBuckets * 2 > this.slots.length) {
      this.slots = new Int32Array(this.slots.length * 2);
      this.buckets.forEach((bk, i) => {
        if (bk) this.place(i, bk.hash);
      });
    } else this.place(b, h);
    return b;
  }

  private place(b: number, h: number): void {
    const m = this.slots.length - 1;
    let i = h & m;
    while (this.slots[i] !== 0) i = (i + 1) & m;
    this.slots[i] = b + 1;
  }

  private deleteBucket(b: number, h: number): void {
    const slots = this.slots;
    const m = slots.length - 1;
    let i = h & m;
    while (slots[i] !== b + 1) i = (i + 1) & m;
    let j = i;
    for (;;) {
      j = (j + 1) & m;
      if (slots[j] === 0) break;
      const k = this.buckets[slots[j]! - 1]!.hash & m;
      if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
        slots[i] = slots[j]!;
        i = j;
      }
    }
    slots[i] = 0;
    this.buckets[b] = null;
    this.free.push(b);
    this.nBuckets--;
  }
}

/** Cuts every contiguous mask run that does not reach a word's last bit to a multiple of `g` bits. */
function relax(mask: Uint32Array, g: number): Uint32Array {
  const out = new Uint32Array(mask.length);
  for (let w = 0; w < mask.length; w++) {
    const m = mask[w]!;
    if (m === 0) continue;
    const z = Math.clz32(m);
    const shifted = m << z;
    const ones = Math.clz32(~shifted);
    const contiguous = ones === 32 || shifted << ones === 0;
    if (!contiguous || z + ones === 32) {
      out[w] = m; // exact field (or odd mask): keep
      continue;
    }
    const keep = ones - (ones % g);
    out[w] = keep === 0 ? 0 : ((~0 << (32 - keep)) >>> z) >>> 0;
  }
  return out;
}

/**
 * TupleMerge classifier with the API of `Classifier` (see the module essay).
 */
export class TupleMergeClassifier<T> extends RuleSet<T> {
  readonly bucketLimit: number;
  readonly relaxBits: number;
  private tables: Table<T>[] = [];
  private pvec: Table<T>[] = [];
  private dirty = false;

  constructor(options: TupleMergeOptions = {}) {
    super(options);
    this.bucketLimit = options.bucketLimit ?? 8;
    this.relaxBits = options.relaxBits ?? 8;
  }

  /** Number of tables (distinct tuples). */
  get masks(): number {
    return this.tables.length;
  }
  get byteEstimate(): number {
    return this.tables.reduce((a, t) => a + t.byteLength + t.nRules * 112, 0);
  }

  private tableOf(r: RuleRec<T>): Table<T> | undefined {
    for (const t of this.tables) if (t.coveredBy(r.mask) && t.bucketOf(r.value).includes(r)) return t;
    return undefined;
  }

  protected findVisible(
    value: Uint32Array,
    mask: Uint32Array,
    priority: number,
    v: number,
  ): RuleRec<T> | undefined {
    for (const t of this.tables) {
      if (!t.coveredBy(mask)) continue;
      for (const r of t.bucketOf(value))
        if (r.priority === priority && r.addVersion <= v && v < r.removeVersion && sameVM(r, value, mask))
          return r;
    }
    return undefined;
  }

  protected physicalInsert(r: RuleRec<T>): void {
    let table: Table<T> | undefined;
    for (const t of this.tables)
      if (t.coveredBy(r.mask) && t.bucketLoad(r.value, r.priority) < this.bucketLimit) {
        table = t;
        break;
      }
    if (table === undefined) {
      const relaxed = relax(r.mask, this.relaxBits);
      const same = this.tables.find((t) => sameArr(t.tuple, relaxed));
      const tuple = same === undefined ? relaxed : r.mask.slice();
      table = this.tables.find((t) => sameArr(t.tuple, tuple));
      if (table === undefined) {
        table = new Table<T>(tuple);
        this.tables.push(table);
      }
    }
    table.insert(r);
    this.dirty = true;
  }

  protected holds(r: RuleRec<T>): boolean {
    return this.tableOf(r) !== undefined;
  }

  protected physicalRemove(r: RuleRec<T>): boolean {
    const t = this.tableOf(r);
    if (!t?.remove(r)) return false;
    if (t.nRules === 0) this.tables.splice(this.tables.indexOf(t), 1);
    this.dirty = true;
    return true;
  }

  private publish(): void {
    for (const t of this.tables) if (t.minDirty) t.refreshMinOrd();
    this.pvec = this.tables
      .slice()
      .sort((a, b) => b.maxPri - a.maxPri || a.minOrd - b.minOrd || a.serial - b.serial);
    this.dirty = false;
  }

  /** Same answer as `Classifier.lookup`; `wc`, if given, receives a sound but wide mask. */
  lookup(key: Uint32Array, wc?: Uint32Array, stats?: LookupStats): Rule<T> | undefined {
    if (this.dirty) this.publish();
    let probed = 0;
    const pv = this.pvec;
    const v = this.version_;
    let best: RuleRec<T> | null = null;
    let bestPri = -1;
    let bestOrd = 0;
    for (let i = 0; i < pv.length; i++) {
      const t = pv[i]!;
      if (t.maxPri < bestPri || (t.maxPri === bestPri && t.minOrd > bestOrd)) break;
      probed++;
      const r = t.find(key, v, bestPri, bestOrd, wc);
      if (r !== null) {
        best = r;
        bestPri = r.priority;
        bestOrd = r.order;
      }
    }
    if (stats) stats.subtables += probed;
    return best ?? undefined;
  }

  protected forEachRec(f: (r: RuleRec<T>) => void): void {
    for (const t of this.tables) t.forEach(f);
  }
}

function sameArr(a: Uint32Array, b: Uint32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function sameVM(r: RuleRec<unknown>, value: Uint32Array, mask: Uint32Array): boolean {
  return sameArr(r.mask, mask) && sameArr(r.value, value);
}
