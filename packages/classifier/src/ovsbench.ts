/**
 * The rules and packets of `ovstest test-classifier benchmark N_RULES N_PRIORITIES N_SUBTABLES
 * N_THREADS N_LOOKUPS` (upstream `tests/test-classifier.c`, `benchmark()`), rebuilt over the
 * flow key so our lookup rate can be set beside the C classifier's.
 *
 * The generator follows the upstream one step by step with the same PRNG (OVS `lib/random.c`,
 * xorshift32, seeded with 1), so the rule set is the same: 13 fields (tun_id, metadata,
 * nw_src, nw_dst, in_port, vlan_tci, dl_type, tp_src, tp_dst, dl_src, dl_dst, nw_proto,
 * nw_dscp), each taking one of two values per rule; priorities `i * 129`, shuffled; rules
 * identical in match and priority are skipped (`classifier_find_rule_exactly`); 2 × 8192
 * lookup flows and lookups drawn among them with the PRNG re-seeded to 1.
 *
 * Two things worth knowing when comparing figures:
 * - Upstream `make_rule()` has matched every field exactly since commit d8ae4d672 (2012): the
 *   wildcard pattern it draws per subtable only decides whether the priority is 0. So the
 *   benchmark's "n_subtables" has no effect and all rules land in ONE subtable; we reproduce
 *   that (and draw the unused patterns, to keep the PRNG sequence identical).
 * - Our flow key has no tunnel metadata; tun_id (64 bits) is placed in reg14/reg15.
 */
import { ETH_TYPE, FLOW_WORDS, IP_PROTO, OFPP, W } from "@ovnsim/packet";
import type { RuleSpec } from "./rule.js";

/** OVS `lib/random.c`: xorshift32 with a per-thread seed. */
export class OvsRandom {
  private seed: number;
  constructor(seed = 1) {
    this.seed = seed >>> 0 || 1;
  }
  uint32(): number {
    let s = this.seed;
    s = (s ^ (s << 13)) >>> 0;
    s = (s ^ (s >>> 17)) >>> 0;
    s = (s ^ (s << 5)) >>> 0;
    this.seed = s;
    return s;
  }
  range(max: number): number {
    return this.uint32() % max;
  }
}

/** [word, mask, value0, value1] per 32-bit word of each CLS_FIELD, in upstream field order. */
const FIELD_WORDS: readonly (readonly (readonly [number, number, number, number])[])[] = [
  // tun_id 0xfedcba9876543210 (as reg14:reg15)
  [
    [W.reg0 + 14, 0xffffffff, 0, 0xfedcba98],
    [W.reg0 + 15, 0xffffffff, 0, 0x76543210],
  ],
  // metadata
  [
    [W.metadata, 0xffffffff, 0, 0xfedcba98],
    [W.metadata + 1, 0xffffffff, 0, 0x76543210],
  ],
  [[W.nw_src, 0xffffffff, 0xc0a80001, 0xc0a04455]],
  [[W.nw_dst, 0xffffffff, 0xc0a80002, 0xc0a04455]],
  [[W.in_port, 0xffff, 1, OFPP.LOCAL]],
  [[W.vlan0, 0xffff, 101, 0]],
  [[W.dl_type, 0xffff, ETH_TYPE.ip, ETH_TYPE.arp]],
  [[W.tp_src, 0xffff, 49362, 80]],
  [[W.tp_dst, 0xffff, 6667, 22]],
  [
    [W.dl_src, 0xffff, 0x0002, 0x5e33],
    [W.dl_src + 1, 0xffffffff, 0xe30f80a4, 0x7f5f1e99],
  ],
  [
    [W.dl_dst, 0xffff, 0x4a27, 0xffff],
    [W.dl_dst + 1, 0xffffffff, 0x71ae64c1, 0xffffffff],
  ],
  [[W.nw_proto, 0xff, IP_PROTO.tcp, IP_PROTO.icmp]],
  [[W.nw_tos, 0xfc, 48, 0]],
];
const N_FIELDS = FIELD_WORDS.length;
const N_FLOW_VALUES = 1 << N_FIELDS;

/** Order in which upstream fills a lookup flow (get_value calls). */
const FLOW_FILL_ORDER = [2, 3, 0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12];

export interface OvsBenchmark {
  readonly rules: RuleSpec<number>[];
  /** 2 × 8192 lookup flows. */
  readonly flows: Uint32Array[];
  /** Flow index of each lookup, as the lookup thread draws them. */
  readonly lookups: Uint32Array;
}

/** Builds the workload of `ovstest test-classifier benchmark nRules nPriorities nSubtables 1 nLookups`. */
export function ovsBenchmark(
  nRules: number,
  nPriorities: number,
  nSubtables: number,
  nLookups: number,
): OvsBenchmark {
  const rnd = new OvsRandom(1);
  const wcfs: number[] = [];
  for (let i = 0; i < nSubtables; i++) {
    let w: number;
    do w = rnd.uint32() & (N_FLOW_VALUES - 1);
    while (wcfs.includes(w));
    wcfs.push(w);
  }
  const priorities: number[] = [];
  for (let i = 0; i < nPriorities; i++) priorities.push((i * 129) & 0x7fffffff);
  // shuffle(): for (; n > 1; n--, p++) swap(p[0], p[random_range(n)])
  for (let p = 0, n = nPriorities; n > 1; n--, p++) {
    const q = p + rnd.range(n);
    const t = priorities[p]!;
    priorities[p] = priorities[q]!;
    priorities[q] = t;
  }
  // One arena for all lookup flows, as upstream allocates them in one array: 16,384 separately
  // allocated keys are scattered over memory, and reading them costs more than the lookup.
  const arena = new Uint32Array(2 * N_FLOW_VALUES * FLOW_WORDS);
  const flows: Uint32Array[] = [];
  for (let i = 0; i < 2 * N_FLOW_VALUES; i++) {
    let x = rnd.range(N_FLOW_VALUES);
    const key = arena.subarray(i * FLOW_WORDS, (i + 1) * FLOW_WORDS);
    for (const f of FLOW_FILL_ORDER) {
      const idx = x % 2;
      x = Math.floor(x / 2);
      for (const [w, , v0, v1] of FIELD_WORDS[f]!) key[w] = idx ? v1 : v0;
    }
    flows.push(key);
  }
  const rules: RuleSpec<number>[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < nRules; i++) {
    const priority0 = priorities[rnd.range(nPriorities)]!;
    const wcf = wcfs[rnd.range(nSubtables)]!;
    const pat = rnd.uint32() & (N_FLOW_VALUES - 1);
    const priority = wcf ? priority0 : 0;
    // Priorities here are < 65536 for up to 508 priority levels.
    const k = pat * 65536 + priority;
    if (seen.has(k)) continue;
    seen.add(k);
    const value = new Uint32Array(FLOW_WORDS);
    const mask = new Uint32Array(FLOW_WORDS);
    for (let f = 0; f < N_FIELDS; f++) {
      const idx = (pat >>> f) & 1;
      for (const [w, m, v0, v1] of FIELD_WORDS[f]!) {
        mask[w] = m;
        value[w] = (idx ? v1 : v0) & m;
      }
    }
    rules.push({ priority, value, mask, payload: rules.length });
  }
  const lr = new OvsRandom(1);
  const lookups = new Uint32Array(nLookups);
  for (let i = 0; i < nLookups; i++) lookups[i] = lr.range(flows.length);
  return { rules, flows, lookups };
}
