/**
 * Kube-OVN's ovn-northd patches (kubeovn/kube-ovn dist/images/patches), as applied by
 * release-1.14 (on OVN 24.03 @ef8f5c1ac) and release-1.15 (on branch-25.03):
 * - `ls_ct_skip_dst_lport_ips` (NB_Global option): ls_in_pre_lb 105 "next;" for the localnet
 *   port's external_ids:ipv4_network / ipv6_network, so traffic to the subnet skips conntrack;
 * - `ls_dnat_mod_dl_dst` (NB_Global option): ls_in_l2_lkup 55 "reg0[2] != 0 && ip4.dst == POD"
 *   → set the pod MAC and output, on switches without router ports;
 * - `prefer_local_backend` (Load_Balancer option): ls_in_lb 140/130 per chassis that hosts
 *   backends (is_chassis_resident of the first backend port there); from 1.15 the
 *   `kube-ovn.io/local-external-vip/VIP:PORT` marker adds the 139 bypass, limits the 140 flow
 *   to the announcing node and adds the U2O ls_in_l2_lkup 55 backend flows;
 * - the U2O helpers the same patch sets add unconditionally (l2_lkup 60 mod_dl_src, arp_rsp 105
 *   drop of ARP/NS for router-port IPs arriving from the localnet port).
 * Read from the patched sources; the patched binary is not available here to check against.
 */
import { groupByChassis, preferLocalBackendText } from "@ovnsim/lb";
import { formatIp6, parseIp6 } from "@ovnsim/packet";
import { attachedLbNames } from "../nb/model.js";
import type { BuildContext, FlowSink, NorthdLb, SwitchDatapath, SwitchPort } from "./switch.js";
import { lbVipMatch, prepareLb, prepareSwitch, vipRegs } from "./switch.js";

const bool = (v: string | undefined, def: boolean): boolean => (v === undefined ? def : v === "true");

export function buildKubeOvnFlows(ctx: BuildContext, s: FlowSink, od: SwitchDatapath): void {
  const opts = ctx.db.nbGlobal.options;
  if (od.hasLbVip) buildCtSkip(ctx, s, od);
  if (bool(opts.ls_dnat_mod_dl_dst, false) && od.routerPorts.length === 0) {
    for (const op of od.ports) buildDnatModDlDst(s, op);
  }
  if (od.routerPorts.length > 0 && od.localnetPorts.length > 0) {
    for (const op of od.ports) buildModDlSrc(s, od, op);
    for (const rp of od.routerPorts) buildLocalnetLrpArpDrop(s, od, rp);
  }
  for (const lb of od.lbs) {
    if (bool(lb.lb.options.prefer_local_backend, false)) buildPreferLocal(ctx, s, lb);
  }
  buildUnderlayVipBackendL2(ctx, s, od);
}

/** build_ls_stateful_rec_pre_lb (patched): node-local DNS and subnet skips at priority 105. */
function buildCtSkip(ctx: BuildContext, s: FlowSink, od: SwitchDatapath): void {
  const opts = ctx.db.nbGlobal.options;
  for (const ip of (opts.node_local_dns_ip ?? "").split(",")) {
    if (ip === "") continue;
    s.add(
      "ls_in_pre_lb",
      105,
      ip.includes(":") ? `ip6 && ip6.dst == ${ip}` : `ip4 && ip4.dst == ${ip}`,
      "next;",
    );
  }
  if (ctx.profile.kubeOvn === "1.15") {
    for (const cidr of (opts.skip_conntrack_dst_cidrs ?? "").split(",")) {
      if (cidr === "") continue;
      s.add(
        "ls_in_pre_lb",
        105,
        cidr.includes(":") ? `ip6 && ip6.dst == ${cidr}` : `ip4 && ip4.dst == ${cidr}`,
        "next;",
      );
    }
  }
  if (!bool(opts.ls_ct_skip_dst_lport_ips, false)) return;
  if (od.routerPorts.length !== 1 && od.localnetPorts.length === 0) return;
  // With exactly one router port the patch walks the peer router's router_ports, which
  // ovn-northd never fills for router datapaths: no flow results (as the code reads).
  if (od.routerPorts.length === 1) return;
  for (const ln of od.localnetPorts) {
    const v4 = ln.lsp.externalIds.ipv4_network;
    const v6 = ln.lsp.externalIds.ipv6_network;
    if (v4 !== undefined) {
      const m = /^(\d{1,3}(?:\.\d{1,3}){3})(?:\/(\d{1,2}))?$/.exec(v4);
      if (m) {
        const plen = m[2] === undefined ? 32 : Number(m[2]);
        if (plen > 0 && plen < 32) s.add("ls_in_pre_lb", 105, `ip4 && ip4.dst == ${m[1]}/${plen}`, "next;");
      }
    }
    if (v6 !== undefined) {
      const [ip, p] = v6.split("/");
      const plen = Number(p ?? "128");
      let text: string | undefined;
      try {
        text = formatIp6(parseIp6(ip ?? ""));
      } catch {
        text = undefined;
      }
      if (text !== undefined && Number.isInteger(plen) && plen > 0 && plen < 128) {
        s.add("ls_in_pre_lb", 105, `ip6 && ip6.dst == ${text}/${plen}`, "next;");
      }
    }
  }
}

/** build_lswitch_dnat_mod_dl_dst_rules. */
function buildDnatModDlDst(s: FlowSink, op: SwitchPort): void {
  const t = op.lsp.type;
  if (t === "virtual" || t === "localport" || t === "external" || t === "router" || op.hasUnknown) return;
  if (op.addrs.length !== 1) return;
  const a = op.addrs[0];
  if (!a || (a.ipv4.length === 0 && a.ipv6.length === 0)) return;
  const action = `eth.dst = ${a.ea}; outport = ${op.key}; output;`;
  for (const ip of a.ipv4) s.add("ls_in_l2_lkup", 55, `reg0[2] != 0 && ip4.dst == ${ip.addr}`, action);
  for (const ip of a.ipv6) s.add("ls_in_l2_lkup", 55, `reg0[2] != 0 && ip6.dst == ${ip.addr}`, action);
}

/** build_lswitch_mod_dl_src_rules (U2O): traffic routed back in keeps the pod's source MAC. */
function buildModDlSrc(s: FlowSink, od: SwitchDatapath, op: SwitchPort): void {
  const t = op.lsp.type;
  if (
    !op.enabled ||
    t === "virtual" ||
    t === "localport" ||
    t === "external" ||
    t === "router" ||
    op.hasUnknown
  )
    return;
  if (op.addrs.length !== 1) return;
  const a = op.addrs[0];
  if (!a || (a.ipv4.length === 0 && a.ipv6.length === 0)) return;
  const action = `eth.src = ${a.ea}; next(pipeline=ingress, table=${s.table("ls_in_l2_lkup")});`;
  for (const rp of od.routerPorts) {
    if (!rp.peer || isGatewayPort(rp)) continue;
    for (const ip of a.ipv4)
      s.add(
        "ls_in_l2_lkup",
        60,
        `inport == ${rp.key} && ip4.src == ${ip.addr} && eth.src != ${a.ea}`,
        action,
      );
    for (const ip of a.ipv6)
      s.add(
        "ls_in_l2_lkup",
        60,
        `inport == ${rp.key} && ip6.src == ${ip.addr} && eth.src != ${a.ea}`,
        action,
      );
  }
}

function isGatewayPort(rp: SwitchPort): boolean {
  const o = rp.peer?.lrp.options ?? {};
  return o["redirect-chassis"] !== undefined || o["gateway-chassis"] !== undefined;
}

/** Patched build_lswitch_arp_nd_responder_known_ips: drop ARP/NS for LRP IPs coming from localnet. */
function buildLocalnetLrpArpDrop(s: FlowSink, od: SwitchDatapath, rp: SwitchPort): void {
  if (!rp.peer || isGatewayPort(rp)) return;
  const nets = rp.peer.networks;
  for (const ln of od.localnetPorts) {
    for (const ip of nets.ipv4) {
      const [a, b] = ip.addr.split(".");
      if (ip.plen >= 16 && a === "169" && b === "254") continue;
      s.add("ls_in_arp_rsp", 105, `inport == ${ln.key} && arp.tpa == ${ip.addr} && arp.op == 1`, "drop;");
    }
    for (const ip of nets.ipv6) {
      if (/^fe[89ab][0-9a-f]:/i.test(ip.network)) continue;
      s.add(
        "ls_in_arp_rsp",
        105,
        `inport == ${ln.key} && nd_ns && ip6.dst == {${ip.addr}, ${ip.sn}} && nd.target == ${ip.addr}`,
        "drop;",
      );
    }
  }
}

interface ChassisEntry {
  readonly chassis: string;
  readonly ports: readonly string[];
  readonly backends: readonly string[];
}

/** The chassis of a logical switch port's Port_Binding, if bound. */
function chassisOf(ctx: BuildContext, lsp: string): string | undefined {
  return ctx.db.portBindings.find((b) => b.logicalPort === lsp)?.chassis;
}

function portExists(ctx: BuildContext, lsp: string): boolean {
  return ctx.db.switches.some((sw) => sw.ports.some((p) => p.name === lsp));
}

/** The patch's port lookup: unknown ports (ovn_port_find() == NULL) have no chassis. */
const boundChassis =
  (ctx: BuildContext) =>
  (lsp: string): string | undefined =>
    portExists(ctx, lsp) ? chassisOf(ctx, lsp) : undefined;

/** The logical port ip_port_mappings names for a backend IP ("lsp:src_ip"), if any. */
function backendLsp(lb: NorthdLb, v6: boolean, ip: string): string | undefined {
  const key = v6 ? `[${ip}]` : ip;
  const mapping = Object.hasOwn(lb.lb.ipPortMappings, key) ? lb.lb.ipPortMappings[key] : undefined;
  if (mapping === undefined) return undefined;
  return mapping.includes(":") ? mapping.slice(0, mapping.indexOf(":")) : mapping;
}

/** Groups a VIP's backends by the chassis of their ip_port_mappings logical port (build_lb_rules patch). */
export function groupBackendsByChassis(ctx: BuildContext, lb: NorthdLb, vipIndex: number): ChassisEntry[] {
  const vip = lb.vips[vipIndex];
  if (!vip) return [];
  const g = groupByChassis(vip.backends, (b) => backendLsp(lb, vip.v6, b.ip), boundChassis(ctx));
  return g.byChassis.map((c) => ({
    chassis: c.chassis,
    ports: c.ports,
    backends: c.items.map((b) => preferLocalBackendText(b.ip, b.port, vip.v6)),
  }));
}

/** The VIP-node marker (release-1.15.20+/1.16): LB external_ids kube-ovn.io/local-external-vip/VIP:PORT. */
function vipNodeLsp(lb: NorthdLb, vipIndex: number): string | undefined {
  const vip = lb.vips[vipIndex];
  if (!vip || vip.port === undefined) return undefined;
  const key = vip.v6
    ? `kube-ovn.io/local-external-vip/[${vip.vip}]:${vip.port}`
    : `kube-ovn.io/local-external-vip/${vip.vip}:${vip.port}`;
  return Object.hasOwn(lb.lb.externalIds, key) ? lb.lb.externalIds[key] : undefined;
}

function buildPreferLocal(ctx: BuildContext, s: FlowSink, lb: NorthdLb): void {
  const ctLb = ctx.profile.ovn >= 25 || ctx.features.ctNoMaskedLabel ? "ct_lb_mark" : "ct_lb";
  const hash = lb.selectionFields ? `; hash_fields="${lb.selectionFields}"` : "";
  lb.vips.forEach((vip, i) => {
    const entries = groupBackendsByChassis(ctx, lb, i);
    const marker = ctx.profile.kubeOvn === "1.15" ? vipNodeLsp(lb, i) : undefined;
    let vipEntry: ChassisEntry | undefined;
    if (marker !== undefined) {
      s.add("ls_in_lb", 139, lbVipMatch("ct.new && ", lb, vip), "next;");
      const ch = boundChassis(ctx)(marker);
      vipEntry = ch === undefined ? undefined : entries.find((e) => e.chassis === ch);
    }
    for (const e of entries) {
      if (marker !== undefined && e !== vipEntry) continue;
      const prio = vip.port !== undefined ? 140 : 130;
      const resident = marker !== undefined ? marker : (e.ports[0] as string);
      const match = `${lbVipMatch("ct.new && ", lb, vip)} && is_chassis_resident("${resident}")`;
      // 1.14 clears the action buffer first; 1.15's build_lb_vip_actions writes reg4/reg2 itself.
      const prefix = ctx.profile.kubeOvn === "1.15" ? vipRegs(ctx, vip) : "";
      s.add("ls_in_lb", prio, match, `${prefix}${ctLb}(backends=${e.backends.join(",")}${hash});`);
    }
  });
}

/** build_underlay_vip_backend_l2_lookup_flows (1.15): emitted on the backend's own switch. */
function buildUnderlayVipBackendL2(ctx: BuildContext, s: FlowSink, od: SwitchDatapath): void {
  if (ctx.profile.kubeOvn !== "1.15") return;
  if (od.routerPorts.length === 0 || od.localnetPorts.length === 0) return;
  const attached = new Set(ctx.db.switches.flatMap((sw) => attachedLbNames(ctx.db, sw)));
  for (const nbLb of ctx.db.loadBalancers) {
    if (!attached.has(nbLb.name) || !bool(nbLb.options.prefer_local_backend, false)) continue;
    const lb = prepareLb(nbLb);
    lb.vips.forEach((vip, i) => {
      const marker = vipNodeLsp(lb, i);
      if (marker === undefined) return;
      const ch = boundChassis(ctx)(marker);
      if (ch === undefined) return;
      const entries = groupBackendsByChassis(ctx, lb, i);
      const entry = entries.find((e) => e.chassis === ch);
      if (!entry) return;
      for (const b of vip.backends) {
        const lsp = backendLsp(lb, vip.v6, b.ip);
        if (lsp === undefined) continue;
        const op = od.ports.find((p) => p.lsp.name === lsp);
        if (!op || chassisOf(ctx, lsp) !== ch || op.addrs.length !== 1) continue;
        const a = op.addrs[0];
        if (!a) continue;
        s.add(
          "ls_in_l2_lkup",
          55,
          `reg0[2] != 0 && ${vip.v6 ? "ip6" : "ip4"}.dst == ${b.ip} && is_chassis_resident("${marker}")`,
          `eth.dst = ${a.ea}; outport = ${op.key}; output;`,
        );
      }
    });
  }
  void prepareSwitch;
}
