/**
 * The inputs of the cluster topology kube-ovn-controller builds around the seed
 * (kube-ovn-internals.md §10): controller flags (`--default-cidr`, `--node-switch-cidr`,
 * `--service-cluster-ip-range`), the Subnet fields only that topology reads (logicalGateway,
 * gatewayType/gatewayNode, private/allowSubnets, acls, the IPv6 half of a dual-stack
 * cidrBlock), Services' cluster IPs, the nodes' join addresses (Kube-OVN's IPAM on the join
 * subnet) and NetworkPolicies. Decisions a real cluster makes at random (ClusterIP allocation,
 * MACs) are made deterministically and documented in the README.
 */
import {
  SimError,
  formatIp4,
  formatIp6,
  inCidr4,
  parseCidr4,
  parseIp4,
  parseIp6,
  plenToMask6,
} from "@ovnsim/packet";
import { inRanges, inRanges6 } from "./ipv4.js";
import { Obj } from "./scenario.js";
import type {
  ClusterSpec,
  L4Proto,
  NetworkPolicySpec,
  NodeClusterSpec,
  NodeSpec,
  PodSpec,
  PolicyPeerSpec,
  PolicyPortSpec,
  PolicyRuleSpec,
  ServiceClusterSpec,
  ServiceSpec,
  Source,
  SubnetClusterSpec,
  SubnetSpec,
} from "./types.js";
import { type KubeObject, isRecord } from "./yaml.js";

/** kube-ovn-controller's defaults (pkg/controller/config.go). */
export const DEFAULT_CIDR = "10.16.0.0/16";
export const DEFAULT_JOIN_CIDR = "100.64.0.0/16";
/** Kubernetes' usual `--service-cluster-ip-range` (kubeadm). */
export const DEFAULT_SERVICE_CIDR = "10.96.0.0/12";

/** The controller flags the topology reads, from kube-ovn-controller's args. */
export interface ClusterFlags {
  readonly defaultCidr: string;
  readonly joinCidr: string;
  readonly serviceCidr: string;
  /**
   * `--enable-ecmp` (default false): kube-ovn-controller's syncSubnetCR turns spec.enableEcmp on
   * for every centralized subnet that has it off.
   */
  readonly enableEcmp: boolean;
}

export function clusterFlags(
  args: readonly string[],
  env: Readonly<Record<string, string>> = {},
): ClusterFlags {
  const flags = new Map<string, string>();
  for (const a of args) {
    for (const tok of a.split(/\s+/)) {
      // A bare boolean flag (`--enable-ecmp`) is true, as Go's flag package reads it.
      if (/^--?enable-ecmp$/.test(tok)) flags.set("enable-ecmp", "true");
      const m = /^--?([A-Za-z0-9-]+)=(.*)$/.exec(tok);
      if (m)
        flags.set(
          m[1]!,
          m[2]!.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (_s, n: string) => env[n] ?? ""),
        );
    }
  }
  const get = (k: string, d: string) => {
    const v = flags.get(k);
    return v === undefined || v === "" ? d : v;
  };
  return {
    defaultCidr: get("default-cidr", DEFAULT_CIDR),
    joinCidr: get("node-switch-cidr", DEFAULT_JOIN_CIDR),
    serviceCidr: get("service-cluster-ip-range", DEFAULT_SERVICE_CIDR),
    enableEcmp: /^(true|1|t)$/i.test(get("enable-ecmp", "false")),
  };
}

/** `a/b` IPv6 CIDR → network and plen (bigint arithmetic). */
export function parseCidr6(text: string, field = "cidr"): { ip: bigint; plen: number } {
  const [a, p, ...rest] = text.trim().split("/");
  const plen = Number(p);
  if (rest.length > 0 || p === undefined || !/^\d+$/.test(p) || plen > 128)
    throw new SimError("BAD_VALUE", `${field}: "${text}" is not an IPv6 CIDR`);
  const ip = parseIp6(a!, field);
  const mask = plen === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - plen)) - 1n);
  return { ip: ip & mask, plen };
}

export const formatCidr6 = (c: { ip: bigint; plen: number }): string => `${formatIp6(c.ip)}/${c.plen}`;

const v6Of = (list: string | undefined): string | undefined =>
  list
    ?.split(",")
    .map((x) => x.trim())
    .find((x) => x.includes(":"));

function labelsAt(o: Obj, path: string): Record<string, string> | undefined {
  const v = o.at(path);
  if (v === undefined || v === null) return undefined;
  if (!isRecord(v)) throw o.err("BAD_VALUE", `${path} must be a label selector`);
  if (v.matchExpressions !== undefined)
    throw o.err("BAD_VALUE", `${path}.matchExpressions: only matchLabels selectors are modelled`);
  return o.labels(`${path}.matchLabels`);
}

function parsePolicy(o: Obj): NetworkPolicySpec {
  const rules = (dir: "ingress" | "egress"): PolicyRuleSpec[] =>
    o.list(`spec.${dir}`).map((r, i) => {
      if (!isRecord(r)) throw o.err("BAD_VALUE", `spec.${dir}[${i}] must be a mapping`);
      const ro = new Obj({ ...o.o, raw: r });
      const peerKey = dir === "ingress" ? "from" : "to";
      const peers: PolicyPeerSpec[] = ro.list(peerKey).map((p, j) => {
        if (!isRecord(p)) throw o.err("BAD_VALUE", `spec.${dir}[${i}].${peerKey}[${j}] must be a mapping`);
        const po = new Obj({ ...o.o, raw: p });
        const cidr = po.str("ipBlock.cidr");
        if (cidr !== undefined && !cidr.includes(":"))
          parseCidr4(cidr, `spec.${dir}[${i}].${peerKey}[${j}].ipBlock.cidr`);
        return {
          podSelector: labelsAt(po, "podSelector"),
          namespaceSelector: labelsAt(po, "namespaceSelector"),
          ipBlock: cidr === undefined ? undefined : { cidr, except: po.strList("ipBlock.except") },
        };
      });
      const ports: PolicyPortSpec[] = ro.list("ports").map((p, j) => {
        if (!isRecord(p)) throw o.err("BAD_VALUE", `spec.${dir}[${i}].ports[${j}] must be a mapping`);
        const pr = (typeof p.protocol === "string" ? p.protocol : "TCP").toLowerCase();
        if (pr !== "tcp" && pr !== "udp" && pr !== "sctp")
          throw o.err(
            "BAD_VALUE",
            `spec.${dir}[${i}].ports[${j}].protocol: "${String(p.protocol)}" is not TCP, UDP or SCTP`,
          );
        const num = (v: unknown, what: string): number | undefined => {
          if (v === undefined || v === null) return undefined;
          if (typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= 65535) return v;
          throw o.err(
            "BAD_VALUE",
            `spec.${dir}[${i}].ports[${j}].${what}: ${JSON.stringify(v)} is not a port number (named ports are not modelled)`,
          );
        };
        return { protocol: pr as L4Proto, port: num(p.port, "port"), endPort: num(p.endPort, "endPort") };
      });
      return { peers, ports };
    });
  const ingress = rules("ingress");
  const egress = rules("egress");
  const declared = o.strList("spec.policyTypes");
  for (const t of declared)
    if (t !== "Ingress" && t !== "Egress")
      throw o.err("BAD_VALUE", `spec.policyTypes: "${t}" is not Ingress or Egress`);
  // The API server's defaulting: Ingress always, Egress when egress rules exist.
  const policyTypes = (
    declared.length > 0 ? declared : egress.length > 0 ? ["Ingress", "Egress"] : ["Ingress"]
  ) as ("Ingress" | "Egress")[];
  return {
    name: o.o.name,
    namespace: o.o.namespace ?? "default",
    podSelector: labelsAt(o, "spec.podSelector") ?? {},
    policyTypes,
    ingress,
    egress,
    source: o.where,
  };
}

/** Lowest free IPv4 address of a subnet after the pods, the gateway and excludeIps. */
function lowestFree4(sub: SubnetSpec, used: ReadonlySet<number>): number | undefined {
  const last = (sub.network + 2 ** (32 - sub.plen) - 1) >>> 0;
  for (let c = sub.network + 1; c < last; c++) {
    if (c === sub.gatewayIp || used.has(c) || inRanges(c, sub.excluded)) continue;
    return c;
  }
  return undefined;
}

/** Reads the cluster inputs; `objects` are the manifests, the rest is the resolved scenario. */
export function buildCluster(
  objects: readonly KubeObject[],
  flags: ClusterFlags,
  subnets: readonly SubnetSpec[],
  pods: readonly PodSpec[],
  services: readonly ServiceSpec[],
  nodes: readonly NodeSpec[],
): ClusterSpec {
  const of = (kind: string, group?: string): Obj[] =>
    objects
      .filter((x) => x.kind === kind && (group === undefined || x.apiVersion.startsWith(group)))
      .map((x) => new Obj(x));
  const subnetObjs = new Map(of("Subnet", "kubeovn.io").map((o) => [o.o.name, o]));
  const join = parseCidr4(
    flags.joinCidr.split(",").find((c) => !c.includes(":")) ?? DEFAULT_JOIN_CIDR,
    "--node-switch-cidr",
  );
  const join6 = v6Of(flags.joinCidr);
  const subnetSpecs: SubnetClusterSpec[] = subnets.map((sub) => {
    const o = subnetObjs.get(sub.name);
    const cidr6Text = o ? v6Of(o.str("spec.cidrBlock")) : sub.implicit ? v6Of(flags.defaultCidr) : undefined;
    const c6 = cidr6Text ? parseCidr6(cidr6Text, `Subnet ${sub.name} spec.cidrBlock`) : undefined;
    const gw6 = o ? v6Of(o.str("spec.gateway")) : undefined;
    const gatewayType = (o?.str("spec.gatewayType", "distributed") ?? "distributed") as string;
    if (gatewayType !== "distributed" && gatewayType !== "centralized")
      throw o!.err("BAD_VALUE", `spec.gatewayType: "${gatewayType}" is not distributed or centralized`);
    const gatewayNodes = (o?.str("spec.gatewayNode") ?? "")
      .split(",")
      .map((x) => x.trim().split(":")[0]!)
      .filter(Boolean);
    for (const n of gatewayNodes)
      if (!nodes.some((x) => x.name === n))
        throw o!.err("UNKNOWN_OBJECT", `spec.gatewayNode: node "${n}" does not exist`);
    // Kube-OVN's reconcileOvnDefaultVpcRoute: a centralized subnet with spec.enableEcmp (or the
    // controller's --enable-ecmp, synced into it) reroutes to every ready gateway node at once;
    // without, to one active gateway: status.activateGateway while it is still a ready gateway
    // node, else the first ready one in spec.gatewayNode order (every node is ready here).
    const enableEcmp =
      gatewayType === "centralized" && ((o?.bool("spec.enableEcmp", false) ?? false) || flags.enableEcmp);
    const status = o?.str("status.activateGateway");
    const activateGateway =
      gatewayType !== "centralized" || gatewayNodes.length === 0
        ? undefined
        : status !== undefined && gatewayNodes.includes(status)
          ? status
          : gatewayNodes[0];
    const acls = (o?.list("spec.acls") ?? []).map((a, i) => {
      if (!isRecord(a)) throw o!.err("BAD_VALUE", `spec.acls[${i}] must be a mapping`);
      const dir = String(a.direction ?? "");
      if (dir !== "from-lport" && dir !== "to-lport")
        throw o!.err("BAD_VALUE", `spec.acls[${i}].direction: "${dir}" is not from-lport or to-lport`);
      const pr = Number(a.priority);
      if (!Number.isInteger(pr) || pr < 0 || pr > 32767)
        throw o!.err(
          "BAD_VALUE",
          `spec.acls[${i}].priority: ${JSON.stringify(a.priority)} is not in 0..32767`,
        );
      if (typeof a.match !== "string" || typeof a.action !== "string")
        throw o!.err("BAD_VALUE", `spec.acls[${i}]: match and action must be strings`);
      return { direction: dir as "from-lport" | "to-lport", priority: pr, match: a.match, action: a.action };
    });
    let u2oIp: string | undefined;
    if (sub.u2oInterconnection) {
      const want = o?.str("spec.u2oInterconnectionIP") ?? o?.str("status.u2oInterconnectionIP");
      if (want) u2oIp = want;
      else {
        const used = new Set(pods.filter((p) => p.subnet === sub.name).map((p) => parseIp4(p.ip)));
        const c = lowestFree4(sub, used);
        u2oIp = c === undefined ? undefined : formatIp4(c);
      }
    }
    return {
      name: sub.name,
      logicalGateway: o?.bool("spec.logicalGateway", false) ?? false,
      gatewayType,
      gatewayNodes,
      enableEcmp,
      activateGateway,
      private: o?.bool("spec.private", false) ?? false,
      allowSubnets: o?.strList("spec.allowSubnets") ?? [],
      acls,
      cidr6: c6 ? formatCidr6(c6) : undefined,
      gateway6: c6 ? (gw6 ? formatIp6(parseIp6(gw6)) : formatIp6(c6.ip + 1n)) : undefined,
      u2oInterconnectionIp: u2oIp,
      source: sub.source,
    };
  });
  // IPv6 addresses of pods on dual-stack subnets: lowest free after the gateway and the IPv6
  // excludeIps, in pod order.
  const podIp6: Record<string, string> = {};
  for (const sc of subnetSpecs) {
    if (!sc.cidr6) continue;
    const c = parseCidr6(sc.cidr6);
    const gw = parseIp6(sc.gateway6!);
    const ex = subnets.find((x) => x.name === sc.name)?.excluded6 ?? [];
    const last = c.ip | (~plenToMask6(c.plen) & ((1n << 128n) - 1n));
    let next = c.ip + 1n;
    for (const p of pods.filter((x) => x.subnet === sc.name)) {
      while (next < last && (next === gw || inRanges6(next, ex))) {
        const r = ex.find((x) => next >= x.start && next <= x.end);
        next = r ? r.end + 1n : next + 1n;
      }
      if (next >= last)
        throw new SimError(
          "CONFLICT",
          `Subnet ${sc.name}: no free IPv6 address for Pod ${p.namespace}/${p.name}`,
          p.source,
        );
      podIp6[p.lsp] = formatIp6(next++);
    }
  }
  // Join IPs: Kube-OVN's IPAM on the join subnet, nodes in name order (the router port has .1).
  const nodeSpecs: NodeClusterSpec[] = [...nodes]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((n, i) => {
      const ip = (join.ip & (join.plen === 0 ? 0 : (~0 << (32 - join.plen)) >>> 0)) + 2 + i;
      const j6 = join6 ? parseCidr6(join6) : undefined;
      return {
        name: n.name,
        joinIp: formatIp4(ip >>> 0),
        joinIp6: j6 ? formatIp6(j6.ip + 2n + BigInt(i)) : undefined,
        joinMac: macOf(ip >>> 0),
      };
    });
  // Cluster IPs: spec.clusterIPs / spec.clusterIP, else the lowest free address of the service
  // range from its .10 (the apiserver's random pick made deterministic), in (namespace, name) order.
  const svcObjs = new Map(of("Service").map((o) => [`${o.o.namespace ?? "default"}/${o.o.name}`, o]));
  const serviceCidrs = flags.serviceCidr
    .split(",")
    .map((x) => x.trim())
    .filter(Boolean);
  const v4Range = parseCidr4(
    serviceCidrs.find((c) => !c.includes(":")) ?? DEFAULT_SERVICE_CIDR,
    "--service-cluster-ip-range",
  );
  const v6RangeText = serviceCidrs.find((c) => c.includes(":"));
  const v6Range = v6RangeText ? parseCidr6(v6RangeText, "--service-cluster-ip-range") : undefined;
  const taken4 = new Set<number>();
  const taken6 = new Set<bigint>();
  const explicit = new Map<string, string[]>();
  for (const svc of services) {
    const o = svcObjs.get(`${svc.namespace}/${svc.name}`)!;
    const list = o.strList("spec.clusterIPs");
    const one = o.str("spec.clusterIP");
    const ips = list.length > 0 ? list : one !== undefined ? [one] : [];
    for (const ip of ips) {
      if (ip === "None") continue;
      if (ip.includes(":")) taken6.add(parseIp6(ip, "spec.clusterIPs"));
      else taken4.add(o.ip4("spec.clusterIPs", ip));
    }
    explicit.set(`${svc.namespace}/${svc.name}`, ips);
  }
  const services2: ServiceClusterSpec[] = services.map((svc) => {
    const key = `${svc.namespace}/${svc.name}`;
    const o = svcObjs.get(key)!;
    const given = explicit.get(key)!;
    const sessionAffinity = o.str("spec.sessionAffinity", "None") === "ClientIP";
    if (given.includes("None"))
      return { namespace: svc.namespace, name: svc.name, clusterIps: [], sessionAffinity };
    const fams = svc.ipFamilies.length > 0 ? svc.ipFamilies : ["IPv4"];
    const dual = svc.ipFamilyPolicy === "PreferDualStack" || svc.ipFamilyPolicy === "RequireDualStack";
    const want = dual ? ["IPv4", "IPv6"] : [fams[0]!];
    const ips: string[] = [...given];
    for (const fam of want) {
      if (ips.some((x) => x.includes(":") === (fam === "IPv6"))) continue;
      if (fam === "IPv4") {
        for (let c = v4Range.ip + 10; inCidr4(c, v4Range); c++) {
          if (taken4.has(c)) continue;
          taken4.add(c);
          ips.push(formatIp4(c));
          break;
        }
      } else if (v6Range) {
        for (let c = v6Range.ip + 10n; ; c++) {
          if (taken6.has(c)) continue;
          taken6.add(c);
          ips.push(formatIp6(c));
          break;
        }
      } else if (svc.ipFamilyPolicy === "RequireDualStack" || fam === fams[0]) {
        throw o.err("BAD_VALUE", `an IPv6 ClusterIP needs an IPv6 --service-cluster-ip-range`);
      }
    }
    ips.sort((a, b) => Number(a.includes(":")) - Number(b.includes(":")));
    return { namespace: svc.namespace, name: svc.name, clusterIps: ips, sessionAffinity };
  });
  return {
    defaultCidr: flags.defaultCidr,
    joinCidr: `${formatIp4(join.ip)}/${join.plen}`,
    joinCidr6: join6 ? formatCidr6(parseCidr6(join6)) : undefined,
    serviceCidrs,
    subnets: subnetSpecs,
    services: services2,
    nodes: nodeSpecs,
    networkPolicies: of("NetworkPolicy", "networking.k8s.io")
      .map(parsePolicy)
      .sort((a, b) => a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name)),
    podIp6,
  };
}

/** `0a:58:` + the IPv4 address: the deterministic MAC of router and join ports. */
export function macOf(ip: number): string {
  return `0a:58:${[24, 16, 8, 0].map((s) => ((ip >>> s) & 0xff).toString(16).padStart(2, "0")).join(":")}`;
}

export type { Source };
