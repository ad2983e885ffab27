/**
 * A 100-pod Kube-OVN cluster as Kubernetes manifests (bench/brint.bench.ts, `--world kube`):
 * Nodes, a second Subnet, Pods, ClusterIP Services selecting them and NetworkPolicies, read by
 * @ovnsim/kube (IPAM, Services → endpoints, policies → port groups, address sets and ACLs) and
 * turned into the NB state kube-ovn-controller derives for the default VPC
 * (`deriveClusterNbctl`, kube-ovn-internals.md §10) — the same path `ovnsim trace` takes for a
 * cluster scenario — instead of bench/brint-world.ts's hand-written ovn-nbctl script.
 * Deterministic: the same shape gives the same manifests.
 */
import { deriveClusterNbctl, type Scenario, scenarioFromTexts } from "../packages/kube/src/index.js";
import type { Cluster, ClusterShape, Pod } from "./brint-world.js";

/** The manifests of a cluster of `shape` (namespaces ns0…ns<policies-1>; subnet app owns ns2, ns3, ns6, ns7…, ovn-default the rest). */
export function clusterManifests(shape: ClusterShape): string {
  const docs: string[] = [];
  docs.push(`apiVersion: apps/v1
kind: Deployment
metadata: { name: kube-ovn-controller, namespace: kube-system }
spec:
  template:
    spec:
      containers:
        - name: kube-ovn-controller
          image: docker.io/kubeovn/kube-ovn:v1.14.5
          args:
            - --default-cidr=10.16.0.0/16
            - --node-switch-cidr=100.64.0.0/16
            - --service-cluster-ip-range=10.96.0.0/12`);
  for (let i = 0; i < shape.nodes; i++)
    docs.push(`apiVersion: v1
kind: Node
metadata: { name: node${i + 1} }
status: { addresses: [{ type: InternalIP, address: 172.18.0.${i + 2} }] }`);
  const ns = Array.from({ length: shape.policies }, (_, k) => `ns${k}`);
  docs.push(`apiVersion: kubeovn.io/v1
kind: Subnet
metadata: { name: app }
spec:
  protocol: IPv4
  cidrBlock: 10.17.0.0/16
  gateway: 10.17.0.1
  namespaces: [${ns.filter((_, k) => (k >> 1) % 2 === 1).join(", ")}]`);
  for (let i = 0; i < shape.pods; i++) {
    const node = `node${Math.floor((i * shape.nodes) / shape.pods) + 1}`;
    docs.push(`apiVersion: v1
kind: Pod
metadata: { name: pod${i}, namespace: ns${i % shape.policies}, labels: { app: svc${i % shape.services}, role: r${i % 3} } }
spec: { nodeName: ${node} }`);
  }
  for (let j = 0; j < shape.services; j++) {
    const udp = j % 4 === 3;
    docs.push(`apiVersion: v1
kind: Service
metadata: { name: svc${j}, namespace: ns${j % shape.policies} }
spec:
  clusterIP: 10.96.0.${10 + j}
  selector: { app: svc${j} }
  ports: [{ protocol: ${udp ? "UDP" : "TCP"}, port: ${udp ? 53 : 80}, targetPort: ${udp ? 53 : 8080} }]`);
  }
  // Namespace k admits namespace k + 1 on TCP 8080 (every pod of namespace k is selected).
  for (let k = 0; k < shape.policies; k++)
    docs.push(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: allow-next, namespace: ns${k} }
spec:
  podSelector: {}
  policyTypes: [Ingress]
  ingress:
    - from:
        - namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: ns${(k + 1) % shape.policies} } }
      ports: [{ protocol: TCP, port: 8080 }]`);
  return `${docs.join("\n---\n")}\n`;
}

/** The cluster as @ovnsim/kube reads it, and the NB script kube-ovn-controller would write for it. */
export function kubeCluster(shape: ClusterShape): Cluster & { readonly scenario: Scenario } {
  const scenario = scenarioFromTexts([{ file: "brint-kube.yaml", text: clusterManifests(shape) }]);
  const nb = deriveClusterNbctl(scenario);
  const pods: Pod[] = scenario.pods.map((p) => ({
    name: p.lsp,
    ip: p.ip,
    mac: p.mac,
    node: p.node,
    subnet: p.subnet,
  }));
  const cips = new Map(
    (scenario.cluster?.services ?? []).map((c) => [`${c.namespace}/${c.name}`, c.clusterIps]),
  );
  const vips = scenario.services.flatMap((s) => {
    const ip = cips.get(`${s.namespace}/${s.name}`)?.[0];
    const port = s.ports[0];
    if (!ip || !port) return [];
    return [{ ip, port: port.port, backends: pods.filter((p) => s.endpoints.includes(p.name)) }];
  });
  return {
    scenario,
    nbctl: `${nb.lines.join("\n")}\n`,
    pods,
    nodes: scenario.nodes.map((n) => n.name),
    vips,
  };
}
