/**
 * Builders for the frames people trace: a TCP SYN from a client to a VIP on a VLAN, a UDP DNS
 * query, ARP requests and replies, ICMP/ICMPv6 echo, IPv6 neighbour solicitation and
 * advertisement. Each returns a Packet (flow key + payload), which `encodeFrame` turns into
 * real bytes and which every layer can trace. Endpoints are written as people write them:
 * "192.0.2.10:40000", "[2001:db8::1]:443".
 */
import { parseIp4, parseIp6, parseMac } from "./addr.js";
import { SimError } from "./errors.js";
import { ETH_TYPE, type Flow, IP_PROTO, makeFlow, TCP_FLAG, type VlanHeader } from "./flow.js";
import { makePacket, type Packet } from "./wire.js";

export type MacText = string | number;

export interface FrameOptions {
  readonly dlSrc?: MacText;
  readonly dlDst?: MacText;
  /** One 802.1Q tag by VLAN id, or full headers outermost first (at most two). */
  readonly vlan?: number | VlanHeader | readonly VlanHeader[];
  readonly inPort?: number;
  /** IP TTL / hop limit (default 64). */
  readonly ttl?: number;
  /** IP ToS / traffic class byte (DSCP << 2 | ECN). */
  readonly tos?: number;
  readonly ipId?: number;
  readonly ipv6Label?: number;
  readonly payload?: Uint8Array | string;
}

const mac = (m: MacText | undefined, field: string): number =>
  m === undefined ? 0 : typeof m === "number" ? m : parseMac(m, field);

function vlans(v: FrameOptions["vlan"]): VlanHeader[] {
  if (v === undefined) return [];
  if (typeof v === "number") {
    if (!Number.isInteger(v) || v < 0 || v > 4095)
      throw new SimError("BAD_VALUE", `vlan: ${v} is not a VLAN id (0-4095)`);
    return [{ tpid: ETH_TYPE.vlan, pcp: 0, vid: v }];
  }
  const list = "vid" in v ? [v as VlanHeader] : [...(v as readonly VlanHeader[])];
  if (list.length > 2) throw new SimError("UNSUPPORTED", "vlan: at most two VLAN headers are modelled");
  return list;
}

const payloadBytes = (p: Uint8Array | string | undefined): Uint8Array =>
  p === undefined ? new Uint8Array(0) : typeof p === "string" ? new TextEncoder().encode(p) : p;

/** An endpoint "ip:port" or "[ipv6]:port" (port optional). */
export interface Endpoint {
  readonly v6: boolean;
  readonly ip4: number;
  readonly ip6: bigint;
  readonly port: number;
}

export function parseEndpoint(text: string, field = "endpoint"): Endpoint {
  let host = text;
  let port = 0;
  if (text.startsWith("[")) {
    const close = text.indexOf("]");
    if (close < 0) throw new SimError("BAD_VALUE", `${field}: "${text}" has no closing ]`);
    host = text.slice(1, close);
    const rest = text.slice(close + 1);
    if (rest !== "") {
      if (!/^:\d{1,5}$/.test(rest)) throw new SimError("BAD_VALUE", `${field}: "${text}" has a bad port`);
      port = Number(rest.slice(1));
    }
  } else if ((text.match(/:/g) ?? []).length === 1) {
    const i = text.indexOf(":");
    host = text.slice(0, i);
    const pt = text.slice(i + 1);
    if (!/^\d{1,5}$/.test(pt)) throw new SimError("BAD_VALUE", `${field}: "${text}" has a bad port`);
    port = Number(pt);
  }
  if (port > 0xffff) throw new SimError("BAD_VALUE", `${field}: port ${port} is out of range`);
  if (host.includes(":")) return { v6: true, ip4: 0, ip6: parseIp6(host, field), port };
  return { v6: false, ip4: parseIp4(host, field), ip6: 0n, port };
}

function ipFlow(o: FrameOptions, src: Endpoint, dst: Endpoint, proto: number, extra: Partial<Flow>): Flow {
  if (src.v6 !== dst.v6) throw new SimError("BAD_VALUE", "src and dst must both be IPv4 or both IPv6");
  return makeFlow({
    in_port: o.inPort ?? 0,
    dl_src: mac(o.dlSrc, "dlSrc"),
    dl_dst: mac(o.dlDst, "dlDst"),
    vlans: vlans(o.vlan),
    dl_type: src.v6 ? ETH_TYPE.ipv6 : ETH_TYPE.ip,
    nw_src: src.ip4,
    nw_dst: dst.ip4,
    ipv6_src: src.ip6,
    ipv6_dst: dst.ip6,
    ipv6_label: src.v6 ? (o.ipv6Label ?? 0) : 0,
    nw_proto: proto,
    nw_tos: o.tos ?? 0,
    nw_ttl: o.ttl ?? 64,
    tp_src: src.port,
    tp_dst: dst.port,
    ...extra,
  });
}

/** Parses TCP flags given as a number or as names ("syn|ack", "syn,ack"). */
export function tcpFlags(f: number | string | undefined): number {
  if (f === undefined) return 0;
  if (typeof f === "number") return f & 0xfff;
  let v = 0;
  for (const name of f.split(/[|,+ ]/).filter(Boolean)) {
    const bit = (TCP_FLAG as Record<string, number>)[name.toLowerCase()];
    if (bit === undefined) throw new SimError("BAD_VALUE", `tcp flags: "${name}" is not a TCP flag`);
    v |= bit;
  }
  return v;
}

export interface L4Options extends FrameOptions {
  readonly src: string;
  readonly dst: string;
}

export interface TcpOptions extends L4Options {
  readonly flags?: number | string;
  readonly seq?: number;
  readonly ack?: number;
  readonly window?: number;
}

/** A TCP segment: `tcpPacket({ src: "192.0.2.10:40000", dst: "10.180.204.252:80", flags: "syn" })`. */
export function tcpPacket(o: TcpOptions): Packet {
  const flow = ipFlow(o, parseEndpoint(o.src, "src"), parseEndpoint(o.dst, "dst"), IP_PROTO.tcp, {
    tcp_flags: tcpFlags(o.flags),
  });
  return makePacket(flow, {
    payload: payloadBytes(o.payload),
    ipId: o.ipId ?? 0,
    tcpSeq: o.seq ?? 0,
    tcpAck: o.ack ?? 0,
    tcpWindow: o.window ?? 64240,
  });
}

/** A TCP SYN, e.g. `tcpSyn({ src: "192.0.2.10:40000", dst: "10.180.204.252:80", vlan: 341 })`. */
export function tcpSyn(o: Omit<TcpOptions, "flags">): Packet {
  return tcpPacket({ ...o, flags: TCP_FLAG.syn, seq: o.seq ?? 1 });
}

export function udpPacket(o: L4Options): Packet {
  const flow = ipFlow(o, parseEndpoint(o.src, "src"), parseEndpoint(o.dst, "dst"), IP_PROTO.udp, {});
  return makePacket(flow, { payload: payloadBytes(o.payload), ipId: o.ipId ?? 0 });
}

export function sctpPacket(o: L4Options & { readonly tag?: number }): Packet {
  const flow = ipFlow(o, parseEndpoint(o.src, "src"), parseEndpoint(o.dst, "dst"), IP_PROTO.sctp, {});
  return makePacket(flow, { payload: payloadBytes(o.payload), ipId: o.ipId ?? 0, sctpTag: o.tag ?? 0 });
}

export interface IcmpOptions extends FrameOptions {
  readonly src: string;
  readonly dst: string;
  readonly type?: number;
  readonly code?: number;
  readonly id?: number;
  readonly seq?: number;
}

function echoBody(o: IcmpOptions): Uint8Array {
  const data = payloadBytes(o.payload);
  const b = new Uint8Array(4 + data.length);
  b[0] = ((o.id ?? 0) >>> 8) & 0xff;
  b[1] = (o.id ?? 0) & 0xff;
  b[2] = ((o.seq ?? 0) >>> 8) & 0xff;
  b[3] = (o.seq ?? 0) & 0xff;
  b.set(data, 4);
  return b;
}

/** ICMP (v4 or v6 by the addresses) echo request by default; `type`/`code` for others. */
export function icmpPacket(o: IcmpOptions): Packet {
  const src = parseEndpoint(o.src, "src");
  const dst = parseEndpoint(o.dst, "dst");
  const type = o.type ?? (src.v6 ? 128 : 8);
  const flow = ipFlow(o, { ...src, port: 0 }, { ...dst, port: 0 }, src.v6 ? IP_PROTO.icmpv6 : IP_PROTO.icmp, {
    tp_src: type & 0xff,
    tp_dst: (o.code ?? 0) & 0xff,
  });
  return makePacket(flow, { payload: echoBody(o), ipId: o.ipId ?? 0 });
}

export interface ArpOptions extends Omit<FrameOptions, "ttl" | "tos" | "ipId" | "ipv6Label"> {
  /** Sender hardware address (also the Ethernet source unless dlSrc is given). */
  readonly sha: MacText;
  readonly spa: string;
  readonly tpa: string;
  readonly tha?: MacText;
}

/** An ARP request, broadcast unless dlDst is given. */
export function arpRequest(o: ArpOptions): Packet {
  return arp(o, 1, o.dlDst ?? 0xffffffffffff);
}

/** An ARP reply to `tha`. */
export function arpReply(o: ArpOptions & { readonly tha: MacText }): Packet {
  return arp(o, 2, o.dlDst ?? o.tha);
}

function arp(o: ArpOptions, op: number, dlDst: MacText): Packet {
  const sha = mac(o.sha, "sha");
  return makePacket(
    makeFlow({
      in_port: o.inPort ?? 0,
      dl_src: o.dlSrc === undefined ? sha : mac(o.dlSrc, "dlSrc"),
      dl_dst: mac(dlDst, "dlDst"),
      vlans: vlans(o.vlan),
      dl_type: ETH_TYPE.arp,
      nw_proto: op,
      nw_src: parseIp4(o.spa, "spa"),
      nw_dst: parseIp4(o.tpa, "tpa"),
      arp_sha: sha,
      arp_tha: mac(o.tha, "tha"),
    }),
    { payload: payloadBytes(o.payload) },
  );
}

export interface NdOptions extends FrameOptions {
  readonly src: string;
  /** Default: the solicited-node multicast address of the target (NS) or all-nodes (NA). */
  readonly dst?: string;
  readonly target: string;
  /** Source (NS) or target (NA) link-layer address option; defaults to dlSrc. */
  readonly lladdr?: MacText;
  /** NA flags (R=0x80, S=0x40, O=0x20) in the first flag byte. */
  readonly naFlags?: number;
}

/** IPv6 neighbour solicitation (ICMPv6 135), hop limit 255. */
export function ndSolicit(o: NdOptions): Packet {
  const target = parseIp6(o.target, "target");
  const dst = o.dst ?? solicitedNode(target);
  const ll = o.lladdr ?? o.dlSrc;
  const flow = ipFlow(
    { ...o, ttl: o.ttl ?? 255 },
    parseEndpoint(`[${o.src}]`),
    parseEndpoint(`[${dst}]`),
    IP_PROTO.icmpv6,
    {
      tp_src: 135,
      tp_dst: 0,
      nd_target: target,
      arp_sha: mac(ll, "lladdr"),
    },
  );
  return makePacket(flow, { payload: new Uint8Array(4) });
}

/** IPv6 neighbour advertisement (ICMPv6 136), solicited+override by default. */
export function ndAdvert(o: NdOptions): Packet {
  const ll = o.lladdr ?? o.dlSrc;
  const flow = ipFlow(
    { ...o, ttl: o.ttl ?? 255 },
    parseEndpoint(`[${o.src}]`),
    parseEndpoint(`[${o.dst ?? "ff02::1"}]`),
    IP_PROTO.icmpv6,
    {
      tp_src: 136,
      tp_dst: 0,
      nd_target: parseIp6(o.target, "target"),
      arp_tha: mac(ll, "lladdr"),
    },
  );
  return makePacket(flow, { payload: Uint8Array.of(o.naFlags ?? 0x60, 0, 0, 0) });
}

/** The solicited-node multicast address ff02::1:ffXX:XXXX of an IPv6 address. */
function solicitedNode(a: bigint): string {
  const lo = Number(a & 0xffffffn);
  return `ff02::1:ff${((lo >>> 16) & 0xff).toString(16).padStart(2, "0")}:${(lo & 0xffff).toString(16)}`;
}
