/**
 * The flow key as 32-bit words, and the table of match fields over it.
 *
 * The classifier hashes and masks flows many million times a second, so it never sees a
 * `Flow` object: it sees a `Uint32Array` of FLOW_WORDS words, and rule matches are value/mask
 * pairs of the same shape (OVS `struct match` = `struct flow` + `struct flow_wildcards`, where
 * the mask has the flow's shape). Words are grouped metadata → L2 → L3 → L4, as OVS segments
 * `struct flow` for staged lookup; `STAGE_ENDS` gives the boundaries.
 *
 * FIELDS is the meta-flow table (upstream `lib/meta-flow.xml`, ovs-fields(7)): each match field
 * by its OVS name, its aliases and NXM/OXM names, its width, where its bits live in the key,
 * its prerequisites and how OVS prints it. Fields wider than 32 bits span consecutive words,
 * most significant word first; a MAC is one 16-bit word and one 32-bit word.
 */
import { macFromWords, macHi, macLo } from "./addr.js";
import { ETH_TYPE, type Flow, N_REGS, type VlanHeader } from "./flow.js";
import { EMPTY_TUNNEL, type FlowTunnel, N_TUN_METADATA } from "./tunnel.js";

/** Word index of each stored field in the key. */
export const W = {
  recirc_id: 0,
  dp_hash: 1,
  in_port: 2,
  skb_priority: 3,
  pkt_mark: 4,
  ct_state: 5,
  ct_zone: 6,
  ct_mark: 7,
  ct_label: 8, // 4 words
  ct_nw_src: 12,
  ct_nw_dst: 13,
  ct_ipv6_src: 14, // 4 words
  ct_ipv6_dst: 18, // 4 words
  ct_nw_proto: 22,
  ct_tp_src: 23,
  ct_tp_dst: 24,
  metadata: 25, // 2 words
  reg0: 27, // 16 words, reg0..reg15
  // Tunnel metadata (OVS struct flow_tnl), in the metadata stage as in OVS.
  tun_id: 43, // 2 words
  tun_src: 45,
  tun_dst: 46,
  tun_ipv6_src: 47, // 4 words
  tun_ipv6_dst: 51, // 4 words
  tun_tos: 55,
  tun_ttl: 56,
  tun_flags: 57, // FLOW_TNL_F_* (oam 1, df 2, csum 4, key 8)
  tun_gbp_id: 58,
  tun_gbp_flags: 59,
  tun_md_present: 60, // 2 words: bit i of word 60 = tun_metadata<i>, of word 61 = tun_metadata<32+i>
  tun_metadata0: 62, // 64 words, one per tun_metadata<N> (ovnsim holds up to 4 bytes of each)
  // L2
  dl_src: 126, // 2 words: hi16, lo32
  dl_dst: 128, // 2 words
  dl_type: 130,
  vlan0: 131, // tpid << 16 | tci (tci has the CFI/present bit 0x1000)
  vlan1: 132,
  // The top MPLS label stack entry (OVS flow.mpls_lse[0]) in host order: label << 12 | tc << 9 |
  // bos << 8 | ttl. In the L2 stage, as in OVS struct flow.
  mpls_lse: 133,
  // L3
  nw_src: 134,
  nw_dst: 135,
  ipv6_src: 136, // 4 words
  ipv6_dst: 140, // 4 words
  ipv6_label: 144,
  nw_proto: 145,
  nw_tos: 146,
  nw_ttl: 147,
  nw_frag: 148,
  arp_sha: 149, // 2 words
  arp_tha: 151, // 2 words
  // L4
  tp_src: 153,
  tp_dst: 154,
  tcp_flags: 155,
  nd_target: 156, // 4 words
  // The deeper MPLS label stack entries (OVS flow.mpls_lse[1..2]), whole LSEs as OVS keeps them.
  // No match field reads them; push_mpls/pop_mpls move entries through them and flow_format and
  // the megaflow print them as mpls_lse1/mpls_lse2. Kept past L4 so the staged lookup's stage
  // boundaries stay where they were.
  mpls_lse1: 160,
  mpls_lse2: 161,
} as const;

/** Number of 32-bit words in a flow key. */
export const FLOW_WORDS = 162;

/**
 * End (exclusive) of each lookup stage, as OVS segments struct flow: metadata, L2, L3, then
 * the rest. Staged lookup checks a subtable's rules stage by stage. OVS's third segment ends
 * at nd_target (FLOW_SEGMENT_3_ENDS_AT), so arp_sha/arp_tha, nd_target and tcp_flags are
 * looked up with the L4 ports, in the last stage (a miss on arp_spa does not un-wildcard
 * arp_sha).
 */
export const STAGE_ENDS: readonly number[] = [W.dl_src, W.nw_src, W.arp_sha, FLOW_WORDS];

/** VLAN TCI bit that OVS uses to mean "a VLAN header is present" (VLAN_CFI). */
export const VLAN_CFI = 0x1000;

/** A fresh zeroed key. */
export const newKey = (): Uint32Array => new Uint32Array(FLOW_WORDS);

function put128(key: Uint32Array, at: number, v: bigint): void {
  if (v === 0n) {
    key[at] = key[at + 1] = key[at + 2] = key[at + 3] = 0;
    return;
  }
  key[at] = Number((v >> 96n) & 0xffffffffn);
  key[at + 1] = Number((v >> 64n) & 0xffffffffn);
  key[at + 2] = Number((v >> 32n) & 0xffffffffn);
  key[at + 3] = Number(v & 0xffffffffn);
}

function get128(key: Uint32Array, at: number): bigint {
  if ((key[at]! | key[at + 1]! | key[at + 2]! | key[at + 3]!) === 0) return 0n;
  return (
    (BigInt(key[at]!) << 96n) |
    (BigInt(key[at + 1]!) << 64n) |
    (BigInt(key[at + 2]!) << 32n) |
    BigInt(key[at + 3]!)
  );
}

const vlanWord = (v: VlanHeader | undefined): number =>
  v === undefined ? 0 : ((v.tpid << 16) | VLAN_CFI | ((v.pcp & 7) << 13) | (v.vid & 0xfff)) >>> 0;

/** Writes `flow` into `key` (FLOW_WORDS words). Allocation-free except for 128-bit fields' bigint shifts. */
export function flowToKey(flow: Flow, key: Uint32Array = newKey()): Uint32Array {
  key[W.recirc_id] = flow.recirc_id;
  key[W.dp_hash] = flow.dp_hash;
  key[W.in_port] = flow.in_port;
  key[W.skb_priority] = flow.skb_priority;
  key[W.pkt_mark] = flow.pkt_mark;
  key[W.ct_state] = flow.ct_state;
  key[W.ct_zone] = flow.ct_zone;
  key[W.ct_mark] = flow.ct_mark;
  put128(key, W.ct_label, flow.ct_label);
  key[W.ct_nw_src] = flow.ct_nw_src;
  key[W.ct_nw_dst] = flow.ct_nw_dst;
  put128(key, W.ct_ipv6_src, flow.ct_ipv6_src);
  put128(key, W.ct_ipv6_dst, flow.ct_ipv6_dst);
  key[W.ct_nw_proto] = flow.ct_nw_proto;
  key[W.ct_tp_src] = flow.ct_tp_src;
  key[W.ct_tp_dst] = flow.ct_tp_dst;
  key[W.metadata] = Number((flow.metadata >> 32n) & 0xffffffffn);
  key[W.metadata + 1] = Number(flow.metadata & 0xffffffffn);
  for (let i = 0; i < N_REGS; i++) key[W.reg0 + i] = flow.regs[i] ?? 0;
  tunnelToKey(flow.tunnel, key);
  key[W.dl_src] = macHi(flow.dl_src);
  key[W.dl_src + 1] = macLo(flow.dl_src);
  key[W.dl_dst] = macHi(flow.dl_dst);
  key[W.dl_dst + 1] = macLo(flow.dl_dst);
  key[W.dl_type] = flow.dl_type;
  key[W.vlan0] = vlanWord(flow.vlans[0]);
  key[W.vlan1] = vlanWord(flow.vlans[1]);
  key[W.mpls_lse] = flow.mpls_lse;
  key[W.mpls_lse1] = flow.mpls_lse1;
  key[W.mpls_lse2] = flow.mpls_lse2;
  key[W.nw_src] = flow.nw_src;
  key[W.nw_dst] = flow.nw_dst;
  put128(key, W.ipv6_src, flow.ipv6_src);
  put128(key, W.ipv6_dst, flow.ipv6_dst);
  key[W.ipv6_label] = flow.ipv6_label;
  key[W.nw_proto] = flow.nw_proto;
  key[W.nw_tos] = flow.nw_tos;
  key[W.nw_ttl] = flow.nw_ttl;
  key[W.nw_frag] = flow.nw_frag;
  key[W.arp_sha] = macHi(flow.arp_sha);
  key[W.arp_sha + 1] = macLo(flow.arp_sha);
  key[W.arp_tha] = macHi(flow.arp_tha);
  key[W.arp_tha + 1] = macLo(flow.arp_tha);
  key[W.tp_src] = flow.tp_src;
  key[W.tp_dst] = flow.tp_dst;
  key[W.tcp_flags] = flow.tcp_flags;
  put128(key, W.nd_target, flow.nd_target);
  return key;
}

function vlanFromWord(w: number): VlanHeader | undefined {
  if ((w & VLAN_CFI) === 0) return undefined;
  return { tpid: w >>> 16 || ETH_TYPE.vlan, pcp: (w >>> 13) & 7, vid: w & 0xfff };
}

/** Reads a key back into a Flow. `keyToFlow(flowToKey(f))` equals `f`. */
export function keyToFlow(key: Uint32Array): Flow {
  const vlans: VlanHeader[] = [];
  const v0 = vlanFromWord(key[W.vlan0]!);
  if (v0) {
    vlans.push(v0);
    const v1 = vlanFromWord(key[W.vlan1]!);
    if (v1) vlans.push(v1);
  }
  const regs: number[] = [];
  for (let i = 0; i < N_REGS; i++) regs.push(key[W.reg0 + i]!);
  const tunnel = keyToTunnel(key);
  return Object.freeze({
    recirc_id: key[W.recirc_id]!,
    dp_hash: key[W.dp_hash]!,
    in_port: key[W.in_port]!,
    skb_priority: key[W.skb_priority]!,
    pkt_mark: key[W.pkt_mark]!,
    ct_state: key[W.ct_state]!,
    ct_zone: key[W.ct_zone]!,
    ct_mark: key[W.ct_mark]!,
    ct_label: get128(key, W.ct_label),
    ct_nw_src: key[W.ct_nw_src]!,
    ct_nw_dst: key[W.ct_nw_dst]!,
    ct_ipv6_src: get128(key, W.ct_ipv6_src),
    ct_ipv6_dst: get128(key, W.ct_ipv6_dst),
    ct_nw_proto: key[W.ct_nw_proto]!,
    ct_tp_src: key[W.ct_tp_src]!,
    ct_tp_dst: key[W.ct_tp_dst]!,
    metadata: (BigInt(key[W.metadata]!) << 32n) | BigInt(key[W.metadata + 1]!),
    regs: Object.freeze(regs),
    tunnel,
    dl_src: macFromWords(key[W.dl_src]!, key[W.dl_src + 1]!),
    dl_dst: macFromWords(key[W.dl_dst]!, key[W.dl_dst + 1]!),
    dl_type: key[W.dl_type]!,
    vlans: Object.freeze(vlans),
    mpls_lse: key[W.mpls_lse]!,
    mpls_lse1: key[W.mpls_lse1]!,
    mpls_lse2: key[W.mpls_lse2]!,
    nw_src: key[W.nw_src]!,
    nw_dst: key[W.nw_dst]!,
    ipv6_src: get128(key, W.ipv6_src),
    ipv6_dst: get128(key, W.ipv6_dst),
    ipv6_label: key[W.ipv6_label]!,
    nw_proto: key[W.nw_proto]!,
    nw_tos: key[W.nw_tos]!,
    nw_ttl: key[W.nw_ttl]!,
    nw_frag: key[W.nw_frag]!,
    arp_sha: macFromWords(key[W.arp_sha]!, key[W.arp_sha + 1]!),
    arp_tha: macFromWords(key[W.arp_tha]!, key[W.arp_tha + 1]!),
    tp_src: key[W.tp_src]!,
    tp_dst: key[W.tp_dst]!,
    tcp_flags: key[W.tcp_flags]!,
    nd_target: get128(key, W.nd_target),
  });
}

function tunnelToKey(t: FlowTunnel, key: Uint32Array): void {
  if (t === EMPTY_TUNNEL) {
    key.fill(0, W.tun_id, W.dl_src);
    return;
  }
  key[W.tun_id] = Number((t.tun_id >> 32n) & 0xffffffffn);
  key[W.tun_id + 1] = Number(t.tun_id & 0xffffffffn);
  key[W.tun_src] = t.tun_src;
  key[W.tun_dst] = t.tun_dst;
  put128(key, W.tun_ipv6_src, t.tun_ipv6_src);
  put128(key, W.tun_ipv6_dst, t.tun_ipv6_dst);
  key[W.tun_tos] = t.tun_tos;
  key[W.tun_ttl] = t.tun_ttl;
  key[W.tun_flags] = t.tun_flags;
  key[W.tun_gbp_id] = t.tun_gbp_id;
  key[W.tun_gbp_flags] = t.tun_gbp_flags;
  key[W.tun_md_present] = Number(t.present & 0xffffffffn);
  key[W.tun_md_present + 1] = Number((t.present >> 32n) & 0xffffffffn);
  for (let i = 0; i < N_TUN_METADATA; i++) key[W.tun_metadata0 + i] = t.metadata[i] ?? 0;
}

function keyToTunnel(key: Uint32Array): FlowTunnel {
  let any = 0;
  for (let w = W.tun_id; w < W.dl_src; w++) any |= key[w]!;
  if (any === 0) return EMPTY_TUNNEL;
  const md: number[] = [];
  for (let i = 0; i < N_TUN_METADATA; i++) md.push(key[W.tun_metadata0 + i]!);
  return Object.freeze({
    tun_id: (BigInt(key[W.tun_id]!) << 32n) | BigInt(key[W.tun_id + 1]!),
    tun_src: key[W.tun_src]!,
    tun_dst: key[W.tun_dst]!,
    tun_ipv6_src: get128(key, W.tun_ipv6_src),
    tun_ipv6_dst: get128(key, W.tun_ipv6_dst),
    tun_tos: key[W.tun_tos]!,
    tun_ttl: key[W.tun_ttl]!,
    tun_flags: key[W.tun_flags]!,
    tun_gbp_id: key[W.tun_gbp_id]!,
    tun_gbp_flags: key[W.tun_gbp_flags]!,
    present: (BigInt(key[W.tun_md_present + 1]!) << 32n) | BigInt(key[W.tun_md_present]!),
    metadata: Object.freeze(md),
  });
}
