/**
 * The load-balancer DNAT stage: what OVN's `ct_lb_mark(backends=…)` does to a packet, on top
 * of the one conntrack (@ovnsim/conntrack) and the one bucket choice (./select.ts).
 *
 * ovn-controller compiles `ct_lb_mark(backends=B0,B1,…)` into an OpenFlow select group whose
 * bucket N is `ct(nat(dst=BN),commit,table=next,zone=…,exec(set_field:0x2/0x2->ct_mark))`
 * (`lib/actions.c encode_ct_lb`), `selection_method=dp_hash` by default, or
 * `hash,fields(…)` from the LB's `selection_fields`; every bucket has weight 100 and
 * bucket_id N. So:
 *   - a packet of a known connection gets that connection's translation (the bucket does not
 *     matter: `ct(nat)` on an existing connection applies the committed NAT);
 *   - a new one gets the bucket OVS would choose, is DNATed and committed with ct_mark.natted;
 *   - with `affinity_timeout`, a new connection from a client that recently used this VIP
 *     goes to the same backend (OVN's `chk_lb_aff`/`commit_lb_aff` learned flows, idle timeout);
 *   - `lbDst` pins the backend, like ovn-trace's `--lb-dst`.
 * Prefer-local (Kube-OVN) narrows the candidates to the current chassis's backends first
 * (./local.ts). ovn-trace picks a random backend; ovnsim never does.
 *
 * Replies go through `ct_lb_mark;` (`ct(nat)`) in the zone where the connection was
 * committed: {@link lbReply} reports the reverse NAT (source back to the VIP) and whether the
 * client's address was ever rewritten (it is not, for a plain DNAT LB: the backend sees the
 * real client IP).
 */
import { Conntrack, type CtEntry, type CtResult } from "@ovnsim/conntrack";
import { ETH_TYPE, type Flow, IP_PROTO, SimError, formatIp4, formatIp6 } from "@ovnsim/packet";
import { type LocalChoice, type PortChassisMap, type PreferLocalForm, backendsOnChassis } from "./local.js";
import {
  type LbBackend,
  type LbVip,
  type LoadBalancer,
  affinityTimeout,
  ovsSelectionFields,
} from "./model.js";
import type { FiveTuple } from "./ovs-hash.js";
import {
  type BucketChoice,
  type HashFields,
  type SelectBucket,
  parseHashFields,
  selectBucket,
} from "./select.js";
import { parseLbEndpoint } from "./vip.js";

/** OVN's `ct_mark.natted` bit (OVN_CT_NATTED_BIT 1). */
export const CT_MARK_NATTED = 0x2;

/** One learned affinity: client → backend for a VIP (OVN table 78 learned flow). */
export interface AffinityEntry {
  readonly lb: string;
  readonly vipKey: string;
  readonly client: string;
  readonly backendKey: string;
  /** Virtual time after which the entry is gone (idle timeout, refreshed on use). */
  readonly expires: number;
}

/** State the stage carries between packets: conntrack and learned affinities. Immutable. */
export interface LbState {
  readonly conntrack: Conntrack;
  readonly affinity: ReadonlyMap<string, AffinityEntry>;
}

export const emptyLbState = (): LbState => ({ conntrack: Conntrack.empty(), affinity: new Map() });

/** Options of one DNAT step. */
export interface LbDnatOptions {
  readonly lb: LoadBalancer;
  /** The VIP; found from the packet's destination when omitted. */
  readonly vip?: LbVip;
  /** Conntrack zone of the logical port (OVN: reg13[0..15]). */
  readonly zone: number;
  readonly now?: number;
  /** Pin the backend ("IP[:port]"), like ovn-trace --lb-dst. */
  readonly lbDst?: string;
  /** Prefer-local inputs: the chassis the packet is processed on and where ports are bound. */
  readonly chassis?: string;
  readonly portChassis?: PortChassisMap;
  readonly preferLocalForm?: PreferLocalForm;
  /** The 5-tuple as the packet entered the datapath (for dp_hash); default: the flow. */
  readonly ingress?: FiveTuple;
  /** OVS hash fields overriding the LB's selection_fields (ct_lb_mark's `hash_fields="…"`). */
  readonly hashFields?: HashFields | string;
}

/** Why a backend was chosen. */
export type LbReason =
  /** The packet belongs to a committed connection: its translation is reused. */
  | { readonly kind: "established"; readonly entryId: number }
  | { readonly kind: "override" }
  | { readonly kind: "affinity"; readonly expires: number }
  | { readonly kind: "hash"; readonly choice: BucketChoice }
  | { readonly kind: "dp_hash"; readonly choice: BucketChoice };

/** Result of the DNAT step. */
export type LbDnatResult =
  | {
      readonly verdict: "dnat";
      readonly flow: Flow;
      readonly vip: LbVip;
      readonly backend: LbBackend;
      readonly reason: LbReason;
      /** Prefer-local evaluation on this chassis (undefined for established connections). */
      readonly local: LocalChoice | undefined;
      readonly ct: CtResult;
      /** The connection created (undefined when it already existed). */
      readonly created: CtEntry | undefined;
      readonly state: LbState;
      readonly notes: readonly string[];
    }
  | {
      /** Not load-balanced here: no VIP matched, or prefer-local bypass (priority 139). */
      readonly verdict: "pass";
      readonly flow: Flow;
      readonly vip: LbVip | undefined;
      readonly local: LocalChoice | undefined;
      readonly state: LbState;
      readonly notes: readonly string[];
    }
  | {
      /**
       * Conntrack would not take the packet (ct_state has `inv`, e.g. a TCP SYN+ACK to the VIP,
       * or the reply key of a dead NAT connection): no DNAT happened; `ct` says why.
       */
      readonly verdict: "invalid";
      readonly flow: Flow;
      readonly vip: LbVip;
      readonly ct: CtResult;
      readonly state: LbState;
      readonly notes: readonly string[];
    }
  | {
      /** The VIP has no backends: OVN emits `drop;` (or `reject` with options:reject). */
      readonly verdict: "no-backends";
      readonly flow: Flow;
      readonly vip: LbVip;
      readonly state: LbState;
      readonly notes: readonly string[];
    };

const PROTO: Readonly<Record<string, number>> = { tcp: IP_PROTO.tcp, udp: IP_PROTO.udp, sctp: IP_PROTO.sctp };

/** The VIP of `lb` a packet is addressed to (address, and port when the VIP has one), if any. */
export function matchVip(lb: LoadBalancer, flow: Flow): LbVip | undefined {
  const v4 = flow.dl_type === ETH_TYPE.ip;
  const v6 = flow.dl_type === ETH_TYPE.ipv6;
  if (!v4 && !v6) return undefined;
  let best: LbVip | undefined;
  for (const v of lb.vips) {
    if (
      v4
        ? v.vip.family !== 4 || v.vip.ip4 !== flow.nw_dst >>> 0
        : v.vip.family !== 6 || v.vip.ip6 !== flow.ipv6_dst
    ) {
      continue;
    }
    if (v.vip.port === undefined) {
      best ??= v;
      continue;
    }
    if (flow.nw_proto === PROTO[lb.protocol] && flow.tp_dst === v.vip.port) return v;
  }
  return best;
}

const clientOf = (f: Flow): string =>
  f.dl_type === ETH_TYPE.ipv6 ? formatIp6(f.ipv6_src) : formatIp4(f.nw_src);
const affKey = (lb: string, vip: string, client: string): string => `${lb}|${vip}|${client}`;

/**
 * The DNAT step of a packet that reached `ct_lb_mark(backends=…)` for `lb`'s VIP.
 *
 * @throws SimError BAD_VALUE when `lbDst` is not a backend of the VIP.
 */
export function lbDnat(state: LbState, flow: Flow, opts: LbDnatOptions): LbDnatResult {
  const { lb, zone } = opts;
  const now = opts.now ?? 0;
  const notes: string[] = [];
  const vip = opts.vip ?? matchVip(lb, flow);
  if (!vip) {
    notes.push(`no VIP of load balancer "${lb.name}" matches the packet`);
    return { verdict: "pass", flow, vip: undefined, local: undefined, state, notes };
  }
  const natOf = (b: LbBackend) => ({
    kind: "dnat" as const,
    ip: b.family === 4 ? b.ip4 : b.ip6,
    ...(b.port !== undefined ? { port: b.port } : {}),
  });

  // A packet of a known connection: ct(nat) applies the committed translation.
  const probe = state.conntrack.process(flow, { zone, now, nat: {} });
  if (probe.entry && !probe.created) {
    const e = probe.entry;
    const backend = findBackendOf(vip, e);
    if (backend) {
      notes.push(...probe.notes);
      return {
        verdict: "dnat",
        flow: probe.flow,
        vip,
        backend,
        reason: { kind: "established", entryId: e.id },
        local: undefined,
        ct: probe,
        created: undefined,
        state: { ...state, conntrack: probe.table },
        notes,
      };
    }
  }

  if (vip.backends.length === 0) {
    notes.push(`VIP ${vip.key} has no backends: ${lb.options.reject === "true" ? "reject" : "drop"}`);
    return { verdict: "no-backends", flow, vip, state, notes };
  }

  const local =
    opts.portChassis !== undefined || opts.chassis !== undefined
      ? backendsOnChassis(lb, vip, opts.portChassis ?? {}, opts.chassis, opts.preferLocalForm ?? "1.16")
      : undefined;
  if (local) notes.push(`ls_in_lb priority ${local.priority}: ${local.reason}`);
  if (local?.bypass) return { verdict: "pass", flow, vip, local, state, notes };
  const candidates = local ? local.backends : vip.backends;

  let backend: LbBackend | undefined;
  let reason: LbReason | undefined;
  let affinity = state.affinity;
  const client = clientOf(flow);
  const timeout = affinityTimeout(lb);

  if (opts.lbDst !== undefined) {
    const want = parseLbEndpoint(opts.lbDst, "lb-dst");
    backend = candidates.find((b) => b.ip === want.ip && (want.port === undefined || b.port === want.port));
    if (!backend) {
      throw new SimError("BAD_VALUE", `lb-dst: ${opts.lbDst} is not a backend of VIP ${vip.key} here`);
    }
    reason = { kind: "override" };
  } else if (timeout > 0) {
    const a = affinity.get(affKey(lb.name, vip.key, client));
    if (a && a.expires > now) {
      const b = candidates.find((x) => x.key === a.backendKey);
      if (b) {
        backend = b;
        reason = { kind: "affinity", expires: now + timeout };
      }
    }
  }
  if (!backend) {
    const fields =
      opts.hashFields === undefined
        ? lbHashFields(lb)
        : typeof opts.hashFields === "string"
          ? parseHashFields(opts.hashFields)
          : opts.hashFields;
    const buckets = ovnBuckets(candidates.length);
    const choice =
      fields !== undefined
        ? selectBucket({ method: "hash", fields, buckets }, flow)
        : selectBucket({ method: "dp_hash", buckets }, flow, opts.ingress ? { ingress: opts.ingress } : {});
    if (choice.index === undefined) throw new Error("select group without a live bucket");
    backend = candidates[choice.index] as LbBackend;
    reason = { kind: fields !== undefined ? "hash" : "dp_hash", choice };
  }
  if (timeout > 0) {
    const k = affKey(lb.name, vip.key, client);
    const next = new Map(affinity);
    next.set(k, { lb: lb.name, vipKey: vip.key, client, backendKey: backend.key, expires: now + timeout });
    affinity = next;
  }

  const ct = state.conntrack.process(flow, {
    zone,
    now,
    commit: true,
    nat: natOf(backend),
    mark: { value: CT_MARK_NATTED, mask: CT_MARK_NATTED },
  });
  notes.push(...ct.notes);
  if (ct.natApplied !== "dnat") {
    return { verdict: "invalid", flow: ct.flow, vip, ct, state: { ...state, conntrack: ct.table }, notes };
  }
  return {
    verdict: "dnat",
    flow: ct.flow,
    vip,
    backend,
    reason: reason as LbReason,
    local,
    ct,
    created: ct.created ? ct.entry : undefined,
    state: { conntrack: ct.table, affinity },
    notes,
  };
}

const BUCKETS: (readonly SelectBucket[])[] = [];
/** The buckets ovn-controller gives a ct_lb_mark group of n backends: bucket_id i, weight 100. */
function ovnBuckets(n: number): readonly SelectBucket[] {
  let b = BUCKETS[n];
  if (!b) {
    b = Object.freeze(Array.from({ length: n }, (_, i) => ({ bucketId: i, weight: 100 })));
    BUCKETS[n] = b;
  }
  return b;
}

const FIELDS_CACHE = new WeakMap<LoadBalancer, HashFields | null>();
/** The LB's selection_fields as OVS hash fields (undefined: dp_hash). */
function lbHashFields(lb: LoadBalancer): HashFields | undefined {
  let f = FIELDS_CACHE.get(lb);
  if (f === undefined) {
    const names = ovsSelectionFields(lb);
    f = names.length > 0 ? parseHashFields(names.join(",")) : null;
    FIELDS_CACHE.set(lb, f);
  }
  return f ?? undefined;
}

function findBackendOf(vip: LbVip, e: CtEntry): LbBackend | undefined {
  const nat = e.nat;
  if (nat?.kind !== "dnat") return undefined;
  const ip = nat.ip;
  return vip.backends.find(
    (b) => (b.family === 4 ? b.ip4 === ip : b.ip6 === ip) && (nat.port === undefined || b.port === nat.port),
  );
}

/** Result of a reply passing `ct_lb_mark;` (ct(nat)) in the connection's zone. */
export interface LbReplyResult {
  readonly flow: Flow;
  readonly ct: CtResult;
  /** The source rewrite the reply got (backend → VIP), if any. */
  readonly reverseNat: { readonly from: string; readonly to: string } | undefined;
  /**
   * Whether the client's address or port was ever rewritten on this connection (false: the
   * backend saw the real client IP and port). True with SNAT, and when OVS moved the client
   * port to avoid a NAT tuple collision.
   */
  readonly clientSourceChanged: boolean;
  readonly state: LbState;
}

/** A reply (backend → client) through `ct_lb_mark;` in `zone`. */
export function lbReply(
  state: LbState,
  flow: Flow,
  opts: { readonly zone: number; readonly now?: number },
): LbReplyResult {
  const ct = state.conntrack.process(flow, { zone: opts.zone, nat: {}, now: opts.now ?? 0 });
  const e = ct.entry;
  const ep = (f: Flow): string =>
    f.dl_type === ETH_TYPE.ipv6
      ? `[${formatIp6(f.ipv6_src)}]:${f.tp_src}`
      : `${formatIp4(f.nw_src)}:${f.tp_src}`;
  const reverseNat =
    ct.reply && ct.natApplied !== undefined ? { from: ep(flow), to: ep(ct.flow) } : undefined;
  const clientSourceChanged =
    e !== undefined &&
    (e.nat?.kind === "snat" ||
      (e.orig.family === 4 ? e.reply.dst4 !== e.orig.src4 : e.reply.dst6 !== e.orig.src6) ||
      e.reply.dport !== e.orig.sport);
  return { flow: ct.flow, ct, reverseNat, clientSourceChanged, state: { ...state, conntrack: ct.table } };
}

/** Options of {@link ctLbMark}: the action's arguments and the context. */
export interface CtLbMarkOptions {
  /** The `backends=` text, "10.180.204.11:80,10.180.204.12:80" (IPv6: "[fd00::1]:80"). */
  readonly backends: string;
  /** The `hash_fields="…"` text, when the LB has selection_fields. */
  readonly hashFields?: string;
  readonly zone: number;
  readonly now?: number;
  readonly lbDst?: string;
  readonly ingress?: FiveTuple;
}

const CT_LB_CACHE = new Map<string, readonly LbBackend[]>();

/**
 * OVN's `ct_lb_mark(backends=…[; hash_fields="…"])` action as ovn-controller implements it
 * (select group, DNAT + commit with ct_mark.natted), for callers that execute logical flows
 * and so already know which backends this chassis offers. The VIP reported is the packet's
 * destination (the pre-DNAT `ct_nw_dst`/`ct_tp_dst` after the step).
 *
 * @throws SimError BAD_VALUE for a backend that is not an address, or a bad `lbDst`.
 */
export function ctLbMark(state: LbState, flow: Flow, opts: CtLbMarkOptions): LbDnatResult {
  let backends = CT_LB_CACHE.get(opts.backends);
  if (!backends) {
    backends = opts.backends
      .split(",")
      .map((b) => b.trim())
      .filter((b) => b !== "")
      .map((b) => ({ ...parseLbEndpoint(b, `ct_lb_mark backend "${b}"`), logicalPort: undefined }));
    if (CT_LB_CACHE.size > 1000) CT_LB_CACHE.clear();
    CT_LB_CACHE.set(opts.backends, backends);
  }
  const v6 = flow.dl_type === ETH_TYPE.ipv6;
  const port = backends[0]?.port !== undefined ? flow.tp_dst : undefined;
  const ip = v6 ? formatIp6(flow.ipv6_dst) : formatIp4(flow.nw_dst);
  const vipEp = {
    ip,
    family: (v6 ? 6 : 4) as 4 | 6,
    port,
    ip4: v6 ? 0 : flow.nw_dst >>> 0,
    ip6: v6 ? flow.ipv6_dst : 0n,
    key: port === undefined ? ip : v6 ? `[${ip}]:${port}` : `${ip}:${port}`,
  };
  const vip: LbVip = { key: vipEp.key, vip: vipEp, backends };
  const proto = flow.nw_proto === IP_PROTO.udp ? "udp" : flow.nw_proto === IP_PROTO.sctp ? "sctp" : "tcp";
  const lb: LoadBalancer = {
    name: "ct_lb_mark",
    uuid: undefined,
    protocol: proto,
    vips: [vip],
    options: {},
    selectionFields: [],
    ipPortMappings: {},
    externalIds: {},
  };
  return lbDnat(state, flow, {
    lb,
    vip,
    zone: opts.zone,
    ...(opts.now !== undefined ? { now: opts.now } : {}),
    ...(opts.lbDst !== undefined ? { lbDst: opts.lbDst } : {}),
    ...(opts.ingress !== undefined ? { ingress: opts.ingress } : {}),
    ...(opts.hashFields !== undefined ? { hashFields: opts.hashFields } : {}),
  });
}
