/**
 * The southbound view northd would write for a northbound database (for tracing an
 * `ovn-nbctl` configuration without a real cluster): Datapath_Binding and Port_Binding rows
 * with tunnel keys in creation order (as northd allocates them on a fresh database), router
 * ports as `patch` peers, chassis bindings from `ovn-sbctl lsp-bind`, multicast groups and LB
 * VIPs, joined with the logical flows ovnsim's northd produced for a release profile.
 */
import { attachedLbNames, type NbDatabase } from "../nb/model.js";
import type { NorthdResult } from "../northd/compile.js";
import { deriveMcGroups, type SbDatapath, type SbModel, type SbPort, type SbVip } from "./model.js";
import { parseBackend } from "../actions/parse.js";
import { extractLspAddresses } from "../northd/addresses.js";
import { datapathTunnelKeys, routerLbAddressSet } from "../northd/router-lb.js";
import { prepareRouter } from "../northd/router.js";

export function sbModelFromNb(db: NbDatabase, result: Pick<NorthdResult, "flows" | "datapaths">): SbModel {
  const datapaths: SbDatapath[] = [];
  const ports: SbPort[] = [];
  const bound = new Map(db.portBindings.map((b) => [b.logicalPort, b.chassis]));
  const uuidOf = new Map(result.datapaths.map((d) => [d.name, d.uuid]));
  const dpKeys = datapathTunnelKeys(db);
  for (const sw of db.switches) {
    datapaths.push({
      name: sw.name,
      uuid: uuidOf.get(sw.name) ?? sw.uuid,
      tunnelKey: dpKeys.get(sw.name) ?? 0,
    });
    let k = 1;
    for (const p of sw.ports) {
      const isRouter = p.type === "router";
      const peer = p.options["router-port"];
      const ch = bound.get(p.name);
      // A port peered with a gateway router is an l3gateway port pinned to its chassis.
      const gwChassis = isRouter && peer !== undefined ? gatewayChassisOf(db, peer) : undefined;
      const opts: [string, string][] = isRouter && peer ? [["peer", peer]] : Object.entries(p.options);
      if (gwChassis !== undefined) opts.unshift(["l3gateway-chassis", gwChassis]);
      ports.push({
        name: p.name,
        datapath: sw.name,
        type: isRouter ? (gwChassis !== undefined ? "l3gateway" : "patch") : p.type,
        tunnelKey: k++,
        mac: p.addresses,
        portSecurity: p.portSecurity,
        options: new Map(opts),
        ...(ch !== undefined ? { chassis: ch } : {}),
      });
    }
  }
  // A disabled router has no datapath at all (join_datapaths skips it).
  const routers = db.routers.filter((r) => r.enabled !== false);
  for (const r of routers) {
    datapaths.push({ name: r.name, uuid: r.uuid, tunnelKey: dpKeys.get(r.name) ?? 0 });
    let k = 1;
    const gwChassis = (r.options.chassis ?? "") !== "" ? r.options.chassis : undefined;
    for (const p of r.ports) {
      const lsp = db.switches.flatMap((s) => s.ports).find((q) => q.options["router-port"] === p.name);
      const peer = lsp?.name ?? p.peer;
      const opts: [string, string][] = peer !== undefined ? [["peer", peer]] : [];
      if (gwChassis !== undefined) opts.unshift(["l3gateway-chassis", gwChassis]);
      ports.push({
        name: p.name,
        datapath: r.name,
        type: gwChassis !== undefined ? "l3gateway" : "patch",
        tunnelKey: k++,
        mac: [[p.mac, ...p.networks].join(" ")],
        portSecurity: [],
        options: new Map(opts),
      });
    }
    // A distributed gateway port gets its chassisredirect twin "cr-NAME".
    for (const p of r.ports) {
      if (gwChassis !== undefined) continue;
      if (p.gatewayChassis.length === 0 && p.haChassisGroup === undefined) continue;
      ports.push({
        name: `cr-${p.name}`,
        datapath: r.name,
        type: "chassisredirect",
        tunnelKey: k++,
        mac: [[p.mac, ...p.networks].join(" ")],
        portSecurity: [],
        options: new Map([["distributed-port", p.name]]),
      });
    }
  }
  // Disabled ports are left out of the flood groups by northd.
  const enabled = ports.filter(
    (p) => db.switches.flatMap((s) => s.ports).find((q) => q.name === p.name)?.enabled !== false,
  );
  // Northd writes an SB Load_Balancer row only for a load balancer some switch applies
  // (directly or through a group): a router-only VIP is no hairpin candidate for ovn-trace.
  const onSwitch = new Set(db.switches.flatMap((sw) => attachedLbNames(db, sw)));
  const vips: SbVip[] = [];
  for (const lb of db.loadBalancers) {
    if (!onSwitch.has(lb.name)) continue;
    for (const k of Object.keys(lb.vips)) {
      const be = parseBackend(k);
      if (be) vips.push({ ...be, text: k });
    }
  }
  // Without NB_Global options:svc_monitor_mac northd draws a random locally administered
  // unicast MAC (eth_addr_random); a fixed one of that kind stands in for it. Never all-zero:
  // a microflow without eth.src / eth.dst would match the service-monitor flows.
  const svcMac = db.nbGlobal.options.svc_monitor_mac ?? "0a:00:00:5e:c0:01";
  return {
    flows: result.flows,
    datapaths,
    ports,
    mcGroups: deriveMcGroups(
      datapaths.filter((d) => db.switches.some((s) => s.name === d.name)),
      enabled,
    ),
    addressSets: addressSets(db, svcMac, dpKeys),
    portGroups: portGroups(db, datapaths),
    vips,
    derived: ["datapath-binding", "port-binding", "multicast-group", "address-set", "load-balancer"],
  };
}

/**
 * SB Address_Set as northd syncs it: the NB address sets, svc_monitor_mac, the routers'
 * reachable load-balancer VIPs, and for each port group `<pg>_ip4` / `<pg>_ip6` with the IP
 * addresses of its ports' `addresses`.
 */
function addressSets(
  db: NbDatabase,
  svcMac: string,
  dpKeys: ReadonlyMap<string, number>,
): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>([["svc_monitor_mac", [svcMac]]]);
  for (const as of db.addressSets) out.set(as.name, as.addresses);
  // A router's load-balancer VIPs its ports answer ARP / ND for (the lr_in_ip_input
  // responder matches on these sets), one set per family when not empty.
  for (const lr of db.routers) {
    if (lr.enabled === false) continue;
    const key = dpKeys.get(lr.name);
    if (key === undefined) continue;
    const { lbIps } = prepareRouter(db, lr);
    if (lbIps.v4Reachable.size > 0) out.set(routerLbAddressSet(key, false), [...lbIps.v4Reachable].sort());
    if (lbIps.v6Reachable.size > 0) out.set(routerLbAddressSet(key, true), [...lbIps.v6Reachable].sort());
  }
  const lsps = new Map(db.switches.flatMap((s) => s.ports.map((p) => [p.name, p] as const)));
  for (const pg of db.portGroups) {
    const v4: string[] = [];
    const v6: string[] = [];
    for (const name of pg.ports) {
      for (const a of lsps.get(name)?.addresses ?? []) {
        const la = extractLspAddresses(a);
        if (!la) continue;
        v4.push(...la.ipv4.map((x) => x.addr));
        v6.push(...la.ipv6.map((x) => x.addr));
      }
    }
    out.set(`${pg.name}_ip4`, v4);
    out.set(`${pg.name}_ip6`, v6);
  }
  return out;
}

/** SB Port_Group: one row per (switch, group) named `<switch tunnel key>_<group>`. */
function portGroups(db: NbDatabase, datapaths: readonly SbDatapath[]): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const pg of db.portGroups) {
    for (const sw of db.switches) {
      const members = pg.ports.filter((n) => sw.ports.some((p) => p.name === n));
      if (members.length === 0) continue;
      const key = datapaths.find((d) => d.name === sw.name)?.tunnelKey;
      if (key !== undefined) out.set(`${key}_${pg.name}`, members);
    }
  }
  return out;
}

/** The chassis of the gateway router owning router port `lrp`, if it is one. */
function gatewayChassisOf(db: NbDatabase, lrp: string): string | undefined {
  for (const r of db.routers) {
    if (!r.ports.some((p) => p.name === lrp)) continue;
    const ch = r.options.chassis;
    return ch !== undefined && ch !== "" ? ch : undefined;
  }
  return undefined;
}
