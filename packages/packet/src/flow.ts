/**
 * The flow key: what ovnsim knows about one packet at one point of its path, modelled on Open
 * vSwitch's `struct flow` (upstream `include/openvswitch/flow.h`, `lib/packets.h`). Every layer
 * (OpenFlow bridges, conntrack, the OVN logical pipeline, the physical network) reads and
 * writes this one record, so a field has one name everywhere: the OVS name (`in_port`,
 * `dl_vlan`, `nw_src`, `tp_dst`, `ct_state`).
 *
 * Representation. At the API a flow is plain readonly data: numbers for fields up to 48 bits
 * (a MAC is an exact integer below 2^48), bigint for 64- and 128-bit fields (metadata,
 * ct_label, IPv6 addresses). Inside, the classifier sees the same flow as a fixed array of
 * 32-bit words (see `key.ts`), so masking and hashing allocate nothing.
 *
 * As in OVS, some fields share storage: ARP's spa/tpa are nw_src/nw_dst, its opcode is
 * nw_proto, sha/tha double as ND's sll/tll, and ICMP type/code live in tp_src/tp_dst.
 */

import { EMPTY_TUNNEL, type FlowTunnel } from "./tunnel.js";

/** One 802.1Q/802.1ad header, as in OVS `union flow_vlan_hdr` (gopacket's Dot1Q). */
export interface VlanHeader {
  /** Tag protocol identifier: 0x8100 (802.1Q) or 0x88a8 (802.1ad). */
  readonly tpid: number;
  /** Priority code point, 0–7. */
  readonly pcp: number;
  /** VLAN id, 0–4095. */
  readonly vid: number;
}

export interface Flow {
  // Metadata
  readonly recirc_id: number /* Recirculation id; 0 for a packet that has not recirculated. */;
  readonly dp_hash: number /* Datapath-computed hash (select groups with dp_hash). */;
  readonly in_port: number /* Ingress OpenFlow port (OFPP_LOCAL = 0xfffe). */;
  readonly skb_priority: number /* Packet priority (QoS). */;
  readonly pkt_mark: number /* Packet mark. */;
  readonly ct_state: number /* CS_* bits (see CS). */;
  readonly ct_zone: number /* Conntrack zone, 16 bits. */;
  readonly ct_mark: number /* Conntrack mark, 32 bits. */;
  readonly ct_label: bigint /* Conntrack label, 128 bits. */;
  readonly ct_nw_src: number /* Original-direction IPv4 source of the connection. */;
  readonly ct_nw_dst: number /* Original-direction IPv4 destination (pre-DNAT VIP). */;
  readonly ct_ipv6_src: bigint /* Original-direction IPv6 source. */;
  readonly ct_ipv6_dst: bigint /* Original-direction IPv6 destination. */;
  readonly ct_nw_proto: number /* Original-direction IP protocol. */;
  readonly ct_tp_src: number /* Original-direction L4 source port. */;
  readonly ct_tp_dst: number /* Original-direction L4 destination port (pre-DNAT). */;
  readonly metadata: bigint /* OpenFlow metadata, 64 bits (OVN: logical datapath). */;
  readonly regs: readonly number[] /* reg0–reg15, u32 each; xreg/xxreg are views of these. */;
  readonly tunnel: FlowTunnel /* Tunnel metadata (EMPTY_TUNNEL when not tunnelled). */;

  // L2
  readonly dl_src: number /* Ethernet source, 48-bit integer. */;
  readonly dl_dst: number /* Ethernet destination, 48-bit integer. */;
  readonly dl_type: number /* Ethertype after the VLAN headers (0x0800, 0x86dd, 0x0806…). */;
  readonly vlans: readonly VlanHeader[] /* Outermost first, at most two (FLOW_MAX_VLAN_HEADERS). */;
  /** Top MPLS label stack entry, host order (label << 12 | tc << 9 | bos << 8 | ttl); 0 when not MPLS. */
  readonly mpls_lse: number;
  /** The second and third label stack entries (OVS mpls_lse[1..2]), whole LSEs; 0 when absent. */
  readonly mpls_lse1: number;
  readonly mpls_lse2: number;

  // L3
  readonly nw_src: number /* IPv4 source or ARP SPA. */;
  readonly nw_dst: number /* IPv4 destination or ARP TPA. */;
  readonly ipv6_src: bigint /* IPv6 source. */;
  readonly ipv6_dst: bigint /* IPv6 destination. */;
  readonly ipv6_label: number /* IPv6 flow label, 20 bits. */;
  readonly nw_proto: number /* IP protocol, or the low 8 bits of the ARP opcode. */;
  readonly nw_tos: number /* IP ToS byte: DSCP in the top 6 bits, ECN in the low 2. */;
  readonly nw_ttl: number /* IP TTL / IPv6 hop limit. */;
  readonly nw_frag: number /* FRAG_ANY | FRAG_LATER. */;
  readonly arp_sha: number /* ARP SHA, or ND source link-layer address. */;
  readonly arp_tha: number /* ARP THA, or ND target link-layer address. */;

  // L4
  readonly tp_src: number /* TCP/UDP/SCTP source port, or ICMP type. */;
  readonly tp_dst: number /* TCP/UDP/SCTP destination port, or ICMP code. */;
  readonly tcp_flags: number /* TCP flags, 12 bits. */;
  readonly nd_target: bigint /* IPv6 neighbour discovery target. */;
}

/** Conntrack state bits, as in OVS `CS_*` (lib/packets.h) and ovs-fields(7). */
export const CS = {
  new: 0x01,
  est: 0x02,
  rel: 0x04,
  rpl: 0x08,
  inv: 0x10,
  trk: 0x20,
  snat: 0x40,
  dnat: 0x80,
} as const;
export type CtStateFlag = keyof typeof CS;

/** nw_frag bits (OVS FLOW_NW_FRAG_*). */
export const FRAG = { any: 1, later: 2 } as const;

/** Ethertypes used by the model. */
export const ETH_TYPE = {
  ip: 0x0800,
  arp: 0x0806,
  vlan: 0x8100,
  qinq: 0x88a8,
  ipv6: 0x86dd,
  rarp: 0x8035,
  mpls: 0x8847,
  mplsm: 0x8848,
} as const;

/** IP protocol numbers used by the model. */
export const IP_PROTO = { icmp: 1, tcp: 6, udp: 17, icmpv6: 58, sctp: 132 } as const;

/** TCP flag bits (tcp_flags), as ovs-fields(7) names them. */
export const TCP_FLAG = {
  fin: 0x001,
  syn: 0x002,
  rst: 0x004,
  psh: 0x008,
  ack: 0x010,
  urg: 0x020,
  ece: 0x040,
  cwr: 0x080,
  ns: 0x100,
} as const;

/** Reserved OpenFlow port numbers (OpenFlow 1.0 16-bit space, as OVS prints them). */
export const OFPP = {
  IN_PORT: 0xfff8,
  TABLE: 0xfff9,
  NORMAL: 0xfffa,
  FLOOD: 0xfffb,
  ALL: 0xfffc,
  CONTROLLER: 0xfffd,
  LOCAL: 0xfffe,
  NONE: 0xffff,
} as const;

export const N_REGS = 16;

const ZERO_REGS: readonly number[] = Object.freeze(new Array<number>(N_REGS).fill(0));

/** The all-zero flow: every field 0, no VLAN, no registers set. */
export const EMPTY_FLOW: Flow = Object.freeze({
  recirc_id: 0,
  dp_hash: 0,
  in_port: 0,
  skb_priority: 0,
  pkt_mark: 0,
  ct_state: 0,
  ct_zone: 0,
  ct_mark: 0,
  ct_label: 0n,
  ct_nw_src: 0,
  ct_nw_dst: 0,
  ct_ipv6_src: 0n,
  ct_ipv6_dst: 0n,
  ct_nw_proto: 0,
  ct_tp_src: 0,
  ct_tp_dst: 0,
  metadata: 0n,
  regs: ZERO_REGS,
  tunnel: EMPTY_TUNNEL,
  dl_src: 0,
  dl_dst: 0,
  dl_type: 0,
  vlans: Object.freeze([]) as readonly VlanHeader[],
  mpls_lse: 0,
  mpls_lse1: 0,
  mpls_lse2: 0,
  nw_src: 0,
  nw_dst: 0,
  ipv6_src: 0n,
  ipv6_dst: 0n,
  ipv6_label: 0,
  nw_proto: 0,
  nw_tos: 0,
  nw_ttl: 0,
  nw_frag: 0,
  arp_sha: 0,
  arp_tha: 0,
  tp_src: 0,
  tp_dst: 0,
  tcp_flags: 0,
  nd_target: 0n,
});

/** A flow from a partial description; unspecified fields are zero. */
export function makeFlow(fields: Partial<Flow> = {}): Flow {
  const regs = fields.regs ? padRegs(fields.regs) : ZERO_REGS;
  return Object.freeze({ ...EMPTY_FLOW, ...fields, regs, vlans: Object.freeze([...(fields.vlans ?? [])]) });
}

/**
 * A copy of `flow` with some fields replaced (the packet is copied on every change, as ovn-trace
 * does). This is the hot path of conntrack and the tracers, so the copy is one object literal
 * listing every field in one order (every flow shares one V8 hidden class, no spread, no
 * dictionary mode), and frozen register/VLAN arrays are shared rather than copied again.
 */
export function withFlow(flow: Flow, c: Partial<Flow>): Flow {
  // The fields are read from `flow` (one hidden class) and only the changed ones from `c`:
  // reading all 45 names from the many shapes of `c` took most of the time.
  const o: Mutable<Flow> = {
    recirc_id: flow.recirc_id,
    dp_hash: flow.dp_hash,
    in_port: flow.in_port,
    skb_priority: flow.skb_priority,
    pkt_mark: flow.pkt_mark,
    ct_state: flow.ct_state,
    ct_zone: flow.ct_zone,
    ct_mark: flow.ct_mark,
    ct_label: flow.ct_label,
    ct_nw_src: flow.ct_nw_src,
    ct_nw_dst: flow.ct_nw_dst,
    ct_ipv6_src: flow.ct_ipv6_src,
    ct_ipv6_dst: flow.ct_ipv6_dst,
    ct_nw_proto: flow.ct_nw_proto,
    ct_tp_src: flow.ct_tp_src,
    ct_tp_dst: flow.ct_tp_dst,
    metadata: flow.metadata,
    regs: flow.regs,
    tunnel: flow.tunnel,
    dl_src: flow.dl_src,
    dl_dst: flow.dl_dst,
    dl_type: flow.dl_type,
    vlans: flow.vlans,
    mpls_lse: flow.mpls_lse,
    mpls_lse1: flow.mpls_lse1,
    mpls_lse2: flow.mpls_lse2,
    nw_src: flow.nw_src,
    nw_dst: flow.nw_dst,
    ipv6_src: flow.ipv6_src,
    ipv6_dst: flow.ipv6_dst,
    ipv6_label: flow.ipv6_label,
    nw_proto: flow.nw_proto,
    nw_tos: flow.nw_tos,
    nw_ttl: flow.nw_ttl,
    nw_frag: flow.nw_frag,
    arp_sha: flow.arp_sha,
    arp_tha: flow.arp_tha,
    tp_src: flow.tp_src,
    tp_dst: flow.tp_dst,
    tcp_flags: flow.tcp_flags,
    nd_target: flow.nd_target,
  };
  // One named store per changed field (a switch, not `o[k] = v`): a keyed store into a fresh
  // object of many shapes was most of the copy's cost.
  for (const k in c) {
    const v = c[k as keyof Flow];
    if (v === undefined || v === null) continue;
    switch (k) {
      case "recirc_id":
        o.recirc_id = v as Flow["recirc_id"];
        break;
      case "dp_hash":
        o.dp_hash = v as Flow["dp_hash"];
        break;
      case "in_port":
        o.in_port = v as Flow["in_port"];
        break;
      case "skb_priority":
        o.skb_priority = v as Flow["skb_priority"];
        break;
      case "pkt_mark":
        o.pkt_mark = v as Flow["pkt_mark"];
        break;
      case "ct_state":
        o.ct_state = v as Flow["ct_state"];
        break;
      case "ct_zone":
        o.ct_zone = v as Flow["ct_zone"];
        break;
      case "ct_mark":
        o.ct_mark = v as Flow["ct_mark"];
        break;
      case "ct_label":
        o.ct_label = v as Flow["ct_label"];
        break;
      case "ct_nw_src":
        o.ct_nw_src = v as Flow["ct_nw_src"];
        break;
      case "ct_nw_dst":
        o.ct_nw_dst = v as Flow["ct_nw_dst"];
        break;
      case "ct_ipv6_src":
        o.ct_ipv6_src = v as Flow["ct_ipv6_src"];
        break;
      case "ct_ipv6_dst":
        o.ct_ipv6_dst = v as Flow["ct_ipv6_dst"];
        break;
      case "ct_nw_proto":
        o.ct_nw_proto = v as Flow["ct_nw_proto"];
        break;
      case "ct_tp_src":
        o.ct_tp_src = v as Flow["ct_tp_src"];
        break;
      case "ct_tp_dst":
        o.ct_tp_dst = v as Flow["ct_tp_dst"];
        break;
      case "metadata":
        o.metadata = v as Flow["metadata"];
        break;
      case "tunnel":
        o.tunnel = v as Flow["tunnel"];
        break;
      case "dl_src":
        o.dl_src = v as Flow["dl_src"];
        break;
      case "dl_dst":
        o.dl_dst = v as Flow["dl_dst"];
        break;
      case "dl_type":
        o.dl_type = v as Flow["dl_type"];
        break;
      case "mpls_lse":
        o.mpls_lse = v as Flow["mpls_lse"];
        break;
      case "mpls_lse1":
        o.mpls_lse1 = v as Flow["mpls_lse1"];
        break;
      case "mpls_lse2":
        o.mpls_lse2 = v as Flow["mpls_lse2"];
        break;
      case "nw_src":
        o.nw_src = v as Flow["nw_src"];
        break;
      case "nw_dst":
        o.nw_dst = v as Flow["nw_dst"];
        break;
      case "ipv6_src":
        o.ipv6_src = v as Flow["ipv6_src"];
        break;
      case "ipv6_dst":
        o.ipv6_dst = v as Flow["ipv6_dst"];
        break;
      case "ipv6_label":
        o.ipv6_label = v as Flow["ipv6_label"];
        break;
      case "nw_proto":
        o.nw_proto = v as Flow["nw_proto"];
        break;
      case "nw_tos":
        o.nw_tos = v as Flow["nw_tos"];
        break;
      case "nw_ttl":
        o.nw_ttl = v as Flow["nw_ttl"];
        break;
      case "nw_frag":
        o.nw_frag = v as Flow["nw_frag"];
        break;
      case "arp_sha":
        o.arp_sha = v as Flow["arp_sha"];
        break;
      case "arp_tha":
        o.arp_tha = v as Flow["arp_tha"];
        break;
      case "tp_src":
        o.tp_src = v as Flow["tp_src"];
        break;
      case "tp_dst":
        o.tp_dst = v as Flow["tp_dst"];
        break;
      case "tcp_flags":
        o.tcp_flags = v as Flow["tcp_flags"];
        break;
      case "nd_target":
        o.nd_target = v as Flow["nd_target"];
        break;
      case "regs":
        if (v !== flow.regs) o.regs = ownRegs(v as readonly number[]);
        break;
      case "vlans":
        if (v !== flow.vlans) o.vlans = ownVlans(v as readonly VlanHeader[]);
        break;
    }
  }
  return Object.freeze(o);
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A copy of `flow` with register `i` set to `value`. */
export function withReg(flow: Flow, i: number, value: number): Flow {
  // An indexed copy: Array.prototype.slice of a frozen array takes V8's slow path (~1 µs).
  const regs = new Array<number>(N_REGS);
  for (let j = 0; j < N_REGS; j++) regs[j] = flow.regs[j] ?? 0;
  regs[i] = value >>> 0;
  return withFlow(flow, { regs: Object.freeze(regs) });
}

/** A frozen, well-formed register array is already immutable: share it; anything else is copied. */
const ownRegs = (regs: readonly number[]): readonly number[] =>
  regs.length === N_REGS && Object.isFrozen(regs) ? regs : padRegs(regs);

const ownVlans = (vlans: readonly VlanHeader[]): readonly VlanHeader[] =>
  Object.isFrozen(vlans) ? vlans : Object.freeze([...vlans]);

function padRegs(regs: readonly number[]): readonly number[] {
  const out = new Array<number>(N_REGS).fill(0);
  for (let i = 0; i < N_REGS && i < regs.length; i++) out[i] = (regs[i] ?? 0) >>> 0;
  return Object.freeze(out);
}

/** Whether the flow is IPv4, IPv6, ARP… by its dl_type. */
export const isIp4 = (f: Flow): boolean => f.dl_type === ETH_TYPE.ip;
export const isIp6 = (f: Flow): boolean => f.dl_type === ETH_TYPE.ipv6;
export const isArp = (f: Flow): boolean => f.dl_type === ETH_TYPE.arp || f.dl_type === ETH_TYPE.rarp;
export const isIpAny = (f: Flow): boolean => isIp4(f) || isIp6(f);
