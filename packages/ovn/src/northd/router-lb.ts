/**
 * Load balancers on logical routers (northd.c branch-23.03 build_lrouter_defrag_flows_for_lb,
 * build_lrouter_flows_for_lb / build_lrouter_nat_flows_for_lb, the has_lb_vip parts of
 * build_lrouter_nat_defrag_and_lb, build_lrouter_force_snat_flows_op and the VIP ARP/ND
 * responder of build_lrouter_ipv4_ip_input). Real northd applies a router's load balancers on
 * every router it is attached to, not only on gateway routers: a router without a gateway
 * gets the same ct_lb_mark flows (grouped with gateway routers), a router with a distributed
 * gateway port gets them pinned to the gateway chassis with an unDNAT flow per VIP.
 */
import { attachedLbNames, type LogicalRouter, type NbDatabase } from "../nb/model.js";
import { type LportAddresses, extractLspAddresses } from "./addresses.js";
import type { RouterDatapath, RouterPort } from "./router.js";
import { arpFlow, findLrpMemberIp, ndFlow, v4Nets } from "./router.js";
import { type BuildContext, type FlowSink, type NorthdLb, prepareLb } from "./switch.js";

/** od->lb_ips: the router's VIP addresses, and those its ports answer ARP/ND for. */
export interface RouterLbIps {
  readonly v4: ReadonlySet<string>;
  readonly v6: ReadonlySet<string>;
  readonly v4Reachable: ReadonlySet<string>;
  readonly v6Reachable: ReadonlySet<string>;
}

/** The router's Load_Balancer rows (lr-lb-add order), as northd's build_lbs reads them. */
export function routerLbs(db: NbDatabase, lr: LogicalRouter): NorthdLb[] {
  const out: NorthdLb[] = [];
  for (const name of attachedLbNames(db, lr)) {
    const lb = db.loadBalancers.find((l) => l.name === name || l.uuid === name);
    if (lb) out.push(prepareLb(lb));
  }
  return out;
}

/** lr_has_lb_vip: any attached load balancer with a VIP (even one northd cannot parse). */
export const routerHasLbVip = (lbs: readonly NorthdLb[]): boolean =>
  lbs.some((l) => Object.keys(l.lb.vips).length > 0);

/** build_lrouter_lb_ips + build_lrouter_lb_reachable_ips (options:neighbor_responder). */
export function routerLbIps(lbs: readonly NorthdLb[], ports: readonly RouterPort[]): RouterLbIps {
  const v4 = new Set<string>();
  const v6 = new Set<string>();
  const v4Reachable = new Set<string>();
  const v6Reachable = new Set<string>();
  for (const lb of lbs) {
    for (const vip of lb.vips) (vip.v6 ? v6 : v4).add(vip.vip);
    const mode = lb.lb.options.neighbor_responder ?? "reachable";
    if (mode === "none") continue;
    for (const vip of lb.vips) {
      if (mode === "all" || ports.some((op) => findLrpMemberIp(op, vip.vip) !== undefined))
        (vip.v6 ? v6Reachable : v4Reachable).add(vip.vip);
    }
  }
  return { v4, v6, v4Reachable, v6Reachable };
}

/**
 * build_lswitch_rport_arp_req_flows: the router's VIPs (all of od->lb_ips, whatever
 * neighbor_responder says) on a subnet of router port `nets`, which its peer switch sends to
 * the router only; `all` is every VIP, which the DNAT external addresses there skip.
 */
export function lbArpReqIps(
  db: NbDatabase,
  lr: LogicalRouter,
  nets: LportAddresses,
): { v4: string[]; v6: string[]; all: ReadonlySet<string> } {
  const ips = routerLbIps(routerLbs(db, lr), []);
  const port = { v4: v4Nets(nets), nets };
  const on = (ip: string) => findLrpMemberIp(port, ip) !== undefined;
  return {
    v4: [...ips.v4].filter(on),
    v6: [...ips.v6].filter(on),
    all: new Set([...ips.v4, ...ips.v6]),
  };
}

/**
 * Datapath tunnel keys as northd allocates them while the northbound rows arrive one
 * transaction at a time (how ovn-nbctl scripts and the live tests feed it): in creation order,
 * switches and routers alike. Rows carry their creation number in the last uuid group.
 */
export function datapathTunnelKeys(db: NbDatabase): Map<string, number> {
  const rows: { name: string; n: number; i: number }[] = [];
  const num = (uuid: string, i: number): number => {
    const m = /-([0-9a-f]{12})$/.exec(uuid);
    return m ? Number.parseInt(m[1] as string, 16) : i;
  };
  let i = 0;
  for (const sw of db.switches) rows.push({ name: sw.name, n: num(sw.uuid, i), i: i++ });
  for (const lr of db.routers) {
    if (lr.enabled === false) continue;
    rows.push({ name: lr.name, n: num(lr.uuid, i), i: i++ });
  }
  rows.sort((a, b) => a.n - b.n || a.i - b.i);
  return new Map(rows.map((r, k) => [r.name, k + 1]));
}

/** lr_lb_address_set_name: the SB Address_Set northd fills with a router's reachable VIPs. */
export const routerLbAddressSet = (tunnelKey: number, v6: boolean): string =>
  `_rtr_lb_${tunnelKey}_ip${v6 ? "6" : "4"}`;

const vipKey = (v6: boolean, ip: string, port: number | undefined): string =>
  port === undefined ? ip : v6 ? `[${ip}]:${port}` : `${ip}:${port}`;

type LbType = "normal" | "skip" | "force";

/** The per-VIP flows of every router load balancer (defrag, DNAT, unDNAT, unSNAT bypass). */
export function buildRouterLbFlows(ctx: BuildContext, s: FlowSink, od: RouterDatapath): void {
  const v = s.profile.ovn;
  const ctLb = v >= 25 || ctx.features.ctNoMaskedLabel ? "ct_lb_mark" : "ct_lb";
  const externalIps = new Set(od.nat.map((n) => n.externalIp));
  const forceSnat = lbForceSnat(od);
  for (const lb of od.lbs) {
    // build_lrouter_defrag_flows_for_lb
    for (const vip of lb.vips) {
      s.add("lr_in_defrag", 100, `ip && ip${vip.v6 ? "6" : "4"}.dst == ${vip.vip}`, "ct_dnat;", 10857);
    }
  }
  for (const lb of od.lbs) {
    const type: LbType = lb.skipSnat ? "skip" : forceSnat ? "force" : "normal";
    for (const vip of lb.vips) {
      const ipm = vip.v6 ? "ip6" : "ip4";
      // build_lb_vip_actions (router datapath)
      const reject = vip.backends.length === 0 && lb.reject;
      const drop = vip.backends.length === 0 && !lb.reject;
      let base: string;
      if (reject)
        base = `reg0 = 0; reject { outport <-> inport; next(pipeline=egress,table=${s.table("lr_out_snat")});};`;
      else if (drop) base = "drop;";
      else {
        base = `${ctLb}(backends=${vip.backendIps}`;
        if (lb.selectionFields) base += `; hash_fields="${lb.selectionFields}"`;
      }
      const isLb = !(reject || drop);
      const enclose = isLb ? ");" : "";
      const flagged = isLb && ctx.features.ctLbRelated;
      const actions: Record<LbType, string> = {
        normal: `${base}${enclose}`,
        skip: `flags.skip_snat_for_lb = 1; ${base}${flagged ? "; skip_snat);" : enclose}`,
        force: `flags.force_snat_for_lb = 1; ${base}${flagged ? "; force_snat);" : enclose}`,
      };
      let prio = 110;
      let match = `ct.new && !ct.rel && ${ipm} && ${ipm}.dst == ${vip.vip}`;
      if (vip.port !== undefined) {
        prio = 120;
        match += ` && ${lb.proto} && ${lb.proto}.dst == ${vip.port}`;
      }
      // The affinity flows rank a router's force_snat above the LB's skip_snat (the reverse of
      // the DNAT flow above), and exist for a VIP without backends too (no backend flows).
      if (lb.affinityTimeout) {
        const affType: LbType = forceSnat ? "force" : lb.skipSnat ? "skip" : "normal";
        buildLbAffinityLr(s, lb, vip, match, affType, ctLb, ctx.features.ctLbRelated);
      }
      const dgp = od.dgps[0];
      if (!dgp) s.add("lr_in_dnat", prio, match, actions[type], 10603);
      else {
        // build_distr_lrouter_nat_flows_for_lb: only the first distributed gateway port counts.
        const m =
          vip.backends.length > 0 || !lb.reject ? `${match} && is_chassis_resident(${dgp.crKey})` : match;
        s.add("lr_in_dnat", prio, m, actions[type], 10551);
        if (vip.backends.length > 0) {
          const backs = vip.backends
            .map(
              (b) =>
                `(${ipm}.src == ${b.ip}${b.port !== undefined ? ` && ${lb.proto}.src == ${b.port})` : ")"}`,
            )
            .join(" || ");
          const undnat =
            type === "force"
              ? "flags.force_snat_for_lb = 1; next;"
              : type === "skip"
                ? "flags.skip_snat_for_lb = 1; next;"
                : od.isGw
                  ? "ct_dnat;"
                  : "ct_dnat_in_czone;";
          s.add(
            "lr_out_undnat",
            120,
            `${ipm} && (${backs}) && outport == ${dgp.key} && is_chassis_resident(${dgp.crKey})`,
            undnat,
            10565,
          );
        }
      }
      if (externalIps.has(vip.vip)) {
        let m = `${ipm} && ${ipm}.dst == ${vip.vip} && ${lb.proto}`;
        if (vip.port !== undefined) m += ` && ${lb.proto}.dst == ${vip.port}`;
        s.add("lr_in_unsnat", 120, m, "next;", 10748);
      }
      // build_empty_lb_event_flow
      if (lb.event && vip.backends.length === 0 && !lb.reject) {
        let m = `${ipm}.dst == ${vip.vip} && ${lb.proto}`;
        if (vip.port !== undefined) m += ` && ${lb.proto}.dst == ${vip.port}`;
        s.add(
          "lr_in_dnat",
          130,
          m,
          `trigger_event(event = "empty_lb_backends", vip = "${vipKey(vip.v6, vip.vip, vip.port)}", protocol = "${lb.proto}", load_balancer = "${lb.lb.uuid}");`,
          10889,
        );
      }
    }
    if (lb.skipSnat) s.add("lr_out_snat", 120, "flags.skip_snat_for_lb == 1 && ip", "next;", 10903);
  }
}

/**
 * Session affinity of a router load balancer (options:affinity_timeout, northd.c
 * build_lb_affinity_lr_flows): lr_in_lb_aff_check looks the client up in the learnt
 * sessions, a known one goes straight to its backend in lr_in_dnat (150), a new one is
 * learnt in lr_in_lb_aff_learn once lr_in_dnat picked the backend. On every router the LB is
 * on, gateway routers and distributed gateway ports alike (no is_chassis_resident).
 */
function buildLbAffinityLr(
  s: FlowSink,
  lb: NorthdLb,
  vip: NorthdLb["vips"][number],
  newMatch: string,
  type: LbType,
  ctLb: string,
  flagged: boolean,
): void {
  const ipm = vip.v6 ? "ip6" : "ip4";
  const regVip = vip.v6 ? "xxreg0" : "reg0";
  const regBackend = vip.v6 ? "xxreg1" : "reg4";
  let check = `${regVip} = ${ipm}.dst; `;
  if (vip.port !== undefined) check += `reg9[16..31] = ${lb.proto}.dst; `;
  s.add("lr_in_lb_aff_check", 100, newMatch, `${check}reg9[6] = chk_lb_aff(); next;`, 10430);
  const flag =
    type === "force"
      ? "flags.force_snat_for_lb = 1; "
      : type === "skip"
        ? "flags.skip_snat_for_lb = 1; "
        : "";
  const suffix = flagged && type !== "normal" ? `; ${type === "force" ? "force_snat" : "skip_snat"}` : "";
  for (const b of vip.backends) {
    const bText = vipKey(vip.v6, b.ip, b.port);
    let aff = `reg9[6] == 1 && ct.new && ${ipm} && ${regBackend} == ${b.ip}`;
    if (b.port !== undefined) aff += ` && reg8[0..15] == ${b.port}`;
    s.add(
      "lr_in_dnat",
      150,
      aff,
      `${regVip} = ${vip.vip}; ${flag}${ctLb}(backends=${bText}${suffix});`,
      10477,
    );
    let learn = `reg9[6] == 0 && ct.new && ${ipm} && ${regVip} == ${vip.vip}`;
    if (vip.port !== undefined) learn += ` && reg9[16..31] == ${vip.port}`;
    learn += ` && ${ipm}.dst == ${b.ip}`;
    if (b.port !== undefined) learn += ` && ${lb.proto}.dst == ${b.port}`;
    let commit = `commit_lb_aff(vip = "${vipKey(vip.v6, vip.vip, vip.port)}", backend = "${bText}"`;
    if (vip.port !== undefined) commit += `, proto = ${lb.proto}`;
    commit += `, timeout = ${lb.affinityTimeout}); /* drop */`;
    s.add("lr_in_lb_aff_learn", 100, learn, commit, 10461);
  }
}

/** od->lb_force_snat_addrs non-empty or od->lb_force_snat_router_ip. */
function lbForceSnat(od: RouterDatapath): boolean {
  const v = od.lr.options.lb_force_snat_ip;
  if (v === undefined) return false;
  if (v === "router_ip") return od.isGw;
  const a = extractLspAddresses(`00:00:00:00:00:00 ${v}`);
  return a !== undefined && a.ipv4.length + a.ipv6.length > 0;
}

/** build_lrouter_nat_defrag_and_lb, the has_lb_vip part: related and established LB traffic. */
export function buildRouterLbCtFlows(ctx: BuildContext, s: FlowSink, od: RouterDatapath): void {
  if (!od.hasLbVip) return;
  const reg = ctx.features.ctNoMaskedLabel ? "ct_mark" : "ct_label";
  if (ctx.features.ctLbRelated) {
    const rel = "ct.rel && !ct.est && !ct.new";
    s.add(
      "lr_in_dnat",
      70,
      `${rel} && ${reg}.skip_snat == 1`,
      "flags.skip_snat_for_lb = 1; ct_commit_nat;",
      14274,
    );
    s.add(
      "lr_in_dnat",
      70,
      `${rel} && ${reg}.force_snat == 1`,
      "flags.force_snat_for_lb = 1; ct_commit_nat;",
      14279,
    );
    s.add("lr_in_dnat", 50, rel, "ct_commit_nat;", 14283);
  }
  const est = `ct.est && !ct.rel && !ct.new && ${reg}.natted`;
  s.add("lr_in_dnat", 70, `${est} && ${reg}.skip_snat == 1`, "flags.skip_snat_for_lb = 1; next;", 14300);
  s.add("lr_in_dnat", 70, `${est} && ${reg}.force_snat == 1`, "flags.force_snat_for_lb = 1; next;", 14305);
  s.add("lr_in_dnat", 50, est, "next;", 14309);
}

/** build_lrouter_force_snat_flows_op: lb_force_snat_ip=router_ip on a gateway router. */
export function buildForceSnatOp(s: FlowSink, od: RouterDatapath, op: RouterPort): void {
  if (!(od.isGw && od.lr.options.lb_force_snat_ip === "router_ip")) return;
  if (!op.peerLsp && !op.peerLrp) return;
  const a4 = op.nets.ipv4[0];
  if (a4) {
    s.add("lr_in_unsnat", 110, `inport == ${op.key} && ip4.dst == ${a4.addr}`, "ct_snat;", 11383);
    s.add(
      "lr_out_snat",
      110,
      `flags.force_snat_for_lb == 1 && ip4 && outport == ${op.key}`,
      `ct_snat(${a4.addr});`,
      11395,
    );
  }
  const a6 = op.nets.ipv6[0];
  if (a6 && op.nets.ipv6.length > 1) {
    s.add("lr_in_unsnat", 110, `inport == ${op.key} && ip6.dst == ${a6.addr}`, "ct_snat;", 11415);
    s.add(
      "lr_out_snat",
      110,
      `flags.force_snat_for_lb == 1 && ip6 && outport == ${op.key}`,
      `ct_snat(${a6.addr});`,
      11427,
    );
  }
}

/** The ARP / ND responder of a router port for the router's reachable VIPs (one address set). */
export function buildLbVipArpNd(s: FlowSink, od: RouterDatapath, op: RouterPort): void {
  const extra = op.isDgp ? `is_chassis_resident(${op.crKey})` : "";
  if (od.lbIps.v4Reachable.size > 0)
    arpFlow(s, op, `$${routerLbAddressSet(od.tunnelKey, false)}`, "xreg0[0..47]", extra, false, 90, 11115);
  if (od.lbIps.v6Reachable.size > 0)
    ndFlow(
      s,
      op,
      "nd_na",
      `$${routerLbAddressSet(od.tunnelKey, true)}`,
      undefined,
      "xreg0[0..47]",
      extra,
      false,
      90,
      11171,
    );
}
