/**
 * Rules, classifier options and the checks OVS's `struct match` makes on them, shared by the
 * tuple-space classifier and the linear reference classifier so both accept and reject
 * exactly the same input.
 */
import { ETH_TYPE, FLOW_WORDS, SimError, STAGE_ENDS, W } from "@ovnsim/packet";

/** What a caller gives to insert a rule: value/mask words over the key, a priority, a payload. */
export interface RuleSpec<T> {
  /** 0–65535, higher wins (OpenFlow priority). */
  readonly priority: number;
  /** Key words the rule matches; bits outside `mask` must be 0 (OVS `struct match` invariant). */
  readonly value: Uint32Array;
  /** 1-bits are matched, 0-bits are wildcarded. */
  readonly mask: Uint32Array;
  readonly payload: T;
  /** Used in error messages ("rule 'table=0 priority=100 …'"); optional. */
  readonly name?: string;
}

/** A rule in a classifier. `id` is assigned on insertion, unique and increasing. */
export interface Rule<T> {
  readonly id: number;
  readonly priority: number;
  readonly value: Uint32Array;
  readonly mask: Uint32Array;
  readonly payload: T;
  readonly name: string | undefined;
}

/** A field with a prefix-tracking trie (OVS `classifier_set_prefix_fields`). */
export interface TrieField {
  /** First key word of the field. */
  readonly word: number;
  /** Width in 32-bit words (1 for IPv4, 4 for IPv6). Default 1. */
  readonly nWords?: number;
  /** For a field narrower than its word (prefilter tries only): its width in bits and how many
   * bits from the word's most significant bit it starts (tp_dst: bits 16, bitOffset 16). */
  readonly bits?: number;
  readonly bitOffset?: number;
  /** The trie is consulted only for keys that satisfy this (OVS `mf_are_prereqs_ok`). */
  readonly prereq?: { readonly word: number; readonly mask: number; readonly value: number };
  readonly name?: string;
}

/** Key layout and megaflow features of a classifier. */
export interface ClassifierOptions {
  /** Words per key. Default FLOW_WORDS (the @ovnsim/packet flow key). */
  readonly nWords?: number;
  /**
   * Exclusive end word of each lookup stage, ascending, the last equal to nWords. Default
   * STAGE_ENDS (metadata, L2, L3, L4) for the flow key, [nWords] (no staging) otherwise.
   */
  readonly stageEnds?: readonly number[];
  /** Prefix-tracking fields. Default ip_dst, ip_src, ipv6_dst, ipv6_src for the flow key (as
   * ofproto sets them), none otherwise. At most 4 (CLS_MAX_TRIES). */
  readonly tries?: readonly TrieField[];
  /** The two 16-bit L4 port words for the per-subtable ports trie; null disables it. Default
   * tp_src/tp_dst for the flow key, none otherwise. */
  readonly ports?: { readonly src: number; readonly dst: number } | null;
  /**
   * Extra tries used only to skip subtables on lookups without wildcards (they never change a
   * megaflow). Default tp_src and tp_dst for the flow key, none otherwise. At most 4.
   */
  readonly prefilterTries?: readonly TrieField[];
  /** Lookups without wildcards use the tries (and prune subtables by prefix lengths) only with
   * at least this many subtables. Default 8. */
  readonly prefilterMinSubtables?: number;
}

export interface ResolvedOptions {
  readonly nWords: number;
  readonly stageEnds: readonly number[];
  readonly tries: readonly TrieField[];
  readonly ports: { readonly src: number; readonly dst: number } | null;
  readonly prefilterTries: readonly TrieField[];
  readonly prefilterMinSubtables: number;
}

/** Port tries for the flow key's prefilter: 16-bit fields in the low half of their words. */
export const DEFAULT_FLOW_PREFILTER: readonly TrieField[] = Object.freeze([
  { word: W.tp_dst, bits: 16, bitOffset: 16, name: "tp_dst" },
  { word: W.tp_src, bits: 16, bitOffset: 16, name: "tp_src" },
]);

/** OVS's default prefix fields for the flow key: ip_dst, ip_src, ipv6_dst, ipv6_src. */
export const DEFAULT_FLOW_TRIES: readonly TrieField[] = Object.freeze([
  { word: W.nw_dst, prereq: { word: W.dl_type, mask: 0xffff, value: ETH_TYPE.ip }, name: "nw_dst" },
  { word: W.nw_src, prereq: { word: W.dl_type, mask: 0xffff, value: ETH_TYPE.ip }, name: "nw_src" },
  {
    word: W.ipv6_dst,
    nWords: 4,
    prereq: { word: W.dl_type, mask: 0xffff, value: ETH_TYPE.ipv6 },
    name: "ipv6_dst",
  },
  {
    word: W.ipv6_src,
    nWords: 4,
    prereq: { word: W.dl_type, mask: 0xffff, value: ETH_TYPE.ipv6 },
    name: "ipv6_src",
  },
]);

export function resolveOptions(o: ClassifierOptions = {}): ResolvedOptions {
  const nWords = o.nWords ?? FLOW_WORDS;
  if (!Number.isInteger(nWords) || nWords < 1 || nWords > 1024)
    throw new SimError("BAD_VALUE", `classifier: nWords ${nWords} is not an integer in 1..1024`);
  const flowLayout = nWords === FLOW_WORDS;
  const stageEnds = o.stageEnds ?? (flowLayout ? STAGE_ENDS : [nWords]);
  let prev = 0;
  for (const e of stageEnds) {
    if (!Number.isInteger(e) || e <= prev || e > nWords)
      throw new SimError(
        "BAD_VALUE",
        `classifier: stageEnds ${JSON.stringify(stageEnds)} must ascend within 1..${nWords}`,
      );
    prev = e;
  }
  if (prev !== nWords)
    throw new SimError("BAD_VALUE", `classifier: the last stage end must be nWords (${nWords})`);
  const tries = o.tries ?? (flowLayout ? DEFAULT_FLOW_TRIES : []);
  if (tries.length > 4) throw new SimError("BAD_VALUE", "classifier: at most 4 prefix tries (CLS_MAX_TRIES)");
  for (const t of tries) {
    const n = t.nWords ?? 1;
    if (!Number.isInteger(t.word) || t.word < 0 || t.word + n > nWords || n < 1 || n > 4)
      throw new SimError(
        "BAD_VALUE",
        `classifier: trie field at word ${t.word} (${n} words) is outside the key`,
      );
    if (stageOf(stageEnds, t.word) !== stageOf(stageEnds, t.word + n - 1))
      throw new SimError("BAD_VALUE", `classifier: trie field at word ${t.word} spans two stages`);
  }
  const ports = o.ports === undefined ? (flowLayout ? { src: W.tp_src, dst: W.tp_dst } : null) : o.ports;
  if (ports && (ports.src >= nWords || ports.dst >= nWords || ports.src < 0 || ports.dst < 0))
    throw new SimError("BAD_VALUE", "classifier: ports words are outside the key");
  const prefilterTries = o.prefilterTries ?? (flowLayout ? DEFAULT_FLOW_PREFILTER : []);
  if (prefilterTries.length > 4) throw new SimError("BAD_VALUE", "classifier: at most 4 prefilter tries");
  for (const t of prefilterTries) {
    const bits = t.bits ?? 32 * (t.nWords ?? 1);
    const off = t.bitOffset ?? 0;
    if (
      !Number.isInteger(t.word) ||
      t.word < 0 ||
      t.word >= nWords ||
      off < 0 ||
      bits < 1 ||
      off + bits > 32 * Math.min(4, nWords - t.word)
    )
      throw new SimError("BAD_VALUE", `classifier: prefilter trie at word ${t.word} is outside the key`);
  }
  const prefilterMinSubtables = o.prefilterMinSubtables ?? 8;
  return { nWords, stageEnds, tries, ports, prefilterTries, prefilterMinSubtables };
}

/** Index of the stage that holds `word`. */
export function stageOf(stageEnds: readonly number[], word: number): number {
  for (let i = 0; i < stageEnds.length; i++) if (word < stageEnds[i]!) return i;
  return stageEnds.length - 1;
}

const describe = (spec: { name?: string | undefined; priority: number }, id: number): string =>
  spec.name !== undefined ? `rule '${spec.name}'` : `rule #${id} (priority ${spec.priority})`;

/** Throws the SimError OVS's match checks imply for a bad rule; `id` names it. */
export function checkSpec(spec: RuleSpec<unknown>, nWords: number, id: number): void {
  const p = spec.priority;
  if (!Number.isInteger(p) || p < 0 || p > 65535)
    throw new SimError("BAD_VALUE", `${describe(spec, id)}: priority ${p} is outside 0–65535`);
  if (!(spec.value instanceof Uint32Array) || !(spec.mask instanceof Uint32Array))
    throw new SimError("BAD_VALUE", `${describe(spec, id)}: value and mask must be Uint32Array`);
  if (spec.value.length !== nWords || spec.mask.length !== nWords)
    throw new SimError(
      "BAD_VALUE",
      `${describe(spec, id)}: value/mask have ${spec.value.length}/${spec.mask.length} words, the key has ${nWords}`,
    );
  const v = spec.value;
  const m = spec.mask;
  for (let i = 0; i < nWords; i++) {
    if ((v[i]! & ~m[i]!) !== 0)
      throw new SimError(
        "BAD_MASK",
        `${describe(spec, id)}: value has bits outside its mask at word ${i} (value 0x${v[i]!.toString(16)}, mask 0x${m[i]!.toString(16)})`,
      );
  }
}

/** True if `key` matches value/mask. */
export function matches(value: Uint32Array, mask: Uint32Array, key: Uint32Array): boolean {
  for (let i = 0; i < mask.length; i++) if (((key[i]! ^ value[i]!) & mask[i]!) !== 0) return false;
  return true;
}

/** Same mask and value words. */
export function sameMatch(
  a: { value: Uint32Array; mask: Uint32Array },
  b: { value: Uint32Array; mask: Uint32Array },
): boolean {
  const n = a.mask.length;
  if (b.mask.length !== n) return false;
  for (let i = 0; i < n; i++) if (a.mask[i] !== b.mask[i] || a.value[i] !== b.value[i]) return false;
  return true;
}

/** Largest version number; a rule not removed has removeVersion = VERSION_MAX. */
export const VERSION_MAX = 0x3fffffff;

/** Internal rule record (both classifiers). */
export class RuleRec<T> implements Rule<T> {
  /** Next rule in the same subtable bucket (same masked value), lower (priority, order). */
  next: RuleRec<T> | null = null;
  constructor(
    readonly id: number,
    readonly priority: number,
    readonly value: Uint32Array,
    readonly mask: Uint32Array,
    readonly payload: T,
    readonly name: string | undefined,
    /** Tie-break key: lower wins among equal priorities (insertion order; inherited on replace). */
    public order: number,
    public addVersion: number,
    public removeVersion: number,
  ) {}
}

/** True if (priority a, order a) beats (priority b, order b). */
export const beats = (pa: number, oa: number, pb: number, ob: number): boolean =>
  pa > pb || (pa === pb && oa < ob);
