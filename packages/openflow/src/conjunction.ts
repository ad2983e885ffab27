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
 * groups. `conj_id` is no packet field (it never reaches the megaflow), so rules matching it live
 * in their own classifier per id instead of the flow key.
 */
import { Classifier, type ClassifierOptions, type Rule } from "@ovnsim/classifier";
import { SimError } from "@ovnsim/packet";
import type { OfAction } from "./actions.js";
import type { FlowEntry } from "./model.js";

/** A soft rule's conjunctions. */
interface Conj {
  readonly id: number;
  readonly clause: number;
  readonly n: number;
}

/** Soft rules sharing one mask (an OVS subtable): a classifier, plus identical-match chains. */
interface SoftSubtable {
  readonly cls: Classifier<FlowEntry>;
  /** Rules with the same match, by priority (descending), keyed by the match value words. */
  readonly chains: Map<string, FlowEntry[]>;
  maxPri: number;
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

const wordsKey = (w: Uint32Array): string => w.join(",");

export class OfTable {
  private readonly opts: ClassifierOptions;
  /** Ordinary rules that do not match on conj_id. */
  readonly hard: Classifier<FlowEntry>;
  /** Rules matching `conj_id=id`, per id. */
  private readonly byConjId = new Map<number, Classifier<FlowEntry>>();
  /** Soft rules, per mask. */
  private readonly soft = new Map<string, SoftSubtable>();

  constructor(opts: ClassifierOptions) {
    this.opts = opts;
    this.hard = new Classifier<FlowEntry>(opts);
  }

  private classifierFor(e: FlowEntry, create: boolean): Classifier<FlowEntry> | SoftSubtable | undefined {
    if (e.conjId !== undefined) {
      let c = this.byConjId.get(e.conjId);
      if (!c && create) {
        c = new Classifier<FlowEntry>(this.opts);
        this.byConjId.set(e.conjId, c);
      }
      return c;
    }
    if (softConjunctions(e)) {
      const mk = wordsKey(e.words.mask);
      let s = this.soft.get(mk);
      if (!s && create) {
        s = { cls: new Classifier<FlowEntry>(this.opts), chains: new Map(), maxPri: -1 };
        this.soft.set(mk, s);
      }
      return s;
    }
    return this.hard;
  }

  /** Adds a rule; one with the same match, conj_id and priority is replaced. True if new. */
  add(e: FlowEntry): boolean {
    // A rule replaced by one of the other kind (soft vs hard) must leave its old home too.
    let fresh = true;
    for (const home of this.homes(e)) {
      const cls = "cls" in home ? home.cls : home;
      const old = cls.findExactly(e.words.value, e.words.mask, e.priority);
      if (old && old.payload.conjId === e.conjId) {
        cls.remove(old);
        if ("cls" in home) this.unchain(home, old.payload);
        fresh = false;
      }
    }
    const c = this.classifierFor(e, true)!;
    if ("cls" in c) {
      c.cls.insert({ priority: e.priority, value: e.words.value, mask: e.words.mask, payload: e });
      const k = wordsKey(e.words.value);
      const chain = c.chains.get(k) ?? [];
      chain.push(e);
      chain.sort((a, b) => b.priority - a.priority);
      c.chains.set(k, chain);
      c.maxPri = Math.max(c.maxPri, e.priority);
    } else c.insert({ priority: e.priority, value: e.words.value, mask: e.words.mask, payload: e });
    return fresh;
  }

  private homes(e: FlowEntry): (Classifier<FlowEntry> | SoftSubtable)[] {
    const out: (Classifier<FlowEntry> | SoftSubtable)[] = [];
    if (e.conjId !== undefined) {
      const c = this.byConjId.get(e.conjId);
      if (c) out.push(c);
      return out;
    }
    out.push(this.hard);
    const s = this.soft.get(wordsKey(e.words.mask));
    if (s) out.push(s);
    return out;
  }

  private unchain(s: SoftSubtable, e: FlowEntry): void {
    const k = wordsKey(e.words.value);
    const chain = s.chains.get(k);
    if (!chain) return;
    const i = chain.indexOf(e);
    if (i >= 0) chain.splice(i, 1);
    if (chain.length === 0) s.chains.delete(k);
  }

  /** Every rule of the table (any order). */
  rules(): FlowEntry[] {
    const out = this.hard.rules().map((r) => r.payload);
    for (const c of this.byConjId.values()) for (const r of c.rules()) out.push(r.payload);
    for (const s of this.soft.values()) for (const r of s.cls.rules()) out.push(r.payload);
    return out;
  }

  /**
   * classifier_lookup__(): the rule a packet (`key`, conj_id 0) hits, ORing into `wc` the bits
   * every subtable consulted.
   */
  lookup(key: Uint32Array, wc?: Uint32Array): FlowEntry | undefined {
    const hardRule: Rule<FlowEntry> | undefined = this.hard.lookup(key, wc);
    let hard = hardRule?.payload;
    let hardPri = hard ? hard.priority : -1;
    if (this.soft.size === 0) return hard;
    // Soft matches above the hard one, one per subtable (its best), with its identical-match chain.
    let soft: { e: FlowEntry; chain: FlowEntry[] | undefined }[] = [];
    for (const s of this.soft.values()) {
      if (s.maxPri <= hardPri) continue;
      const r = s.cls.lookup(key, wc);
      if (!r || r.priority <= hardPri) continue;
      soft.push({ e: r.payload, chain: s.chains.get(wordsKey(r.payload.words.value)) });
    }
    for (;;) {
      soft = soft.filter((x) => x.e.priority > hardPri);
      if (soft.length === 0) break;
      let softPri = -1;
      let nSoftPri = 0;
      for (const x of soft) {
        if (x.e.priority > softPri) {
          softPri = x.e.priority;
          nSoftPri = 1;
        } else if (x.e.priority === softPri) nSoftPri++;
      }
      // find_conjunctive_match(): clause bitmaps per id, over the soft matches at softPri.
      const seen = new Map<number, bigint>();
      for (const x of soft) {
        if (x.e.priority !== softPri) continue;
        const id = completes(softConjunctions(x.e) ?? [], nSoftPri, seen);
        if (id === undefined) continue;
        const byId = this.byConjId.get(id)?.lookup(key, wc)?.payload;
        const rule = byId && (!hard || byId.priority > hard.priority) ? byId : hard;
        if (rule) return rule;
      }
      // No conjunction completes at softPri: fall back to lower-priority identical matches.
      const next: typeof soft = [];
      for (const x of soft) {
        if (x.e.priority !== softPri) {
          next.push(x);
          continue;
        }
        const chain = x.chain;
        const i = chain ? chain.indexOf(x.e) : -1;
        const lower = chain && i >= 0 ? chain[i + 1] : undefined;
        if (lower) next.push({ e: lower, chain });
      }
      soft = next;
      if (hard) hardPri = hard.priority;
    }
    hard = hard ?? undefined;
    return hard;
  }
}

/** Adds one soft rule's conjunctions to `seen`; returns an id whose clauses are now all seen. */
function completes(conjs: readonly Conj[], nSoftPri: number, seen: Map<number, bigint>): number | undefined {
  let found: number | undefined;
  for (const c of conjs) {
    if (c.n > nSoftPri) continue;
    const bits = (seen.get(c.id) ?? 0n) | (1n << BigInt(c.clause));
    seen.set(c.id, bits);
    if (found === undefined && bits === (1n << BigInt(c.n)) - 1n) found = c.id;
  }
  return found;
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
