/**
 * Match fields, as OVS's meta-flow table defines them (upstream `lib/meta-flow.xml`,
 * `include/openvswitch/meta-flow.h`, ovs-fields(7)): the OVS name, aliases and NXM/OXM names,
 * width, prerequisites, how the value prints, and where the bits live in the word key
 * (`key.ts`). Several fields share storage exactly as in OVS: tcp_dst/udp_dst/sctp_dst/
 * icmp_code are all tp_dst; arp_spa is nw_src; dl_vlan, vlan_vid and dl_vlan_pcp are bits of vlan_tci.
 */
import { W } from "./key.js";

/** OVS prerequisite classes (meta-flow `MFP_*`). */
export type Prereq =
  | "none"
  | "vlan"
  | "ip" // IPv4
  | "ipv6"
  | "ip_any"
  | "arp" // ARP or RARP
  | "mpls" // MPLS unicast or multicast (dl_type 0x8847 / 0x8848)
  | "tcp"
  | "udp"
  | "sctp"
  | "icmp"
  | "icmpv6"
  | "nd"
  | "nd_sol"
  | "nd_adv";

/** How OVS prints a field's value. */
export type FieldFormat =
  | "dec"
  | "hex"
  | "mac"
  | "ipv4"
  | "ipv6"
  | "ct_state"
  | "tcp_flags"
  | "frag"
  | "port"
  | "tun_flags";

export interface FieldSpec {
  /** OVS name, as `ovs-ofctl` prints it. */
  readonly name: string;
  /** Other names `ovs-ofctl` accepts for it (including NXM/OXM names). */
  readonly aliases: readonly string[];
  /** NXM or OXM name, used by `load:`/`move:` (`NXM_NX_REG0`, `NXM_OF_ETH_DST`). */
  readonly nxm: string;
  /** Width in bits. */
  readonly bits: number;
  /** First key word. Fields over 32 bits span ceil(bits/32) words (MACs: 2), most significant first. */
  readonly word: number;
  /** For fields of at most 32 bits: the bit offset of the field inside its word. */
  readonly shift: number;
  /** Bits that a match on this field also requires in its word, as OVS does for dl_vlan (CFI). */
  readonly implied?: { readonly mask: number; readonly value: number };
  readonly prereq: Prereq;
  readonly format: FieldFormat;
  /** Whether an arbitrary bitwise mask is allowed (`nw_src=10.0.0.0/8`, `reg0=0x1/0xf`). */
  readonly maskable: boolean;
  /** Whether `set_field`/`load` may write it (OVS: read-only fields such as ct_state are not). */
  readonly writable: boolean;
}

const f = (
  name: string,
  nxm: string,
  bits: number,
  word: number,
  shift: number,
  prereq: Prereq,
  format: FieldFormat,
  opts: Partial<Pick<FieldSpec, "aliases" | "implied" | "maskable" | "writable">> = {},
): FieldSpec => ({
  name,
  aliases: opts.aliases ?? [],
  nxm,
  bits,
  word,
  shift,
  prereq,
  format,
  maskable: opts.maskable ?? true,
  writable: opts.writable ?? true,
  ...(opts.implied ? { implied: opts.implied } : {}),
});

const cfi = { mask: 0x1000, value: 0x1000 };

const regFields: FieldSpec[] = [];
for (let i = 0; i < 16; i++) regFields.push(f(`reg${i}`, `NXM_NX_REG${i}`, 32, W.reg0 + i, 0, "none", "hex"));
for (let i = 0; i < 8; i++)
  regFields.push(f(`xreg${i}`, `OXM_OF_PKT_REG${i}`, 64, W.reg0 + 2 * i, 0, "none", "hex"));
for (let i = 0; i < 4; i++)
  regFields.push(f(`xxreg${i}`, `NXM_NX_XXREG${i}`, 128, W.reg0 + 4 * i, 0, "none", "hex"));

const tunFields: FieldSpec[] = [
  f("tun_id", "NXM_NX_TUN_ID", 64, W.tun_id, 0, "none", "hex", { aliases: ["tunnel_id"] }),
  f("tun_src", "NXM_NX_TUN_IPV4_SRC", 32, W.tun_src, 0, "none", "ipv4"),
  f("tun_dst", "NXM_NX_TUN_IPV4_DST", 32, W.tun_dst, 0, "none", "ipv4"),
  f("tun_ipv6_src", "NXM_NX_TUN_IPV6_SRC", 128, W.tun_ipv6_src, 0, "none", "ipv6"),
  f("tun_ipv6_dst", "NXM_NX_TUN_IPV6_DST", 128, W.tun_ipv6_dst, 0, "none", "ipv6"),
  f("tun_gbp_id", "NXM_NX_TUN_GBP_ID", 16, W.tun_gbp_id, 0, "none", "dec"),
  f("tun_gbp_flags", "NXM_NX_TUN_GBP_FLAGS", 8, W.tun_gbp_flags, 0, "none", "hex"),
  // OpenFlow sees only the public flag (oam); df/csum/key are the datapath's.
  f("tun_flags", "NXM_NX_TUN_FLAGS", 16, W.tun_flags, 0, "none", "tun_flags"),
];
// tun_metadata<N>: a Geneve option as the bridge's TLV map places it (ovnsim: up to 4 bytes).
for (let i = 0; i < 64; i++)
  tunFields.push(f(`tun_metadata${i}`, `NXM_NX_TUN_METADATA${i}`, 32, W.tun_metadata0 + i, 0, "none", "hex"));

/** The index N of a tun_metadata<N> field, or -1. */
export const tunMetadataIndex = (spec: FieldSpec): number =>
  spec.word >= W.tun_metadata0 && spec.word < W.tun_metadata0 + 64 && spec.name.startsWith("tun_metadata")
    ? spec.word - W.tun_metadata0
    : -1;

/** Every match field, in the order OVS lists them. */
export const FIELDS: readonly FieldSpec[] = [
  // Metadata
  f("recirc_id", "NXM_NX_RECIRC_ID", 32, W.recirc_id, 0, "none", "hex", { maskable: false, writable: false }),
  f("dp_hash", "NXM_NX_DP_HASH", 32, W.dp_hash, 0, "none", "hex", { writable: false }),
  f("in_port", "NXM_OF_IN_PORT", 16, W.in_port, 0, "none", "port", {
    maskable: false,
    aliases: ["in_port_oxm"],
  }),
  f("skb_priority", "NXM_NX_SKB_PRIORITY", 32, W.skb_priority, 0, "none", "hex", { maskable: false }),
  f("pkt_mark", "NXM_NX_PKT_MARK", 32, W.pkt_mark, 0, "none", "hex"),
  f("ct_state", "NXM_NX_CT_STATE", 32, W.ct_state, 0, "none", "ct_state", { writable: false }),
  f("ct_zone", "NXM_NX_CT_ZONE", 16, W.ct_zone, 0, "none", "hex", { maskable: false, writable: false }),
  f("ct_mark", "NXM_NX_CT_MARK", 32, W.ct_mark, 0, "none", "hex"),
  f("ct_label", "NXM_NX_CT_LABEL", 128, W.ct_label, 0, "none", "hex"),
  f("ct_nw_src", "NXM_NX_CT_NW_SRC", 32, W.ct_nw_src, 0, "ip", "ipv4", { writable: false }),
  f("ct_nw_dst", "NXM_NX_CT_NW_DST", 32, W.ct_nw_dst, 0, "ip", "ipv4", { writable: false }),
  f("ct_ipv6_src", "NXM_NX_CT_IPV6_SRC", 128, W.ct_ipv6_src, 0, "ipv6", "ipv6", { writable: false }),
  f("ct_ipv6_dst", "NXM_NX_CT_IPV6_DST", 128, W.ct_ipv6_dst, 0, "ipv6", "ipv6", { writable: false }),
  f("ct_nw_proto", "NXM_NX_CT_NW_PROTO", 8, W.ct_nw_proto, 0, "ip_any", "dec", {
    maskable: false,
    writable: false,
  }),
  f("ct_tp_src", "NXM_NX_CT_TP_SRC", 16, W.ct_tp_src, 0, "ip_any", "dec", { writable: false }),
  f("ct_tp_dst", "NXM_NX_CT_TP_DST", 16, W.ct_tp_dst, 0, "ip_any", "dec", { writable: false }),
  f("metadata", "OXM_OF_METADATA", 64, W.metadata, 0, "none", "hex"),
  ...regFields,
  ...tunFields,
  // L2
  f("dl_src", "NXM_OF_ETH_SRC", 48, W.dl_src, 0, "none", "mac", { aliases: ["eth_src"] }),
  f("dl_dst", "NXM_OF_ETH_DST", 48, W.dl_dst, 0, "none", "mac", { aliases: ["eth_dst"] }),
  f("dl_type", "NXM_OF_ETH_TYPE", 16, W.dl_type, 0, "none", "hex", {
    maskable: false,
    writable: false,
    aliases: ["eth_type"],
  }),
  f("vlan_tci", "NXM_OF_VLAN_TCI", 16, W.vlan0, 0, "none", "hex"),
  // dl_vlan is the 12-bit OpenFlow 1.0 VID (a match on it implies a tag); load/move through the
  // OXM name reach these 12 bits, as in OVS (mf n_bits = 12).
  f("dl_vlan", "OXM_OF_VLAN_VID", 12, W.vlan0, 0, "none", "dec", { maskable: false, implied: cfi }),
  // vlan_vid is the OXM form: VID plus OFPVID_PRESENT (0x1000), which is our TCI CFI bit, so the
  // 13 bits sit in place: vlan_vid=0x1000/0x1000 is "any tag", set_field:4437->vlan_vid is VID 341.
  f("vlan_vid", "OXM_OF_VLAN_VID", 13, W.vlan0, 0, "none", "dec"),
  f("dl_vlan_pcp", "OXM_OF_VLAN_PCP", 3, W.vlan0, 13, "none", "dec", {
    maskable: false,
    implied: cfi,
    aliases: ["vlan_pcp"],
  }),
  f("vlan_tci1", "NXM_OF_VLAN_TCI1", 16, W.vlan1, 0, "none", "hex"),
  f("dl_vlan1", "OXM_OF_VLAN_VID1", 12, W.vlan1, 0, "none", "dec", { maskable: false, implied: cfi }),
  f("dl_vlan_pcp1", "OXM_OF_VLAN_PCP1", 3, W.vlan1, 13, "none", "dec", { maskable: false, implied: cfi }),
  // MPLS: bits of the top label stack entry; none maskable, mpls_bos read-only (meta-flow.xml).
  f("mpls_label", "OXM_OF_MPLS_LABEL", 20, W.mpls_lse, 12, "mpls", "dec", { maskable: false }),
  f("mpls_tc", "OXM_OF_MPLS_TC", 3, W.mpls_lse, 9, "mpls", "dec", { maskable: false }),
  f("mpls_bos", "OXM_OF_MPLS_BOS", 1, W.mpls_lse, 8, "mpls", "dec", { maskable: false, writable: false }),
  f("mpls_ttl", "NXM_NX_MPLS_TTL", 8, W.mpls_lse, 0, "mpls", "dec", { maskable: false }),
  // L3
  f("nw_src", "NXM_OF_IP_SRC", 32, W.nw_src, 0, "ip", "ipv4", { aliases: ["ip_src"] }),
  f("nw_dst", "NXM_OF_IP_DST", 32, W.nw_dst, 0, "ip", "ipv4", { aliases: ["ip_dst"] }),
  f("ipv6_src", "NXM_NX_IPV6_SRC", 128, W.ipv6_src, 0, "ipv6", "ipv6"),
  f("ipv6_dst", "NXM_NX_IPV6_DST", 128, W.ipv6_dst, 0, "ipv6", "ipv6"),
  f("ipv6_label", "NXM_NX_IPV6_LABEL", 20, W.ipv6_label, 0, "ipv6", "hex"),
  f("nw_proto", "NXM_OF_IP_PROTO", 8, W.nw_proto, 0, "ip_any", "dec", {
    maskable: false,
    writable: false,
    aliases: ["ip_proto"],
  }),
  f("nw_tos", "NXM_OF_IP_TOS", 8, W.nw_tos, 0, "ip_any", "dec", { maskable: false }),
  f("ip_dscp", "NXM_OF_IP_TOS", 6, W.nw_tos, 2, "ip_any", "dec", { maskable: false }),
  f("nw_ecn", "NXM_NX_IP_ECN", 2, W.nw_tos, 0, "ip_any", "dec", { maskable: false, aliases: ["ip_ecn"] }),
  f("nw_ttl", "NXM_NX_IP_TTL", 8, W.nw_ttl, 0, "ip_any", "dec", { maskable: false }),
  f("nw_frag", "NXM_NX_IP_FRAG", 2, W.nw_frag, 0, "ip_any", "frag", {
    writable: false,
    aliases: ["ip_frag"],
  }),
  f("arp_op", "NXM_OF_ARP_OP", 16, W.nw_proto, 0, "arp", "dec", { maskable: false }),
  f("arp_spa", "NXM_OF_ARP_SPA", 32, W.nw_src, 0, "arp", "ipv4"),
  f("arp_tpa", "NXM_OF_ARP_TPA", 32, W.nw_dst, 0, "arp", "ipv4"),
  f("arp_sha", "NXM_NX_ARP_SHA", 48, W.arp_sha, 0, "arp", "mac"),
  f("arp_tha", "NXM_NX_ARP_THA", 48, W.arp_tha, 0, "arp", "mac"),
  // L4
  f("tcp_src", "NXM_OF_TCP_SRC", 16, W.tp_src, 0, "tcp", "dec", { aliases: ["tp_src"] }),
  f("tcp_dst", "NXM_OF_TCP_DST", 16, W.tp_dst, 0, "tcp", "dec", { aliases: ["tp_dst"] }),
  f("tcp_flags", "NXM_NX_TCP_FLAGS", 12, W.tcp_flags, 0, "tcp", "tcp_flags", { writable: false }),
  f("udp_src", "NXM_OF_UDP_SRC", 16, W.tp_src, 0, "udp", "dec"),
  f("udp_dst", "NXM_OF_UDP_DST", 16, W.tp_dst, 0, "udp", "dec"),
  f("sctp_src", "OXM_OF_SCTP_SRC", 16, W.tp_src, 0, "sctp", "dec"),
  f("sctp_dst", "OXM_OF_SCTP_DST", 16, W.tp_dst, 0, "sctp", "dec"),
  f("icmp_type", "NXM_OF_ICMP_TYPE", 8, W.tp_src, 0, "icmp", "dec", { maskable: false }),
  f("icmp_code", "NXM_OF_ICMP_CODE", 8, W.tp_dst, 0, "icmp", "dec", { maskable: false }),
  f("icmpv6_type", "NXM_NX_ICMPV6_TYPE", 8, W.tp_src, 0, "icmpv6", "dec", { maskable: false }),
  f("icmpv6_code", "NXM_NX_ICMPV6_CODE", 8, W.tp_dst, 0, "icmpv6", "dec", { maskable: false }),
  f("nd_target", "NXM_NX_ND_TARGET", 128, W.nd_target, 0, "nd", "ipv6"),
  f("nd_sll", "NXM_NX_ND_SLL", 48, W.arp_sha, 0, "nd_sol", "mac"),
  f("nd_tll", "NXM_NX_ND_TLL", 48, W.arp_tha, 0, "nd_adv", "mac"),
];

const BY_NAME = new Map<string, FieldSpec>();
for (const spec of FIELDS) {
  BY_NAME.set(spec.name, spec);
  for (const a of spec.aliases) if (!BY_NAME.has(a)) BY_NAME.set(a, spec);
  if (!BY_NAME.has(spec.nxm)) BY_NAME.set(spec.nxm, spec);
}

/** The field called `name` (OVS name, alias, or NXM/OXM name), or undefined. */
export function findField(name: string): FieldSpec | undefined {
  return BY_NAME.get(name);
}

/** Number of key words a field spans. */
export const fieldWords = (spec: FieldSpec): number => (spec.bits <= 32 ? 1 : Math.ceil(spec.bits / 32));
