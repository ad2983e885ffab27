/**
 * Linear-scan reference classifier: the oracle the tuple-space classifier is checked against,
 * as upstream `tests/test-classifier.c` checks `struct classifier` against its trivial
 * `struct tcls`. Same API, same validation, same versioning and tie rule (priority, then the
 * earliest insertion), computed by brute force over a priority-sorted list. Also the
 * "linear scan" baseline of the benchmarks, so its scan runs over flat typed arrays of the
 * rules' non-zero mask words.
 *
 * Its megaflow mask is the union of the masks of every rule it had to examine (all rules
 * before the winner, and the winner): correct, but much wider than OVS's.
 */
import { SimError } from "@ovnsim/packet";
import {
  type ClassifierOptions,
  checkSpec,
  type ResolvedOptions,
  type Rule,
  RuleRec,
  type RuleSpec,
  resolveOptions,
  sameMatch,
  VERSION_MAX,
} from "./rule.js";

export class LinearClassifier<T> {
  readonly nWords: number;
  readonly options: ResolvedOptions;
  /** Every rule record (any version), sorted by (priority desc, order asc) when not dirty. */
  private recs: RuleRec<T>[] = [];
  private dirty = false;
  // Flat scan arrays: per rule [start, end) into (word, mask, value) triples.
  private flatStart = new Int32Array(1);
  private flat = new Uint32Array(0);
  private version_ = 0;
  private inBatch = false;
  private pendingAdds: RuleRec<T>[] = [];
  private pendingRemoves: RuleRec<T>[] = [];
  private nextId = 1;
  private count = 0;

  constructor(options: ClassifierOptions = {}) {
    this.options = resolveOptions(options);
    this.nWords = this.options.nWords;
  }

  get version(): number {
    return this.version_;
  }
  get size(): number {
    return this.count;
  }
  get batching(): boolean {
    return this.inBatch;
  }

  private targetVersion(): number {
    return this.inBatch ? this.version_ + 1 : this.version_;
  }

  findExactly(value: Uint32Array, mask: Uint32Array, priority: number): Rule<T> | undefined {
    const v = this.targetVersion();
    return this.recs.find(
      (r) =>
        r.priority === priority && r.addVersion <= v && v < r.removeVersion && sameMatch(r, { value, mask }),
    );
  }

  insert(spec: RuleSpec<T>): Rule<T> {
    return this.insertAt(spec, -1);
  }

  private insertAt(spec: RuleSpec<T>, order: number): RuleRec<T> {
    const id = this.nextId;
    checkSpec(spec, this.nWords, id);
    if (this.findExactly(spec.value, spec.mask, spec.priority))
      throw new SimError(
        "DUPLICATE",
        `${spec.name !== undefined ? `rule '${spec.name}'` : `rule #${id} (priority ${spec.priority})`}: a rule with the same match and priority exists`,
      );
    this.nextId++;
    const r = new RuleRec<T>(
      id,
      spec.priority,
      spec.value,
      spec.mask,
      spec.payload,
      spec.name,
      order >= 0 ? order : id,
      this.targetVersion(),
      VERSION_MAX,
    );
    this.recs.push(r);
    this.dirty = true;
    if (this.inBatch) this.pendingAdds.push(r);
    else this.count++;
    return r;
  }

  remove(rule: Rule<T>): boolean {
    const r = rule as RuleRec<T>;
    if (!(r instanceof RuleRec) || r.removeVersion !== VERSION_MAX || !this.recs.includes(r)) return false;
    if (this.inBatch) {
      r.removeVersion = this.version_ + 1;
      this.pendingRemoves.push(r);
      return true;
    }
    r.removeVersion = this.version_;
    this.recs.splice(this.recs.indexOf(r), 1);
    this.dirty = true;
    this.count--;
    return true;
  }

  replace(spec: RuleSpec<T>): Rule<T> | undefined {
    checkSpec(spec, this.nWords, this.nextId);
    const old = this.findExactly(spec.value, spec.mask, spec.priority) as RuleRec<T> | undefined;
    if (old === undefined) {
      this.insertAt(spec, -1);
      return undefined;
    }
    this.remove(old);
    this.insertAt(spec, old.order);
    return old;
  }

  beginBatch(): void {
    if (this.inBatch) throw new SimError("CONFLICT", "classifier: a batch is already open");
    this.inBatch = true;
  }

  commit(): void {
    if (!this.inBatch) throw new SimError("CONFLICT", "classifier: commit() without beginBatch()");
    const nv = ++this.version_;
    this.inBatch = false;
    for (const r of this.pendingAdds) if (r.removeVersion > nv) this.count++;
    for (const r of this.pendingRemoves) if (r.addVersion < nv) this.count--;
    const gone = new Set(this.pendingRemoves);
    this.recs = this.recs.filter((r) => !gone.has(r));
    this.pendingAdds = [];
    this.pendingRemoves = [];
    this.dirty = true;
  }

  abortBatch(): void {
    if (!this.inBatch) throw new SimError("CONFLICT", "classifier: abortBatch() without beginBatch()");
    this.inBatch = false;
    for (const r of this.pendingRemoves)
      if (r.removeVersion === this.version_ + 1) r.removeVersion = VERSION_MAX;
    const added = new Set(this.pendingAdds);
    for (const r of this.pendingAdds) r.removeVersion = this.version_;
    this.recs = this.recs.filter((r) => !added.has(r));
    this.pendingAdds = [];
    this.pendingRemoves = [];
    this.dirty = true;
  }

  private publish(): void {
    this.recs.sort((a, b) => b.priority - a.priority || a.order - b.order);
    let n = 0;
    for (const r of this.recs) for (let i = 0; i < this.nWords; i++) if (r.mask[i] !== 0) n++;
    this.flat = new Uint32Array(3 * n);
    this.flatStart = new Int32Array(this.recs.length + 1);
    let k = 0;
    this.recs.forEach((r, idx) => {
      this.flatStart[idx] = k;
      for (let i = 0; i < this.nWords; i++) {
        const m = r.mask[i]!;
        if (m === 0) continue;
        this.flat[k++] = i;
        this.flat[k++] = m;
        this.flat[k++] = r.value[i]!;
      }
    });
    this.flatStart[this.recs.length] = k;
    this.dirty = false;
  }

  /** First visible rule in (priority desc, order asc) order that matches `key`. */
  lookup(key: Uint32Array, wc?: Uint32Array): Rule<T> | undefined {
    if (this.dirty) this.publish();
    const v = this.version_;
    const flat = this.flat;
    const start = this.flatStart;
    const recs = this.recs;
    for (let i = 0; i < recs.length; i++) {
      const r = recs[i]!;
      if (r.addVersion > v || v >= r.removeVersion) continue;
      const e = start[i + 1]!;
      let k = start[i]!;
      for (; k < e; k += 3) if (((key[flat[k]!]! ^ flat[k + 2]!) & flat[k + 1]!) !== 0) break;
      if (wc !== undefined) for (let j = start[i]!; j < e; j += 3) wc[flat[j]!]! |= flat[j + 1]!;
      if (k === e) return r;
    }
    return undefined;
  }

  rules(): Rule<T>[] {
    if (this.dirty) this.publish();
    const v = this.version_;
    return this.recs.filter((r) => r.addVersion <= v && v < r.removeVersion);
  }

  [Symbol.iterator](): Iterator<Rule<T>> {
    return this.rules()[Symbol.iterator]();
  }
}
