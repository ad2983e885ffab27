// Shared by the cluster tests: the microflows of a scenario's in-cluster paths (every pod to
// every other pod and to every ClusterIP, each node's ovn0 to every pod and, through kube-proxy,
// to every ClusterIP), as ovn-trace takes them.
import { type Scenario, routerPortName } from "@ovnsim/kube";
import { parseNbctl, type NbDatabase } from "@ovnsim/ovn";
import { deriveClusterNbctl, subnetOfIp } from "@ovnsim/kube";
import { kubeProxyEndpoint } from "../src/cluster.js";

export interface Microflow {
  readonly datapath: string;
  readonly microflow: string;
  readonly ct: readonly string[];
  readonly from: string;
  readonly to: string;
  readonly port: number;
  /** ovn-trace picks a backend at random: a ClusterIP target names the first endpoint (--lb-dst). */
  readonly lbDst?: string;
}

export function clusterMicroflows(s: Scenario, limit = 12, db?: NbDatabase): Microflow[] {
  const nb = db ?? parseNbctl(deriveClusterNbctl(s).lines.join("\n"), { file: "nb" });
  const lrpMac = (name: string) => nb.routers.flatMap((r) => r.ports).find((p) => p.name === name)?.mac;
  const out: Microflow[] = [];
  const ct = ["new", "new", "new", "new"];
  const ip6 = (lsp: string) => s.cluster?.podIp6[lsp];
  const targets: { ip: string; port: number; lbDst?: string }[] = [
    ...s.pods.map((p) => ({ ip: p.ip, port: 8080 })),
    ...s.pods.flatMap((p) => (ip6(p.lsp) ? [{ ip: ip6(p.lsp)!, port: 8080 }] : [])),
    ...(s.cluster?.services ?? []).flatMap((x) => {
      const svc = s.services.find((y) => y.name === x.name && y.namespace === x.namespace);
      const ep = s.pods.find((p) => p.lsp === svc?.endpoints[0]);
      return x.clusterIps.map((ip) => {
        const v6 = ip.includes(":");
        const epIp = ep ? (v6 ? ip6(ep.lsp) : ep.ip) : undefined;
        const lbDst =
          epIp && svc?.ports[0]
            ? v6
              ? `[${epIp}]:${svc.ports[0].targetPort}`
              : `${epIp}:${svc.ports[0].targetPort}`
            : undefined;
        return { ip, port: svc?.ports[0]?.port ?? 80, ...(lbDst ? { lbDst } : {}) };
      });
    }),
  ];
  for (const p of s.pods) {
    const gw = lrpMac(routerPortName(p.subnet));
    if (!gw) continue;
    for (const t of targets) {
      const v6 = t.ip.includes(":");
      const src = v6 ? ip6(p.lsp) : p.ip;
      if (t.ip === src || src === undefined) continue;
      const peer = s.pods.find((x) => (v6 ? ip6(x.lsp) : x.ip) === t.ip);
      const same = v6 ? peer?.subnet === p.subnet : subnetOfIp(s, t.ip)?.name === p.subnet;
      const dmac = same && peer ? peer.mac : gw;
      out.push({
        datapath: p.subnet,
        from: `${p.namespace}/${p.name}`,
        to: t.ip,
        port: t.port,
        ct,
        ...(t.lbDst ? { lbDst: t.lbDst } : {}),
        microflow: `inport == "${p.lsp}" && eth.src == ${p.mac} && eth.dst == ${dmac} && ${v6 ? "ip6" : "ip4"}.src == ${src} && ${v6 ? "ip6" : "ip4"}.dst == ${t.ip} && ip.ttl == 64 && tcp.src == 40000 && tcp.dst == ${t.port}`,
      });
    }
  }
  // A node's own packets: to a pod from its InternalIP (kube-ovn-cni's `src` on the ovn0 routes);
  // to a ClusterIP through kube-proxy, so OVN sees the endpoint it picked, masqueraded to the
  // node's join address (the join switch has no load balancer).
  const jgw = lrpMac(routerPortName("join"));
  for (const n of s.cluster?.nodes ?? []) {
    const internal = s.nodes.find((x) => x.name === n.name)?.internalIp;
    for (const t of targets) {
      const v6 = t.ip.includes(":");
      const svc = s.services.find((x) =>
        s.cluster?.services.some(
          (c) => c.name === x.name && c.namespace === x.namespace && c.clusterIps.includes(t.ip),
        ),
      );
      const ep = svc ? kubeProxyEndpoint(s, svc, t.ip, t.port, n.name) : undefined;
      if (svc && !ep) continue;
      const src = v6 ? n.joinIp6 : ep ? n.joinIp : (internal ?? n.joinIp);
      if (!jgw || src === undefined) continue;
      const dst = ep ? ep.ip : t.ip;
      const dport = ep ? ep.port : t.port;
      out.push({
        datapath: "join",
        from: n.name,
        to: t.ip,
        port: t.port,
        ct,
        microflow: `inport == "node-${n.name}" && eth.src == ${n.joinMac} && eth.dst == ${jgw} && ${v6 ? "ip6" : "ip4"}.src == ${src} && ${v6 ? "ip6" : "ip4"}.dst == ${dst} && ip.ttl == 64 && tcp.src == 40000 && tcp.dst == ${dport}`,
      });
    }
  }
  // A deterministic spread over the list when it is long.
  if (out.length <= limit) return out;
  const step = out.length / limit;
  return Array.from({ length: limit }, (_, i) => out[Math.floor(i * step)]!);
}

/**
 * A random cluster as manifests: 1–4 nodes, 0–3 extra overlay subnets (some centralized, some
 * private), 1–9 pods, 0–3 Services (random selectors, ports, some without endpoints), 0–2
 * NetworkPolicies (ingress/egress, pod/namespace/ipBlock peers, ports).
 */
export function randomClusterYaml(r: () => number): string {
  const int = (a: number, b: number) => a + Math.floor(r() * (b - a + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const docs: string[] = [];
  const nNodes = int(1, 4);
  const nodes = Array.from({ length: nNodes }, (_, i) => `n${i + 1}`);
  nodes.forEach((n, i) => {
    docs.push(
      `apiVersion: v1\nkind: Node\nmetadata: { name: ${n} }\nstatus: { addresses: [{ type: InternalIP, address: 172.18.0.${i + 2} }] }`,
    );
  });
  const nsList = ["default", "app", "db"];
  const subnets = ["ovn-default"];
  const nSub = int(0, 3);
  for (let i = 0; i < nSub; i++) {
    const name = `sub-${i}`;
    subnets.push(name);
    const central = r() < 0.25;
    const priv = r() < 0.2;
    docs.push(
      [
        "apiVersion: kubeovn.io/v1",
        "kind: Subnet",
        `metadata: { name: ${name} }`,
        "spec:",
        `  cidrBlock: 10.${20 + i}.0.0/16`,
        `  natOutgoing: ${r() < 0.5}`,
        ...(central ? ["  gatewayType: centralized", `  gatewayNode: ${pick(nodes)}`] : []),
        ...(priv ? ["  private: true", `  allowSubnets: [10.16.0.0/16]`] : []),
      ].join("\n"),
    );
  }
  const labels = ["a", "b", "c"];
  const nPods = int(1, 9);
  for (let i = 0; i < nPods; i++) {
    const sub = pick(subnets);
    docs.push(
      [
        "apiVersion: v1",
        "kind: Pod",
        `metadata:`,
        `  name: p${i}`,
        `  namespace: ${pick(nsList)}`,
        `  labels: { app: ${pick(labels)} }`,
        `  annotations: { ovn.kubernetes.io/logical_switch: ${sub} }`,
        `spec: { nodeName: ${pick(nodes)} }`,
      ].join("\n"),
    );
  }
  const nSvc = int(0, 3);
  for (let i = 0; i < nSvc; i++) {
    const proto = pick(["TCP", "TCP", "UDP"]);
    docs.push(
      [
        "apiVersion: v1",
        "kind: Service",
        `metadata: { name: s${i}, namespace: ${pick(nsList)} }`,
        "spec:",
        `  selector: { app: ${pick(labels)} }`,
        `  ports: [{ port: ${pick([80, 443, 53])}, targetPort: ${pick([8080, 80, 5353])}, protocol: ${proto} }]`,
        ...(r() < 0.2 ? ["  sessionAffinity: ClientIP"] : []),
        ...(r() < 0.3 ? ["  ipFamilyPolicy: PreferDualStack"] : []),
      ].join("\n"),
    );
  }
  const nNp = int(0, 2);
  for (let i = 0; i < nNp; i++) {
    const types = pick([["Ingress"], ["Egress"], ["Ingress", "Egress"]]);
    const peer = () =>
      pick([
        `{ podSelector: { matchLabels: { app: ${pick(labels)} } } }`,
        `{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: ${pick(nsList)} } } }`,
        `{ ipBlock: { cidr: 10.16.0.0/16, except: [10.16.0.2/32] } }`,
      ]);
    const rule = (key: string) =>
      r() < 0.3
        ? "    - {}"
        : `    - ${key}: [${peer()}]\n      ports: [{ protocol: TCP, port: ${pick([8080, 80])} }]`;
    docs.push(
      [
        "apiVersion: networking.k8s.io/v1",
        "kind: NetworkPolicy",
        `metadata: { name: np${i}, namespace: ${pick(nsList)} }`,
        "spec:",
        `  podSelector: { matchLabels: { app: ${pick(labels)} } }`,
        `  policyTypes: [${types.join(", ")}]`,
        ...(types.includes("Ingress") && r() < 0.8 ? ["  ingress:", rule("from")] : []),
        ...(types.includes("Egress") && r() < 0.8 ? ["  egress:", rule("to")] : []),
      ].join("\n"),
    );
  }
  // A dual-stack cluster (ovn-default, join and the Service range in both families) now and then.
  if (r() < 0.3) {
    docs.push(
      [
        "apiVersion: apps/v1",
        "kind: Deployment",
        "metadata: { name: kube-ovn-controller, namespace: kube-system }",
        "spec:",
        "  template:",
        "    spec:",
        "      containers:",
        "        - name: kube-ovn-controller",
        "          args:",
        "            - --default-cidr=10.16.0.0/16,fd00:10:16::/112",
        "            - --node-switch-cidr=100.64.0.0/16,fd00:100:64::/112",
        "            - --service-cluster-ip-range=10.96.0.0/12,fd00:10:96::/112",
      ].join("\n"),
    );
  }
  return `${docs.join("\n---\n")}\n`;
}
