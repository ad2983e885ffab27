/**
 * The logical switch half of ovn-northd: from one Logical_Switch (its ports, ACLs and load
 * balancers) to the Logical_Flow rows of every ls_in_* / ls_out_* stage. The functions mirror
 * northd.c's build_* functions of the same names (branch-23.03 is the reference, checked
 * against the real ovn-northd; later branches and Kube-OVN's patches are layered on by
 * profile). Hints are the northd.c source lines of 23.03.1, which ovn-trace prints.
 */
import type { LogicalFlow } from "../types.js";
import { attachedLbNames } from "../nb/model.js";
import type {
  Acl,
  LogicalRouter,
  LogicalRouterPort,
  LogicalSwitch,
  LogicalSwitchPort,
  NbDatabase,
  NbLoadBalancer,
} from "../nb/model.js";
import { type LportAddresses, extractLrpNetworks, extractLspAddresses, jsonKey } from "./addresses.js";
import type { Profile } from "./profiles.js";
import { stageOf } from "./profiles.js";
import { buildKubeOvnFlows } from "./kubeovn.js";
import { ssetOrder } from "./ovs-hmap.js";
import { lbArpReqIps } from "./router-lb.js";

/**
 * NB_Global options:use_ct_inv_match (northd.c, default true): "false" drops ct.inv from the ACL
 * stage's established/related/invalid matches (Kube-OVN sets it, kube-ovn-internals.md §10.1).
 */
function noInv(ctx: {
  readonly db: { readonly nbGlobal: { readonly options: Readonly<Record<string, string>> } };
}): string {
  const v = ctx.db.nbGlobal.options.use_ct_inv_match;
  return v !== undefined && v.toLowerCase() !== "true" ? "" : " && !ct.inv";
}

/** Chassis features northd reads from every Chassis' other_config (northd build_chassis_features). */
export interface ChassisFeatures {
  /** `ct-no-masked-label`: ct_lb_mark / ct_mark.blocked instead of ct_lb / ct_label.blocked. */
  readonly ctNoMaskedLabel: boolean;
  /** `ovn-ct-lb-related`: ct_commit_nat for related traffic. */
  readonly ctLbRelated: boolean;
}

export interface LbVip {
  readonly key: string;
  readonly vip: string;
  readonly v6: boolean;
  readonly port?: number;
  /** The backends as stored in the NB `vips` value (northd prints them verbatim). */
  readonly backendIps: string;
  readonly backends: readonly { readonly ip: string; readonly port?: number; readonly text: string }[];
}

export interface NorthdLb {
  readonly lb: NbLoadBalancer;
  readonly proto: "tcp" | "udp" | "sctp";
  readonly vips: readonly LbVip[];
  readonly selectionFields?: string;
  readonly affinityTimeout: number;
  readonly reject: boolean;
  readonly event: boolean;
  /** options:skip_snat (router load balancers). */
  readonly skipSnat: boolean;
}

export interface SwitchPort {
  readonly lsp: LogicalSwitchPort;
  readonly key: string;
  readonly addrs: readonly LportAddresses[];
  readonly nPsAddrs: number;
  readonly hasUnknown: boolean;
  readonly enabled: boolean;
  readonly peer?: {
    readonly router: LogicalRouter;
    readonly lrp: LogicalRouterPort;
    readonly networks: LportAddresses;
  };
}

export interface SwitchDatapath {
  readonly sw: LogicalSwitch;
  readonly ports: readonly SwitchPort[];
  readonly routerPorts: readonly SwitchPort[];
  readonly localnetPorts: readonly SwitchPort[];
  readonly lbs: readonly NorthdLb[];
  /** Effective ACLs: the switch's own, then its port groups'. */
  readonly acls: readonly Acl[];
  readonly hasLbVip: boolean;
  readonly hasAcls: boolean;
  readonly hasStatefulAcl: boolean;
  readonly hasUnknown: boolean;
  readonly vlanTransparent: boolean;
}

/** Collects flows for one datapath, dropping exact duplicates as northd's lflow table does. */
export class FlowSink {
  readonly flows: LogicalFlow[] = [];
  readonly #seen = new Set<string>();
  constructor(
    readonly profile: Profile,
    readonly datapath: string,
  ) {}

  add(stage: string, priority: number, match: string, actions: string, line?: number): void {
    const st = stageOf(this.profile, stage);
    if (!st) return;
    const k = `${st.pipeline}\u0000${st.table}\u0000${priority}\u0000${match}\u0000${actions}`;
    if (this.#seen.has(k)) return;
    this.#seen.add(k);
    this.flows.push({
      datapath: this.datapath,
      pipeline: st.pipeline,
      table: st.table,
      stage: st.name,
      priority,
      match,
      actions,
      ...(line !== undefined && this.profile.ovn === 23 && !this.profile.kubeOvn
        ? { hint: `northd.c:${line}` }
        : {}),
    });
  }

  table(stage: string): number {
    return stageOf(this.profile, stage)?.table ?? -1;
  }
}

const DROP = "drop;";
const ICMP_TOO_BIG =
  "((ip4 && icmp4.type == 3 && icmp4.code == 4) || (ip6 && icmp6.type == 2 && icmp6.code == 0))";
const bool = (v: string | undefined, def: boolean): boolean => (v === undefined ? def : v === "true");

// ---------------------------------------------------------------------------------------------
// Datapath preparation (join_logical_switch_ports, build_lbs, ls_get_acl_flags).

function parseLbVip(key: string, value: string): LbVip | undefined {
  const addr = splitLbAddr(key);
  if (!addr) return undefined;
  const backends: { ip: string; port?: number; text: string }[] = [];
  for (const tok of value.split(",")) {
    if (tok === "") continue;
    const b = splitLbAddr(tok);
    if (!b || b.v6 !== addr.v6 || (b.port === undefined) !== (addr.port === undefined)) continue;
    backends.push({ ...b, text: tok });
  }
  return {
    key,
    vip: addr.ip,
    v6: addr.v6,
    ...(addr.port !== undefined ? { port: addr.port } : {}),
    backendIps: value,
    backends,
  };
}

function splitLbAddr(text: string): { ip: string; v6: boolean; port?: number } | undefined {
  let host = text;
  let port: string | undefined;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) return undefined;
    host = text.slice(1, end);
    if (text.length > end + 1) {
      if (text[end + 1] !== ":") return undefined;
      port = text.slice(end + 2);
    }
  } else if (text.split(":").length === 2) {
    [host, port] = text.split(":") as [string, string];
  }
  const v6 = host.includes(":");
  if (!v6 && !/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return undefined;
  if (v6) {
    const a = extractLspAddresses(`00:00:00:00:00:00 ${host}`);
    if (a?.ipv6.length !== 1) return undefined;
    host = (a.ipv6[0] as { addr: string }).addr;
  }
  if (port === undefined) return { ip: host, v6 };
  if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) return undefined;
  return { ip: host, v6, port: Number(port) };
}

export function prepareLb(lb: NbLoadBalancer): NorthdLb {
  const proto = lb.protocol === "udp" ? "udp" : lb.protocol === "sctp" ? "sctp" : "tcp";
  const vips: LbVip[] = [];
  for (const [k, v] of Object.entries(lb.vips)) {
    const vip = parseLbVip(k, v);
    if (vip) vips.push(vip);
  }
  let selectionFields: string | undefined;
  if (lb.selectionFields.length > 0) {
    const p = lb.protocol !== undefined && lb.protocol !== "" ? lb.protocol : undefined;
    selectionFields = [...lb.selectionFields]
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
      .map((f) => (f === "tp_src" && p ? `${p}_src` : f === "tp_dst" && p ? `${p}_dst` : f))
      .join(",");
  }
  const at = Number(lb.options.affinity_timeout ?? "0");
  return {
    lb,
    proto,
    vips,
    ...(selectionFields !== undefined ? { selectionFields } : {}),
    affinityTimeout: Number.isFinite(at) && at > 0 ? Math.min(Math.floor(at), 65535) : 0,
    reject: bool(lb.options.reject, false),
    event: bool(lb.options.event, false),
    skipSnat: bool(lb.options.skip_snat, false),
  };
}

export function prepareSwitch(db: NbDatabase, sw: LogicalSwitch): SwitchDatapath {
  const ports: SwitchPort[] = [];
  const routerPorts: SwitchPort[] = [];
  const localnetPorts: SwitchPort[] = [];
  let hasUnknown = false;
  for (const lsp of sw.ports) {
    const addrs: LportAddresses[] = [];
    let portUnknown = false;
    for (const a of lsp.addresses) {
      if (a === "unknown") {
        portUnknown = true;
        continue;
      }
      if (a === "router" || a === "dynamic" || /\bdynamic\b/.test(a)) continue;
      const p = extractLspAddresses(a);
      if (p) addrs.push(p);
    }
    const nPsAddrs = lsp.portSecurity.filter((p) => extractLspAddresses(p) !== undefined).length;
    const enabled = lsp.enabled !== false;
    let peer: SwitchPort["peer"];
    if (lsp.type === "router") {
      const lrpName = lsp.options["router-port"];
      if (lrpName !== undefined) {
        for (const router of db.routers) {
          const lrp = router.ports.find((p) => p.name === lrpName);
          if (lrp) {
            const networks = extractLrpNetworks(lrp.mac, lrp.networks);
            if (networks) peer = { router, lrp, networks };
            break;
          }
        }
      }
      if (peer && lsp.addresses.includes("router")) addrs.push(peer.networks);
    }
    const port: SwitchPort = {
      lsp,
      key: jsonKey(lsp.name),
      addrs,
      nPsAddrs,
      hasUnknown: portUnknown,
      enabled,
      ...(peer ? { peer } : {}),
    };
    ports.push(port);
    if (lsp.type === "localnet") localnetPorts.push(port);
    if (peer) routerPorts.push(port);
    if (portUnknown && enabled && lsp.type !== "external") hasUnknown = true;
  }
  const lbs: NorthdLb[] = [];
  let hasLbVip = false;
  for (const name of attachedLbNames(db, sw)) {
    const lb = db.loadBalancers.find((l) => l.name === name);
    if (!lb) continue;
    if (Object.keys(lb.vips).length > 0) hasLbVip = true;
    lbs.push(prepareLb(lb));
  }
  // The switch's own ACLs, then those of every port group with a port on this switch
  // (northd's od->nb_pgs; ACLs of a port group apply to all the switches it spans).
  const names = new Set(sw.ports.map((p) => p.name));
  const acls: Acl[] = [...sw.acls];
  for (const pg of db.portGroups) if (pg.ports.some((n) => names.has(n))) acls.push(...pg.acls);
  const hasAcls = acls.length > 0;
  const hasStatefulAcl = acls.some((a) => a.action === "allow-related");
  return {
    sw,
    ports,
    routerPorts,
    localnetPorts,
    lbs,
    acls,
    hasLbVip,
    hasAcls,
    hasStatefulAcl,
    hasUnknown,
    vlanTransparent: bool(sw.otherConfig["vlan-passthru"], false),
  };
}

// ---------------------------------------------------------------------------------------------
// Flow builders.

export interface BuildContext {
  readonly db: NbDatabase;
  readonly profile: Profile;
  readonly features: ChassisFeatures;
}

/** All logical flows of one switch, in no particular order. */
export function buildSwitchFlows(ctx: BuildContext, od: SwitchDatapath): LogicalFlow[] {
  const v = ctx.profile.ovn;
  const s = new FlowSink(ctx.profile, od.sw.name);
  buildPreAcls(ctx, s, od);
  buildPreLb(ctx, s, od);
  buildPreStateful(ctx, s, od);
  buildAclHints(ctx, s, od);
  buildAcls(ctx, s, od);
  buildQos(ctx, s);
  buildStateful(ctx, s);
  buildLbHairpin(ctx, s, od);
  buildAdmissionControl(ctx, s, od);
  s.add("ls_in_lookup_fdb", 0, "1", "next;", 5757);
  s.add("ls_in_put_fdb", 0, "1", "next;", 5758);
  if (v >= 25) {
    s.add("ls_out_lookup_fdb", 0, "1", "next;");
    s.add("ls_out_put_fdb", 0, "1", "next;");
  }
  s.add("ls_in_arp_rsp", 0, "1", "next;", 8727);
  buildDhcpDnsDefaults(s);
  buildBmcast(ctx, s, od);
  buildOutputPortSec(s);
  for (const op of od.ports) {
    buildPortSecOp(ctx, s, op);
    buildLearnFdbOp(ctx, s, op);
    if (op.lsp.type === "localnet") {
      if (v >= 25) s.add("ls_in_lookup_fdb", 50, `inport == ${op.key}`, "flags.localnet = 1; next;");
      else s.add("ls_in_arp_rsp", 100, `inport == ${op.key}`, "next;", 8453);
    }
    buildArpNdResponder(ctx, s, od, op);
    buildIcmpTooBigAdmin(ctx, s, op);
    buildUnicastLookup(ctx, s, od, op);
  }
  s.add("ls_in_lb_aff_check", 0, "1", "next;", 7486);
  s.add("ls_in_lb_aff_learn", 0, "1", "next;", 7487);
  for (const lb of od.lbs) buildLbFlows(ctx, s, od, lb);
  // build_lswitch_flows / build_lswitch_lflows_l2_unknown
  s.add("ls_in_l2_lkup", 0, "1", "outport = get_fdb(eth.dst); next;", 8373);
  if (od.hasUnknown)
    s.add("ls_in_l2_unknown", 50, 'outport == "none"', 'outport = "_MC_unknown"; output;', 8377);
  else s.add("ls_in_l2_unknown", 50, 'outport == "none"', DROP, 8381);
  s.add("ls_in_l2_unknown", 0, "1", "output;", 8384);
  if (ctx.profile.kubeOvn) buildKubeOvnFlows(ctx, s, od);
  return s.flows;
}

function skipPortFromConntrack(
  s: FlowSink,
  od: SwitchDatapath,
  op: SwitchPort,
  inStage: string,
  outStage: string,
  prio: number,
): void {
  const egress = od.hasStatefulAcl ? "next;" : "ct_clear; next;";
  s.add(inStage, prio, `ip && inport == ${op.key}`, "next;", 5806);
  s.add(outStage, prio, `ip && outport == ${op.key}`, egress, 5809);
}

function buildPreAcls(ctx: BuildContext, s: FlowSink, od: SwitchDatapath): void {
  const v = ctx.profile.ovn;
  s.add("ls_in_pre_acl", 0, "1", "next;", 5869);
  s.add("ls_out_pre_acl", 0, "1", "next;", 5870);
  s.add("ls_in_pre_acl", 110, "eth.dst == $svc_monitor_mac", "next;", 5872);
  s.add("ls_out_pre_acl", 110, "eth.src == $svc_monitor_mac", "next;", 5875);
  if (od.hasStatefulAcl) {
    for (const op of od.routerPorts) {
      if (v >= 24 && bool(op.peer?.lrp.options.enable_router_port_acl, false)) continue;
      skipPortFromConntrack(s, od, op, "ls_in_pre_acl", "ls_out_pre_acl", 110);
    }
    for (const op of od.localnetPorts)
      skipPortFromConntrack(s, od, op, "ls_in_pre_acl", "ls_out_pre_acl", 110);
    buildStatelessFilters(s, od);
    const nd = "nd || nd_rs || nd_ra || mldv1 || mldv2 || (udp && udp.src == 546 && udp.dst == 547)";
    s.add("ls_in_pre_acl", 110, nd, "next;", 5901);
    s.add("ls_out_pre_acl", 110, nd, "next;", 5904);
    s.add("ls_in_pre_acl", 110, "eth.mcast", "next;", 5909);
    s.add("ls_out_pre_acl", 110, "eth.mcast", "next;", 5911);
    if (v >= 24) s.add("ls_in_pre_acl", 110, `${ICMP_TOO_BIG} && flags.tunnel_rx == 1`, "next;");
    s.add("ls_in_pre_acl", 100, "ip", "reg0[0] = 1; next;", 5922);
    s.add("ls_out_pre_acl", 100, "ip", "reg0[0] = 1; next;", 5924);
  } else if (od.hasLbVip) {
    buildStatelessFilters(s, od);
  }
}

function buildStatelessFilters(s: FlowSink, od: SwitchDatapath): void {
  for (const acl of od.acls) {
    if (acl.action !== "allow-stateless") continue;
    const stage = acl.direction === "from-lport" ? "ls_in_pre_acl" : "ls_out_pre_acl";
    s.add(
      stage,
      acl.priority + 1000,
      acl.match,
      "reg0[16] = 1; next;",
      acl.direction === "from-lport" ? 5824 : 5830,
    );
  }
}

function buildPreLb(ctx: BuildContext, s: FlowSink, od: SwitchDatapath): void {
  s.add("ls_in_pre_lb", 110, "eth.mcast", "next;", 6033);
  s.add("ls_out_pre_lb", 110, "eth.mcast", "next;", 6034);
  s.add("ls_in_pre_lb", 110, "nd || nd_rs || nd_ra || mldv1 || mldv2", "next;", 6037);
  s.add("ls_out_pre_lb", 110, "nd || nd_rs || nd_ra || mldv1 || mldv2", "next;", 6040);
  if (ctx.profile.ovn >= 24) {
    // The patched 24.03 spells this one without the space after "||".
    s.add(
      "ls_in_pre_lb",
      110,
      "((ip4 && icmp4.type == 3 && icmp4.code == 4) ||(ip6 && icmp6.type == 2 && icmp6.code == 0)) && flags.tunnel_rx == 1",
      "next;",
    );
  }
  s.add("ls_in_pre_lb", 110, "eth.dst == $svc_monitor_mac", "next;", 6045);
  s.add("ls_out_pre_lb", 110, "eth.src == $svc_monitor_mac", "next;", 6047);
  s.add("ls_in_pre_lb", 0, "1", "next;", 6051);
  s.add("ls_out_pre_lb", 0, "1", "next;", 6052);
  for (const op of od.routerPorts) skipPortFromConntrack(s, od, op, "ls_in_pre_lb", "ls_out_pre_lb", 110);
  if (!od.hasLbVip) {
    for (const op of od.localnetPorts) skipPortFromConntrack(s, od, op, "ls_in_pre_lb", "ls_out_pre_lb", 110);
  }
  s.add("ls_in_pre_lb", 110, "reg0[16] == 1", "next;", 6073);
  s.add("ls_out_pre_lb", 110, "reg0[16] == 1", "next;", 6075);
  if (od.hasLbVip) {
    s.add("ls_in_pre_lb", 100, "ip", "reg0[2] = 1; next;", 6109);
    s.add("ls_out_pre_lb", 100, "ip", "reg0[2] = 1; next;", 6111);
  }
}

function buildPreStateful(ctx: BuildContext, s: FlowSink, od: SwitchDatapath): void {
  s.add("ls_in_pre_stateful", 0, "1", "next;", 6123);
  s.add("ls_out_pre_stateful", 0, "1", "next;", 6124);
  const ctLb = ctLbName(ctx);
  if (ctx.profile.ovn >= 24)
    s.add("ls_in_pre_stateful", 115, "reg0[2] == 1 && ip.is_frag", `reg0[19] = 1; ${ctLb};`);
  s.add("ls_in_pre_stateful", 110, "reg0[2] == 1", `${ctLb};`, 6132);
  s.add("ls_out_pre_stateful", 110, "reg0[2] == 1", `${ctLb};`, 6135);
  s.add("ls_in_pre_stateful", 100, "reg0[0] == 1", "ct_next;", 6140);
  s.add("ls_out_pre_stateful", 100, "reg0[0] == 1", "ct_next;", 6143);
  void od;
}

function blockedField(ctx: BuildContext): string {
  return ctx.profile.ovn >= 25 || ctx.features.ctNoMaskedLabel ? "ct_mark.blocked" : "ct_label.blocked";
}

function buildAclHints(ctx: BuildContext, s: FlowSink, od: SwitchDatapath): void {
  const blocked = blockedField(ctx);
  // From 24.03 on, new and re-allowed connections are marked for commit here already.
  const commit = ctx.profile.ovn >= 24 ? "reg0[1] = 1; " : "";
  for (const stage of ["ls_in_acl_hint", "ls_out_acl_hint"]) {
    if (!od.hasAcls && !od.hasLbVip) s.add(stage, 65535, "1", "next;", 6177);
    else s.add(stage, 0, "1", "next;", 6179);
    if (!od.hasStatefulAcl && !od.hasLbVip) continue;
    s.add(stage, 7, "ct.new && !ct.est", `reg0[7] = 1; reg0[9] = 1; ${commit}next;`, 6190);
    s.add(
      stage,
      6,
      `!ct.new && ct.est && !ct.rpl && ${blocked} == 1`,
      `reg0[7] = 1; reg0[9] = 1; ${commit}next;`,
      6206,
    );
    s.add(stage, 5, "!ct.trk", "reg0[8] = 1; reg0[9] = 1; next;", 6212);
    s.add(
      stage,
      4,
      `!ct.new && ct.est && !ct.rpl && ${blocked} == 0`,
      "reg0[8] = 1; reg0[10] = 1; next;",
      6228,
    );
    s.add(stage, 3, "!ct.est", "reg0[9] = 1; next;", 6236);
    s.add(stage, 2, `ct.est && ${blocked} == 1`, "reg0[9] = 1; next;", 6242);
    s.add(stage, 1, `ct.est && ${blocked} == 0`, "reg0[10] = 1; next;", 6253);
  }
}

function aclLog(acl: Acl): string {
  if (!acl.log) return "";
  let s = "log(";
  if (acl.name !== undefined) s += `name="${acl.name}", `;
  s += `severity=${acl.severity ?? "info"}, `;
  if (acl.action === "drop") s += "verdict=drop, ";
  else if (acl.action === "reject") s += "verdict=reject, ";
  else if (acl.action === "allow" || acl.action === "allow-related" || acl.action === "allow-stateless")
    s += "verdict=allow, ";
  if (acl.meter !== undefined) s += `meter="${acl.meter}", `;
  s = s.replace(/[ ,]+$/, "");
  return `${s}); `;
}

function buildRejectAcl(
  s: FlowSink,
  stage: string,
  acl: Acl,
  extraMatch: string,
  extraActions: string,
): void {
  const ingress = stage.startsWith("ls_in_");
  const next = ingress
    ? `next(pipeline=egress,table=${s.table("ls_out_qos_mark")});`
    : `next(pipeline=ingress,table=${s.table("ls_in_l2_lkup")});`;
  let actions = aclLog(acl);
  const match = extraMatch.length > 0 ? `(${extraMatch}) && ${acl.match}` : acl.match;
  if (extraActions.length > 0) actions += `${extraActions} `;
  actions += `reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; ${next} };`;
  s.add(stage, acl.priority + 1000, match, actions, 6365);
}

function considerAcl(ctx: BuildContext, s: FlowSink, acl: Acl, hasStateful: boolean): void {
  const blocked = blockedField(ctx);
  const ingress = acl.direction === "from-lport";
  const stage =
    ingress && bool(acl.options["apply-after-lb"], false)
      ? "ls_in_acl_after_lb"
      : ingress
        ? "ls_in_acl"
        : "ls_out_acl";
  const prio = acl.priority + 1000;
  const log = aclLog(acl);
  if (acl.action === "allow-stateless") {
    s.add(stage, prio, acl.match, `${log}next;`, 6401);
    return;
  }
  if (acl.action === "allow" || acl.action === "allow-related") {
    if (!hasStateful) {
      s.add(stage, prio, acl.match, `${log}next;`, 6416);
      return;
    }
    const label = acl.label ? `reg0[13] = 1; reg3 = ${acl.label}; ` : "";
    s.add(stage, prio, `reg0[7] == 1 && (${acl.match})`, `reg0[1] = 1; ${label}${log}next;`, 6445);
    const commit = acl.label ? `reg0[1] = 1; ${label}` : "";
    s.add(stage, prio, `reg0[8] == 1 && (${acl.match})`, `${commit}${log}next;`, 6470);
    if (acl.log && acl.label && bool(acl.options["log-related"], false)) {
      const relStage = ingress ? "ls_out_acl" : "ls_in_acl";
      s.add(
        relStage,
        65533,
        `ct.est && !ct.rel && !ct.new${noInv(ctx)} && ct.rpl && ${blocked} == 0 && ct_label.label == ${acl.label}`,
        `${log}next;`,
        6506,
      );
      s.add(
        relStage,
        65533,
        `!ct.est && ct.rel && !ct.new${noInv(ctx)} && ${blocked} == 0 && ct_label.label == ${acl.label}`,
        `${log}next;`,
        6517,
      );
    }
    return;
  }
  if (acl.action === "drop" || acl.action === "reject") {
    if (hasStateful) {
      if (acl.action === "reject") buildRejectAcl(s, stage, acl, "reg0[9] == 1", "");
      else s.add(stage, prio, `reg0[9] == 1 && (${acl.match})`, `${log}/* drop */`, 6543);
      if (acl.action === "reject")
        buildRejectAcl(s, stage, acl, "reg0[10] == 1", `ct_commit { ${blocked} = 1; }; `);
      else
        s.add(
          stage,
          prio,
          `reg0[10] == 1 && (${acl.match})`,
          `ct_commit { ${blocked} = 1; }; ${log}/* drop */`,
          6571,
        );
    } else if (acl.action === "reject") buildRejectAcl(s, stage, acl, "", "");
    else s.add(stage, prio, acl.match, `${log}/* drop */`, 6588);
  }
}

function buildAcls(ctx: BuildContext, s: FlowSink, od: SwitchDatapath): void {
  if (ctx.profile.ovn >= 24) {
    buildAclsEval(ctx, s, od);
    return;
  }
  const blocked = blockedField(ctx);
  const hasStateful = od.hasStatefulAcl || od.hasLbVip;
  if (!od.hasAcls) {
    if (!od.hasLbVip) {
      s.add("ls_in_acl", 65535, "1", "next;", 6755);
      s.add("ls_out_acl", 65535, "1", "next;", 6757);
    } else {
      s.add("ls_in_acl", 0, "1", "next;", 6760);
      s.add("ls_out_acl", 0, "1", "next;", 6761);
    }
    s.add("ls_in_acl_after_lb", 0, "1", "next;", 6763);
  } else {
    s.add("ls_in_acl", 0, "1", "next;", 6765);
    s.add("ls_out_acl", 0, "1", "next;", 6767);
    s.add("ls_in_acl_after_lb", 0, "1", "next;", 6769);
  }
  if (hasStateful) {
    s.add("ls_in_acl", 1, `ip && ct.est && ${blocked} == 1`, "reg0[1] = 1; next;", 6799);
    s.add("ls_out_acl", 1, `ip && ct.est && ${blocked} == 1`, "reg0[1] = 1; next;", 6802);
    s.add("ls_in_acl", 1, "ip && !ct.est", "reg0[1] = 1; next;", 6809);
    s.add("ls_out_acl", 1, "ip && !ct.est", "reg0[1] = 1; next;", 6811);
    const inv = `${noInv(ctx) ? "ct.inv || " : ""}(ct.est && ct.rpl && ${blocked} == 1)`;
    s.add("ls_in_acl", 65532, inv, DROP, 6825);
    s.add("ls_out_acl", 65532, inv, DROP, 6827);
    const est = `ct.est && !ct.rel && !ct.new${noInv(ctx)} && ct.rpl && ${blocked} == 0`;
    s.add("ls_in_acl", 65532, est, "reg0[9] = 0; reg0[10] = 0; reg0[17] = 1; next;", 6844);
    s.add("ls_out_acl", 65532, est, "next;", 6848);
    const rel = `!ct.est && ct.rel && !ct.new${noInv(ctx)} && ${blocked} == 0`;
    s.add(
      "ls_in_acl",
      65532,
      rel,
      ctx.features.ctLbRelated ? "reg0[17] = 1; ct_commit_nat;" : "reg0[17] = 1; next;",
      6874,
    );
    s.add("ls_out_acl", 65532, rel, ctx.features.ctLbRelated ? "ct_commit_nat;" : "next;", 6876);
    s.add("ls_in_acl_after_lb", 65532, "reg0[17] == 1", "next;", 6881);
  }
  const omit = "nd || nd_ra || nd_rs || mldv1 || mldv2";
  s.add("ls_in_acl", 65532, omit, "next;", 6892);
  s.add("ls_out_acl", 65532, omit, "next;", 6894);
  s.add("ls_in_acl_after_lb", 65532, omit, "next;", 6896);
  for (const acl of od.acls) considerAcl(ctx, s, acl, hasStateful);
  if (od.hasAcls || od.hasLbVip) {
    s.add("ls_in_acl", 34000, "eth.dst == $svc_monitor_mac", "next;", 6988);
    s.add("ls_out_acl", 34000, "eth.src == $svc_monitor_mac", "next;", 6993);
  }
}

/** 24.03+ build_acls: ACLs only set a verdict bit (reg8[16..18]) in *_acl_eval; *_acl_action acts on it. */

function buildQos(ctx: BuildContext, s: FlowSink): void {
  if (ctx.profile.ovn >= 25) {
    s.add("ls_in_qos", 0, "1", "next;");
    s.add("ls_out_qos", 0, "1", "next;");
    return;
  }
  s.add("ls_in_qos_mark", 0, "1", "next;", 7005);
  s.add("ls_out_qos_mark", 0, "1", "next;", 7006);
  s.add("ls_in_qos_meter", 0, "1", "next;", 7007);
  s.add("ls_out_qos_meter", 0, "1", "next;", 7008);
}

function buildStateful(ctx: BuildContext, s: FlowSink): void {
  const blocked = blockedField(ctx);
  s.add("ls_in_lb", 0, "1", "next;", 7579);
  s.add("ls_in_stateful", 0, "1", "next;", 7580);
  s.add("ls_out_stateful", 0, "1", "next;", 7581);
  let withLabel = `ct_commit { ${blocked} = 0; ct_label.label = reg3; }; next;`;
  let plain = `ct_commit { ${blocked} = 0; }; next;`;
  if (ctx.profile.ovn >= 25) {
    withLabel =
      "ct_commit { ct_mark.blocked = 0; ct_mark.allow_established = reg0[20]; ct_mark.obs_stage = reg8[19..20]; ct_mark.obs_collector_id = reg8[8..15]; ct_label.obs_point_id = reg9; ct_label.acl_id = reg2[16..31]; }; next;";
    plain =
      "ct_commit { ct_mark.blocked = 0; ct_mark.allow_established = reg0[20]; ct_label.acl_id = reg2[16..31]; }; next;";
  }
  s.add("ls_in_stateful", 100, "reg0[1] == 1 && reg0[13] == 1", withLabel, 7592);
  s.add("ls_out_stateful", 100, "reg0[1] == 1 && reg0[13] == 1", withLabel, 7596);
  s.add("ls_in_stateful", 100, "reg0[1] == 1 && reg0[13] == 0", plain, 7607);
  s.add("ls_out_stateful", 100, "reg0[1] == 1 && reg0[13] == 0", plain, 7611);
}

function buildLbHairpin(ctx: BuildContext, s: FlowSink, od: SwitchDatapath): void {
  s.add("ls_in_pre_hairpin", 0, "1", "next;", 7624);
  s.add("ls_in_nat_hairpin", 0, "1", "next;", 7625);
  s.add("ls_in_hairpin", 0, "1", "next;", 7626);
  if (!od.hasLbVip) return;
  if (ctx.profile.ovn >= 24) {
    // Kube-OVN 1.15's patches bring back REG_ORIG_DIP_IPV4 (reg1) for this one flow.
    const r4 = ctx.profile.kubeOvn === "1.15" ? "reg1" : ctx.profile.regLbIpv4;
    s.add(
      "ls_in_lb",
      110,
      "ct.trk && !ct.rpl && reg0[19] == 1 && ip4",
      `${r4} = ct_nw_dst(); reg2[0..15] = ct_tp_dst(); next;`,
    );
    s.add(
      "ls_in_lb",
      110,
      "ct.trk && !ct.rpl && reg0[19] == 1 && ip6",
      "xxreg1 = ct_ip6_dst(); reg2[0..15] = ct_tp_dst(); next;",
    );
  }
  s.add(
    "ls_in_pre_hairpin",
    100,
    "ip && ct.trk",
    "reg0[6] = chk_lb_hairpin(); reg0[12] = chk_lb_hairpin_reply(); next;",
    7633,
  );
  s.add("ls_in_nat_hairpin", 100, "ip && ct.new && ct.trk && reg0[6] == 1", "ct_snat_to_vip; next;", 7642);
  s.add("ls_in_nat_hairpin", 100, "ip && ct.est && ct.trk && reg0[6] == 1", "ct_snat;", 7651);
  s.add("ls_in_nat_hairpin", 90, "ip && reg0[12] == 1", "ct_snat;", 7658);
  s.add(
    "ls_in_hairpin",
    1,
    "(reg0[6] == 1 || reg0[12] == 1)",
    "eth.dst <-> eth.src; outport = inport; flags.loopback = 1; output;",
    7667,
  );
}

function buildAdmissionControl(ctx: BuildContext, s: FlowSink, od: SwitchDatapath): void {
  if (ctx.profile.ovn >= 24)
    s.add("ls_in_check_port_sec", 105, `${ICMP_TOO_BIG} && flags.tunnel_rx == 1`, DROP);
  if (!od.vlanTransparent) s.add("ls_in_check_port_sec", 100, "vlan.present", DROP, 8424);
  s.add("ls_in_check_port_sec", 100, "eth.src[40]", DROP, 8429);
  s.add("ls_in_check_port_sec", 50, "1", "reg0[15] = check_in_port_sec(); next;", 8432);
  s.add("ls_in_apply_port_sec", 50, "reg0[15] == 1", DROP, 8435);
  s.add("ls_in_apply_port_sec", 0, "1", "next;", 8438);
}

function buildDhcpDnsDefaults(s: FlowSink): void {
  s.add("ls_in_dhcp_options", 0, "1", "next;", 8863);
  s.add("ls_in_dhcp_response", 0, "1", "next;", 8864);
  s.add("ls_in_dns_lookup", 0, "1", "next;", 8865);
  s.add("ls_in_dns_response", 0, "1", "next;", 8866);
  s.add("ls_in_external_port", 0, "1", "next;", 8867);
}

function buildBmcast(ctx: BuildContext, s: FlowSink, od: SwitchDatapath): void {
  const v = ctx.profile.ovn;
  s.add(
    "ls_in_l2_lkup",
    110,
    "eth.dst == $svc_monitor_mac && (tcp || icmp || icmp6)",
    "handle_svc_check(inport);",
    8926,
  );
  const mcast = bool(od.sw.otherConfig.mcast_snoop, false);
  const floodUnregistered = bool(od.sw.otherConfig.mcast_flood_unregistered, false);
  if (mcast) {
    s.add("ls_in_l2_lkup", 100, "igmp", "igmp;", 8938);
    s.add("ls_in_l2_lkup", 100, "mldv1 || mldv2", "igmp;", 8944);
    s.add(
      "ls_in_l2_lkup",
      85,
      "ip4.mcast && ip4.dst == 224.0.0.0/24",
      'outport = "_MC_flood_l2"; output;',
      8952,
    );
    s.add("ls_in_l2_lkup", 85, "ip6.mcast_flood", 'outport = "_MC_flood"; output;', 8959);
    if (!floodUnregistered) s.add("ls_in_l2_lkup", 80, "ip4.mcast || ip6.mcast", DROP, 8991);
  }
  if (v >= 24 && !bool(od.sw.otherConfig["broadcast-arps-to-all-routers"], true)) {
    s.add("ls_in_l2_lkup", 72, "eth.mcast && (arp.op == 1 || nd_ns)", 'outport = "_MC_flood_l2"; output;');
  }
  if (v === 24) {
    s.add("ls_in_l2_lkup", 71, "eth.mcast && (arp || ip)", 'outport = "_MC_flood"; output;');
    s.add("ls_in_l2_lkup", 70, "eth.mcast", 'outport = "_MC_flood_l2"; output;');
  } else if (v >= 25) {
    s.add("ls_in_l2_lkup", 72, "eth.mcast && (nd_na || nd_rs || nd_ra)", 'outport = "_MC_flood"; output;');
    s.add("ls_in_l2_lkup", 71, "eth.mcast && arp", 'outport = "_MC_flood"; output;');
    s.add("ls_in_l2_lkup", 71, "eth.mcast && ip", 'outport = "_MC_flood_l2"; output;');
    s.add("ls_in_l2_lkup", 70, "eth.mcast", 'outport = "_MC_flood_l2"; output;');
  } else {
    s.add("ls_in_l2_lkup", 70, "eth.mcast", 'outport = "_MC_flood"; output;', 8997);
  }
}

function buildOutputPortSec(s: FlowSink): void {
  s.add("ls_out_check_port_sec", 100, "eth.mcast", "reg0[15] = 0; next;", 5770);
  s.add("ls_out_check_port_sec", 0, "1", "reg0[15] = check_out_port_sec(); next;", 5772);
  s.add("ls_out_apply_port_sec", 50, "reg0[15] == 1", DROP, 5775);
  s.add("ls_out_apply_port_sec", 0, "1", "output;", 5777);
}

function buildPortSecOp(ctx: BuildContext, s: FlowSink, op: SwitchPort): void {
  if (op.lsp.type === "external") return;
  if (!op.enabled) {
    s.add("ls_in_check_port_sec", 100, `inport == ${op.key}`, "reg0[15] = 1; next;", 5673);
    s.add("ls_in_l2_unknown", 50, `outport == ${op.key}`, DROP, 5680);
    return;
  }
  if (op.lsp.type === "vtep") {
    s.add(
      "ls_in_check_port_sec",
      70,
      `inport == ${op.key}`,
      `reg0[14] = 1; next(pipeline=ingress, table=${s.table("ls_in_hairpin")});`,
      5695,
    );
  } else if (ctx.profile.ovn >= 24 && op.lsp.type === "router") {
    s.add("ls_in_check_port_sec", 70, `inport == ${op.key}`, "reg0[18] = 1; next;");
  }
}

function buildLearnFdbOp(ctx: BuildContext, s: FlowSink, op: SwitchPort): void {
  const isLocalnet = op.lsp.type === "localnet";
  const learnLocalnet = isLocalnet && bool(op.lsp.options.localnet_learn_fdb, false);
  const isSwitch = ctx.profile.ovn >= 25 && op.lsp.type === "switch";
  if (op.nPsAddrs === 0 && op.hasUnknown && (op.lsp.type === "" || isSwitch || learnLocalnet)) {
    const flag = ctx.profile.ovn >= 24 && isLocalnet ? "flags.localnet = 1; " : "";
    s.add(
      "ls_in_lookup_fdb",
      100,
      `inport == ${op.key}`,
      `${flag}reg0[11] = lookup_fdb(inport, eth.src); next;`,
      5736,
    );
    s.add(
      "ls_in_put_fdb",
      100,
      `inport == ${op.key} && reg0[11] == 0`,
      "put_fdb(inport, eth.src); next;",
      5744,
    );
  }
}

function buildArpNdResponder(ctx: BuildContext, s: FlowSink, od: SwitchDatapath, op: SwitchPort): void {
  const v = ctx.profile.ovn;
  const t = op.lsp.type;
  if (t === "virtual") return;
  if (t === "external" || op.hasUnknown || od.vlanTransparent) return;
  if (v >= 25 && t === "" && bool(op.lsp.options.disable_arp_nd_rsp, false)) return;
  const isRouter = t === "router";
  // branch-25.03: answer requests that came in through a localnet port only on the port's chassis.
  const local =
    v >= 25 && od.localnetPorts.length > 0
      ? ` && ((flags.localnet == 1 && is_chassis_resident(${op.key})) || flags.localnet == 0)`
      : "";
  for (const a of op.addrs) {
    for (const ip of a.ipv4) {
      const match = `arp.tpa == ${ip.addr} && arp.op == 1${v >= 24 ? " && eth.dst == ff:ff:ff:ff:ff:ff" : ""}`;
      s.add(
        "ls_in_arp_rsp",
        50,
        `${match}${local}`,
        `eth.dst = eth.src; eth.src = ${a.ea}; arp.op = 2; /* ARP reply */ arp.tha = arp.sha; arp.sha = ${a.ea}; arp.tpa = arp.spa; arp.spa = ${ip.addr}; outport = inport; flags.loopback = 1; output;`,
        8601,
      );
      s.add("ls_in_arp_rsp", 100, `${match} && inport == ${op.key}`, "next;", 8620);
    }
    for (const ip of a.ipv6) {
      const match =
        v >= 24
          ? `nd_ns_mcast && ip6.dst == ${ip.sn} && nd.target == ${ip.addr}`
          : `nd_ns && ip6.dst == {${ip.addr}, ${ip.sn}} && nd.target == ${ip.addr}`;
      s.add(
        "ls_in_arp_rsp",
        50,
        `${match}${local}`,
        `${isRouter ? "nd_na_router" : "nd_na"} { eth.src = ${a.ea}; ip6.src = ${ip.addr}; nd.target = ${ip.addr}; nd.tll = ${a.ea}; outport = inport; flags.loopback = 1; output; };`,
        8654,
      );
      s.add("ls_in_arp_rsp", 100, `${match} && inport == ${op.key}`, "next;", 8667);
    }
  }
}

function buildRportArpReqFlow(
  s: FlowSink,
  od: SwitchDatapath,
  op: SwitchPort,
  ip: string,
  v6: boolean,
): void {
  const match = v6
    ? `flags[1] == 0 && nd_ns && nd.target == ${ip}`
    : `flags[1] == 0 && arp.op == 1 && arp.tpa == ${ip}`;
  if (od.routerPorts.length !== od.sw.ports.length) {
    s.add(
      "ls_in_l2_lkup",
      80,
      match,
      `clone {outport = ${op.key}; output; }; outport = "_MC_flood_l2"; output;`,
      8022,
    );
  } else {
    s.add("ls_in_l2_lkup", 80, match, `outport = ${op.key}; output;`, 8027);
  }
}

function buildUnicastLookup(ctx: BuildContext, s: FlowSink, od: SwitchDatapath, op: SwitchPort): void {
  const v = ctx.profile.ovn;
  if (op.lsp.type === "external") return;
  if (op.lsp.type === "router" && op.peer && op.peer.lrp.enabled !== false) {
    const nets = op.peer.networks;
    // Load balancer VIPs and DNAT external addresses of the router are answered by it too
    // (build_lswitch_rport_arp_req_flows).
    const vips = lbArpReqIps(ctx.db, op.peer.router, nets);
    for (const ip of vips.v4) buildRportArpReqFlow(s, od, op, ip, false);
    for (const ip of vips.v6) buildRportArpReqFlow(s, od, op, ip, true);
    for (const nat of op.peer.router.nat) {
      if (nat.type === "snat") continue;
      const a = extractLspAddresses(`00:00:00:00:00:00 ${nat.externalIp}`);
      if (!a || a.ipv4.length + a.ipv6.length !== 1) continue;
      if (vips.all.has(nat.externalIp)) continue;
      if (a.ipv4.length === 1) buildRportArpReqFlow(s, od, op, nat.externalIp, false);
      else buildRportArpReqFlow(s, od, op, nat.externalIp, true);
    }
    for (const ip of nets.ipv4) buildRportArpReqFlow(s, od, op, ip.addr, false);
    for (const ip of nets.ipv6) buildRportArpReqFlow(s, od, op, ip.addr, true);
    if (od.routerPorts.length !== od.sw.ports.length) {
      const bcast = v >= 24 ? " && eth.dst == ff:ff:ff:ff:ff:ff" : "";
      // The port MAC and the external MACs of its router's DNAT rules, in sset order.
      const macs = [nets.ea];
      for (const nat of op.peer.router.nat) {
        if (nat.type === "snat" || nat.externalMac === undefined) continue;
        const a = extractLspAddresses(`00:00:00:00:00:00 ${nat.externalIp}`);
        if (!a || a.ipv4.length + a.ipv6.length !== 1) continue;
        macs.push(nat.externalMac);
      }
      s.add(
        "ls_in_l2_lkup",
        75,
        `eth.src == {${ssetOrder(macs).join(", ")}}${bcast} && (arp.op == 1 || rarp.op == 3 || nd_ns)`,
        'outport = "_MC_flood_l2"; output;',
        7938,
      );
    }
  }
  const action = op.enabled ? `outport = ${op.key}; output;` : DROP;
  if (v >= 24) {
    if (op.lsp.type === "router" && op.peer) {
      s.add("ls_in_l2_lkup", 50, `eth.dst == ${op.peer.networks.ea}${routerMacResident(od, op)}`, action);
      routerNatMacs(s, op, action, undefined);
      return;
    }
    if (op.lsp.type === "router") return;
    for (const a of op.addrs) s.add("ls_in_l2_lkup", 50, `eth.dst == ${a.ea}`, action);
    return;
  }
  for (const a of op.lsp.addresses) {
    const lp = extractLspAddresses(a);
    if (lp && /^([0-9a-fA-F]{1,2}:){5}[0-9a-fA-F]{1,2}/.test(a.trim())) {
      s.add("ls_in_l2_lkup", 50, `eth.dst == ${lp.ea}`, action, 9122);
    } else if (a === "router") {
      if (!op.peer) continue;
      s.add(
        "ls_in_l2_lkup",
        50,
        `eth.dst == ${op.peer.networks.ea}${routerMacResident(od, op)}`,
        action,
        9193,
      );
      routerNatMacs(s, op, action, 9216);
    }
  }
}

/** is_l3dgw_port: a gateway_chassis / ha_chassis_group port of a router that is not a gateway router. */
export function isL3dgwPort(router: LogicalRouter, lrp: LogicalRouterPort): boolean {
  if ((router.options.chassis ?? "") !== "") return false;
  return (
    lrp.gatewayChassis.length > 0 ||
    lrp.haChassisGroup !== undefined ||
    (lrp.options["redirect-chassis"] ?? "") !== ""
  );
}

/** The chassis-resident check on a router port MAC when the router has a distributed gateway port. */
function routerMacResident(od: SwitchDatapath, op: SwitchPort): string {
  const peer = op.peer;
  if (!peer || od.localnetPorts.length === 0) return "";
  const dgps = peer.router.ports.filter((p) => isL3dgwPort(peer.router, p));
  if (dgps.length === 0) return "";
  if (isL3dgwPort(peer.router, peer.lrp)) return ` && is_chassis_resident(${jsonKey(`cr-${peer.lrp.name}`)})`;
  if (peer.lrp.options["reside-on-redirect-chassis"] === "true" && dgps.length === 1)
    return ` && is_chassis_resident(${jsonKey(`cr-${(dgps[0] as LogicalRouterPort).name}`)})`;
  return "";
}

/** The external MACs of distributed NAT rules behind a distributed gateway port. */
function routerNatMacs(s: FlowSink, op: SwitchPort, action: string, line: number | undefined): void {
  const peer = op.peer;
  if (!peer || !isL3dgwPort(peer.router, peer.lrp)) return;
  for (const nat of peer.router.nat) {
    if (nat.type !== "dnat_and_snat" || nat.logicalPort === undefined || nat.externalMac === undefined)
      continue;
    const m = extractLspAddresses(nat.externalMac);
    if (!m) continue;
    s.add(
      "ls_in_l2_lkup",
      50,
      `eth.dst == ${m.ea} && is_chassis_resident("${nat.logicalPort}")`,
      action,
      line,
    );
  }
}

function buildLbFlows(ctx: BuildContext, s: FlowSink, od: SwitchDatapath, lb: NorthdLb): void {
  const v = ctx.profile.ovn;
  const ctLb = ctLbName(ctx);
  for (const vip of lb.vips) {
    // build_empty_lb_event_flow
    if (lb.event && vip.backends.length === 0 && !lb.reject) {
      const ipv = vip.v6 ? "6" : "4";
      let match = `ip${ipv}.dst == ${vip.vip} && ${lb.proto}`;
      let vipText = vip.vip;
      if (vip.port !== undefined) {
        match += ` && ${lb.proto}.dst == ${vip.port}`;
        vipText = vip.v6 ? `[${vip.vip}]:${vip.port}` : `${vip.vip}:${vip.port}`;
      }
      s.add(
        "ls_in_pre_lb",
        130,
        match,
        `trigger_event(event = "empty_lb_backends", vip = "${vipText}", protocol = "${lb.proto}", load_balancer = "${lb.lb.uuid}");`,
      );
    }
  }
  // build_lb_rules_pre_stateful
  for (const vip of lb.vips) {
    s.add(
      "ls_in_pre_stateful",
      120,
      lbVipMatch("reg0[2] == 1 && ", lb, vip),
      `${vipRegs(ctx, vip)}${ctLb};`,
      7115,
    );
  }
  // build_lb_rules
  for (const vip of lb.vips) {
    const backendsAction = lbVipAction(ctx, s, lb, vip, ctLb, vip.backendIps);
    let action: string;
    if (vip.backends.length === 0)
      action = backendsAction; // drop/reject replace the whole action
    else if (v >= 25) action = `${vipRegs(ctx, vip)}${backendsAction}`;
    else if (v === 24) action = `reg0[1] = 0; ${vipRegs(ctx, vip)}${backendsAction}`;
    else action = `reg0[1] = 0; ${backendsAction}`;
    if (ctx.profile.kubeOvn === "1.14") action = backendsAction; // the 1.14 patch clears the prefix (see kubeovn.ts)
    buildLbAffinityLs(ctx, s, lb, vip);
    s.add("ls_in_lb", vip.port !== undefined ? 120 : 110, lbVipMatch("ct.new && ", lb, vip), action, 7558);
  }
  void od;
}

/** "<prefix>ip4.dst == VIP[ && tcp.dst == PORT]". */

export function lbVipAction(
  ctx: BuildContext,
  s: FlowSink,
  lb: NorthdLb,
  vip: LbVip,
  ctLb: string,
  backends: string,
): string {
  void ctx;
  if (vip.backends.length === 0 && lb.reject) {
    return `reg0 = 0; reject { outport <-> inport; next(pipeline=egress,table=${qosTable(s)});};`;
  }
  if (vip.backends.length === 0) return DROP;
  let a = `${ctLb}(backends=${backends}`;
  if (lb.selectionFields) a += `; hash_fields="${lb.selectionFields}"`;
  return `${a});`;
}

function buildLbAffinityLs(ctx: BuildContext, s: FlowSink, lb: NorthdLb, vip: LbVip): void {
  if (!lb.affinityTimeout) return;
  const regVip = vip.v6 ? "xxreg1" : ctx.profile.regLbIpv4;
  const ipMatch = vip.v6 ? "ip6" : "ip4";
  let newLb = `ct.new && ${ipMatch} && ${regVip} == ${vip.vip}`;
  if (vip.port !== undefined) newLb += ` && reg2[0..15] == ${vip.port}`;
  if (ctx.profile.ovn >= 25) {
    newLb = `ct.new && ${ipMatch} && ${ipMatch}.dst == ${vip.vip}`;
    if (vip.port !== undefined) newLb += ` && ${lb.proto} && ${lb.proto}.dst == ${vip.port}`;
  }
  s.add("ls_in_lb_aff_check", 100, newLb, "reg9[6] = chk_lb_aff(); next;", 7371);
  const regBackend = vip.v6 ? "xxreg0" : "reg4";
  const vipText =
    vip.port !== undefined ? (vip.v6 ? `[${vip.vip}]:${vip.port}` : `${vip.vip}:${vip.port}`) : vip.vip;
  for (const b of vip.backends) {
    const bText = b.port !== undefined ? (vip.v6 ? `[${b.ip}]:${b.port}` : `${b.ip}:${b.port}`) : b.ip;
    let learnMatch =
      vip.port !== undefined
        ? `reg9[6] == 0 && ct.new && ${ipMatch} && ${regVip} == ${vip.vip} && reg2[0..15] == ${vip.port} && ${ipMatch}.dst == ${b.ip}`
        : `reg9[6] == 0 && ct.new && ${ipMatch} && ${regVip} == ${vip.vip} && ${ipMatch}.dst == ${b.ip}`;
    // 24.03 matches the VIP itself here; 23.03 only the family.
    let affMatch =
      ctx.profile.ovn >= 24
        ? `reg9[6] == 1 && ct.new && ${ipMatch}.dst == ${vip.vip} && ${regBackend} == ${b.ip}`
        : `reg9[6] == 1 && ct.new && ${ipMatch} && ${regBackend} == ${b.ip}`;
    if (b.port !== undefined) {
      learnMatch += ` && ${lb.proto}.dst == ${b.port}`;
      affMatch += ctx.profile.ovn >= 25 ? ` && reg2[0..15] == ${b.port}` : ` && reg8[0..15] == ${b.port}`;
    }
    let affAction =
      ctx.profile.ovn >= 25 ? `${regVip} = ${vip.vip}; ` : `reg0[1] = 0; ${regVip} = ${vip.vip}; `;
    if (vip.port !== undefined) affAction += `reg2[0..15] = ${vip.port}; `;
    affAction += `ct_lb_mark(backends=${bText});`;
    let learn = `commit_lb_aff(vip = "${vipText}", backend = "${bText}"`;
    if (vip.port !== undefined) learn += `, proto = ${lb.proto}`;
    learn += `, timeout = ${lb.affinityTimeout}); /* drop */`;
    s.add("ls_in_lb_aff_learn", 100, learnMatch, learn, 7460);
    s.add("ls_in_lb", 150, affMatch, affAction, 7466);
  }
}

export type { LogicalFlow };

function ctLbName(ctx: BuildContext): string {
  return ctx.profile.ovn >= 25 || ctx.features.ctNoMaskedLabel ? "ct_lb_mark" : "ct_lb";
}

function buildAclsEval(ctx: BuildContext, s: FlowSink, od: SwitchDatapath): void {
  const v = ctx.profile.ovn;
  const blocked = blockedField(ctx);
  const hasStateful = od.hasStatefulAcl || od.hasLbVip;
  const IN = "ls_in_acl_eval";
  const OUT = "ls_out_acl_eval";
  const AFTER = "ls_in_acl_after_lb_eval";
  const ALLOW = "reg8[16] = 1; ";
  if (!od.hasAcls && !od.hasLbVip) {
    s.add(IN, 65535, "1", "next;");
    s.add(OUT, 65535, "1", "next;");
  } else {
    s.add(IN, 0, "1", "next;");
    s.add(OUT, 0, "1", "next;");
  }
  s.add(AFTER, 0, "1", "next;");
  if (hasStateful) {
    s.add(IN, 1, `ip && ct.est && ${blocked} == 1`, `${ALLOW}next;`);
    s.add(OUT, 1, `ip && ct.est && ${blocked} == 1`, `${ALLOW}next;`);
    s.add(IN, 1, "ip && !ct.est", "next;");
    s.add(OUT, 1, "ip && !ct.est", "next;");
    const inv = `${noInv(ctx) ? "ct.inv || " : ""}(ct.est && ct.rpl && ${blocked} == 1)`;
    s.add(IN, 65532, inv, "reg8[17] = 1; next;");
    s.add(OUT, 65532, inv, "reg8[17] = 1; next;");
    const est = `ct.est && !ct.rel && !ct.new${noInv(ctx)} && ct.rpl && ${blocked} == 0`;
    s.add(IN, 65532, est, `reg0[9] = 0; reg0[10] = 0; reg0[17] = 1; ${ALLOW}next;`);
    s.add(OUT, 65532, est, `${ALLOW}next;`);
    const related = v >= 25 || ctx.features.ctLbRelated;
    const rel = `!ct.est && ct.rel && !ct.new${noInv(ctx)} && ${blocked} == 0`;
    s.add(IN, 65532, rel, `reg0[17] = 1; ${ALLOW}${related ? "ct_commit_nat;" : "next;"}`);
    s.add(OUT, 65532, rel, `${ALLOW}${related ? "ct_commit_nat;" : "next;"}`);
    s.add(AFTER, 65532, "reg0[17] == 1", `${ALLOW}next;`);
    if (v >= 25) {
      s.add(IN, 65532, "ct.est && ct_mark.allow_established == 1", `reg0[21] = 1; ${ALLOW}next;`);
      s.add(OUT, 65532, "ct.est && ct_mark.allow_established == 1", `${ALLOW}next;`);
      s.add(AFTER, 65532, "reg0[21] == 1", `${ALLOW}next;`);
    }
  }
  const omit = "nd || nd_ra || nd_rs || mldv1 || mldv2";
  s.add(IN, 65532, omit, `${ALLOW}next;`);
  s.add(OUT, 65532, omit, `${ALLOW}next;`);
  s.add(AFTER, 65532, omit, `${ALLOW}next;`);
  for (const acl of od.acls) {
    buildAclLogRelated(ctx, s, acl, hasStateful);
    considerAclEval(ctx, s, acl, hasStateful);
  }
  if (od.hasAcls || od.hasLbVip) {
    s.add(IN, 34000, "eth.dst == $svc_monitor_mac", `${ALLOW}next;`);
    s.add(OUT, 34000, "eth.src == $svc_monitor_mac", `${ALLOW}next;`);
  }
  // build_acl_action_lflows
  const reset = "reg8[16] = 0; reg8[17] = 0; reg8[18] = 0; ";
  for (const stage of ["ls_in_acl_action", "ls_in_acl_after_lb_action", "ls_out_acl_action"]) {
    if (!od.hasAcls) {
      s.add(stage, 0, "1", "next;");
      continue;
    }
    const ingress = stage.startsWith("ls_in_");
    s.add(stage, 1000, "reg8[16] == 1", `${reset}next;`);
    s.add(stage, 1000, "reg8[17] == 1", `${reset}/* drop */`);
    const next = ingress
      ? `next(pipeline=egress,table=${qosTable(s)})`
      : `next(pipeline=ingress,table=${s.table("ls_in_l2_lkup")})`;
    s.add(
      stage,
      1000,
      "reg8[18] == 1",
      `${reset}reg0 = 0; reject { /* eth.dst <-> eth.src; ip.dst <-> ip.src; is implicit. */ outport <-> inport; ${next}; };`,
    );
    s.add(stage, 0, "1", `${reset}next;`);
  }
  if (v >= 25) {
    s.add("ls_in_acl_sample", 0, "1", "next;");
    s.add("ls_out_acl_sample", 0, "1", "next;");
    s.add("ls_in_acl_after_lb_sample", 0, "1", "next;");
  }
}

function qosTable(s: FlowSink): number {
  const t = s.table("ls_out_qos_mark");
  return t >= 0 ? t : s.table("ls_out_qos");
}

/** 25.03 build_acl_sample_label_action for an ACL with a label (no Sample rows modelled). */

function aclLabelAction(acl: Acl, obsStage: number): string {
  if (!acl.label) return "";
  return `reg0[13] = 1; reg3 = ${acl.label}; reg9 = ${acl.label}; reg8[0..7] = 0; reg8[8..15] = 0; reg8[19..20] = ${obsStage}; `;
}

function buildAclLogRelated(ctx: BuildContext, s: FlowSink, acl: Acl, hasStateful: boolean): void {
  if (acl.action === "allow-stateless" || !hasStateful) return;
  if (acl.action !== "allow" && acl.action !== "allow-related") return;
  if (!acl.log || !acl.label || !bool(acl.options["log-related"], false)) return;
  const blocked = blockedField(ctx);
  const stage = acl.direction === "from-lport" ? "ls_out_acl_eval" : "ls_in_acl_eval";
  const actions = `${aclLog(acl)}reg8[16] = 1; next;`;
  s.add(
    stage,
    65533,
    `ct.est && !ct.rel && !ct.new${noInv(ctx)} && ct.rpl && ${blocked} == 0 && ct_label.label == ${acl.label}`,
    actions,
  );
  s.add(
    stage,
    65533,
    `!ct.est && ct.rel && !ct.new${noInv(ctx)} && ${blocked} == 0 && ct_label.label == ${acl.label}`,
    actions,
  );
}

function considerAclEval(ctx: BuildContext, s: FlowSink, acl: Acl, hasStateful: boolean): void {
  const v = ctx.profile.ovn;
  const blocked = blockedField(ctx);
  const ingress = acl.direction === "from-lport";
  const afterLb = ingress && bool(acl.options["apply-after-lb"], false);
  const stage = afterLb ? "ls_in_acl_after_lb_eval" : ingress ? "ls_in_acl_eval" : "ls_out_acl_eval";
  const obsStage = afterLb ? 1 : ingress ? 0 : 2;
  const verdict =
    acl.action === "drop"
      ? "reg8[17] = 1; "
      : acl.action === "reject"
        ? "reg8[18] = 1; "
        : acl.action === "pass"
          ? ""
          : "reg8[16] = 1; ";
  const base = `${aclLog(acl)}${verdict}`;
  const prio = acl.priority + 1000;
  const label25 = v >= 25 ? aclLabelAction(acl, obsStage) : "";
  if (!hasStateful || acl.action === "pass" || acl.action === "allow-stateless") {
    s.add(stage, prio, `(${acl.match})`, `${base}${label25}next;`);
    return;
  }
  if (acl.action === "allow" || acl.action === "allow-related") {
    if (v >= 25) {
      s.add(stage, prio, `reg0[7] == 1 && (${acl.match})`, `${base}${label25}next;`);
      s.add(
        stage,
        prio,
        `reg0[8] == 1 && (${acl.match})`,
        `${base}${acl.label ? "reg0[1] = 1; " : ""}${label25}next;`,
      );
    } else {
      const label = acl.label ? `reg0[13] = 1; reg3 = ${acl.label}; ` : "";
      s.add(stage, prio, `reg0[7] == 1 && (${acl.match})`, `${base}${label}next;`);
      s.add(
        stage,
        prio,
        `reg0[8] == 1 && (${acl.match})`,
        `${base}${acl.label ? `reg0[1] = 1; ${label}` : ""}next;`,
      );
    }
    return;
  }
  if (acl.action === "drop" || acl.action === "reject") {
    s.add(stage, prio, `reg0[9] == 1 && (${acl.match})`, `${base}${label25}next;`);
    const commit =
      v >= 25
        ? "ct_commit { ct_mark.blocked = 1; ct_label.obs_point_id = 0; }; next;"
        : `ct_commit { ${blocked} = 1; }; next;`;
    s.add(stage, prio, `reg0[10] == 1 && (${acl.match})`, `${base}${label25}${commit}`);
  }
}

function buildIcmpTooBigAdmin(ctx: BuildContext, s: FlowSink, op: SwitchPort): void {
  if (ctx.profile.ovn < 24) return;
  if (op.lsp.type !== "router") {
    for (const a of op.addrs) {
      s.add(
        "ls_in_check_port_sec",
        110,
        `${ICMP_TOO_BIG} && eth.src == ${a.ea} && outport == ${op.key} && !is_chassis_resident(${op.key}) && flags.tunnel_rx == 1`,
        "outport <-> inport; next;",
      );
    }
    return;
  }
  if (!op.peer) return;
  const gw = op.peer.router.options.chassis !== undefined;
  if (gw) {
    s.add(
      "ls_in_check_port_sec",
      120,
      `${ICMP_TOO_BIG} && eth.src == ${op.peer.lrp.mac} && outport == ${op.key} && flags.tunnel_rx == 1`,
      "outport <-> inport; next;",
    );
  } else {
    s.add(
      "ls_in_check_port_sec",
      120,
      `${ICMP_TOO_BIG} && eth.dst == ${op.peer.lrp.mac} && flags.tunnel_rx == 1`,
      `outport <-> inport; next(pipeline=ingress,table=${s.table("ls_in_l2_lkup")});`,
    );
  }
}

export function lbVipMatch(prefix: string, lb: NorthdLb, vip: LbVip): string {
  let m = `${prefix}${vip.v6 ? "ip6" : "ip4"}.dst == ${vip.vip}`;
  if (vip.port !== undefined) m += ` && ${lb.proto}.dst == ${vip.port}`;
  return m;
}

/** "reg1 = VIP; reg2[0..15] = PORT; " (reg4 from 25.03, xxreg1 for IPv6). */

export function vipRegs(ctx: BuildContext, vip: LbVip): string {
  let a = vip.v6 ? `xxreg1 = ${vip.vip}; ` : `${ctx.profile.regLbIpv4} = ${vip.vip}; `;
  if (vip.port !== undefined) a += `reg2[0..15] = ${vip.port}; `;
  return a;
}

/** build_lb_vip_actions for a switch datapath (backends part only). */
