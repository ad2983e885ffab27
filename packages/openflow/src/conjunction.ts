/**
 * One OpenFlow table with conjunctive matches, as ovs-vswitchd's classifier looks it up
 * (upstream lib/classifier.c `classifier_lookup__`, ovs-fields(7) "Conjunctive Match Fields").
 *
 * Rules whose only actions are `conjunction(id,k/n)` are "soft": they never match a packet by
 * themselves. A lookup first finds the best ordinary ("hard") rule; soft rules of higher
 * priority are then gathered, and at their highest priority a conjunction whose n clauses all
 * matched gives `conj_id=id`, with which the table is looked up again (soft rules excluded): that
 * rule wins. If no conjunction completes, OVS drops back to lower-priority soft rules with an
 * identical match, and finally to the hard rule. OVN emits this for address sets and port
 * groups. All rules share one classifier, as in OVS: the soft and conj_id rules' prefixes are in
 * the tries, and their subtables are visited (and widen the megaflow) like any other. `conj_id`
 * is a key word in front of the flow key, in the metadata stage, and never reaches the megaflow.
 */
import {
  Classifier,
  type ClassifierOptions,
  type Rule,
  resolveOptions,
  type TrieField,
} from "@ovnsim/classifier";
import { SimError } from "@ovnsim/packet";
import type { OfAction } from "./actions.js";
import type { FlowEntry } from "./model.js";

/** A soft rule's conjunctions. */
interface Conj {
  readonly id: number;
  readonly clause: number;
  readonly n: number;
}

/** The conjunctions of a rule whose actions are all `conjunction(...)` (notes aside), else null. */
export function softConjunctions(e: FlowEntry): readonly Conj[] | null {
  if (e.actions.length === 0) return null;
  const out: Conj[] = [];
  for (const a of e.actions) {
    if (a.kind === "note") continue;
    if (a.kind !== "conjunction") return null;
    out.push({ id: a.id, clause: a.clause, n: a.nClauses });
  }
  return out.length ? out : null;
}

/**
 * The key a table with conjunctive matches is looked up on: the flow key with conj_id in front
 * (word 0), in the metadata stage as in OVS's struct flow, so that rules matching `conj_id=N`
 * share subtables, tries and staged lookup with the rest of the table as they do in OVS.
 */
function withConjId(o: ClassifierOptions): ClassifierOptions {
  const r = resolveOptions(o);
  const sh = (t: TrieField): TrieField => ({
    ...t,
    word: t.word + 1,
    ...(t.prereq ? { prereq: { ...t.prereq, word: t.prereq.word + 1 } } : {}),
  });
  return {
    nWords: r.nWords + 1,
    stageEnds: r.stageEnds.map((e) => e + 1),
    tries: r.tries.map(sh),
    ports: r.ports ? { src: r.ports.src + 1, dst: r.ports.dst + 1 } : null,
    prefilterTries: r.prefilterTries.map(sh),
    prefilterMinSubtables: r.prefilterMinSubtables,
  };
}

export class OfTable {
  private readonly opts: ClassifierOptions;
  /** Every rule, while the table holds no conjunctive match (most tables): OVS's lookup as is. */
  private readonly plain: Classifier<FlowEntry>;
  /**
   * Once a `conjunction` or `conj_id` rule arrives, every rule, over the key with conj_id in front
   * (`withConjId`): one classifier, as in OVS, so that soft rules and conj_id rules take part in
   * the tries and in the subtables a lookup visits (both widen the megaflow).
   */
  private all: Classifier<FlowEntry> | null = null;
  /** Soft rules' conjunctions. */
  private readonly softOf = new Map<FlowEntry, readonly Conj[]>();
  /** Rules with an identical match (conj_id included), by priority, descending (OVS's cls_match list). */
  private readonly chains = new Map<string, FlowEntry[]>();
  private readonly keyX: Uint32Array;
  private readonly wcX: Uint32Array;
  private readonly softHits: Rule<FlowEntry>[] = [];
  private readonly isSoft = (e: FlowEntry): boolean => this.softOf.has(e);

  constructor(opts: ClassifierOptions) {
    this.opts = opts;
    this.plain = new Classifier<FlowEntry>(opts);
    const n = resolveOptions(opts).nWords + 1;
    this.keyX = new Uint32Array(n);
    this.wcX = new Uint32Array(n);
  }

  /** Adds a rule; one with the same match, conj_id and priority is replaced. True if new. */
  add(e: FlowEntry): boolean {
    const conjs = softConjunctions(e);
    if (this.all === null && (conjs !== null || e.conjId !== undefined)) this.widen();
    const all = this.all;
    if (all === null) {
      const old = this.plain.findExactly(e.words.value, e.words.mask, e.priority);
      if (old) this.plain.remove(old);
      this.plain.insert({ priority: e.priority, value: e.words.value, mask: e.words.mask, payload: e });
      return !old;
    }
    const { value, mask } = widened(e);
    const old = all.findExactly(value, mask, e.priority);
    const k = chainKey(value, mask);
    if (old) {
      all.remove(old);
      this.softOf.delete(old.payload);
      const chain = this.chains.get(k)!;
      chain.splice(chain.indexOf(old.payload), 1);
    }
    all.insert({ priority: e.priority, value, mask, payload: e });
    if (conjs !== null) this.softOf.set(e, conjs);
    const chain = this.chains.get(k) ?? [];
    chain.push(e);
    chain.sort((a, b) => b.priority - a.priority);
    this.chains.set(k, chain);
    return !old;
  }

  /** Moves every rule to the conj_id-keyed classifier (in insertion order). */
  private widen(): void {
    this.all = new Classifier<FlowEntry>(withConjId(this.opts));
    const rules = this.plain.rules().sort((a, b) => a.id - b.id);
    for (const r of rules) this.plain.remove(r);
    for (const r of rules) this.add(r.payload);
  }

  /** How many distinct masks (subtables) the table's classifier holds. */
  get masks(): number {
    return (this.all ?? this.plain).masks;
  }

  /** Every rule of the table (any order). */
  rules(): FlowEntry[] {
    return (this.all ?? this.plain).rules().map((r) => r.payload);
  }

  /**
   * classifier_lookup__(): the rule a packet (`key`, conj_id 0) hits, ORing into `wc` the bits
   * every subtable consulted.
   */
  lookup(key: Uint32Array, wc?: Uint32Array): FlowEntry | undefined {
    const all = this.all;
    if (all === null) return this.plain.lookup(key, wc)?.payload;
    const k = this.keyX;
    k[0] = 0;
    k.set(key, 1);
    let w: Uint32Array | undefined;
    if (wc) {
      w = this.wcX;
      w[0] = 0;
      w.set(wc, 1);
    }
    const r = this.lookupConj(all, k, w, true);
    if (wc && w) wc.set(w.subarray(1));
    return r;
  }

  private lookupConj(
    all: Classifier<FlowEntry>,
    k: Uint32Array,
    w: Uint32Array | undefined,
    allowSoft: boolean,
  ): FlowEntry | undefined {
    const hits = allowSoft ? this.softHits : null;
    if (hits) hits.length = 0;
    let hard = all.lookupSoft(k, w, this.isSoft, hits)?.payload;
    let hardPri = hard ? hard.priority : -1;
    if (!hits || hits.length === 0) return hard;
    // The soft match loop, with OVS's order (deletions move the last entry into the hole).
    const soft: (FlowEntry | null)[] = hits.map((r) => r.payload);
    let n = soft.length;
    for (;;) {
      for (let i = 0; i < n; ) {
        const x = soft[i];
        if (!x || x.priority <= hardPri) soft[i] = soft[--n]!;
        else i++;
      }
      if (n === 0) break;
      let softPri = -1;
      let nSoftPri = 0;
      for (let i = 0; i < n; i++) {
        const p = soft[i]!.priority;
        if (p > softPri) {
          softPri = p;
          nSoftPri = 1;
        } else if (p === softPri) nSoftPri++;
      }
      // find_conjunctive_match(): clause bitmaps per id over the soft matches at softPri; a
      // completed conjunction looks the table up again with conj_id set (soft rules ignored).
      const seen = new Map<number, bigint>();
      for (let i = 0; i < n; i++) {
        const x = soft[i]!;
        if (x.priority !== softPri) continue;
        const id = completes(this.softOf.get(x)!, nSoftPri, seen);
        if (id === undefined) continue;
        const saved = k[0]!;
        k[0] = id;
        const rule = this.lookupConj(all, k, w, false);
        k[0] = saved;
        if (rule) return rule;
      }
      // No conjunction completes at softPri: drop back to lower-priority identical matches.
      for (let i = 0; i < n; i++) {
        const x = soft[i]!;
        if (x.priority !== softPri) continue;
        const { value, mask } = widened(x);
        const chain = this.chains.get(chainKey(value, mask));
        const lower = chain ? chain[chain.indexOf(x) + 1] : undefined;
        if (lower === undefined) soft[i] = null;
        else if (this.softOf.has(lower)) soft[i] = lower;
        else {
          soft[i] = null;
          if (lower.priority > hardPri) {
            hard = lower;
            hardPri = lower.priority;
          }
        }
      }
    }
    return hard;
  }
}

/** A rule's match over the conj_id-keyed words (conj_id first). */
function widened(e: FlowEntry): { value: Uint32Array; mask: Uint32Array } {
  const n = e.words.value.length + 1;
  const value = new Uint32Array(n);
  const mask = new Uint32Array(n);
  value.set(e.words.value, 1);
  mask.set(e.words.mask, 1);
  if (e.conjId !== undefined) {
    value[0] = e.conjId;
    mask[0] = 0xffffffff;
  }
  return { value, mask };
}

const chainKey = (value: Uint32Array, mask: Uint32Array): string => `${mask.join(",")}|${value.join(",")}`;

/**
 * find_conjunctive_match(): adds one soft rule's conjunctions to `seen` and returns the id of
 * the first one whose clauses are now all seen (its later conjunctions are then not added).
 */
function completes(conjs: readonly Conj[], nSoftPri: number, seen: Map<number, bigint>): number | undefined {
  for (const c of conjs) {
    if (c.n > nSoftPri) continue;
    const bits = (seen.get(c.id) ?? 0n) | (1n << BigInt(c.clause));
    seen.set(c.id, bits);
    if (bits === (1n << BigInt(c.n)) - 1n) return c.id;
  }
  return undefined;
}

/**
 * ofpacts_verify(): `conjunction` may only be combined with `note`.
 * @throws SimError BAD_VALUE otherwise.
 */
export function verifyConjunctions(actions: readonly OfAction[]): void {
  if (!actions.some((a) => a.kind === "conjunction")) return;
  const other = actions.find((a) => a.kind !== "conjunction" && a.kind !== "note");
  if (other)
    throw new SimError(
      "BAD_VALUE",
      `"conjunction" actions may be used along with "note" but not any other kind of action (such as the "${other.kind === "unsupported" ? other.name : other.kind}" action used here)`,
    );
}
