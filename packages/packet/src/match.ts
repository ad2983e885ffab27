/**
 * A match: value/mask pairs over the flow key, as OVS `struct match` (a `struct flow` plus a
 * `struct flow_wildcards` of the same shape). It is what an OpenFlow rule, a megaflow and an
 * `ovs-ofctl` match string describe, with OVS's invariant that `value & ~mask == 0`.
 *
 * The text forms follow upstream exactly, because people diff our output against real OVS:
 * `parseMatch` reads the `ovs-ofctl` match syntax (lib/ofp-flow.c `parse_ofp_str__`,
 * lib/meta-flow.c `mf_parse`), and `formatMatch` prints as `match_format()` in lib/match.c does
 * (field order, when `eth`/`ip`/`tcp` shorthands replace dl_type/nw_proto, when a VLAN prints as
 * `dl_vlan=` or `vlan_tci=`, hex vs decimal, CIDR vs dotted masks).
 *
 * Inside, a match is two FLOW_WORDS-word arrays (see key.ts) so that the classifier can use it
 * without conversion; `Match.fields` is the plain readonly view, one entry per stored field.
 */
import { formatIp4, formatIp6, formatMac, maskToPlen4, maskToPlen6, parseIp4Scan, parseIp6 } from "./addr.js";
import { SimError } from "./errors.js";
import { type FieldSpec, findField, tunMetadataIndex } from "./fields.js";
import { ETH_TYPE, FRAG, IP_PROTO, OFPP } from "./flow.js";
import { FLOW_WORDS, W } from "./key.js";
import { TUN_FLAG_NAMES, TUN_FLAGS_MASK, TUN_FLAGS_PUBLIC } from "./tunnel.js";

/** One matched field: value and mask, with `value & ~mask == 0`. */
export interface FieldMatch {
  readonly field: FieldSpec;
  /** number for fields up to 32 bits and for MACs (48-bit integers); bigint for 64/128-bit fields. */
  readonly value: number | bigint;
  readonly mask: number | bigint;
}

/** A match in canonical form: the stored fields it constrains, in FIELDS order. */
export interface Match {
  readonly fields: readonly FieldMatch[];
  /** Whether packet_type is matched (it is always Ethernet here); OVS prints `eth` for megaflows. */
  readonly eth: boolean;
}

/** The internal value/mask word form. */
export interface MatchWords {
  readonly value: Uint32Array;
  readonly mask: Uint32Array;
  readonly eth: boolean;
}

// ---------------------------------------------------------------------------------------------
// Field <-> words

/**
 * Bits of its word a field of at most 32 bits covers when matched exactly. Mostly the field's
 * width, but as in OVS: nw_tos is the DSCP bits only, arp_op is nw_proto's 8 bits, ICMP
 * type/code set the whole 16-bit tp_src/tp_dst mask, ipv6_label's exact mask is 32 bits (a
 * megaflow's is 0xfffff, and prints as such), ct_state is 8 bits.
 */
export function fieldWordMask(spec: FieldSpec): number {
  const o = WORD_MASK_OVERRIDES.get(spec.name);
  if (o !== undefined) return o;
  if (spec.bits >= 32) return 0xffffffff;
  return (((1 << spec.bits) - 1) << spec.shift) >>> 0;
}

const WORD_MASK_OVERRIDES: ReadonlyMap<string, number> = new Map([
  ["nw_tos", 0xfc],
  ["arp_op", 0xff],
  ["icmp_type", 0xffff],
  ["icmp_code", 0xffff],
  ["icmpv6_type", 0xffff],
  ["icmpv6_code", 0xffff],
  ["ipv6_label", 0xffffffff],
  ["ct_state", 0xff],
]);

/** The values a field may take (its width; DSCP-only for nw_tos), before shifting. */
export function fieldValueMask(spec: FieldSpec): bigint {
  if (spec.name === "nw_tos") return 0xfcn;
  return (1n << BigInt(spec.bits)) - 1n;
}

const isBig = (spec: FieldSpec): boolean => spec.bits > 32 && spec.format !== "mac";
const nWords = (spec: FieldSpec): number => (spec.bits <= 32 ? 1 : Math.ceil(spec.bits / 32));

/** A field's value read from a word array (number or bigint as FieldMatch says). */
export function getFieldValue(words: Uint32Array, spec: FieldSpec): number | bigint {
  const at = spec.word;
  if (spec.bits <= 32) return ((words[at]! & fieldWordMask(spec)) >>> spec.shift) >>> 0;
  if (spec.format === "mac") return (words[at]! & 0xffff) * 0x100000000 + (words[at + 1]! >>> 0);
  let v = 0n;
  for (let i = 0; i < nWords(spec); i++) v = (v << 32n) | BigInt(words[at + i]!);
  return v;
}

function putFieldValue(words: Uint32Array, spec: FieldSpec, v: number | bigint, merge: boolean): void {
  const at = spec.word;
  if (spec.bits <= 32) {
    const fm = fieldWordMask(spec);
    const bits = ((Number(v) << spec.shift) & fm) >>> 0;
    words[at] = merge ? ((words[at]! & ~fm) | bits) >>> 0 : bits;
    return;
  }
  if (spec.format === "mac") {
    const n = Number(v);
    words[at] = Math.floor(n / 0x100000000) & 0xffff;
    words[at + 1] = n >>> 0;
    return;
  }
  let b = BigInt(v);
  for (let i = nWords(spec) - 1; i >= 0; i--) {
    words[at + i] = Number(b & 0xffffffffn);
    b >>= 32n;
  }
}

function isZeroField(words: Uint32Array, spec: FieldSpec): boolean {
  if (spec.bits <= 32) return (words[spec.word]! & fieldWordMask(spec)) === 0;
  for (let i = 0; i < nWords(spec); i++) if (words[spec.word + i] !== 0) return false;
  return true;
}

/** Sets `spec` to value/mask in `mw` (value is ANDed with mask, as OVS's match_set_*_masked). */
export function setFieldMasked(
  mw: { value: Uint32Array; mask: Uint32Array },
  spec: FieldSpec,
  value: number | bigint,
  mask: number | bigint,
): void {
  if (spec.bits <= 32) {
    const m = Number(mask) >>> 0;
    putFieldValue(mw.mask, spec, m, true);
    putFieldValue(mw.value, spec, (Number(value) & m) >>> 0, true);
    const md = tunMetadataIndex(spec);
    if (md >= 0) {
      // Matching a Geneve option's value also requires it present (tun_metadata present map).
      const w = W.tun_md_present + (md >>> 5);
      const bit = (1 << (md & 31)) >>> 0;
      mw.mask[w] = m ? (mw.mask[w]! | bit) >>> 0 : (mw.mask[w]! & ~bit) >>> 0;
      mw.value[w] = m ? (mw.value[w]! | bit) >>> 0 : (mw.value[w]! & ~bit) >>> 0;
    }
  } else if (spec.format === "mac") {
    const m = Number(mask);
    const hi = Math.floor(Number(value) / 0x100000000) & Math.floor(m / 0x100000000);
    const lo = (Number(value) >>> 0) & (m >>> 0);
    putFieldValue(mw.mask, spec, m, false);
    putFieldValue(mw.value, spec, hi * 0x100000000 + (lo >>> 0), false);
  } else {
    const m = BigInt(mask);
    putFieldValue(mw.mask, spec, m, false);
    putFieldValue(mw.value, spec, BigInt(value) & m, false);
  }
}

const spec = (name: string): FieldSpec => {
  const s = findField(name);
  if (!s) throw new Error(`packet: no field ${name}`);
  return s;
};

/** The stored fields, one per storage location, in canonical (FIELDS) order. */
export const STORED_FIELDS: readonly FieldSpec[] = [
  "recirc_id",
  "dp_hash",
  "in_port",
  "skb_priority",
  "pkt_mark",
  "ct_state",
  "ct_zone",
  "ct_mark",
  "ct_label",
  "ct_nw_src",
  "ct_nw_dst",
  "ct_ipv6_src",
  "ct_ipv6_dst",
  "ct_nw_proto",
  "ct_tp_src",
  "ct_tp_dst",
  "metadata",
  ...Array.from({ length: 16 }, (_, i) => `reg${i}`),
  "tun_id",
  "tun_src",
  "tun_dst",
  "tun_ipv6_src",
  "tun_ipv6_dst",
  "tun_gbp_id",
  "tun_gbp_flags",
  "tun_flags",
  ...Array.from({ length: 64 }, (_, i) => `tun_metadata${i}`),
  "dl_src",
  "dl_dst",
  "dl_type",
  "vlan_tci",
  "vlan_tci1",
  "mpls_label",
  "mpls_tc",
  "mpls_bos",
  "mpls_ttl",
  "nw_src",
  "nw_dst",
  "ipv6_src",
  "ipv6_dst",
  "ipv6_label",
  "nw_proto",
  "nw_tos",
  "nw_ecn",
  "nw_ttl",
  "nw_frag",
  "arp_sha",
  "arp_tha",
  "tcp_src",
  "tcp_dst",
  "tcp_flags",
  "nd_target",
].map(spec);

const fullMask = (s: FieldSpec): number | bigint =>
  isBig(s) ? (1n << BigInt(s.bits)) - 1n : s.format === "mac" ? 0xffffffffffff : fieldWordMask(s) >>> s.shift;

/** The words of a match. */
export function matchToWords(match: Match): MatchWords {
  const value = new Uint32Array(FLOW_WORDS);
  const mask = new Uint32Array(FLOW_WORDS);
  const mw = { value, mask };
  for (const fm of match.fields) setFieldMasked(mw, fm.field, fm.value, fm.mask);
  return { value, mask, eth: match.eth };
}

/** A canonical match from words (the value is ANDed with the mask). */
export function wordsToMatch(value: Uint32Array, mask: Uint32Array, eth = false): Match {
  const fields: FieldMatch[] = [];
  for (const s of STORED_FIELDS) {
    if (isZeroField(mask, s)) continue;
    const m = getFieldValue(mask, s);
    const v = getFieldValue(value, s);
    const vv =
      typeof v === "bigint"
        ? v & (m as bigint)
        : s.format === "mac"
          ? macAnd(v, m as number)
          : (v & (m as number)) >>> 0;
    fields.push(Object.freeze({ field: s, value: vv, mask: m }));
  }
  return Object.freeze({ fields: Object.freeze(fields), eth });
}

const macAnd = (a: number, b: number): number =>
  (Math.floor(a / 0x100000000) & Math.floor(b / 0x100000000)) * 0x100000000 + (((a >>> 0) & (b >>> 0)) >>> 0);

/** The match that matches every packet. */
export const CATCHALL_MATCH: Match = Object.freeze({ fields: Object.freeze([]), eth: false });

/**
 * Builds a match from field names and values (mask defaults to exact), e.g.
 * `makeMatch([{ field: "dl_type", value: 0x800 }, { field: "nw_dst", value: ip, mask: 0xffffff00 }])`.
 */
export function makeMatch(
  items: readonly {
    readonly field: string | FieldSpec;
    readonly value: number | bigint;
    readonly mask?: number | bigint;
  }[],
  eth = false,
): Match {
  const value = new Uint32Array(FLOW_WORDS);
  const mask = new Uint32Array(FLOW_WORDS);
  for (const it of items) {
    const s = typeof it.field === "string" ? findField(it.field) : it.field;
    if (!s) throw new SimError("UNKNOWN_FIELD", `unknown field ${String(it.field)}`);
    setFieldMasked({ value, mask }, s, it.value, it.mask ?? fullMask(s));
  }
  return wordsToMatch(value, mask, eth);
}

/** Whether the flow key `key` (FLOW_WORDS words) satisfies the match words. */
export function keyMatches(mw: MatchWords, key: Uint32Array): boolean {
  const { value, mask } = mw;
  for (let i = 0; i < FLOW_WORDS; i++) if ((key[i]! & mask[i]!) >>> 0 !== value[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Printing (lib/match.c match_format)

const CT_NAMES: readonly string[] = ["new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"];
const TCP_NAMES: readonly string[] = [
  "fin",
  "syn",
  "rst",
  "psh",
  "ack",
  "urg",
  "ece",
  "cwr",
  "ns",
  "[200]",
  "[400]",
  "[800]",
];

const bitName = (names: readonly string[], bit: number): string | undefined => names[31 - Math.clz32(bit)];

/** OVS format_flags(): names joined by `|`, unknown bits as one hex number, "0" when none. */
function formatFlags(names: readonly string[], flags: number): string {
  if (!flags) return "0";
  const out: string[] = [];
  let bad = 0;
  for (let f = flags >>> 0; f; ) {
    const bit = (f & -f) >>> 0;
    const n = bitName(names, bit);
    if (n) out.push(n);
    else bad = (bad | bit) >>> 0;
    f = (f & ~bit) >>> 0;
  }
  if (bad) out.push(`0x${bad.toString(16)}`);
  return out.join("|");
}

/** OVS format_flags_masked(). */
function formatFlagsMasked(names: readonly string[], flags: number, mask: number, max: number): string {
  if (mask === max) return formatFlags(names, flags);
  if (!mask) return "0/0";
  let s = "";
  for (let m = mask >>> 0; m; ) {
    const bit = (m & -m) >>> 0;
    s += `${flags & bit ? "+" : "-"}${bitName(names, bit) ?? "[Unknown]"}`;
    m = (m & ~bit) >>> 0;
  }
  return s;
}

const hex = (n: number): string => (n === 0 ? "0" : `0x${n.toString(16)}`); // C "%#x"
const hexBig = (n: bigint): string => (n === 0n ? "0" : `0x${n.toString(16)}`);

function ipMasked(ip: number, mask: number): string {
  let s = formatIp4(ip);
  if (mask !== 0xffffffff) {
    const plen = maskToPlen4(mask);
    s += plen >= 0 && cidrMask4(mask) ? `/${plen}` : `/${formatIp4(mask)}`;
  }
  return s;
}
// A CIDR mask has all its one bits on the left (the prefix), which maskToPlen4 checks.
const cidrMask4 = (mask: number): boolean => maskToPlen4(mask) >= 0;

function ip6Masked(ip: bigint, mask: bigint): string {
  let s = formatIp6(ip);
  if (mask !== (1n << 128n) - 1n) {
    const plen = maskToPlen6(mask);
    s += plen >= 0 ? `/${plen}` : `/${formatIp6(mask)}`;
  }
  return s;
}

function macMasked(mac: number, mask: number): string {
  return mask === 0xffffffffffff ? formatMac(mac) : `${formatMac(mac)}/${formatMac(mask)}`;
}

const RESERVED_PORTS: ReadonlyMap<number, string> = new Map([
  [0xfff7, "UNSET"],
  [OFPP.IN_PORT, "IN_PORT"],
  [OFPP.TABLE, "TABLE"],
  [OFPP.NORMAL, "NORMAL"],
  [OFPP.FLOOD, "FLOOD"],
  [OFPP.ALL, "ALL"],
  [OFPP.CONTROLLER, "CONTROLLER"],
  [OFPP.LOCAL, "LOCAL"],
  [0xffff, "ANY"],
]);

/**
 * An OpenFlow port as OVS prints it: reserved names, else the name from `names` (bare when a
 * letter followed by letters and digits, JSON-quoted otherwise: lib/namemap.c
 * namemap_put_name), else the number.
 */
export function formatPort(port: number, names?: ReadonlyMap<number, string>): string {
  const r = RESERVED_PORTS.get(port);
  if (r !== undefined) return r;
  const n = names?.get(port);
  if (n === undefined) return String(port);
  return /^[A-Za-z][A-Za-z0-9]*$/.test(n) ? n : JSON.stringify(n);
}

/**
 * match.c format_flow_tunnel(): tunnel fields in OVS's order and styles (tun_tos in bare hex,
 * tun_flags as datapath flag names), then tun_metadata_match_format(). `extra` prints the
 * always-zero fields ovnsim does not model (erspan, GTP-U) where flow_format shows them.
 */
function formatTunnelWords(
  f: Uint32Array,
  m: Uint32Array,
  put: (s: string) => void,
  extra: { readonly zeroFields?: boolean } | undefined,
): void {
  const idM = big(m, W.tun_id, 2);
  if (idM) {
    const v = big(f, W.tun_id, 2);
    put(`tun_id=${hexBig(v)}${idM !== 0xffffffffffffffffn ? `/${hexBig(idM)}` : ""}`);
  }
  if (w32(m, W.tun_src)) put(`tun_src=${ipMasked(w32(f, W.tun_src), w32(m, W.tun_src))}`);
  if (w32(m, W.tun_dst)) put(`tun_dst=${ipMasked(w32(f, W.tun_dst), w32(m, W.tun_dst))}`);
  if (!zeroWords(m, W.tun_ipv6_src, 4))
    put(`tun_ipv6_src=${ip6Masked(big(f, W.tun_ipv6_src, 4), big(m, W.tun_ipv6_src, 4))}`);
  if (!zeroWords(m, W.tun_ipv6_dst, 4))
    put(`tun_ipv6_dst=${ip6Masked(big(f, W.tun_ipv6_dst, 4), big(m, W.tun_ipv6_dst, 4))}`);
  const gbpM = m[W.tun_gbp_id]! & 0xffff;
  if (gbpM) {
    const v = f[W.tun_gbp_id]! & 0xffff;
    put(`tun_gbp_id=${gbpM === 0xffff ? String(v) : `0x${v.toString(16)}/0x${gbpM.toString(16)}`}`);
  }
  if (m[W.tun_gbp_flags]! & 0xff) put(`tun_gbp_flags=${hex(f[W.tun_gbp_flags]! & 0xff)}`);
  if (m[W.tun_tos]! & 0xff) put(`tun_tos=${(f[W.tun_tos]! & 0xff).toString(16)}`);
  if (m[W.tun_ttl]! & 0xff) put(`tun_ttl=${f[W.tun_ttl]! & 0xff}`);
  if (extra?.zeroFields) {
    put("tun_erspan_ver=0");
    put("gtpu_flags=0");
    put("gtpu_msgtype=0");
  }
  const flM = m[W.tun_flags]! & TUN_FLAGS_MASK;
  if (flM) {
    put(
      `tun_flags=${formatFlagsMasked(TUN_FLAG_NAMES, f[W.tun_flags]! & TUN_FLAGS_MASK, flM, TUN_FLAGS_MASK)}`,
    );
  }
  for (let i = 0; i < 64; i++) {
    const pw = W.tun_md_present + (i >>> 5);
    const bit = (1 << (i & 31)) >>> 0;
    if (!(m[pw]! & bit)) continue;
    if (!(f[pw]! & bit)) {
      put(`tun_metadata${i}=NP`);
      continue;
    }
    const mk = w32(m, W.tun_metadata0 + i);
    if (mk === 0) {
      put(`tun_metadata${i}`);
      continue;
    }
    const v = w32(f, W.tun_metadata0 + i);
    put(`tun_metadata${i}=${hex(v)}${mk !== 0xffffffff ? `/${hex(mk)}` : ""}`);
  }
}

export interface FormatMatchOptions {
  /** flow_format(): also print the tunnel fields ovnsim does not model, as zeros. */
  readonly tunnel?: { readonly zeroFields?: boolean };
  /** OpenFlow port names by number (ovs-ofctl --names); numbers print otherwise. */
  readonly portNames?: ReadonlyMap<number, string>;
  /** Printed first as `priority=N,` when given and not 32768 (OFP_DEFAULT_PRIORITY). */
  readonly priority?: number;
}

const w32 = (a: Uint32Array, i: number): number => a[i]! >>> 0;
const mac = (a: Uint32Array, i: number): number => (a[i]! & 0xffff) * 0x100000000 + (a[i + 1]! >>> 0);
const zeroWords = (a: Uint32Array, i: number, n: number): boolean => {
  for (let k = 0; k < n; k++) if (a[i + k] !== 0) return false;
  return true;
};
function big(a: Uint32Array, i: number, n: number): bigint {
  let v = 0n;
  for (let k = 0; k < n; k++) v = (v << 32n) | BigInt(a[i + k]!);
  return v;
}

/** Prints match words exactly as OVS 3.1 `match_format()`. */
export function formatMatchWords(mw: MatchWords, opts: FormatMatchOptions = {}): string {
  const f = mw.value;
  const m = mw.mask;
  const out: string[] = [];
  const put = (s: string): void => {
    out.push(s);
  };
  const u32 = (name: string, i: number): void => {
    const mk = w32(m, i);
    if (mk) put(`${name}=${hex(w32(f, i))}${mk !== 0xffffffff ? `/${hex(mk)}` : ""}`);
  };
  const be16 = (name: string, v: number, mk: number): void => {
    if (mk) put(`${name}=${mk === 0xffff ? String(v) : `0x${v.toString(16)}/0x${mk.toString(16)}`}`);
  };
  const ip4 = (name: string, i: number): void => {
    if (w32(m, i)) put(`${name}=${ipMasked(w32(f, i), w32(m, i))}`);
  };
  const ip6 = (name: string, i: number): void => {
    if (zeroWords(m, i, 4)) return;
    put(`${name}=${ip6Masked(big(f, i, 4), big(m, i, 4))}`);
  };
  const eth = (name: string, i: number): void => {
    const mk = mac(m, i);
    if (mk) put(`${name}=${macMasked(mac(f, i), mk)}`);
  };

  if (opts.priority !== undefined && opts.priority !== 32768) put(`priority=${opts.priority}`);
  u32("pkt_mark", W.pkt_mark);
  const isMegaflow = w32(m, W.recirc_id) !== 0;
  u32("recirc_id", W.recirc_id);
  u32("dp_hash", W.dp_hash);
  if (w32(m, W.skb_priority)) put(`skb_priority=${hex(w32(f, W.skb_priority))}`);
  const ctsM = m[W.ct_state]! & 0xff;
  if (ctsM) {
    const v = f[W.ct_state]! & 0xff;
    put(`ct_state=${ctsM === 0xff ? formatFlags(CT_NAMES, v) : formatFlagsMasked(CT_NAMES, v, ctsM, 0xff)}`);
  }
  const zoneM = m[W.ct_zone]! & 0xffff;
  if (zoneM) be16("ct_zone", f[W.ct_zone]! & 0xffff, zoneM);
  u32("ct_mark", W.ct_mark);
  const lblM = zeroWords(m, W.ct_label, 4) ? 0n : big(m, W.ct_label, 4);
  if (lblM)
    put(`ct_label=${hexBig(big(f, W.ct_label, 4))}${lblM !== (1n << 128n) - 1n ? `/${hexBig(lblM)}` : ""}`);
  ip4("ct_nw_src", W.ct_nw_src);
  ip6("ct_ipv6_src", W.ct_ipv6_src);
  ip4("ct_nw_dst", W.ct_nw_dst);
  ip6("ct_ipv6_dst", W.ct_ipv6_dst);
  if (m[W.ct_nw_proto]! & 0xff) {
    put(`ct_nw_proto=${f[W.ct_nw_proto]! & 0xff}`);
    be16("ct_tp_src", f[W.ct_tp_src]! & 0xffff, m[W.ct_tp_src]! & 0xffff);
    be16("ct_tp_dst", f[W.ct_tp_dst]! & 0xffff, m[W.ct_tp_dst]! & 0xffff);
  }
  if (mw.eth && isMegaflow) put("eth");

  const dlType = f[W.dl_type]! & 0xffff;
  const dlTypeM = m[W.dl_type]! & 0xffff;
  const proto = f[W.nw_proto]! & 0xff;
  const protoM = m[W.nw_proto]! & 0xff;
  let skipType = false;
  let skipProto = false;
  if (dlTypeM) {
    skipType = true;
    if (dlType === ETH_TYPE.ip || dlType === ETH_TYPE.ipv6) {
      const v6 = dlType === ETH_TYPE.ipv6;
      let name = v6 ? "ipv6" : "ip";
      if (protoM) {
        skipProto = true;
        if (proto === (v6 ? IP_PROTO.icmpv6 : IP_PROTO.icmp)) name = v6 ? "icmp6" : "icmp";
        else if (proto === IP_PROTO.tcp) name = v6 ? "tcp6" : "tcp";
        else if (proto === IP_PROTO.udp) name = v6 ? "udp6" : "udp";
        else if (proto === IP_PROTO.sctp) name = v6 ? "sctp6" : "sctp";
        else skipProto = false;
      }
      put(name);
    } else if (dlType === ETH_TYPE.arp) put("arp");
    else if (dlType === ETH_TYPE.rarp) put("rarp");
    else if (dlType === 0x8847) put("mpls");
    else if (dlType === 0x8848) put("mplsm");
    else skipType = false;
  }
  for (let i = 0; i < 16; i++) u32(`reg${i}`, W.reg0 + i);
  formatTunnelWords(f, m, put, opts.tunnel);
  const md = zeroWords(m, W.metadata, 2) ? 0n : big(m, W.metadata, 2);
  if (md) put(`metadata=${hexBig(big(f, W.metadata, 2))}${md !== (1n << 64n) - 1n ? `/${hexBig(md)}` : ""}`);
  if (m[W.in_port]! & 0xffff) put(`in_port=${formatPort(f[W.in_port]! & 0xffff, opts.portNames)}`);
  for (let i = 0; i < 2; i++) {
    const tciM = m[W.vlan0 + i]! & 0xffff;
    if (!tciM) break;
    const tci = f[W.vlan0 + i]! & 0xffff;
    const sfx = i === 0 ? "" : String(i);
    const vidM = tciM & 0x0fff;
    const pcpM = tciM & 0xe000;
    if (
      tciM & 0x1000 &&
      tci & 0x1000 &&
      (!vidM || vidM === 0xfff) &&
      (!pcpM || pcpM === 0xe000) &&
      (vidM || pcpM)
    ) {
      if (vidM) put(`dl_vlan${sfx}=${tci & 0xfff}`);
      if (pcpM) put(`dl_vlan_pcp${sfx}=${tci >>> 13}`);
    } else if (tciM === 0xffff) {
      put(`vlan_tci${sfx}=0x${tci.toString(16).padStart(4, "0")}`);
    } else {
      put(`vlan_tci${sfx}=0x${tci.toString(16).padStart(4, "0")}/0x${tciM.toString(16).padStart(4, "0")}`);
    }
  }
  eth("dl_src", W.dl_src);
  eth("dl_dst", W.dl_dst);
  if (!skipType && dlTypeM) put(`dl_type=0x${dlType.toString(16).padStart(4, "0")}`);
  const isArpT = dlType === ETH_TYPE.arp || dlType === ETH_TYPE.rarp;
  if (dlType === ETH_TYPE.ipv6) {
    ip6("ipv6_src", W.ipv6_src);
    ip6("ipv6_dst", W.ipv6_dst);
    const lm = w32(m, W.ipv6_label);
    if (lm) {
      const lv = w32(f, W.ipv6_label).toString(16).padStart(5, "0");
      put(`ipv6_label=0x${lv}${lm === 0xffffffff ? "" : `/0x${lm.toString(16).padStart(5, "0")}`}`);
    }
  } else if (isArpT) {
    ip4("arp_spa", W.nw_src);
    ip4("arp_tpa", W.nw_dst);
  } else {
    ip4("nw_src", W.nw_src);
    ip4("nw_dst", W.nw_dst);
  }
  if (!skipProto && protoM) put(`${isArpT ? "arp_op" : "nw_proto"}=${proto}`);
  if (isArpT) {
    eth("arp_sha", W.arp_sha);
    eth("arp_tha", W.arp_tha);
  }
  const tosM = m[W.nw_tos]! & 0xff;
  const tos = f[W.nw_tos]! & 0xff;
  if (tosM & 0xfc) put(`nw_tos=${tos & 0xfc}`);
  if (tosM & 0x03) put(`nw_ecn=${tos & 0x03}`);
  if (m[W.nw_ttl]! & 0xff) put(`nw_ttl=${f[W.nw_ttl]! & 0xff}`);
  // match_format() prints the label stack after the IP TOS/TTL, before nw_frag.
  const lseM = m[W.mpls_lse]!;
  if (lseM) {
    const lse = f[W.mpls_lse]!;
    if (lseM & 0xfffff000) put(`mpls_label=${lse >>> 12}`);
    if (lseM & 0xe00) put(`mpls_tc=${(lse >>> 9) & 7}`);
    if (lseM & 0xff) put(`mpls_ttl=${lse & 0xff}`);
    if (lseM & 0x100) put(`mpls_bos=${(lse >>> 8) & 1}`);
  }
  // format_be32_masked(): the deeper label stack entries, whole or as value/mask.
  for (const [name, w] of [
    ["mpls_lse1", W.mpls_lse1],
    ["mpls_lse2", W.mpls_lse2],
  ] as const) {
    const lm = m[w]! >>> 0;
    if (!lm) continue;
    const lv = f[w]! >>> 0;
    const h = (x: number): string => `0x${x.toString(16).padStart(8, "0")}`;
    put(`${name}=${lm === 0xffffffff ? String(lv) : `${h(lv)}/${h(lm)}`}`);
  }
  const fragM = m[W.nw_frag]! & 3;
  const frag = f[W.nw_frag]! & 3;
  if (fragM === 3) {
    put(
      `nw_frag=${frag & FRAG.any ? (frag & FRAG.later ? "later" : "first") : frag & FRAG.later ? "<error>" : "no"}`,
    );
  } else if (fragM === FRAG.any) put(`nw_frag=${frag & FRAG.any ? "yes" : "no"}`);
  else if (fragM === FRAG.later) put(`nw_frag=${frag & FRAG.later ? "later" : "not_later"}`);
  const tpS = f[W.tp_src]! & 0xffff;
  const tpSM = m[W.tp_src]! & 0xffff;
  const tpD = f[W.tp_dst]! & 0xffff;
  const tpDM = m[W.tp_dst]! & 0xffff;
  if (dlType === ETH_TYPE.ip && proto === IP_PROTO.icmp) {
    be16("icmp_type", tpS, tpSM);
    be16("icmp_code", tpD, tpDM);
  } else if (dlType === ETH_TYPE.ipv6 && proto === IP_PROTO.icmpv6) {
    be16("icmp_type", tpS, tpSM);
    be16("icmp_code", tpD, tpDM);
    ip6("nd_target", W.nd_target);
    eth("nd_sll", W.arp_sha);
    eth("nd_tll", W.arp_tha);
  } else {
    be16("tp_src", tpS, tpSM);
    be16("tp_dst", tpD, tpDM);
  }
  const tfM = m[W.tcp_flags]! & 0x0fff;
  if ((dlType === ETH_TYPE.ip || dlType === ETH_TYPE.ipv6) && proto === IP_PROTO.tcp && tfM) {
    put(`tcp_flags=${formatFlagsMasked(TCP_NAMES, f[W.tcp_flags]! & 0x0fff, tfM, 0x0fff)}`);
  }
  return out.join(",");
}

/** Prints a match exactly as OVS 3.1 `match_format()` (the `Megaflow:` line, dump-flows matches). */
export function formatMatch(match: Match, opts: FormatMatchOptions = {}): string {
  return formatMatchWords(matchToWords(match), opts);
}

// ---------------------------------------------------------------------------------------------
// Parsing (ovs-ofctl match syntax)

/** The protocol shorthands (lib/ofp-parse.c ofp_parse_protocol). */
export const PROTOCOLS: ReadonlyMap<string, { readonly dl_type: number; readonly nw_proto: number }> =
  new Map([
    ["ip", { dl_type: ETH_TYPE.ip, nw_proto: 0 }],
    ["ipv4", { dl_type: ETH_TYPE.ip, nw_proto: 0 }],
    ["ip4", { dl_type: ETH_TYPE.ip, nw_proto: 0 }],
    ["arp", { dl_type: ETH_TYPE.arp, nw_proto: 0 }],
    ["icmp", { dl_type: ETH_TYPE.ip, nw_proto: IP_PROTO.icmp }],
    ["tcp", { dl_type: ETH_TYPE.ip, nw_proto: IP_PROTO.tcp }],
    ["udp", { dl_type: ETH_TYPE.ip, nw_proto: IP_PROTO.udp }],
    ["sctp", { dl_type: ETH_TYPE.ip, nw_proto: IP_PROTO.sctp }],
    ["ipv6", { dl_type: ETH_TYPE.ipv6, nw_proto: 0 }],
    ["ip6", { dl_type: ETH_TYPE.ipv6, nw_proto: 0 }],
    ["icmp6", { dl_type: ETH_TYPE.ipv6, nw_proto: IP_PROTO.icmpv6 }],
    ["tcp6", { dl_type: ETH_TYPE.ipv6, nw_proto: IP_PROTO.tcp }],
    ["udp6", { dl_type: ETH_TYPE.ipv6, nw_proto: IP_PROTO.udp }],
    ["sctp6", { dl_type: ETH_TYPE.ipv6, nw_proto: IP_PROTO.sctp }],
    ["rarp", { dl_type: ETH_TYPE.rarp, nw_proto: 0 }],
    ["mpls", { dl_type: 0x8847, nw_proto: 0 }],
    ["mplsm", { dl_type: 0x8848, nw_proto: 0 }],
  ]);

/** One `key=value` (or bare `key`) item, as ofputil_parse_key_value() splits a flow string. */
export interface KeyValue {
  readonly key: string;
  readonly value: string;
  /** Whether there was a value delimiter (`=` or `:`), even with an empty value. */
  readonly hasValue: boolean;
}

const isSep = (c: string): boolean => c === "," || c === " " || c === "\t" || c === "\r" || c === "\n";

/** Splits a flow string like OVS ofputil_parse_key_value(): `,` or white space between items. */
export function splitKeyValues(text: string): KeyValue[] {
  const out: KeyValue[] = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    while (i < n && isSep(text[i]!)) i++;
    if (i >= n) break;
    const k0 = i;
    while (i < n && !isSep(text[i]!) && text[i] !== "=" && text[i] !== ":" && text[i] !== "(") i++;
    const key = text.slice(k0, i);
    const delim = i < n ? text[i]! : "";
    if (delim === "=" || delim === ":") {
      i++;
      const v0 = i;
      let depth = 0;
      while (i < n && (depth > 0 || !isSep(text[i]!))) {
        if (text[i] === "(") depth++;
        else if (text[i] === ")" && depth > 0) depth--;
        i++;
      }
      out.push({ key, value: text.slice(v0, i), hasValue: true });
    } else if (delim === "(") {
      i++;
      const v0 = i;
      let depth = 1;
      while (i < n) {
        if (text[i] === "(") depth++;
        else if (text[i] === ")" && --depth === 0) break;
        i++;
      }
      out.push({ key, value: text.slice(v0, i), hasValue: true });
      if (i < n) i++;
    } else {
      out.push({ key, value: "", hasValue: false });
      if (i < n) i++;
    }
  }
  return out;
}

/** Storage width in bytes of a field, as OVS mf_field.n_bytes. */
const nBytes = (s: FieldSpec): number =>
  s.bits <= 8 ? 1 : s.bits <= 16 ? 2 : s.bits <= 32 ? 4 : Math.ceil(s.bits / 8);

const HEX_RE = /^[0-9a-fA-F]*$/;
const DEC_RE = /^[0-9]+$/;
const OCT_RE = /^0[0-7]*$/;

/** OVS parse_int_string(): "0x…" hex of any length, else a C integer (decimal, or octal with a leading 0). */
function parseIntText(text: string, bytes: number, key: string, what: string): bigint {
  let v: bigint;
  if (text.startsWith("0x") || text.startsWith("0X")) {
    const h = text.slice(2);
    if (!HEX_RE.test(h)) throw new SimError("BAD_VALUE", `${key}: "${text}" is not a number`);
    v = h === "" ? 0n : BigInt(`0x${h}`);
    if (v >> BigInt(bytes * 8) !== 0n) {
      throw new SimError("BAD_VALUE", `${key}: ${what} "${text}" too large for ${bytes}-byte field ${key}`);
    }
    return v;
  }
  if (OCT_RE.test(text)) v = BigInt(`0o${text.length > 1 ? text.slice(1) : "0"}`);
  else if (DEC_RE.test(text)) v = BigInt(text);
  else throw new SimError("BAD_VALUE", `${key}: "${text}" is not a number`);
  if (v >= 1n << 64n || v >> BigInt(bytes * 8) !== 0n) {
    throw new SimError("BAD_VALUE", `${key}: ${what} "${text}" too large for ${bytes}-byte field ${key}`);
  }
  return v;
}

/** OVS parse_flags(): `a|b`, numbers, `+a-b` (masked, if allowed), or `value/mask` numbers. */
function parseFlagsText(
  text: string,
  names: readonly string[],
  allowed: number,
  key: string,
  what: string,
): { value: number; mask: number } {
  const num = /^(0[xX][0-9a-fA-F]+|[0-9]+)\/(0[xX][0-9a-fA-F]+|[0-9]+)$/.exec(text);
  if (num) {
    const v = Number(num[1]);
    const mk = Number(num[2]);
    if (v > 0xffffffff || mk > 0xffffffff || v & ~allowed || mk & ~allowed) {
      throw new SimError("BAD_VALUE", `${key}: "${text}": unknown ${what} flag(s)`);
    }
    return { value: v >>> 0, mask: mk >>> 0 };
  }
  const find = (s: string, at: number, ends: string): number => {
    for (let b = 0; b < names.length; b++) {
      const nm = names[b]!;
      if (s.startsWith(nm, at)) {
        const next = s[at + nm.length];
        if (next === undefined || ends.includes(next)) return b;
      }
    }
    return -1;
  };
  if (text.startsWith("+") || text.startsWith("-")) {
    let value = 0;
    let mask = 0;
    let i = 0;
    while (i < text.length) {
      const c = text[i]!;
      if (c !== "+" && c !== "-") {
        throw new SimError(
          "BAD_VALUE",
          `${key}: "${text}": ${what} must be preceded by '+' (for SET) or '-' (NOT SET)`,
        );
      }
      i++;
      const b = find(text, i, "+-");
      if (b < 0) throw new SimError("BAD_VALUE", `${key}: "${text}": unknown ${what} flag(s)`);
      const bit = 1 << b;
      if (mask & bit)
        throw new SimError("BAD_VALUE", `${key}: "${text}": each ${what} flag can be specified only once`);
      if (!(bit & allowed)) throw new SimError("BAD_VALUE", `${key}: "${text}": unknown ${what} flag(s)`);
      if (c === "+") value |= bit;
      mask |= bit;
      i += names[b]!.length;
    }
    return { value: value >>> 0, mask: mask >>> 0 };
  }
  let value = 0;
  let i = 0;
  while (i < text.length) {
    const numM = /^(0[xX][0-9a-fA-F]+|[0-9]+)/.exec(text.slice(i, i + 24));
    if (numM) {
      const v = Number(numM[1]);
      if (v > 0xffffffff || v & ~allowed)
        throw new SimError("BAD_VALUE", `${key}: "${text}": unknown ${what} flag(s)`);
      value |= v;
      i += numM[1]!.length;
      if (text[i] === "|") i++;
      else if (i < text.length) throw new SimError("BAD_VALUE", `${key}: "${text}": unknown ${what} flag(s)`);
      continue;
    }
    const b = find(text, i, "|");
    if (b < 0 || !((1 << b) & allowed))
      throw new SimError("BAD_VALUE", `${key}: "${text}": unknown ${what} flag(s)`);
    value |= 1 << b;
    i += names[b]!.length;
    if (text[i] === "|") i++;
  }
  return { value: value >>> 0, mask: 0xffffffff };
}

const FRAGS: readonly { name: string; mask: number; value: number }[] = [
  { name: "no", mask: 3, value: 0 },
  { name: "first", mask: 3, value: 1 },
  { name: "later", mask: 3, value: 3 },
  { name: "no", mask: 1, value: 0 },
  { name: "yes", mask: 1, value: 1 },
  { name: "not_later", mask: 2, value: 0 },
  { name: "later", mask: 2, value: 2 },
];

const PORT_NAMES: ReadonlyMap<string, number> = new Map([
  ["in_port", OFPP.IN_PORT],
  ["table", OFPP.TABLE],
  ["normal", OFPP.NORMAL],
  ["flood", OFPP.FLOOD],
  ["all", OFPP.ALL],
  ["controller", OFPP.CONTROLLER],
  ["local", OFPP.LOCAL],
  ["any", 0xffff],
  ["unset", 0xfff7],
  ["none", 0xffff],
]);

/** An OpenFlow port: a number, a reserved name (LOCAL, ANY, NONE…, any case) or a name from `ports`. */
export function parsePort(text: string, key = "in_port", ports?: ReadonlyMap<string, number>): number {
  if (DEC_RE.test(text)) {
    const n = Number(text);
    if (n <= 0xffff) return n;
    if (n >= 0xffffff00 && n <= 0xffffffff) return n - 0xffff0000;
    throw new SimError("UNKNOWN_PORT", `${key}: "${text}" is not a valid OpenFlow port`);
  }
  const r = PORT_NAMES.get(text.toLowerCase());
  if (r !== undefined) return r;
  const unq = text.length > 1 && text.startsWith('"') && text.endsWith('"') ? text.slice(1, -1) : text;
  const p = ports?.get(unq);
  if (p !== undefined) return p;
  throw new SimError("UNKNOWN_PORT", `${key}: "${text}" is an invalid or unknown port`);
}

export interface ParsedValue {
  readonly value: number | bigint;
  readonly mask: number | bigint;
}

/**
 * Parses one field's value text as OVS mf_parse() does: `value`, `value/mask`, `*` (any), CIDRs,
 * masked MACs, flag syntax for ct_state and tcp_flags, fragment names for nw_frag.
 */
export function parseFieldValue(
  s: FieldSpec,
  text: string,
  key = s.name,
  ports?: ReadonlyMap<string, number>,
  anyMask = false,
): ParsedValue {
  if (text === "*") return { value: isBig(s) ? 0n : 0, mask: isBig(s) ? 0n : 0 };
  let r: ParsedValue;
  switch (s.format) {
    case "dec":
    case "hex": {
      const slash = text.indexOf("/");
      const vt = slash < 0 ? text : text.slice(0, slash);
      const bytes = nBytes(s);
      const width = (1n << BigInt(s.bits)) - 1n;
      const valueMask = fieldValueMask(s);
      const v0 = parseIntText(vt, bytes, key, "value");
      // OVS match_set_mpls_*() keep the field's bits of a value that fits its storage bytes.
      const v = s.prereq === "mpls" ? v0 & valueMask : v0;
      const widthMask = s.bits <= 32 ? BigInt(fieldWordMask(s) >>> s.shift) : width;
      const mk = slash < 0 ? widthMask : parseIntText(text.slice(slash + 1), bytes, key, "mask");
      if (slash >= 0 && mk & ~widthMask) {
        throw new SimError("BAD_MASK", `${key}: "${text}": invalid mask for field ${s.name}`);
      }
      if (v & ~valueMask && !(s.implied && s.shift === 0 && v === 0xffffn)) {
        throw new SimError("BAD_VALUE", `${key}: "${vt}" is out of range for ${s.name}`);
      }
      r = isBig(s)
        ? { value: v, mask: mk & width }
        : { value: Number(v & 0xffffffffn), mask: Number(mk & widthMask) };
      break;
    }
    case "mac": {
      const slash = text.indexOf("/");
      const v = parseMacText(slash < 0 ? text : text.slice(0, slash), key);
      const mk = slash < 0 ? 0xffffffffffff : parseMacText(text.slice(slash + 1), key);
      r = { value: v, mask: mk };
      break;
    }
    case "ipv4": {
      const slash = text.indexOf("/");
      const ip = parseIp4Scan(slash < 0 ? text : text.slice(0, slash), key);
      let mk = 0xffffffff;
      if (slash >= 0) {
        const mt = text.slice(slash + 1);
        if (mt.includes(".")) mk = parseIp4Scan(mt, key);
        else if (/^[0-9]{1,3}$/.test(mt) && Number(mt) <= 32)
          mk = Number(mt) === 0 ? 0 : (0xffffffff << (32 - Number(mt))) >>> 0;
        else
          throw new SimError(
            "BAD_VALUE",
            `${key}: "${text}": IPv4 network prefix bits not between 0 and 32, inclusive`,
          );
      }
      r = { value: ip, mask: mk };
      break;
    }
    case "ipv6": {
      const slash = text.indexOf("/");
      const ip = parseIp6(slash < 0 ? text : text.slice(0, slash), key);
      let mk = (1n << 128n) - 1n;
      if (slash >= 0) {
        const mt = text.slice(slash + 1);
        if (mt.includes(":")) mk = parseIp6(mt, key);
        else if (/^[0-9]{1,3}$/.test(mt) && Number(mt) <= 128) {
          const p = Number(mt);
          mk = p === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - p)) - 1n);
        } else
          throw new SimError(
            "BAD_VALUE",
            `${key}: "${text}": IPv6 network prefix bits not between 0 and 128, inclusive`,
          );
      }
      r = { value: ip, mask: mk };
      break;
    }
    case "port":
      r = { value: parsePort(text, key, ports), mask: 0xffff };
      break;
    case "ct_state": {
      const p = parseFlagsText(text, CT_NAMES, 0xff, key, "ct_state");
      r = { value: p.value & 0xff, mask: p.mask & 0xff };
      break;
    }
    case "tcp_flags": {
      const p = parseFlagsText(text, TCP_NAMES, 0x0fff, key, "TCP");
      r = { value: p.value & 0xfff, mask: p.mask & 0xfff };
      break;
    }
    case "tun_flags": {
      // match_set_tun_flags_masked(): OpenFlow matches only the public flag (oam).
      const p = parseFlagsText(text, TUN_FLAG_NAMES, TUN_FLAGS_PUBLIC, key, "tunnel");
      r = { value: p.value & TUN_FLAGS_PUBLIC, mask: p.mask & TUN_FLAGS_PUBLIC };
      break;
    }
    case "frag": {
      const h = FRAGS.find((x) => x.name === text.toLowerCase());
      if (!h) {
        throw new SimError(
          "BAD_VALUE",
          `${key}: "${text}": unknown fragment type (valid types are "no", "yes", "first", "later", "not_later")`,
        );
      }
      r = { value: h.value, mask: h.mask };
      break;
    }
  }
  if (!s.maskable && !anyMask && !isExactOrZero(s, r.mask)) {
    throw new SimError("BAD_MASK", `${key}: "${text}": invalid mask for field ${s.name}`);
  }
  return r;
}

function isExactOrZero(s: FieldSpec, mask: number | bigint): boolean {
  if (s.format === "frag" || s.name === "nw_tos") return true;
  const full = fullMask(s);
  return mask === full || mask === 0 || mask === 0n;
}

const MAC_TEXT = /^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$/;
function parseMacText(text: string, key: string): number {
  if (!MAC_TEXT.test(text))
    throw new SimError("BAD_VALUE", `${key}: "${text}" is not a valid Ethernet address`);
  let v = 0;
  for (const p of text.split(":")) v = v * 256 + Number.parseInt(p, 16);
  return v;
}

export interface ParseMatchOptions {
  /**
   * Accept what OVS prints but `ovs-ofctl` refuses: masks on fields that are not maskable in
   * OpenFlow (a megaflow can print `icmp_type=0x8/0xff`). Off by default.
   */
  readonly lenient?: boolean;
  /** OpenFlow port names (for in_port=NAME). */
  readonly ports?: ReadonlyMap<string, number>;
  /**
   * Called for a key that is neither a field nor a protocol shorthand (e.g. `priority`,
   * `table`, `cookie`, `actions` in a dump-flows line). Return true when handled.
   */
  readonly extra?: (key: string, value: string) => boolean;
}

/** The conntrack original-tuple fields, whose prerequisite is a valid connection (MFP_CT_VALID). */
export const CT_TUPLE_FIELDS: ReadonlySet<string> = new Set([
  "ct_nw_src",
  "ct_nw_dst",
  "ct_ipv6_src",
  "ct_ipv6_dst",
  "ct_nw_proto",
  "ct_tp_src",
  "ct_tp_dst",
]);
const CT_VALID_BITS = 0x01 | 0x02 | 0x04 | 0x08 | 0x40 | 0x80; // new est rel rpl snat dnat

const PORT_FIELDS = new Set(["tcp_src", "tcp_dst", "udp_src", "udp_dst", "sctp_src", "sctp_dst"]);

/** Whether the prerequisites of `s` hold in a match (the prerequisite fields exactly matched). */
function matchPrereqOk(s: FieldSpec, key: string, v: Uint32Array, m: Uint32Array): boolean {
  const dlExact = (m[W.dl_type]! & 0xffff) === 0xffff;
  const dl = v[W.dl_type]! & 0xffff;
  const protoExact = (m[W.nw_proto]! & 0xff) === 0xff;
  const proto = v[W.nw_proto]! & 0xff;
  const ip4 = dlExact && dl === ETH_TYPE.ip;
  const ip6 = dlExact && dl === ETH_TYPE.ipv6;
  const ipAny = ip4 || ip6;
  // MFP_TCP/UDP/SCTP: also not a later fragment (the value's bit; OVS does not check the mask).
  const later = (v[W.nw_frag]! & FRAG.later) !== 0;
  if (PORT_FIELDS.has(s.name)) {
    const l4 = proto === IP_PROTO.tcp || proto === IP_PROTO.udp || proto === IP_PROTO.sctp;
    return ipAny && protoExact && l4 && !later;
  }
  if (s.name === "icmp_type" || s.name === "icmp_code") {
    return protoExact && ((ip4 && proto === IP_PROTO.icmp) || (ip6 && proto === IP_PROTO.icmpv6));
  }
  if (CT_TUPLE_FIELDS.has(s.name)) {
    // MFP_CT_VALID (is_ct_valid with a mask): a matched bit that implies a valid connection.
    const cs = v[W.ct_state]! & m[W.ct_state]! & 0xff;
    const csM = m[W.ct_state]! & 0xff;
    return (cs & CT_VALID_BITS) !== 0 || ((cs & 0x20) !== 0 && (csM & 0x10) !== 0 && (cs & 0x10) === 0);
  }
  void key;
  switch (s.prereq) {
    case "none":
      return true;
    case "vlan":
      return (m[W.vlan0]! & v[W.vlan0]! & 0x1000) !== 0;
    case "ip":
      return ip4;
    case "ipv6":
      return ip6;
    case "ip_any":
      return ipAny;
    case "arp":
      return dlExact && (dl === ETH_TYPE.arp || dl === ETH_TYPE.rarp);
    case "mpls":
      return dlExact && (dl === 0x8847 || dl === 0x8848);
    case "tcp":
      return ipAny && protoExact && proto === IP_PROTO.tcp && !later;
    case "udp":
      return ipAny && protoExact && proto === IP_PROTO.udp && !later;
    case "sctp":
      return ipAny && protoExact && proto === IP_PROTO.sctp && !later;
    case "icmp":
      return ip4 && protoExact && proto === IP_PROTO.icmp;
    case "icmpv6":
    case "nd":
    case "nd_sol":
    case "nd_adv":
      return ip6 && protoExact && proto === IP_PROTO.icmpv6;
  }
}

/**
 * Parses an `ovs-ofctl` match (`tcp,in_port=1,nw_dst=10.0.0.0/8,tp_dst=80`, `ct_state=+trk-new`,
 * `reg0=0x1/0xf`, `eth`, …) into a canonical Match. Prerequisites are checked once the whole
 * match is read (so `tcp_dst` needs `tcp`; `tp_dst` also works with udp/sctp, as OVS encodes it).
 */
export function parseMatch(text: string, opts: ParseMatchOptions = {}): Match {
  const value = new Uint32Array(FLOW_WORDS);
  const mask = new Uint32Array(FLOW_WORDS);
  const mw = { value, mask };
  let eth = false;
  const set: { spec: FieldSpec; key: string }[] = [];
  for (const kv of splitKeyValues(text)) {
    const proto = kv.hasValue ? undefined : PROTOCOLS.get(kv.key);
    if (proto) {
      setFieldMasked(mw, DL_TYPE, proto.dl_type, 0xffff);
      if (proto.nw_proto) setFieldMasked(mw, NW_PROTO, proto.nw_proto, 0xff);
      eth = true;
      continue;
    }
    if (kv.key === "eth" && !kv.hasValue) {
      eth = true;
      continue;
    }
    const s = findField(kv.key);
    if (!s) {
      if (opts.extra?.(kv.key, kv.value)) continue;
      throw new SimError("UNKNOWN_FIELD", `${kv.key}: unknown field in "${text}"`);
    }
    const pv = parseFieldValue(s, kv.value === "" ? "0/0" : kv.value, kv.key, opts.ports, opts.lenient);
    applyParsedField(mw, s, pv);
    set.push({ spec: s, key: kv.key });
  }
  for (const { spec: s, key } of set) {
    if (!matchPrereqOk(s, key, value, mask)) {
      throw new SimError("PREREQUISITES", `${key}: prerequisites not met for setting ${key} in "${text}"`);
    }
  }
  return wordsToMatch(value, mask, eth);
}

const DL_TYPE = spec("dl_type");
const NW_PROTO = spec("nw_proto");
const VLAN_TCI = spec("vlan_tci");

/** Applies a parsed field value to match words, with OVS's special cases for the VLAN fields. */
export function applyParsedField(
  mw: { value: Uint32Array; mask: Uint32Array },
  s: FieldSpec,
  pv: ParsedValue,
): void {
  if (s.implied) {
    // dl_vlan / dl_vlan_pcp (and the second-header forms): also match CFI = 1, as match_set_dl_vlan.
    const mask = Number(pv.mask);
    if (mask === 0) {
      setFieldMasked(mw, s, 0, 0);
      return;
    }
    if (s.shift === 0 && Number(pv.value) === 0xffff) {
      // OF1.0 OFP_VLAN_NONE: no VLAN header.
      setFieldMasked(mw, s.word === W.vlan0 ? VLAN_TCI : spec("vlan_tci1"), 0, 0xffff);
      return;
    }
    setFieldMasked(mw, s, pv.value, pv.mask);
    const w = s.word;
    mw.mask[w] = (mw.mask[w]! | s.implied.mask) >>> 0;
    mw.value[w] = (mw.value[w]! | s.implied.value) >>> 0;
    return;
  }
  setFieldMasked(mw, s, pv.value, pv.mask);
}

/** ct_state flag names by bit (bit 0 = "new"), as OVS prints and parses them. */
export const CT_STATE_NAMES = CT_NAMES;
/** tcp_flags names by bit (bit 0 = "fin"), as OVS prints and parses them. */
export const TCP_FLAG_NAMES = TCP_NAMES;

/** Formats ct_state bits as OVS does (`new|trk`, `0` when none). */
export const formatCtState = (bits: number): string => formatFlags(CT_NAMES, bits & 0xff);
/** Formats TCP flags as OVS does (`syn|ack`, `0` when none). */
export const formatTcpFlags = (bits: number): string => formatFlags(TCP_NAMES, bits & 0xfff);
