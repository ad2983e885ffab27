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
import { type ClassifierOptions, type Rule, type RuleRec, sameMatch } from "./rule.js";
import { RuleSet } from "./ruleset.js";

export class LinearClassifier<T> extends RuleSet<T> {
  /** Every rule record (any version), sorted by (priority desc, order asc) when not dirty. */
  private recs: RuleRec<T>[] = [];
  private dirty = false;
  // Flat scan arrays: per rule [start, end) into (word, mask, value) triples.
  private flatStart = new Int32Array(1);
  private flat = new Uint32Array(0);

  constructor(options: ClassifierOptions = {}) {
    super(options);
  }

  protected findVisible(
    value: Uint32Array,
    mask: Uint32Array,
    priority: number,
    v: number,
  ): RuleRec<T> | undefined {
    return this.recs.find(
      (r) =>
        r.priority === priority && r.addVersion <= v && v < r.removeVersion && sameMatch(r, { value, mask }),
    );
  }

  protected physicalInsert(r: RuleRec<T>): void {
    this.recs.push(r);
    this.dirty = true;
  }

  protected holds(r: RuleRec<T>): boolean {
    return this.recs.includes(r);
  }

  protected physicalRemove(r: RuleRec<T>): boolean {
    const i = this.recs.indexOf(r);
    if (i < 0) return false;
    this.recs.splice(i, 1);
    this.dirty = true;
    return true;
  }

  protected override physicalRemoveAll(rs: readonly RuleRec<T>[]): void {
    const gone = new Set(rs);
    this.recs = this.recs.filter((r) => !gone.has(r));
  }

  protected override afterBatch(): void {
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

  protected forEachRec(f: (r: RuleRec<T>) => void): void {
    for (const r of this.recs) f(r);
  }
}
