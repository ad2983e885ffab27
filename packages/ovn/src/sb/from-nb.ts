/**
 * The southbound view northd would write for a northbound database (for tracing an
 * `ovn-nbctl` configuration without a real cluster): Datapath_Binding and Port_Binding rows
 * with tunnel keys in creation order (as northd allocates them on a fresh database), router
 * ports as `patch` peers, chassis bindings from `ovn-sbctl lsp-bind`, multicast groups and LB
 * VIPs, joined with the logical flows ovnsim's northd produced for a release profile.
 */
import type { NbDatabase } from "../nb/model.js";
import type { NorthdResult } from "../northd/compile.js";
import { deriveMcGroups, type SbDatapath, type SbModel, type SbPort, type SbVip } from "./model.js";
import { parseBackend } from "../actions/parse.js";

export function sbModelFromNb(db: NbDatabase, result: Pick<NorthdResult, "flows" | "datapaths">): SbModel {
  const datapaths: SbDatapath[] = [];
  const ports: SbPort[] = [];
  const bound = new Map(db.portBindings.map((b) => [b.logicalPort, b.chassis]));
  const uuidOf = new Map(result.datapaths.map((d) => [d.name, d.uuid]));
  let dpKey = 1;
  for (const sw of db.switches) {
    datapaths.push({ name: sw.name, uuid: uuidOf.get(sw.name) ?? sw.uuid, tunnelKey: dpKey++ });
    let k = 1;
    for (const p of sw.ports) {
      const isRouter = p.type === "router";
      const peer = p.options["router-port"];
      const ch = bound.get(p.name);
      ports.push({
        name: p.name,
        datapath: sw.name,
        type: isRouter ? "patch" : p.type,
        tunnelKey: k++,
        mac: p.addresses,
        portSecurity: p.portSecurity,
        options: new Map(isRouter && peer ? [["peer", peer]] : Object.entries(p.options)),
        ...(ch !== undefined ? { chassis: ch } : {}),
      });
    }
  }
  for (const r of db.routers) {
    datapaths.push({ name: r.name, uuid: r.uuid, tunnelKey: dpKey++ });
    let k = 1;
    for (const p of r.ports) {
      const lsp = db.switches.flatMap((s) => s.ports).find((q) => q.options["router-port"] === p.name);
      ports.push({
        name: p.name,
        datapath: r.name,
        type: "patch",
        tunnelKey: k++,
        mac: [[p.mac, ...p.networks].join(" ")],
        portSecurity: [],
        options: new Map(lsp ? [["peer", lsp.name]] : []),
      });
    }
  }
  // Disabled ports are left out of the flood groups by northd.
  const enabled = ports.filter(
    (p) => db.switches.flatMap((s) => s.ports).find((q) => q.name === p.name)?.enabled !== false,
  );
  const vips: SbVip[] = [];
  for (const lb of db.loadBalancers) {
    for (const k of Object.keys(lb.vips)) {
      const be = parseBackend(k);
      if (be) vips.push({ ...be, text: k });
    }
  }
  const svcMac = db.nbGlobal.options.svc_monitor_mac ?? "00:00:00:00:00:00";
  return {
    flows: result.flows,
    datapaths,
    ports,
    mcGroups: deriveMcGroups(
      datapaths.filter((d) => db.switches.some((s) => s.name === d.name)),
      enabled,
    ),
    addressSets: new Map([["svc_monitor_mac", [svcMac]]]),
    portGroups: new Map(),
    vips,
    derived: ["datapath-binding", "port-binding", "multicast-group", "address-set", "load-balancer"],
  };
}
