/**
 * Address helpers at the edges: text ↔ the numbers the flow key stores. IPv4/IPv6 parsing and
 * CIDRs go through ip-address; MACs are simple enough to do here. Never used on a hot path:
 * packets carry numbers, and these run when text comes in or goes out.
 */
import { Address4, Address6 } from "ip-address";
import { SimError } from "./errors.js";

const MAC_RE = /^([0-9a-fA-F]{1,2})(?::([0-9a-fA-F]{1,2})){5}$/;

/** Parsed MACs by text: a simulation names few MACs and parses them on every packet. */
const MAC_CACHE = new Map<string, number>();

/** "0a:58:0a:b4:cc:0c" → 48-bit integer. Throws SimError(BAD_VALUE). */
export function parseMac(text: string, field = "mac"): number {
  const hit = MAC_CACHE.get(text);
  if (hit !== undefined) return hit;
  if (!MAC_RE.test(text)) throw new SimError("BAD_VALUE", `${field}: "${text}" is not a MAC address`);
  let v = 0;
  for (const part of text.split(":")) v = v * 256 + Number.parseInt(part, 16);
  if (MAC_CACHE.size >= 4096) MAC_CACHE.clear();
  MAC_CACHE.set(text, v);
  return v;
}

const HEX2: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, "0"));

/** 48-bit integer → "0a:58:0a:b4:cc:0c". */
export function formatMac(mac: number): string {
  const hit = MAC_TEXT.get(mac);
  if (hit !== undefined) return hit;
  const t = macText(mac);
  if (MAC_TEXT.size >= 4096) MAC_TEXT.clear();
  MAC_TEXT.set(mac, t);
  return t;
}

/** Formatted MACs and IPv4 addresses by value: a trace shows the same few at every step. */
const MAC_TEXT = new Map<number, string>();
const IP4_TEXT = new Map<number, string>();

function macText(mac: number): string {
  const hi = Math.floor(mac / 0x100000000);
  const lo = mac >>> 0;
  return `${HEX2[(hi >>> 8) & 0xff]}:${HEX2[hi & 0xff]}:${HEX2[lo >>> 24]}:${HEX2[(lo >>> 16) & 0xff]}:${HEX2[(lo >>> 8) & 0xff]}:${HEX2[lo & 0xff]}`;
}

/** High 16 and low 32 bits of a MAC, for the word key. */
export const macHi = (mac: number): number => Math.floor(mac / 0x100000000) & 0xffff;
export const macLo = (mac: number): number => mac >>> 0;
export const macFromWords = (hi: number, lo: number): number => (hi & 0xffff) * 0x100000000 + (lo >>> 0);

const IPV4_RE = /^\d{1,3}(\.\d{1,3}){3}$/;

/** "10.180.204.252" → u32. Throws SimError(BAD_VALUE). */
export function parseIp4(text: string, field = "ip"): number {
  const hit = IP4_CACHE.get(text);
  if (hit !== undefined) return hit;
  if (!IPV4_RE.test(text) || !Address4.isValid(text)) {
    throw new SimError("BAD_VALUE", `${field}: "${text}" is not an IPv4 address`);
  }
  const v = Number(new Address4(text).bigInt()) >>> 0;
  if (IP4_CACHE.size >= 4096) IP4_CACHE.clear();
  IP4_CACHE.set(text, v);
  return v;
}

/** Parsed addresses by text, as MAC_CACHE: the physical network parses its hosts' on every hop. */
const IP4_CACHE = new Map<string, number>();
const IP6_CACHE = new Map<string, bigint>();

const IPV4_SCAN_RE = /^[+-]?\d+(\.[+-]?\d+){3}$/;

/**
 * An IPv4 address as OVS's flow syntax reads it (ip_parse_masked: ovs_scan with four `%hhu`),
 * not inet_pton: each octet is a decimal integer that may have leading zeros or a sign and
 * keeps its low 8 bits ("010.0.0.1" is 10.0.0.1, "10.0.0.300" is 10.0.0.44), as ovs-ofctl
 * accepts in matches, set_field values and nat() addresses. Throws SimError(BAD_VALUE).
 */
export function parseIp4Scan(text: string, field = "ip"): number {
  if (!IPV4_SCAN_RE.test(text)) throw new SimError("BAD_VALUE", `${field}: "${text}" is not an IPv4 address`);
  let v = 0;
  for (const part of text.split(".")) {
    const n = BigInt(part.replace(/^\+/, ""));
    v = v * 256 + Number(((n % 256n) + 256n) % 256n);
  }
  return v >>> 0;
}

/** u32 → "10.180.204.252". */
export function formatIp4(ip: number): string {
  const hit = IP4_TEXT.get(ip);
  if (hit !== undefined) return hit;
  const t = `${(ip >>> 24) & 0xff}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
  if (IP4_TEXT.size >= 4096) IP4_TEXT.clear();
  IP4_TEXT.set(ip, t);
  return t;
}

/** "fd00::1" → 128-bit bigint. Throws SimError(BAD_VALUE). */
export function parseIp6(text: string, field = "ipv6"): bigint {
  const hit = IP6_CACHE.get(text);
  if (hit !== undefined) return hit;
  if (!text.includes(":") || !Address6.isValid(text) || text.includes("/") || text.includes("%")) {
    throw new SimError("BAD_VALUE", `${field}: "${text}" is not an IPv6 address`);
  }
  const v = new Address6(text).bigInt();
  if (IP6_CACHE.size >= 4096) IP6_CACHE.clear();
  IP6_CACHE.set(text, v);
  return v;
}

/**
 * 128-bit bigint → text exactly as glibc's inet_ntop() (which OVS uses) prints it: the longest
 * run of two or more zero groups (the first, on a tie) becomes "::", hex in lower case, and
 * IPv4-mapped (::ffff:a.b.c.d) and IPv4-compatible (::a.b.c.d) addresses end in dotted quad.
 */
export function formatIp6(ip: bigint): string {
  const words: number[] = [];
  for (let i = 7; i >= 0; i--) words.push(Number((ip >> BigInt(i * 16)) & 0xffffn));
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase >= 0) {
      if (bestBase < 0 || curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase >= 0 && (bestBase < 0 || curLen > bestLen)) {
    bestBase = curBase;
    bestLen = curLen;
  }
  if (bestBase >= 0 && bestLen < 2) bestBase = -1;
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ":";
      continue;
    }
    if (i !== 0) out += ":";
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      const lo = Number(ip & 0xffffffffn);
      out += formatIp4(lo);
      break;
    }
    out += words[i]!.toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ":";
  return out;
}

/** A CIDR or bare IPv4 address → value and prefix length ("10.180.204.0/24"). */
export function parseCidr4(text: string, field = "cidr"): { readonly ip: number; readonly plen: number } {
  const slash = text.indexOf("/");
  const ip = parseIp4(slash < 0 ? text : text.slice(0, slash), field);
  if (slash < 0) return { ip, plen: 32 };
  const lenText = text.slice(slash + 1);
  if (!/^\d{1,2}$/.test(lenText) || Number(lenText) > 32) {
    throw new SimError("BAD_VALUE", `${field}: "${text}" has a bad prefix length`);
  }
  return { ip, plen: Number(lenText) };
}

/** Prefix length → IPv4 netmask (0 → 0, 24 → 0xffffff00). */
export const plenToMask4 = (plen: number): number => (plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0);

/** IPv4 netmask → prefix length, or -1 when the mask is not a prefix. */
export function maskToPlen4(mask: number): number {
  mask >>>= 0;
  const inv = ~mask >>> 0;
  if ((inv & (inv + 1)) !== 0) return -1;
  return Math.clz32(inv);
}

/** Prefix length → IPv6 netmask. */
export const plenToMask6 = (plen: number): bigint =>
  plen === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - plen)) - 1n);

/** IPv6 netmask → prefix length, or -1 when not a prefix. */
export function maskToPlen6(mask: bigint): number {
  for (let plen = 0; plen <= 128; plen++) if (plenToMask6(plen) === mask) return plen;
  return -1;
}

/** Whether `ip` is inside `cidr` (IPv4). */
export function inCidr4(ip: number, cidr: { readonly ip: number; readonly plen: number }): boolean {
  const m = plenToMask4(cidr.plen);
  return (ip & m) >>> 0 === (cidr.ip & m) >>> 0;
}
