/**
 * IPv4 ranges in the two spellings this package reads: Kube-OVN's excludeIps (`a` or `a..b`,
 * pkg/ipam) and MetalLB's pool addresses (`a-b` or a CIDR, internal/config). Kept apart from
 * @ovnsim/packet's address helpers because only manifests use these forms.
 */
import {
  SimError,
  formatIp4,
  parseCidr4,
  parseIp4,
  parseIp6,
  plenToMask4,
  plenToMask6,
} from "@ovnsim/packet";
import type { Ip4Range, Ip6Range } from "./types.js";

/** Kube-OVN excludeIps entry: "10.0.0.5" or "10.0.0.5..10.0.0.9". */
export function parseExcludeIp(text: string, field: string): Ip4Range {
  const parts = text.split("..");
  if (parts.length > 2)
    throw new SimError("BAD_VALUE", `${field}: "${text}" is not an address or a..b range`);
  const start = parseIp4(parts[0]!.trim(), field);
  const end = parts.length === 2 ? parseIp4(parts[1]!.trim(), field) : start;
  if (end < start) throw new SimError("BAD_VALUE", `${field}: "${text}" ends before it starts`);
  return { start, end };
}

/**
 * The IPv6 half of a dual-stack Subnet's excludeIps: "fd00::5" or "fd00::5..fd00::9" (pkg/ipam
 * splits spec.excludeIps by family and excludes each from its own range).
 */
export function parseExcludeIp6(text: string, field: string): Ip6Range {
  const parts = text.split("..");
  if (parts.length > 2)
    throw new SimError("BAD_VALUE", `${field}: "${text}" is not an address or a..b range`);
  const start = parseIp6(parts[0]!.trim(), field);
  const end = parts.length === 2 ? parseIp6(parts[1]!.trim(), field) : start;
  if (end < start) throw new SimError("BAD_VALUE", `${field}: "${text}" ends before it starts`);
  return { start, end };
}

/** A pool's "a-b" entry in either family. */
function poolRange<T extends number | bigint>(
  text: string,
  field: string,
  parse: (ip: string, field: string) => T,
): { start: T; end: T } {
  const [a, b, ...rest] = text.trim().split("-");
  if (rest.length > 0 || a === undefined || b === undefined) {
    throw new SimError("BAD_VALUE", `${field}: "${text}" is not a range`);
  }
  const start = parse(a.trim(), field);
  const end = parse(b.trim(), field);
  if (end < start) throw new SimError("BAD_VALUE", `${field}: "${text}" ends before it starts`);
  return { start, end };
}

/** MetalLB pool address: "a-b" range or "x/len" CIDR (MetalLB rejects a bare address). */
export function parsePoolAddress(text: string, field: string): Ip4Range {
  const t = text.trim();
  if (t.includes("-")) return poolRange(text, field, parseIp4);
  if (!t.includes("/")) {
    throw new SimError("BAD_VALUE", `${field}: "${text}" is neither a CIDR nor an a-b range (write ${t}/32)`);
  }
  const c = parseCidr4(t, field);
  const m = plenToMask4(c.plen);
  const start = (c.ip & m) >>> 0;
  return { start, end: (start | (~m >>> 0)) >>> 0 };
}

export function inRanges(ip: number, ranges: readonly Ip4Range[]): boolean {
  for (const r of ranges) if (ip >= r.start && ip <= r.end) return true;
  return false;
}

export function formatRange(r: Ip4Range): string {
  return r.start === r.end ? formatIp4(r.start) : `${formatIp4(r.start)}-${formatIp4(r.end)}`;
}

/** A MetalLB pool's IPv6 entry: "a-b" range or "x/len" CIDR. */
export function parsePoolAddress6(text: string, field: string): Ip6Range {
  const t = text.trim();
  if (t.includes("-")) return poolRange(text, field, parseIp6);
  const [ip, len, ...rest] = t.split("/");
  const plen = Number(len);
  if (rest.length > 0 || ip === undefined || len === undefined || !/^\d+$/.test(len) || plen > 128) {
    throw new SimError(
      "BAD_VALUE",
      `${field}: "${text}" is neither a CIDR nor an a-b range (write ${t}/128)`,
    );
  }
  const m = plenToMask6(plen);
  const start = parseIp6(ip, field) & m;
  return { start, end: start | (~m & ((1n << 128n) - 1n)) };
}

export function inRanges6(ip: bigint, ranges: readonly Ip6Range[]): boolean {
  for (const r of ranges) if (ip >= r.start && ip <= r.end) return true;
  return false;
}
