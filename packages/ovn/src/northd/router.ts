/**
 * The logical router half of ovn-northd (branch-23.03 northd/northd.c): from one
 * Logical_Router (its ports, static routes, policies and NAT rules) to the Logical_Flow rows of
 * every lr_in_* / lr_out_* stage, plus the rows a router adds to its neighbours' pipelines
 * (ARP resolution of switch ports and peer routers). Each builder mirrors the northd.c function
 * of the same name; hints are the 23.03.1 source lines ovn-trace prints. Checked against the
 * real ovn-northd 23.03 (test/northd-router-live.test.ts).
 */
import type { LogicalFlow } from "../types.js";
import type {
  LogicalRouter,
  LogicalRouterPort,
  LogicalSwitch,
  LogicalSwitchPort,
  NbDatabase,
  Nat,
  StaticRoute,
} from "../nb/model.js";
import { type LportAddresses, extractLrpNetworks, extractLspAddresses, jsonKey } from "./addresses.js";
import { FlowSink, type BuildContext } from "./switch.js";
import type { Profile } from "./profiles.js";
import { buildRouterNat } from "./router-nat.js";
import {
  type RouterLbIps,
  buildForceSnatOp,
  buildLbVipArpNd,
  buildRouterLbCtFlows,
  buildRouterLbFlows,
  datapathTunnelKeys,
  routerHasLbVip,
  routerLbIps,
  routerLbs,
} from "./router-lb.js";
import type { NorthdLb } from "./switch.js";

const DROP = "drop;";
const bool = (v: string | undefined, def: boolean): boolean => (v === undefined ? def : v === "true");

export interface V4Net {
  readonly addr: string;
  readonly plen: number;
  readonly network: string;
  readonly bcast: string;
  readonly ip: number;
  readonly mask: number;
}

export interface RouterPort {
  readonly lrp: LogicalRouterPort;
  readonly key: string;
  readonly nets: LportAddresses;
  readonly v4: readonly V4Net[];
  readonly enabled: boolean;
  /** A distributed gateway port (gateway_chassis / ha_chassis_group). */
  readonly isDgp: boolean;
  /** json key of its chassisredirect port "cr-NAME". */
  readonly crKey: string;
  /** Port_Binding tunnel key northd allocates (creation order on a fresh database). */
  readonly tunnelKey: number;
  /** The switch port whose options:router-port names this port. */
  readonly peerLsp?: { readonly sw: LogicalSwitch; readonly lsp: LogicalSwitchPort; readonly key: string };
  /** The router port named by this port's `peer`. */
  readonly peerLrp?: {
    readonly router: LogicalRouter;
    readonly lrp: LogicalRouterPort;
    readonly key: string;
  };
}

export interface RouterDatapath {
  readonly lr: LogicalRouter;
  readonly ports: readonly RouterPort[];
  readonly isGw: boolean;
  readonly dgps: readonly RouterPort[];
  readonly nat: readonly Nat[];
  /** Attached load balancers, od->has_lb_vip, od->lb_ips, and the datapath tunnel key. */
  readonly lbs: readonly NorthdLb[];
  readonly hasLbVip: boolean;
  readonly lbIps: RouterLbIps;
  readonly tunnelKey: number;
}

function ip4(text: string): number {
  const p = text.split(".").map(Number);
  return (
    (((p[0] as number) << 24) | ((p[1] as number) << 16) | ((p[2] as number) << 8) | (p[3] as number)) >>> 0
  );
}
const fmt4 = (v: number): string => `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
const mask4 = (plen: number): number => (plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0);

export function v4Nets(nets: LportAddresses): V4Net[] {
  return nets.ipv4.map((a) => {
    const ip = ip4(a.addr);
    const mask = mask4(a.plen);
    return { ...a, ip, mask, bcast: fmt4((ip | ~mask) >>> 0) };
  });
}

export function prepareRouter(db: NbDatabase, lr: LogicalRouter): RouterDatapath {
  const isGw = lr.options.chassis !== undefined && lr.options.chassis !== "";
  const ports: RouterPort[] = [];
  for (const lrp of lr.ports) {
    const nets = extractLrpNetworks(lrp.mac, lrp.networks);
    if (!nets) continue;
    let peerLsp: RouterPort["peerLsp"];
    for (const sw of db.switches) {
      for (const lsp of sw.ports) {
        if (lsp.type === "router" && lsp.options["router-port"] === lrp.name) {
          peerLsp = { sw, lsp, key: jsonKey(lsp.name) };
        }
      }
    }
    let peerLrp: RouterPort["peerLrp"];
    if (lrp.peer !== undefined) {
      for (const router of db.routers) {
        const p = router.ports.find((x) => x.name === lrp.peer);
        if (p) peerLrp = { router, lrp: p, key: jsonKey(p.name) };
      }
    }
    const isDgp =
      !isGw &&
      (lrp.gatewayChassis.length > 0 ||
        lrp.haChassisGroup !== undefined ||
        (lrp.options["redirect-chassis"] ?? "") !== "");
    ports.push({
      lrp,
      key: jsonKey(lrp.name),
      nets,
      v4: v4Nets(nets),
      enabled: lrp.enabled !== false,
      isDgp,
      crKey: jsonKey(`cr-${lrp.name}`),
      tunnelKey: ports.length + 1,
      ...(peerLsp ? { peerLsp } : {}),
      ...(peerLrp ? { peerLrp } : {}),
    });
  }
  const lbs = routerLbs(db, lr);
  return {
    lr,
    ports,
    isGw,
    dgps: ports.filter((p) => p.isDgp),
    nat: lr.nat,
    lbs,
    hasLbVip: routerHasLbVip(lbs),
    lbIps: routerLbIps(lbs, ports),
    tunnelKey: datapathTunnelKeys(db).get(lr.name) ?? 0,
  };
}

/** find_lport_address: the router port's own address on the subnet holding `ip`. */
export function findLrpMemberIp(op: Pick<RouterPort, "v4" | "nets">, ip: string): string | undefined {
  if (ip.includes(".")) {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return undefined;
    const v = ip4(ip);
    for (const n of op.v4) if (((n.ip ^ v) & n.mask) >>> 0 === 0) return n.addr;
    return undefined;
  }
  const a = extractLspAddresses(`00:00:00:00:00:00 ${ip}`);
  const v = a?.ipv6[0];
  if (!v) return undefined;
  const val = ip6Big(v.addr);
  for (const n of op.nets.ipv6) {
    const mask = n.plen === 0 ? 0n : ((1n << BigInt(n.plen)) - 1n) << BigInt(128 - n.plen);
    if (((ip6Big(n.addr) ^ val) & mask) === 0n) return n.addr;
  }
  return undefined;
}

function ip6Big(text: string): bigint {
  const [head, tail] = text.includes("::") ? (text.split("::") as [string, string]) : [text, undefined];
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined ? [] : tail === "" ? [] : tail.split(":");
  const words = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  let v = 0n;
  for (const w of words) v = (v << 16n) | BigInt(Number.parseInt(w, 16));
  return v;
}

/** op_put_v4_networks. */
function v4List(op: RouterPort, bcast: boolean): string {
  if (!bcast && op.v4.length === 1) return (op.v4[0] as V4Net).addr;
  const xs: string[] = [];
  for (const n of op.v4) {
    xs.push(n.addr);
    if (bcast) xs.push(n.bcast);
  }
  return `{${xs.join(", ")}}`;
}

/** op_put_v6_networks. */
function v6List(op: RouterPort): string {
  if (op.nets.ipv6.length === 1) return (op.nets.ipv6[0] as { addr: string }).addr;
  return `{${op.nets.ipv6.map((a) => a.addr).join(", ")}}`;
}

const isLla = (addr: string): boolean => /^fe[89ab][0-9a-f]?:/i.test(addr) && ip6Big(addr) >> 118n === 0x3fan;

// ---------------------------------------------------------------------------------------------

/** Every logical flow of one router datapath, plus those it adds to other datapaths. */
export function buildRouterFlows(ctx: BuildContext, od: RouterDatapath, sinks: SinkSet): void {
  const s = sinks.get(od.lr.name);
  buildAdmCtrl(s);
  buildNeighLearning(s, od);
  s.add("lr_in_nd_ra_options", 0, "1", "next;", 11956);
  s.add("lr_in_nd_ra_response", 0, "1", "next;", 11957);
  s.add("lr_in_ip_routing_pre", 0, "1", "reg7 = 0; next;", 11968);
  buildStaticRoutes(ctx, s, od);
  s.add("lr_in_ip_routing", 10550, "nd_rs || nd_ra", DROP, 12113);
  buildPolicies(s, od);
  s.add("lr_in_arp_resolve", 500, "ip4.mcast || ip6.mcast", "next;", 12247);
  const v25 = s.profile.ovn >= 25;
  s.add("lr_in_arp_resolve", 1, v25 ? "reg9[9] == 1" : "ip4", "get_arp(outport, reg0); next;", 12250);
  s.add("lr_in_arp_resolve", 1, v25 ? "reg9[9] == 0" : "ip6", "get_nd(outport, xxreg0); next;", 12253);
  if (v25) {
    // Stages 25.03 added; only their defaults without DHCP relay or stateless NAT.
    s.add("lr_in_post_unsnat", 0, "1", "next;", 17186);
    s.add("lr_in_dhcp_relay_req", 0, "1", "next;", 17201);
    s.add("lr_in_dhcp_relay_resp_chk", 0, "1", "next;", 17203);
    s.add("lr_in_dhcp_relay_resp", 0, "1", "next;", 17205);
    s.add("lr_in_ecmp_stateful_egr", 0, "1", "output;", 15513);
  }
  s.add("lr_in_arp_resolve", 0, "1", DROP, 12256);
  buildCheckPktLen(s, od);
  buildGatewayRedirect(s, od);
  buildArpRequest(s, od);
  buildMiscLocalDrop(s);
  buildRouterNat(ctx, s, od);
  buildRouterLbCtFlows(ctx, s, od);
  buildRouterLbFlows(ctx, s, od);
  s.add("lr_in_lb_aff_check", 0, "1", "next;", 7490);
  s.add("lr_in_lb_aff_learn", 0, "1", "next;", 7491);
  for (const op of od.ports) {
    buildAdmCtrlPort(s, op);
    buildNeighLearningPort(s, od, op);
    buildIpRoutingPort(s, op);
    buildNdRaPort(s, op);
    buildArpResolvePort(s, od, op, sinks);
    buildEgressDelivery(s, op);
    if (s.profile.ovn >= 25)
      s.add(
        "lr_in_ecmp_stateful_egr",
        100,
        `reg9[10] == 1 && ip && outport == ${op.key}`,
        `ct_commit { ct_label.ecmp_reply_eth = eth.dst; ct_mark.ecmp_reply_port = ${op.tunnelKey};}; output;`,
        15504,
      );
    buildDhcpv6Reply(s, op);
    buildIpv6Input(s, od, op);
    buildIpv4Input(s, od, op);
    buildLbVipArpNd(s, od, op);
    buildForceSnatOp(s, od, op);
  }
}

/** Flow sinks per datapath, so a router can add flows to its peers' pipelines too. */
export class SinkSet {
  readonly #sinks = new Map<string, FlowSink>();
  constructor(readonly ctx: BuildContext) {}
  get(datapath: string): FlowSink {
    let s = this.#sinks.get(datapath);
    if (!s) {
      s = new FlowSink(this.ctx.profile, datapath);
      this.#sinks.set(datapath, s);
    }
    return s;
  }
  flows(): LogicalFlow[] {
    return [...this.#sinks.values()].flatMap((s) => s.flows);
  }
}

function buildAdmCtrl(s: FlowSink): void {
  if (s.profile.ovn >= 24) {
    // 24.03+: recirculated "packet too big" ICMP errors from a tunnel are dropped.
    s.add(
      "lr_in_admission",
      110,
      "((ip4 && icmp4.type == 3 && icmp4.code == 4) || (ip6 && icmp6.type == 2 && icmp6.code == 0)) && flags.tunnel_rx == 1",
      DROP,
    );
  }
  s.add("lr_in_admission", 100, "vlan.present || eth.src[40]", DROP, 11501);
  s.add("lr_in_admission", 0, "1", DROP, 11505);
}

/** build_gateway_mtu_flow. */
export function gatewayMtuFlow(
  s: FlowSink,
  op: RouterPort,
  stage: string,
  lo: number,
  hi: number,
  match: string,
  extra: string,
  line?: number,
): void {
  const mtu = Number.parseInt(op.lrp.options.gateway_mtu ?? "0", 10);
  let actions = "";
  if (mtu > 0) {
    // build_gateway_get_l2_hdr_size: Ethernet, plus a VLAN tag when a localnet port of the peer
    // switch has tag_request set (the `tag` column alone does not count).
    let l2 = 14;
    const sw = op.peerLsp?.sw;
    if (sw?.ports.some((p) => p.type === "localnet" && p.tagRequest !== undefined)) l2 += 4;
    actions += `reg9[1] = check_pkt_larger(${mtu + l2}); `;
  }
  s.add(stage, lo, match, actions + extra, line ?? 11554);
  const bypass = op.lrp.options.gateway_mtu_bypass;
  if (mtu > 0 && bypass !== undefined) s.add(stage, hi, `${match} && (${bypass})`, extra, 11566);
}

function buildAdmCtrlPort(s: FlowSink, op: RouterPort): void {
  if (!op.enabled) return;
  const set = `xreg0[0..47] = ${op.nets.ea}; next;`;
  gatewayMtuFlow(s, op, "lr_in_admission", 50, 55, `eth.mcast && inport == ${op.key}`, set);
  let m = `eth.dst == ${op.nets.ea} && inport == ${op.key}`;
  if (op.isDgp) m += ` && is_chassis_resident(${op.crKey})`;
  gatewayMtuFlow(s, op, "lr_in_admission", 50, 55, m, set);
}

function buildNeighLearning(s: FlowSink, od: RouterDatapath): void {
  const learn = bool(od.lr.options.always_learn_from_arp_request, true);
  const ip1 = learn ? "" : "reg9[3] = 1; ";
  s.add(
    "lr_in_lookup_neighbor",
    100,
    "arp.op == 2",
    `reg9[2] = lookup_arp(inport, arp.spa, arp.sha); ${ip1}next;`,
    11690,
  );
  s.add(
    "lr_in_lookup_neighbor",
    100,
    "nd_na",
    `reg9[2] = lookup_nd(inport, nd.target, nd.tll); ${ip1}next;`,
    11698,
  );
  if (s.profile.ovn >= 25)
    s.add(
      "lr_in_lookup_neighbor",
      105,
      "nd_na && nd.tll == 0",
      `reg9[2] = lookup_nd(inport, nd.target, eth.src); ${ip1}next;`,
      13845,
    );
  if (!learn && s.profile.ovn >= 25) {
    // 25.03 looks the NA up by its target, with the eth.src fallback when nd.tll is 0.
    s.add(
      "lr_in_lookup_neighbor",
      110,
      "nd_na && ip6.src == fe80::/10 && ip6.dst == ff00::/8",
      "reg9[2] = lookup_nd(inport, nd.target, nd.tll); reg9[3] = lookup_nd_ip(inport, nd.target); next;",
      13862,
    );
    s.add(
      "lr_in_lookup_neighbor",
      115,
      "nd_na && nd.tll == 0 && ip6.src == fe80::/10 && ip6.dst == ff00::/8",
      "reg9[2] = lookup_nd(inport, nd.target, eth.src); reg9[3] = lookup_nd_ip(inport, nd.target); next;",
      13875,
    );
  } else if (!learn) {
    s.add(
      "lr_in_lookup_neighbor",
      110,
      "nd_na && ip6.src == fe80::/10 && ip6.dst == ff00::/8",
      "reg9[2] = lookup_nd(inport, ip6.src, nd.tll); reg9[3] = lookup_nd_ip(inport, ip6.src); next;",
      11714,
    );
  }
  s.add(
    "lr_in_lookup_neighbor",
    100,
    "nd_ns",
    `reg9[2] = lookup_nd(inport, ip6.src, nd.sll); ${learn ? "" : "reg9[3] = lookup_nd_ip(inport, ip6.src); "}next;`,
    11726,
  );
  s.add("lr_in_lookup_neighbor", 0, "1", "reg9[2] = 1; next;", 11731);
  s.add(
    "lr_in_learn_neighbor",
    100,
    `reg9[2] == 1${learn ? "" : " || reg9[3] == 0"}`,
    s.profile.ovn >= 24 ? "mac_cache_use; next;" : "next;",
    11740,
  );
  s.add("lr_in_learn_neighbor", 90, "arp", "put_arp(inport, arp.spa, arp.sha); next;", 11743);
  s.add("lr_in_learn_neighbor", 95, "nd_ns && (ip6.src == 0 || nd.sll == 0)", "next;", 11748);
  s.add(
    "lr_in_learn_neighbor",
    95,
    "nd_na && nd.tll == 0",
    "put_nd(inport, nd.target, eth.src); next;",
    11751,
  );
  s.add("lr_in_learn_neighbor", 90, "nd_na", "put_nd(inport, nd.target, nd.tll); next;", 11757);
  s.add("lr_in_learn_neighbor", 90, "nd_ns", "put_nd(inport, ip6.src, nd.sll); next;", 11762);
  s.add("lr_in_learn_neighbor", 0, "1", DROP, 11767);
}

function buildNeighLearningPort(s: FlowSink, od: RouterDatapath, op: RouterPort): void {
  const learn = bool(od.lr.options.always_learn_from_arp_request, true);
  for (const n of op.v4) {
    const res = op.isDgp ? ` && is_chassis_resident(${op.crKey})` : "";
    if (!learn) {
      s.add(
        "lr_in_lookup_neighbor",
        110,
        `inport == ${op.key} && arp.spa == ${n.network}/${n.plen} && arp.tpa == ${n.addr} && arp.op == 1${res}`,
        "reg9[2] = lookup_arp(inport, arp.spa, arp.sha); reg9[3] = 1; next;",
        11806,
      );
    }
    s.add(
      "lr_in_lookup_neighbor",
      100,
      `inport == ${op.key} && arp.spa == ${n.network}/${n.plen} && arp.op == 1${res}`,
      `reg9[2] = lookup_arp(inport, arp.spa, arp.sha); ${learn ? "" : "reg9[3] = lookup_arp_ip(inport, arp.spa); "}next;`,
      11827,
    );
  }
}

function buildNdRaPort(s: FlowSink, op: RouterPort): void {
  if (op.lrp.peer !== undefined || !op.peerLsp) return;
  if (op.nets.ipv6.length === 0) return;
  const ra = op.lrp.ipv6RaConfigs;
  const mode = ra.address_mode;
  if (mode === undefined) return;
  if (mode !== "slaac" && mode !== "dhcpv6_stateful" && mode !== "dhcpv6_stateless") return;
  const mtuN = Number.parseInt(ra.mtu ?? "", 10);
  let a = `reg0[5] = put_nd_ra_opts(addr_mode = "${mode}", slla = ${op.nets.ea}`;
  if (Number.isFinite(mtuN) && mtuN >= 1280) a += `, mtu = ${mtuN}`;
  const prf = ra.router_preference ?? "MEDIUM";
  if (prf !== "MEDIUM") a += `, router_preference = "${prf}"`;
  if (ra.rdnss !== undefined) a += `, rdnss = ${ra.rdnss}`;
  if (ra.dnssl !== undefined) a += `, dnssl = "${ra.dnssl}"`;
  if (ra.route_info !== undefined) a += `, route_info = "${ra.route_info}"`;
  let any = false;
  for (const n of op.nets.ipv6) {
    if (isLla(n.network)) continue;
    a += `, prefix = ${n.network}/${n.plen}`;
    any = true;
  }
  if (!any) return;
  s.add(
    "lr_in_nd_ra_options",
    50,
    `inport == ${op.key} && ip6.dst == ff02::2 && nd_rs`,
    `${a}); next;`,
    11922,
  );
  const lla = op.nets.ipv6[op.nets.ipv6.length - 1]?.addr ?? "";
  s.add(
    "lr_in_nd_ra_response",
    50,
    `inport == ${op.key} && ip6.dst == ff02::2 && nd_ra && reg0[5]`,
    `eth.dst = eth.src; eth.src = ${op.nets.ea}; ip6.dst = ip6.src; ip6.src = ${lla}; outport = inport; flags.loopback = 1; output;`,
    11943,
  );
}

// ---------------------------------------------------------------------------------------------
// Routing (add_route, build_static_route_flow, build_ecmp_route_flow).

function addRoute(
  s: FlowSink,
  op: RouterPort | undefined,
  lrpAddr: string,
  network: string,
  plen: number,
  gateway: string | undefined,
  isSrc: boolean,
  rtbId: number,
  discard: boolean,
  ofs: number,
  line: number,
): void {
  const v4 = network.includes(".");
  const inport = !v4 && isLla(network) && op ? op : undefined;
  const m = routeMatch(s.profile, inport, rtbId, network, plen, isSrc, v4, ofs);
  let actions: string;
  if (discard) actions = DROP;
  else {
    const gw = gateway !== undefined && gateway !== "" ? gateway : `ip${v4 ? "4" : "6"}.dst`;
    actions = `ip.ttl--; reg8[0..15] = 0; ${v4 ? "reg0" : "xxreg0"} = ${gw}; ${srcReg(s.profile, v4)} = ${lrpAddr}; eth.src = ${(op as RouterPort).nets.ea}; outport = ${(op as RouterPort).key}; flags.loopback = 1; ${nhIsV4(s.profile, v4)}next;`;
  }
  s.add("lr_in_ip_routing", m.priority, m.match, actions, line);
}

/** REG_SRC_IPV4 / REG_SRC_IPV6: 25.03 moved the IPv4 source address from reg1 to reg5. */
const srcReg = (p: Profile, v4: boolean): string => (v4 ? (p.ovn >= 25 ? "reg5" : "reg1") : "xxreg1");
/** 25.03 records the next hop's family in REGBIT_NEXTHOP_IS_IPV4 (reg9[9]) for ARP resolution. */
const nhIsV4 = (p: Profile, v4: boolean): string => (p.ovn >= 25 ? `reg9[9] = ${v4 ? 1 : 0}; ` : "");

/** `ofs` is 1 for a static route, 2 for a connected one (the 23.03 ROUTE_PRIO_OFFSET_* values). */
function routeMatch(
  p: Profile,
  inport: RouterPort | undefined,
  rtbId: number,
  network: string,
  plen: number,
  isSrc: boolean,
  v4: boolean,
  ofsIn: number,
): { match: string; priority: number } {
  const rp = p.routePrio;
  const isStatic = ofsIn === 1;
  const ofs = isSrc ? 0 : isStatic ? rp.static : rp.connected;
  let priority = plen * rp.mult + ofs;
  if (isSrc && rp.kubeSrcRoute) priority = (v4 && plen === 32) || plen === 128 ? rp.static + 1 : 1;
  let m = "";
  if (inport) m += `inport == ${inport.key} && `;
  if (rtbId || (!isSrc && isStatic)) m += `reg7 == ${rtbId} && `;
  m += `ip${v4 ? "4" : "6"}.${isSrc ? "src" : "dst"} == ${network}/${plen}`;
  return { match: m, priority };
}

function buildIpRoutingPort(s: FlowSink, op: RouterPort): void {
  for (const n of op.v4) addRoute(s, op, n.addr, n.network, n.plen, undefined, false, 0, false, 2, 10388);
  for (const n of op.nets.ipv6)
    addRoute(s, op, n.addr, n.network, n.plen, undefined, false, 0, false, 2, 10388);
}

interface ParsedRoute {
  readonly route: StaticRoute;
  readonly v4: boolean;
  readonly network: string;
  readonly plen: number;
  readonly isSrc: boolean;
  readonly rtbId: number;
  readonly discard: boolean;
}

function parsePrefix(text: string): { v4: boolean; network: string; plen: number } | undefined {
  const [ip, len, ...rest] = text.split("/");
  if (ip === undefined || rest.length > 0) return undefined;
  if (ip.includes(".")) {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) return undefined;
    const plen = len === undefined ? 32 : Number(len);
    if (!Number.isInteger(plen) || plen < 0 || plen > 32) return undefined;
    return { v4: true, network: fmt4((ip4(ip) & mask4(plen)) >>> 0), plen };
  }
  const a = extractLspAddresses(`00:00:00:00:00:00 ${text.includes("/") ? text : `${text}/128`}`);
  const x = a?.ipv6[0];
  if (!x) return undefined;
  return { v4: false, network: x.network, plen: x.plen };
}

/** find_static_route_outport. */
function staticRouteOutport(
  od: RouterDatapath,
  route: StaticRoute,
  v4: boolean,
): { op: RouterPort; addr: string } | undefined {
  if (route.outputPort !== undefined) {
    const op = od.ports.find((p) => p.lrp.name === route.outputPort);
    if (!op) return undefined;
    let addr = route.nexthop !== "" ? findLrpMemberIp(op, route.nexthop) : undefined;
    if (addr === undefined) addr = v4 ? op.v4[0]?.addr : op.nets.ipv6[0]?.addr;
    return addr === undefined ? undefined : { op, addr };
  }
  for (const op of od.ports) {
    const addr = route.nexthop !== "" ? findLrpMemberIp(op, route.nexthop) : undefined;
    if (addr !== undefined) return { op, addr };
  }
  return undefined;
}

function buildStaticRoutes(ctx: BuildContext, s: FlowSink, od: RouterDatapath): void {
  s.add("lr_in_ip_routing_ecmp", 0, "1", DROP, 12044);
  s.add("lr_in_ip_routing", 0, "1", DROP, 12045);
  s.add("lr_in_ip_routing_ecmp", 150, "reg8[0..15] == 0", "next;", 12046);
  const tables = new Map<string, number>();
  const tableId = (name: string | undefined): number => {
    if (name === undefined || name === "") return 0;
    let id = tables.get(name);
    if (id === undefined) {
      id = tables.size + 1;
      tables.set(name, id);
    }
    return id;
  };
  for (const p of od.lr.ports) {
    const id = tableId(p.options.route_table);
    if (id) s.add("lr_in_ip_routing_pre", 100, `inport == ${jsonKey(p.name)}`, `reg7 = ${id}; next;`, 9686);
  }
  const parsed: ParsedRoute[] = [];
  for (const route of od.lr.staticRoutes) {
    const discard = route.nexthop === "discard";
    const validNh = route.nexthop !== "" && !discard;
    let nhV4: boolean | undefined;
    if (validNh) {
      const nh = parsePrefix(route.nexthop);
      if (!nh || nh.plen !== (nh.v4 ? 32 : 128)) continue;
      nhV4 = nh.v4;
    }
    const pfx = parsePrefix(route.ipPrefix);
    if (!pfx) continue;
    if (nhV4 !== undefined && nhV4 !== pfx.v4) continue;
    if (!discard && !staticRouteOutport(od, route, pfx.v4)) continue;
    parsed.push({
      route,
      v4: pfx.v4,
      network: pfx.network,
      plen: pfx.plen,
      isSrc: route.policy === "src-ip",
      rtbId: tableId(route.routeTable),
      discard,
    });
  }
  // Routes with the same prefix, policy and table form an ECMP group.
  const groups = new Map<string, ParsedRoute[]>();
  for (const r of parsed) {
    const k = `${r.network}/${r.plen}/${r.isSrc}/${r.rtbId}`;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  let groupId = 0;
  for (const g of groups.values()) {
    if (g.length > 1) {
      groupId += 1;
      buildEcmpRoute(ctx, s, od, g, groupId);
    } else {
      const r = g[0] as ParsedRoute;
      const ofs = r.route.options.origin === "connected" ? 2 : 1;
      if (r.discard) {
        addRoute(s, undefined, "", r.network, r.plen, r.route.nexthop, r.isSrc, r.rtbId, true, ofs, 10388);
        continue;
      }
      const out = staticRouteOutport(od, r.route, r.v4) as { op: RouterPort; addr: string };
      addRoute(s, out.op, out.addr, r.network, r.plen, r.route.nexthop, r.isSrc, r.rtbId, false, ofs, 10388);
    }
  }
}

function buildEcmpRoute(
  ctx: BuildContext,
  s: FlowSink,
  od: RouterDatapath,
  g: ParsedRoute[],
  id: number,
): void {
  const first = g[0] as ParsedRoute;
  const ofs = first.route.options.origin === "connected" ? 2 : 1;
  const rm = routeMatch(
    s.profile,
    undefined,
    first.rtbId,
    first.network,
    first.plen,
    first.isSrc,
    first.v4,
    ofs,
  );
  s.add(
    "lr_in_ip_routing",
    rm.priority,
    rm.match,
    `ip.ttl--; flags.loopback = 1; reg8[0..15] = ${id}; reg8[16..31] = select(${g.map((_, i) => i + 1).join(", ")});`,
    10287,
  );
  const visited = new Set<string>();
  g.forEach((r, i) => {
    const out = staticRouteOutport(od, r.route, r.v4);
    if (!out) return;
    if (od.isGw && bool(r.route.options.ecmp_symmetric_reply, false) && !visited.has(out.op.key)) {
      visited.add(out.op.key);
      addEcmpSymmetricReply(ctx, s, out.addr, out.op, r, rm.match);
    }
    s.add(
      "lr_in_ip_routing_ecmp",
      100,
      `reg8[0..15] == ${id} && reg8[16..31] == ${i + 1}`,
      `${r.v4 ? "reg0" : "xxreg0"} = ${r.route.nexthop}; ${srcReg(s.profile, r.v4)} = ${out.addr}; eth.src = ${out.op.nets.ea}; outport = ${out.op.key}; ${nhIsV4(s.profile, r.v4)}next;`,
      10329,
    );
  });
}

function addEcmpSymmetricReply(
  ctx: BuildContext,
  s: FlowSink,
  portIp: string,
  out: RouterPort,
  r: ParsedRoute,
  routeMatchText: string,
): void {
  const mark = ctx.features.ctNoMaskedLabel ? "ct_mark.ecmp_reply_port" : "ct_label.ecmp_reply_port";
  const v = r.v4 ? "4" : "6";
  const cidr = r.v4
    ? r.plen === 32
      ? r.network
      : `${r.network}/${r.plen}`
    : r.plen === 128
      ? r.network
      : `${r.network}/${r.plen}`;
  const base = `inport == ${out.key} && ip${v}.${r.isSrc ? "dst" : "src"} == ${cidr}`;
  const tk = out.tunnelKey;
  s.add("lr_in_defrag", 100, base, "reg9[5] = chk_ecmp_nh_mac(); ct_next;", 10107);
  s.add("lr_in_defrag", 100, routeMatchText, "reg9[5] = chk_ecmp_nh(); ct_next;", 10113);
  const commit = (proto: string) =>
    `ct_commit { ct_label.ecmp_reply_eth = eth.src;  ${mark} = ${tk};}; commit_ecmp_nh(ipv6 = ${r.v4 ? "false" : "true"}, proto = ${proto}); next;`;
  const lines = [10132, 10145, 10158];
  ["tcp", "udp", "sctp"].forEach((p, i) => {
    s.add("lr_in_ecmp_stateful", 100, `${base} && (ct.new && !ct.est) && ${p}`, commit(p), lines[i]);
  });
  const lines2 = [10173, 10188, 10202];
  ["tcp", "udp", "sctp"].forEach((p, i) => {
    s.add(
      "lr_in_ecmp_stateful",
      100,
      `${base} && (!ct.rpl && ct.est) && ${p} && reg9[5] == 0`,
      commit(p),
      lines2[i],
    );
  });
  const reply = `ct.rpl && reg9[5] == 1 && ${mark} == ${tk}`;
  s.add(
    "lr_in_ip_routing",
    10300,
    `${reply} && ${routeMatchText}`,
    `ip.ttl--; flags.loopback = 1; eth.src = ${out.nets.ea}; ${r.v4 ? "" : "xx"}reg1 = ${portIp}; outport = ${out.key}; next;`,
    10221,
  );
  s.add("lr_in_policy", 65535, reply, "next;", 10226);
  s.add(
    "lr_in_arp_resolve",
    200,
    reply,
    "push(xxreg1); xxreg1 = ct_label; eth.dst = xxreg1[32..79]; pop(xxreg1); next;",
    10242,
  );
}

// ---------------------------------------------------------------------------------------------
// Policies (build_ingress_policy_flows_for_lrouter).

function policyOutport(od: RouterDatapath, nexthop: string): { op: RouterPort; addr: string } | undefined {
  for (const op of od.ports) {
    const addr = findLrpMemberIp(op, nexthop);
    if (addr !== undefined) return { op, addr };
  }
  return undefined;
}

function pktMark(opts: Readonly<Record<string, string>>): string {
  const t = opts.pkt_mark;
  if (t === undefined || !/^\d+$/.test(t)) return "";
  const n = Number(t);
  return n > 0 && n <= 0xffffffff ? `pkt.mark = ${n}; ` : "";
}

function buildPolicies(s: FlowSink, od: RouterDatapath): void {
  s.add("lr_in_policy", 0, "1", "reg8[0..15] = 0; next;", 12213);
  s.add("lr_in_policy_ecmp", 150, "reg8[0..15] == 0", "next;", 12215);
  s.add("lr_in_policy_ecmp", 0, "1", DROP, 12217);
  let ecmpId = 1;
  for (const rule of od.lr.policies) {
    if (rule.action === "reroute" && rule.nexthops.length > 1) {
      buildEcmpPolicy(s, od, rule, ecmpId);
      ecmpId += 1;
      continue;
    }
    let actions: string;
    if (rule.action === "reroute") {
      const nh = rule.nexthops.length === 1 ? rule.nexthops[0] : rule.nexthop;
      if (nh === undefined) continue;
      const out = policyOutport(od, nh);
      if (!out) continue;
      const v4 = nh.includes(".");
      actions = `${pktMark(rule.options)}${v4 ? "reg0" : "xxreg0"} = ${nh}; ${srcReg(s.profile, v4)} = ${out.addr}; eth.src = ${out.op.nets.ea}; outport = ${out.op.key}; flags.loopback = 1; reg8[0..15] = 0; ${nhIsV4(s.profile, v4)}next;`;
    } else if (rule.action === "drop") actions = DROP;
    else actions = `${pktMark(rule.options)}reg8[0..15] = 0; next;`;
    s.add("lr_in_policy", rule.priority, rule.match, actions, 9526);
  }
}

function buildEcmpPolicy(
  s: FlowSink,
  od: RouterDatapath,
  rule: LogicalRouter["policies"][number],
  id: number,
): void {
  const fam = (x: string) => x.includes(".");
  if (rule.nexthops.some((n) => fam(n) !== fam(rule.nexthops[0] as string))) return;
  const flows: [string, string][] = [];
  for (let i = 0; i < rule.nexthops.length; i++) {
    const nh = rule.nexthops[i] as string;
    const out = policyOutport(od, nh);
    if (!out) return;
    const v4 = fam(nh);
    flows.push([
      `reg8[0..15] == ${id} && reg8[16..31] == ${i + 1}`,
      `${pktMark(rule.options)}${v4 ? "reg0" : "xxreg0"} = ${nh}; ${srcReg(s.profile, v4)} = ${out.addr}; eth.src = ${out.op.nets.ea}; outport = ${out.op.key}; flags.loopback = 1; ${nhIsV4(s.profile, v4)}next;`,
    ]);
  }
  for (const [m, a] of flows) s.add("lr_in_policy_ecmp", 100, m, a, 9606);
  s.add(
    "lr_in_policy",
    rule.priority,
    rule.match,
    `reg8[0..15] = ${id}; reg8[16..31] = select(${rule.nexthops.map((_, i) => i + 1).join(", ")});`,
    9624,
  );
}

// ---------------------------------------------------------------------------------------------
// ARP resolution (build_arp_resolve_flows_for_lrouter_port and its switch-port halves).

function buildArpResolvePort(s: FlowSink, od: RouterDatapath, op: RouterPort, sinks: SinkSet): void {
  // A router port peered directly with another router port: resolve its addresses in the peer.
  if (op.peerLrp && op.lrp.peer !== undefined) {
    const peerSink = sinks.get(op.peerLrp.router.name);
    if (op.v4.length > 0)
      peerSink.add(
        "lr_in_arp_resolve",
        100,
        `outport == ${op.peerLrp.key} && reg0== ${v4List(op, false)}`,
        `eth.dst = ${op.nets.ea}; next;`,
        12330,
      );
    if (op.nets.ipv6.length > 0)
      peerSink.add(
        "lr_in_arp_resolve",
        100,
        `outport == ${op.peerLrp.key} && xxreg0 == ${v6List(op)}`,
        `eth.dst = ${op.nets.ea}; next;`,
        12346,
      );
  }
  if (op.isDgp && (op.lrp.options["redirect-type"] ?? "").toLowerCase() === "bridged") {
    s.add(
      "lr_in_arp_resolve",
      50,
      `outport == ${op.key} && !is_chassis_resident(${op.crKey})`,
      `eth.dst = ${op.nets.ea}; next;`,
      12371,
    );
  }
  dropOwnDest(s, od, op, "lr_in_arp_resolve", 2, true, 11304);
}

/** build_lrouter_drop_own_dest. */
function dropOwnDest(
  s: FlowSink,
  od: RouterDatapath,
  op: RouterPort,
  stage: string,
  prio: number,
  dropSnat: boolean,
  line: number,
): void {
  const snat = snatIps(od);
  const v4 = op.v4
    .filter((n) => dropSnat === (snat.has(n.addr) || od.lbIps.v4.has(n.addr)))
    .map((n) => n.addr);
  if (v4.length > 0) s.add(stage, prio, `ip4.dst == {${v4.join(", ")}}`, DROP, line);
  const v6 = op.nets.ipv6
    .filter((n) => dropSnat === (snat.has(n.addr) || od.lbIps.v6.has(n.addr)))
    .map((n) => n.addr);
  if (v6.length > 0) s.add(stage, prio, `ip6.dst == {${v6.join(", ")}}`, DROP, line + 29);
}

/** od->snat_ips (init_nat_entries): SNAT external IPs and the force-SNAT addresses. */
export function snatIps(od: RouterDatapath): Set<string> {
  const out = new Set<string>();
  const force = [od.lr.options.dnat_force_snat_ip];
  const lb = od.lr.options.lb_force_snat_ip;
  if (!(lb === "router_ip" && od.isGw)) force.push(lb);
  for (const f of force) {
    if (f === undefined) continue;
    const a = extractLspAddresses(`00:00:00:00:00:00 ${f}`);
    if (a?.ipv4[0]) out.add(a.ipv4[0].addr);
    if (a?.ipv6[0]) out.add(a.ipv6[0].addr);
  }
  for (const n of od.nat) {
    if (n.type !== "snat") continue;
    const a = extractLspAddresses(`00:00:00:00:00:00 ${n.externalIp}`);
    const x = a?.ipv4[0] ?? a?.ipv6[0];
    if (x && (a?.ipv4.length ?? 0) + (a?.ipv6.length ?? 0) === 1) out.add(x.addr);
  }
  return out;
}

/** The ARP resolution rows switch ports add to the routers attached to their switch. */
export function buildSwitchArpResolve(
  db: NbDatabase,
  routers: readonly RouterDatapath[],
  sinks: SinkSet,
): void {
  const byLrp = new Map<string, { od: RouterDatapath; op: RouterPort }>();
  for (const od of routers) for (const op of od.ports) byLrp.set(op.lrp.name, { od, op });
  for (const sw of db.switches) {
    // od->router_ports: router-type ports whose router port exists.
    const rports = sw.ports
      .filter((p) => p.type === "router" && p.options["router-port"] !== undefined)
      .map((p) => ({ lsp: p, peer: byLrp.get(p.options["router-port"] as string) }))
      .filter(
        (x): x is { lsp: LogicalSwitchPort; peer: { od: RouterDatapath; op: RouterPort } } =>
          x.peer !== undefined,
      );
    if (rports.length === 0) continue;
    for (const lsp of sw.ports) {
      if (lsp.enabled === false) continue;
      if (lsp.type === "router") {
        const me = rports.find((r) => r.lsp === lsp);
        if (!me) continue;
        const peer = me.peer;
        if (bool(peer.od.lr.options.dynamic_neigh_routers, false)) continue;
        const sink = sinks.get(peer.od.lr.name);
        for (const other of rports) {
          if (other.peer.op === peer.op) continue;
          const rp = other.peer.op;
          if (rp.v4.length > 0)
            sink.add(
              "lr_in_arp_resolve",
              100,
              `outport == ${peer.op.key} && reg0 == ${v4List(rp, false)}`,
              `eth.dst = ${rp.nets.ea}; next;`,
              12604,
            );
          if (rp.nets.ipv6.length > 0)
            sink.add(
              "lr_in_arp_resolve",
              100,
              `outport == ${peer.op.key} && xxreg0 == ${v6List(rp)}`,
              `eth.dst = ${rp.nets.ea}; next;`,
              12620,
            );
        }
        continue;
      }
      if (lsp.type === "virtual") continue;
      for (const a of lsp.addresses) {
        const la = extractLspAddresses(a);
        if (!la) continue;
        for (const ip of la.ipv4) {
          for (const r of rports) {
            if (findLrpMemberIp(r.peer.op, ip.addr) === undefined) continue;
            sinks
              .get(r.peer.od.lr.name)
              .add(
                "lr_in_arp_resolve",
                100,
                `outport == ${r.peer.op.key} && reg0 == ${ip.addr}`,
                `eth.dst = ${la.ea}; next;`,
                12419,
              );
          }
        }
        for (const ip of la.ipv6) {
          for (const r of rports) {
            if (findLrpMemberIp(r.peer.op, ip.addr) === undefined) continue;
            sinks
              .get(r.peer.od.lr.name)
              .add(
                "lr_in_arp_resolve",
                100,
                `outport == ${r.peer.op.key} && xxreg0 == ${ip.addr}`,
                `eth.dst = ${la.ea}; next;`,
                12450,
              );
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------

function buildCheckPktLen(s: FlowSink, od: RouterDatapath): void {
  s.add("lr_in_chk_pkt_len", 0, "1", "next;", 12776);
  s.add("lr_in_larger_pkts", 0, "1", "next;", 12778);
  for (const op of od.ports) {
    const mtu = Number.parseInt(op.lrp.options.gateway_mtu ?? "0", 10);
    if (!(mtu > 0)) continue;
    gatewayMtuFlow(s, op, "lr_in_chk_pkt_len", 50, 55, `outport == ${op.key}`, "next;");
    icmpErrPktBig(s, op, mtu, "lr_in_ip_input", undefined);
    for (const rp of od.ports) if (rp !== op) icmpErrPktBig(s, rp, mtu, "lr_in_larger_pkts", op);
  }
}

function icmpErrPktBig(
  s: FlowSink,
  op: RouterPort,
  mtu: number,
  stage: string,
  outport: RouterPort | undefined,
): void {
  const out = outport ? `outport == ${outport.key} && ` : "";
  const admission = s.table("lr_in_admission");
  const v4 = op.v4[0];
  if (v4) {
    s.add(
      stage,
      150,
      `inport == ${op.key} && ${out}ip4 && reg9[1] && reg9[0] == 0`,
      `icmp4_error {reg9[0] = 1; reg9[1] = 0; eth.dst = ${op.nets.ea}; ip4.dst = ip4.src; ip4.src = ${v4.addr}; ip.ttl = 255; icmp4.type = 3; /* Destination Unreachable. */ icmp4.code = 4; /* Frag Needed and DF was Set. */ icmp4.frag_mtu = ${mtu}; next(pipeline=ingress, table=${admission}); };`,
      12669,
    );
  }
  const v6 = op.nets.ipv6[0];
  if (v6) {
    s.add(
      stage,
      150,
      `inport == ${op.key} && ${out}ip6 && reg9[1] && reg9[0] == 0`,
      `icmp6_error {reg9[0] = 1; reg9[1] = 0; eth.dst = ${op.nets.ea}; ip6.dst = ip6.src; ip6.src = ${v6.addr}; ip.ttl = 255; icmp6.type = 2; /* Packet Too Big. */ icmp6.code = 0; icmp6.frag_mtu = ${mtu}; next(pipeline=ingress, table=${admission}); };`,
      12702,
    );
  }
}

function buildGatewayRedirect(s: FlowSink, od: RouterDatapath): void {
  for (const op of od.dgps) {
    s.add("lr_in_gw_redirect", 50, `outport == ${op.key}`, `outport = ${op.crKey}; next;`, 12830);
  }
  s.add("lr_in_gw_redirect", 0, "1", "next;", 12872);
}

/** in6_addr_solicited_node + ipv6_multicast_to_ethernet. */
function solicited(addr: string): { sn: string; mac: string } {
  const v = ip6Big(addr);
  const sn = 0xff0200000000000000000001ff000000n | (v & 0xffffffn);
  const a = extractLspAddresses(`00:00:00:00:00:00 ${addr}`)?.ipv6[0];
  const low = Number(v & 0xffffffffn) | 0xff000000;
  const b = (i: number) => ((low >>> (8 * (3 - i))) & 255).toString(16).padStart(2, "0");
  void sn;
  return { sn: a?.sn ?? "", mac: `33:33:${b(0)}:${b(1)}:${b(2)}:${b(3)}` };
}

function buildArpRequest(s: FlowSink, od: RouterDatapath): void {
  // 24.03 continues to the network-id stage ("output;" after the action); 25.03 to
  // lr_in_ecmp_stateful_egr ("next;"), and selects the family by REGBIT_NEXTHOP_IS_IPV4.
  const v = s.profile.ovn;
  const after = v >= 25 ? " next;" : v >= 24 ? " output;" : "";
  for (const route of od.lr.staticRoutes) {
    const nh = route.nexthop;
    if (!nh.includes(":")) continue;
    const p = parsePrefix(nh);
    if (!p || p.v4 || p.plen !== 128) continue;
    const { sn, mac } = solicited(p.network);
    s.add(
      "lr_in_arp_request",
      200,
      `eth.dst == 00:00:00:00:00:00 && ${v >= 25 ? "reg9[9] == 0" : "ip6"} && xxreg0 == ${nh}`,
      `nd_ns { eth.dst = ${mac}; ip6.dst = ${sn}; nd.target = ${nh}; output; };${after}`,
      12921,
    );
  }
  s.add(
    "lr_in_arp_request",
    100,
    `eth.dst == 00:00:00:00:00:00 && ${v >= 25 ? "reg9[9] == 1" : "ip4"}`,
    `arp { eth.dst = ff:ff:ff:ff:ff:ff; arp.spa = ${srcReg(s.profile, true)}; arp.tpa = reg0; arp.op = 1; output; };${after}`,
    12929,
  );
  s.add(
    "lr_in_arp_request",
    100,
    `eth.dst == 00:00:00:00:00:00 && ${v >= 25 ? "reg9[9] == 0" : "ip6"}`,
    `nd_ns { nd.target = xxreg0; output; };${after}`,
    12940,
  );
  if (v >= 24) buildNetworkId(s, od);
  s.add("lr_in_arp_request", 0, "1", v >= 25 ? "next;" : "output;", 12948);
}

function buildEgressDelivery(s: FlowSink, op: RouterPort): void {
  // 23.03 adds the default drop with each enabled port; 24.03+ once per router (buildRouterFlows).
  if (s.profile.ovn >= 24) s.add("lr_out_delivery", 0, "1", DROP);
  if (!op.enabled) return;
  s.add("lr_out_delivery", 100, `outport == ${op.key}`, "output;", 12995);
  if (s.profile.ovn < 24) s.add("lr_out_delivery", 0, "1", DROP, 12998);
}

function buildMiscLocalDrop(s: FlowSink): void {
  s.add(
    "lr_in_ip_input",
    100,
    "ip4.src_mcast ||ip4.src == 255.255.255.255 || ip4.src == 127.0.0.0/8 || ip4.dst == 127.0.0.0/8 || ip4.src == 0.0.0.0/8 || ip4.dst == 0.0.0.0/8",
    DROP,
    13021,
  );
  s.add("lr_in_ip_input", 85, "arp || nd", DROP, 13035);
  s.add("lr_in_ip_input", 84, "nd_rs || nd_ra", "next;", 13041);
  s.add("lr_in_ip_input", 83, "ip6.mcast_rsvd", DROP, 13045);
  s.add("lr_in_ip_input", 82, "ip4.mcast || ip6.mcast", DROP, 13049);
  s.add("lr_in_ip_input", 50, "eth.bcast", DROP, 13056);
  s.add("lr_in_ip_input", 32, "ip.ttl == {0, 1} && !ip.later_frag && (ip4.mcast || ip6.mcast)", DROP, 13073);
  s.add("lr_in_ip_input", s.profile.ovn >= 24 ? 29 : 30, "ip.ttl == {0, 1}", DROP, 13078);
  s.add("lr_in_ip_input", 0, "1", "next;", 13083);
}

function buildDhcpv6Reply(s: FlowSink, op: RouterPort): void {
  // 24.03+: only on ports doing prefix delegation.
  if (s.profile.ovn >= 24 && op.lrp.options.prefix_delegation !== "true") return;
  for (const n of op.nets.ipv6) {
    s.add(
      "lr_in_ip_input",
      100,
      `ip6.dst == ${n.addr} && udp.src == 547 && udp.dst == 546`,
      "reg0 = 0; handle_dhcpv6_reply;",
      13098,
    );
  }
}

/** build_lrouter_arp_flow. */
export function arpFlow(
  s: FlowSink,
  op: RouterPort | undefined,
  ip: string,
  eth: string,
  extra: string,
  drop: boolean,
  prio: number,
  line: number,
): void {
  let m = op ? `inport == ${op.key} && ` : "";
  m += `arp.op == 1 && arp.tpa == ${ip}`;
  if (extra !== "") m += ` && ${extra}`;
  const a = drop
    ? DROP
    : `eth.dst = eth.src; eth.src = ${eth}; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = ${eth}; arp.tpa <-> arp.spa; outport = inport; flags.loopback = 1; output;`;
  s.add("lr_in_ip_input", prio, m, a, line);
}

/** build_lrouter_nd_flow. */
export function ndFlow(
  s: FlowSink,
  op: RouterPort | undefined,
  action: string,
  ip: string,
  sn: string | undefined,
  eth: string,
  extra: string,
  drop: boolean,
  prio: number,
  line: number,
): void {
  let m = op ? `inport == ${op.key} && ` : "";
  if (sn !== undefined) m += `ip6.dst == {${ip}, ${sn}} && `;
  m += `nd_ns && nd.target == ${ip}`;
  if (extra !== "") m += ` && ${extra}`;
  const a = drop
    ? DROP
    : `${action} { eth.src = ${eth}; ip6.src = nd.target; nd.tll = ${eth}; outport = inport; flags.loopback = 1; output; };`;
  s.add("lr_in_ip_input", prio, m, a, line);
}

function buildIpv6Input(s: FlowSink, od: RouterDatapath, op: RouterPort): void {
  if (op.nets.ipv6.length > 0) {
    s.add(
      "lr_in_ip_input",
      90,
      `ip6.dst == ${v6List(op)} && icmp6.type == 128 && icmp6.code == 0`,
      "ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 129; flags.loopback = 1; next; ",
      13129,
    );
  }
  for (const n of op.nets.ipv6) {
    const extra = op.isDgp ? `is_chassis_resident(${op.crKey})` : "";
    ndFlow(s, op, "nd_na_router", n.addr, n.sn, "xreg0[0..47]", extra, false, 90, 11171);
  }
  if (!od.isGw && od.dgps.length === 0) {
    for (const n of op.nets.ipv6) {
      const a = n.addr;
      s.add(
        "lr_in_ip_input",
        80,
        `ip6 && ip6.dst == ${a} && !ip.later_frag && tcp`,
        "tcp_reset {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };",
        13166,
      );
      s.add(
        "lr_in_ip_input",
        80,
        `ip6 && ip6.dst == ${a} && !ip.later_frag && sctp`,
        "sctp_abort {eth.dst <-> eth.src; ip6.dst <-> ip6.src; next; };",
        13182,
      );
      s.add(
        "lr_in_ip_input",
        80,
        `ip6 && ip6.dst == ${a} && !ip.later_frag && udp`,
        "icmp6 {eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 1; icmp6.code = 4; next; };",
        13201,
      );
      s.add(
        "lr_in_ip_input",
        70,
        `ip6 && ip6.dst == ${a} && !ip.later_frag`,
        "icmp6 {eth.dst <-> eth.src; ip6.dst <-> ip6.src; ip.ttl = 255; icmp6.type = 1; icmp6.code = 3; next; };",
        13220,
      );
    }
  }
  const first6 = op.nets.ipv6[0];
  if (s.profile.ovn >= 24 && first6) {
    s.add(
      "lr_in_ip_input",
      30,
      `inport == ${op.key} && ip6 && ip.ttl == {0, 1} && !ip.later_frag`,
      `icmp6 {eth.dst <-> eth.src; ip6.dst = ip6.src; ip6.src = ${first6.addr}; ip.ttl = 254; icmp6.type = 3; /* Time exceeded */ icmp6.code = 0; /* TTL exceeded in transit */ outport = ${op.key}; flags.loopback = 1; output; };`,
    );
  }
  for (const n of op.nets.ipv6) {
    if (isLla(n.network)) continue;
    const ipDs = op.isDgp ? "ip6.dst <-> ip6.src" : `ip6.dst = ip6.src; ip6.src = ${n.addr}`;
    s.add(
      "lr_in_ip_input",
      31,
      `inport == ${op.key} && ip6 && ip6.src == ${n.network}/${n.plen} && ip.ttl == {0, 1} && !ip.later_frag`,
      `icmp6 {eth.dst <-> eth.src; ${ipDs} ; ip.ttl = 254; icmp6.type = 3; /* Time exceeded */ icmp6.code = 0; /* TTL exceeded in transit */ outport = ${op.key}; flags.loopback = 1; output; };`,
      13262,
    );
  }
}

function buildIpv4Input(s: FlowSink, od: RouterDatapath, op: RouterPort): void {
  if (op.v4.length > 0) {
    s.add("lr_in_ip_input", 100, `ip4.src == ${v4List(op, true)} && reg9[0] == 0`, DROP, 13340);
    s.add(
      "lr_in_ip_input",
      90,
      `ip4.dst == ${v4List(op, false)} && icmp4.type == 8 && icmp4.code == 0`,
      "ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 0; flags.loopback = 1; next; ",
      13359,
    );
  }
  const v24 = s.profile.ovn >= 24;
  for (const n of op.v4) {
    const ipDs = op.isDgp ? "ip4.dst <-> ip4.src" : `ip4.dst = ip4.src; ip4.src = ${n.addr}`;
    s.add(
      "lr_in_ip_input",
      31,
      `inport == ${op.key} && ip4 && ${v24 ? `ip4.src == ${n.network}/${n.plen} && ` : ""}ip.ttl == {0, 1} && !ip.later_frag`,
      `icmp4 {eth.dst <-> eth.src; icmp4.type = 11; /* Time exceeded */ icmp4.code = 0; /* TTL exceeded in transit */ ${ipDs} ; ip.ttl = 254; outport = ${op.key}; flags.loopback = 1; output; };`,
      13390,
    );
  }
  const first4 = op.v4[0];
  if (v24 && first4) {
    // 24.03+ build_lrouter_ipv4_default_ttl_expired_flows: any other source, answered from the first address.
    s.add(
      "lr_in_ip_input",
      30,
      `inport == ${op.key} && ip4 && ip.ttl == {0, 1} && !ip.later_frag`,
      `icmp4 {eth.dst <-> eth.src; icmp4.type = 11; /* Time exceeded */ icmp4.code = 0; /* TTL exceeded in transit */ ip4.dst = ip4.src; ip4.src = ${first4.addr}; ip.ttl = 254; outport = ${op.key}; flags.loopback = 1; output; };`,
    );
  }
  for (const n of op.v4) {
    let extra = `arp.spa == ${n.network}/${n.plen}`;
    const peerHasLocalnet = op.peerLsp?.sw.ports.some((p) => p.type === "localnet") ?? false;
    if (od.dgps.length > 0 && op.peerLsp && peerHasLocalnet) {
      if (op.isDgp) extra += ` && is_chassis_resident(${op.crKey})`;
      else if (bool(op.lrp.options["reside-on-redirect-chassis"], false) && od.dgps.length === 1) {
        extra += ` && is_chassis_resident(${(od.dgps[0] as RouterPort).crKey})`;
      }
    }
    arpFlow(s, op, n.addr, "xreg0[0..47]", extra, false, 90, 11115);
  }
  if (!od.isGw && od.dgps.length === 0) {
    for (const n of op.v4) {
      const a = n.addr;
      s.add(
        "lr_in_ip_input",
        80,
        `ip4 && ip4.dst == ${a} && !ip.later_frag && udp`,
        "icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 3; icmp4.code = 3; next; };",
        13494,
      );
      s.add(
        "lr_in_ip_input",
        80,
        `ip4 && ip4.dst == ${a} && !ip.later_frag && tcp`,
        "tcp_reset {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };",
        13510,
      );
      s.add(
        "lr_in_ip_input",
        80,
        `ip4 && ip4.dst == ${a} && !ip.later_frag && sctp`,
        "sctp_abort {eth.dst <-> eth.src; ip4.dst <-> ip4.src; next; };",
        13526,
      );
      s.add(
        "lr_in_ip_input",
        70,
        `ip4 && ip4.dst == ${a} && !ip.later_frag`,
        "icmp4 {eth.dst <-> eth.src; ip4.dst <-> ip4.src; ip.ttl = 255; icmp4.type = 3; icmp4.code = 2; next; };",
        13545,
      );
    }
  }
  // With lb_force_snat_ip=router_ip the port addresses are SNAT addresses too.
  if (!(od.isGw && od.lr.options.lb_force_snat_ip === "router_ip"))
    dropOwnDest(s, od, op, "lr_in_ip_input", 60, false, 11304);
}

/** 24.03+ build_lrouter_network_id_flows: which of the output port's networks the next hop is on. */
function buildNetworkId(s: FlowSink, od: RouterDatapath): void {
  for (const op of od.ports) {
    op.v4.forEach((n, i) => {
      s.add(
        "lr_in_network_id",
        110,
        `outport == ${op.key} && ip4 && reg0 == ${n.addr}/${n.plen}`,
        `flags.network_id = ${i > 15 ? 0 : i}; next;`,
      );
    });
    op.nets.ipv6.slice(0, -1).forEach((n, i) => {
      s.add(
        "lr_in_network_id",
        110,
        `outport == ${op.key} && ip6 && xxreg0 == ${n.addr}/${n.plen}`,
        `flags.network_id = ${i > 15 ? 0 : i}; next;`,
      );
    });
  }
  s.add("lr_in_network_id", 105, "1", "flags.network_id = 0; next;");
  s.add("lr_in_network_id", 0, "1", "next;");
}
