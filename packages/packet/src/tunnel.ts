/**
 * Tunnel metadata of a packet, as OVS `struct flow_tnl` (include/openvswitch/flow.h) holds it:
 * what a tunnel port received the packet with (outer addresses, VNI/key, TOS/TTL, flags, VXLAN
 * GBP, Geneve options mapped to tun_metadata<N> by the bridge's TLV map), or what an output
 * to a tunnel port will encapsulate with. ovnsim holds up to 4 bytes of each tun_metadata
 * field (OVN's Geneve option is 4 bytes); `present` says which options exist.
 */

/** FLOW_TNL_F_* bits as OVS numbers them (flow_tun_flag_to_string). */
export const TUN_FLAG = { oam: 1, df: 2, csum: 4, key: 8 } as const;
/** The datapath tunnel flags that match_format prints (FLOW_TNL_F_MASK). */
export const TUN_FLAGS_MASK = 0xf;
/** The flags OpenFlow can match and set (FLOW_TNL_PUB_F_MASK): oam. */
export const TUN_FLAGS_PUBLIC = TUN_FLAG.oam;
/** tun_metadata0..63. */
export const N_TUN_METADATA = 64;

export interface FlowTunnel {
  readonly tun_id: bigint /* VNI / key, 64 bits. */;
  readonly tun_src: number /* Outer IPv4 source. */;
  readonly tun_dst: number /* Outer IPv4 destination (0: not a tunnelled packet). */;
  readonly tun_ipv6_src: bigint;
  readonly tun_ipv6_dst: bigint;
  readonly tun_tos: number;
  readonly tun_ttl: number;
  readonly tun_flags: number /* TUN_FLAG bits. */;
  readonly tun_gbp_id: number /* VXLAN group-based policy id, 16 bits. */;
  readonly tun_gbp_flags: number /* 8 bits. */;
  /** Bit N set: tun_metadata<N> is present (a Geneve option the TLV map maps to it). */
  readonly present: bigint;
  /** tun_metadata0..63, 32 bits each. */
  readonly metadata: readonly number[];
}

const ZERO_MD: readonly number[] = Object.freeze(new Array<number>(N_TUN_METADATA).fill(0));

/** No tunnel: every field 0 (shared by every untunnelled flow). */
export const EMPTY_TUNNEL: FlowTunnel = Object.freeze({
  tun_id: 0n,
  tun_src: 0,
  tun_dst: 0,
  tun_ipv6_src: 0n,
  tun_ipv6_dst: 0n,
  tun_tos: 0,
  tun_ttl: 0,
  tun_flags: 0,
  tun_gbp_id: 0,
  tun_gbp_flags: 0,
  present: 0n,
  metadata: ZERO_MD,
});

/** A tunnel from a partial description; unspecified fields are zero. */
export function makeTunnel(t: Partial<FlowTunnel> = {}): FlowTunnel {
  const md = new Array<number>(N_TUN_METADATA).fill(0);
  for (let i = 0; i < N_TUN_METADATA && t.metadata && i < t.metadata.length; i++)
    md[i] = t.metadata[i]! >>> 0;
  return Object.freeze({ ...EMPTY_TUNNEL, ...t, metadata: Object.freeze(md) });
}

/** Whether the packet came from (or is bound to) a tunnel: flow_tnl_dst_is_set(). */
export const tunnelDstSet = (t: FlowTunnel): boolean => t.tun_dst !== 0 || t.tun_ipv6_dst !== 0n;

/** The names of TUN_FLAG bits, bit 0 first, as OVS prints them. */
export const TUN_FLAG_NAMES: readonly string[] = ["oam", "df", "csum", "key"];
