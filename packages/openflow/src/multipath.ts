/**
 * `multipath`, `bundle` and `bundle_load` (upstream lib/multipath.c, lib/bundle.c and
 * `flow_hash_fields`/`flow_mask_hash_fields` of lib/flow.c): a hash of chosen packet fields
 * picks a link number into a register, or one live member port. The hashes are @ovnsim/lb's
 * ports of OVS's hash functions, so the choice is the one ovs-vswitchd makes.
 */
import { flowHashSymmetricL3L4, flowHashSymmetricL4, hashAdd, hashFinish, jhashBytes } from "@ovnsim/lb";
import { ETH_TYPE, SimError, W } from "@ovnsim/packet";
import { type Subfield, parseSubfield } from "./fieldio.js";
import { parsePort } from "./values.js";

export const HASH_FIELDS = [
  "eth_src",
  "symmetric_l4",
  "symmetric_l3l4",
  "symmetric_l3l4+udp",
  "nw_src",
  "nw_dst",
  "symmetric_l3",
] as const;
export type HashFieldsName = (typeof HASH_FIELDS)[number];

export const MP_ALGORITHMS = ["modulo_n", "hash_threshold", "hrw", "iter_hash"] as const;

export interface MultipathSpec {
  readonly fields: HashFieldsName;
  readonly basis: number;
  readonly algorithm: (typeof MP_ALGORITHMS)[number];
  readonly nLinks: number;
  readonly arg: number;
  readonly dst: Subfield;
}

export interface BundleSpec {
  readonly fields: HashFieldsName;
  readonly basis: number;
  readonly algorithm: "active_backup" | "hrw";
  readonly members: readonly number[];
  /** bundle_load: the register that gets the chosen port (bundle outputs to it instead). */
  readonly dst: Subfield | null;
}

const hashFieldsOf = (t: string, what: string): HashFieldsName => {
  const f = HASH_FIELDS.find((x) => x === t.trim());
  if (!f) throw new SimError("BAD_VALUE", `${what}: unknown fields "${t}"`);
  return f;
};

const uint = (t: string, what: string, max: number): number => {
  const v = t.trim();
  if (!/^(0x[0-9a-fA-F]+|\d+)$/.test(v)) throw new SimError("BAD_VALUE", `${what}: "${t}" is not a number`);
  const n = Number(v);
  if (n > max) throw new SimError("BAD_VALUE", `${what}: ${t} is out of range (max ${max})`);
  return n;
};

/** `multipath(fields, basis, algorithm, n_links, arg, dst)` (multipath_parse). */
export function parseMultipath(arg: string): MultipathSpec {
  const parts = arg.split(",");
  if (parts.length !== 6) throw new SimError("PARSE_ERROR", `multipath(${arg}): needs 6 arguments`);
  const algorithm = MP_ALGORITHMS.find((a) => a === parts[2]!.trim());
  if (!algorithm) throw new SimError("BAD_VALUE", `multipath(${arg}): unknown algorithm "${parts[2]}"`);
  const nLinks = uint(parts[3]!, "multipath n_links", 65536);
  if (nLinks < 1) throw new SimError("BAD_VALUE", `multipath(${arg}): n_links must be at least 1`);
  const dst = parseSubfield(parts[5]!);
  if (dst.nBits < 16 && 2 ** dst.nBits < nLinks)
    throw new SimError(
      "BAD_VALUE",
      `multipath(${arg}): ${dst.nBits}-bit destination is too small for ${nLinks} links`,
    );
  return {
    fields: hashFieldsOf(parts[0]!, "multipath"),
    basis: uint(parts[1]!, "multipath basis", 0xffff),
    algorithm,
    nLinks,
    arg: uint(parts[4]!, "multipath arg", 0xffffffff),
    dst,
  };
}

export const formatMultipath = (m: MultipathSpec, dst: string): string =>
  `multipath(${m.fields},${m.basis},${m.algorithm},${m.nLinks},${m.arg},${dst})`;

/** `bundle(fields, basis, algorithm, ofport, members:…)` / `bundle_load(…, dst, members:…)`. */
export function parseBundle(
  arg: string,
  load: boolean,
  portByName?: (n: string) => number | undefined,
): BundleSpec {
  const parts = arg.split(",");
  const nFixed = load ? 5 : 4;
  if (parts.length < nFixed + 1 || !parts[nFixed]!.trim().startsWith("members:"))
    throw new SimError(
      "PARSE_ERROR",
      `bundle(${arg}): expected ${load ? "fields,basis,algorithm,ofport,dst,members:…" : "fields,basis,algorithm,ofport,members:…"}`,
    );
  const algorithm = parts[2]!.trim();
  if (algorithm !== "active_backup" && algorithm !== "hrw")
    throw new SimError("BAD_VALUE", `bundle(${arg}): unknown algorithm "${parts[2]}"`);
  if (parts[3]!.trim() !== "ofport")
    throw new SimError("BAD_VALUE", `bundle(${arg}): member type must be ofport`);
  const first = parts[nFixed]!.trim().slice("members:".length);
  const memberTexts = [first, ...parts.slice(nFixed + 1)].map((s) => s.trim()).filter((s) => s !== "");
  return {
    fields: hashFieldsOf(parts[0]!, "bundle"),
    basis: uint(parts[1]!, "bundle basis", 0xffff),
    algorithm,
    members: memberTexts.map((m) => parsePort(m, portByName)),
    dst: load ? parseSubfield(parts[4]!) : null,
  };
}

const hash2Words = (x: number, y: number): number => hashFinish(hashAdd(hashAdd(x >>> 0, 0), y >>> 0), 8);

function bytesBE(words: readonly number[], nBytes: number, skip = 0): Uint8Array {
  const b = new Uint8Array(words.length * 4);
  words.forEach((w, i) => {
    b[4 * i] = w >>> 24;
    b[4 * i + 1] = (w >>> 16) & 0xff;
    b[4 * i + 2] = (w >>> 8) & 0xff;
    b[4 * i + 3] = w & 0xff;
  });
  return b.slice(skip, skip + nBytes);
}

const big128 = (k: Uint32Array, w: number): bigint =>
  (BigInt(k[w]!) << 96n) | (BigInt(k[w + 1]!) << 64n) | (BigInt(k[w + 2]!) << 32n) | BigInt(k[w + 3]!);

function symInput(k: Uint32Array) {
  const mac = (w: number): number => (k[w]! & 0xffff) * 0x100000000 + (k[w + 1]! >>> 0);
  const vlans: { vid: number }[] = [];
  for (const w of [W.vlan0, W.vlan1]) if (k[w]! & 0x1000) vlans.push({ vid: k[w]! & 0xfff });
  return {
    dl_type: k[W.dl_type]!,
    nw_src: k[W.nw_src]!,
    nw_dst: k[W.nw_dst]!,
    ipv6_src: big128(k, W.ipv6_src),
    ipv6_dst: big128(k, W.ipv6_dst),
    nw_proto: k[W.nw_proto]!,
    tp_src: k[W.tp_src]!,
    tp_dst: k[W.tp_dst]!,
    dl_src: mac(W.dl_src),
    dl_dst: mac(W.dl_dst),
    vlans,
    nw_frag: k[W.nw_frag]!,
  };
}

/** flow_hash_fields(). */
export function flowHashFields(k: Uint32Array, fields: HashFieldsName, basis: number): number {
  const ip4 = k[W.dl_type] === ETH_TYPE.ip;
  const ip6 = k[W.dl_type] === ETH_TYPE.ipv6;
  switch (fields) {
    case "eth_src":
      return jhashBytes(bytesBE([k[W.dl_src]!, k[W.dl_src + 1]!], 6, 2), basis);
    case "symmetric_l4":
      return flowHashSymmetricL4(symInput(k), basis);
    case "symmetric_l3l4":
      return flowHashSymmetricL3L4(symInput(k), basis, false);
    case "symmetric_l3l4+udp":
      return flowHashSymmetricL3L4(symInput(k), basis, true);
    case "nw_src":
    case "nw_dst": {
      const src = fields === "nw_src";
      if (ip4) return jhashBytes(bytesBE([k[src ? W.nw_src : W.nw_dst]!], 4), basis);
      if (ip6) {
        const w = src ? W.ipv6_src : W.ipv6_dst;
        return jhashBytes(bytesBE([k[w]!, k[w + 1]!, k[w + 2]!, k[w + 3]!], 16), basis);
      }
      return basis;
    }
    case "symmetric_l3": {
      // struct { union { be32; in6_addr }; be16 eth_type; } padded to 20 bytes.
      const b = new Uint8Array(20);
      if (ip4) b.set(bytesBE([(k[W.nw_src]! ^ k[W.nw_dst]!) >>> 0], 4), 0);
      else if (ip6)
        for (let i = 0; i < 4; i++)
          b.set(bytesBE([(k[W.ipv6_src + i]! ^ k[W.ipv6_dst + i]!) >>> 0], 4), 4 * i);
      b[16] = (k[W.dl_type]! >>> 8) & 0xff;
      b[17] = k[W.dl_type]! & 0xff;
      return jhashBytes(b, basis);
    }
  }
}

/** flow_mask_hash_fields(). */
export function maskHashFields(k: Uint32Array, wc: Uint32Array, fields: HashFieldsName): void {
  const ip4 = k[W.dl_type] === ETH_TYPE.ip;
  const ip6 = k[W.dl_type] === ETH_TYPE.ipv6;
  const all = (w: number, n = 1): void => {
    for (let i = 0; i < n; i++) wc[w + i] = 0xffffffff;
  };
  const mac = (w: number): void => {
    wc[w] = (wc[w]! | 0xffff) >>> 0;
    wc[w + 1] = 0xffffffff;
  };
  const addrs = (src: boolean, dst: boolean): void => {
    if (ip4) {
      if (src) all(W.nw_src);
      if (dst) all(W.nw_dst);
    } else if (ip6) {
      if (src) all(W.ipv6_src, 4);
      if (dst) all(W.ipv6_dst, 4);
    }
  };
  const proto = (): void => {
    wc[W.nw_proto] = (wc[W.nw_proto]! | 0xff) >>> 0;
  };
  const ports = (): void => {
    wc[W.tp_src] = (wc[W.tp_src]! | 0xffff) >>> 0;
    wc[W.tp_dst] = (wc[W.tp_dst]! | 0xffff) >>> 0;
  };
  const frag = (k[W.nw_frag]! & 3) !== 0;
  switch (fields) {
    case "eth_src":
      mac(W.dl_src);
      return;
    case "symmetric_l4":
      mac(W.dl_src);
      mac(W.dl_dst);
      addrs(true, true);
      if (ip4 || ip6) {
        proto();
        if (k[W.nw_proto] !== 17) ports();
      }
      for (const w of [W.vlan0, W.vlan1]) wc[w] = (wc[w]! | 0x1fff) >>> 0;
      return;
    case "symmetric_l3l4+udp":
    case "symmetric_l3l4":
      if (fields === "symmetric_l3l4+udp" && (ip4 || ip6) && k[W.nw_proto] === 17 && !frag) ports();
      if (!ip4 && !ip6) return;
      addrs(true, true);
      proto();
      if ((k[W.nw_proto] === 6 || k[W.nw_proto] === 132) && !frag) ports();
      return;
    case "nw_src":
      addrs(true, false);
      return;
    case "nw_dst":
      addrs(false, true);
      return;
    case "symmetric_l3":
      addrs(true, true);
      return;
  }
}

/** multipath_algorithm(). */
export function multipathLink(hash: number, m: MultipathSpec): number {
  const n = m.nLinks;
  const h = hash >>> 0;
  switch (m.algorithm) {
    case "modulo_n":
      return h % n;
    case "hash_threshold":
      return n === 1 ? 0 : Math.floor(h / (Math.floor(0xffffffff / n) + 1));
    case "hrw":
      if (n <= 64) {
        let best = 0;
        let bestW = hash2Words(h, 0);
        for (let l = 1; l < n; l++) {
          const w = hash2Words(h, l);
          if (w > bestW) {
            best = l;
            bestW = w;
          }
        }
        return best;
      }
      return iterHash(h, n, 0);
    case "iter_hash":
      return iterHash(h, n, m.arg);
  }
}

function iterHash(hash: number, n: number, modulo0: number): number {
  let modulo = modulo0;
  if (modulo < n || modulo / 2 > n) modulo = 2 ** Math.ceil(Math.log2(n));
  let i = 0;
  let link: number;
  do link = hash2Words(hash, i++) % modulo;
  while (link >= n);
  return link;
}

/** bundle_execute(): the chosen member, or OFPP_NONE (0xffff). */
export function bundleMember(
  k: Uint32Array,
  wc: Uint32Array,
  b: BundleSpec,
  enabled: (port: number) => boolean,
): number {
  if (b.algorithm === "active_backup") return b.members.find(enabled) ?? 0xffff;
  if (b.members.length > 1) maskHashFields(k, wc, b.fields);
  const fh = flowHashFields(k, b.fields, b.basis);
  let best = -1;
  let bestHash = 0;
  b.members.forEach((m, i) => {
    if (!enabled(m)) return;
    const h = hash2Words(i, fh);
    if (best < 0 || h > bestHash) {
      best = i;
      bestHash = h;
    }
  });
  return best >= 0 ? b.members[best]! : 0xffff;
}
