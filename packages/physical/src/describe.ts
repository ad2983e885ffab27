/**
 * One-line, tcpdump-like descriptions of frames for traces ("ARP, Request who-has 10.0.0.1
 * tell 10.0.0.2", "ICMP6, neighbor advertisement, tgt is fd00::fc"), so a reader sees the
 * exchange the way they would see it on the wire.
 */
import {
  ETH_TYPE,
  type Flow,
  formatIp4,
  formatIp6,
  formatMac,
  IP_PROTO,
  type VlanHeader,
} from "@ovnsim/packet";
import { ARP_OP, ICMP6, NA_FLAG } from "./frames.js";

function vlanPrefix(f: Flow): string {
  let s = "";
  for (const v of f.vlans) s += `vlan ${v.vid}, `;
  return s;
}

export function describeFrame(f: Flow): string {
  const l2 = `${formatMac(f.dl_src)} > ${formatMac(f.dl_dst)}, ${vlanPrefix(f)}`;
  if (f.dl_type === ETH_TYPE.arp) {
    const spa = formatIp4(f.nw_src);
    const tpa = formatIp4(f.nw_dst);
    if (f.nw_proto === ARP_OP.request) {
      const garp = f.nw_src === f.nw_dst ? " (gratuitous)" : "";
      return `${l2}ARP, Request who-has ${tpa} tell ${spa}${garp}`;
    }
    if (f.nw_proto === ARP_OP.reply) {
      const garp = f.nw_src === f.nw_dst ? " (gratuitous)" : "";
      return `${l2}ARP, Reply ${spa} is-at ${formatMac(f.arp_sha)}${garp}`;
    }
    return `${l2}ARP, op ${f.nw_proto}`;
  }
  if (f.dl_type === ETH_TYPE.ipv6) {
    const src = formatIp6(f.ipv6_src);
    const dst = formatIp6(f.ipv6_dst);
    if (f.nw_proto === IP_PROTO.icmpv6 && f.tp_src === ICMP6.ns) {
      return `${l2}${src} > ${dst}: ICMP6, neighbor solicitation, who has ${formatIp6(f.nd_target)}`;
    }
    if (f.nw_proto === IP_PROTO.icmpv6 && f.tp_src === ICMP6.na) {
      const flags = [
        f.tcp_flags & NA_FLAG.router ? "router" : "",
        f.tcp_flags & NA_FLAG.solicited ? "solicited" : "",
        f.tcp_flags & NA_FLAG.override ? "override" : "",
      ]
        .filter(Boolean)
        .join(", ");
      return `${l2}${src} > ${dst}: ICMP6, neighbor advertisement, tgt is ${formatIp6(f.nd_target)} is-at ${formatMac(f.arp_tha)}${flags ? `, Flags [${flags}]` : ""}`;
    }
    return `${l2}${src}${port(f, "src")} > ${dst}${port(f, "dst")}: ${proto(f)}`;
  }
  if (f.dl_type === ETH_TYPE.ip) {
    return `${l2}${formatIp4(f.nw_src)}${port(f, "src")} > ${formatIp4(f.nw_dst)}${port(f, "dst")}: ${proto(f)}, ttl ${f.nw_ttl}`;
  }
  return `${l2}ethertype 0x${f.dl_type.toString(16).padStart(4, "0")}`;
}

function proto(f: Flow): string {
  switch (f.nw_proto) {
    case IP_PROTO.tcp:
      return "tcp";
    case IP_PROTO.udp:
      return "udp";
    case IP_PROTO.icmp:
      return "icmp";
    case IP_PROTO.icmpv6:
      return "icmp6";
    default:
      return `ip-proto-${f.nw_proto}`;
  }
}

function port(f: Flow, which: "src" | "dst"): string {
  if (f.nw_proto !== IP_PROTO.tcp && f.nw_proto !== IP_PROTO.udp) return "";
  return `.${which === "src" ? f.tp_src : f.tp_dst}`;
}

/**
 * The parts of an IPv4 TCP/UDP frame's description around its ports, for the last frame
 * described at one place: a connection's frames differ there only in their ports, so the text
 * is three remembered parts and two numbers rather than a dozen pieces joined again.
 */
export interface DescribeMemo {
  dlSrc: number;
  dlDst: number;
  vlans: readonly VlanHeader[] | undefined;
  nwSrc: number;
  nwDst: number;
  nwProto: number;
  nwTtl: number;
  /** "<l2>, <src ip>." */
  pre: string;
  /** " > <dst ip>." */
  mid: string;
  /** ": tcp, ttl 64" */
  suf: string;
}

export function describeMemo(): DescribeMemo {
  return {
    dlSrc: -1,
    dlDst: -1,
    vlans: undefined,
    nwSrc: 0,
    nwDst: 0,
    nwProto: -1,
    nwTtl: -1,
    pre: "",
    mid: "",
    suf: "",
  };
}

/** `describeFrame(f)`, its parts kept in `m` for the next frame of the same connection. */
export function describeWith(m: DescribeMemo, f: Flow): string {
  if (f.dl_type !== ETH_TYPE.ip || (f.nw_proto !== IP_PROTO.tcp && f.nw_proto !== IP_PROTO.udp))
    return describeFrame(f);
  if (
    f.dl_src !== m.dlSrc ||
    f.dl_dst !== m.dlDst ||
    f.nw_src !== m.nwSrc ||
    f.nw_dst !== m.nwDst ||
    f.nw_proto !== m.nwProto ||
    f.nw_ttl !== m.nwTtl ||
    !sameTags(f.vlans, m.vlans)
  ) {
    m.dlSrc = f.dl_src;
    m.dlDst = f.dl_dst;
    m.vlans = f.vlans;
    m.nwSrc = f.nw_src;
    m.nwDst = f.nw_dst;
    m.nwProto = f.nw_proto;
    m.nwTtl = f.nw_ttl;
    m.pre = `${formatMac(f.dl_src)} > ${formatMac(f.dl_dst)}, ${vlanPrefix(f)}${formatIp4(f.nw_src)}.`;
    m.mid = ` > ${formatIp4(f.nw_dst)}.`;
    m.suf = `: ${proto(f)}, ttl ${f.nw_ttl}`;
  }
  return `${m.pre}${f.tp_src}${m.mid}${f.tp_dst}${m.suf}`;
}

/** Whether two VLAN stacks print the same prefix (the VIDs are all describeFrame shows). */
function sameTags(a: readonly VlanHeader[], b: readonly VlanHeader[] | undefined): boolean {
  if (a === b) return true;
  if (b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.vid !== b[i]!.vid) return false;
  return true;
}
