/**
 * A scenario written as the captures a user would take of a real cluster: the southbound
 * database ovnsim's northd produces for it, as `scripts/capture-sb.sh` writes it (lflow-list
 * with uuids, Datapath_Binding, Port_Binding, Chassis, Encap, Multicast_Group, Load_Balancer,
 * Logical_Flow external_ids), and each node's Open vSwitch configuration, as
 * `scripts/capture-node.sh` writes it (ovs-vsctl show, list Interface, the Open_vSwitch
 * external_ids). They feed @ovnsim/controller exactly as real captures would, so the
 * scenario's br-int OpenFlow comes from the same model a real node's dump is checked against.
 *
 * Row uuids are made from the row's table and name (FNV-1a), so the same scenario always gives
 * the same uuids, cookies and conjunction ids; the logical flows keep the 8-hex uuid northd
 * gave them (their cookie).
 */
import type { NodeDataplane, Scenario } from "@ovnsim/kube";
import { formatSbLflowList, type SbFiles, sbModelFromNb } from "@ovnsim/ovn";
import type { OvnWorld } from "./ovn.js";

function fnv(text: string, seed: number): string {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, "0");
}

/** A deterministic uuid for a row of `table` named `name` (v4 layout, FNV-1a of both). */
export function captureUuid(table: string, name: string, head?: string): string {
  const k = `${table}\u0000${name}`;
  const a = head ?? fnv(k, 0x811c9dc5);
  const b = fnv(k, 0x01234567);
  const c = fnv(k, 0x89abcdef);
  const d = fnv(k, 0x5bd1e995);
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-a${c.slice(1, 4)}-${c.slice(4, 8)}${d}`;
}

const quoteAtom = (s: string): string =>
  /^[A-Za-z0-9_.:/-]+$/.test(s) && !/^\d/.test(s) ? s : JSON.stringify(s);
const smap = (m: ReadonlyMap<string, string> | Readonly<Record<string, string>>): string => {
  const es = m instanceof Map ? [...m] : Object.entries(m);
  return `{${es
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${quoteAtom(k)}=${quoteAtom(v)}`)
    .join(", ")}}`;
};
const sset = (xs: readonly string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(", ")}]`;
const uset = (xs: readonly string[]): string => `[${xs.join(", ")}]`;

function records(rows: readonly (readonly [string, string])[][]): string {
  return rows
    .map((cols) => cols.map(([c, v]) => `${c.padEnd(20)}: ${v}`).join("\n"))
    .join("\n\n")
    .concat(rows.length ? "\n" : "");
}

/** The southbound capture of a scenario's OVN world (file name → text). */
export function scenarioSbFiles(s: Scenario, w: Pick<OvnWorld, "sb" | "db">): SbFiles {
  const sb = w.sb;
  const dpUuid = new Map(sb.datapaths.map((d) => [d.name, d.uuid]));
  const chassisUuid = new Map(s.nodes.map((n) => [n.name, captureUuid("Chassis", n.name)]));
  const encapUuid = new Map(s.nodes.map((n) => [n.name, captureUuid("Encap", n.name)]));
  const pbUuid = new Map(sb.ports.map((p) => [p.name, captureUuid("Port_Binding", p.name)]));
  const files: Record<string, string> = {};
  files["lflow-list.txt"] = formatSbLflowList(sb.flows, dpUuid, { uuids: true });
  files["logical-flow.txt"] = records(
    sb.flows
      .filter((f) => f.uuid !== undefined)
      .map((f) => [
        ["_uuid", captureUuid("Logical_Flow", `${f.uuid}`, f.uuid)],
        [
          "external_ids",
          smap(
            new Map([["stage-name", f.stage], ...(f.hint ? [["source", f.hint] as [string, string]] : [])]),
          ),
        ],
      ]),
  );
  files["datapath-binding.txt"] = records(
    sb.datapaths.map((d) => [
      ["_uuid", d.uuid],
      ["external_ids", smap(new Map([["name", d.name]]))],
      ["tunnel_key", String(d.tunnelKey)],
    ]),
  );
  files["chassis.txt"] = records(
    s.nodes.map((n) => [
      ["_uuid", chassisUuid.get(n.name)!],
      ["encaps", uset([encapUuid.get(n.name)!])],
      ["hostname", quoteAtom(n.name)],
      ["name", quoteAtom(n.name)],
    ]),
  );
  files["encap.txt"] = records(
    s.nodes.map((n) => [
      ["_uuid", encapUuid.get(n.name)!],
      ["chassis_name", quoteAtom(n.name)],
      ["ip", JSON.stringify(n.internalIp)],
      ["options", smap(new Map([["csum", "true"]]))],
      ["type", "geneve"],
    ]),
  );
  files["port-binding.txt"] = records(
    sb.ports.map((p) => {
      const ch = p.chassis !== undefined ? chassisUuid.get(p.chassis) : undefined;
      const tag = w.db.switches.flatMap((x) => x.ports).find((q) => q.name === p.name)?.tag;
      return [
        ["_uuid", pbUuid.get(p.name)!],
        ["chassis", ch ?? "[]"],
        ["datapath", dpUuid.get(p.datapath) ?? "[]"],
        ["logical_port", quoteAtom(p.name)],
        ["mac", sset(p.mac)],
        ["options", smap(p.options)],
        ["port_security", sset(p.portSecurity)],
        ["tag", tag !== undefined ? String(tag) : "[]"],
        ["tunnel_key", String(p.tunnelKey)],
        ["type", p.type === "" ? '""' : quoteAtom(p.type)],
      ];
    }),
  );
  files["multicast-group.txt"] = records(
    sb.mcGroups.map((g) => [
      ["_uuid", captureUuid("Multicast_Group", `${g.datapath}/${g.name}`)],
      ["datapath", dpUuid.get(g.datapath) ?? "[]"],
      ["name", quoteAtom(g.name)],
      ["ports", uset(g.ports.map((p) => pbUuid.get(p) ?? p))],
      ["tunnel_key", String(g.tunnelKey)],
    ]),
  );
  files["load-balancer.txt"] = records(
    w.db.loadBalancers.map((lb) => [
      ["_uuid", captureUuid("Load_Balancer", lb.name)],
      ["name", quoteAtom(lb.name)],
      ["options", smap(lb.options)],
      ["protocol", lb.protocol ?? "tcp"],
      ["vips", smap(lb.vips)],
    ]),
  );
  // Address sets (svc_monitor_mac, port groups' _ip4/_ip6) and port groups as northd syncs them.
  const synced = sbModelFromNb(w.db, { flows: sb.flows, datapaths: sb.datapaths });
  files["address-set.txt"] = records(
    [...synced.addressSets].map(([name, addrs]) => [
      ["_uuid", captureUuid("Address_Set", name)],
      ["addresses", sset(addrs)],
      ["name", quoteAtom(name)],
    ]),
  );
  files["port-group.txt"] = records(
    [...synced.portGroups].map(([name, ports]) => [
      ["_uuid", captureUuid("Port_Group", name)],
      ["name", JSON.stringify(name)],
      ["ports", sset(ports)],
    ]),
  );
  return files;
}

/**
 * The Geneve ports ovn-controller creates on a node's br-int, one per other chassis
 * (encaps.c: `ovn-<first 6 characters of the chassis name>-0`, options remote_ip, key=flow,
 * csum=true), numbered after br-int's other ports.
 */
export function tunnelPorts(
  s: Scenario,
  dp: NodeDataplane,
): { readonly name: string; readonly ofport: number; readonly remoteIp: string; readonly chassis: string }[] {
  const brInt = dp.bridges.find((b) => b.name === "br-int");
  let of = Math.max(0, ...(brInt?.ports ?? []).map((p) => (p.ofport < 0xff00 ? p.ofport : 0))) + 1;
  return s.nodes
    .filter((n) => n.name !== dp.node)
    .map((n) => ({
      name: `ovn-${n.name.slice(0, 6)}-0`,
      ofport: of++,
      remoteIp: n.internalIp,
      chassis: n.name,
    }));
}

/** A node's Open vSwitch configuration as `scripts/capture-node.sh` writes it. */
export function scenarioNodeFiles(s: Scenario, dp: NodeDataplane): SbFiles {
  const node = s.nodes.find((n) => n.name === dp.node);
  const podOf = new Map(
    s.pods.filter((p) => p.node === dp.node).map((p) => [p.mac.toLowerCase(), p.lsp] as const),
  );
  const ifaces: [string, string][][] = [];
  let show = `${captureUuid("Open_vSwitch", dp.node)}\n`;
  for (const b of dp.bridges) {
    show += `    Bridge ${b.name}\n`;
    if (b.name === "br-int") show += "        fail_mode: secure\n";
    for (const p of b.ports) {
      const type = p.type === "system" ? "" : p.type;
      show += `        Port ${quoteAtom(p.name)}\n            Interface ${quoteAtom(p.name)}\n`;
      if (type) show += `                type: ${type}\n`;
      if (p.peer !== undefined) show += `                options: {peer=${quoteAtom(p.peer)}}\n`;
      const lsp =
        b.name === "br-int" && p.type === "system" && p.mac ? podOf.get(p.mac.toLowerCase()) : undefined;
      ifaces.push([
        ["_uuid", captureUuid("Interface", `${dp.node}/${p.name}`)],
        ["external_ids", smap(new Map(lsp !== undefined ? [["iface-id", lsp]] : []))],
        ["name", quoteAtom(p.name)],
        ["ofport", String(p.ofport)],
        ["options", smap(new Map(p.peer !== undefined ? [["peer", p.peer]] : []))],
        ["type", type === "" ? '""' : type],
      ]);
    }
    if (b.name !== "br-int") continue;
    for (const t of tunnelPorts(s, dp)) {
      const opts = new Map([
        ["csum", "true"],
        ["key", "flow"],
        ["remote_ip", t.remoteIp],
      ]);
      show += `        Port ${t.name}\n            Interface ${t.name}\n                type: geneve\n                options: ${smap(opts)}\n`;
      ifaces.push([
        ["_uuid", captureUuid("Interface", `${dp.node}/${t.name}`)],
        ["external_ids", "{}"],
        ["name", quoteAtom(t.name)],
        ["ofport", String(t.ofport)],
        ["options", smap(opts)],
        ["type", "geneve"],
      ]);
    }
  }
  show += '    ovs_version: "3.1.0"\n';
  const mappings = [...new Set(s.vlans.map((v) => v.provider))]
    .sort()
    .map((p) => `${p}:br-${p}`)
    .join(",");
  const ext = new Map([
    ["hostname", dp.node],
    ["ovn-bridge-mappings", mappings],
    ["ovn-encap-ip", node?.internalIp ?? ""],
    ["ovn-encap-type", "geneve"],
    ["system-id", dp.node],
  ]);
  return {
    "ovs-vsctl-show.txt": show,
    "interfaces.txt": records(ifaces),
    "open-vswitch-external-ids.txt": `${smap(ext)}\n`,
    "bridges.txt": "",
  };
}
