/**
 * Offline `ofproto/trace`: translates a flow through the bridges' OpenFlow tables the way
 * ovs-vswitchd's `xlate_actions()` does (upstream ofproto/ofproto-dpif-xlate.c and
 * ofproto-dpif-trace.c), producing the trace tree, the final flow, the megaflow (the
 * classifier's wildcards plus every bit xlate consults) and the datapath actions, built the
 * way `commit_odp_actions()` builds them. ct(table=N) forks a recirculation that is traced as a
 * further pass, resumed with `--ct-next` states (default trk|new) exactly as OVS does.
 *
 * The packet is kept as a flow key (`Uint32Array`), with the megaflow mask (`wc`) and the
 * last flow committed to the datapath (`base`) in the same shape.
 */
import type { Conntrack, CtNatRequest, CtResult } from "@ovnsim/conntrack";
import { type L2PortConfig, MacTable, normalDecide } from "@ovnsim/l2";
import { hashFieldsBasis, scoreBuckets, selectBucket } from "@ovnsim/lb";
import {
  CS,
  ETH_TYPE,
  type FieldSpec,
  type Flow,
  FLOW_WORDS,
  findField,
  flowToKey,
  formatFlow,
  formatIp4,
  formatIp6,
  formatMac,
  formatMatchWords,
  IP_PROTO,
  keyToFlow,
  OFPP,
  SimError,
  TUN_FLAG,
  type VlanHeader,
  W,
  withFlow,
} from "@ovnsim/packet";
import { formatAction, type NatSpec, type OfAction, ovsFieldName } from "./actions.js";
import { executeActionSet } from "./actionset.js";
import { commitMpls, countMplsLabels, isMplsType, MAX_MPLS_LABELS, popMpls, pushMpls } from "./mpls.js";
import { learnExecute } from "./learn.js";
import { bundleMember, flowHashFields, maskHashFields, multipathLink } from "./multipath.js";
import {
  formatSubfield,
  readField,
  readSubfield,
  unwildcard,
  unwildcardSubfield,
  writeField,
  writeSubfield,
} from "./fieldio.js";
import type { Subfield } from "./fieldio.js";
import {
  type Bridge,
  type FlowEntry,
  type Group,
  groupHashFields,
  lbFieldName,
  type OfPort,
  type Switch,
  withConjId,
} from "./model.js";
import { formatActionNamed, tracePortNames } from "./portnames.js";
import {
  formatTunnelKey,
  keyTunnelDstSet,
  TUNNEL_TYPES,
  tunnelConfig,
  tunnelSend,
  tunnelState,
} from "./tunnel.js";
import type { RecircHeader, TraceNode, TracePass, TraceResult } from "./trace.js";
import { formatFieldValue, formatPort } from "./values.js";

const MAX_DEPTH = 64;
const MAX_RESUBMITS = 4096;
/** Recirculation passes traced at most (OVS bounds recirculation depth in the datapath). */
const MAX_RECIRC_PASSES = 64;

const VLAN_CFI = 0x1000;
const F = (name: string): FieldSpec => {
  const s = findField(name);
  if (!s) throw new Error(`field ${name} missing from the packet field table`);
  return s;
};
const NW_FRAG = F("nw_frag");
const CT_MARK = F("ct_mark");
const CT_LABEL = F("ct_label");

/** Options of one trace (what `ofproto/trace` accepts besides bridge and flow). */
export interface TraceOptions {
  /** `--ct-next FLAGS`, one per recirculation after ct(), as CS bit sets. */
  readonly ctNext?: readonly number[];
  /** MAC tables for NORMAL, per bridge (empty when absent: every unicast floods). */
  readonly macTables?: ReadonlyMap<string, MacTable>;
  /**
   * Stateful mode (an ovnsim extension; ofproto/trace has no such option): every ct() runs
   * through this connection table (zones, commit, NAT and reply un-NAT, ct_mark/ct_label), the
   * recirculation resumes with the state it computes (unless a --ct-next is left, which still
   * wins) and with the real translation. The table after the trace is `TraceResult.conntrack`.
   */
  readonly conntrack?: Conntrack;
  /**
   * `ofproto/trace --names`: ports print by name — full netdev names of the bridge being
   * translated in tables and actions, of the traced bridge in Flow/Megaflow lines, datapath
   * port names in the datapath actions.
   */
  readonly names?: boolean;
  /**
   * Side-effects mode (an ovnsim extension; ofproto/trace suppresses side effects): `learn`
   * builds its rule from the packet, prints it as ovs-vswitchd does when a packet passes, and
   * adds it to the bridge once the trace is done, so the next trace's lookups see it. The rules
   * added are `TraceResult.learned`.
   */
  readonly sideEffects?: boolean;
  /**
   * The packet's in_port, in place of `flow.in_port` (a caller that has the flow of another
   * port saves making a copy of it).
   */
  readonly inPort?: number;
  /**
   * Remember translations by megaflow, as ovs-vswitchd's datapath does (see XlateCache): a
   * later packet inside a remembered megaflow gets the same trace, megaflow and datapath
   * actions without a translation. For callers tracing many packets through one switch.
   */
  readonly cache?: boolean;
}

interface Shared {
  next: number;
  readonly learned: { bridge: Bridge; entry: FlowEntry }[];
  readonly byState: Map<string, number>;
  /**
   * States of controller actions allocated in the running pass: their recirc ids are released
   * when the pass ends (nothing resumes them), so a later pass allocates a new id for the same
   * state; a ct()/freeze id lives on while its recirculation is traced.
   */
  readonly passLocal: string[];
  ct: Conntrack | undefined;
}

interface RecircNode {
  readonly id: number;
  readonly bridge: Bridge;
  readonly key: Packed;
  readonly table: number;
  readonly nat: NatSpec | null;
  readonly conntracked: boolean;
  /** Stateful mode: the state conntrack gave, and the packet before translation. */
  readonly ctState?: number;
  readonly preNat?: Packed;
  /** Stateful mode, a dp_hash select group's recirculation: the group and bucket it resumes with. */
  readonly dpHash?: { readonly group: number; readonly bucket: Group["buckets"][number] | null };
}

interface Ctx {
  readonly sw: Switch;
  bridge: Bridge;
  /** The bridge ofproto/trace was asked about (xin->ofproto). */
  readonly topBridge: Bridge;
  readonly key: Uint32Array;
  /** The packet as the pass received it (scratch, read-only during the pass). */
  readonly init: Uint32Array;
  readonly wc: Uint32Array;
  readonly base: Uint32Array;
  readonly odp: string[];
  trace: TraceNode[];
  depth: number;
  resubmits: number;
  error: string | null;
  /** xout.slow: an action no datapath implements sends the flow to the userspace slow path. */
  slow: boolean;
  exit: boolean;
  tableId: number;
  ruleCookie: bigint;
  inBucket: boolean;
  /** OVS ctx->conntracked: ct_* fields are meaningful (after ct(table=…) or a +trk input). */
  conntracked: boolean;
  freezing: boolean;
  /** The freeze is a controller(pause) continuation rather than a recirculation. */
  pausing: boolean;
  dpHash: string | null;
  /** Stateful mode: the dp_hash select group whose recirculation is followed. */
  dpHashGroup: Group | null;
  ctNat: NatSpec | null;
  /** The OpenFlow 1.1+ action set (write_actions), executed when the pipeline ends. */
  actionSet: readonly OfAction[];
  /** The push/pop stack (nx_stack). */
  stack: bigint[];
  /** flow->actset_output (null = OFPP_UNSET) and ctx->action_set_has_group. */
  actsetOutput: number | null;
  actsetHasGroup: boolean;
  readonly queue: RecircNode[];
  readonly recircIds: Shared;
  readonly opts: TraceOptions;
  readonly upcallVlans: number;
  /**
   * Tunnel metadata last committed to the datapath (commit_odp_tunnel_action's base): null for
   * the received key's tunnel words (`init`), until a tunnel output first compares against them.
   */
  tunBase: string | null;
  /** ctx->orig_skb_priority, what pop_queue restores. */
  readonly origSkbPriority: number;
  inActionSet: boolean;
  /** ctx->was_mpls: an MPLS pop uncovered L3 headers the flow does not hold (see recirc_for_mpls). */
  wasMpls: boolean;
  /**
   * The translation so far is one XlateCache may remember: only actions whose effect is a
   * function of the megaflow's bits (and of the MAC lookups in `normalChecks`).
   */
  cacheable: boolean;
  /** The MAC table lookups NORMAL's decisions rested on, when `cacheable`. */
  normalChecks: NormalCheck[] | null;
}

// Flow-sized scratch keys. A key is 648 bytes, past V8's on-heap typed-array limit: each copy
// would be an off-heap allocation the GC has to track, which made allocation and collection
// most of a short trace's cost. Every copy that does not outlive the translation (the pass's
// working key, received key, mask and committed state, the save/restore copies of patch ports,
// clones and buckets) comes from this stack, taken and given back in LIFO order (a function
// remembers `scratchTop` and puts it back); traceFlow puts the stack back as it found it even
// when a translation throws. What outlives a pass is kept packed (see `pack`).
const SCRATCH: Uint32Array[] = [];
let scratchTop = 0;

/** A scratch key: a copy of `src`, or all zeros without one. */
function takeKey(src?: Uint32Array): Uint32Array {
  let k = SCRATCH[scratchTop];
  if (!k) {
    k = new Uint32Array(FLOW_WORDS);
    SCRATCH[scratchTop] = k;
  }
  scratchTop++;
  if (src) k.set(src);
  else k.fill(0);
  return k;
}

/**
 * A key kept past the translation, as its non-zero words: `[index, value, …]` (a received
 * packet sets a few dozen of the 162 words). A plain array lives on the V8 heap.
 */
type Packed = readonly number[];

function pack(k: Uint32Array): Packed {
  const out: number[] = [];
  for (let i = 0; i < FLOW_WORDS; i++) {
    const v = k[i]!;
    if (v !== 0) out.push(i, v);
  }
  return out;
}

/** Writes a packed key into `k` (all its words). */
function unpackInto(p: Packed, k: Uint32Array): Uint32Array {
  k.fill(0);
  for (let j = 0; j < p.length; j += 2) k[p[j]!] = p[j + 1]!;
  return k;
}

/** Copies words [from, to) of `src` into `dst`. */
function copyWords(dst: Uint32Array, src: Uint32Array, from: number, to: number): void {
  for (let i = from; i < to; i++) dst[i] = src[i]!;
}

const report = (ctx: Ctx, type: TraceNode["type"], text: string): TraceNode => {
  const n: TraceNode = { type, text, subs: [] };
  ctx.trace.push(n);
  return n;
};

// ---------------------------------------------------------------------------------------------
// Flow key helpers

const dlType = (k: Uint32Array): number => k[W.dl_type]!;
const isIp4 = (k: Uint32Array): boolean => dlType(k) === ETH_TYPE.ip;
const isIp6 = (k: Uint32Array): boolean => dlType(k) === ETH_TYPE.ipv6;
const isIpAny = (k: Uint32Array): boolean => isIp4(k) || isIp6(k);
const vlanCount = (k: Uint32Array): number => (k[W.vlan0]! & VLAN_CFI ? (k[W.vlan1]! & VLAN_CFI ? 2 : 1) : 0);
const macAt = (k: Uint32Array, w: number): number => (k[w]! & 0xffff) * 0x100000000 + (k[w + 1]! >>> 0);

function vlansOf(k: Uint32Array): VlanHeader[] {
  const out: VlanHeader[] = [];
  for (const w of [W.vlan0, W.vlan1]) {
    const v = k[w]!;
    if (!(v & VLAN_CFI)) break;
    out.push({ tpid: v >>> 16 || 0x8100, pcp: (v >>> 13) & 7, vid: v & 0xfff });
  }
  return out;
}

function setVlans(k: Uint32Array, vlans: readonly VlanHeader[]): void {
  const word = (v: VlanHeader | undefined): number =>
    v ? ((v.tpid << 16) | VLAN_CFI | ((v.pcp & 7) << 13) | (v.vid & 0xfff)) >>> 0 : 0;
  k[W.vlan0] = word(vlans[0]);
  k[W.vlan1] = vlans[0] ? word(vlans[1]) : 0;
}

function clearConntrack(k: Uint32Array): void {
  k[W.ct_state] = 0;
  k[W.ct_zone] = 0;
  k[W.ct_mark] = 0;
  for (let i = 0; i < 4; i++) {
    k[W.ct_label + i] = 0;
    k[W.ct_ipv6_src + i] = 0;
    k[W.ct_ipv6_dst + i] = 0;
  }
  k[W.ct_nw_src] = 0;
  k[W.ct_nw_dst] = 0;
  k[W.ct_nw_proto] = 0;
  k[W.ct_tp_src] = 0;
  k[W.ct_tp_dst] = 0;
}

/** OVS mf_are_prereqs_ok(), unwildcarding what it reads. */
/** An action as the trace prints it, kept per parsed action (and port-name map): actions are immutable. */
const ACTION_TEXT = new WeakMap<OfAction, { names: ReadonlyMap<number, string> | undefined; text: string }>();
function actionTextOf(a: OfAction, names: ReadonlyMap<number, string> | undefined): string {
  const c = ACTION_TEXT.get(a);
  if (c && c.names === names) return c.text;
  const text = formatActionNamed(a, names);
  ACTION_TEXT.set(a, { names, text });
  return text;
}

/** prereqsOk's dl_type test (un-wildcards dl_type). */
function needDl(wc: Uint32Array, ok: boolean): boolean {
  wc[W.dl_type] = 0xffff;
  return ok;
}

/** prereqsOk's IP protocol test (un-wildcards dl_type and nw_proto). */
function needProto(k: Uint32Array, wc: Uint32Array, proto: number): boolean {
  if (!needDl(wc, isIpAny(k))) return false;
  wc[W.nw_proto] = (wc[W.nw_proto]! | 0xff) >>> 0;
  return k[W.nw_proto] === proto;
}

function prereqsOk(spec: FieldSpec, k: Uint32Array, wc: Uint32Array): boolean {
  switch (spec.prereq) {
    case "none":
      return true;
    case "vlan":
      return (k[W.vlan0]! & VLAN_CFI) !== 0;
    case "ip":
      return needDl(wc, isIp4(k));
    case "ipv6":
      return needDl(wc, isIp6(k));
    case "ip_any":
      return needDl(wc, isIpAny(k));
    case "arp":
      return needDl(wc, dlType(k) === ETH_TYPE.arp || dlType(k) === ETH_TYPE.rarp);
    case "mpls":
      return needDl(wc, isMplsType(dlType(k)));
    case "tcp":
      return needProto(k, wc, IP_PROTO.tcp);
    case "udp":
      return needProto(k, wc, IP_PROTO.udp);
    case "sctp":
      return needProto(k, wc, IP_PROTO.sctp);
    case "icmp":
      return needProto(k, wc, IP_PROTO.icmp);
    default:
      return needProto(k, wc, IP_PROTO.icmpv6);
  }
}

// ---------------------------------------------------------------------------------------------
// Datapath actions (commit_odp_actions)

const hx = (v: number): string => `0x${v.toString(16)}`;
/** C's `%#x`, as format_odp_key_attr prints: no 0x prefix on a zero. */
const cx = (v: number): string => (v ? hx(v) : "0");

function masked(name: string, val: string, mask: number, full: number, maskText = hx(mask)): string {
  return mask === full ? `${name}=${val}` : `${name}=${val}/${maskText}`;
}

function commit(ctx: Ctx): void {
  const { key: k, base: b, wc, odp } = ctx;
  // Ethernet.
  {
    const parts: string[] = [];
    for (const [name, w] of [
      ["src", W.dl_src],
      ["dst", W.dl_dst],
    ] as const) {
      if (k[w] !== b[w] || k[w + 1] !== b[w + 1]) {
        const m = macAt(wc, w);
        parts.push(
          m === 0xffffffffffff
            ? `${name}=${formatMac(macAt(k, w))}`
            : `${name}=${formatMac(((k[w]! & wc[w]! & 0xffff) * 0x100000000 + ((k[w + 1]! & wc[w + 1]!) >>> 0)) % 0x1000000000000)}/${formatMac(m)}`,
        );
        b[w] = k[w]!;
        b[w + 1] = k[w + 1]!;
      }
    }
    if (parts.length) odp.push(`set(eth(${parts.join(",")}))`);
  }
  // An MPLS pop goes first when it uncovers L3 (the L3/L4 sets would do nothing before it).
  const mplsFirst = isMplsType(b[W.dl_type]!) && !isMplsType(k[W.dl_type]!);
  if (mplsFirst) commitMpls(k, b, odp);
  // IPv4 / IPv6.
  if (isIpAny(k) && k[W.nw_proto] === 0) {
    // nothing: commit_set_nw_action() returns early
  } else if (isIp4(k)) {
    const parts: string[] = [];
    if (k[W.nw_src] !== b[W.nw_src])
      parts.push(
        masked(
          "src",
          formatIp4((k[W.nw_src]! & wc[W.nw_src]!) >>> 0),
          wc[W.nw_src]!,
          0xffffffff,
          formatIp4(wc[W.nw_src]!),
        ),
      );
    if (k[W.nw_dst] !== b[W.nw_dst])
      parts.push(
        masked(
          "dst",
          formatIp4((k[W.nw_dst]! & wc[W.nw_dst]!) >>> 0),
          wc[W.nw_dst]!,
          0xffffffff,
          formatIp4(wc[W.nw_dst]!),
        ),
      );
    if (k[W.nw_tos] !== b[W.nw_tos])
      parts.push(masked("tos", cx(k[W.nw_tos]! & wc[W.nw_tos]!), wc[W.nw_tos]! & 0xff, 0xff));
    if (k[W.nw_ttl] !== b[W.nw_ttl])
      parts.push(masked("ttl", String(k[W.nw_ttl]), wc[W.nw_ttl]! & 0xff, 0xff));
    if (parts.length) odp.push(`set(ipv4(${parts.join(",")}))`);
    b[W.nw_src] = k[W.nw_src]!;
    b[W.nw_dst] = k[W.nw_dst]!;
    b[W.nw_tos] = k[W.nw_tos]!;
    b[W.nw_ttl] = k[W.nw_ttl]!;
  } else if (isIp6(k)) {
    const parts: string[] = [];
    const big = (x: Uint32Array, w: number): bigint =>
      (BigInt(x[w]!) << 96n) | (BigInt(x[w + 1]!) << 64n) | (BigInt(x[w + 2]!) << 32n) | BigInt(x[w + 3]!);
    for (const [name, w] of [
      ["src", W.ipv6_src],
      ["dst", W.ipv6_dst],
    ] as const) {
      if (big(k, w) !== big(b, w)) parts.push(`${name}=${formatIp6(big(k, w))}`);
      for (let i = 0; i < 4; i++) b[w + i] = k[w + i]!;
    }
    if (k[W.ipv6_label] !== b[W.ipv6_label])
      parts.push(
        masked("label", cx(k[W.ipv6_label]! & wc[W.ipv6_label]!), wc[W.ipv6_label]! & 0xfffff, 0xfffff),
      );
    b[W.ipv6_label] = k[W.ipv6_label]!;
    if (k[W.nw_tos] !== b[W.nw_tos])
      parts.push(masked("tclass", cx(k[W.nw_tos]! & wc[W.nw_tos]!), wc[W.nw_tos]! & 0xff, 0xff));
    if (k[W.nw_ttl] !== b[W.nw_ttl])
      parts.push(masked("hlimit", String(k[W.nw_ttl]), wc[W.nw_ttl]! & 0xff, 0xff));
    b[W.nw_tos] = k[W.nw_tos]!;
    b[W.nw_ttl] = k[W.nw_ttl]!;
    if (parts.length) odp.push(`set(ipv6(${parts.join(",")}))`);
  }
  // commit_set_arp_action(): a masked set of the ARP fields that changed; no datapath can do
  // it, so the flow goes to the userspace slow path. (The opcode is OVS's nw_proto: 0, no L3.)
  if (dlType(k) === ETH_TYPE.arp && (k[W.nw_proto]! & 0xff) !== 0) {
    const parts: string[] = [];
    const ip = (name: string, w: number): void => {
      if (k[w] === b[w]) return;
      const m = wc[w]! >>> 0;
      parts.push(masked(name, formatIp4((k[w]! & m) >>> 0), m, 0xffffffff, formatIp4(m)));
    };
    ip("sip", W.nw_src);
    ip("tip", W.nw_dst);
    if (k[W.nw_proto] !== b[W.nw_proto]) {
      const m = wc[W.nw_proto]! & 0xffff;
      parts.push(masked("op", String(k[W.nw_proto]! & m), m, 0xffff, hx(m)));
    }
    for (const [name, w] of [
      ["sha", W.arp_sha],
      ["tha", W.arp_tha],
    ] as const) {
      if (k[w] === b[w] && k[w + 1] === b[w + 1]) continue;
      const m = macAt(wc, w);
      const v =
        ((k[w]! & wc[w]! & 0xffff) * 0x100000000 + ((k[w + 1]! & wc[w + 1]!) >>> 0)) % 0x1000000000000;
      parts.push(
        m === 0xffffffffffff ? `${name}=${formatMac(v)}` : `${name}=${formatMac(v)}/${formatMac(m)}`,
      );
    }
    if (parts.length) {
      odp.push(`set(arp(${parts.join(",")}))`);
      ctx.slow = true;
    }
    b[W.nw_src] = k[W.nw_src]!;
    b[W.nw_dst] = k[W.nw_dst]!;
    b[W.nw_proto] = k[W.nw_proto]!;
    for (const w of [W.arp_sha, W.arp_tha]) {
      b[w] = k[w]!;
      b[w + 1] = k[w + 1]!;
    }
  }
  // L4 ports.
  if (isIpAny(k) && !(k[W.nw_frag]! & 2)) {
    const proto = k[W.nw_proto];
    const name =
      proto === IP_PROTO.tcp
        ? "tcp"
        : proto === IP_PROTO.udp
          ? "udp"
          : proto === IP_PROTO.sctp
            ? "sctp"
            : null;
    if (name) {
      const parts: string[] = [];
      if (k[W.tp_src] !== b[W.tp_src])
        parts.push(masked("src", String(k[W.tp_src]), wc[W.tp_src]! & 0xffff, 0xffff));
      if (k[W.tp_dst] !== b[W.tp_dst])
        parts.push(masked("dst", String(k[W.tp_dst]), wc[W.tp_dst]! & 0xffff, 0xffff));
      if (parts.length) odp.push(`set(${name}(${parts.join(",")}))`);
      b[W.tp_src] = k[W.tp_src]!;
      b[W.tp_dst] = k[W.tp_dst]!;
    }
  }
  // commit_set_icmp_action(): ICMP type and code, an unmasked set (both exact in the megaflow),
  // through the slow path.
  if ((isIp4(k) && k[W.nw_proto] === IP_PROTO.icmp) || (isIp6(k) && k[W.nw_proto] === IP_PROTO.icmpv6)) {
    if ((k[W.tp_src]! & 0xff) !== (b[W.tp_src]! & 0xff) || (k[W.tp_dst]! & 0xff) !== (b[W.tp_dst]! & 0xff)) {
      odp.push(
        `set(${isIp4(k) ? "icmp" : "icmpv6"}(type=${k[W.tp_src]! & 0xff},code=${k[W.tp_dst]! & 0xff}))`,
      );
      wc[W.tp_src]! |= 0xff;
      wc[W.tp_dst]! |= 0xff;
      ctx.slow = true;
    }
    b[W.tp_src] = k[W.tp_src]!;
    b[W.tp_dst] = k[W.tp_dst]!;
  }
  if (!mplsFirst) commitMpls(k, b, odp);
  // VLANs (commit_vlan_action).
  {
    const fw = [k[W.vlan0]!, k[W.vlan1]!];
    const bw = [b[W.vlan0]!, b[W.vlan1]!];
    let bn = vlanCount(b);
    let fn = vlanCount(k);
    for (bn--, fn--; bn >= 0 && fn >= 0; bn--, fn--) if (bw[bn] !== fw[fn]) break;
    for (; bn >= 0; bn--) {
      odp.push("pop_vlan");
      wc[W.vlan0 + bn] = 0xffffffff;
    }
    for (; fn >= 0; fn--) {
      const w = fw[fn]!;
      const tpid = w >>> 16;
      const tci = w & 0xffff;
      let s = "push_vlan(";
      if (tpid !== 0x8100) s += `tpid=${hx(tpid)},`;
      s += `vid=${tci & 0xfff},pcp=${(tci >>> 13) & 7}`;
      if (!(tci & VLAN_CFI)) s += ",cfi=0";
      odp.push(`${s})`);
    }
    b[W.vlan0] = k[W.vlan0]!;
    b[W.vlan1] = k[W.vlan1]!;
  }
  // commit_set_pkt_mark_action comes after the priority; both print with %#x.
  const markChanged = k[W.pkt_mark] !== b[W.pkt_mark];
  if (k[W.skb_priority] !== b[W.skb_priority]) {
    odp.push(`set(skb_priority(${cx(k[W.skb_priority]!)}))`);
    b[W.skb_priority] = k[W.skb_priority]!;
  }
  if (markChanged) {
    const m = wc[W.pkt_mark]! >>> 0;
    const v = (k[W.pkt_mark]! & m) >>> 0;
    odp.push(`set(skb_mark(${v ? hx(v) : "0"}${m === 0xffffffff ? "" : `/${hx(m)}`}))`);
    b[W.pkt_mark] = k[W.pkt_mark]!;
  }
}

function natOdp(n: NatSpec): string {
  let s = "nat";
  if (n.kind === "none") return s;
  s += `(${n.kind}`;
  if (n.af !== "none") {
    const fmt = (v: bigint): string =>
      n.af === "ipv4" ? formatIp4(Number(v)) : n.portMin ? `[${formatIp6(v)}]` : formatIp6(v);
    s += `=${fmt(n.addrMin)}`;
    if (n.addrMax !== 0n && n.addrMax !== n.addrMin) s += `-${fmt(n.addrMax)}`;
    if (n.portMin) {
      s += `:${n.portMin}`;
      if (n.portMax && n.portMax !== n.portMin) s += `-${n.portMax}`;
    }
  }
  if (n.flags.includes("persistent")) s += ",persistent";
  if (n.flags.includes("hash")) s += ",hash";
  else if (n.flags.includes("random")) s += ",random";
  return `${s})`;
}

// ---------------------------------------------------------------------------------------------
// Tables

const NAME_MAPS = new WeakMap<Bridge, Map<number, string>>();
/** The bridge's port map for `--names` (undefined without --names: numbers print). */
function namesOf(ctx: { readonly opts: TraceOptions }, b: Bridge): Map<number, string> | undefined {
  if (!ctx.opts.names) return undefined;
  let m = NAME_MAPS.get(b);
  if (!m) {
    m = tracePortNames(b);
    NAME_MAPS.set(b, m);
  }
  return m;
}

/**
 * A rule's match as the trace prints it, kept per rule (and port-name map): flow entries are
 * immutable, so the text a trace shows for a rule is made once, not on every lookup.
 */
const MATCH_TEXT = new WeakMap<FlowEntry, { names: ReadonlyMap<number, string> | undefined; text: string }>();
function matchTextOf(e: FlowEntry, names: ReadonlyMap<number, string> | undefined): string {
  const c = MATCH_TEXT.get(e);
  if (c && c.names === names) return c.text;
  const text = withConjId(formatMatchWords(e.words, names ? { portNames: names } : {}), e.conjId);
  MATCH_TEXT.set(e, { names, text });
  return text;
}

/** A rule's table line as the trace prints it, kept per rule, table and port-name map. */
interface TableLine {
  readonly names: ReadonlyMap<number, string> | undefined;
  readonly table: number;
  readonly text: string;
  readonly match: string;
  readonly cookie: string | undefined;
}
const TABLE_LINE = new WeakMap<FlowEntry, TableLine>();
/** `NN. ` per table id. */
const TABLE_PREFIX: string[] = [];
const tablePrefix = (table: number): string =>
  (TABLE_PREFIX[table] ??= `${String(table).padStart(2, " ")}. `);

function tableText(
  e: FlowEntry | null,
  table: number,
  foreign = false,
  names?: ReadonlyMap<number, string>,
): TraceNode {
  // xlate_report_table() recognises the miss rule of the trace's own bridge only: a miss in a
  // bridge reached through a patch port prints that bridge's internal rule (table 254, reg0=2).
  if (!e)
    return {
      type: "table",
      text: `${tablePrefix(table)}${foreign ? "reg0=0x2, priority 0" : "No match."}`,
      subs: [],
      table,
    };
  let line = TABLE_LINE.get(e);
  if (!line || line.names !== names || line.table !== table) {
    const m = matchTextOf(e, names);
    let s = tablePrefix(table) + m;
    if (!s.endsWith(" ")) s += ", ";
    s += `priority ${e.priority}`;
    const cookie = e.cookie ? `0x${e.cookie.toString(16)}` : undefined;
    if (cookie) s += `, cookie ${cookie}`;
    line = { names, table, text: s, match: m, cookie };
    TABLE_LINE.set(e, line);
  }
  // Two literal shapes, in the JSON's key order (with and without a cookie).
  return line.cookie !== undefined
    ? {
        type: "table",
        text: line.text,
        subs: [],
        table,
        priority: e.priority,
        cookie: line.cookie,
        match: line.match,
      }
    : { type: "table", text: line.text, subs: [], table, priority: e.priority, match: line.match };
}

function lookup(ctx: Ctx, table: number, inPort: number): FlowEntry | null {
  const old = ctx.key[W.in_port]!;
  ctx.key[W.in_port] = inPort;
  const rule = ctx.bridge.table(table)?.lookup(ctx.key, ctx.wc);
  ctx.key[W.in_port] = old;
  return rule ?? null;
}

function resourceCheck(ctx: Ctx): boolean {
  if (ctx.depth >= MAX_DEPTH) {
    ctx.cacheable = false;
    report(ctx, "error", `over max translation depth ${MAX_DEPTH}`);
    ctx.error = "Recursion too deep";
    return false;
  }
  if (ctx.resubmits >= MAX_RESUBMITS) {
    ctx.cacheable = false;
    report(ctx, "error", `over ${MAX_RESUBMITS} resubmit actions`);
    ctx.error = "Too many resubmits";
    return false;
  }
  return true;
}

/** tuple_swap(): the packet's 5-tuple and the conntrack original tuple trade places (flow and wc). */
function tupleSwap(k: Uint32Array, wc: Uint32Array): void {
  const pairs: [number, number, number][] = [
    [W.nw_proto, W.ct_nw_proto, 1],
    [W.tp_src, W.ct_tp_src, 1],
    [W.tp_dst, W.ct_tp_dst, 1],
  ];
  if (isIp4(k)) pairs.push([W.nw_src, W.ct_nw_src, 1], [W.nw_dst, W.ct_nw_dst, 1]);
  else pairs.push([W.ipv6_src, W.ct_ipv6_src, 4], [W.ipv6_dst, W.ct_ipv6_dst, 4]);
  for (const arr of [k, wc]) {
    for (const [a, b, n] of pairs) {
      for (let i = 0; i < n; i++) {
        const t = arr[a + i]!;
        arr[a + i] = arr[b + i]!;
        arr[b + i] = t;
      }
    }
  }
}

function xlateTable(
  ctx: Ctx,
  inPort: number,
  table: number,
  ctOrig: boolean,
  isLast: boolean,
  asClone = false,
): void {
  if (ctx.wasMpls) {
    // xlate_table_action(): a lookup after an MPLS pop waits for the recirculation.
    ctx.exit = true;
    ctx.freezing = true;
    return;
  }
  if (!resourceCheck(ctx)) return;
  const oldTable = ctx.tableId;
  ctx.tableId = table;
  if (ctOrig) tupleSwap(ctx.key, ctx.wc);
  const rule = lookup(ctx, table, inPort);
  if (ctOrig) tupleSwap(ctx.key, ctx.wc);
  const oldTrace = ctx.trace;
  const node = tableText(rule, table, ctx.bridge !== ctx.topBridge, namesOf(ctx, ctx.bridge));
  ctx.trace.push(node);
  ctx.trace = node.subs;
  ctx.resubmits++;
  const deepens = table <= oldTable ? 1 : 0;
  ctx.depth += deepens;
  const oldCookie = ctx.ruleCookie;
  ctx.ruleCookie = rule ? rule.cookie : 0n;
  if (asClone) cloneActions(ctx, rule ? rule.actions : [], isLast);
  else doActions(ctx, rule ? rule.actions : [], isLast);
  ctx.ruleCookie = oldCookie;
  ctx.depth -= deepens;
  ctx.trace = oldTrace;
  ctx.tableId = oldTable;
}

// ---------------------------------------------------------------------------------------------
// Output

function dpPort(p: OfPort): number {
  return p.dpPort ?? p.ofport;
}

function composeOutput(ctx: Ctx, ofport: number, isLast: boolean): void {
  const port = ctx.bridge.ports.get(ofport);
  if (!port) {
    report(ctx, "warn", "Nonexistent output port");
    return;
  }
  if (port.type === "patch") {
    const peer = ctx.sw.peerOf(port);
    if (!peer) {
      report(ctx, "warn", "Nonexistent output port");
      return;
    }
    patchOutput(ctx, peer.bridge, peer.port, isLast);
    return;
  }
  if (TUNNEL_TYPES.has(port.type)) {
    tunnelOutput(ctx, port);
    return;
  }
  commit(ctx);
  // --names: format_odp_actions prints the datapath port's name (the netdev name) as is.
  ctx.odp.push(ctx.opts.names ? port.name : String(dpPort(port)));
}

const tunDstText = (k: Uint32Array): string =>
  `${k[W.tun_dst]},${k[W.tun_ipv6_dst]},${k[W.tun_ipv6_dst + 1]},${k[W.tun_ipv6_dst + 2]},${k[W.tun_ipv6_dst + 3]}`;

/** The datapath port name of a tunnel vport (netdev_vport_get_dpif_port). */
function tunnelDpifName(type: string, dstPort: number): string {
  const prefix = type === "geneve" ? "genev" : type;
  return dstPort ? `${prefix}_sys_${dstPort}` : `${prefix}_sys`;
}

/** compose_output_action__ for a tunnel port, kernel tunnelling (see tunnel.ts). */
function tunnelOutput(ctx: Ctx, port: OfPort): void {
  const { key: k } = ctx;
  ctx.cacheable = false;
  const mark = scratchTop;
  const saved = takeKey(k);
  const cfg = tunnelConfig(port);
  const tpDst = tunnelSend(cfg, k, ctx.wc, isIpAny(k));
  // ctx->orig_tunnel_ipv6_dst: the received packet's tunnel destination.
  if (tunDstText(k) === tunDstText(ctx.init)) {
    scratchTop = mark;
    // OVS leaves the port's tunnel settings in the flow on this path (goto out).
    report(ctx, "warn", "Not tunneling to our own address");
    return;
  }
  report(ctx, "detail", "output to kernel tunnel");
  if (keyTunnelDstSet(k)) {
    const st = tunnelState(k, tpDst);
    ctx.tunBase ??= `${Array.from(ctx.init.subarray(W.tun_id, W.dl_src)).join(",")};0`;
    if (st !== ctx.tunBase) {
      ctx.tunBase = st;
      ctx.odp.push(`set(tunnel(${formatTunnelKey(k, tpDst, cfg.type, ctx.bridge.tlvMap)}))`);
    }
  }
  copyWords(k, saved, W.tun_id, W.dl_src); // the port's tunnel settings are not visible to later matches
  scratchTop = mark;
  commit(ctx);
  ctx.odp.push(ctx.opts.names ? tunnelDpifName(cfg.type, cfg.dstPort) : String(dpPort(port)));
}

function patchOutput(ctx: Ctx, bridge: Bridge, inPort: OfPort, isLast: boolean): void {
  const mark = scratchTop;
  const saved = takeKey(ctx.key);
  const oldBridge = ctx.bridge;
  const oldTrace = ctx.trace;
  ctx.key[W.in_port] = inPort.ofport;
  ctx.key[W.metadata] = 0;
  ctx.key[W.metadata + 1] = 0;
  for (let i = 0; i < 16; i++) ctx.key[W.reg0 + i] = 0;
  // patch_port_output() zeroes the tunnel metadata and, for the peer bridge, its wildcards.
  const tunWc = takeKey(ctx.wc);
  ctx.key.fill(0, W.tun_id, W.dl_src);
  ctx.wc.fill(0, W.tun_id, W.dl_src);
  clearConntrack(ctx.key);
  const oldConntracked = ctx.conntracked;
  const oldWasMpls = ctx.wasMpls;
  ctx.conntracked = false;
  const node = report(ctx, "bridge", `bridge("${bridge.name}")`);
  ctx.trace = node.subs;
  ctx.bridge = bridge;
  const oldSet = ctx.actionSet;
  const oldStack = ctx.stack;
  const oldActset = [ctx.actsetOutput, ctx.actsetHasGroup] as const;
  ctx.actionSet = [];
  ctx.stack = [];
  ctx.actsetOutput = null;
  // The peer bridge runs as clone_xlate_actions: inside a datapath clone() unless reversible.
  xlateTable(ctx, inPort.ofport, 0, false, isLast, true);
  if (!ctx.freezing) xlateActionSet(ctx);
  if (ctx.freezing) finishFreezing(ctx);
  ctx.actionSet = oldSet;
  ctx.stack = oldStack;
  [ctx.actsetOutput, ctx.actsetHasGroup] = oldActset;
  ctx.trace = oldTrace;
  ctx.key.set(saved);
  copyWords(ctx.wc, tunWc, W.tun_id, W.dl_src);
  scratchTop = mark;
  ctx.bridge = oldBridge;
  ctx.conntracked = oldConntracked;
  ctx.wasMpls = oldWasMpls;
  ctx.exit = false;
  // "Out bridge errors do not propagate back", the translation limits included: a packet
  // bounced between two bridges until depth 64 goes on in each caller after its output.
  ctx.error = null;
}

/**
 * NORMAL's port list per bridge, kept while the bridge's ports are the same objects: the same
 * array each time lets @ovnsim/l2 reuse its resolved ports (VLAN modes, trunk bitmaps), as
 * ofproto keeps its bundles between packets.
 */
const L2_PORTS = new WeakMap<Bridge, { readonly ports: readonly unknown[]; readonly list: L2PortConfig[] }>();

function l2Ports(b: Bridge): L2PortConfig[] {
  const hit = L2_PORTS.get(b);
  if (hit && hit.ports.length === b.ports.size) {
    let same = true;
    let i = 0;
    for (const p of b.ports.values()) {
      if (hit.ports[i++] !== p) {
        same = false;
        break;
      }
    }
    if (same) return hit.list;
  }
  const list = buildL2Ports(b);
  L2_PORTS.set(b, { ports: [...b.ports.values()], list });
  return list;
}

function buildL2Ports(b: Bridge): L2PortConfig[] {
  const out: L2PortConfig[] = [];
  for (const p of [...b.ports.values()].sort((x, y) => x.ofport - y.ofport)) {
    out.push({
      port: p.ofport,
      name: p.name,
      ...(p.vlanMode !== undefined ? { vlanMode: p.vlanMode } : {}),
      ...(p.tag !== undefined ? { tag: p.tag } : {}),
      ...(p.trunks !== undefined ? { trunks: p.trunks } : {}),
    });
  }
  return out;
}

const EMPTY_MACS = new MacTable();

function xlateNormal(ctx: Ctx): void {
  const { key: k, wc } = ctx;
  for (const w of [W.dl_src, W.dl_dst]) {
    wc[w] = 0xffff;
    wc[w + 1] = 0xffffffff;
  }
  wc[W.vlan0] = (wc[W.vlan0]! | 0x1fff) >>> 0;
  const macs = macsOf(ctx.sw, ctx.opts, ctx.bridge);
  const dst = macAt(k, W.dl_dst);
  const d = normalDecide(l2Ports(ctx.bridge), macs, k[W.in_port]!, vlansOf(k), macAt(k, W.dl_src), dst, 0, {
    learn: false,
  });
  if (ctx.cacheable) {
    // The decision is a function of the packet's (un-wildcarded) L2 header and one MAC lookup.
    const vlan = d.vlan;
    const check: NormalCheck = {
      bridge: ctx.bridge,
      macs,
      vlan,
      dst,
      port: vlan === undefined ? undefined : macs.lookup(vlan, dst, 0),
    };
    if (ctx.normalChecks) ctx.normalChecks.push(check);
    else ctx.normalChecks = [check];
  }
  // is_gratuitous_arp() runs after the input VLAN and admissibility checks passed.
  if (d.kind !== "drop" || d.reason.startsWith("learned port")) {
    if (dlType(k) === ETH_TYPE.arp && macAt(k, W.dl_dst) === 0xffffffffffff) {
      wc[W.nw_proto] = (wc[W.nw_proto]! | 0xff) >>> 0;
      if (k[W.nw_proto] === 1) {
        wc[W.nw_src] = 0xffffffff;
        wc[W.nw_dst] = 0xffffffff;
      }
    }
  }
  for (const n of d.notes) report(ctx, n.type, n.text);
  for (const out of d.outputs) {
    const old = [k[W.vlan0]!, k[W.vlan1]!];
    setVlans(k, out.vlans);
    composeOutput(ctx, out.port, false);
    k[W.vlan0] = old[0]!;
    k[W.vlan1] = old[1]!;
  }
}

function flood(ctx: Ctx, isLast: boolean): void {
  const inPort = ctx.key[W.in_port]!;
  const ports = [...ctx.bridge.ports.values()]
    .sort((a, b) => a.ofport - b.ofport)
    .filter((p) => p.ofport !== inPort);
  // flood_packets(): only the port flooded last may take the is-last-action shortcut.
  for (let i = 0; i < ports.length; i++)
    composeOutput(ctx, ports[i]!.ofport, isLast && i === ports.length - 1);
}

function xlateOutput(ctx: Ctx, port: number, maxLen: number, isLast: boolean): void {
  const inPort = ctx.key[W.in_port]!;
  switch (port) {
    case OFPP.IN_PORT:
      composeOutput(ctx, inPort, isLast);
      return;
    case OFPP.TABLE:
      xlateTable(ctx, inPort, 0, false, false);
      return;
    case OFPP.NORMAL:
      xlateNormal(ctx);
      return;
    case OFPP.FLOOD:
    case OFPP.ALL:
      flood(ctx, isLast);
      return;
    case OFPP.CONTROLLER:
      controllerAction(ctx, maxLen, outputReason(ctx), 0);
      return;
    case OFPP.NONE:
      return;
    default:
      if (port !== inPort) composeOutput(ctx, port, isLast);
      else report(ctx, "warn", "skipping output to input port");
  }
}

// ---------------------------------------------------------------------------------------------
// Groups

/**
 * `pick_hash_fields_select_group` + `group_best_live_bucket`: the basis and the scores are
 * @ovnsim/lb's (the one implementation of OVS's select-group choice, also behind OVN's
 * `ct_lb_mark`); xlate adds what only it knows, the megaflow bits the choice consulted.
 */
function selectHashBucket(ctx: Ctx, g: Group): Group["buckets"][number] | null {
  const { hash: basis, used } = hashFieldsBasis(keyToFlow(ctx.key), groupHashFields(g));
  for (const { field, mask } of g.fields) {
    // mf_are_prereqs_ok() unwildcards what it reads; a hashed field is unwildcarded under its mask.
    if (prereqsOk(field, ctx.key, ctx.wc) && used.includes(lbFieldName(field)))
      unwildcard(ctx.wc, field, mask ?? undefined);
  }
  const live = g.buckets.map((b) => bucketIsAlive(ctx, g, b, 0));
  const { scores, chosen } = scoreBuckets(
    g.buckets.map((b, i) => ({ bucketId: b.id, weight: b.weight, live: live[i]! })),
    basis,
  );
  scores.forEach((s, i) => {
    if (s.live) report(ctx, "detail", `bucket ${s.bucketId}: score ${s.score}`);
    else reportNotLive(ctx, g.buckets[i]!);
  });
  return chosen === undefined ? null : (g.buckets[chosen] ?? null);
}

const MAX_LIVENESS_RECURSION = 128;

/** bucket_is_alive(): watch_port up (present and not shown without LIVE), watch_group with a live bucket. */
function bucketIsAlive(ctx: Ctx, g: Group, b: Group["buckets"][number], depth: number): boolean {
  if (depth >= MAX_LIVENESS_RECURSION) {
    report(ctx, "error", `bucket chaining exceeded ${MAX_LIVENESS_RECURSION} links`);
    return false;
  }
  if (g.type === "select" && b.weight === 0) return false;
  const wp = b.watchPort;
  const wg = b.watchGroup;
  const portLive = wp !== undefined && wp !== OFPP.NONE && wp !== OFPP.CONTROLLER;
  const groupLive = wg !== undefined && wg !== 0xffffffff;
  if (!portLive && !groupLive && wp !== OFPP.CONTROLLER) return true;
  if (portLive && ctx.bridge.ports.has(wp) && ctx.bridge.ports.get(wp)?.live !== false) return true;
  if (groupLive) {
    const w = ctx.bridge.groups.get(wg);
    if (w && firstLiveBucket(ctx, w, depth + 1)) return true;
  }
  return wp === OFPP.CONTROLLER;
}

/** xlate_report_bucket_not_live() (OVS says "port" for a watched group too). */
function reportNotLive(ctx: Ctx, b: Group["buckets"][number]): void {
  let s = "";
  if (b.watchPort !== undefined && b.watchPort !== OFPP.NONE) s += `port ${formatPort(b.watchPort)}`;
  if (b.watchGroup !== undefined && b.watchGroup !== 0xffffffff)
    s += `${s ? " and " : ""}port ${b.watchGroup}`;
  report(ctx, "detail", `bucket ${b.id}: not live due to ${s}`);
}

/** group_first_live_bucket(), reporting the buckets it skips. */
function firstLiveBucket(ctx: Ctx, g: Group, depth: number): Group["buckets"][number] | null {
  for (const b of g.buckets) {
    if (bucketIsAlive(ctx, g, b, depth)) return b;
    reportNotLive(ctx, b);
  }
  return null;
}

function xlateGroup(ctx: Ctx, id: number, isLast: boolean): boolean {
  if (!resourceCheck(ctx)) return false;
  const g = ctx.bridge.groups.get(id);
  if (!g) {
    report(ctx, "warn", `output to nonexistent group ${id}`);
    return true;
  }
  if (g.type === "all" || g.type === "indirect") {
    for (let i = 0; i < g.buckets.length; i++) {
      groupBucket(ctx, g.buckets[i]!, isLast && i === g.buckets.length - 1);
    }
    return false;
  }
  let bucket: Group["buckets"][number] | null = null;
  if (g.type === "ff") bucket = firstLiveBucket(ctx, g, 0);
  else if (ctx.wasMpls) {
    // pick_select_group(): selecting may read L3, so an MPLS pop recirculates first.
    ctx.exit = true;
    ctx.freezing = true;
  } else if (g.method === "hash") bucket = selectHashBucket(ctx, g);
  else {
    // dp_hash (also OVS's choice when no selection_method is configured): the datapath
    // computes the hash and recirculates; ofproto/trace does not follow that pass.
    ctx.exit = true;
    ctx.freezing = true;
    // group_set_selection_method(): an explicit dp_hash takes its algorithm from the upper 32
    // bits of selection_method_param (0 = l4); the default method uses sym_l4.
    const alg = g.method === "dp_hash" ? (Number(g.methodParam >> 32n) === 1 ? "sym_l4" : "l4") : "sym_l4";
    ctx.dpHash = `hash(${alg}(${Number(g.methodParam & 0xffffffffn)}))`;
    if (ctx.recircIds.ct && g.buckets.length > 0) ctx.dpHashGroup = g;
  }
  if (bucket) {
    report(ctx, "detail", `using bucket ${bucket.id}`);
    groupBucket(ctx, bucket, isLast);
  } else report(ctx, "detail", "no live bucket");
  return false;
}

function groupBucket(ctx: Ctx, b: Group["buckets"][number], isLast: boolean): void {
  const node = report(ctx, "bucket", `bucket ${b.id}`);
  const oldTrace = ctx.trace;
  ctx.trace = node.subs;
  const mark = scratchTop;
  const saved = takeKey(ctx.key);
  // The whole flow rolls back, actset_output included (a write_actions reached from the bucket
  // keeps its action set, not its actset_output).
  const savedActset = ctx.actsetOutput;
  const savedWasMpls = ctx.wasMpls;
  // A bucket is an action set: ofpacts_execute_action_set() orders it and keeps one final action.
  const ordered = executeActionSet(b.actions);
  ctx.depth++;
  doActions(ctx, ordered, isLast, true);
  ctx.depth--;
  if (ctx.freezing) finishFreezing(ctx);
  ctx.key.set(saved);
  scratchTop = mark;
  ctx.actsetOutput = savedActset;
  ctx.wasMpls = savedWasMpls;
  ctx.exit = false;
  ctx.trace = oldTrace;
}

// ---------------------------------------------------------------------------------------------
// Conntrack and recirculation

/**
 * recirc_alloc_id_ctx(): ovs-vswitchd hands out one id per distinct frozen state, so the same
 * state frozen twice in one translation (two patch outputs into the same ct(table=…), two
 * controllers of one dec_ttl) shares its id.
 */
function allocRecirc(ctx: Ctx, state: string, passLocal = false): number {
  const ids = ctx.recircIds;
  const known = ids.byState.get(state);
  if (known !== undefined) return known;
  const id = ids.next++;
  ids.byState.set(state, id);
  if (passLocal) ids.passLocal.push(state);
  return id;
}

/**
 * The rest of a frozen state without frozen actions (frozen_state_equal): the stack, was_mpls,
 * the userdata and the action set. A ct(table=…) fork and a controller action build the same
 * kind of state (the controller's has no action set), so a controller in the table a ct()
 * resumes at, with the same metadata, reuses the ct's recirc id (seed 4711, program 203).
 */
function frozenRest(ctx: Ctx, userdata: string, freeze: boolean): string {
  // A freeze keeps the action set and xin->xport_uuid; a controller action's state has neither
  // (golden recirc-share: shared only when the packet came in on a patch port).
  const set = freeze ? ctx.actionSet.map((a) => formatAction(a)).join(",") : "";
  // xin->xport_uuid: the port the pass's packet came in on.
  const xport = freeze ? xportOf(ctx.topBridge, ctx.init[W.in_port]!) : "";
  return `state:${userdata}:${ctx.stack.join(",")}:${ctx.wasMpls}:${set}:${xport}`;
}

/** xlate_actions(): xin->xport_uuid is the in_port's, unless there is none or it is a patch port. */
function xportOf(bridge: Bridge, inPort: number): string {
  const p = bridge.ports.get(inPort);
  return p && p.type !== "patch" ? `${bridge.name}:${inPort}` : "";
}

/**
 * What a frozen state holds (frozen_metadata_from_flow plus table, bridge and conntracked): the
 * packet's headers are not part of it, they travel with the packet.
 */
function frozenState(ctx: Ctx, what: string, table: number, key: Uint32Array): string {
  let s = `${what}|${ctx.bridge.name}|${table}|${ctx.conntracked}|${key[W.in_port]}|${key[W.metadata]},${key[W.metadata + 1]}`;
  for (let i = 0; i < 16; i++) s += `,${key[W.reg0 + i]}`;
  // The tunnel metadata (flow->tunnel): tun_id … tun_metadata0..63.
  s += `|${key.subarray(W.tun_id, W.tun_metadata0 + 64).join(",")}`;
  return s;
}

function finishFreezing(ctx: Ctx): void {
  ctx.cacheable = false;
  commit(ctx);
  if (ctx.pausing) {
    // finish_freezing__() with ctx->pause: a continuation is emitted only for a real packet.
    // Without side effects (ofproto/trace) it returns before ctx_cancel_freeze(): the freeze
    // stays on, so every caller up the chain (clone, bucket, patch port, the end of the
    // translation) commits again what the flow is then, e.g. the headers a reversible clone
    // restored (seed 604222813, program 206), and a later freeze gets no recirc().
    if (!ctx.opts.sideEffects) return;
    ctx.pausing = false;
    ctx.freezing = false;
    ctx.dpHash = null;
    return;
  }
  const id = allocRecirc(
    ctx,
    frozenState(ctx, `freeze:${ctx.dpHash}:${ctx.odp.length}`, ctx.tableId, ctx.key),
  );
  if (ctx.dpHash) ctx.odp.push(ctx.dpHash);
  ctx.odp.push(`recirc(0x${id.toString(16)})`);
  const g = ctx.dpHashGroup;
  if (g) {
    // Stateful mode follows the datapath's recirculation: the group runs again with dp_hash
    // set and picks a bucket (see dpHashBucket), whose actions the resumed pass executes.
    const mark = scratchTop;
    const snap = takeKey(ctx.key);
    snap[W.recirc_id] = id;
    const packed = pack(snap);
    scratchTop = mark;
    ctx.queue.push({
      id,
      bridge: ctx.bridge,
      key: packed,
      table: ctx.tableId,
      nat: null,
      conntracked: ctx.conntracked,
      ctState: ctx.key[W.ct_state]!,
      dpHash: { group: g.id, bucket: dpHashBucket(ctx, g) },
    });
  }
  ctx.freezing = false;
  ctx.dpHash = null;
  ctx.dpHashGroup = null;
}

/**
 * The bucket a dp_hash select group gives the recirculated packet: the dp_hash the userspace
 * datapath computes for `hash(l4|sym_l4(basis))` and OVS's slot table (group_setup_dp_hash_table,
 * pick_dp_hash_select_group), both as `@ovnsim/lb` models them; null when no bucket is live.
 */
function dpHashBucket(ctx: Ctx, g: Group): Group["buckets"][number] | null {
  const { index } = selectBucket(
    {
      method: g.method === "dp_hash" ? "dp_hash" : "",
      param: g.methodParam,
      buckets: g.buckets.map((b) => ({
        bucketId: b.id,
        weight: b.weight,
        live: bucketIsAlive(ctx, g, b, 0),
      })),
    },
    keyToFlow(ctx.key),
  );
  return index === undefined ? null : (g.buckets[index] ?? null);
}

function xlateCt(ctx: Ctx, a: Extract<OfAction, { kind: "ct" }>, isLast: boolean): void {
  let zone: number;
  if (typeof a.zone === "number") zone = a.zone;
  else {
    zone = Number(readSubfield(ctx.key, a.zone));
    unwildcardSubfield(ctx.wc, a.zone);
  }
  commit(ctx);
  ctx.ctNat = null;
  const oldMark = ctx.wc[W.ct_mark]!;
  const oldLabel0 = ctx.wc[W.ct_label]!;
  const oldLabel1 = ctx.wc[W.ct_label + 1]!;
  const oldLabel2 = ctx.wc[W.ct_label + 2]!;
  const oldLabel3 = ctx.wc[W.ct_label + 3]!;
  ctx.wc[W.ct_mark] = 0;
  ctx.wc.fill(0, W.ct_label, W.ct_label + 4);
  doActions(ctx, a.actions, isLast);
  let s = "ct(";
  if (a.commit) s += a.force ? "force_commit," : "commit,";
  if (zone) s += `zone=${zone},`;
  const markMask = ctx.wc[W.ct_mark]!;
  const pct = (v: number): string => (v === 0 ? "0" : hx(v)); // printf %#x
  if (markMask) s += `mark=${pct(ctx.key[W.ct_mark]! & markMask)}/${pct(markMask)},`;
  const labelMask = readField(ctx.wc, CT_LABEL);
  if (labelMask) {
    const v = readField(ctx.key, CT_LABEL) & labelMask;
    s += `label=${v === 0n ? "0" : `0x${v.toString(16)}`}/0x${labelMask.toString(16)},`;
  }
  if (a.alg) s += `helper=${a.alg},`;
  if (ctx.ctNat) s += `${natOdp(ctx.ctNat)},`;
  s = s.endsWith(",") ? `${s.slice(0, -1)})` : s === "ct(" ? "ct" : `${s})`;
  ctx.odp.push(s);
  let processed: CtResult | undefined;
  const table = ctx.recircIds.ct;
  if (table) {
    const cn = ctx.ctNat as NatSpec | null; // set by the nested nat action
    const nat: CtNatRequest | undefined = cn
      ? cn.kind === "none" || cn.af === "none"
        ? {}
        : {
            kind: cn.kind === "src" ? "snat" : "dnat",
            ip: cn.af === "ipv4" ? Number(cn.addrMin) : cn.addrMin,
            ...(cn.portMin ? { port: cn.portMin } : {}),
          }
      : undefined;
    processed = table.process(keyToFlow(ctx.key), {
      zone,
      commit: a.commit,
      force: a.force,
      ...(nat ? { nat } : {}),
      ...(markMask ? { mark: { value: ctx.key[W.ct_mark]! & markMask, mask: markMask } } : {}),
      ...(labelMask ? { label: { value: readField(ctx.key, CT_LABEL) & labelMask, mask: labelMask } } : {}),
    });
    ctx.recircIds.ct = processed.table;
  }
  ctx.wc[W.ct_mark] = oldMark;
  ctx.wc[W.ct_label] = oldLabel0;
  ctx.wc[W.ct_label + 1] = oldLabel1;
  ctx.wc[W.ct_label + 2] = oldLabel2;
  ctx.wc[W.ct_label + 3] = oldLabel3;
  if (a.table !== null) {
    ctx.conntracked = true;
    const id = allocRecirc(ctx, frozenState(ctx, frozenRest(ctx, "", true), a.table, ctx.key));
    ctx.odp.push(`recirc(0x${id.toString(16)})`);
    const mark = scratchTop;
    let snap = takeKey(ctx.key);
    let stateful: { ctState: number; preNat: Packed } | undefined;
    if (processed) {
      stateful = { ctState: processed.ctState, preNat: pack(snap) };
      snap = flowToKey(processed.flow, snap);
    }
    snap[W.recirc_id] = id;
    snap[W.ct_zone] = zone;
    const packed = pack(snap);
    scratchTop = mark;
    ctx.queue.push({
      id,
      bridge: ctx.bridge,
      key: packed,
      table: a.table,
      nat: ctx.ctNat,
      conntracked: true,
      ...(stateful ?? {}),
    });
    report(
      ctx,
      "detail",
      `A clone of the packet is forked to recirculate. The forked pipeline will be resumed at table ${a.table}.`,
    );
  }
  ctx.ctNat = null;
  clearConntrack(ctx.key);
  ctx.conntracked = false;
  report(ctx, "detail", "Sets the packet to an untracked state, and clears all the conntrack fields.");
}

// ---------------------------------------------------------------------------------------------
// Clones and the action set

/**
 * reversible_actions(): whether translating `actions` can be undone by restoring the flow. The
 * others (ct, nat, meter, output_trunc, encap/decap) need a datapath clone() when anything
 * follows them. Only the list itself is checked, not what it resubmits to (as OVS).
 */
function reversible(actions: readonly OfAction[]): boolean {
  for (const a of actions) {
    if (a.kind === "ct" || a.kind === "nat" || a.kind === "meter") return false;
    if (a.kind === "output" && a.maxLen !== undefined && a.port !== OFPP.CONTROLLER) return false;
    if (a.kind === "unsupported" && IRREVERSIBLE.has(a.name)) return false;
  }
  return true;
}

const IRREVERSIBLE = new Set(["meter", "output_trunc", "encap", "decap", "dec_nsh_ttl"]);

/**
 * clone_xlate_actions(): the `clone` action and a patch port's peer bridge. The flow is always
 * restored afterwards; when the actions are not reversible and not the last ones, the pending
 * header changes are committed and the translation is wrapped in a datapath `clone(...)`, after
 * which the committed state and conntrack state of the original packet come back.
 */
function cloneActions(ctx: Ctx, actions: readonly OfAction[], isLast: boolean): void {
  const mark = scratchTop;
  const savedKey = takeKey(ctx.key);
  // compose_clone() rolls the whole flow back, actset_output included.
  const savedActset = ctx.actsetOutput;
  const savedSet = ctx.actionSet;
  const savedStack = ctx.stack;
  const savedWasMpls = ctx.wasMpls;
  ctx.stack = [...savedStack];
  if (reversible(actions) || isLast) {
    doActions(ctx, actions, isLast);
    if (!ctx.freezing) xlateActionSet(ctx);
    if (ctx.freezing) finishFreezing(ctx);
  } else {
    commit(ctx);
    const savedBase = takeKey(ctx.base);
    const conntracked = ctx.conntracked;
    const odpMark = ctx.odp.length;
    doActions(ctx, actions, true);
    if (!ctx.freezing) xlateActionSet(ctx);
    if (ctx.freezing) finishFreezing(ctx);
    const inner = ctx.odp.splice(odpMark);
    if (inner.length) ctx.odp.push(`clone(${inner.join(",")})`);
    ctx.conntracked = conntracked;
    ctx.base.set(savedBase);
  }
  ctx.actionSet = savedSet;
  ctx.stack = savedStack;
  ctx.wasMpls = savedWasMpls;
  ctx.key.set(savedKey);
  scratchTop = mark;
  ctx.actsetOutput = savedActset;
}

/** xlate_optimize_odp_actions(): a trailing datapath clone() is unwrapped. */
function optimiseOdp(odp: string[]): void {
  const lastA = odp[odp.length - 1];
  if (lastA?.startsWith("clone(")) odp[odp.length - 1] = lastA.slice(6, -1);
}

/** xlate_action_set(): runs what write_actions left in the action set, once, at the end. */
function xlateActionSet(ctx: Ctx): void {
  if (ctx.actionSet.length === 0) return;
  ctx.cacheable = false;
  const list = executeActionSet(ctx.actionSet);
  ctx.actionSet = [];
  if (list.length === 0) return;
  const node = report(ctx, "table", "--. Executing action set:");
  const oldTrace = ctx.trace;
  ctx.trace = node.subs;
  ctx.inActionSet = true;
  doActions(ctx, list, true);
  ctx.inActionSet = false;
  ctx.trace = oldTrace;
}

// ---------------------------------------------------------------------------------------------
// Actions

/**
 * xlate_output_trunc_action(): `trunc(N)` goes out before the output's own commit; patch ports
 * and the flooding/NORMAL/TABLE/CONTROLLER ports refuse it.
 */
function outputTrunc(ctx: Ctx, port: number, maxLen: number, isLast: boolean): void {
  ctx.cacheable = false;
  if (
    port === OFPP.TABLE ||
    port === OFPP.NORMAL ||
    port === OFPP.FLOOD ||
    port === OFPP.ALL ||
    port === OFPP.CONTROLLER ||
    port === OFPP.NONE
  ) {
    report(ctx, "warn", `output_trunc does not support port: ${formatPort(port)}`);
    return;
  }
  if (port === ctx.key[W.in_port]) {
    report(ctx, "warn", "skipping output to input port");
    return;
  }
  const p = ctx.bridge.ports.get(port);
  if (!p || p.type === "patch") {
    report(ctx, "error", `output_trunc does not support patch port ${formatPort(port)}`);
    return;
  }
  ctx.odp.push(`trunc(${maxLen})`);
  xlateOutput(ctx, port, 0, isLast);
}

/** The packet-in reason of an output to CONTROLLER: group bucket, action set, or action. */
const outputReason = (ctx: Ctx): number => (ctx.inBucket ? 4 : ctx.inActionSet ? 3 : 1);

/** xlate_report_action_set(): the set as it would execute. */
function reportActionSet(ctx: Ctx, verb: string): void {
  const list = executeActionSet(ctx.actionSet);
  report(
    ctx,
    "detail",
    list.length ? `action set ${verb}: ${list.map(formatAction).join(",")}` : `action set ${verb} empty`,
  );
}

/**
 * xlate_meter_action(): a meter becomes `meter(N)` with the datapath's own meter id. The
 * userspace datapath numbers meters from 0 in the order they were added; a bundle has no
 * `dump-meters`, so OpenFlow meter M is taken to be the M-th added (datapath id M-1).
 */
function meterAction(ctx: Ctx, id: number): void {
  const dp = ctx.bridge.meterDpId(id);
  if (dp !== undefined) ctx.odp.push(`meter(${dp})`);
}

/**
 * xlate_check_pkt_larger(): the rest of the action list is translated twice, once with the
 * destination bit set (packets longer than `len`) and once with it clear, into
 * `check_pkt_len(size=LEN,gt(...),le(...))`; the flow and committed state are restored between.
 */
function checkPktLarger(
  ctx: Ctx,
  a: Extract<OfAction, { kind: "check_pkt_larger" }>,
  rest: readonly OfAction[],
): void {
  // The branches share one copy of the stack and action set (the first branch's action set
  // execution empties it for the second, as in OVS 3.1); the originals come back afterwards.
  const savedSet = ctx.actionSet;
  const savedStack = ctx.stack;
  ctx.stack = [...savedStack];
  const scratchMark = scratchTop;
  const savedKey = takeKey(ctx.key);
  // actset_output is part of the flow each branch starts from again.
  const savedActset = ctx.actsetOutput;
  commit(ctx);
  const savedBase = takeKey(ctx.base);
  const conntracked = ctx.conntracked;
  const wasMpls = ctx.wasMpls;
  const branch = (bit: bigint): string => {
    writeSubfield(ctx.key, a.dst, bit);
    const mark = ctx.odp.length;
    doActions(ctx, rest, true);
    if (!ctx.freezing) xlateActionSet(ctx);
    if (ctx.freezing) finishFreezing(ctx);
    const inner = ctx.odp.splice(mark);
    ctx.base.set(savedBase);
    ctx.conntracked = conntracked;
    ctx.wasMpls = wasMpls;
    ctx.key.set(savedKey);
    ctx.actsetOutput = savedActset;
    return inner.join(",");
  };
  const gt = branch(1n);
  const oldExit = ctx.exit;
  ctx.exit = false;
  const le = branch(0n);
  scratchTop = scratchMark;
  ctx.odp.push(`check_pkt_len(size=${a.len},gt(${gt || "drop"}),le(${le || "drop"}))`);
  ctx.actionSet = savedSet;
  ctx.stack = savedStack;
  ctx.exit = oldExit;
}

/** Not-modelled actions that do not change the packet or where it goes. */
const NO_PACKET_EFFECT = new Set([
  "learn",
  "meter",
  "sample",
  "set_queue",
  "pop_queue",
  "fin_timeout",
  "debug_slow",
]);

/**
 * Measured on OVS 3.1 (ofproto/trace megaflows): writing the IP addresses, TTL, ECN or the TOS
 * byte (set_field, load, mod_nw_src/dst, mod_nw_ttl, dec_ttl, set_field/load of nw_tos and the
 * OpenFlow 1.0 mod_nw_tos) makes the megaflow match nw_proto, even when nothing is output;
 * `set_field:N->ip_dscp` (how OpenFlow 1.1+ carries mod_nw_tos) and `move` into those fields do
 * not (golden tos-proto; seed 55555, program 253).
 */
const L3_WRITES = new Set([
  "nw_src",
  "nw_dst",
  "ipv6_src",
  "ipv6_dst",
  "ipv6_label",
  "nw_ttl",
  "nw_ecn",
  "nw_tos",
]);
const ARP_WRITES = new Set(["arp_spa", "arp_tpa", "arp_op", "arp_sha", "arp_tha"]);
const touchNwProto = (wc: Uint32Array): void => {
  wc[W.nw_proto] = (wc[W.nw_proto]! | 0xff) >>> 0;
};

/** xlate_report_subfield's value: mf_format for a whole field, ds_put_hex for a part. */
function subfieldNow(k: Uint32Array, sf: Subfield): string {
  if (sf.ofs === 0 && sf.nBits >= sf.field.bits) return formatFieldValue(sf.field, readField(k, sf.field));
  const v = readSubfield(k, sf);
  return v === 0n ? "0" : `0x${v.toString(16)}`;
}

/** xlate_controller_action: a userspace(controller(...)) datapath action (no packet-in is sent by a trace). */
function controllerAction(
  ctx: Ctx,
  maxLen: number,
  reason: number,
  controllerId: number,
  userdata: string | null = null,
  meterId?: number,
): void {
  ctx.cacheable = false;
  commit(ctx);
  const id = allocRecirc(
    ctx,
    frozenState(ctx, frozenRest(ctx, userdata ?? "", false), ctx.tableId, ctx.key),
    true,
  );
  const up = `userspace(pid=0,controller(reason=${reason},dont_send=1,continuation=0,recirc_id=${id},rule_cookie=${ctx.ruleCookie ? `0x${ctx.ruleCookie.toString(16)}` : "0"},controller_id=${controllerId},max_len=${maxLen}))`;
  // A meter_id= (its datapath meter) wraps the packet-in in an always-taken sample(meter, …).
  const dp = meterId === undefined ? undefined : ctx.bridge.meterDpId(meterId);
  ctx.odp.push(dp === undefined ? up : `sample(sample=100.0%,actions(meter(${dp}),${up}))`);
}

/**
 * recirc_for_mpls(): after an MPLS pop to a non-MPLS ethertype, the actions that cannot read L3
 * headers run on; any other first freezes the translation (a recirculation the trace stops at).
 */
function mplsNeedsRecirc(a: OfAction): boolean {
  switch (a.kind) {
    case "output":
    case "output_reg":
    case "enqueue":
    case "set_vlan_vid":
    case "set_vlan_pcp":
    case "set_eth":
    case "set_queue":
    case "group":
      return false;
    case "set_field":
      // mf_is_l3_or_higher(); set_tunnel is a set_field of tun_id here.
      return a.field.word >= W.nw_src && a.field.word < W.mpls_lse1;
    case "controller":
      // `output:CONTROLLER` is an output action in OVS.
      return !a.text.startsWith("CONTROLLER:");
    default:
      return true;
  }
}

// groupBucketAction mirrors do_xlate_actions()'s argument of that name: true only for the
// bucket's own action list, so an output to CONTROLLER reports OFPR_GROUP there and not in
// what a resubmit, a patch port, clone() or ct() nested in the bucket translates.
function doActions(ctx: Ctx, actions: readonly OfAction[], isLast: boolean, groupBucketAction = false): void {
  const oldIn = ctx.inBucket;
  try {
    doActionsList(ctx, actions, isLast, groupBucketAction);
  } finally {
    ctx.inBucket = oldIn;
  }
}

function doActionsList(
  ctx: Ctx,
  actions: readonly OfAction[],
  isLast: boolean,
  groupBucketAction: boolean,
): void {
  const { key: k, wc } = ctx;
  if (actions.length === 0) {
    report(ctx, "action", "drop");
    return;
  }
  for (let ai = 0; ai < actions.length; ai++) {
    const a = actions[ai]!;
    if (ctx.error !== null) break;
    if (ctx.wasMpls && !ctx.exit && mplsNeedsRecirc(a)) {
      // recirc_for_mpls(): freeze before an action that could read the uncovered L3 headers.
      ctx.exit = true;
      ctx.freezing = true;
    }
    if (ctx.exit) break;
    ctx.inBucket = groupBucketAction;
    // OVS `last`: the final action of the outermost list, with nothing left in the action set.
    const last = isLast && ai === actions.length - 1 && ctx.actionSet.length === 0;
    report(ctx, "action", actionTextOf(a, namesOf(ctx, ctx.bridge)));
    if (CACHE_SAFE[a.kind] !== true) ctx.cacheable = false;
    switch (a.kind) {
      case "output":
        if (a.maxLen !== undefined && a.port !== OFPP.CONTROLLER) outputTrunc(ctx, a.port, a.maxLen, last);
        else xlateOutput(ctx, a.port, a.maxLen ?? 65535, last);
        break;
      case "output_reg": {
        const port = Number(readSubfield(k, a.src));
        unwildcardSubfield(wc, a.src);
        report(ctx, "detail", `output port is ${port}`);
        xlateOutput(ctx, port, 65535, last);
        break;
      }
      case "controller":
        if (a.pause) {
          // ctx_trigger_freeze(): the rest is frozen for a continuation, which only a real
          // packet emits; ofproto/trace commits what is pending and stops here.
          ctx.freezing = true;
          ctx.pausing = true;
          ctx.exit = true;
          break;
        }
        // The bare `CONTROLLER:N` is also how an output to the CONTROLLER port prints: that
        // one reports OFPR_GROUP (4) from a bucket and OFPR_ACTION_SET (3) from the action set.
        if (a.text.startsWith("CONTROLLER:")) controllerAction(ctx, a.maxLen, outputReason(ctx), 0);
        else controllerAction(ctx, a.maxLen, a.reason, a.controllerId, a.userdata, a.meterId);
        break;
      case "learn":
        // learn_mask(): the fields the specs read are part of the megaflow.
        for (const sf of a.sources) unwildcardSubfield(wc, sf);
        if (ctx.opts.sideEffects) {
          // The rule is added once the whole trace is done (it is not visible to this
          // translation's lookups, which use the tables' version of when it started).
          const { entry, text } = learnExecute(a, k);
          report(ctx, "detail", text);
          ctx.recircIds.learned.push({ bridge: ctx.bridge, entry });
        } else report(ctx, "warn", "suppressing side effects, so learn action ignored");
        break;
      case "set_queue":
        wc[W.skb_priority] = 0xffffffff;
        // dpif-netdev's queue_to_priority: the priority is the queue number.
        k[W.skb_priority] = a.queue >>> 0;
        break;
      case "pop_queue":
        wc[W.skb_priority] = 0xffffffff;
        if (k[W.skb_priority] !== ctx.origSkbPriority) {
          k[W.skb_priority] = ctx.origSkbPriority;
          report(ctx, "detail", `queue = ${ctx.origSkbPriority ? hx(ctx.origSkbPriority) : "0"}`);
        }
        break;
      case "enqueue": {
        wc[W.skb_priority] = 0xffffffff;
        const port = a.port === OFPP.IN_PORT ? k[W.in_port]! : a.port;
        if (a.port !== OFPP.IN_PORT && port === k[W.in_port]) break;
        const old = k[W.skb_priority]!;
        k[W.skb_priority] = a.queue >>> 0;
        composeOutput(ctx, port, last);
        k[W.skb_priority] = old;
        break;
      }
      case "meter":
        meterAction(ctx, a.id);
        break;
      case "sample":
        // Without IPFIX configured, sample does not change the translation.
        break;
      case "fin_timeout":
        // OFPACT_FIN_TIMEOUT: the megaflow matches nw_proto (the ARP opcode on ARP) whatever the
        // packet; the timeouts change only with side effects, on a TCP FIN/RST.
        wc[W.nw_proto] = (wc[W.nw_proto]! | 0xff) >>> 0;
        break;
      case "write_actions":
        // xlate_write_actions__: actset_output follows the set's output unless it has a group.
        if (!ctx.actsetHasGroup) {
          for (const w of a.actions) {
            if (w.kind === "output") ctx.actsetOutput = w.port;
            else if (w.kind === "controller" && w.text.startsWith("CONTROLLER:"))
              ctx.actsetOutput = OFPP.CONTROLLER;
            else if (w.kind === "group") {
              ctx.actsetOutput = null;
              ctx.actsetHasGroup = true;
              break;
            }
          }
        }
        ctx.actionSet = [...ctx.actionSet, ...a.actions];
        reportActionSet(ctx, "is");
        break;
      case "clear_actions":
        reportActionSet(ctx, "was");
        ctx.actionSet = [];
        ctx.actsetOutput = null;
        ctx.actsetHasGroup = false;
        break;
      case "stack_push":
        unwildcardSubfield(wc, a.sf);
        ctx.stack.push(readSubfield(k, a.sf));
        break;
      case "stack_pop": {
        const v = ctx.stack.pop();
        if (v === undefined) {
          report(ctx, "error", "stack underflow");
          break;
        }
        unwildcardSubfield(wc, a.sf);
        writeSubfield(k, a.sf, v & ((1n << BigInt(a.sf.nBits)) - 1n));
        report(ctx, "detail", `${formatSubfield(a.sf)} is now ${subfieldNow(k, a.sf)}`);
        break;
      }
      case "multipath": {
        const mp = a.mp;
        const link = multipathLink(flowHashFields(k, mp.fields, mp.basis), mp);
        maskHashFields(k, wc, mp.fields);
        unwildcardSubfield(wc, mp.dst);
        writeSubfield(k, mp.dst, BigInt(link));
        report(ctx, "detail", `${formatSubfield(mp.dst)} is now ${subfieldNow(k, mp.dst)}`);
        break;
      }
      case "bundle": {
        const b = a.bundle;
        // member_enabled_cb(): reserved ports but CONTROLLER count as enabled; others must exist
        // and be live (may_enable: not a tunnel whose BFD session is down).
        const port = bundleMember(k, wc, b, (p) =>
          p >= 0xff00 && p !== OFPP.LOCAL
            ? p !== OFPP.CONTROLLER
            : ctx.bridge.ports.has(p) && ctx.bridge.ports.get(p)?.live !== false,
        );
        if (b.dst) {
          unwildcardSubfield(wc, b.dst);
          writeSubfield(k, b.dst, BigInt(port));
          report(ctx, "detail", `${formatSubfield(b.dst)} is now ${subfieldNow(k, b.dst)}`);
        } else xlateOutput(ctx, port, 0, last);
        break;
      }
      case "check_pkt_larger":
        // The rest of the list is translated inside check_pkt_len(); this list is done.
        checkPktLarger(ctx, a, actions.slice(ai + 1));
        return;
      case "group":
        if (xlateGroup(ctx, a.id, last)) return;
        break;
      case "resubmit": {
        const inPort = a.port === null || a.port === OFPP.IN_PORT ? k[W.in_port]! : a.port;
        const table = a.table === null ? ctx.tableId : a.table;
        if (a.ct) {
          ctx.cacheable = false;
          if (k[W.ct_nw_proto] === 0 || !isIpAny(k)) {
            report(ctx, "error", "resubmit(ct) with non-tracked or non-IP packet!");
            break;
          }
        }
        xlateTable(ctx, inPort, table, a.ct, last);
        break;
      }
      case "goto_table":
        xlateTable(ctx, k[W.in_port]!, a.table, false, last);
        break;
      case "write_metadata": {
        const cur = readField(k, F("metadata"));
        writeField(k, F("metadata"), (cur & ~a.mask) | (a.value & a.mask));
        break;
      }
      case "set_field":
        if (ctx.cacheable && writesFreeWord(a.field)) ctx.cacheable = false;
        if (prereqsOk(a.field, k, wc)) {
          // OVS's nw_tos (MFF_IP_DSCP) is the DSCP bits of the byte: the ECN bits stay as they were.
          const mask =
            (a.mask ?? (1n << BigInt(a.field.bits)) - 1n) & (a.field.name === "nw_tos" ? 0xfcn : ~0n);
          unwildcard(wc, a.field, mask);
          if (L3_WRITES.has(a.field.name)) touchNwProto(wc);
          // Measured on OVS 3.1: a set_field/load of an ARP field of an ARP (not RARP) packet
          // un-wildcards the opcode (OVS's nw_proto) too; move and pop do not.
          else if (ARP_WRITES.has(a.field.name) && dlType(k) === ETH_TYPE.arp) touchNwProto(wc);
          if (a.field.implied && !(k[a.field.word]! & VLAN_CFI)) {
            // OVS mf_set_flow_value on vlan_vid/pcp of an untagged packet sets the CFI bit too.
          }
          writeField(k, a.field, a.value, mask);
          if (a.field.implied) k[a.field.word] = (k[a.field.word]! | VLAN_CFI) >>> 0;
        } else
          report(
            ctx,
            "warn",
            `unmet prerequisites for ${ovsFieldName(a.field, a.field.name)}, set_field ignored`,
          );
        break;
      case "move": {
        // mf_subfield_copy(): nothing moves unless both fields' prerequisites hold.
        if (!prereqsOk(a.dst.field, k, wc) || !prereqsOk(a.src.field, k, wc)) {
          report(ctx, "detail", `${formatSubfield(a.dst)} is now ${subfieldNow(k, a.dst)}`);
          break;
        }
        unwildcardSubfield(wc, a.src);
        unwildcardSubfield(wc, a.dst);
        writeSubfield(k, a.dst, readSubfield(k, a.src));
        report(ctx, "detail", `${formatSubfield(a.dst)} is now ${subfieldNow(k, a.dst)}`);
        break;
      }
      case "set_eth": {
        const w = a.which === "src" ? W.dl_src : W.dl_dst;
        wc[w] = 0xffff;
        wc[w + 1] = 0xffffffff;
        k[w] = Math.floor(a.mac / 0x100000000) & 0xffff;
        k[w + 1] = a.mac >>> 0;
        break;
      }
      case "set_ipv4":
        if (isIp4(k)) {
          touchNwProto(wc);
          const w = a.which === "src" ? W.nw_src : W.nw_dst;
          wc[w] = 0xffffffff;
          k[w] = a.ip >>> 0;
        }
        break;
      case "set_ip_dscp":
        if (isIpAny(k)) {
          touchNwProto(wc);
          wc[W.nw_tos] = (wc[W.nw_tos]! | 0xfc) >>> 0;
          k[W.nw_tos] = ((k[W.nw_tos]! & 3) | (a.tos & 0xfc)) >>> 0;
        }
        break;
      case "set_ip_ttl":
        if (isIpAny(k)) {
          touchNwProto(wc);
          wc[W.nw_ttl] = 0xff;
          k[W.nw_ttl] = a.ttl;
        }
        break;
      case "set_l4":
        if (isIpAny(k) && !(k[W.nw_frag]! & 2)) {
          wc[W.nw_proto] = (wc[W.nw_proto]! | 0xff) >>> 0;
          const w = a.which === "src" ? W.tp_src : W.tp_dst;
          wc[w] = (wc[w]! | 0xffff) >>> 0;
          k[w] = a.port;
        }
        break;
      case "push_vlan": {
        const n = vlanCount(k);
        for (let i = 0; i < n; i++) wc[W.vlan0 + i] = 0xffffffff;
        k[W.vlan1] = k[W.vlan0]!;
        k[W.vlan0] = ((a.tpid << 16) | VLAN_CFI) >>> 0;
        break;
      }
      case "pop_vlan": {
        const n = vlanCount(k);
        if (n > 1) wc[W.vlan1] = 0xffffffff;
        k[W.vlan0] = k[W.vlan1]!;
        k[W.vlan1] = 0;
        break;
      }
      case "set_vlan_vid":
      case "set_vlan_pcp": {
        const isVid = a.kind === "set_vlan_vid";
        wc[W.vlan0] = (wc[W.vlan0]! | (isVid ? 0xfff : 0xe000) | VLAN_CFI) >>> 0;
        const w = k[W.vlan0]!;
        if (w & VLAN_CFI || a.push) {
          let tpid = w >>> 16 || 0x8100;
          let tci = w & 0xffff;
          if (isVid) tci = (tci & ~0xfff) | a.vid | VLAN_CFI;
          else tci = (tci & ~0xe000) | (a.pcp << 13) | VLAN_CFI;
          tpid &= 0xffff;
          k[W.vlan0] = ((tpid << 16) | tci) >>> 0;
        }
        break;
      }
      case "dec_ttl":
        // OVS masks nw_ttl (and, as measured, nw_proto) before it looks at the packet type.
        wc[W.nw_ttl] = 0xff;
        touchNwProto(wc);
        if (isIpAny(k)) {
          if (k[W.nw_ttl]! > 1) k[W.nw_ttl] = k[W.nw_ttl]! - 1;
          else {
            for (const id of a.ids ?? [0]) controllerAction(ctx, 65535, 2, id);
            report(ctx, "warn", `IPv${isIp4(k) ? 4 : 6} decrement TTL exception`);
            return;
          }
        }
        break;
      case "ct":
        xlateCt(ctx, a, last);
        break;
      case "nat":
        ctx.ctNat = a.nat;
        break;
      case "ct_clear":
        if (ctx.conntracked) {
          clearConntrack(k);
          ctx.conntracked = false;
          ctx.odp.push("ct_clear");
        }
        break;
      case "clone":
        // clone_xlate_actions() leaves ctx->exit as the clone left it: an `exit` (or a pause)
        // inside the clone ends the outer action list too (OVS 3.1, golden clone-exit).
        cloneActions(ctx, a.actions, last);
        break;
      case "push_mpls": {
        // compose_mpls_push_action()
        const n = countMplsLabels(k, wc);
        if (!n) commit(ctx);
        else if (n >= MAX_MPLS_LABELS) {
          ctx.error = "Too many MPLS labels";
          break;
        }
        pushMpls(k, n, a.ethertype, wc, true);
        break;
      }
      case "pop_mpls": {
        // compose_mpls_pop_action()
        const n = countMplsLabels(k, wc);
        if (popMpls(k, n, a.ethertype, wc)) {
          if (!isMplsType(a.ethertype)) ctx.wasMpls = true;
        } else if (n >= MAX_MPLS_LABELS) {
          ctx.error = "Too many MPLS labels";
          ctx.odp.length = 0;
        }
        break;
      }
      case "set_mpls_ttl":
        if (isMplsType(dlType(k))) {
          wc[W.mpls_lse] = (wc[W.mpls_lse]! | 0xff) >>> 0;
          k[W.mpls_lse] = ((k[W.mpls_lse]! & ~0xff) | a.ttl) >>> 0;
        }
        break;
      case "dec_mpls_ttl": {
        // compose_dec_mpls_ttl_action(): a TTL of 0 or 1 goes to the controller and stops the table.
        if (isMplsType(dlType(k))) {
          const ttl = k[W.mpls_lse]! & 0xff;
          wc[W.mpls_lse] = (wc[W.mpls_lse]! | 0xff) >>> 0;
          if (ttl > 1) {
            k[W.mpls_lse] = ((k[W.mpls_lse]! & ~0xff) | (ttl - 1)) >>> 0;
            break;
          }
          controllerAction(ctx, 65535, 2, 0);
        }
        report(ctx, "warn", "MPLS decrement TTL exception");
        return;
      }
      case "note":
        break;
      case "exit":
        ctx.exit = true;
        break;
      case "conjunction":
        // Only reachable through a packet-out in OVS; a rule holding it is never executed.
        report(ctx, "error", "executing no-op conjunction action");
        break;
      case "unsupported":
        if (NO_PACKET_EFFECT.has(a.name)) {
          // learn/meter/sample/…: no effect on this packet's path in a trace; continue.
          report(ctx, "warn", `${a.name} is not modelled by ovnsim (no effect on this trace)`);
          break;
        }
        report(ctx, "error", `${a.name} is not modelled by ovnsim; the rest of this action list is skipped`);
        return;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Passes

function ctStateText(bits: number): string {
  const names: [string, number][] = [
    ["new", CS.new],
    ["est", CS.est],
    ["rel", CS.rel],
    ["rpl", CS.rpl],
    ["inv", CS.inv],
    ["trk", CS.trk],
    ["snat", CS.snat],
    ["dnat", CS.dnat],
  ];
  return names
    .filter(([, b]) => bits & b)
    .map(([n]) => n)
    .join("|");
}

function ipFlowText(k: Uint32Array, af: NatSpec["af"]): string {
  if (af === "ipv4") {
    return `nw_src=${formatIp4(k[W.nw_src]!)},tp_src=${k[W.tp_src]},nw_dst=${formatIp4(k[W.nw_dst]!)},tp_dst=${k[W.tp_dst]}`;
  }
  if (af === "ipv6") {
    const v6 = (w: number): string =>
      `[${formatFieldValue(F("ipv6_src"), readField(k, { ...F("ipv6_src"), word: w }))}]`;
    return `ipv6_src=${v6(W.ipv6_src)},tp_src=${k[W.tp_src]},ipv6_dst=${v6(W.ipv6_dst)},tp_dst=${k[W.tp_dst]}`;
  }
  return "";
}

/**
 * One translation pass. `key` is scratch the caller owns: the working flow, as the pass
 * receives it and as it leaves it. What the pass returns keeps the received packet, the
 * megaflow mask and the final packet packed, and makes their flows and texts when first read
 * (a caller following the packet reads the flows only; the texts when someone looks).
 */
function runPass(
  sw: Switch,
  topBridge: Bridge,
  key: Uint32Array,
  resume: {
    bridge: Bridge;
    table: number;
    conntracked: boolean;
    dpHash?: { readonly group: number; readonly bucket: Group["buckets"][number] | null };
  } | null,
  recirc: RecircHeader | null,
  queue: RecircNode[],
  recircIds: Shared,
  opts: TraceOptions,
  /** The caller's flow when `key` is it (a first pass): the pass keeps it rather than a copy. */
  src: Flow | null,
  inPort: number | undefined,
  /** Set when the translation may be remembered for its megaflow (see XlateCache). */
  probe: CacheProbe | null,
): TracePass {
  const mark = scratchTop;
  const init = takeKey(key);
  const ctx: Ctx = {
    sw,
    bridge: topBridge,
    topBridge,
    key,
    init,
    wc: takeKey(),
    base: takeKey(key),
    odp: [],
    trace: [],
    depth: 0,
    resubmits: 0,
    error: null,
    slow: false,
    exit: false,
    tableId: 0,
    ruleCookie: 0n,
    inBucket: false,
    conntracked: resume ? resume.conntracked : (key[W.ct_state]! & CS.trk) !== 0,
    freezing: false,
    pausing: false,
    dpHash: null,
    dpHashGroup: null,
    ctNat: null,
    actionSet: [],
    stack: [],
    actsetOutput: null,
    actsetHasGroup: false,
    queue,
    recircIds,
    opts,
    upcallVlans: vlanCount(key),
    tunBase: null,
    origSkbPriority: key[W.skb_priority]!,
    inActionSet: false,
    wasMpls: false,
    cacheable: probe !== null,
    normalChecks: null,
  };
  const { wc } = ctx;
  // xlate_wc_init
  wc[W.in_port] = 0xffff;
  wc[W.dl_type] = 0xffff;
  if (isIpAny(key)) unwildcard(wc, NW_FRAG, 3n);
  wc[W.recirc_id] = 0xffffffff;
  // tnl_wc_init(): a tunnelled packet's key, addresses, flags and TOS are always consulted.
  if (keyTunnelDstSet(key)) {
    wc.fill(0xffffffff, W.tun_id, W.tun_id + 2);
    if (key[W.tun_dst]) {
      wc[W.tun_src] = 0xffffffff;
      wc[W.tun_dst] = 0xffffffff;
    } else {
      wc.fill(0xffffffff, W.tun_ipv6_src, W.tun_ipv6_src + 4);
      wc.fill(0xffffffff, W.tun_ipv6_dst, W.tun_ipv6_dst + 4);
    }
    wc[W.tun_flags] = TUN_FLAG.df | TUN_FLAG.csum | TUN_FLAG.key;
    wc[W.tun_tos] = 0xff;
    if (isIpAny(key) && (key[W.tun_tos]! & 3) === 3) wc[W.nw_tos] = (wc[W.nw_tos]! | 3) >>> 0;
  }
  const top: TraceNode[] = [];
  const bridgeNode: TraceNode = { type: "bridge", text: bridgeTitle(topBridge), subs: [] };
  top.push(bridgeNode);
  ctx.trace = bridgeNode.subs;
  if (resume) {
    const thaw = report(ctx, "thaw", "thaw");
    thaw.subs.push({ type: "thaw", text: `Resuming from table ${resume.table}`, subs: [] });
    ctx.bridge = resume.bridge;
    ctx.tableId = resume.table;
  }
  if (resume?.dpHash) {
    // Stateful mode: the frozen select group, now with its dp_hash, runs the chosen bucket.
    const node: TraceNode = { type: "action", text: `group:${resume.dpHash.group}`, subs: [] };
    ctx.trace.push(node);
    ctx.trace = node.subs;
    const b = resume.dpHash.bucket;
    if (b) {
      report(ctx, "detail", `using bucket ${b.id}`);
      groupBucket(ctx, b, true);
    } else report(ctx, "detail", "no live bucket");
  } else {
    const rule = lookup(ctx, ctx.tableId, key[W.in_port]!);
    const node = tableText(rule, ctx.tableId, ctx.bridge !== ctx.topBridge, namesOf(ctx, ctx.bridge));
    ctx.trace.push(node);
    ctx.trace = node.subs;
    ctx.ruleCookie = rule ? rule.cookie : 0n;
    doActions(ctx, rule ? rule.actions : [], true);
    if (ctx.error === null && !ctx.freezing) xlateActionSet(ctx);
  }
  if (ctx.error === null && ctx.freezing) finishFreezing(ctx);
  optimiseOdp(ctx.odp);
  // xlate_out_uninit(): the pass's references to its controller states go (golden recirc-share).
  if (recircIds.passLocal.length) {
    for (const st of recircIds.passLocal) recircIds.byState.delete(st);
    recircIds.passLocal.length = 0;
  }

  if (ctx.error === null) {
    // xlate_wc_finish
    if (!keyTunnelDstSet(init)) wc.fill(0, W.tun_id, W.dl_src); // no tunnel: its mask is moot
    wc.fill(0, W.metadata, W.metadata + 2);
    wc.fill(0, W.reg0, W.reg0 + 16);
    if (
      (isIp4(key) && key[W.nw_proto] === IP_PROTO.icmp) ||
      (isIp6(key) && key[W.nw_proto] === IP_PROTO.icmpv6)
    ) {
      wc[W.tp_src] = wc[W.tp_src]! & 0xff;
      wc[W.tp_dst] = wc[W.tp_dst]! & 0xff;
    }
    if (wc[W.vlan0]! & 0xffff) wc[W.vlan0] = (wc[W.vlan0]! | VLAN_CFI) >>> 0;
    if (wc[W.vlan1]! & 0xffff) wc[W.vlan1] = (wc[W.vlan1]! | VLAN_CFI) >>> 0;
    if (init[W.nw_frag]! & 2) {
      wc[W.tp_src] = 0;
      wc[W.tp_dst] = 0;
    }
    // A label stack the received packet did not have is not part of the megaflow.
    if (!isMplsType(init[W.dl_type]!)) {
      wc[W.mpls_lse] = 0;
      wc[W.mpls_lse1] = 0;
      wc[W.mpls_lse2] = 0;
    }
    if (!(init[W.vlan0]! & VLAN_CFI)) wc[W.vlan0] = 0;
    if (!(init[W.vlan1]! & VLAN_CFI) || !(init[W.vlan0]! & VLAN_CFI)) wc[W.vlan1] = 0;
  } else {
    ctx.odp.length = 0;
  }
  // What the pass keeps: the mask and the words the pass changed; the received packet is the
  // caller's flow (a first pass) or kept packed (a resumed one).
  const maskP = pack(wc);
  const changed: number[] = [];
  for (let i = 0; i < FLOW_WORDS; i++) if (init[i] !== key[i]) changed.push(i, key[i]!);
  // flow_equal() also compares actset_output, which write_actions sets (never printed).
  const same = ctx.actsetOutput === null && changed.length === 0;
  if (
    probe &&
    ctx.cacheable &&
    ctx.error === null &&
    !ctx.slow &&
    ctx.actsetOutput === null &&
    queue.length === 0
  ) {
    const free = new Uint32Array(FREE_WORDS.length);
    for (let j = 0; j < FREE_WORDS.length; j++) free[j] = wc[FREE_WORDS[j]!]!;
    probe.free = free;
    probe.normals = ctx.normalChecks ?? NO_CHECKS;
  }
  const initP = src ? null : pack(init);
  scratchTop = mark;
  return new Pass(
    recirc,
    top,
    ctx.odp.length ? ctx.odp.join(",") : "drop",
    ctx.error,
    ctx.slow,
    src,
    inPort,
    initP,
    changed,
    same,
    namesOf(ctx, topBridge),
    { maskP, text: undefined },
  );
}

/** A pass's megaflow text, made once when first read (shared by the passes a remembered translation serves). */
interface MegaText {
  readonly maskP: Packed;
  text: string | undefined;
}

const SLOW_PATH = ["Uses action(s) not supported by datapath"] as const;

/**
 * One pass as traceFlow returns it. What the translation keeps is the mask and the words it
 * changed; the received packet is the caller's flow (first pass) or packed (a resumed pass);
 * the texts (Flow, Final flow, Megaflow) and flows are made when first read, on the prototype so
 * that a pass costs one object. `packets` is the pass itself (not enumerable, not in the JSON).
 */
class Pass implements TracePass {
  readonly recirc: RecircHeader | null;
  readonly nodes: TraceNode[];
  readonly datapathActions: string;
  readonly error: string | null;
  declare readonly slowPath?: readonly string[];
  readonly #src: Flow | null;
  readonly #inPort: number | undefined;
  readonly #initP: Packed | null;
  readonly #changed: readonly number[];
  readonly #same: boolean;
  readonly #names: ReadonlyMap<number, string> | undefined;
  readonly #mega: MegaText;
  /**
   * A pass a remembered translation served: its packets are the remembered ones with this
   * packet's free words (every other word is the same), so they are copies, not conversions.
   */
  readonly #tmpl: Remembered | null;
  readonly #freeW: readonly number[] | null;
  #flowText: string | undefined = undefined;
  #finalText: string | undefined = undefined;
  #start: Flow | undefined = undefined;
  #final: Flow | undefined = undefined;

  constructor(
    recirc: RecircHeader | null,
    nodes: TraceNode[],
    datapathActions: string,
    error: string | null,
    slow: boolean,
    src: Flow | null,
    inPort: number | undefined,
    initP: Packed | null,
    changed: readonly number[],
    same: boolean,
    names: ReadonlyMap<number, string> | undefined,
    mega: MegaText,
    tmpl: Remembered | null = null,
    freeW: readonly number[] | null = null,
  ) {
    this.recirc = recirc;
    this.nodes = nodes;
    this.datapathActions = datapathActions;
    this.error = error;
    if (slow) (this as { slowPath?: readonly string[] }).slowPath = SLOW_PATH;
    this.#src = src;
    this.#inPort = inPort;
    this.#initP = initP;
    this.#changed = changed;
    this.#same = same;
    this.#names = names;
    this.#mega = mega;
    this.#tmpl = tmpl;
    this.#freeW = freeW;
  }

  /** Writes the received packet's key into `k`. */
  #initInto(k: Uint32Array): void {
    if (this.#initP) unpackInto(this.#initP, k);
    else {
      k.fill(0);
      flowToKey(this.#src!, k);
      if (this.#inPort !== undefined) k[W.in_port] = this.#inPort;
    }
  }

  get flow(): string {
    this.#flowText ??= formatFlow(this.start, this.#names ? { portNames: this.#names } : {});
    return this.#flowText;
  }

  get finalFlow(): string {
    this.#finalText ??= this.#same
      ? "unchanged"
      : formatFlow(this.final, this.#names ? { portNames: this.#names } : {});
    return this.#finalText;
  }

  get megaflow(): string {
    const m = this.#mega;
    if (m.text === undefined) {
      const mark = scratchTop;
      const value = takeKey();
      const mask = unpackInto(m.maskP, takeKey());
      this.#initInto(value);
      for (let i = 0; i < FLOW_WORDS; i++) value[i] = (value[i]! & mask[i]!) >>> 0;
      try {
        m.text = formatMatchWords({ value, mask, eth: true }, this.#names ? { portNames: this.#names } : {});
      } finally {
        scratchTop = mark;
      }
    }
    return m.text;
  }

  get packets(): NonNullable<TracePass["packets"]> {
    return this;
  }

  /** The words the pass changed, `[index, value, …]` (for XlateCache). */
  get changedWords(): readonly number[] {
    return this.#changed;
  }

  get megaText(): MegaText {
    return this.#mega;
  }

  /** The pass left the packet as it came (finalFlow "unchanged"), known without making a flow. */
  get unchanged(): boolean {
    return this.#same;
  }

  get start(): Flow {
    if (this.#start === undefined && this.#tmpl) this.#start = withFree(this.#tmpl.start, this.#freeW!);
    if (this.#start === undefined) {
      const mark = scratchTop;
      const k = takeKey();
      this.#initInto(k);
      this.#start = keyToFlow(k);
      scratchTop = mark;
    }
    return this.#start;
  }

  // An unchanged packet's final flow is only read as "unchanged" and as `packets.final` (= start).
  get final(): Flow {
    if (this.#final === undefined) {
      if (this.#same) this.#final = this.start;
      else if (this.#tmpl) this.#final = withFree(this.#tmpl.final, this.#freeW!);
      else {
        const mark = scratchTop;
        const k = takeKey();
        this.#initInto(k);
        const c = this.#changed;
        for (let j = 0; j < c.length; j += 2) k[c[j]!] = c[j + 1]!;
        this.#final = keyToFlow(k);
        scratchTop = mark;
      }
    }
    return this.#final;
  }

  /** The JSON form (trace.ts's schema), in its key order. */
  toJSON(): object {
    return {
      recirc: this.recirc,
      flow: this.flow,
      nodes: this.nodes,
      finalFlow: this.finalFlow,
      megaflow: this.megaflow,
      datapathActions: this.datapathActions,
      error: this.error,
      ...(this.slowPath ? { slowPath: this.slowPath } : {}),
    };
  }
}

const word128 = (w: readonly number[], j: number): bigint =>
  (w[j]! | w[j + 1]! | w[j + 2]! | w[j + 3]!) === 0
    ? 0n
    : (BigInt(w[j]!) << 96n) | (BigInt(w[j + 1]!) << 64n) | (BigInt(w[j + 2]!) << 32n) | BigInt(w[j + 3]!);

/** `f` with the fields of the free words (FREE_WORDS order) as keyToFlow reads them from `w`. */
function withFree(f: Flow, w: readonly number[]): Flow {
  return withFlow(f, {
    nw_src: w[0]!,
    nw_dst: w[1]!,
    ipv6_src: word128(w, 2),
    ipv6_dst: word128(w, 6),
    tp_src: w[10]!,
    tp_dst: w[11]!,
  });
}

/** The result of traceFlow: `flow` is the first pass's, rendered when read. */
class Result implements TraceResult {
  readonly version = 1 as const;
  readonly bridge: string;
  readonly passes: readonly TracePass[];
  constructor(bridge: string, passes: readonly TracePass[]) {
    this.bridge = bridge;
    this.passes = passes;
  }
  get flow(): string {
    return this.passes[0]!.flow;
  }
  toJSON(): object {
    return { version: this.version, bridge: this.bridge, flow: this.flow, passes: this.passes };
  }
}

/** `bridge("NAME")`, the title of a bridge's part of the trace, per bridge. */
const BRIDGE_TITLE = new WeakMap<Bridge, string>();
function bridgeTitle(b: Bridge): string {
  let t = BRIDGE_TITLE.get(b);
  if (t === undefined) {
    t = `bridge("${b.name}")`;
    BRIDGE_TITLE.set(b, t);
  }
  return t;
}

/**
 * Traces `flow` through `bridgeName` of `sw`, as `ovs-appctl ofproto/trace BRIDGE FLOW
 * [--ct-next FLAGS]...` does. Never throws for data-plane outcomes (drops, loops, misses):
 * those are steps of the trace. Throws SimError for an unknown bridge.
 */
export function traceFlow(sw: Switch, bridgeName: string, flow: Flow, opts: TraceOptions = {}): TraceResult {
  const bridge = sw.bridge(bridgeName);
  const scratchMark = scratchTop;
  const cache = opts.cache ? cacheOf(sw) : null;
  if (cache) {
    const key = flowToKey(flow, takeKey());
    if (opts.inPort !== undefined) key[W.in_port] = opts.inPort;
    const hit = cache.find(sw, bridge, opts, key);
    let freeW: number[] | null = null;
    if (hit) {
      freeW = new Array<number>(FREE_WORDS.length);
      for (let j = 0; j < FREE_WORDS.length; j++) freeW[j] = key[FREE_WORDS[j]!]!;
    }
    scratchTop = scratchMark;
    if (hit) {
      // What the translation gave, for this packet: no side effects, no conntrack, nothing learned.
      const pass = new Pass(
        null,
        hit.nodes,
        hit.datapathActions,
        null,
        false,
        flow,
        opts.inPort,
        null,
        hit.changed,
        hit.same,
        namesOf({ opts }, bridge),
        hit.mega,
        hit,
        freeW,
      );
      const out = new Result(bridgeName, [pass]);
      if (opts.conntrack)
        Object.defineProperty(out, "conntrack", { value: opts.conntrack, enumerable: false });
      if (opts.sideEffects) Object.defineProperty(out, "learned", { value: [], enumerable: false });
      return out;
    }
  }
  const queue: RecircNode[] = [];
  const recircIds: Shared = { next: 1, byState: new Map(), passLocal: [], ct: opts.conntrack, learned: [] };
  const passes: TracePass[] = [];
  try {
    const key = flowToKey(flow, takeKey());
    if (opts.inPort !== undefined) key[W.in_port] = opts.inPort;
    const probe: CacheProbe | null = cache ? { free: null, normals: NO_CHECKS } : null;
    const pass = runPass(sw, bridge, key, null, null, queue, recircIds, opts, flow, opts.inPort, probe);
    passes.push(pass);
    if (queue.length) runRecircs(sw, bridge, passes, queue, recircIds, opts);
    else if (cache && probe?.free) cache.remember(sw, bridge, opts, flow, pass as Pass, probe);
  } finally {
    scratchTop = scratchMark;
  }
  // The first pass's flow text is rendered when read (a caller following the packet never asks).
  const out = new Result(bridgeName, passes);
  if (recircIds.ct) Object.defineProperty(out, "conntrack", { value: recircIds.ct, enumerable: false });
  if (opts.sideEffects) {
    for (const { bridge: b, entry } of recircIds.learned) b.addFlow(entry);
    Object.defineProperty(out, "learned", {
      value: recircIds.learned.map((l) => l.entry),
      enumerable: false,
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Remembered translations (opt-in: TraceOptions.cache)

/**
 * The packet words a remembered translation lets vary, inside its megaflow: the addresses and
 * ports, which translation reads only through the classifier (which un-wildcards every bit it
 * looks at). Every other word must be equal, whatever the megaflow says of it: that keeps what
 * the megaflow leaves implicit (the VLAN stack's depth, conntrack state, in_port on patch
 * crossings) out of the question.
 */
const FREE_WORDS: readonly number[] = [
  W.nw_src,
  W.nw_dst,
  W.ipv6_src,
  W.ipv6_src + 1,
  W.ipv6_src + 2,
  W.ipv6_src + 3,
  W.ipv6_dst,
  W.ipv6_dst + 1,
  W.ipv6_dst + 2,
  W.ipv6_dst + 3,
  W.tp_src,
  W.tp_dst,
];
/** Per key word: its index in FREE_WORDS, or -1. */
const FREE_INDEX = new Int8Array(FLOW_WORDS).fill(-1);
FREE_WORDS.forEach((w, j) => {
  FREE_INDEX[w] = j;
});
/** The other words. */
const FIXED_WORDS = Int16Array.from({ length: FLOW_WORDS }, (_, i) => i).filter((i) => FREE_INDEX[i]! < 0);

/** A hash of the fixed words (FNV-1a over words). */
function hashFixed(key: Uint32Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < FIXED_WORDS.length; i++) h = Math.imul(h ^ key[FIXED_WORDS[i]!]!, FNV);
  return h;
}

/** Whether writing `f` changes a free word (such a translation is not remembered). */
function writesFreeWord(f: FieldSpec): boolean {
  const n = f.bits > 32 ? Math.ceil(f.bits / 32) : 1;
  for (let i = 0; i < n; i++) if (FREE_INDEX[f.word + i]! >= 0) return true;
  return false;
}

/**
 * Action kinds a remembered translation may contain: their effect on the packet, the trace and
 * the datapath actions is a function of the bits the megaflow holds (set_field into a free word,
 * output_trunc and output to CONTROLLER or to a tunnel are refused where they are translated).
 * The others — ct, learn, groups, controller, move, multipath, bundle, the stack, MPLS, the
 * action set, check_pkt_larger, dec_ttl, … — are never remembered.
 */
const CACHE_SAFE: Readonly<Record<string, boolean>> = {
  output: true,
  resubmit: true,
  goto_table: true,
  set_field: true,
  set_eth: true,
  push_vlan: true,
  pop_vlan: true,
  set_vlan_vid: true,
  set_vlan_pcp: true,
  write_metadata: true,
  note: true,
  exit: true,
  clone: true,
  sample: true,
  fin_timeout: true,
};

/** One MAC table lookup a NORMAL decision rested on (mac_learning_lookup). */
interface NormalCheck {
  readonly bridge: Bridge;
  readonly macs: MacTable;
  /** The VLAN the frame was switched in; undefined when NORMAL dropped it before looking. */
  readonly vlan: number | undefined;
  readonly dst: number;
  readonly port: number | undefined;
}
const NO_CHECKS: readonly NormalCheck[] = [];

/** What runPass leaves for XlateCache.remember when the translation may be remembered. */
interface CacheProbe {
  /** The megaflow mask of the free words. */
  free: Uint32Array | null;
  normals: readonly NormalCheck[];
}

/** One remembered translation: what every packet of its megaflow gets. */
interface Remembered {
  readonly bridge: Bridge;
  readonly names: boolean;
  /** The mask of the free words (interned: the same array for the same mask). */
  readonly free: Uint32Array;
  /** The received packet, its free words masked. */
  readonly key: Uint32Array;
  readonly nodes: TraceNode[];
  readonly datapathActions: string;
  readonly changed: readonly number[];
  readonly same: boolean;
  readonly mega: MegaText;
  readonly normals: readonly NormalCheck[];
  /** The packet as received and as it left (every packet of the megaflow: these, but its free words). */
  readonly start: Flow;
  readonly final: Flow;
  /** The switch's bridges and their versions when the translation ran. */
  readonly bridges: readonly Bridge[];
  readonly versions: readonly number[];
}

const FNV = 0x01000193;
const CACHE_MAX = 4096;

/**
 * ovs-vswitchd's megaflow cache, for a caller tracing many packets of few megaflows (a tracer
 * following one connection after another): a translation whose outcome is a function of the
 * bits its megaflow holds — no side effects, no recirculation, no state but the MAC table it
 * looked up — is remembered, and a packet inside that megaflow gets the same trace tree, the
 * same datapath actions and megaflow, and its own Flow and Final flow. Packets may differ only
 * in the free words (under the megaflow mask); the masks in use are few, and each is probed as
 * OVS's datapath probes its masks. An entry is dropped when a bridge changed (rules, groups,
 * ports) or a MAC lookup NORMAL rested on now answers differently.
 */
class XlateCache {
  /** The distinct free-word masks of the entries. */
  readonly frees: Uint32Array[] = [];
  readonly byHash = new Map<number, Remembered[]>();
  size = 0;

  find(sw: Switch, bridge: Bridge, opts: TraceOptions, key: Uint32Array): Remembered | undefined {
    if (this.size === 0) return undefined;
    const h0 = hashFixed(key);
    const names = opts.names === true;
    for (let m = 0; m < this.frees.length; m++) {
      const free = this.frees[m]!;
      let h = h0;
      for (let j = 0; j < FREE_WORDS.length; j++) h = Math.imul(h ^ (key[FREE_WORDS[j]!]! & free[j]!), FNV);
      const list = this.byHash.get(h);
      if (!list) continue;
      for (let e = 0; e < list.length; e++) {
        const r = list[e]!;
        if (r.free !== free || r.bridge !== bridge || r.names !== names || !sameKey(r, key)) continue;
        if (valid(r, sw, opts)) return r;
        list.splice(e, 1);
        this.size--;
        return undefined;
      }
    }
    return undefined;
  }

  remember(sw: Switch, bridge: Bridge, opts: TraceOptions, flow: Flow, pass: Pass, probe: CacheProbe): void {
    if (this.size >= CACHE_MAX) {
      this.byHash.clear();
      this.frees.length = 0;
      this.size = 0;
    }
    let free = probe.free!;
    const known = this.frees.find((f) => f.every((v, j) => v === free[j]));
    if (known) free = known;
    else this.frees.push(free);
    const key = flowToKey(flow, new Uint32Array(FLOW_WORDS));
    if (opts.inPort !== undefined) key[W.in_port] = opts.inPort;
    let h = hashFixed(key);
    for (let j = 0; j < FREE_WORDS.length; j++) {
      const w = FREE_WORDS[j]!;
      key[w] = (key[w]! & free[j]!) >>> 0;
      h = Math.imul(h ^ key[w]!, FNV);
    }
    const bridges = [...sw.bridges.values()];
    const r: Remembered = {
      bridge,
      names: opts.names === true,
      free,
      key,
      nodes: pass.nodes,
      datapathActions: pass.datapathActions,
      changed: pass.changedWords,
      same: pass.unchanged,
      mega: pass.megaText,
      normals: probe.normals,
      start: pass.start,
      final: pass.final,
      bridges,
      versions: bridges.map((b) => b.version),
    };
    const list = this.byHash.get(h);
    if (list) list.push(r);
    else this.byHash.set(h, [r]);
    this.size++;
  }
}

function sameKey(r: Remembered, key: Uint32Array): boolean {
  const k = r.key;
  for (let i = 0; i < FIXED_WORDS.length; i++) {
    const w = FIXED_WORDS[i]!;
    if (key[w] !== k[w]) return false;
  }
  const free = r.free;
  for (let j = 0; j < FREE_WORDS.length; j++) {
    const w = FREE_WORDS[j]!;
    if ((key[w]! & free[j]!) >>> 0 !== k[w]) return false;
  }
  return true;
}

/** The MAC table NORMAL consults in `b`. */
function macsOf(sw: Switch, opts: TraceOptions, b: Bridge): MacTable {
  return opts.macTables?.get(b.name) ?? sw.macTables.get(b.name) ?? EMPTY_MACS;
}

/** Whether what the remembered translation rested on is still so. */
function valid(r: Remembered, sw: Switch, opts: TraceOptions): boolean {
  if (sw.bridges.size !== r.bridges.length) return false;
  for (let i = 0; i < r.bridges.length; i++) {
    const b = r.bridges[i]!;
    if (sw.bridges.get(b.name) !== b || b.version !== r.versions[i]) return false;
  }
  for (let i = 0; i < r.normals.length; i++) {
    const c = r.normals[i]!;
    if (macsOf(sw, opts, c.bridge) !== c.macs) return false;
    if (c.vlan !== undefined && c.macs.lookup(c.vlan, c.dst, 0) !== c.port) return false;
  }
  return true;
}

const CACHES = new WeakMap<Switch, XlateCache>();
function cacheOf(sw: Switch): XlateCache {
  let c = CACHES.get(sw);
  if (!c) {
    c = new XlateCache();
    CACHES.set(sw, c);
  }
  return c;
}

/** The recirculations the passes queued, each traced as a pass of its own, in order. */
function runRecircs(
  sw: Switch,
  bridge: Bridge,
  passes: TracePass[],
  queue: RecircNode[],
  recircIds: Shared,
  opts: TraceOptions,
): void {
  const ctNext = [...(opts.ctNext ?? [])];
  while (queue.length) {
    const n = queue.shift()!;
    if (passes.length > MAX_RECIRC_PASSES) {
      const last = passes[passes.length - 1]!;
      // A plain copy, as a spread of the pass (its texts, without `packets`).
      const json = (last as Pass).toJSON() as TracePass;
      passes[passes.length - 1] = { ...json, error: last.error ?? "Recirculation depth exceeded" };
      break;
    }
    const mark = scratchTop;
    const k = unpackInto(n.key, takeKey());
    const stateful = n.ctState !== undefined;
    const dflt = ctNext.length === 0 && !stateful;
    const st = ctNext.length ? ctNext.shift()! : stateful ? n.ctState! : CS.trk | CS.new;
    k[W.ct_state] = st;
    let nat: RecircHeader["nat"] = null;
    if (n.nat && n.preNat) {
      const af = n.nat.af === "none" ? "ipv4" : n.nat.af;
      nat = { initial: ipFlowText(unpackInto(n.preNat, takeKey()), af), modified: "" };
      nat = { ...nat, modified: ipFlowText(k, af) };
    } else if (n.nat) {
      const initial = ipFlowText(k, n.nat.af);
      const af = n.nat.af;
      if (n.nat.kind === "src" || n.nat.kind === "dst") {
        const src = n.nat.kind === "src";
        if (af === "ipv4") k[src ? W.nw_src : W.nw_dst] = Number(n.nat.addrMin) >>> 0;
        else if (af === "ipv6")
          writeField(k, { ...F("ipv6_src"), word: src ? W.ipv6_src : W.ipv6_dst }, n.nat.addrMin);
        if (af !== "none" && n.nat.portMin) k[src ? W.tp_src : W.tp_dst] = n.nat.portMin;
      }
      nat = { initial, modified: ipFlowText(k, af) };
    }
    const header: RecircHeader = { id: n.id, ctState: ctStateText(st), default: dflt, nat };
    passes.push(
      runPass(
        sw,
        bridge,
        k,
        {
          bridge: n.bridge,
          table: n.table,
          conntracked: n.conntracked,
          ...(n.dpHash ? { dpHash: n.dpHash } : {}),
        },
        header,
        queue,
        recircIds,
        opts,
        null,
        undefined,
        null,
      ),
    );
    scratchTop = mark;
  }
}

/** Parses `--ct-next` flags (`trk,est`, `+trk+new`, `trk|new`) as OVS parse_ct_state does. */
export function parseCtState(text: string): number {
  let bits = 0;
  for (const part of text.split(/[,|+]/)) {
    const p = part.trim();
    if (!p) continue;
    const b = (CS as Record<string, number>)[p];
    if (b === undefined) throw new SimError("BAD_VALUE", `--ct-next ${text}: unknown ct_state flag "${p}"`);
    bits |= b;
  }
  return bits;
}

export { CT_MARK };
