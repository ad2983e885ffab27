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

// Bob Jenkins' lookup3, as OVS `lib/jhash.c` has it.
function jmix(s: Uint32Array): void {
  let a = s[0] as number;
  let b = s[1] as number;
  let c = s[2] as number;
  a = (a - c) >>> 0;
  a = (a ^ rotl(c, 4)) >>> 0;
  c = (c + b) >>> 0;
  b = (b - a) >>> 0;
  b = (b ^ rotl(a, 6)) >>> 0;
  a = (a + c) >>> 0;
  c = (c - b) >>> 0;
  c = (c ^ rotl(b, 8)) >>> 0;
  b = (b + a) >>> 0;
  a = (a - c) >>> 0;
  a = (a ^ rotl(c, 16)) >>> 0;
  c = (c + b) >>> 0;
  b = (b - a) >>> 0;
  b = (b ^ rotl(a, 19)) >>> 0;
  a = (a + c) >>> 0;
  c = (c - b) >>> 0;
  c = (c ^ rotl(b, 4)) >>> 0;
  b = (b + a) >>> 0;
  s[0] = a;
  s[1] = b;
  s[2] = c;
}
function jfinal(s: Uint32Array): void {
  let a = s[0] as number;
  let b = s[1] as number;
  let c = s[2] as number;
  c = (c ^ b) >>> 0;
  c = (c - rotl(b, 14)) >>> 0;
  a = (a ^ c) >>> 0;
  a = (a - rotl(c, 11)) >>> 0;
  b = (b ^ a) >>> 0;
  b = (b - rotl(a, 25)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rotl(b, 16)) >>> 0;
  a = (a ^ c) >>> 0;
  a = (a - rotl(c, 4)) >>> 0;
  b = (b ^ a) >>> 0;
  b = (b - rotl(a, 14)) >>> 0;
  c = (c ^ b) >>> 0;
  c = (c - rotl(b, 24)) >>> 0;
  s[0] = a;
  s[1] = b;
  s[2] = c;
}
const le32At = (p: Uint8Array, i: number): number =>
  ((p[i] ?? 0) | ((p[i + 1] ?? 0) << 8) | ((p[i + 2] ?? 0) << 16) | ((p[i + 3] ?? 0) << 24)) >>> 0;

/** `jhash_bytes(p, n, basis)`. */
export function jhashBytes(p: Uint8Array, basis: number): number {
  const s = new Uint32Array(3);
  let n = p.length;
  const init = (0xdeadbeef + n + basis) >>> 0;
  s[0] = init;
  s[1] = init;
  s[2] = init;
  let i = 0;
  while (n >= 12) {
    s[0] = ((s[0] as number) + le32At(p, i)) >>> 0;
    s[1] = ((s[1] as number) + le32At(p, i + 4)) >>> 0;
    s[2] = ((s[2] as number) + le32At(p, i + 8)) >>> 0;
    jmix(s);
    n -= 12;
    i += 12;
  }
  if (n > 0) {
    const tail = new Uint8Array(12);
    tail.set(p.subarray(i, i + n));
    s[0] = ((s[0] as number) + le32At(tail, 0)) >>> 0;
    s[1] = ((s[1] as number) + le32At(tail, 4)) >>> 0;
    s[2] = ((s[2] as number) + le32At(tail, 8)) >>> 0;
    jfinal(s);
  }
  return s[2] as number;
}

/** What `flow_hash_symmetric_l4` reads. */
export interface SymmetricL4Input extends FiveTuple {
  readonly dl_src: number;
  readonly dl_dst: number;
  readonly vlans: readonly { readonly vid: number }[];
}

/**
 * `flow_hash_symmetric_l4(flow, basis)` (lib/flow.c): the same value in both directions; the
 * hash of a select group without a usable selection method (OVS's "default" method) and of
 * `hash(sym_l4)`. UDP ports are left out, TCP and SCTP ports XORed.
 */
export function flowHashSymmetricL4(f: SymmetricL4Input, basis: number): number {
  const b = new Uint8Array(32); // struct { union{be32; in6_addr}; be16 eth_type, vlan_tci, tp_port; eth_addr; u8 ip_proto; } + padding
  const put16 = (off: number, v: number): void => {
    b[off] = (v >>> 8) & 0xff;
    b[off + 1] = v & 0xff;
  };
  for (let i = 0; i < 6; i++) {
    const shift = 8 * (5 - i);
    const s = Math.floor(f.dl_src / 2 ** shift) & 0xff;
    const d = Math.floor(f.dl_dst / 2 ** shift) & 0xff;
    b[22 + i] = s ^ d;
  }
  let tci = 0;
  for (const v of f.vlans.slice(0, 2)) tci ^= v.vid & 0xfff;
  put16(18, tci);
  put16(16, f.dl_type);
  const portXor = f.nw_proto === 6 || f.nw_proto === 132;
  if (f.dl_type === 0x0800) {
    const x = (f.nw_src ^ f.nw_dst) >>> 0;
    b[0] = x >>> 24;
    b[1] = (x >>> 16) & 0xff;
    b[2] = (x >>> 8) & 0xff;
    b[3] = x & 0xff;
    b[28] = f.nw_proto & 0xff;
    if (portXor) put16(20, (f.tp_src ^ f.tp_dst) & 0xffff);
  } else if (f.dl_type === 0x86dd) {
    const x = f.ipv6_src ^ f.ipv6_dst;
    for (let i = 0; i < 16; i++) b[i] = Number((x >> BigInt(8 * (15 - i))) & 0xffn);
    b[28] = f.nw_proto & 0xff;
    if (portXor) put16(20, (f.tp_src ^ f.tp_dst) & 0xffff);
  }
  return jhashBytes(b, basis);
}

/** The L2 part of `flow_hash_symmetric_l2`: 12 bytes (eth_type, vid XOR, MAC XOR, pad) as LE words. */
function flowHashSymmetricL2(f: SymmetricL4Input, basis: number): number {
  const b = new Uint8Array(12);
  b[0] = (f.dl_type >>> 8) & 0xff;
  b[1] = f.dl_type & 0xff;
  let tci = 0;
  for (const v of f.vlans.slice(0, 2)) tci ^= v.vid & 0xfff;
  b[2] = (tci >>> 8) & 0xff;
  b[3] = tci & 0xff;
  for (let i = 0; i < 6; i++) {
    const shift = 8 * (5 - i);
    b[4 + i] = (Math.floor(f.dl_src / 2 ** shift) & 0xff) ^ (Math.floor(f.dl_dst / 2 ** shift) & 0xff);
  }
  let h = basis >>> 0;
  for (let i = 0; i < 12; i += 4) h = hashAdd(h, le32At(b, i));
  return hashFinish(h, basis);
}

/**
 * `flow_hash_symmetric_l3l4(flow, basis, inc_udp_ports)` (lib/flow.c): the datapath hash of
 * `hash(sym_l4(basis))`, which OVS uses for select groups created without a selection method.
 */
export function flowHashSymmetricL3L4(
  f: SymmetricL4Input & { readonly nw_frag?: number },
  basis: number,
  incUdpPorts = false,
): number {
  let h = basis >>> 0;
  if (f.dl_type === 0x0800) {
    h = hashAdd(h, be32((f.nw_src ^ f.nw_dst) >>> 0));
  } else if (f.dl_type === 0x86dd) {
    const x = f.ipv6_src ^ f.ipv6_dst;
    h = hashAdd64(h, le64Of(x, true));
    h = hashAdd64(h, le64Of(x, false));
  } else {
    return flowHashSymmetricL2(f, basis);
  }
  h = hashAdd(h, f.nw_proto & 0xff);
  const p = f.nw_proto;
  if (((f.nw_frag ?? 0) & 3) === 0 && (p === 6 || p === 132 || (incUdpPorts && p === 17))) {
    h = hashAdd(h, be16((f.tp_src ^ f.tp_dst) & 0xffff));
  }
  return hashFinish(h, basis);
}
