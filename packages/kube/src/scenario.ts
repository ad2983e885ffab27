/**
 * Manifests → resolved Scenario. Mirrors what the cluster's controllers decide before a packet
 * flows: Kube-OVN's IPAM (pkg/ipam: lowest free address, skipping excludeIps, the gateway, the
 * network and broadcast addresses), the scheduler (replaced by a documented deterministic
 * placement), MetalLB's allocator (internal/allocator AllocateFromPool: first free address of
 * the pool in pool order) and kube-ovn-controller's flags (pkg/controller/config.go defaults).
 *
 * Deterministic choices where the real cluster is random or historical:
 * - Deployment pods are named `<deployment>-<i>` (i = 0..replicas-1) and placed round-robin
 *   over the nodes sorted by name, starting at the first node for each Deployment; bare Pods
 *   without nodeName follow one shared round-robin in (namespace, name) order.
 * - IPAM runs in that order: pods with a fixed `ovn.kubernetes.io/ip_address` first, then
 *   Deployments by (namespace, name), then bare Pods by (namespace, name).
 * - A pod MAC is Kube-OVN's `00:00:00` prefix followed by the IP's last three bytes, unless
 *   `ovn.kubernetes.io/mac_address` says otherwise.
 * - Services without status.loadBalancer get MetalLB addresses in (namespace, name) order;
 *   pools are tried in name order (Go map order in MetalLB, so any order is faithful).
 */
import {
  SimError,
  formatIp4,
  formatIp6,
  inCidr4,
  parseCidr4,
  parseIp4,
  parseIp6,
  parseMac,
  plenToMask4,
} from "@ovnsim/packet";
import { buildCluster, clusterFlags } from "./cluster.js";
import {
  inRanges,
  inRanges6,
  parseExcludeIp,
  parseExcludeIp6,
  parsePoolAddress,
  parsePoolAddress6,
} from "./ipv4.js";
import type {
  ClientSpec,
  ControllerConfig,
  Ip4Range,
  Ip6Range,
  L2AdvertisementSpec,
  L4Proto,
  NodeSpec,
  PhysicalSpec,
  PodSpec,
  PoolSpec,
  ProviderNetworkSpec,
  RouterSpec,
  Scenario,
  ServicePort,
  ServiceSpec,
  Source,
  SubnetSpec,
  SwitchPortSpec,
  SwitchSpec,
  VlanSpec,
} from "./types.js";
import { type KubeObject, isRecord } from "./yaml.js";

export const LOGICAL_SWITCH_ANNOTATION = "ovn.kubernetes.io/logical_switch";
export const IP_ADDRESS_ANNOTATION = "ovn.kubernetes.io/ip_address";
export const MAC_ADDRESS_ANNOTATION = "ovn.kubernetes.io/mac_address";
export const SCENARIO_API_VERSION = "ovnsim.dev/v1alpha1";
export const DEFAULT_CLIENT_IP = "192.0.2.10";

const DEFAULT_NODES = ["node1", "node2", "node3"];

/** Small typed accessor over one object's raw data; errors name the object and its line. */
export class Obj {
  constructor(readonly o: KubeObject) {}
  get where(): Source {
    return { file: this.o.file, line: this.o.line };
  }
  err(
    code: "BAD_VALUE" | "PARSE_ERROR" | "UNKNOWN_OBJECT" | "CONFLICT" | "DUPLICATE",
    msg: string,
  ): SimError {
    return new SimError(code, `${this.o.kind} ${this.o.name}: ${msg}`, this.where);
  }
  at(path: string): unknown {
    let v: unknown = this.o.raw;
    for (const k of path.split(".")) {
      if (!isRecord(v)) return undefined;
      v = v[k];
    }
    return v;
  }
  str(path: string, def?: string): string | undefined {
    const v = this.at(path);
    if (v === undefined || v === null) return def;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    if (typeof v !== "string") throw this.err("BAD_VALUE", `${path} must be a string`);
    return v;
  }
  bool(path: string, def: boolean): boolean {
    const v = this.at(path);
    if (v === undefined || v === null) return def;
    if (typeof v === "boolean") return v;
    if (v === "true") return true;
    if (v === "false") return false;
    throw this.err("BAD_VALUE", `${path}: ${JSON.stringify(v)} is not a boolean`);
  }
  int(path: string, def: number | undefined, min: number, max: number): number | undefined {
    const v = this.at(path);
    if (v === undefined || v === null) return def;
    const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > max) {
      throw this.err("BAD_VALUE", `${path}: ${JSON.stringify(v)} is not an integer in ${min}..${max}`);
    }
    return n;
  }
  strList(path: string): string[] {
    const v = this.at(path);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw this.err("BAD_VALUE", `${path} must be a list`);
    return v.map((x, i) => {
      if (typeof x === "string") return x;
      if (typeof x === "number") return String(x);
      throw this.err("BAD_VALUE", `${path}[${i}] must be a string`);
    });
  }
  list(path: string): unknown[] {
    const v = this.at(path);
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw this.err("BAD_VALUE", `${path} must be a list`);
    return v;
  }
  labels(path: string): Record<string, string> {
    const v = this.at(path);
    if (v === undefined || v === null) return {};
    if (!isRecord(v)) throw this.err("BAD_VALUE", `${path} must be a mapping`);
    const out: Record<string, string> = {};
    for (const [k, x] of Object.entries(v)) {
      if (typeof x !== "string" && typeof x !== "number" && typeof x !== "boolean") {
        throw this.err("BAD_VALUE", `${path}.${k} must be a string`);
      }
      out[k] = String(x);
    }
    return out;
  }
  ip4(path: string, v: string): number {
    try {
      return parseIp4(v, path);
    } catch (e) {
      throw this.err("BAD_VALUE", (e as Error).message);
    }
  }
}

const byNsName = (a: { namespace?: string | undefined; name: string }, b: typeof a): number =>
  (a.namespace ?? "").localeCompare(b.namespace ?? "") || a.name.localeCompare(b.name);

function wrap<T>(o: Obj, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof SimError && e.file === undefined) throw o.err(e.code as "BAD_VALUE", e.message);
    throw e;
  }
}

/** Parses kube-ovn-controller's args (`--flag`, `--flag=value`, `$(ENV)` expanded). */
export function controllerFromArgs(
  args: readonly string[],
  image: string | undefined,
  env: Readonly<Record<string, string>> = {},
  source?: Source,
): ControllerConfig {
  const flags = new Map<string, string>();
  for (const a of args) {
    for (const tok of a.split(/\s+/)) {
      const m = /^--?([A-Za-z0-9-]+)(?:=(.*))?$/.exec(tok);
      if (!m) continue;
      let v = m[2] ?? "true";
      v = v.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_s, n: string) => env[n] ?? "");
      flags.set(m[1]!, v);
    }
  }
  const b = (name: string, def: boolean): boolean => {
    const v = flags.get(name);
    if (v === undefined || v === "") return def;
    const l = v.toLowerCase();
    if (l === "true" || l === "1" || l === "t") return true;
    if (l === "false" || l === "0" || l === "f") return false;
    throw new SimError("BAD_VALUE", `kube-ovn-controller: --${name}=${v} is not a boolean`, source ?? {});
  };
  const ver = versionFromImage(image);
  return {
    release: ver.release,
    version: ver.version,
    vipNodeMarkerSupported: ver.marker,
    enableOvnLbPreferLocal: b("enable-ovn-lb-prefer-local", false),
    lsCtSkipDstLportIps: b("ls-ct-skip-dst-lport-ips", true),
    lsDnatModDlDst: b("ls-dnat-mod-dl-dst", true),
    enableLb: b("enable-lb", true),
    source,
  };
}

/** Image tag → release profile. No tag / `latest` / `master` → 1.15 with the VIP-node marker. */
export function versionFromImage(image: string | undefined): {
  release: "1.14" | "1.15";
  version: string | undefined;
  marker: boolean;
} {
  const tag = image?.includes(":") ? image.slice(image.lastIndexOf(":") + 1) : undefined;
  const m = tag ? /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(tag) : null;
  if (!m) return { release: "1.15", version: tag, marker: true };
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = Number(m[3] ?? 0);
  const release = major > 1 || minor >= 15 ? "1.15" : "1.14";
  const marker = major > 1 || minor >= 16 || (minor === 15 && patch >= 20);
  return { release, version: tag, marker };
}

export const DEFAULT_CONTROLLER: ControllerConfig = controllerFromArgs([], undefined);

function parseSubnet(o: Obj): SubnetSpec {
  const cidr = o.str("spec.cidrBlock");
  if (!cidr) throw o.err("BAD_VALUE", "spec.cidrBlock is required");
  const v4 = cidr.split(",").find((c) => !c.includes(":"));
  if (!v4) throw o.err("BAD_VALUE", `spec.cidrBlock: "${cidr}" has no IPv4 CIDR (IPv6 is not modelled)`);
  const c = wrap(o, () => parseCidr4(v4.trim(), "spec.cidrBlock"));
  if (c.plen > 30) throw o.err("BAD_VALUE", `spec.cidrBlock: "${cidr}" is too small`);
  const network = (c.ip & plenToMask4(c.plen)) >>> 0;
  const gwText = o
    .str("spec.gateway")
    ?.split(",")
    .find((g) => !g.includes(":"));
  const gatewayIp = gwText ? o.ip4("spec.gateway", gwText.trim()) : network + 1;
  if (!inCidr4(gatewayIp, { ip: network, plen: c.plen })) {
    throw o.err("BAD_VALUE", `spec.gateway ${formatIp4(gatewayIp)} is outside ${v4}`);
  }
  const excludeIps = o.strList("spec.excludeIps");
  const excluded = excludeIps.flatMap((e, i) =>
    e.includes(":") ? [] : [wrap(o, () => parseExcludeIp(e, `spec.excludeIps[${i}]`))],
  );
  const excluded6 = excludeIps.flatMap((e, i) =>
    e.includes(":") ? [wrap(o, () => parseExcludeIp6(e, `spec.excludeIps[${i}]`))] : [],
  );
  return {
    name: o.o.name,
    cidr: `${formatIp4(network)}/${c.plen}`,
    network,
    plen: c.plen,
    gateway: formatIp4(gatewayIp),
    gatewayIp,
    excludeIps,
    excluded,
    excluded6,
    provider: o.str("spec.provider", "ovn")!,
    vlan: o.str("spec.vlan") || undefined,
    namespaces: o.strList("spec.namespaces"),
    enableExternalLBAddress: o.bool("spec.enableExternalLBAddress", false),
    natOutgoing: o.bool("spec.natOutgoing", false),
    u2oInterconnection: o.bool("spec.u2oInterconnection", false),
    u2oInterconnectionMac: o.str("status.u2oInterconnectionMAC") || undefined,
    implicit: false,
    source: o.where,
  };
}

function implicitDefaultSubnet(defaultCidr: string): SubnetSpec {
  const v4 = defaultCidr.split(",").find((c) => !c.includes(":")) ?? "10.16.0.0/16";
  const c = parseCidr4(v4.trim(), "--default-cidr");
  const network = (c.ip & plenToMask4(c.plen)) >>> 0;
  return {
    name: "ovn-default",
    cidr: `${formatIp4(network)}/${c.plen}`,
    network,
    plen: c.plen,
    gateway: formatIp4(network + 1),
    gatewayIp: network + 1,
    excludeIps: [],
    excluded: [],
    excluded6: [],
    provider: "ovn",
    vlan: undefined,
    namespaces: [],
    enableExternalLBAddress: false,
    natOutgoing: true,
    u2oInterconnection: false,
    u2oInterconnectionMac: undefined,
    implicit: true,
    source: undefined,
  };
}

function l4proto(o: Obj, v: string | undefined, path: string): L4Proto {
  const p = (v ?? "TCP").toLowerCase();
  if (p === "tcp" || p === "udp" || p === "sctp") return p;
  throw o.err("BAD_VALUE", `${path}: "${v}" is not TCP, UDP or SCTP`);
}

interface PodDraft {
  name: string;
  namespace: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  nodeName: string | undefined;
  owner: string | undefined;
  hostNetwork: boolean;
  source: Source;
}

/**
 * Resolves parsed objects into a Scenario. Unknown kinds are ignored (kubectl applies them
 * elsewhere). Its name is its `Scenario` object's, else `name` (the loader passes the directory
 * the manifests came from), else "scenario".
 */
export function buildScenario(
  objects: readonly KubeObject[],
  files: readonly string[] = [],
  name = "scenario",
): Scenario {
  const seen = new Set<string>();
  for (const ob of objects) {
    const key = `${ob.kind}/${ob.namespace ?? ""}/${ob.name}`;
    if (seen.has(key)) {
      throw new SimError("DUPLICATE", `${ob.kind} ${ob.name} is defined twice`, {
        file: ob.file,
        line: ob.line,
      });
    }
    seen.add(key);
  }
  const of = (kind: string, group?: string): Obj[] =>
    objects
      .filter((x) => x.kind === kind && (group === undefined || x.apiVersion.startsWith(group)))
      .map((x) => new Obj(x));

  // kube-ovn-controller
  let controller = DEFAULT_CONTROLLER;
  let flags = clusterFlags([]);
  const workloadDeployments: Obj[] = [];
  for (const d of of("Deployment")) {
    if (d.o.name === "kube-ovn-controller") {
      const containers = d.list("spec.template.spec.containers");
      const c =
        containers.find((x) => isRecord(x) && x.name === "kube-ovn-controller") ??
        containers.find((x) => isRecord(x));
      if (!isRecord(c)) throw d.err("BAD_VALUE", "spec.template.spec.containers is empty");
      const args = [...asStrings(c.command), ...asStrings(c.args)];
      const env: Record<string, string> = {};
      if (Array.isArray(c.env)) {
        for (const e of c.env)
          if (isRecord(e) && typeof e.name === "string") env[e.name] = String(e.value ?? "");
      }
      controller = controllerFromArgs(args, typeof c.image === "string" ? c.image : undefined, env, d.where);
      flags = wrap(d, () => clusterFlags(args, env));
    } else {
      workloadDeployments.push(d);
    }
  }

  // ovnsim Scenario
  const scen = of("Scenario").filter((s) => s.o.apiVersion.startsWith("ovnsim"));
  if (scen.length > 1) throw scen[1]!.err("DUPLICATE", "only one ovnsim Scenario per run");
  const sc = scen[0];
  if (sc && !controller.source) {
    const ver = sc.str("spec.kubeOvn.version");
    if (ver) controller = { ...controller, ...fromVersion(ver) };
  }

  // Subnets, Vlans, ProviderNetworks
  const subnets = of("Subnet", "kubeovn.io").map(parseSubnet);
  if (!subnets.some((s) => s.name === "ovn-default")) subnets.push(implicitDefaultSubnet(flags.defaultCidr));
  const vlans: VlanSpec[] = of("Vlan", "kubeovn.io").map((o) => ({
    name: o.o.name,
    id: o.int("spec.id", 0, 0, 4095)!,
    provider: o.str("spec.provider") ?? o.str("spec.providerInterfaceName") ?? "",
    source: o.where,
  }));
  for (const v of vlans) {
    if (v.provider === "") {
      throw new SimError("BAD_VALUE", `Vlan ${v.name}: spec.provider is required`, v.source);
    }
  }
  const providerNetworks: ProviderNetworkSpec[] = of("ProviderNetwork", "kubeovn.io").map((o) => ({
    name: o.o.name,
    defaultInterface: o.str("spec.defaultInterface") ?? "",
    customInterfaces: o.list("spec.customInterfaces").map((ci, i) => {
      if (!isRecord(ci) || typeof ci.interface !== "string") {
        throw o.err("BAD_VALUE", `spec.customInterfaces[${i}].interface must be a string`);
      }
      return { interface: ci.interface, nodes: asStrings(ci.nodes) };
    }),
    excludeNodes: o.strList("spec.excludeNodes"),
    source: o.where,
  }));
  for (const s of subnets) {
    if (s.vlan !== undefined && !vlans.some((v) => v.name === s.vlan)) {
      throw new SimError(
        "UNKNOWN_OBJECT",
        `Subnet ${s.name}: spec.vlan "${s.vlan}" names no Vlan`,
        s.source ?? {},
      );
    }
  }
  for (const v of vlans) {
    if (providerNetworks.length > 0 && !providerNetworks.some((p) => p.name === v.provider)) {
      throw new SimError(
        "UNKNOWN_OBJECT",
        `Vlan ${v.name}: provider "${v.provider}" names no ProviderNetwork`,
        v.source,
      );
    }
  }

  // MetalLB
  const pools: PoolSpec[] = of("IPAddressPool", "metallb.io")
    .map((o) => {
      const addresses = o.strList("spec.addresses");
      const ranges: Ip4Range[] = [];
      addresses.forEach((a, i) => {
        if (a.includes(":")) wrap(o, () => parsePoolAddress6(a, `spec.addresses[${i}]`));
        else ranges.push(wrap(o, () => parsePoolAddress(a, `spec.addresses[${i}]`)));
      });
      return {
        name: o.o.name,
        namespace: o.o.namespace ?? "metallb-system",
        addresses,
        ranges,
        autoAssign: o.bool("spec.autoAssign", true),
        avoidBuggyIPs: o.bool("spec.avoidBuggyIPs", false),
        source: o.where,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
  const l2Advertisements: L2AdvertisementSpec[] = of("L2Advertisement", "metallb.io").map((o) => ({
    name: o.o.name,
    namespace: o.o.namespace ?? "metallb-system",
    ipAddressPools: o.strList("spec.ipAddressPools"),
    interfaces: o.strList("spec.interfaces"),
    nodeSelectors: o.list("spec.nodeSelectors").map((ns) => {
      const ml = isRecord(ns) ? ns.matchLabels : undefined;
      const out: Record<string, string> = {};
      if (isRecord(ml)) for (const [k, v] of Object.entries(ml)) out[k] = String(v);
      return out;
    }),
    source: o.where,
  }));
  for (const ad of l2Advertisements) {
    for (const p of ad.ipAddressPools) {
      if (!pools.some((x) => x.name === p)) {
        throw new SimError(
          "UNKNOWN_OBJECT",
          `L2Advertisement ${ad.name}: pool "${p}" does not exist`,
          ad.source,
        );
      }
    }
  }

  // Nodes
  const nodes = buildNodes(of("Node"), sc, subnets, vlans, providerNetworks);
  const nodeNames = nodes.map((n) => n.name);

  // Pods
  const drafts: PodDraft[] = [];
  for (const d of workloadDeployments.sort((a, b) => byNsName(a.o, b.o))) {
    if (d.bool("spec.template.spec.hostNetwork", false)) continue;
    const replicas = d.int("spec.replicas", 1, 0, 10000)!;
    const ns = d.o.namespace ?? "default";
    for (let i = 0; i < replicas; i++) {
      drafts.push({
        name: `${d.o.name}-${i}`,
        namespace: ns,
        labels: d.labels("spec.template.metadata.labels"),
        annotations: d.labels("spec.template.metadata.annotations"),
        nodeName: d.str("spec.template.spec.nodeName") ?? nodeNames[i % nodeNames.length],
        owner: d.o.name,
        hostNetwork: false,
        source: d.where,
      });
    }
  }
  let rr = 0;
  for (const p of of("Pod").sort((a, b) => byNsName(a.o, b.o))) {
    if (p.bool("spec.hostNetwork", false)) continue;
    let nodeName = p.str("spec.nodeName");
    if (!nodeName) nodeName = nodeNames[rr++ % nodeNames.length];
    drafts.push({
      name: p.o.name,
      namespace: p.o.namespace ?? "default",
      labels: p.labels("metadata.labels"),
      annotations: p.labels("metadata.annotations"),
      nodeName,
      owner: undefined,
      hostNetwork: false,
      source: p.where,
    });
  }
  const pods = allocatePods(drafts, subnets, nodeNames);

  // Services (+ MetalLB allocation)
  const services = buildServices(of("Service"), pools, pods);

  const physical = buildPhysical(sc, nodes, subnets, vlans);
  const cluster = buildCluster(objects, flags, subnets, pods, services, nodes);
  return {
    name: sc?.o.name ?? name,
    controller,
    subnets,
    vlans,
    providerNetworks,
    pools,
    l2Advertisements,
    services,
    pods,
    nodes,
    physical,
    files,
    cluster,
  };
}

function fromVersion(v: string): Pick<ControllerConfig, "release" | "version" | "vipNodeMarkerSupported"> {
  const r = versionFromImage(`kube-ovn:${v}`);
  return { release: r.release, version: r.version, vipNodeMarkerSupported: r.marker };
}

function asStrings(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.filter((x) => typeof x === "string" || typeof x === "number").map(String);
}

function allocatePods(
  drafts: PodDraft[],
  subnets: readonly SubnetSpec[],
  nodeNames: readonly string[],
): PodSpec[] {
  const used = new Map<string, Set<number>>();
  const subnetOf = (d: PodDraft): SubnetSpec => {
    const ann = d.annotations[LOGICAL_SWITCH_ANNOTATION];
    const s = ann
      ? subnets.find((x) => x.name === ann)
      : (subnets.find((x) => x.namespaces.includes(d.namespace)) ??
        subnets.find((x) => x.name === "ovn-default"));
    if (!s) {
      throw new SimError(
        "UNKNOWN_OBJECT",
        `Pod ${d.namespace}/${d.name}: ${LOGICAL_SWITCH_ANNOTATION} "${ann}" names no Subnet`,
        d.source,
      );
    }
    return s;
  };
  const names = new Set<string>();
  for (const d of drafts) {
    const k = `${d.namespace}/${d.name}`;
    if (names.has(k)) throw new SimError("DUPLICATE", `Pod ${k} is defined twice`, d.source);
    names.add(k);
    if (d.nodeName !== undefined && !nodeNames.includes(d.nodeName)) {
      throw new SimError("UNKNOWN_OBJECT", `Pod ${k}: node "${d.nodeName}" does not exist`, d.source);
    }
  }
  const ips = new Map<PodDraft, number>();
  // Fixed addresses first.
  for (const d of drafts) {
    const fixed = d.annotations[IP_ADDRESS_ANNOTATION];
    if (!fixed) continue;
    const s = subnetOf(d);
    const ip = parseIp4(fixed.split(",")[0]!.split("/")[0]!.trim(), IP_ADDRESS_ANNOTATION);
    if (!inCidr4(ip, { ip: s.network, plen: s.plen })) {
      throw new SimError(
        "BAD_VALUE",
        `Pod ${d.namespace}/${d.name}: ${fixed} is outside ${s.cidr}`,
        d.source,
      );
    }
    const set = used.get(s.name) ?? new Set<number>();
    if (set.has(ip))
      throw new SimError("CONFLICT", `Pod ${d.namespace}/${d.name}: ${fixed} is taken`, d.source);
    set.add(ip);
    used.set(s.name, set);
    ips.set(d, ip);
  }
  const out: PodSpec[] = [];
  for (const d of drafts) {
    const s = subnetOf(d);
    let ip = ips.get(d);
    if (ip === undefined) {
      const set = used.get(s.name) ?? new Set<number>();
      used.set(s.name, set);
      const last = (s.network | (~plenToMask4(s.plen) >>> 0)) >>> 0;
      for (let c = s.network + 1; c < last; c++) {
        if (c === s.gatewayIp || set.has(c) || inRanges(c, s.excluded)) continue;
        ip = c;
        break;
      }
      if (ip === undefined) {
        throw new SimError(
          "CONFLICT",
          `Subnet ${s.name}: no free address for Pod ${d.namespace}/${d.name}`,
          d.source,
        );
      }
      set.add(ip);
    }
    const macAnn = d.annotations[MAC_ADDRESS_ANNOTATION];
    if (macAnn) parseMac(macAnn, MAC_ADDRESS_ANNOTATION);
    const mac =
      macAnn?.toLowerCase() ??
      `00:00:00:${[(ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].map((b) => b.toString(16).padStart(2, "0")).join(":")}`;
    out.push({
      name: d.name,
      namespace: d.namespace,
      labels: d.labels,
      node: d.nodeName ?? nodeNames[0]!,
      subnet: s.name,
      ip: formatIp4(ip),
      mac,
      lsp: `${d.name}.${d.namespace}`,
      owner: d.owner,
      source: d.source,
    });
  }
  return out;
}

function buildServices(objs: Obj[], pools: readonly PoolSpec[], pods: readonly PodSpec[]): ServiceSpec[] {
  const taken = new Set<number>();
  const taken6 = new Set<bigint>();
  // The pools' IPv6 entries (validated when the pools were read).
  const ranges6 = new Map<string, Ip6Range[]>(
    pools.map((p) => [
      p.name,
      p.addresses.filter((a) => a.includes(":")).map((a) => parsePoolAddress6(a, "spec.addresses")),
    ]),
  );
  const r6 = (p: PoolSpec): Ip6Range[] => ranges6.get(p.name) ?? [];
  const take6 = (s: Obj, ip: string) => {
    try {
      taken6.add(parseIp6(ip));
    } catch {
      throw s.err("BAD_VALUE", `"${ip}" is not an IPv6 address`);
    }
  };
  const drafts = objs.sort((a, b) => byNsName(a.o, b.o));
  const statusIps = new Map<Obj, string[]>();
  for (const s of drafts) {
    const ing = s
      .list("status.loadBalancer.ingress")
      .map((x) => (isRecord(x) && typeof x.ip === "string" ? x.ip : undefined))
      .filter((x): x is string => x !== undefined);
    for (const ip of ing)
      if (!ip.includes(":")) taken.add(s.ip4("status.loadBalancer.ingress[].ip", ip));
      else take6(s, ip);
    statusIps.set(s, ing);
  }
  return drafts.map((s) => {
    const ns = s.o.namespace ?? "default";
    const type = s.str("spec.type", "ClusterIP")!;
    const etp = s.str("spec.externalTrafficPolicy", "Cluster")!;
    if (etp !== "Local" && etp !== "Cluster") {
      throw s.err("BAD_VALUE", `spec.externalTrafficPolicy: "${etp}" is not Local or Cluster`);
    }
    const ports: ServicePort[] = s.list("spec.ports").map((p, i) => {
      if (!isRecord(p)) throw s.err("BAD_VALUE", `spec.ports[${i}] must be a mapping`);
      const po = new Obj({ ...s.o, raw: p });
      const port = po.int("port", undefined, 1, 65535);
      if (port === undefined) throw s.err("BAD_VALUE", `spec.ports[${i}].port is required`);
      const tp = p.targetPort;
      const targetPort =
        typeof tp === "number" ? tp : typeof tp === "string" && /^\d+$/.test(tp) ? Number(tp) : port;
      if (!Number.isInteger(targetPort) || targetPort < 1 || targetPort > 65535) {
        throw s.err("BAD_VALUE", `spec.ports[${i}].targetPort is not a port`);
      }
      return {
        name: typeof p.name === "string" ? p.name : undefined,
        port,
        protocol: l4proto(
          s,
          typeof p.protocol === "string" ? p.protocol : undefined,
          `spec.ports[${i}].protocol`,
        ),
        targetPort,
      };
    });
    const selector = s.labels("spec.selector");
    let vips = statusIps.get(s) ?? [];
    let vipSource: ServiceSpec["vipSource"] = vips.length > 0 ? "status" : "none";
    let pool: string | undefined;
    if (vips.length === 0 && type === "LoadBalancer") {
      const ann = s.labels("metadata.annotations");
      const wantIps = (ann["metallb.universe.tf/loadBalancerIPs"] ?? ann["metallb.io/loadBalancerIPs"] ?? "")
        .split(",")
        .map((x) => x.trim())
        .filter(Boolean);
      const lbIp = s.str("spec.loadBalancerIP");
      if (lbIp) wantIps.push(lbIp);
      const wantPool = ann["metallb.universe.tf/address-pool"] ?? ann["metallb.io/address-pool"];
      if (wantIps.length > 0) {
        vips = wantIps;
        for (const ip of wantIps)
          if (!ip.includes(":")) taken.add(s.ip4("loadBalancerIPs", ip));
          else take6(s, ip);
        vipSource = "metallb";
      } else {
        const candidates = wantPool
          ? pools.filter((p) => p.name === wantPool)
          : pools.filter((p) => p.autoAssign);
        if (wantPool && candidates.length === 0) {
          throw s.err("UNKNOWN_OBJECT", `address-pool "${wantPool}" does not exist`);
        }
        // MetalLB's ipfamily.ForService: both families when spec.ipFamilies lists two (the
        // apiserver fills it so for PreferDualStack on a dual-stack cluster) or RequireDualStack;
        // AllocateFromPool takes the first pool holding every family, the first free address of each.
        const fams = s.strList("spec.ipFamilies");
        const dual = fams.length === 2 || s.str("spec.ipFamilyPolicy") === "RequireDualStack";
        const want6 = dual || fams[0] === "IPv6";
        const want4 = dual || fams[0] !== "IPv6";
        for (const p of candidates) {
          if ((want4 && p.ranges.length === 0) || (want6 && r6(p).length === 0)) continue;
          let v4: number | undefined;
          if (want4) {
            outer: for (const r of p.ranges) {
              for (let c = r.start; c <= r.end && c - r.start < 1 << 20; c++) {
                const last = c & 0xff;
                if (p.avoidBuggyIPs && (last === 0 || last === 255)) continue;
                if (taken.has(c)) continue;
                v4 = c;
                break outer;
              }
            }
            if (v4 === undefined) continue;
          }
          let v6: bigint | undefined;
          if (want6) {
            outer6: for (const r of r6(p)) {
              for (let c = r.start; c <= r.end && c - r.start < 1n << 20n; c++) {
                if (taken6.has(c)) continue;
                v6 = c;
                break outer6;
              }
            }
            if (v6 === undefined) continue;
          }
          vips = [];
          if (v4 !== undefined) {
            taken.add(v4);
            vips.push(formatIp4(v4));
          }
          if (v6 !== undefined) {
            taken6.add(v6);
            vips.push(formatIp6(v6));
          }
          vipSource = "metallb";
          pool = p.name;
          break;
        }
      }
    }
    if (pool === undefined && vips[0] !== undefined) {
      if (!vips[0].includes(":")) {
        const ip = s.ip4("vip", vips[0]);
        pool = pools.find((p) => inRanges(ip, p.ranges))?.name;
      } else {
        const ip6 = parseIp6(vips[0]);
        pool = pools.find((p) => inRanges6(ip6, r6(p)))?.name;
      }
    }
    const hasSelector = Object.keys(selector).length > 0;
    const endpoints = hasSelector
      ? pods
          .filter((p) => p.namespace === ns && Object.entries(selector).every(([k, v]) => p.labels[k] === v))
          .map((p) => p.lsp)
      : [];
    return {
      name: s.o.name,
      namespace: ns,
      type,
      externalTrafficPolicy: etp,
      ipFamilies: s.strList("spec.ipFamilies"),
      ipFamilyPolicy: s.str("spec.ipFamilyPolicy", "SingleStack")!,
      ports,
      selector,
      vips,
      vipSource,
      pool,
      endpoints,
      source: s.where,
    };
  });
}

/** Default MAC of node i (1-based): a locally administered 52:54:00 address. */
export const nodeMac = (i: number): string => `52:54:00:0a:00:${i.toString(16).padStart(2, "0")}`;

function buildNodes(
  objs: Obj[],
  sc: Obj | undefined,
  subnets: readonly SubnetSpec[],
  vlans: readonly VlanSpec[],
  pns: readonly ProviderNetworkSpec[],
): NodeSpec[] {
  void subnets;
  void vlans;
  interface Draft {
    name: string;
    labels: Record<string, string>;
    internalIp?: string;
    source?: Source;
  }
  const drafts: Draft[] = objs.map((o) => {
    const addrs = o.list("status.addresses");
    const ip = addrs.find((a) => isRecord(a) && a.type === "InternalIP");
    return {
      name: o.o.name,
      labels: o.labels("metadata.labels"),
      ...(isRecord(ip) && typeof ip.address === "string" ? { internalIp: ip.address } : {}),
      source: o.where,
    };
  });
  const scNodes = sc ? sc.list("spec.nodes") : [];
  const overrides = new Map<string, Record<string, unknown>>();
  scNodes.forEach((n, i) => {
    if (!isRecord(n) || typeof n.name !== "string")
      throw sc!.err("BAD_VALUE", `spec.nodes[${i}].name is required`);
    overrides.set(n.name, n);
    if (!drafts.some((d) => d.name === n.name) && objs.length === 0)
      drafts.push({ name: n.name, labels: {} });
  });
  if (drafts.length === 0) for (const n of DEFAULT_NODES) drafts.push({ name: n, labels: {} });
  drafts.sort((a, b) => a.name.localeCompare(b.name));
  for (const name of overrides.keys()) {
    if (!drafts.some((d) => d.name === name))
      throw sc!.err("UNKNOWN_OBJECT", `spec.nodes: node "${name}" does not exist`);
  }
  const pn = pns[0];
  const macs = new Set<string>();
  return drafts.map((d, i) => {
    const ov = overrides.get(d.name) ?? {};
    const nicDefault =
      pn?.customInterfaces.find((c) => c.nodes.includes(d.name))?.interface ??
      (pn?.defaultInterface || "underlay0");
    const nic = typeof ov.nic === "string" ? ov.nic : nicDefault;
    const mac = typeof ov.mac === "string" ? ov.mac.toLowerCase() : nodeMac(i + 1);
    parseMac(mac, `Scenario spec.nodes ${d.name}.mac`);
    if (macs.has(mac))
      throw new SimError("DUPLICATE", `node ${d.name}: MAC ${mac} is used twice`, sc?.where ?? {});
    macs.add(mac);
    const internalIp =
      typeof ov.internalIp === "string" ? ov.internalIp : (d.internalIp ?? `172.18.0.${i + 2}`);
    parseIp4(internalIp, `node ${d.name} internalIp`);
    return {
      name: d.name,
      labels: d.labels,
      internalIp,
      nic,
      nicMac: mac,
      switch: typeof ov.switch === "string" ? ov.switch : "tor",
      switchPort: typeof ov.switchPort === "string" ? ov.switchPort : `p-${d.name}`,
      speaker: typeof ov.speaker === "boolean" ? ov.speaker : true,
      source: d.source,
    };
  });
}

function cidrField(o: Obj | undefined, v: unknown, path: string): { ip: string; plen: number } {
  if (typeof v !== "string") throw (o ?? fail()).err("BAD_VALUE", `${path} must be "IP/LEN"`);
  const c = wrap(o!, () => parseCidr4(v, path));
  return { ip: formatIp4(c.ip), plen: c.plen === 32 && !v.includes("/") ? 24 : c.plen };
}
function fail(): never {
  throw new SimError("BAD_VALUE", "bad scenario");
}

/**
 * The physical network. Defaults: one switch `tor`; the gateway router `gw` with `eth0` at the
 * underlay subnet's gateway on its VLAN and `eth1` 192.0.2.1/24 on VLAN 100; the client
 * `client` 192.0.2.10/24 behind it on VLAN 100; every node's provider NIC on a trunk port.
 */
function buildPhysical(
  sc: Obj | undefined,
  nodes: readonly NodeSpec[],
  subnets: readonly SubnetSpec[],
  vlans: readonly VlanSpec[],
): PhysicalSpec {
  const underlay = subnets.find((s) => s.vlan !== undefined) ?? subnets.find((s) => !s.implicit);
  const vlanId = underlay?.vlan ? (vlans.find((v) => v.name === underlay.vlan)?.id ?? 0) : 341;
  const routers: RouterSpec[] = [];
  const rs = sc?.list("spec.routers") ?? [];
  rs.forEach((r, i) => {
    if (!isRecord(r) || typeof r.name !== "string")
      throw sc!.err("BAD_VALUE", `spec.routers[${i}].name is required`);
    const ifs = Array.isArray(r.interfaces) ? r.interfaces : [];
    routers.push({
      name: r.name,
      interfaces: ifs.map((f, j) => {
        const path = `spec.routers[${i}].interfaces[${j}]`;
        if (!isRecord(f) || typeof f.name !== "string")
          throw sc!.err("BAD_VALUE", `${path}.name is required`);
        const c = cidrField(sc, f.ip, `${path}.ip`);
        const mac =
          typeof f.mac === "string"
            ? f.mac.toLowerCase()
            : `52:54:00:ff:${i.toString(16).padStart(2, "0")}:${(j + 1).toString(16).padStart(2, "0")}`;
        parseMac(mac, `${path}.mac`);
        const vlan = typeof f.vlan === "number" ? f.vlan : 0;
        if (!Number.isInteger(vlan) || vlan < 0 || vlan > 4094)
          throw sc!.err("BAD_VALUE", `${path}.vlan out of 0..4094`);
        const c6 = f.ip6 === undefined ? undefined : cidr6Field(sc!, f.ip6, `${path}.ip6`);
        return {
          name: f.name,
          ip: c.ip,
          plen: c.plen,
          mac,
          vlan,
          ...(c6 ? { ip6: c6.ip, plen6: c6.plen } : {}),
        };
      }),
    });
  });
  if (routers.length === 0) {
    routers.push({
      name: "gw",
      interfaces: [
        {
          name: "eth0",
          ip: underlay?.gateway ?? "10.180.204.1",
          plen: underlay?.plen ?? 24,
          mac: "52:54:00:ff:00:01",
          vlan: vlanId,
        },
        { name: "eth1", ip: "192.0.2.1", plen: 24, mac: "52:54:00:ff:00:02", vlan: 100 },
      ],
    });
  }
  const clients: ClientSpec[] = [];
  (sc?.list("spec.clients") ?? []).forEach((c, i) => {
    const path = `spec.clients[${i}]`;
    if (!isRecord(c) || typeof c.name !== "string") throw sc!.err("BAD_VALUE", `${path}.name is required`);
    const ip = cidrField(sc, c.ip, `${path}.ip`);
    const mac =
      typeof c.mac === "string"
        ? c.mac.toLowerCase()
        : `52:54:00:c0:00:${(i + 1).toString(16).padStart(2, "0")}`;
    parseMac(mac, `${path}.mac`);
    const gateway = typeof c.gateway === "string" ? c.gateway : "";
    if (gateway) parseIp4(gateway, `${path}.gateway`);
    const vlan = typeof c.vlan === "number" ? c.vlan : 100;
    if (!Number.isInteger(vlan) || vlan < 0 || vlan > 4094)
      throw sc!.err("BAD_VALUE", `${path}.vlan out of 0..4094`);
    const c6 = c.ip6 === undefined ? undefined : cidr6Field(sc!, c.ip6, `${path}.ip6`);
    let gateway6: string | undefined;
    if (c.gateway6 !== undefined) {
      if (typeof c.gateway6 !== "string")
        throw sc!.err("BAD_VALUE", `${path}.gateway6 must be an IPv6 address`);
      gateway6 = formatIp6(wrap(sc!, () => parseIp6(c.gateway6 as string, `${path}.gateway6`)));
    }
    clients.push({
      name: c.name,
      ip: ip.ip,
      plen: ip.plen,
      mac,
      gateway,
      vlan,
      ...(c6 ? { ip6: c6.ip, plen6: c6.plen } : {}),
      ...(gateway6 ? { gateway6 } : {}),
    });
  });
  if (clients.length === 0) {
    clients.push({
      name: "client",
      ip: DEFAULT_CLIENT_IP,
      plen: 24,
      mac: "52:54:00:c0:00:0a",
      gateway: "192.0.2.1",
      vlan: 100,
    });
  }
  const switches: SwitchSpec[] = [];
  (sc?.list("spec.switches") ?? []).forEach((s, i) => {
    if (!isRecord(s) || typeof s.name !== "string")
      throw sc!.err("BAD_VALUE", `spec.switches[${i}].name is required`);
    const ports: SwitchPortSpec[] = (Array.isArray(s.ports) ? s.ports : []).map((p, j) => {
      const path = `spec.switches[${i}].ports[${j}]`;
      if (!isRecord(p) || typeof p.name !== "string" || typeof p.peer !== "string") {
        throw sc!.err("BAD_VALUE", `${path} needs name and peer`);
      }
      const mode = p.mode === "access" ? "access" : "trunk";
      const tag = typeof p.vlan === "number" ? p.vlan : undefined;
      if (mode === "access" && (tag === undefined || tag < 0 || tag > 4094)) {
        throw sc!.err("BAD_VALUE", `${path}: an access port needs vlan in 0..4094`);
      }
      const trunks = Array.isArray(p.trunks) ? p.trunks.map(Number) : [];
      for (const t of trunks)
        if (!Number.isInteger(t) || t < 0 || t > 4094) throw sc!.err("BAD_VALUE", `${path}.trunks: ${t}`);
      return { name: p.name, vlanMode: mode, tag, trunks, peer: p.peer };
    });
    switches.push({ name: s.name, ports });
  });
  if (switches.length === 0) {
    const ports: SwitchPortSpec[] = [];
    for (const n of nodes) {
      ports.push({
        name: n.switchPort,
        vlanMode: "trunk",
        tag: undefined,
        trunks: [],
        peer: `${n.name}:${n.nic}`,
      });
    }
    for (const r of routers) {
      for (const f of r.interfaces) {
        ports.push({
          name: `p-${r.name}-${f.name}`,
          vlanMode: "access",
          tag: f.vlan,
          trunks: [],
          peer: `${r.name}:${f.name}`,
        });
      }
    }
    for (const c of clients) {
      ports.push({
        name: `p-${c.name}`,
        vlanMode: "access",
        tag: c.vlan,
        trunks: [],
        peer: `${c.name}:eth0`,
      });
    }
    switches.push({ name: "tor", ports });
  }
  // Every peer must name an existing device interface.
  const devices = new Set<string>([
    ...nodes.map((n) => `${n.name}:${n.nic}`),
    ...routers.flatMap((r) => r.interfaces.map((f) => `${r.name}:${f.name}`)),
    ...clients.map((c) => `${c.name}:eth0`),
  ]);
  for (const s of switches) {
    for (const p of s.ports) {
      if (!devices.has(p.peer)) {
        throw new SimError(
          "UNKNOWN_PORT",
          `switch ${s.name} port ${p.name}: peer "${p.peer}" is no device interface`,
          sc?.where ?? {},
        );
      }
    }
  }
  // The host VLAN interface on the provider bridge's internal port: with the NIC enslaved to
  // br-<provider> (a trunk for the Vlan id), only an interface on top of br-<provider> receives
  // what NORMAL floods to LOCAL; a VLAN device on the enslaved NIC itself never does.
  const prov = underlay?.vlan ? vlans.find((v) => v.name === underlay.vlan)?.provider : undefined;
  const base = prov ? `br-${prov}` : (nodes[0]?.nic ?? "underlay0");
  const iface = sc?.str("spec.metallb.interface") ?? (vlanId ? `${base}.${vlanId}` : base);
  const dot = /\.(\d+)$/.exec(iface);
  return {
    switches,
    routers,
    clients,
    metallbInterface: iface,
    metallbInterfaceVlan: dot ? Number(dot[1]) : 0,
    metallbVersion: sc?.str("spec.metallb.version") ?? "0.13.7",
  };
}

/** An "fd00::1/64" field of the Scenario (IPv6 address with prefix length). */
function cidr6Field(sc: Obj, v: unknown, path: string): { ip: string; plen: number } {
  if (typeof v !== "string" || !v.includes("/"))
    throw sc.err("BAD_VALUE", `${path} must be an IPv6 address with a prefix length (fd00::1/64)`);
  const [a, l] = v.split("/");
  const plen = Number(l);
  if (!/^\d+$/.test(l ?? "") || plen > 128) throw sc.err("BAD_VALUE", `${path}: bad prefix length`);
  return { ip: formatIp6(wrap(sc, () => parseIp6(a!, path))), plen };
}
