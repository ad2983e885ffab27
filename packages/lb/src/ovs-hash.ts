/**
 * Open vSwitch's hash functions, bit for bit (`lib/hash.h`, `lib/hash.c`, `lib/flow.c`), so
 * that select-group bucket choices agree with real OVS. Which variant: the portable Murmur3
 * mixing (`mhash_add`/`mhash_finish`) that OVS uses when built without `-msse4.2`, as
 * distribution packages (Debian's 3.1 included) are; an OVS compiled for SSE4.2 uses CRC32
 * and would pick differently. Byte order: OVS hashes fields as they sit in memory on a
 * little-endian host, network-order bytes loaded as u32 words; the helpers here do the same.
 */

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** `mhash_add`: one 32-bit word into a running hash. */
export function hashAdd(hash: number, data: number): number {
  let h = hash >>> 0;
  let d = data >>> 0;
  if (d !== 0) {
    d = Math.imul(d, 0xcc9e2d51);
    d = rotl(d, 15);
    d = Math.imul(d, 0x1b873593);
    h = (h ^ d) >>> 0;
  }
  h = rotl(h, 13);
  return (Math.imul(h, 5) + 0xe6546b64) >>> 0;
}

/** `hash_add64`: low word, then high word. */
export function hashAdd64(hash: number, data: bigint): number {
  return hashAdd(hashAdd(hash, Number(data & 0xffffffffn)), Number((data >> 32n) & 0xffffffffn));
}

/** `hash_finish(hash, final)` = `mhash_finish(hash ^ final)`. */
export function hashFinish(hash: number, final: number): number {
  let h = (hash ^ final) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

/** `hash_int(x, basis)` = `hash_2words(x, basis)`. */
export function hashInt(x: number, basis: number): number {
  return hashFinish(hashAdd(hashAdd(x, 0), basis), 8);
}

/** `hash_uint64(x)` = `hash_uint64_basis(x, 0)`. */
export function hashUint64(x: bigint): number {
  return hashFinish(hashAdd64(0, BigInt.asUintN(64, x)), 8);
}

/** `hash_bytes(p, n, basis)`: little-endian 32-bit words, a zero-padded tail, finish with n. */
export function hashBytes(bytes: Uint8Array, basis: number): number {
  let h = basis >>> 0;
  const n = bytes.length;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    h = hashAdd(
      h,
      ((bytes[i] ?? 0) |
        ((bytes[i + 1] ?? 0) << 8) |
        ((bytes[i + 2] ?? 0) << 16) |
        ((bytes[i + 3] ?? 0) << 24)) >>>
        0,
    );
  }
  if (i < n) {
    let tmp = 0;
    for (let j = 0; i + j < n; j++) tmp |= (bytes[i + j] ?? 0) << (8 * j);
    h = hashAdd(h, tmp >>> 0);
  }
  return hashFinish(h, n);
}

/** `hash_boolean(x, basis)`. */
export function hashBoolean(x: boolean, basis: number): number {
  return ((x ? 0xc2b73583 : 0xe90f1258) ^ rotl(basis >>> 0, 1)) >>> 0;
}

/** A 16-bit value in network order, loaded as the low half of a little-endian word. */
const be16 = (v: number): number => ((v & 0xff) << 8) | ((v >>> 8) & 0xff);
/** A 32-bit value in network order, loaded as a little-endian word (byte swap). */
export const be32 = (v: number): number =>
  (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | ((v >>> 24) & 0xff)) >>> 0;

/** The 5-tuple as `flow_hash_5tuple` reads it; IPv6 addresses as 128-bit bigints. */
export interface FiveTuple {
  readonly dl_type: number;
  readonly nw_src: number;
  readonly nw_dst: number;
  readonly ipv6_src: bigint;
  readonly ipv6_dst: bigint;
  readonly nw_proto: number;
  readonly tp_src: number;
  readonly tp_dst: number;
}

/** The little-endian u64 load of 8 network-order bytes starting at bit `shift` of a 128-bit address. */
function le64Of(addr: bigint, firstHalf: boolean): bigint {
  const half = firstHalf ? (addr >> 64n) & 0xffffffffffffffffn : addr & 0xffffffffffffffffn;
  let out = 0n;
  for (let i = 0n; i < 8n; i++) out |= ((half >> (8n * (7n - i))) & 0xffn) << (8n * i);
  return out;
}

/**
 * `flow_hash_5tuple(flow, basis)` (lib/flow.c; `miniflow_hash_5tuple` computes the same on the
 * datapath's ingress key): addresses, protocol and both ports.
 */
export function flowHash5Tuple(f: FiveTuple, basis: number): number {
  let h = basis >>> 0;
  if (f.dl_type === 0x86dd) {
    h = hashAdd64(h, le64Of(f.ipv6_src, true));
    h = hashAdd64(h, le64Of(f.ipv6_src, false));
    h = hashAdd64(h, le64Of(f.ipv6_dst, true));
    h = hashAdd64(h, le64Of(f.ipv6_dst, false));
  } else if (f.dl_type === 0x0800 || f.dl_type === 0x0806) {
    h = hashAdd(h, be32(f.nw_src));
    h = hashAdd(h, be32(f.nw_dst));
  } else {
    return hashFinish(h, 42);
  }
  h = hashAdd(h, f.nw_proto & 0xff);
  const p = f.nw_proto;
  if (p === 6 || p === 17 || p === 132 || p === 1 || p === 58) {
    h = hashAdd(h, (be16(f.tp_src) | (be16(f.tp_dst) << 16)) >>> 0);
  }
  return hashFinish(h, 42);
}

/**
 * The dp_hash the userspace datapath computes for `hash(l4(basis))` (lib/odp-execute.c,
 * OVS_HASH_ALG_L4): `hash_int(rss, basis)` where the RSS hash is `miniflow_hash_5tuple` of
 * the packet as it entered the datapath (dpif-netdev). OVN's `ct_lb_mark` groups use this
 * (`selection_method=dp_hash`, param 0: algorithm L4, basis 0).
 */
export function dpHashL4(ingress: FiveTuple, basis = 0): number {
  return hashInt(flowHash5Tuple(ingress, 0), basis);
}
