/**
 * The frames the physical network exchanges, as `Flow` records (the packet package's flow key
 * is the one frame representation in ovnsim): ARP request/reply/gratuitous (RFC 826/5227, and
 * MetalLB's variant), IPv6 neighbour solicitation/advertisement (RFC 4861), and plain IP
 * datagrams. Until the packet package's frame builders land, these are the physical
 * package's own, small and local.
 *
 * Conventions (as OVS's flow extraction stores them): ARP opcode in `nw_proto`, SPA/TPA in
 * `nw_src`/`nw_dst`, SHA/THA in `arp_sha`/`arp_tha`; ICMPv6 type/code in `tp_src`/`tp_dst`;
 * ND source/target link-layer options in `arp_sha`/`arp_tha`. OVS keeps the NA R/S/O flags in
 * a field ovnsim's Flow lacks, so they ride in `tcp_flags` (R=0x4, S=0x2, O=0x1) — an ovnsim
 * convention local to this package.
 */
import {
  ETH_TYPE,
  type Flow,
  IP_PROTO,
  makeFlow,
  makePacket,
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

/** An ARP packet. For a gratuitous ARP, spa = tpa. */
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
  return makeFlow({
    dl_src: o.dlSrc,
    dl_dst: o.dlDst,
    dl_type: ETH_TYPE.arp,
    vlans: o.vlans ?? [],
    nw_proto: o.op,
    nw_src: Number(o.spa.v),
    nw_dst: Number(o.tpa.v),
    arp_sha: o.sha,
    arp_tha: o.tha,
  });
}

/** A neighbour solicitation from `src` for `target` (multicast to its solicited-node group, or unicast). */
export function nsFrame(o: {
  readonly dlSrc: number;
  readonly src: bigint;
  readonly target: bigint;
  readonly dst?: bigint;
  readonly dlDst?: number;
}): Flow {
  const dst = o.dst ?? solicitedNode(o.target);
  return makeFlow({
    dl_src: o.dlSrc,
    dl_dst: o.dlDst ?? multicastMac6(dst),
    dl_type: ETH_TYPE.ipv6,
    ipv6_src: o.src,
    ipv6_dst: dst,
    nw_proto: IP_PROTO.icmpv6,
    nw_ttl: 255,
    tp_src: ICMP6.ns,
    tp_dst: 0,
    nd_target: o.target,
    arp_sha: o.dlSrc,
  });
}

/** A neighbour advertisement for `target` with target link-layer address `tll`. */
export function naFrame(o: {
  readonly dlSrc: number;
  readonly dlDst: number;
  readonly src: bigint;
  readonly dst: bigint;
  readonly target: bigint;
  readonly tll: number;
  readonly flags: number;
}): Flow {
  return makeFlow({
    dl_src: o.dlSrc,
    dl_dst: o.dlDst,
    dl_type: ETH_TYPE.ipv6,
    ipv6_src: o.src,
    ipv6_dst: o.dst,
    nw_proto: IP_PROTO.icmpv6,
    nw_ttl: 255,
    tp_src: ICMP6.na,
    tp_dst: 0,
    nd_target: o.target,
    arp_tha: o.tll,
    tcp_flags: o.flags,
  });
}

/** An IPv4 or IPv6 datagram (TCP/UDP/ICMP) between two addresses. */
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
  return makeFlow({
    dl_src: o.dlSrc,
    dl_dst: o.dlDst,
    dl_type: v6 ? ETH_TYPE.ipv6 : ETH_TYPE.ip,
    ...(v6 ? { ipv6_src: o.src.v, ipv6_dst: o.dst.v } : { nw_src: Number(o.src.v), nw_dst: Number(o.dst.v) }),
    nw_proto: o.proto ?? IP_PROTO.tcp,
    nw_ttl: o.ttl ?? 64,
    tp_src: o.tpSrc ?? 0,
    tp_dst: o.tpDst ?? 0,
    tcp_flags: o.tcpFlags ?? 0,
  });
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
    const b =
      (f.tcp_flags & NA_FLAG.router ? 0x80 : 0) |
      (f.tcp_flags & NA_FLAG.solicited ? 0x40 : 0) |
      (f.tcp_flags & NA_FLAG.override ? 0x20 : 0);
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
