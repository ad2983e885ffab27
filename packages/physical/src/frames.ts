/**
 * The frames the physical network exchanges, as `Flow` records (the packet package's flow key
 * is the one frame representation in ovnsim): ARP request/reply/gratuitous (RFC 826/5227, and
 * MetalLB's variant), IPv6 neighbour solicitation/advertisement (RFC 4861), and plain IP
 * datagrams. ARP and ND frames come from `@ovnsim/packet`'s builders (`arpRequest`, `arpReply`,
 * `ndSolicit`, `ndAdvert`); the wrappers here take physical's typed addresses and its NA flag
 * convention.
 *
 * Conventions (as OVS's flow extraction stores them): ARP opcode in `nw_proto`, SPA/TPA in
 * `nw_src`/`nw_dst`, SHA/THA in `arp_sha`/`arp_tha`; ICMPv6 type/code in `tp_src`/`tp_dst`;
 * ND source/target link-layer options in `arp_sha`/`arp_tha`. OVS keeps the NA R/S/O flags in
 * a field ovnsim's Flow lacks, so they ride in `tcp_flags` (R=0x4, S=0x2, O=0x1) — an ovnsim
 * convention local to this package.
 */
import {
  arpReply,
  arpRequest,
  EMPTY_FLOW,
  ETH_TYPE,
  type Flow,
  formatIp4,
  formatIp6,
  IP_PROTO,
  makePacket,
  ndAdvert,
  ndSolicit,
  type Packet,
  type VlanHeader,
  withFlow,
} from "@ovnsim/packet";
import type { IpAddr } from "./addr.js";

export const BROADCAST = 0xffffffffffff;
export const ARP_OP = { request: 1, reply: 2 } as const;
export const ICMP6 = { ns: 135, na: 136 } as const;
export const NA_FLAG = { router: 0x4, solicited: 0x2, override: 0x1 } as const;

/** ff02::1, all-nodes. */
export const ALL_NODES6 = 0xff020000000000000000000000000001n;

/** ff02::1:ffXX:XXXX for `ip` (RFC 4291 §2.7.1). */
export function solicitedNode(ip: bigint): bigint {
  return 0xff0200000000000000000001ff000000n | (ip & 0xffffffn);
}

/** 33:33 + low 32 bits of an IPv6 multicast group (RFC 2464 §7). */
export function multicastMac6(group: bigint): number {
  return 0x333300000000 + Number(group & 0xffffffffn);
}

const ip4Text = (a: IpAddr): string => formatIp4(Number(a.v));

/** NA_FLAG bits → the NA's first flag byte (R=0x80, S=0x40, O=0x20). */
function naFlagByte(flags: number): number {
  return (
    (flags & NA_FLAG.router ? 0x80 : 0) |
    (flags & NA_FLAG.solicited ? 0x40 : 0) |
    (flags & NA_FLAG.override ? 0x20 : 0)
  );
}

/**
 * An ARP packet (`@ovnsim/packet`'s `arpRequest`/`arpReply`, with physical's typed addresses).
 * For a gratuitous ARP, spa = tpa; MetalLB's gratuitous request and reply both carry
 * tha = ff:ff:ff:ff:ff:ff and go to broadcast.
 */
export function arpFrame(o: {
  readonly op: 1 | 2;
  readonly dlSrc: number;
  readonly dlDst: number;
  readonly sha: number;
  readonly spa: IpAddr;
  readonly tha: number;
  readonly tpa: IpAddr;
  readonly vlans?: readonly VlanHeader[];
}): Flow {
  const a = {
    dlSrc: o.dlSrc,
    dlDst: o.dlDst,
    sha: o.sha,
    spa: ip4Text(o.spa),
    tha: o.tha,
    tpa: ip4Text(o.tpa),
    ...(o.vlans && o.vlans.length > 0 ? { vlan: o.vlans } : {}),
  };
  return (o.op === ARP_OP.request ? arpRequest(a) : arpReply(a)).flow;
}

/**
 * A neighbour solicitation from `src` for `target` (`@ovnsim/packet`'s `ndSolicit`): to the
 * target's solicited-node group and its 33:33 MAC unless `dst`/`dlDst` say otherwise, with the
 * source link-layer option = `dlSrc`.
 */
export function nsFrame(o: {
  readonly dlSrc: number;
  readonly src: bigint;
  readonly target: bigint;
  readonly dst?: bigint;
  readonly dlDst?: number;
}): Flow {
  const dst = o.dst ?? solicitedNode(o.target);
  return ndSolicit({
    dlSrc: o.dlSrc,
    dlDst: o.dlDst ?? multicastMac6(dst),
    src: formatIp6(o.src),
    dst: formatIp6(dst),
    target: formatIp6(o.target),
  }).flow;
}

/**
 * A neighbour advertisement for `target` with target link-layer address `tll`
 * (`@ovnsim/packet`'s `ndAdvert`); `flags` in this package's tcp_flags convention (NA_FLAG).
 */
export function naFrame(o: {
  readonly dlSrc: number;
  readonly dlDst: number;
  readonly src: bigint;
  readonly dst: bigint;
  readonly target: bigint;
  readonly tll: number;
  readonly flags: number;
}): Flow {
  return fromPacket(
    ndAdvert({
      dlSrc: o.dlSrc,
      dlDst: o.dlDst,
      src: formatIp6(o.src),
      dst: formatIp6(o.dst),
      target: formatIp6(o.target),
      lladdr: o.tll,
      naFlags: naFlagByte(o.flags),
    }),
  );
}

/**
 * An IPv4 or IPv6 datagram (TCP/UDP/ICMP) between two addresses: the empty flow with these
 * fields (the same flow `makeFlow` gives; a trace sends one per connection).
 */
export function ipFrame(o: {
  readonly dlSrc: number;
  readonly dlDst: number;
  readonly src: IpAddr;
  readonly dst: IpAddr;
  readonly proto?: number;
  readonly tpSrc?: number;
  readonly tpDst?: number;
  readonly ttl?: number;
  readonly tcpFlags?: number;
}): Flow {
  const v6 = o.src.family === 6;
  const e = EMPTY_FLOW;
  return rewriteFrame(
    e,
    o.dlSrc,
    o.dlDst,
    v6 ? ETH_TYPE.ipv6 : ETH_TYPE.ip,
    e.vlans,
    v6 ? 0 : Number(o.src.v),
    v6 ? 0 : Number(o.dst.v),
    v6 ? o.src.v : 0n,
    v6 ? o.dst.v : 0n,
    o.proto ?? IP_PROTO.tcp,
    o.ttl ?? 64,
    o.tpSrc ?? 0,
    o.tpDst ?? 0,
    o.tcpFlags ?? 0,
  );
}

/**
 * `f` with its Ethernet, IP and transport header fields replaced: what `withFlow(f, {dl_src,
 * dl_dst, …})` gives (every field in EMPTY_FLOW's order, frozen, the frozen `vlans` kept as
 * given), written out as one literal. `withFlow` stores each changed field by name, and a
 * router's hop (new MACs, TTL) or a sent datagram (a dozen fields) cost 3-5x a plain copy.
 */
export function rewriteFrame(
  f: Flow,
  dlSrc: number,
  dlDst: number,
  dlType: number,
  vlans: readonly VlanHeader[],
  nwSrc: number,
  nwDst: number,
  ipv6Src: bigint,
  ipv6Dst: bigint,
  nwProto: number,
  nwTtl: number,
  tpSrc: number,
  tpDst: number,
  tcpFlags: number,
): Flow {
  const o: Flow = {
    recirc_id: f.recirc_id,
    dp_hash: f.dp_hash,
    in_port: f.in_port,
    skb_priority: f.skb_priority,
    pkt_mark: f.pkt_mark,
    ct_state: f.ct_state,
    ct_zone: f.ct_zone,
    ct_mark: f.ct_mark,
    ct_label: f.ct_label,
    ct_nw_src: f.ct_nw_src,
    ct_nw_dst: f.ct_nw_dst,
    ct_ipv6_src: f.ct_ipv6_src,
    ct_ipv6_dst: f.ct_ipv6_dst,
    ct_nw_proto: f.ct_nw_proto,
    ct_tp_src: f.ct_tp_src,
    ct_tp_dst: f.ct_tp_dst,
    metadata: f.metadata,
    regs: f.regs,
    tunnel: f.tunnel,
    dl_src: dlSrc,
    dl_dst: dlDst,
    dl_type: dlType,
    vlans: Object.isFrozen(vlans) ? vlans : Object.freeze([...vlans]),
    mpls_lse: f.mpls_lse,
    mpls_lse1: f.mpls_lse1,
    mpls_lse2: f.mpls_lse2,
    nw_src: nwSrc,
    nw_dst: nwDst,
    ipv6_src: ipv6Src,
    ipv6_dst: ipv6Dst,
    ipv6_label: f.ipv6_label,
    nw_proto: nwProto,
    nw_tos: f.nw_tos,
    nw_ttl: nwTtl,
    nw_frag: f.nw_frag,
    arp_sha: f.arp_sha,
    arp_tha: f.arp_tha,
    tp_src: tpSrc,
    tp_dst: tpDst,
    tcp_flags: tcpFlags,
    nd_target: f.nd_target,
  };
  return Object.freeze(o);
}

export function isNs(f: Flow): boolean {
  return f.dl_type === ETH_TYPE.ipv6 && f.nw_proto === IP_PROTO.icmpv6 && f.tp_src === ICMP6.ns;
}

export function isNa(f: Flow): boolean {
  return f.dl_type === ETH_TYPE.ipv6 && f.nw_proto === IP_PROTO.icmpv6 && f.tp_src === ICMP6.na;
}

/**
 * The frame as a packet-package `Packet`, ready for `encodeFrame`/pcap: ND messages get their
 * 4 flag bytes as payload (NA: R=0x80, S=0x40, O=0x20 from this package's tcp_flags convention),
 * and tcp_flags is cleared on them.
 */
export function toPacket(f: Flow): Packet {
  if (isNa(f)) {
    const b = naFlagByte(f.tcp_flags);
    return makePacket(withFlow(f, { tcp_flags: 0 }), { payload: Uint8Array.of(b, 0, 0, 0) });
  }
  if (isNs(f)) return makePacket(f, { payload: new Uint8Array(4) });
  return makePacket(f);
}

/** The inverse of `toPacket` for ND: NA flag bytes back into tcp_flags. */
export function fromPacket(p: Packet): Flow {
  const f = p.flow;
  if (!isNa(f)) return f;
  const b = p.payload[0] ?? 0;
  const flags =
    (b & 0x80 ? NA_FLAG.router : 0) | (b & 0x40 ? NA_FLAG.solicited : 0) | (b & 0x20 ? NA_FLAG.override : 0);
  return withFlow(f, { tcp_flags: flags });
}
