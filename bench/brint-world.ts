/**
 * A 100-pod Kube-OVN-like cluster for the br-int benchmark (bench/brint.bench.ts): the
 * `ovn-nbctl` commands Kube-OVN would issue for it, ovnsim's northd over them, and the
 * southbound and node captures (`ovn-sbctl list` / `ovs-vsctl list` text, as
 * scripts/capture-sb.sh and capture-node.sh write them) that `@ovnsim/controller` reads to
 * compute one node's br-int. Deterministic: the same arguments give the same text.
 *
 * Topology (docs/kube-ovn-internals.md §10.1): router ovn-cluster; switch join with one port
 * per node; two overlay subnets (ovn-default 10.16.0.0/16, app 10.17.0.0/16); pods in equal
 * runs per node, namespace = pod number mod the policy count; NetworkPolicies as Kube-OVN writes them (a port group per
 * policy, an ingress address set, allow-related ACLs at 2001 and a default drop at 2000 on the
 * group); ClusterIP services as VIPs of cluster-tcp/udp-loadbalancer on both subnets.
 */
import type { NbDatabase, SbFiles } from "../packages/ovn/src/index.js";
import { formatLflowList, northd, parseNbctl, sbModelFromNb } from "../packages/ovn/src/index.js";

export interface ClusterShape {
  readonly pods: number;
  readonly nodes: number;
  readonly policies: number;
  readonly services: number;
}

export const DEFAULT_SHAPE: ClusterShape = { pods: 100, nodes: 4, policies: 10, services: 20 };

export interface Pod {
  readonly name: string;
  readonly ip: string;
  readonly mac: string;
  readonly node: string;
  readonly subnet: string;
}

export interface Cluster {
  readonly nbctl: string;
  readonly pods: readonly Pod[];
  readonly nodes: readonly string[];
  /** Service VIPs (ip, port) with their backends. */
  readonly vips: readonly { readonly ip: string; readonly port: number; readonly backends: readonly Pod[] }[];
}

const hex2 = (n: number): string => n.toString(16).padStart(2, "0");

/** The ovn-nbctl script of the cluster. */
export function clusterNbctl(shape: ClusterShape = DEFAULT_SHAPE): Cluster {
  const L: string[] = [];
  const nodes = Array.from({ length: shape.nodes }, (_, i) => `node${i + 1}`);
  L.push(
    "set nb_global . options:ls_dnat_mod_dl_dst=true options:use_ct_inv_match=false options:ls_ct_skip_dst_lport_ips=true",
  );
  L.push("lr-add ovn-cluster");
  L.push("ls-add join");
  L.push("lrp-add ovn-cluster ovn-cluster-join 0a:58:64:40:00:01 100.64.0.1/16");
  L.push(
    "lsp-add join join-ovn-cluster -- lsp-set-type join-ovn-cluster router -- lsp-set-addresses join-ovn-cluster router -- lsp-set-options join-ovn-cluster router-port=ovn-cluster-join",
  );
  nodes.forEach((n, i) => {
    L.push(`chassis-add ${n} geneve 172.18.0.${i + 2}`);
    L.push(
      `lsp-add join node-${n} -- lsp-set-addresses node-${n} "0a:58:64:40:00:${hex2(i + 2)} 100.64.0.${i + 2}"`,
    );
    L.push(`lsp-bind node-${n} ${n}`);
  });
  const subnets = [
    { name: "ovn-default", o2: 16 },
    { name: "app", o2: 17 },
  ];
  for (const s of subnets) {
    L.push(`ls-add ${s.name}`);
    L.push(`lrp-add ovn-cluster ovn-cluster-${s.name} 0a:58:0a:${hex2(s.o2)}:00:01 10.${s.o2}.0.1/16`);
    L.push(
      `lsp-add ${s.name} ${s.name}-ovn-cluster -- lsp-set-type ${s.name}-ovn-cluster router -- lsp-set-addresses ${s.name}-ovn-cluster router -- lsp-set-options ${s.name}-ovn-cluster router-port=ovn-cluster-${s.name}`,
    );
  }
  const pods: Pod[] = [];
  for (let i = 0; i < shape.pods; i++) {
    // Pods in blocks of ten: three blocks in five on ovn-default, the rest on app.
    const s = Math.floor(i / 10) % 5 < 3 ? subnets[0]! : subnets[1]!;
    const host = 10 + i;
    const ip = `10.${s.o2}.${host >> 8}.${host & 255}`;
    const mac = `0a:58:0a:${hex2(s.o2)}:${hex2(host >> 8)}:${hex2(host & 255)}`;
    const name = `pod${i}.ns${i % shape.policies}`;
    const node = nodes[Math.floor((i * nodes.length) / shape.pods)]!;
    pods.push({ name, ip, mac, node, subnet: s.name });
    L.push(
      `lsp-add ${s.name} ${name} -- lsp-set-addresses ${name} "${mac} ${ip}" -- lsp-set-port-security ${name} "${mac} ${ip}"`,
    );
    L.push(`lsp-bind ${name} ${node}`);
  }
  L.push("lr-route-add ovn-cluster 0.0.0.0/0 100.64.0.1");
  for (const s of subnets) L.push(`lr-policy-add ovn-cluster 31000 "ip4.dst == 10.${s.o2}.0.0/16" allow`);
  L.push('lr-policy-add ovn-cluster 31000 "ip4.dst == 100.64.0.0/16" allow');
  nodes.forEach((_, i) => {
    L.push(`lr-policy-add ovn-cluster 30000 "ip4.dst == 172.18.0.${i + 2}" reroute 100.64.0.${i + 2}`);
  });
  // NetworkPolicies: namespace k's pods are the group; ingress from namespace k+1 on 8080.
  for (let k = 0; k < shape.policies; k++) {
    const pg = `np.ingress.ns${k}`;
    const members = pods.filter((_, i) => i % shape.policies === k).map((p) => p.name);
    L.push(`pg-add ${pg} ${members.join(" ")}`);
    const from = pods
      .filter((_, i) => i % shape.policies === (k + 1) % shape.policies)
      .map((p) => `"${p.ip}"`);
    const as = `np.ingress.ns${k}.allow.IPv4.0`;
    L.push(`create address_set name=${as} addresses='${from.join(",")}'`);
    L.push(
      `--type=port-group acl-add ${pg} to-lport 2001 'outport == @${pg} && ip4 && ip4.src == $${as} && tcp.dst == 8080' allow-related`,
    );
    L.push(`--type=port-group acl-add ${pg} to-lport 2000 'outport == @${pg} && ip' drop`);
  }
  // ClusterIP services: VIP 10.96.0.<10+j>:<80|53>, three backends each.
  const vips: { ip: string; port: number; backends: Pod[] }[] = [];
  for (let j = 0; j < shape.services; j++) {
    const ip = `10.96.0.${10 + j}`;
    const port = j % 4 === 3 ? 53 : 80;
    const backends = [0, 1, 2].map((b) => pods[(j * 3 + b * 7) % pods.length]!);
    vips.push({ ip, port, backends });
    const proto = port === 53 ? "udp" : "tcp";
    const lb = `cluster-${proto}-loadbalancer`;
    L.push(`lb-add ${lb} ${ip}:${port} ${backends.map((b) => `${b.ip}:${port}`).join(",")} ${proto}`);
  }
  for (const s of subnets)
    for (const lb of ["cluster-tcp-loadbalancer", "cluster-udp-loadbalancer"])
      L.push(`ls-lb-add ${s.name} ${lb}`);
  return { nbctl: `${L.join("\n")}\n`, pods, nodes, vips };
}

/** A deterministic uuid from a counter (the captures only need them unique and stable). */
function uuidGen(): (what: string) => string {
  let n = 0;
  return (what: string) => {
    n++;
    let h = 0x811c9dc5;
    for (const c of `${what}/${n}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193);
    const a = (h >>> 0).toString(16).padStart(8, "0");
    return `${a}-${hex2(n >> 8)}${hex2(n & 255)}-4000-8000-${n.toString(16).padStart(12, "0")}`;
  };
}

/** An atom as `ovn-sbctl list` prints it: bare when it is a simple word, else quoted. */
const q = (s: string): string => (/^[A-Za-z0-9_.:/-]+$/.test(s) && !/^\d+$/.test(s) ? s : JSON.stringify(s));
const setOf = (xs: readonly string[]): string => `[${xs.map(q).join(", ")}]`;
const mapOf = (m: Iterable<readonly [string, string]>): string =>
  `{${[...m].map(([k, v]) => `${q(k)}=${q(v)}`).join(", ")}}`;
const record = (cols: readonly (readonly [string, string])[]): string =>
  `${cols.map(([c, v]) => `${c.padEnd(20)}: ${v}`).join("\n")}\n`;
const table = (recs: readonly string[]): string => recs.join("\n");

export interface Captures {
  readonly db: NbDatabase;
  readonly sb: SbFiles;
  readonly node: SbFiles;
  readonly lflows: number;
  /** br-int ofport of each local pod. */
  readonly ofports: ReadonlyMap<string, number>;
  /** br-int ofport of the Geneve tunnel to each other node. */
  readonly tunnels: ReadonlyMap<string, number>;
}

/** northd over the cluster's NB, then the SB and `node`'s captures. */
export function clusterCaptures(c: Cluster, node: string): Captures {
  const db = parseNbctl(c.nbctl, { file: "brint-cluster.nbctl" });
  // ovn-23.03: the release @ovnsim/controller models (Kube-OVN 1.15 ships OVN 24.03, whose
  // logical stages no longer fit ovn-controller 23.03's OpenFlow table layout).
  const nd = northd(db, "ovn-23.03");
  const model = sbModelFromNb(db, nd);
  const uuid = uuidGen();
  const flows = model.flows;
  const dpUuid = new Map(model.datapaths.map((d) => [d.name, d.uuid]));
  const encapUuid = new Map(c.nodes.map((n) => [n, uuid(`encap-${n}`)]));
  const chassisUuid = new Map(c.nodes.map((n) => [n, uuid(`chassis-${n}`)]));
  const pbUuid = new Map(model.ports.map((p) => [p.name, uuid(`pb-${p.name}`)]));
  const nodeIp = (n: string): string => `172.18.0.${c.nodes.indexOf(n) + 2}`;

  const sb: Record<string, string> = {
    // northd's flows carry uuids (ovn-controller's cookies are their first 32 bits).
    "lflow-list.txt": formatLflowList({ flows, datapaths: model.datapaths }, { uuid: true }),
    "datapath-binding.txt": table(
      model.datapaths.map((d) =>
        record([
          ["_uuid", d.uuid],
          ["external_ids", mapOf([["name", d.name]])],
          ["load_balancers", "[]"],
          ["tunnel_key", String(d.tunnelKey)],
        ]),
      ),
    ),
    "encap.txt": table(
      c.nodes.map((n) =>
        record([
          ["_uuid", encapUuid.get(n)!],
          ["chassis_name", n],
          ["ip", JSON.stringify(nodeIp(n))],
          ["options", '{csum="true"}'],
          ["type", "geneve"],
        ]),
      ),
    ),
    "chassis.txt": table(
      c.nodes.map((n) =>
        record([
          ["_uuid", chassisUuid.get(n)!],
          ["encaps", `[${encapUuid.get(n)!}]`],
          ["hostname", n],
          ["name", n],
        ]),
      ),
    ),
    "port-binding.txt": table(
      model.ports.map((p) =>
        record([
          ["_uuid", pbUuid.get(p.name)!],
          ["chassis", p.chassis !== undefined ? chassisUuid.get(p.chassis)! : "[]"],
          ["datapath", dpUuid.get(p.datapath)!],
          ["external_ids", "{}"],
          ["logical_port", q(p.name)],
          ["mac", setOf(p.mac)],
          ["options", mapOf(p.options)],
          ["port_security", setOf(p.portSecurity)],
          ["tag", "[]"],
          ["tunnel_key", String(p.tunnelKey)],
          ["type", JSON.stringify(p.type)],
          ["up", p.chassis !== undefined ? "true" : "false"],
        ]),
      ),
    ),
    "multicast-group.txt": table(
      model.mcGroups.map((g) =>
        record([
          ["_uuid", uuid(`mc-${g.datapath}-${g.name}`)],
          ["datapath", dpUuid.get(g.datapath)!],
          ["name", g.name],
          ["ports", `[${g.ports.map((p) => pbUuid.get(p)!).join(", ")}]`],
          ["tunnel_key", String(g.tunnelKey)],
        ]),
      ),
    ),
    "address-set.txt": table(
      [...model.addressSets].map(([name, addrs]) =>
        record([
          ["_uuid", uuid(`as-${name}`)],
          ["addresses", setOf(addrs)],
          ["name", q(name)],
        ]),
      ),
    ),
    "port-group.txt": table(
      [...model.portGroups].map(([name, ports]) =>
        record([
          ["_uuid", uuid(`pg-${name}`)],
          ["name", q(name)],
          ["ports", setOf(ports)],
        ]),
      ),
    ),
    "load-balancer.txt": table(
      db.loadBalancers.map((lb) =>
        record([
          ["_uuid", uuid(`lb-${lb.name}`)],
          ["name", q(lb.name)],
          ["options", "{}"],
          ["protocol", lb.protocol ?? "tcp"],
          ["vips", mapOf(Object.entries(lb.vips))],
        ]),
      ),
    ),
    "mac-binding.txt": "",
    "fdb.txt": "",
  };

  // The node: br-int with its local pods (ofports from 1 in pod order) and a Geneve port per
  // other node, as ovn-controller creates them (ovn-<chassis>-0, options:remote_ip).
  const ofports = new Map<string, number>();
  const tunnels = new Map<string, number>();
  const ifaces: string[] = [];
  const show: string[] = [
    "00000000-0000-4000-8000-000000000000",
    "    Bridge br-int",
    "        fail_mode: secure",
  ];
  let ofp = 1;
  const iface = (
    name: string,
    type: string,
    port: number,
    ext: [string, string][],
    opts: [string, string][],
  ) => {
    ifaces.push(
      record([
        ["_uuid", uuid(`if-${name}`)],
        ["external_ids", mapOf(ext)],
        ["name", q(name)],
        ["ofport", String(port)],
        ["options", mapOf(opts)],
        ["type", type === "" ? '""' : type],
      ]),
    );
    show.push(`        Port ${q(name)}`, `            Interface ${q(name)}`);
    if (type !== "") show.push(`                type: ${type}`);
    if (opts.length) show.push(`                options: ${mapOf(opts)}`);
  };
  for (const p of c.pods) {
    if (p.node !== node) continue;
    const dev = `veth${ofp}`;
    ofports.set(p.name, ofp);
    iface(dev, "", ofp++, [["iface-id", p.name]], []);
  }
  for (const n of c.nodes) {
    if (n === node) continue;
    tunnels.set(n, ofp);
    iface(
      `ovn-${n}-0`,
      "geneve",
      ofp++,
      [["ovn-chassis-id", n]],
      [
        ["csum", "true"],
        ["key", "flow"],
        ["remote_ip", nodeIp(n)],
      ],
    );
  }
  show.push("        Port br-int", "            Interface br-int", "                type: internal");
  ifaces.push(
    record([
      ["_uuid", uuid("if-br-int")],
      ["external_ids", "{}"],
      ["name", "br-int"],
      ["ofport", "65534"],
      ["options", "{}"],
      ["type", "internal"],
    ]),
  );
  const nodeFiles: Record<string, string> = {
    "interfaces.txt": table(ifaces),
    "ovs-vsctl-show.txt": `${show.join("\n")}\n`,
    "bridges.txt": record([
      ["_uuid", uuid("br-int")],
      ["external_ids", "{}"],
      ["fail_mode", "secure"],
      ["name", "br-int"],
    ]),
    "open-vswitch-external-ids.txt": mapOf([
      ["ovn-encap-ip", nodeIp(node)],
      ["ovn-encap-type", "geneve"],
      ["system-id", node],
    ]),
  };
  return { db, sb, node: nodeFiles, lflows: flows.length, ofports, tunnels };
}
