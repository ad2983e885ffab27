/**
 * A flow as text, both ways, as `ovs-appctl ofproto/trace` reads and prints it.
 *
 * `parseFlow` mirrors upstream `parse_ofp_exact_flow()` (lib/ofp-flow.c): the match syntax read
 * as one exact packet, fields applied left to right, each field's prerequisites checked against
 * what came before it (so `tp_dst=80,tcp` and `udp,tp_src=53` fail as in OVS: tp_src/tp_dst are
 * aliases of tcp_src/tcp_dst), no masks, a field given twice is an error, and an absent in_port
 * becomes OFPP_NONE. `formatFlow` mirrors `flow_format()` (lib/flow.c): the match that
 * `match_wc_init()` builds for the packet, minus the all-zero metadata, printed by match_format().
 */
import { SimError } from "./errors.js";
import { type FieldSpec, findField, tunMetadataIndex } from "./fields.js";
import { ETH_TYPE, type Flow, FRAG, IP_PROTO, OFPP } from "./flow.js";
import { FLOW_WORDS, flowToKey, keyToFlow, newKey, W } from "./key.js";
import { TUN_FLAG, TUN_FLAGS_PUBLIC, tunnelDstSet } from "./tunnel.js";
import {
  CT_TUPLE_FIELDS,
  type FormatMatchOptions,
  fieldWordMask,
  formatMatchWords,
  getFieldValue,
  type Match,
  type MatchWords,
  PROTOCOLS,
  parseFieldValue,
  splitKeyValues,
  wordsToMatch,
} from "./match.js";

export interface ParseFlowOptions {
  /** OpenFlow port names of the bridge, for `in_port=NAME`. */
  readonly ports?: ReadonlyMap<string, number>;
  /**
   * Also accept what OVS prints but does not read back: `tp_src`/`tp_dst` on UDP, SCTP and IGMP
   * flows, `icmp_type`/`icmp_code` on ICMPv6 flows, `nd_sll` and `nd_tll` on any neighbour
   * discovery packet (flow_format prints those). Off by default,
   * so that `udp,tp_src=53` fails exactly as in `ofproto/trace`.
   */
  readonly lenient?: boolean;
}

const CT_VALID_BITS = 0x01 | 0x02 | 0x04 | 0x08 | 0x40 | 0x80; // new est rel rpl snat dnat

/**
 * The mask OVS's match_wc_init() gives a packet (flow_wildcards_init_for_packet plus registers
 * and metadata): every field that makes sense for the packet's protocols.
 */
export function packetMask(flow: Flow, key: Uint32Array = flowToKey(flow)): Uint32Array {
  const m = new Uint32Array(FLOW_WORDS);
  const full = (w: number, n = 1, bits = 0xffffffff): void => {
    for (let i = 0; i < n; i++) m[w + i] = bits;
  };
  full(W.skb_priority);
  full(W.pkt_mark);
  full(W.ct_state, 1, 0xff);
  full(W.ct_zone, 1, 0xffff);
  full(W.ct_mark);
  full(W.ct_label, 4);
  full(W.recirc_id);
  full(W.dp_hash);
  full(W.in_port, 1, 0xffff);
  full(W.dl_dst, 2);
  full(W.dl_src, 2);
  full(W.dl_type, 1, 0xffff);
  full(W.vlan0, 1, 0xffff);
  if (key[W.vlan0]! & 0xffff) full(W.vlan1, 1, 0xffff);
  full(W.reg0, 16);
  full(W.metadata, 2);
  // flow_wildcards_init_for_packet(): a tunnelled packet's whole tunnel key (tun_id only with
  // the key flag), else tun_id alone when set.
  const t = flow.tunnel;
  if (tunnelDstSet(t)) {
    if (t.tun_flags & TUN_FLAG.key) full(W.tun_id, 2);
    full(W.tun_src);
    full(W.tun_dst);
    full(W.tun_ipv6_src, 4);
    full(W.tun_ipv6_dst, 4);
    full(W.tun_flags, 1, 0xffff);
    full(W.tun_tos, 1, 0xff);
    full(W.tun_ttl, 1, 0xff);
    full(W.tun_gbp_id, 1, 0xffff);
    full(W.tun_gbp_flags, 1, 0xff);
    if (t.present) {
      m[W.tun_md_present] = key[W.tun_md_present]!;
      m[W.tun_md_present + 1] = key[W.tun_md_present + 1]!;
      full(W.tun_metadata0, 64);
    }
  } else if (t.tun_id) full(W.tun_id, 2);
  const dl = flow.dl_type;
  const proto = flow.nw_proto;
  let ipAny = false;
  if (dl === ETH_TYPE.ip) {
    full(W.nw_src);
    full(W.nw_dst);
    full(W.ct_nw_src);
    full(W.ct_nw_dst);
    ipAny = true;
  } else if (dl === ETH_TYPE.ipv6) {
    full(W.ipv6_src, 4);
    full(W.ipv6_dst, 4);
    full(W.ipv6_label);
    let nd = false;
    if (proto === IP_PROTO.icmpv6) {
      full(W.tp_dst, 1, 0xffff);
      if (flow.tp_dst === 0) {
        full(W.tp_src, 1, 0xffff);
        nd = flow.tp_src === 135 || flow.tp_src === 136;
      }
    }
    if (nd) {
      full(W.arp_sha, 2);
      full(W.arp_tha, 2);
      full(W.nd_target, 4);
    } else {
      full(W.ct_ipv6_src, 4);
      full(W.ct_ipv6_dst, 4);
    }
    ipAny = true;
  } else if (dl === ETH_TYPE.arp || dl === ETH_TYPE.rarp) {
    full(W.nw_src);
    full(W.nw_dst);
    full(W.nw_proto, 1, 0xff);
    full(W.arp_sha, 2);
    full(W.arp_tha, 2);
  } else if (dl === ETH_TYPE.mpls || dl === ETH_TYPE.mplsm) {
    // flow_wildcards_init_for_packet(): every label stack entry down to the bottom of stack.
    for (const w of [W.mpls_lse, W.mpls_lse1, W.mpls_lse2]) {
      full(w);
      if (key[w]! & 0x100) break;
    }
  }
  if (ipAny) {
    full(W.nw_frag, 1, 3);
    full(W.nw_tos, 1, 0xff);
    full(W.nw_ttl, 1, 0xff);
    full(W.nw_proto, 1, 0xff);
    full(W.ct_nw_proto, 1, 0xff);
    full(W.ct_tp_src, 1, 0xffff);
    full(W.ct_tp_dst, 1, 0xffff);
    if (
      !(flow.nw_frag & FRAG.later) &&
      (proto === IP_PROTO.icmp ||
        proto === IP_PROTO.icmpv6 ||
        proto === IP_PROTO.tcp ||
        proto === IP_PROTO.udp ||
        proto === IP_PROTO.sctp ||
        proto === 2)
    ) {
      full(W.tp_src, 1, 0xffff);
      full(W.tp_dst, 1, 0xffff);
      if (proto === IP_PROTO.tcp) full(W.tcp_flags, 1, 0x0fff);
    }
  }
  return m;
}

/** An exact match for one packet: `match_wc_init()` (the fields that make sense for it). */
export function exactMatch(flow: Flow): Match {
  const key = flowToKey(flow);
  return wordsToMatch(key, packetMask(flow, key), true);
}

/** The words OVS's flow_format() prints for `flow`: match_wc_init() minus the all-zero context. */
export function flowPrintMask(flow: Flow, key: Uint32Array = flowToKey(flow)): Uint32Array {
  const m = packetMask(flow, key);
  const dl = flow.dl_type;
  // flow_format(): hide the all-zero packet context.
  const zero1 = (w: number): void => {
    if (key[w] === 0) m[w] = 0;
  };
  const zeroN = (w: number, n: number): void => {
    for (let i = 0; i < n; i++) if (key[w + i] !== 0) return;
    for (let i = 0; i < n; i++) m[w + i] = 0;
  };
  zero1(W.in_port);
  zero1(W.skb_priority);
  zero1(W.pkt_mark);
  zero1(W.recirc_id);
  zero1(W.dp_hash);
  zero1(W.ct_state);
  zero1(W.ct_zone);
  zero1(W.ct_mark);
  zeroN(W.ct_label, 4);
  const cs = flow.ct_state & 0xff;
  const ctValid =
    (cs & CT_VALID_BITS) !== 0 || ((cs & 0x20) !== 0 && (m[W.ct_state]! & 0x10) !== 0 && (cs & 0x10) === 0);
  if (!ctValid || !flow.ct_nw_proto) {
    m[W.ct_nw_proto] = 0;
    m[W.ct_tp_src] = 0;
    m[W.ct_tp_dst] = 0;
    if (dl === ETH_TYPE.ip) {
      m[W.ct_nw_src] = 0;
      m[W.ct_nw_dst] = 0;
    } else if (dl === ETH_TYPE.ipv6) {
      for (let i = 0; i < 4; i++) {
        m[W.ct_ipv6_src + i] = 0;
        m[W.ct_ipv6_dst + i] = 0;
      }
    }
  }
  for (let i = 0; i < 16; i++) zero1(W.reg0 + i);
  zeroN(W.metadata, 2);
  return m;
}

/**
 * Prints a flow exactly as OVS 3.1 prints the `Flow:` and `Final flow:` lines of
 * `ofproto/trace` (flow_format). Ports print as numbers or reserved names (LOCAL, ANY…), or
 * as names from `opts.portNames` (what `--names` does).
 */
export function formatFlow(flow: Flow, opts: FormatMatchOptions = {}): string {
  const key = flowToKey(flow);
  const mw: MatchWords = { value: key, mask: flowPrintMask(flow, key), eth: true };
  const text = formatMatchWords(mw, {
    ...(opts.portNames ? { portNames: opts.portNames } : {}),
    ...(tunnelDstSet(flow.tunnel) ? { tunnel: { zeroFields: true } } : {}),
  });
  return text;
}

const LENIENT_L4 = new Set(["tcp_src", "tcp_dst"]);

/** OVS mf_are_prereqs_ok() against the flow read so far. */
function flowPrereqOk(s: FieldSpec, key: Uint32Array, lenient: boolean): boolean {
  const dl = key[W.dl_type]!;
  const proto = key[W.nw_proto]!;
  const ip4 = dl === ETH_TYPE.ip;
  const ip6 = dl === ETH_TYPE.ipv6;
  const ipAny = ip4 || ip6;
  const icmp6 = ip6 && proto === IP_PROTO.icmpv6;
  const nd = icmp6 && key[W.tp_dst] === 0 && (key[W.tp_src] === 135 || key[W.tp_src] === 136);
  const later = (key[W.nw_frag]! & FRAG.later) !== 0;
  if (lenient && LENIENT_L4.has(s.name)) return ipAny && !later; // flow_format prints tp_src/tp_dst for UDP, SCTP, IGMP
  if (lenient && (s.name === "icmp_type" || s.name === "icmp_code") && icmp6) return true;
  if (lenient && (s.name === "nd_sll" || s.name === "nd_tll")) return nd; // both print for any ND packet
  // MFP_CT_VALID on a packet: ct_state says new, established or reply.
  // (Lenient: is_ct_valid() as flow_format applies it, which also counts rel/snat/dnat and +trk-inv.)
  if (CT_TUPLE_FIELDS.has(s.name)) {
    const cs = key[W.ct_state]! & 0xff;
    if (!lenient) return (cs & 0x0b) !== 0;
    return (cs & CT_VALID_BITS) !== 0 || ((cs & 0x20) !== 0 && (cs & 0x10) === 0);
  }
  switch (s.prereq) {
    case "none":
      return true;
    case "vlan":
      return (key[W.vlan0]! & 0x1000) !== 0;
    case "ip":
      return ip4;
    case "ipv6":
      return ip6;
    case "ip_any":
      return ipAny;
    case "arp":
      return dl === ETH_TYPE.arp || dl === ETH_TYPE.rarp;
    case "mpls":
      return dl === ETH_TYPE.mpls || dl === ETH_TYPE.mplsm;
    // MFP_TCP/UDP/SCTP also require "not a later fragment" (mf_are_prereqs_ok).
    case "tcp":
      return ipAny && proto === IP_PROTO.tcp && !later;
    case "udp":
      return ipAny && proto === IP_PROTO.udp && !later;
    case "sctp":
      return ipAny && proto === IP_PROTO.sctp && !later;
    case "icmp":
      return ip4 && proto === IP_PROTO.icmp;
    case "icmpv6":
      return icmp6;
    case "nd":
      return nd;
    case "nd_sol":
      return nd && key[W.tp_src] === 135;
    case "nd_adv":
      return nd && key[W.tp_src] === 136;
  }
}

function isAllOnes(s: FieldSpec, mask: number | bigint): boolean {
  if (s.format === "frag") return Number(mask) === 3;
  if (s.format === "tun_flags") return Number(mask) === TUN_FLAGS_PUBLIC;
  if (typeof mask === "bigint") return mask === (1n << BigInt(s.bits)) - 1n;
  if (s.format === "mac") return mask === 0xffffffffffff;
  return mask === fieldWordMask(s) >>> s.shift;
}

/** Writes a field's value into an exact flow key (mf_set_flow_value). */
function setFlowField(key: Uint32Array, s: FieldSpec, value: number | bigint): void {
  if (s.bits <= 32) {
    const fm =
      s.name === "nw_tos"
        ? 0xfc
        : s.name === "arp_op"
          ? 0xff
          : s.bits >= 32
            ? 0xffffffff
            : ((2 ** s.bits - 1) << s.shift) >>> 0;
    key[s.word] = ((key[s.word]! & ~fm) | ((Number(value) << s.shift) & fm)) >>> 0;
    if (s.implied) key[s.word] = (key[s.word]! | s.implied.value) >>> 0;
    return;
  }
  if (s.format === "mac") {
    const n = Number(value);
    key[s.word] = Math.floor(n / 0x100000000) & 0xffff;
    key[s.word + 1] = n >>> 0;
    return;
  }
  let b = BigInt(value);
  const n = Math.ceil(s.bits / 32);
  for (let i = n - 1; i >= 0; i--) {
    key[s.word + i] = Number(b & 0xffffffffn);
    b >>= 32n;
  }
}

/**
 * Parses a flow in `ofproto/trace` syntax (`in_port=1,dl_vlan=341,tcp,nw_src=192.0.2.10,tp_dst=80`)
 * into an exact Flow; unspecified fields are 0, an absent in_port is OFPP_NONE (65535) as in OVS.
 * Also reads every `Flow:` line OVS prints (`eth`, `vlan_tci1=`, `dl_vlan1=` are accepted).
 */
export function parseFlow(text: string, opts: ParseFlowOptions = {}): Flow {
  if (text.includes("(")) {
    throw new SimError(
      "UNSUPPORTED",
      `"${text}": datapath (ODP) flow syntax is not supported; use the OpenFlow syntax`,
    );
  }
  const key = newKey();
  const lenient = opts.lenient ?? false;
  for (const kv of splitKeyValues(text)) {
    const proto = kv.hasValue ? undefined : PROTOCOLS.get(kv.key);
    if (proto) {
      if (key[W.dl_type])
        throw new SimError("CONFLICT", `${kv.key}: Ethernet type set multiple times in "${text}"`);
      key[W.dl_type] = proto.dl_type;
      if (proto.nw_proto) {
        if (key[W.nw_proto])
          throw new SimError("CONFLICT", `${kv.key}: network protocol set multiple times in "${text}"`);
        key[W.nw_proto] = proto.nw_proto;
      }
      continue;
    }
    if (kv.key === "eth" && !kv.hasValue) continue; // packet_type=eth, the only kind modelled
    const s = findField(kv.key);
    if (!s) throw new SimError("UNKNOWN_FIELD", `${kv.key}: unknown field in "${text}"`);
    if (!flowPrereqOk(s, key, lenient)) {
      const hint =
        kv.key === "tp_src" || kv.key === "tp_dst"
          ? ` (${kv.key} means tcp_${kv.key.slice(3)}; use udp_${kv.key.slice(3)} or sctp_${kv.key.slice(3)} for those)`
          : "";
      throw new SimError(
        "PREREQUISITES",
        `${kv.key}: prerequisites not met for setting ${kv.key} in "${text}"${hint}`,
      );
    }
    const cur = getFieldValue(key, s);
    if (cur !== 0 && cur !== 0n)
      throw new SimError("DUPLICATE", `${kv.key}: field ${kv.key} set multiple times in "${text}"`);
    const pv = parseFieldValue(s, kv.value, kv.key, opts.ports);
    if (!isAllOnes(s, pv.mask))
      throw new SimError("BAD_MASK", `${kv.key}: "${kv.value}": wildcards not allowed here`);
    if (s.implied && s.shift === 0 && Number(pv.value) === 0xffff) {
      key[s.word] = 0; // OFP10_VLAN_NONE: no VLAN header
      continue;
    }
    setFlowField(key, s, pv.value);
    const md = tunMetadataIndex(s);
    if (md >= 0) {
      const w = W.tun_md_present + (md >>> 5);
      key[w] = (key[w]! | (1 << (md & 31))) >>> 0;
    }
  }
  if (key[W.in_port] === 0) key[W.in_port] = OFPP.NONE;
  const t0 = key[W.vlan0]! & 0xffff;
  const t1 = key[W.vlan1]! & 0xffff;
  if ((t0 && !(t0 & 0x1000)) || (t1 && !(t1 & 0x1000))) {
    throw new SimError("UNSUPPORTED", `"${text}": a VLAN TCI without the CFI (present) bit is not modelled`);
  }
  if (t1 && !t0) throw new SimError("UNSUPPORTED", `"${text}": an inner VLAN header needs an outer one`);
  if (t0) key[W.vlan0] = ((0x8100 << 16) | t0) >>> 0;
  if (t1) key[W.vlan1] = ((0x8100 << 16) | t1) >>> 0;
  return keyToFlow(key);
}
