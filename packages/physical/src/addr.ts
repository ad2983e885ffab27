/**
 * Addresses of the physical model: one type for IPv4 and IPv6 (hosts and MetalLB pools are
 * dual-stack), interface CIDRs, MetalLB pool entries (`internal/config/config.go ParseCIDR`: a
 * CIDR, or `start-end` with start not after end), and Go's `net.IP.String()` (MetalLB hashes
 * `node + "#" + ip.String()`, so the text must be Go's exactly).
 */
import { formatIp4, formatIp6, parseIp4, parseIp6, SimError } from "@ovnsim/packet";

export interface IpAddr {
  readonly family: 4 | 6;
  /** The address as an unsigned integer (32 or 128 bits). */
  readonly v: bigint;
}

export interface IfaceAddr {
  readonly ip: IpAddr;
  readonly plen: number;
}

export function ip4(v: number): IpAddr {
  return { family: 4, v: BigInt(v >>> 0) };
}

/** "10.0.0.1" or "fd00::1" → IpAddr. Throws SimError(BAD_VALUE) naming `what`. */
export function parseIp(text: string, what = "ip"): IpAddr {
  const t = text.trim();
  if (t.includes(":")) return { family: 6, v: parseIp6(t, what) };
  return { family: 4, v: BigInt(parseIp4(t, what)) };
}

/** "10.180.204.10/24" → address and prefix length (bare address = host prefix). */
export function parseIfaceCidr(text: string, what = "address"): IfaceAddr {
  const slash = text.indexOf("/");
  const ip = parseIp(slash < 0 ? text : text.slice(0, slash), what);
  const max = ip.family === 4 ? 32 : 128;
  if (slash < 0) return { ip, plen: max };
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) {
    throw new SimError("BAD_VALUE", `${what}: "${text}" has a bad prefix length`);
  }
  return { ip, plen: Number(lenText) };
}

export function bits(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

/** The network mask of a prefix length, as a bigint of the family's width. */
export function maskOf(family: 4 | 6, plen: number): bigint {
  const w = BigInt(bits(family));
  const all = (1n << w) - 1n;
  return plen === 0 ? 0n : (all >> (w - BigInt(plen))) << (w - BigInt(plen));
}

export function sameIp(a: IpAddr, b: IpAddr): boolean {
  return a.family === b.family && a.v === b.v;
}

export function inPrefix(ip: IpAddr, net: IfaceAddr): boolean {
  if (ip.family !== net.ip.family) return false;
  const m = maskOf(ip.family, net.plen);
  return (ip.v & m) === (net.ip.v & m);
}

/** Text as ovnsim prints it (dotted quad; inet_ntop for IPv6). */
export function formatIp(ip: IpAddr): string {
  return ip.family === 4 ? formatIp4(Number(ip.v)) : formatIp6(ip.v);
}

/** A map key for an address. */
export function ipKey(ip: IpAddr): string {
  return `${ip.family}:${ip.v.toString(16)}`;
}

/**
 * Go's `net.IP.String()`: IPv4 dotted quad; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) also
 * prints as a dotted quad (To4 succeeds); other IPv6 addresses in RFC 5952 form with hex groups
 * (Go never prints ::a.b.c.d for IPv4-compatible addresses).
 */
export function goIpString(ip: IpAddr): string {
  if (ip.family === 4) return formatIp4(Number(ip.v));
  if (ip.v >> 32n === 0xffffn) return formatIp4(Number(ip.v & 0xffffffffn));
  const words: number[] = [];
  for (let i = 7; i >= 0; i--) words.push(Number((ip.v >> BigInt(i * 16)) & 0xffffn));
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      best = i;
      bestLen = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === best) {
      out += "::";
      i += bestLen - 1;
      continue;
    }
    if (out !== "" && !out.endsWith(":")) out += ":";
    out += (words[i] ?? 0).toString(16);
  }
  return out;
}

/** One `IPAddressPool.spec.addresses` entry, as an inclusive range. */
export interface AddressRange {
  readonly family: 4 | 6;
  readonly first: bigint;
  readonly last: bigint;
  /** The entry as written. */
  readonly text: string;
}

/**
 * Parses a pool entry like MetalLB's `config.ParseCIDR`: without "-" a CIDR (`10.0.0.0/24`;
 * host bits are masked off as Go's net.ParseCIDR does), else `start-end` (spaces around either
 * address allowed), both of one family, start not after end. Errors are SimError(BAD_VALUE)
 * naming `owner` (e.g. `IPAddressPool underlay-pool`) and MetalLB's reason.
 */
export function parsePoolEntry(text: string, owner = "IPAddressPool"): AddressRange {
  const fail = (why: string): never => {
    throw new SimError("BAD_VALUE", `${owner}: ${why}`);
  };
  if (typeof text !== "string") return fail(`address entry ${String(text)} is not a string`);
  if (!text.includes("-")) {
    const slash = text.indexOf("/");
    if (slash < 0) return fail(`invalid CIDR "${text}"`);
    let a: IfaceAddr;
    try {
      a = parseIfaceCidr(text, "cidr");
    } catch {
      return fail(`invalid CIDR "${text}"`);
    }
    if (text.trim() !== text) return fail(`invalid CIDR "${text}"`);
    const m = maskOf(a.ip.family, a.plen);
    const first = a.ip.v & m;
    const last = first | (((1n << BigInt(bits(a.ip.family))) - 1n) & ~m);
    return { family: a.ip.family, first, last, text };
  }
  const dash = text.indexOf("-");
  const s = text.slice(0, dash);
  const e = text.slice(dash + 1);
  let start: IpAddr;
  let end: IpAddr;
  try {
    start = parseIp(s, "start");
  } catch {
    return fail(`invalid IP range "${text}": invalid start IP "${s}"`);
  }
  try {
    end = parseIp(e, "end");
  } catch {
    return fail(`invalid IP range "${text}": invalid end IP "${e}"`);
  }
  if (start.family !== end.family) {
    return fail(`invalid IP range "${text}": start and end are of different IP families`);
  }
  if (start.v > end.v) {
    return fail(
      `invalid IP range "${text}": start IP "${formatIp(start)}" is after the end IP "${formatIp(end)}"`,
    );
  }
  return { family: start.family, first: start.v, last: end.v, text };
}

export function rangeContains(r: AddressRange, ip: IpAddr): boolean {
  return r.family === ip.family && ip.v >= r.first && ip.v <= r.last;
}
