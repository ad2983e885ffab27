/**
 * OpenFlow select groups, choosing a bucket the way Open vSwitch does
 * (`ofproto/ofproto-dpif-xlate.c` `pick_select_group`, `ofproto/ofproto-dpif.c`
 * `group_set_selection_method` / `group_setup_dp_hash_table`). One implementation, used by
 * the OpenFlow `group` action and by OVN's `ct_lb_mark(backends=…)`, which northd turns into
 * a select group.
 *
 * Three methods, as OVS picks them:
 *   - `hash` with `fields(...)`: a basis `hash_uint64(selection_method_param)`, then
 *     `hash_bytes` over each field's masked value in network byte order, in meta-flow field-id
 *     order (not the order written), skipping fields whose prerequisites the packet does not
 *     meet. Each live bucket scores `(hash_int(bucket_id, basis) & 0xffff) * weight`; the
 *     highest wins, and on a tie the later bucket (`score >= best`).
 *   - `dp_hash` (OVN's default, and what OVS uses when no method is given and at most 256 hash
 *     slots suffice): the datapath computes a packet hash (`hash(l4(0))` for OVN's groups,
 *     `hash(sym_l4(0))` for a group without a method), and the bucket is
 *     `hash_map[dp_hash & mask]`, the map spreading slots over buckets by weight with the
 *     Webster method. The packet hash is the userspace datapath's ({@link dpHashL4}).
 *   - default (no usable method): the same scoring as `hash`, with basis
 *     `flow_hash_symmetric_l4(flow, 0)`.
 *
 * All buckets are live here (no watch ports); a caller can mark buckets dead.
 */
import { ETH_TYPE, type Flow, FRAG, SimError } from "@ovnsim/packet";
import type { FiveTuple } from "./ovs-hash.js";
import {
  dpHashL4,
  flowHashSymmetricL3L4,
  flowHashSymmetricL4,
  hashBytes,
  hashInt,
  hashUint64,
} from "./ovs-hash.js";

/** One bucket as the selection sees it. */
export interface SelectBucket {
  readonly bucketId: number;
  readonly weight: number;
  /** Defaults to true. */
  readonly live?: boolean;
}

/**
 * One `fields(...)` entry: a field name and an optional mask, as network-order bytes or as the
 * field's value (a bigint, e.g. 0xffffff00n for `ip_src=255.255.255.0`).
 */
export interface HashFieldSpec {
  readonly name: string;
  readonly mask?: Uint8Array | bigint;
}

interface HashFieldDef {
  /** Position of the field in OVS `enum mf_field_id` (only the order matters). */
  readonly order: number;
  readonly canonical: string;
  readonly nBytes: number;
  readonly prereq: (f: Flow) => boolean;
  /** The field's value in network byte order. */
  readonly value: (f: Flow) => Uint8Array;
}

const isIp4 = (f: Flow): boolean => f.dl_type === ETH_TYPE.ip;
const isIp6 = (f: Flow): boolean => f.dl_type === ETH_TYPE.ipv6;
const isIpAny = (f: Flow): boolean => isIp4(f) || isIp6(f);
const isArp = (f: Flow): boolean => f.dl_type === ETH_TYPE.arp || f.dl_type === ETH_TYPE.rarp;
const notLater = (f: Flow): boolean => (f.nw_frag & FRAG.later) === 0;
const l4 = (proto: number) => (f: Flow) => isIpAny(f) && f.nw_proto === proto && notLater(f);
const any = (): boolean => true;

function beBytes(v: number | bigint, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = BigInt(v);
  for (let i = n - 1; i >= 0; i--) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

const DEFS: readonly (readonly [string[], HashFieldDef])[] = (() => {
  const d = (
    names: string[],
    order: number,
    nBytes: number,
    prereq: (f: Flow) => boolean,
    get: (f: Flow) => number | bigint,
  ): [string[], HashFieldDef] => [
    names,
    { order, canonical: names[0] as string, nBytes, prereq, value: (f) => beBytes(get(f), nBytes) },
  ];
  const regs: [string[], HashFieldDef][] = [];
  for (let i = 0; i < 16; i++) regs.push(d([`reg${i}`], 101 + i, 4, any, (f) => f.regs[i] ?? 0));
  const tci = (f: Flow): number => {
    const v = f.vlans[0];
    return v ? ((v.pcp & 7) << 13) | 0x1000 | (v.vid & 0xfff) : 0;
  };
  return [
    d(["metadata"], 84, 8, any, (f) => f.metadata),
    d(["in_port"], 85, 2, any, (f) => f.in_port),
    d(["pkt_mark"], 89, 4, any, (f) => f.pkt_mark),
    ...regs,
    d(["eth_src", "dl_src"], 157, 6, any, (f) => f.dl_src),
    d(["eth_dst", "dl_dst"], 158, 6, any, (f) => f.dl_dst),
    d(["eth_type", "dl_type"], 159, 2, any, (f) => f.dl_type),
    d(["vlan_tci"], 160, 2, any, tci),
    d(["dl_vlan"], 161, 2, any, (f) => tci(f) & 0xfff),
    d(["vlan_vid"], 162, 2, any, (f) => tci(f) & 0x1fff),
    d(["dl_vlan_pcp"], 163, 1, any, (f) => tci(f) >>> 13),
    d(["vlan_pcp"], 164, 1, any, (f) => tci(f) >>> 13),
    d(["ip_src", "nw_src"], 169, 4, isIp4, (f) => f.nw_src),
    d(["ip_dst", "nw_dst"], 170, 4, isIp4, (f) => f.nw_dst),
    d(["ipv6_src"], 171, 16, isIp6, (f) => f.ipv6_src),
    d(["ipv6_dst"], 172, 16, isIp6, (f) => f.ipv6_dst),
    d(["ipv6_label"], 173, 4, isIp6, (f) => f.ipv6_label),
    d(["ip_proto", "nw_proto"], 174, 1, isIpAny, (f) => f.nw_proto),
    d(["nw_tos"], 175, 1, isIpAny, (f) => f.nw_tos & 0xfc),
    d(["ip_dscp"], 176, 1, isIpAny, (f) => (f.nw_tos & 0xfc) >>> 2),
    d(["nw_ecn", "ip_ecn"], 177, 1, isIpAny, (f) => f.nw_tos & 3),
    d(["nw_ttl"], 178, 1, isIpAny, (f) => f.nw_ttl),
    d(["arp_op"], 180, 2, isArp, (f) => f.nw_proto),
    d(["arp_spa"], 181, 4, isArp, (f) => f.nw_src),
    d(["arp_tpa"], 182, 4, isArp, (f) => f.nw_dst),
    d(["arp_sha"], 183, 6, isArp, (f) => f.arp_sha),
    d(["arp_tha"], 184, 6, isArp, (f) => f.arp_tha),
    d(["tcp_src", "tp_src"], 185, 2, l4(6), (f) => f.tp_src),
    d(["tcp_dst", "tp_dst"], 186, 2, l4(6), (f) => f.tp_dst),
    d(["udp_src"], 188, 2, l4(17), (f) => f.tp_src),
    d(["udp_dst"], 189, 2, l4(17), (f) => f.tp_dst),
    d(["sctp_src"], 190, 2, l4(132), (f) => f.tp_src),
    d(["sctp_dst"], 191, 2, l4(132), (f) => f.tp_dst),
    d(
      ["icmp_type"],
      192,
      1,
      (f) => isIp4(f) && f.nw_proto === 1 && notLater(f),
      (f) => f.tp_src,
    ),
    d(
      ["icmp_code"],
      193,
      1,
      (f) => isIp4(f) && f.nw_proto === 1 && notLater(f),
      (f) => f.tp_dst,
    ),
    d(
      ["icmpv6_type"],
      194,
      1,
      (f) => isIp6(f) && f.nw_proto === 58 && notLater(f),
      (f) => f.tp_src,
    ),
    d(
      ["icmpv6_code"],
      195,
      1,
      (f) => isIp6(f) && f.nw_proto === 58 && notLater(f),
      (f) => f.tp_dst,
    ),
  ];
})();

const BY_NAME: ReadonlyMap<string, HashFieldDef> = new Map(
  DEFS.flatMap(([names, def]) => names.map((n) => [n, def] as const)),
);

/** Names accepted in `fields(...)` (canonical names and aliases). */
export const HASH_FIELD_NAMES: readonly string[] = [...BY_NAME.keys()];

/** The canonical name `hashFieldsBasis` reports in `used` for a field name or alias (undefined if not hashable). */
export function canonicalHashField(name: string): string | undefined {
  return BY_NAME.get(name)?.canonical;
}

/** A compiled `fields(...)` list: sorted in OVS field order, masks resolved. */
export interface HashFields {
  readonly fields: readonly { readonly def: HashFieldDef; readonly mask: Uint8Array }[];
  /** `selection_method_param` (64 bits; 0 unless given). */
  readonly param: bigint;
}

/**
 * Compiles a `fields(...)` list.
 *
 * @throws SimError UNKNOWN_FIELD for a field this model cannot hash, BAD_MASK for a mask of the
 *   wrong width, DUPLICATE for a field listed twice.
 */
export function compileHashFields(specs: readonly (HashFieldSpec | string)[], param = 0n): HashFields {
  const seen = new Set<number>();
  const out: { def: HashFieldDef; mask: Uint8Array }[] = [];
  for (const s of specs) {
    const spec = typeof s === "string" ? { name: s } : s;
    const def = BY_NAME.get(spec.name);
    if (!def) {
      throw new SimError(
        "UNKNOWN_FIELD",
        `select group fields: "${spec.name}" is not a field the model can hash`,
      );
    }
    if (seen.has(def.order))
      throw new SimError("DUPLICATE", `select group fields: "${spec.name}" given twice`);
    seen.add(def.order);
    const m = spec.mask;
    if (typeof m === "bigint" && (m < 0n || m >= 1n << BigInt(8 * def.nBytes))) {
      throw new SimError("BAD_MASK", `select group fields: mask of ${spec.name} must be ${def.nBytes} bytes`);
    }
    const mask =
      m === undefined
        ? new Uint8Array(def.nBytes).fill(0xff)
        : typeof m === "bigint"
          ? beBytes(m, def.nBytes)
          : m;
    if (mask.length !== def.nBytes) {
      throw new SimError("BAD_MASK", `select group fields: mask of ${spec.name} must be ${def.nBytes} bytes`);
    }
    out.push({ def, mask });
  }
  out.sort((a, b) => a.def.order - b.def.order);
  return { fields: out, param: BigInt.asUintN(64, param) };
}

/** Parses a `fields(...)` body as ovs-ofctl writes it: "ip_src,tcp_src" or "ip_src=255.255.255.0". */
export function parseHashFields(text: string, param = 0n): HashFields {
  const specs: HashFieldSpec[] = [];
  for (const part of text.split(",").map((p) => p.trim())) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    if (eq < 0) {
      specs.push({ name: part });
      continue;
    }
    const name = part.slice(0, eq);
    const def = BY_NAME.get(name);
    if (!def)
      throw new SimError("UNKNOWN_FIELD", `select group fields: "${name}" is not a field the model can hash`);
    specs.push({ name, mask: parseMaskBytes(part.slice(eq + 1), def.nBytes, name) });
  }
  return compileHashFields(specs, param);
}

function parseMaskBytes(text: string, n: number, name: string): Uint8Array {
  let v: bigint | undefined;
  if (/^0x[0-9a-fA-F]+$/.test(text) || /^\d+$/.test(text)) v = BigInt(text);
  else if (n === 4 && /^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    v = text.split(".").reduce((acc, o) => (acc << 8n) | BigInt(Number(o) & 0xff), 0n);
  } else if (n === 6 && /^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$/.test(text)) {
    v = BigInt(
      `0x${text
        .split(":")
        .map((b) => b.padStart(2, "0"))
        .join("")}`,
    );
  }
  if (v === undefined || v >= 1n << BigInt(8 * n)) {
    throw new SimError("BAD_MASK", `select group fields: "${text}" is not a mask for ${name}`);
  }
  return beBytes(v, n);
}

/**
 * The basis `pick_hash_fields_select_group` feeds to the bucket scores, and the fields it used.
 */
export function hashFieldsBasis(
  flow: Flow,
  hf: HashFields,
): { readonly hash: number; readonly used: readonly string[] } {
  let basis = hashUint64(hf.param);
  const used: string[] = [];
  for (const { def, mask } of hf.fields) {
    if (!def.prereq(flow)) continue;
    const v = def.value(flow);
    for (let i = 0; i < v.length; i++) v[i] = (v[i] ?? 0) & (mask[i] ?? 0);
    basis = hashBytes(v, basis);
    used.push(def.canonical);
  }
  return { hash: basis, used };
}

/** One bucket's score, as ofproto/trace prints "bucket N: score S". */
export interface BucketScore {
  readonly bucketId: number;
  readonly score: number;
  readonly live: boolean;
}

/** `group_best_live_bucket`: scores every live bucket; the best (later on ties) wins. */
export function scoreBuckets(
  buckets: readonly SelectBucket[],
  basis: number,
): { readonly scores: readonly BucketScore[]; readonly chosen: number | undefined } {
  let best: number | undefined;
  let bestScore = 0;
  const scores: BucketScore[] = [];
  buckets.forEach((b, i) => {
    const live = b.live !== false;
    if (!live) {
      scores.push({ bucketId: b.bucketId, score: 0, live });
      return;
    }
    const score = (hashInt(b.bucketId >>> 0, basis) & 0xffff) * b.weight;
    if (score >= bestScore) {
      best = i;
      bestScore = score;
    }
    scores.push({ bucketId: b.bucketId, score, live });
  });
  return { scores, chosen: best };
}

/** The slot → bucket map of a dp_hash group (`group_setup_dp_hash_table`), or undefined if OVS would not use dp_hash. */
export interface DpHashTable {
  /** `hash_mask`: number of slots minus one. */
  readonly mask: number;
  /** Bucket index (into the group's bucket list) per slot. */
  readonly slots: readonly number[];
}

const MAX_SELECT_GROUP_HASH_VALUES = 256;

/**
 * Builds the dp_hash slot map with OVS's Webster method.
 *
 * @param maxHash 256 for a group without selection method (OVS then falls back to the default
 *   method beyond 256 slots), 0 (no limit but 256) for `selection_method=dp_hash`.
 */
export function dpHashTable(buckets: readonly SelectBucket[], maxHash = 0): DpHashTable | undefined {
  const n = buckets.length;
  if (n === 0) return undefined;
  let total = 0;
  let minWeight = 0xffff;
  for (const b of buckets) {
    if (b.weight > 0 && b.weight < minWeight) minWeight = b.weight;
    total += b.weight;
  }
  if (total === 0) return undefined;
  // OVS 3.1: the slot count is the next power of two of total/min weight, at least 16. (Later
  // OVS releases also ask for at least 4 slots per bucket; the 3.1 oracle does not.)
  const minSlots = Math.ceil(total / minWeight);
  let minSlots2 = 1;
  while (minSlots2 < minSlots) minSlots2 *= 2;
  const nHash = Math.max(16, minSlots2);
  if (nHash > MAX_SELECT_GROUP_HASH_VALUES || (maxHash !== 0 && nHash > maxHash)) return undefined;
  const value = buckets.map((b) => b.weight);
  const divisor = buckets.map(() => 1);
  const slots: number[] = [];
  for (let h = 0; h < nHash; h++) {
    let w = 0;
    for (let i = 1; i < n; i++) if ((value[i] ?? 0) > (value[w] ?? 0)) w = i;
    divisor[w] = (divisor[w] ?? 1) + 2;
    value[w] = (buckets[w]?.weight ?? 0) / (divisor[w] ?? 1);
    slots.push(w);
  }
  return { mask: nHash - 1, slots };
}

/** `pick_dp_hash_select_group`: the first live bucket from slot `dp_hash & mask` on; undefined if none. */
export function pickDpHashBucket(
  buckets: readonly SelectBucket[],
  table: DpHashTable,
  dpHash: number,
): number | undefined {
  for (let i = 0; i <= table.mask; i++) {
    const idx = table.slots[(dpHash + i) & table.mask];
    if (idx !== undefined && buckets[idx]?.live !== false) return idx;
  }
  return undefined;
}

export { dpHashL4 };

/** A select group as the selection needs it. */
export interface SelectGroup {
  readonly buckets: readonly SelectBucket[];
  /** `selection_method`: "hash", "dp_hash", or "" (none given). */
  readonly method: "hash" | "dp_hash" | "";
  /** `fields(...)` for "hash". */
  readonly fields?: HashFields;
  /** `selection_method_param` (0 when absent). */
  readonly param?: bigint;
}

/** Which bucket a packet gets, and why (what ofproto/trace shows, and more). */
export interface BucketChoice {
  /** Index into the group's bucket list; undefined when no bucket is live. */
  readonly index: number | undefined;
  readonly bucketId: number | undefined;
  /** The method OVS actually uses for this group (`group_set_selection_method`). */
  readonly method: "hash" | "dp_hash" | "default";
  /** hash: the fields basis; default: the symmetric L4 hash; dp_hash: the packet's dp_hash. */
  readonly hash: number;
  /** Per-bucket scores (hash and default methods). */
  readonly scores: readonly BucketScore[];
  /** dp_hash: the slot `dp_hash & mask` and the slot count. */
  readonly slot?: number;
  readonly slots?: number;
  /** dp_hash computed here rather than taken from the flow (the datapath would compute it). */
  readonly dpHashComputed?: boolean;
  /** hash: the fields that were hashed (prerequisites met). */
  readonly usedFields?: readonly string[];
}

/**
 * Chooses a bucket of a select group for a packet, as OVS does.
 *
 * For dp_hash the packet's `dp_hash` is used when non-zero (as after OVS's `hash` +
 * recirculation, or `ofproto/trace … dp_hash=…`); otherwise the hash the userspace datapath
 * computes is used: `hash(l4(basis))` over `ingress` (the 5-tuple as the packet entered the
 * datapath, which for a VIP is the pre-DNAT tuple) or over the flow itself.
 *
 * @example selectBucket({ method: "hash", fields: parseHashFields("ip_src,tcp_src"), buckets }, flow).bucketId
 */
export function selectBucket(
  group: SelectGroup,
  flow: Flow,
  opts: { readonly ingress?: FiveTuple } = {},
): BucketChoice {
  const { buckets } = group;
  const param = BigInt.asUintN(64, group.param ?? 0n);
  if (group.method === "hash" && group.fields && group.fields.fields.length > 0) {
    const { hash, used } = hashFieldsBasis(flow, { fields: group.fields.fields, param });
    const { scores, chosen } = scoreBuckets(buckets, hash);
    return {
      index: chosen,
      bucketId: pickId(buckets, chosen),
      method: "hash",
      hash,
      scores,
      usedFields: used,
    };
  }
  const table =
    group.method === "dp_hash" || group.method === ""
      ? cachedTable(buckets, group.method === "" ? 256 : 0)
      : undefined;
  if (table) {
    let dp = flow.dp_hash >>> 0;
    const computed = dp === 0;
    if (computed) {
      // selection_method=dp_hash: algorithm = param >> 32 (0 = L4, 1 = sym_l4), basis = low
      // 32 bits. No method: sym_l4 with basis 0 (group_set_selection_method).
      const alg = group.method === "dp_hash" ? Number(param >> 32n) : 1;
      const basis = group.method === "dp_hash" ? Number(param & 0xffffffffn) : 0;
      const pkt = opts.ingress ? { ...flow, ...opts.ingress } : flow;
      dp = alg === 1 ? flowHashSymmetricL3L4(pkt, basis, false) : dpHashL4(pkt, basis);
    }
    const index = pickDpHashBucket(buckets, table, dp);
    return {
      index,
      bucketId: pickId(buckets, index),
      method: "dp_hash",
      hash: dp,
      scores: [],
      slot: dp & table.mask,
      slots: table.mask + 1,
      dpHashComputed: computed,
    };
  }
  const hash = flowHashSymmetricL4(flow, 0);
  const { scores, chosen } = scoreBuckets(buckets, hash);
  return { index: chosen, bucketId: pickId(buckets, chosen), method: "default", hash, scores };
}

const pickId = (buckets: readonly SelectBucket[], i: number | undefined): number | undefined =>
  i === undefined ? undefined : buckets[i]?.bucketId;

const TABLE_CACHE = [
  new WeakMap<readonly SelectBucket[], DpHashTable | null>(),
  new WeakMap<readonly SelectBucket[], DpHashTable | null>(),
];

/** dpHashTable memoised on the (immutable) bucket list. */
function cachedTable(buckets: readonly SelectBucket[], maxHash: number): DpHashTable | undefined {
  const cache = TABLE_CACHE[maxHash === 0 ? 0 : 1] as WeakMap<readonly SelectBucket[], DpHashTable | null>;
  let t = cache.get(buckets);
  if (t === undefined) {
    t = dpHashTable(buckets, maxHash) ?? null;
    cache.set(buckets, t);
  }
  return t ?? undefined;
}
