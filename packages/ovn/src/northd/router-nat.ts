/**
 * NAT in the logical router pipeline (northd.c branch-23.03 build_lrouter_nat_defrag_and_lb and
 * the build_lrouter_{in_unsnat,in_dnat,out_undnat,out_is_dnat_local,out_snat,ingress}_flow
 * helpers): the unSNAT/DNAT/unDNAT/SNAT stages of gateway routers and of routers with a
 * distributed gateway port, the ARP/ND replies for NAT external addresses, and the egress
 * loopback of hairpinned NAT traffic. Only gateway routers and routers with a distributed
 * gateway port apply NAT, as in northd.
 */
import type { Nat } from "../nb/model.js";
import { extractLspAddresses } from "./addresses.js";
import type { RouterDatapath, RouterPort } from "./router.js";
import { arpFlow, findLrpMemberIp, gatewayMtuFlow, ndFlow } from "./router.js";
import type { BuildContext, FlowSink } from "./switch.js";

interface NatEntry {
  readonly nat: Nat;
  readonly v6: boolean;
  /** Normalised external address and its solicited-node address (IPv6). */
  readonly ext: string;
  readonly sn?: string;
}

/** init_nat_entries: the NAT rows whose external_ip is one address. */
function natEntries(od: RouterDatapath): NatEntry[] {
  const out: NatEntry[] = [];
  for (const nat of od.nat) {
    const a = extractLspAddresses(`00:00:00:00:00:00 ${nat.externalIp}`);
    if (!a || a.ipv4.length + a.ipv6.length !== 1) continue;
    const v4 = a.ipv4[0];
    const v6 = a.ipv6[0];
    if (v4 && v4.plen !== 32) continue;
    if (v6 && v6.plen !== 128) continue;
    out.push(
      v4
        ? { nat, v6: false, ext: v4.addr }
        : { nat, v6: true, ext: (v6 as { addr: string }).addr, sn: v6?.sn },
    );
  }
  return out;
}

const stateless = (nat: Nat): boolean => nat.options.stateless === "true" && nat.type === "dnat_and_snat";

/** lrouter_check_nat_entry. */
function checkNat(
  od: RouterDatapath,
  nat: Nat,
): { v6: boolean; cidrBits: number; distributed: boolean; mac?: string; dgp?: RouterPort } | undefined {
  if (nat.allowedExtIps !== undefined && nat.exemptedExtIps !== undefined) return undefined;
  const ext = extractLspAddresses(`00:00:00:00:00:00 ${nat.externalIp}`);
  if (!ext || ext.ipv4.length + ext.ipv6.length !== 1) return undefined;
  const v6 = ext.ipv6.length === 1;
  if ((ext.ipv4[0]?.plen ?? 128) !== (v6 ? 128 : 32)) return undefined;
  let dgp: RouterPort | undefined;
  if (nat.gatewayPort === undefined) {
    if (od.dgps.length === 1) dgp = od.dgps[0];
    else if (od.dgps.length > 1) {
      dgp = od.dgps.find((p) => findLrpMemberIp(p, nat.externalIp) !== undefined);
      if (!dgp) return undefined;
    }
  } else {
    dgp = od.dgps.find((p) => p.lrp.name === nat.gatewayPort);
    if (!dgp) return undefined;
  }
  const log = extractLspAddresses(`00:00:00:00:00:00 ${nat.logicalIp}`);
  const la = v6 ? log?.ipv6[0] : log?.ipv4[0];
  if (!la || (log?.ipv4.length ?? 0) + (log?.ipv6.length ?? 0) !== 1) return undefined;
  const cidrBits = la.plen;
  if (nat.type !== "snat" && cidrBits !== (v6 ? 128 : 32)) return undefined;
  let distributed = false;
  let mac: string | undefined;
  if (
    od.dgps.length > 0 &&
    nat.type === "dnat_and_snat" &&
    nat.logicalPort !== undefined &&
    nat.externalMac !== undefined
  ) {
    const m = extractLspAddresses(nat.externalMac);
    if (!m) return undefined;
    distributed = true;
    mac = m.ea;
  }
  return { v6, cidrBits, distributed, ...(mac !== undefined ? { mac } : {}), ...(dgp ? { dgp } : {}) };
}

/** lrouter_nat_add_ext_ip_match: extends `match`, and adds the exempted-IPs bypass flow. */
function extIpMatch(
  s: FlowSink,
  od: RouterDatapath,
  nat: Nat,
  match: string,
  v6: boolean,
  isSrc: boolean,
  cidrBits: number,
): string {
  const f = `ip${v6 ? "6" : "4"}.${isSrc ? "src" : "dst"}`;
  if (nat.allowedExtIps !== undefined) return `${match} && ${f} == $${nat.allowedExtIps}`;
  if (nat.exemptedExtIps !== undefined) {
    const prio = isSrc ? 102 : cidrBits + 3 + (od.isGw ? 0 : 128);
    s.add(
      isSrc ? "lr_in_dnat" : "lr_out_snat",
      prio,
      `${match} && ${f} == $${nat.exemptedExtIps}`,
      "next;",
      11068,
    );
  }
  return match;
}

export function buildRouterNat(ctx: BuildContext, s: FlowSink, od: RouterDatapath): void {
  s.add("lr_in_defrag", 0, "1", "next;", 14243);
  s.add("lr_in_unsnat", 0, "1", "next;", 14244);
  s.add("lr_out_chk_dnat_local", 0, "1", "reg9[4] = 0; next;", 14245);
  s.add("lr_out_snat", 0, "1", "next;", 14247);
  s.add("lr_in_dnat", 0, "1", "next;", 14248);
  s.add("lr_out_undnat", 0, "1", "next;", 14249);
  s.add("lr_out_post_undnat", 0, "1", "next;", 14250);
  s.add("lr_out_post_snat", 0, "1", "next;", 14251);
  s.add("lr_out_egr_loop", 0, "1", "next;", 14252);
  s.add("lr_in_ecmp_stateful", 0, "1", "next;", 14253);
  if (od.isGw && (od.nat.length > 0 || od.hasLbVip)) {
    s.add("lr_out_undnat", 100, "nd || nd_rs || nd_ra", "next;", 14324);
    s.add("lr_out_undnat", 50, "ip", "flags.loopback = 1; ct_dnat;", 14326);
    s.add("lr_out_post_undnat", 50, "ip && ct.new", "ct_commit { } ; next; ", 14328);
  }
  s.add("lr_out_snat", 120, "nd_ns", "next;", 14335);
  buildNatArpNd(s, od);
  if (od.isGw || od.dgps.length > 0) buildNatRules(ctx, s, od);
  for (const op of od.ports) if (op.isDgp) buildPortNatArpNd(s, od, op);
}

/** build_lrouter_arp_nd_for_datapath: ARP/ND replies for NAT external addresses. */
function buildNatArpNd(s: FlowSink, od: RouterDatapath): void {
  const entries = natEntries(od);
  for (const e of entries) {
    if (e.nat.type === "snat") continue;
    natArpNd(s, undefined, e, "xreg0[0..47]", "", false, 90);
  }
  const seen = new Set<string>();
  for (const e of entries) {
    if (e.nat.type !== "snat" || seen.has(e.ext)) continue;
    seen.add(e.ext);
    natArpNd(s, undefined, e, "xreg0[0..47]", "", false, 90);
  }
}

function natArpNd(
  s: FlowSink,
  op: RouterPort | undefined,
  e: NatEntry,
  mac: string,
  extra: string,
  drop: boolean,
  prio: number,
): void {
  if (e.v6) ndFlow(s, op, "nd_na", e.ext, e.sn, mac, extra, drop, prio, drop ? 11156 : 11171);
  else arpFlow(s, op, e.ext, mac, extra, drop, prio, 11115);
}

/** build_lrouter_port_nat_arp_nd_flow, for each NAT entry on a distributed gateway port. */
function buildPortNatArpNd(s: FlowSink, od: RouterDatapath, op: RouterPort): void {
  const entries = natEntries(od);
  const ordered = [...entries.filter((e) => e.nat.type !== "snat")];
  const seen = new Set<string>();
  for (const e of entries) {
    if (e.nat.type !== "snat" || seen.has(e.ext)) continue;
    seen.add(e.ext);
    ordered.push(e);
  }
  for (const e of ordered) {
    const nat = e.nat;
    if (
      od.dgps.length > 1 &&
      ((nat.gatewayPort === undefined && findLrpMemberIp(op, nat.externalIp) === undefined) ||
        (nat.gatewayPort !== undefined && nat.gatewayPort !== op.lrp.name))
    ) {
      continue;
    }
    const em = nat.externalMac !== undefined ? extractLspAddresses(nat.externalMac) : undefined;
    let mac = "xreg0[0..47]";
    let extra: string;
    if (em && nat.logicalPort !== undefined) {
      mac = nat.externalMac as string;
      extra = `is_chassis_resident("${nat.logicalPort}")`;
    } else extra = `is_chassis_resident(${op.crKey})`;
    natArpNd(s, op, e, mac, extra, false, 92);
    natArpNd(s, op, e, mac, "", true, 91);
  }
}

function buildNatRules(ctx: BuildContext, s: FlowSink, od: RouterDatapath): void {
  const seenExt = new Set<string>();
  const dnatForceSnat = (od.lr.options.dnat_force_snat_ip ?? "") !== "";
  for (const nat of od.nat) {
    const c = checkNat(od, nat);
    if (!c) continue;
    const { v6, cidrBits, distributed, mac } = c;
    const dgp = c.dgp;
    const ipv = v6 ? "6" : "4";
    const sl = stateless(nat);
    const resident = (p: RouterPort) =>
      !distributed && od.dgps.length > 0 ? ` && is_chassis_resident(${p.crKey})` : "";
    const range = nat.externalPortRange !== "" ? `,${nat.externalPortRange}` : "";
    // S_ROUTER_IN_UNSNAT
    if (nat.type === "snat" || nat.type === "dnat_and_snat") {
      if (od.isGw) {
        s.add(
          "lr_in_unsnat",
          90,
          `ip && ip${ipv}.dst == ${nat.externalIp}`,
          sl ? "next;" : "ct_snat;",
          13648,
        );
      } else if (dgp) {
        s.add(
          "lr_in_unsnat",
          100,
          `ip && ip${ipv}.dst == ${nat.externalIp} && inport == ${dgp.key} && flags.loopback == 0${resident(dgp)}`,
          sl ? "next;" : "ct_snat_in_czone;",
          13673,
        );
        if (!sl) {
          s.add(
            "lr_in_unsnat",
            100,
            `ip && ip${ipv}.dst == ${nat.externalIp} && inport == ${dgp.key} && flags.loopback == 1 && flags.use_snat_zone == 1${resident(dgp)}`,
            "ct_snat;",
            13691,
          );
        }
      }
    }
    // S_ROUTER_IN_DNAT
    if (nat.type === "dnat" || nat.type === "dnat_and_snat") {
      if (od.isGw) {
        let m = `ip && ip${ipv}.dst == ${nat.externalIp}`;
        if (nat.allowedExtIps !== undefined || nat.exemptedExtIps !== undefined)
          m = extIpMatch(s, od, nat, m, v6, true, cidrBits);
        let a = dnatForceSnat ? "flags.force_snat_for_dnat = 1; " : "";
        a += sl
          ? `flags.loopback = 1; ip${ipv}.dst=${nat.logicalIp}; next;`
          : `flags.loopback = 1; ct_dnat(${nat.logicalIp}${range});`;
        s.add("lr_in_dnat", 100, m, a, 13745);
      } else if (dgp) {
        let m = `ip && ip${ipv}.dst == ${nat.externalIp} && inport == ${dgp.key}${resident(dgp)}`;
        if (nat.allowedExtIps !== undefined || nat.exemptedExtIps !== undefined)
          m = extIpMatch(s, od, nat, m, v6, true, cidrBits);
        const a =
          nat.type === "dnat_and_snat" && sl
            ? `ip${ipv}.dst=${nat.logicalIp}; next;`
            : `ct_dnat_in_czone(${nat.logicalIp}${range});`;
        s.add("lr_in_dnat", 100, m, a, 13779);
      }
    }
    // ARP resolve for NAT IPs (distributed routers).
    if (!od.isGw && dgp && !seenExt.has(nat.externalIp)) {
      s.add(
        "lr_in_arp_resolve",
        150,
        `inport == ${dgp.key} && outport == ${dgp.key} && ip${ipv}.dst == ${nat.externalIp}`,
        "drop;",
        14388,
      );
      s.add(
        "lr_in_arp_resolve",
        100,
        `outport == ${dgp.key} && ${v6 ? "xxreg0" : "reg0"} == ${nat.externalIp}`,
        `eth.dst = ${distributed ? nat.externalMac : dgp.nets.ea}; next;`,
        14407,
      );
      if (distributed && (od.dgps[0]?.lrp.options["redirect-type"] ?? "").toLowerCase() === "bridged") {
        s.add(
          "lr_in_arp_resolve",
          90,
          `outport == ${(od.dgps[0] as RouterPort).key} && ip${ipv}.src == ${nat.logicalIp} && is_chassis_resident("${nat.logicalPort}")`,
          v6 ? "get_nd(outport, xxreg0); next;" : "get_arp(outport, reg0); next;",
          14429,
        );
      }
      seenExt.add(nat.externalIp);
    }
    if (dgp) {
      // S_ROUTER_OUT_DNAT_LOCAL
      s.add(
        "lr_out_chk_dnat_local",
        50,
        `ip && ip${ipv}.dst == ${nat.externalIp} && ${distributed ? `is_chassis_resident("${nat.logicalPort}")` : `is_chassis_resident(${dgp.crKey})`}`,
        "reg9[4] = 1; next;",
        13858,
      );
      // S_ROUTER_OUT_UNDNAT
      if (nat.type === "dnat" || nat.type === "dnat_and_snat") {
        const a = `${distributed ? `eth.src = ${mac}; ` : ""}${sl ? "next;" : od.isGw ? "ct_dnat;" : "ct_dnat_in_czone;"}`;
        s.add(
          "lr_out_undnat",
          100,
          `ip && ip${ipv}.src == ${nat.logicalIp} && outport == ${dgp.key}${resident(dgp)}`,
          a,
          13828,
        );
      }
    }
    // S_ROUTER_OUT_SNAT
    if (nat.type === "snat" || nat.type === "dnat_and_snat") {
      if (od.isGw) {
        let m = `ip && ip${ipv}.src == ${nat.logicalIp}`;
        if (nat.allowedExtIps !== undefined || nat.exemptedExtIps !== undefined)
          m = extIpMatch(s, od, nat, m, v6, false, cidrBits);
        let a: string;
        if (nat.type === "dnat_and_snat" && sl) a = `ip${ipv}.src=${nat.externalIp}; next;`;
        else {
          m += " && (!ct.trk || !ct.rpl)";
          a = `ct_snat(${nat.externalIp}${range});`;
        }
        s.add("lr_out_snat", cidrBits + 1, m, a, 13906);
      } else if (dgp) {
        const prio = cidrBits + 1 + 128;
        let m = `ip && ip${ipv}.src == ${nat.logicalIp} && outport == ${dgp.key}`;
        m += distributed
          ? ` && is_chassis_resident("${nat.logicalPort}")`
          : ` && is_chassis_resident(${dgp.crKey})`;
        if (nat.allowedExtIps !== undefined || nat.exemptedExtIps !== undefined)
          m = extIpMatch(s, od, nat, m, v6, false, cidrBits);
        const eth = distributed ? `eth.src = ${mac}; ` : "";
        const a = `${eth}${sl ? `ip${ipv}.src=${nat.externalIp}; next;` : `ct_snat_in_czone(${nat.externalIp}${range});`}`;
        s.add("lr_out_snat", prio, m, a, 13958);
        if (!sl) {
          s.add(
            "lr_out_snat",
            prio + 1,
            `${m} && reg9[4] == 1`,
            `${eth}reg9[4] = 0; ct_snat(${nat.externalIp}${range});`,
            13975,
          );
        }
      }
    }
    // S_ROUTER_IN_ADMISSION - S_ROUTER_IN_IP_INPUT (build_lrouter_ingress_flow)
    if (dgp && nat.type === "snat") {
      s.add(
        "lr_in_ip_input",
        120,
        `inport == ${dgp.key} && ${v6 ? "ip6.src" : "ip4.src"} == ${nat.externalIp}`,
        "next;",
        14067,
      );
    }
    if (distributed && dgp) {
      const mtu = Number.parseInt(dgp.lrp.options.gateway_mtu ?? "0", 10);
      gatewayMtuFlow(
        s,
        dgp,
        "lr_in_admission",
        50,
        55,
        `eth.dst == ${mac} && inport == ${dgp.key} && is_chassis_resident("${nat.logicalPort}")`,
        `xreg0[0..47] = ${dgp.nets.ea}; next;`,
      );
      if (mtu > 0) natCheckPktLen(s, nat, v6, mtu, dgp);
    }
    if (distributed && dgp) {
      s.add(
        "lr_in_gw_redirect",
        100,
        `ip${ipv}.src == ${nat.logicalIp} && outport == ${dgp.key} && is_chassis_resident("${nat.logicalPort}")`,
        `eth.src = ${nat.externalMac}; ${v6 ? "xxreg1" : "reg1"} = ${nat.externalIp}; next;`,
        14486,
      );
    }
    if (od.dgps.length > 0 && dgp) {
      const res = distributed
        ? `is_chassis_resident("${nat.logicalPort}")`
        : `is_chassis_resident(${dgp.crKey})`;
      const regs = Array.from({ length: 10 }, (_, j) => `reg${j} = 0; `).join("");
      s.add(
        "lr_out_egr_loop",
        100,
        `ip${ipv}.dst == ${nat.externalIp} && outport == ${dgp.key} && ${res}`,
        `clone { ct_clear; inport = outport; outport = ""; eth.dst <-> eth.src; flags = 0; flags.loopback = 1; flags.use_snat_zone = reg9[4]; ${regs}reg9[0] = 1; next(pipeline=ingress, table=${s.table("lr_in_admission")}); };`,
        14524,
      );
    }
  }
  if (od.nat.length > 0) {
    const natted = ctx.features.ctNoMaskedLabel ? "ct_mark.natted" : "ct_label.natted";
    s.add("lr_out_chk_dnat_local", 50, `ip && ${natted} == 1`, "reg9[4] = 1; next;", 14544);
  }
  if (od.isGw) {
    for (const [key, ctxName] of [
      ["dnat_force_snat_ip", "dnat"],
      ["lb_force_snat_ip", "lb"],
    ] as const) {
      const v = od.lr.options[key];
      if (v === undefined || (ctxName === "lb" && v === "router_ip")) continue;
      const a = extractLspAddresses(`00:00:00:00:00:00 ${v}`);
      if (!a) continue;
      const ip4 = a.ipv4[0];
      const ip6 = a.ipv6[0];
      if (ip4) forceSnat(s, "4", ip4.addr, ctxName);
      if (ip6) forceSnat(s, "6", ip6.addr, ctxName);
    }
  }
}

function forceSnat(s: FlowSink, v: string, ip: string, context: string): void {
  s.add("lr_in_unsnat", 110, `ip${v} && ip${v}.dst == ${ip}`, "ct_snat;", 11351);
  s.add("lr_out_snat", 100, `flags.force_snat_for_${context} == 1 && ip${v}`, `ct_snat(${ip});`, 11361);
}

/** build_lrouter_ingress_nat_check_pkt_len. */
function natCheckPktLen(s: FlowSink, nat: Nat, v6: boolean, mtu: number, dgp: RouterPort): void {
  const m = `inport == ${dgp.key} && reg9[1] && reg9[0] == 0 && ip${v6 ? "6" : "4"} && ip${v6 ? "6" : "4"}.dst == ${nat.externalIp}`;
  const a = v6
    ? `icmp6_error {reg9[0] = 1; reg9[1] = 0; eth.dst = eth.src; eth.src = ${nat.externalMac}; ip6.dst = ip6.src; ip6.src = ${nat.externalIp}; ip.ttl = 254; icmp6.type = 2; /* Packet Too Big. */ icmp6.code = 0; icmp6.frag_mtu = ${mtu}; outport = ${dgp.key}; flags.loopback = 1; output; };`
    : `icmp4_error {reg9[0] = 1; reg9[1] = 0; eth.dst = eth.src; eth.src = ${nat.externalMac}; ip4.dst = ip4.src; ip4.src = ${nat.externalIp}; ip.ttl = 254; icmp4.type = 3; /* Destination Unreachable. */ icmp4.code = 4; /* Frag Needed and DF was Set. */ icmp4.frag_mtu = ${mtu}; outport = ${dgp.key}; flags.loopback = 1; output; };`;
  s.add("lr_in_ip_input", 160, m, a, v6 ? 14042 : 14015);
}
