/**
 * Output to a tunnel port as ovs-vswitchd translates it when the datapath tunnels in the
 * kernel (ofproto/tunnel.c `tnl_port_send`, ofproto-dpif-xlate.c compose_output_action__ and
 * lib/odp-util.c `commit_odp_tunnel_action`): the port's configuration (remote_ip, local_ip,
 * key/out_key, ttl, tos, df_default, csum, dst_port — each possibly `flow`) fills the
 * packet's tunnel metadata, a `set(tunnel(...))` datapath action carries it when it differs
 * from what was committed, and the packet leaves through the tunnel's datapath port. This is
 * what real Linux nodes print (`set(tunnel(...)),genev_sys_6081`), and the dummy datapath
 * with `dpif/set-dp-features BR tnl_push_pop false`. Userspace native tunnelling (tnl_push
 * with route and ARP lookups) is not modelled.
 */
import { formatIp4, formatIp6, parseIp4, parseIp6, SimError, TUN_FLAG, W } from "@ovnsim/packet";
import type { OfPort } from "./model.js";
import type { TlvMap } from "./tlv.js";

/** Interface types that are tunnels (netdev-vport classes). */
export const TUNNEL_TYPES: ReadonlySet<string> = new Set([
  "geneve",
  "vxlan",
  "gre",
  "ip6gre",
  "erspan",
  "ip6erspan",
  "stt",
  "lisp",
  "gtpu",
  "bareudp",
]);

/** Default UDP destination port per tunnel type (netdev-vport). */
const DST_PORT: Readonly<Record<string, number>> = {
  geneve: 6081,
  vxlan: 4789,
  stt: 7471,
  lisp: 4341,
  gtpu: 2152,
};

export interface TunnelConfig {
  readonly type: string;
  /** null: `flow` (taken from the packet's tun_src/tun_dst). */
  readonly src: { v4: number; v6: bigint } | null;
  readonly dst: { v4: number; v6: bigint } | null;
  readonly outKeyPresent: boolean;
  readonly outKeyFlow: boolean;
  readonly outKey: bigint;
  readonly ttl: number | "inherit";
  readonly tos: number | "inherit";
  readonly df: boolean;
  readonly csum: boolean;
  readonly dstPort: number;
}

const CONFIGS = new WeakMap<OfPort, TunnelConfig>();

function addr(text: string, what: string): { v4: number; v6: bigint } {
  if (text.includes(":")) return { v4: 0, v6: parseIp6(text, what) };
  return { v4: parseIp4(text, what), v6: 0n };
}

/** netdev-vport set_tunnel_config(), for the options that change what a trace prints. */
export function tunnelConfig(p: OfPort): TunnelConfig {
  let c = CONFIGS.get(p);
  if (c) return c;
  const o = p.options ?? {};
  const where = `port ${p.name}`;
  const remote = o.remote_ip;
  if (remote === undefined)
    throw new SimError("BAD_VALUE", `${where}: a ${p.type} port needs options:remote_ip`);
  const keyText = o.out_key ?? o.key;
  let outKey = 0n;
  if (keyText !== undefined && keyText !== "flow") {
    if (!/^(0[xX][0-9a-fA-F]+|\d+)$/.test(keyText))
      throw new SimError("BAD_VALUE", `${where}: key "${keyText}" is not a number or "flow"`);
    outKey = BigInt(keyText) & 0xffffffffffffffffn;
  }
  const num8 = (t: string | undefined, dflt: number, what: string): number | "inherit" => {
    if (t === undefined) return dflt;
    if (t === "inherit") return "inherit";
    if (!/^\d+$/.test(t) || Number(t) > 255) throw new SimError("BAD_VALUE", `${where}: ${what} "${t}"`);
    return Number(t);
  };
  c = {
    type: p.type,
    src: o.local_ip === undefined || o.local_ip === "flow" ? null : addr(o.local_ip, `${where} local_ip`),
    dst: remote === "flow" ? null : addr(remote, `${where} remote_ip`),
    outKeyPresent: keyText !== undefined,
    outKeyFlow: keyText === "flow",
    outKey,
    ttl: num8(o.ttl, 64, "ttl"),
    tos: num8(o.tos, 0, "tos"),
    df: o.df_default !== "false",
    csum: o.csum === "true",
    dstPort:
      o.dst_port !== undefined && /^\d+$/.test(o.dst_port) ? Number(o.dst_port) : (DST_PORT[p.type] ?? 0),
  };
  // Only `local_ip=flow` leaves the source to the packet; an absent local_ip sends from 0.
  if (o.local_ip === undefined) c = { ...c, src: { v4: 0, v6: 0n } };
  CONFIGS.set(p, c);
  return c;
}

const IP_ECN_MASK = 3;

/**
 * tnl_port_send(): fills the tunnel words of `k` from the port's configuration, unwildcarding
 * what it reads; returns the tunnel's UDP destination port (not a key field).
 */
export function tunnelSend(c: TunnelConfig, k: Uint32Array, wc: Uint32Array, ipAny: boolean): number {
  if (c.src) {
    k[W.tun_src] = c.src.v4;
    put128(k, W.tun_ipv6_src, c.src.v4 ? 0n : c.src.v6);
  }
  if (c.dst) {
    k[W.tun_dst] = c.dst.v4;
    put128(k, W.tun_ipv6_dst, c.dst.v4 ? 0n : c.dst.v6);
  }
  if (!c.outKeyFlow) {
    k[W.tun_id] = Number((c.outKey >> 32n) & 0xffffffffn);
    k[W.tun_id + 1] = Number(c.outKey & 0xffffffffn);
  }
  if (c.ttl === "inherit" && ipAny) {
    wc[W.nw_ttl] = 0xff;
    k[W.tun_ttl] = k[W.nw_ttl]!;
  } else k[W.tun_ttl] = c.ttl === "inherit" ? 64 : c.ttl;
  if (c.tos === "inherit" && ipAny) {
    wc[W.nw_tos] = (wc[W.nw_tos]! | 0xfc) >>> 0;
    k[W.tun_tos] = k[W.nw_tos]! & 0xfc;
  } else k[W.tun_tos] = c.tos === "inherit" ? 0 : c.tos;
  if (ipAny) {
    // ECN is always inherited; CE becomes ECT(0) outside.
    wc[W.nw_tos] = (wc[W.nw_tos]! | IP_ECN_MASK) >>> 0;
    const ecn = k[W.nw_tos]! & IP_ECN_MASK;
    k[W.tun_tos] = (k[W.tun_tos]! | (ecn === IP_ECN_MASK ? 2 : ecn)) >>> 0;
  }
  k[W.tun_flags] =
    (k[W.tun_flags]! & TUN_FLAG.oam) |
    (c.df ? TUN_FLAG.df : 0) |
    (c.csum ? TUN_FLAG.csum : 0) |
    (c.outKeyPresent ? TUN_FLAG.key : 0);
  return c.dstPort;
}

function put128(k: Uint32Array, at: number, v: bigint): void {
  for (let i = 3; i >= 0; i--) {
    k[at + i] = Number(v & 0xffffffffn);
    v >>= 32n;
  }
}

const big = (k: Uint32Array, at: number, n: number): bigint => {
  let v = 0n;
  for (let i = 0; i < n; i++) v = (v << 32n) | BigInt(k[at + i]!);
  return v;
};

const hx = (v: number | bigint): string => (v === 0 || v === 0n ? "0" : `0x${v.toString(16)}`);

/** Whether the key's tunnel has a destination (flow_tnl_dst_is_set). */
export const keyTunnelDstSet = (k: Uint32Array): boolean =>
  k[W.tun_dst] !== 0 ||
  (k[W.tun_ipv6_dst]! | k[W.tun_ipv6_dst + 1]! | k[W.tun_ipv6_dst + 2]! | k[W.tun_ipv6_dst + 3]!) !== 0;

/** The tunnel words plus the UDP port, for commit_odp_tunnel_action's comparison with the base. */
export function tunnelState(k: Uint32Array, tpDst: number): string {
  return `${Array.from(k.subarray(W.tun_id, W.dl_src)).join(",")};${tpDst}`;
}

/** tun_key_to_attr() + format_odp_tun_attr(): the text inside `set(tunnel(...))`. */
export function formatTunnelKey(k: Uint32Array, tpDst: number, type: string, tlv: TlvMap): string {
  const out: string[] = [];
  const flags = k[W.tun_flags]!;
  const id = big(k, W.tun_id, 2);
  if (id || flags & TUN_FLAG.key) out.push(`tun_id=0x${id.toString(16)}`); // format_be64: always 0x
  if (k[W.tun_src]) out.push(`src=${formatIp4(k[W.tun_src]!)}`);
  if (k[W.tun_dst]) out.push(`dst=${formatIp4(k[W.tun_dst]!)}`);
  const s6 = big(k, W.tun_ipv6_src, 4);
  const d6 = big(k, W.tun_ipv6_dst, 4);
  if (s6) out.push(`ipv6_src=${formatIp6(s6)}`);
  if (d6) out.push(`ipv6_dst=${formatIp6(d6)}`);
  if (k[W.tun_tos]) out.push(`tos=${hx(k[W.tun_tos]!)}`);
  out.push(`ttl=${k[W.tun_ttl]}`);
  if (tpDst) out.push(`tp_dst=${tpDst}`);
  if (type === "vxlan" && (k[W.tun_gbp_id] || k[W.tun_gbp_flags])) {
    out.push(`vxlan(gbp(id=${k[W.tun_gbp_id]},flags=${hx(k[W.tun_gbp_flags]!)}))`);
  }
  if (type === "geneve") {
    const opts: string[] = [];
    for (let i = 0; i < 64; i++) {
      if (!(k[W.tun_md_present + (i >>> 5)]! & (1 << (i & 31)))) continue;
      const e = tlv.get(i);
      if (!e) continue; // tun_metadata_to_geneve__ skips fields the map does not define
      opts.push(`{class=${hx(e.optClass)},type=${hx(e.type)},len=${e.len},${hx(k[W.tun_metadata0 + i]!)}}`);
    }
    if (opts.length) out.push(`geneve(${opts.join("")})`);
  }
  const names = (["df", "csum", "key", "oam"] as const).filter((n) => flags & TUN_FLAG[n]);
  // format_tun_flags(): flags in bit order (oam first), "0" for none.
  const ordered = (["oam", "df", "csum", "key"] as const).filter((n) => names.includes(n));
  out.push(`flags(${ordered.length ? ordered.join("|") : "0"})`);
  return out.join(",");
}
