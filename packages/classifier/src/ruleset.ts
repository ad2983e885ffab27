/**
 * Rule bookkeeping shared by every classifier of this package (OVS `classifier_insert`,
 * `classifier_remove`, `classifier_replace` and the versioning of `lib/versions.h`): rule ids
 * and tie order, duplicate detection, and versioned batches (rules added or removed in a batch
 * carry version numbers and become visible, or invisible, all at once when it commits). The
 * search structures differ per classifier and sit behind a few hooks; lookups stay in the
 * subclasses and read `version_` directly.
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
  VERSION_MAX,
} from "./rule.js";

export abstract class RuleSet<T> {
  readonly nWords: number;
  readonly options: ResolvedOptions;
  protected version_ = 0;
  protected inBatch = false;
  protected pendingAdds: RuleRec<T>[] = [];
  protected pendingRemoves: RuleRec<T>[] = [];
  protected nextId = 1;
  protected count = 0;

  constructor(options: ClassifierOptions) {
    this.options = resolveOptions(options);
    this.nWords = this.options.nWords;
  }

  /** The rule with this value, mask and priority visible in `version`, if any. `inserting` is
   * true when called to reject a duplicate just before `physicalInsert` of that mask. */
  protected abstract findVisible(
    value: Uint32Array,
    mask: Uint32Array,
    priority: number,
    version: number,
    inserting: boolean,
  ): RuleRec<T> | undefined;
  /** Puts a new record into the search structures. */
  protected abstract physicalInsert(r: RuleRec<T>): void;
  /** Takes a record out of the search structures; false if it is not there. */
  protected abstract physicalRemove(r: RuleRec<T>): boolean;
  /** True if the record is in the search structures. */
  protected abstract holds(r: RuleRec<T>): boolean;

  /** Calls `f` on every record held, visible or not. */
  protected abstract forEachRec(f: (r: RuleRec<T>) => void): void;

  /** Takes several records out (a committed batch's removes, an aborted batch's adds). */
  protected physicalRemoveAll(rs: readonly RuleRec<T>[]): void {
    for (const r of rs) this.physicalRemove(r);
  }

  /** Called when a batch has been committed or aborted. */
  protected afterBatch(): void {}

  /** Current version: lookups see rules added at or before it and not removed by it. */
  get version(): number {
    return this.version_;
  }

  /** Rules visible in the current version. */
  get size(): number {
    return this.count;
  }

  /** True between beginBatch() and commit()/abortBatch(). */
  get batching(): boolean {
    return this.inBatch;
  }

  protected targetVersion(): number {
    return this.inBatch ? this.version_ + 1 : this.version_;
  }

  /** The rule with exactly this value, mask and priority visible in the current version (or
   * in the batch being built), if any (OVS `classifier_find_rule_exactly`). */
  findExactly(value: Uint32Array, mask: Uint32Array, priority: number): Rule<T> | undefined {
    return this.findVisible(value, mask, priority, this.targetVersion(), false);
  }

  /**
   * Adds a rule. Outside a batch it is visible at once; inside, from the commit. Throws
   * SimError BAD_MASK / BAD_VALUE for a bad rule and DUPLICATE if a rule with the same
   * match and priority is already there (use `replace`).
   */
  insert(spec: RuleSpec<T>): Rule<T> {
    return this.insertAt(spec, -1);
  }

  private insertAt(spec: RuleSpec<T>, order: number): RuleRec<T> {
    const id = this.nextId;
    checkSpec(spec, this.nWords, id);
    const v = this.targetVersion();
    if (this.findVisible(spec.value, spec.mask, spec.priority, v, true))
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
      v,
      VERSION_MAX,
    );
    this.physicalInsert(r);
    if (this.inBatch) this.pendingAdds.push(r);
    else this.count++;
    return r;
  }

  /**
   * Removes a rule (the object insert/replace returned). Outside a batch it disappears at
   * once; inside, at the commit. Returns false if the rule is not in this classifier.
   */
  remove(rule: Rule<T>): boolean {
    const r = rule as RuleRec<T>;
    if (!(r instanceof RuleRec) || r.removeVersion !== VERSION_MAX) return false;
    if (this.inBatch) {
      if (!this.holds(r)) return false;
      r.removeVersion = this.version_ + 1;
      this.pendingRemoves.push(r);
      return true;
    }
    if (!this.physicalRemove(r)) return false;
    r.removeVersion = this.version_;
    this.count--;
    return true;
  }

  /**
   * Inserts `spec`, displacing the rule with the same match and priority if there is one
   * (OVS `classifier_replace`); the new rule takes the displaced rule's place among ties.
   * Returns the displaced rule.
   */
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

  /** Visible rules, by priority (highest first), then insertion order. */
  rules(): Rule<T>[] {
    const v = this.version_;
    const out: RuleRec<T>[] = [];
    this.forEachRec((r) => {
      if (r.addVersion <= v && v < r.removeVersion) out.push(r);
    });
    return out.sort((a, b) => b.priority - a.priority || a.order - b.order);
  }

  [Symbol.iterator](): Iterator<Rule<T>> {
    return this.rules()[Symbol.iterator]();
  }

  /** Starts a batch: inserts and removes until commit() are invisible to lookups. */
  beginBatch(): void {
    if (this.inBatch) throw new SimError("CONFLICT", "classifier: a batch is already open");
    this.inBatch = true;
  }

  /** Makes the batch visible at once (version + 1). */
  commit(): void {
    if (!this.inBatch) throw new SimError("CONFLICT", "classifier: commit() without beginBatch()");
    const nv = this.version_ + 1;
    this.version_ = nv;
    this.inBatch = false;
    for (const r of this.pendingAdds) if (r.removeVersion > nv) this.count++;
    for (const r of this.pendingRemoves) if (r.addVersion < nv) this.count--;
    this.physicalRemoveAll(this.pendingRemoves);
    this.pendingAdds = [];
    this.pendingRemoves = [];
    this.afterBatch();
  }

  /** Drops the batch: its inserts are removed, its removes undone. */
  abortBatch(): void {
    if (!this.inBatch) throw new SimError("CONFLICT", "classifier: abortBatch() without beginBatch()");
    this.inBatch = false;
    for (const r of this.pendingRemoves)
      if (r.removeVersion === this.version_ + 1) r.removeVersion = VERSION_MAX;
    this.physicalRemoveAll(this.pendingAdds);
    for (const r of this.pendingAdds) r.removeVersion = this.version_;
    this.pendingAdds = [];
    this.pendingRemoves = [];
    this.afterBatch();
  }
}
