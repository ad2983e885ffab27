/**
 * Connection tuples, as OVS userspace conntrack keys connections (`struct conn_key`,
 * `conn_key_extract()` and `extract_l4_icmp()` in `lib/conntrack.c`): zone, address family,
 * protocol, source and destination address and port. For ICMP echo/timestamp/info the "ports"
 * are the ICMP id and the tuple also carries the ICMP type (the reply tuple has the reply type).
 *
 * The flow key has no ICMP id (neither has OVS's `struct flow`); callers pass it as an option
 * when they know it, otherwise 0 is used.
 */
import { type Flow, ETH_TYPE, IP_PROTO } from "@ovnsim/packet";

/** One direction of a connection. */
export interface CtTuple {
  readonly family: 4 | 6;
  readonly proto: number;
  /** IPv4 addresses (u32); 0 for IPv6. */
  readonly src4: number;
  readonly dst4: number;
  /** IPv6 addresses; 0n for IPv4. */
  readonly src6: bigint;
  readonly dst6: bigint;
  /** L4 ports (TCP/UDP/SCTP), the ICMP id for ICMP queries, 0 otherwise. */
  readonly sport: number;
  readonly dport: number;
  /** ICMP/ICMPv6 type of a query tuple; -1 for other protocols. */
  readonly icmpType: number;
}

/** ICMP types (RFC 792) and ICMPv6 types (RFC 4443) conntrack knows. */
export const ICMP4 = {
  echoReply: 0,
  destUnreach: 3,
  sourceQuench: 4,
  redirect: 5,
  echoRequest: 8,
  timeExceeded: 11,
  paramProb: 12,
  timestamp: 13,
  timestampReply: 14,
  infoRequest: 15,
  infoReply: 16,
} as const;
export const ICMP6 = {
  destUnreach: 1,
  packetTooBig: 2,
  timeExceeded: 3,
  paramProb: 4,
  echoRequest: 128,
  echoReply: 129,
} as const;

const ICMP4_REVERSE: Readonly<Record<number, number>> = { 8: 0, 0: 8, 13: 14, 14: 13, 15: 16, 16: 15 };
const ICMP6_REVERSE: Readonly<Record<number, number>> = { 128: 129, 129: 128 };
const ICMP4_ERRORS = new Set<number>([3, 4, 5, 11, 12]);
const ICMP6_ERRORS = new Set<number>([1, 2, 3, 4]);

/** The tuple of the reply direction (addresses and ports swapped, ICMP type reversed). */
export function reverseTuple(t: CtTuple): CtTuple {
  const icmpType = reverseIcmpType(t);
  return {
    family: t.family,
    proto: t.proto,
    src4: t.dst4,
    dst4: t.src4,
    src6: t.dst6,
    dst6: t.src6,
    sport: t.dport,
    dport: t.sport,
    icmpType,
  };
}

/** The ICMP type of the reply direction of `t` (-1 for non-ICMP tuples). */
export function reverseIcmpType(t: CtTuple): number {
  const icmpType = t.icmpType;
  if (icmpType < 0) return icmpType;
  return (t.family === 4 ? ICMP4_REVERSE : ICMP6_REVERSE)[icmpType] ?? icmpType;
}

/** The hash-map key of a tuple in a zone. */
export function tupleKey(zone: number, t: CtTuple): string {
  return t.family === 4
    ? `${zone}/4/${t.proto}/${t.src4}/${t.dst4}/${t.sport}/${t.dport}/${t.icmpType}`
    : `${zone}/6/${t.proto}/${t.src6}/${t.dst6}/${t.sport}/${t.dport}/${t.icmpType}`;
}

export function tuplesEqual(a: CtTuple, b: CtTuple): boolean {
  return (
    a.family === b.family &&
    a.proto === b.proto &&
    a.src4 === b.src4 &&
    a.dst4 === b.dst4 &&
    a.src6 === b.src6 &&
    a.dst6 === b.dst6 &&
    a.sport === b.sport &&
    a.dport === b.dport &&
    a.icmpType === b.icmpType
  );
}

/** What conntrack extracts from a packet: its tuple, or why it cannot be tracked. */
export type Extracted =
  | { readonly ok: true; readonly tuple: CtTuple; readonly related: boolean }
  | { readonly ok: false; readonly reason: string };

/** The embedded header of an ICMP error: the tuple of the packet that caused it, as sent. */
export interface IcmpInner {
  readonly src: number | bigint;
  readonly dst: number | bigint;
  readonly proto: number;
  readonly sport?: number;
  readonly dport?: number;
  /** For an embedded ICMP query: its type and id (sport/dport are ignored). */
  readonly icmpType?: number;
  readonly icmpId?: number;
}

const isPortProto = (p: number): boolean => p === IP_PROTO.tcp || p === IP_PROTO.udp || p === IP_PROTO.sctp;

/** Set by {@link extractKey}: the packet is an ICMP error related to the tuple's connection. */
export const extracted = { related: false };

/**
 * The conntrack key of a packet, as `conn_key_extract()` builds it. ICMP errors are keyed by
 * the reversed embedded tuple (`extract_l4_icmp`), which must be given as `inner`; an error
 * whose embedded source is not the outer destination cannot be tracked.
 */
export function extractTuple(flow: Flow, icmpId = 0, inner?: IcmpInner): Extracted {
  const k = extractKey(flow, icmpId, inner);
  return typeof k === "string"
    ? { ok: false, reason: k }
    : { ok: true, related: extracted.related, tuple: k };
}

/**
 * {@link extractTuple} without the result wrapper (it runs for every packet through ct): the
 * tuple, or why the packet cannot be tracked; {@link extracted} says whether it is related.
 */
export function extractKey(flow: Flow, icmpId: number, inner: IcmpInner | undefined): CtTuple | string {
  extracted.related = false;
  const family = flow.dl_type === ETH_TYPE.ip ? 4 : flow.dl_type === ETH_TYPE.ipv6 ? 6 : 0;
  if (family === 0) return "not an IP packet";
  const proto = flow.nw_proto;
  const src4 = family === 4 ? flow.nw_src >>> 0 : 0;
  const dst4 = family === 4 ? flow.nw_dst >>> 0 : 0;
  const src6 = family === 6 ? flow.ipv6_src : 0n;
  const dst6 = family === 6 ? flow.ipv6_dst : 0n;
  if (isPortProto(proto)) {
    // The common case, built without spreads.
    return { family, proto, src4, dst4, src6, dst6, sport: flow.tp_src, dport: flow.tp_dst, icmpType: -1 };
  }
  const icmpProto = family === 4 ? IP_PROTO.icmp : IP_PROTO.icmpv6;
  if (proto !== icmpProto) return { family, proto, src4, dst4, src6, dst6, sport: 0, dport: 0, icmpType: -1 };
  const type = flow.tp_src;
  const code = flow.tp_dst;
  const reverse = family === 4 ? ICMP4_REVERSE : ICMP6_REVERSE;
  if (reverse[type] !== undefined) {
    if (code !== 0) return `ICMP query type ${type} with code ${code} != 0`;
    return { family, proto, src4, dst4, src6, dst6, sport: icmpId, dport: icmpId, icmpType: type };
  }
  if ((family === 4 ? ICMP4_ERRORS : ICMP6_ERRORS).has(type)) {
    if (inner === undefined) return `ICMP error type ${type} without its embedded header`;
    const innerSrc4 = family === 4 ? Number(inner.src) >>> 0 : 0;
    const innerSrc6 = family === 6 ? BigInt(inner.src) : 0n;
    if (family === 4 ? innerSrc4 !== dst4 : innerSrc6 !== dst6) {
      return "ICMP error: embedded source is not the outer destination";
    }
    const innerIsQuery = inner.icmpType !== undefined;
    const t: CtTuple = {
      family,
      proto: inner.proto,
      src4: innerSrc4,
      dst4: family === 4 ? Number(inner.dst) >>> 0 : 0,
      src6: innerSrc6,
      dst6: family === 6 ? BigInt(inner.dst) : 0n,
      sport: innerIsQuery ? (inner.icmpId ?? 0) : isPortProto(inner.proto) ? (inner.sport ?? 0) : 0,
      dport: innerIsQuery ? (inner.icmpId ?? 0) : isPortProto(inner.proto) ? (inner.dport ?? 0) : 0,
      icmpType: innerIsQuery ? (inner.icmpType ?? -1) : -1,
    };
    extracted.related = true;
    return reverseTuple(t);
  }
  return `ICMP type ${type} is neither a query nor an error`;
}
