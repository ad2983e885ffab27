/**
 * Linear scan over range rules: the oracle of `RangeClassifier` and the baseline its benchmark
 * divides by. Rules sit in flat typed arrays in (priority desc, insertion asc) order and a
 * lookup returns the first that contains the key, which is what a firewall's rule list means.
 */
import {
  badKey,
  checkFields,
  checkRangeSpec,
  type RangeClassifierOptions,
  type RangeRule,
  RangeRuleRec,
  type RangeRuleSpec,
} from "./rangerule.js";

export class RangeLinearClassifier<T> {
  readonly widths: Int32Array;
  private recs: RangeRuleRec<T>[] = [];
  private dirty = false;
  private lohi = new Uint32Array(0);
  private nextId = 1;

  constructor(options: RangeClassifierOptions) {
    this.widths = checkFields(options.fields);
  }

  get size(): number {
    return this.recs.length;
  }

  insert(spec: RangeRuleSpec<T>): RangeRule<T> {
    const { lo, hi } = checkRangeSpec(spec, this.widths, this.nextId);
    const r = new RangeRuleRec<T>(this.nextId++, spec.priority, lo, hi, spec.payload);
    this.recs.push(r);
    this.dirty = true;
    return r;
  }

  remove(rule: RangeRule<T>): boolean {
    const i = this.recs.indexOf(rule as RangeRuleRec<T>);
    if (i < 0) return false;
    this.recs.splice(i, 1);
    (rule as RangeRuleRec<T>).live = false;
    this.dirty = true;
    return true;
  }

  /** Visible rules in (priority desc, insertion asc) order. */
  rules(): RangeRule<T>[] {
    return this.recs.slice().sort((a, b) => b.priority - a.priority || a.id - b.id);
  }

  private publish(): void {
    this.recs.sort((a, b) => b.priority - a.priority || a.id - b.id);
    const d = this.widths.length;
    const a = new Uint32Array(2 * d * this.recs.length);
    this.recs.forEach((r, i) => {
      for (let f = 0; f < d; f++) {
        a[2 * d * i + 2 * f] = r.lo[f]!;
        a[2 * d * i + 2 * f + 1] = r.hi[f]!;
      }
    });
    this.lohi = a;
    this.dirty = false;
  }

  /** The first rule, in priority order, whose ranges hold key[offset … offset + fields). */
  lookup(key: ArrayLike<number>, offset = 0): RangeRule<T> | undefined {
    if (this.dirty) this.publish();
    const d = this.widths.length;
    if (key.length < offset + d) throw badKey(d, key, offset);
    const a = this.lohi;
    const n = this.recs.length;
    const stride = 2 * d;
    for (let i = 0, b = 0; i < n; i++, b += stride) {
      let f = 0;
      for (; f < d; f++) {
        const v = key[offset + f]!;
        if (v < a[b + 2 * f]! || v > a[b + 2 * f + 1]!) break;
      }
      if (f === d) return this.recs[i];
    }
    return undefined;
  }
}
