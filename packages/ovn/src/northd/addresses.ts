/**
 * Address parsing as northd does it (ovn-org/ovn lib/ovn-util.c extract_lsp_addresses /
 * extract_lrp_networks): "MAC [IP…]" strings and router-port networks, with the textual forms
 * northd prints (inet_ntop for IPv6, solicited-node multicast, EUI-64 link-local).
 */
import { formatIp6, formatMac, parseIp4, parseIp6, parseMac, plenToMask4, formatIp4 } from "@ovnsim/packet";

export interface Ipv4Addr {
  readonly addr: string;
  readonly plen: number;
  readonly network: string;
}
export interface Ipv6Addr {
  readonly addr: string;
  readonly plen: number;
  /** Solicited-node multicast address (ff02::1:ffXX:XXXX). */
  readonly sn: string;
  readonly network: string;
}

/** struct lport_addresses. */
export interface LportAddresses {
  /** MAC as ETH_ADDR_FMT prints it (lower-case, zero padded). */
  readonly ea: string;
  readonly ipv4: readonly Ipv4Addr[];
  readonly ipv6: readonly Ipv6Addr[];
}

const MAC_RE = /^([0-9a-fA-F]{1,2}:){5}[0-9a-fA-F]{1,2}/;

function v4(ipText: string, plen: number): Ipv4Addr {
  const ip = parseIp4(ipText);
  return { addr: formatIp4(ip), plen, network: formatIp4((ip & plenToMask4(plen)) >>> 0) };
}

function v6(ip: bigint, plen: number): Ipv6Addr {
  const mask = plen === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - plen)) - 1n);
  const sn = (0xff0200000000000000000001ff000000n | (ip & 0xffffffn)) as bigint;
  return { addr: formatIp6(ip), plen, sn: formatIp6(sn), network: formatIp6(ip & mask) };
}

/** Parses one IPv4/IPv6 address or CIDR; undefined when it is neither. */
function parseIpToken(tok: string): { kind: 4; a: Ipv4Addr } | { kind: 6; a: Ipv6Addr } | undefined {
  const slash = tok.indexOf("/");
  const ipText = slash >= 0 ? tok.slice(0, slash) : tok;
  const plenText = slash >= 0 ? tok.slice(slash + 1) : undefined;
  try {
    if (ipText.includes(":")) {
      const ip = parseIp6(ipText);
      const plen = plenText === undefined ? 128 : Number(plenText);
      if (!Number.isInteger(plen) || plen < 0 || plen > 128) return undefined;
      return { kind: 6, a: v6(ip, plen) };
    }
    const plen = plenText === undefined ? 32 : Number(plenText);
    if (!Number.isInteger(plen) || plen < 0 || plen > 32) return undefined;
    return { kind: 4, a: v4(ipText, plen) };
  } catch {
    return undefined;
  }
}

/** extract_lsp_addresses: "MAC [IP…]" → addresses, or undefined when there is no MAC. */
export function extractLspAddresses(text: string): LportAddresses | undefined {
  const trimmed = text.trimStart();
  const m = MAC_RE.exec(trimmed);
  if (!m) return undefined;
  let ea: string;
  try {
    ea = formatMac(parseMac(m[0]));
  } catch {
    return undefined;
  }
  const ipv4: Ipv4Addr[] = [];
  const ipv6: Ipv6Addr[] = [];
  for (const tok of trimmed.slice(m[0].length).split(/\s+/)) {
    if (tok === "") continue;
    const p = parseIpToken(tok);
    if (!p) break;
    if (p.kind === 4) ipv4.push(p.a);
    else ipv6.push(p.a);
  }
  return { ea, ipv4, ipv6 };
}

/** EUI-64 link-local address of a MAC (in6_generate_lla). */
export function linkLocalOf(mac: string): bigint {
  const n = BigInt(parseMac(mac));
  const hi = (n >> 24n) ^ 0x020000n; // flip the universal/local bit
  const lo = n & 0xffffffn;
  const iid = (hi << 40n) | (0xfffen << 24n) | lo;
  return (0xfe80n << 112n) | iid;
}

/** extract_lrp_networks: MAC + networks, plus the link-local IPv6 address northd always adds. */
export function extractLrpNetworks(mac: string, networks: readonly string[]): LportAddresses | undefined {
  let ea: string;
  try {
    ea = formatMac(parseMac(mac));
  } catch {
    return undefined;
  }
  const ipv4: Ipv4Addr[] = [];
  const ipv6: Ipv6Addr[] = [];
  for (const n of networks) {
    if (!n.includes("/")) continue;
    const p = parseIpToken(n);
    if (!p) continue;
    if (p.kind === 4) {
      if (p.a.addr === "0.0.0.0") continue;
      ipv4.push(p.a);
    } else ipv6.push(p.a);
  }
  ipv6.push(v6(linkLocalOf(ea), 64));
  return { ea, ipv4, ipv6 };
}

/** A JSON string literal, as northd quotes port names (op->json_key). */
export function jsonKey(name: string): string {
  return JSON.stringify(name);
}
