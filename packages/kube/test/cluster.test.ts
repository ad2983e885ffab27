// The cluster inputs (controller flags, Subnet / Service / NetworkPolicy fields) and the doctor's
// cluster findings; the seed's own findings stay as they were; the new parsing is fuzzed.
import fc from "fast-check";
import { isSimError } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import { deriveClusterNbctl, deriveNbctl, diagnose, loadScenario, scenarioFromYaml } from "../src/index.js";

const head = `apiVersion: v1
kind: Node
metadata: { name: n1 }
status: { addresses: [{ type: InternalIP, address: 172.18.0.2 }] }
---
`;

describe("cluster inputs", () => {
  it("--default-cidr moves ovn-default; the join and Service ranges follow their flags", () => {
    const s = scenarioFromYaml(`${head}apiVersion: apps/v1
kind: Deployment
metadata: { name: kube-ovn-controller, namespace: kube-system }
spec: { template: { spec: { containers: [{ name: kube-ovn-controller, image: "x:v1.14.2", args: ["--default-cidr=10.244.0.0/16", "--node-switch-cidr=100.80.0.0/16", "--service-cluster-ip-range=10.100.0.0/16"] }] } } }
---
apiVersion: v1
kind: Pod
metadata: { name: p, namespace: default, labels: { a: b } }
---
apiVersion: v1
kind: Service
metadata: { name: s, namespace: default }
spec: { selector: { a: b }, ports: [{ port: 80 }] }
`);
    expect(s.pods[0]?.ip).toBe("10.244.0.2");
    expect(s.cluster?.nodes[0]?.joinIp).toBe("100.80.0.2");
    expect(s.cluster?.services[0]?.clusterIps).toEqual(["10.100.0.10"]);
    const nb = deriveClusterNbctl(s).lines;
    expect(nb).toContain("ovn-nbctl lr-route-add ovn-cluster 0.0.0.0/0 100.80.0.1");
    expect(nb).toContain(
      "ovn-nbctl --may-exist lb-add cluster-tcp-loadbalancer 10.100.0.10:80 10.244.0.2:80 tcp",
    );
  });
  it("the seed: its NB, pods and findings are unchanged by the cluster inputs", () => {
    const s = loadScenario();
    expect(diagnose(s).map((f) => f.code)).toEqual(["POOL_NOT_EXCLUDED"]);
    expect(deriveNbctl(s).join("\n")).not.toContain("ovn-cluster");
    expect(s.pods.map((p) => p.ip)).toEqual(["10.180.204.2", "10.180.204.3", "10.180.204.4"]);
  });
  it("the doctor's cluster findings", () => {
    const s = scenarioFromYaml(`${head}apiVersion: kubeovn.io/v1
kind: Subnet
metadata: { name: priv }
spec: { cidrBlock: 10.30.0.0/16, private: true, gatewayType: centralized }
---
apiVersion: v1
kind: Pod
metadata: { name: a, namespace: default, labels: { app: x } }
---
apiVersion: v1
kind: Pod
metadata: { name: b, namespace: default, annotations: { ovn.kubernetes.io/logical_switch: priv } }
---
apiVersion: v1
kind: Service
metadata: { name: empty, namespace: default }
spec: { selector: { app: nothing }, ports: [{ port: 80 }] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: out, namespace: default }
spec:
  podSelector: { matchLabels: { app: x } }
  egress: [{ to: [{ ipBlock: { cidr: 10.96.0.0/12 } }] }]
`);
    expect(diagnose(s).map((f) => f.code)).toEqual([
      "SERVICE_NO_ENDPOINTS",
      "NETWORKPOLICY_EGRESS_TO_SERVICE_CIDR",
      "PRIVATE_SUBNET_BLOCKS",
      "CENTRALIZED_GATEWAY_NODE_MISSING",
    ]);
    const nb = deriveClusterNbctl(s).lines;
    expect(nb).toContain("ovn-nbctl --log --severity=warning --name=priv acl-add priv to-lport 1000 ip drop");
    expect(nb).toContain('ovn-nbctl acl-add priv to-lport 3000 "ip4.src == 100.64.0.0/16" allow-related');
  });
  it("fuzz: random NetworkPolicy / Subnet / Service fields give a scenario or a SimError", () => {
    const val = fc.oneof(
      fc.constantFrom(
        "80",
        "x",
        "-1",
        "10.0.0.0/8",
        "fd00::/64",
        "TCP",
        "SCTP",
        "Egress",
        "centralized",
        "true",
        "[]",
        "{}",
      ),
      fc.integer({ min: -5, max: 70000 }).map(String),
    );
    fc.assert(
      fc.property(val, val, val, val, (a, b, c, d) => {
        const yaml = `${head}apiVersion: kubeovn.io/v1
kind: Subnet
metadata: { name: s1 }
spec: { cidrBlock: "10.40.0.0/16,${a}", gatewayType: ${b}, gatewayNode: ${c}, private: ${d}, acls: [{ direction: ${b}, priority: ${a}, match: ip, action: drop }] }
---
apiVersion: v1
kind: Service
metadata: { name: sv }
spec: { clusterIP: ${a}, ipFamilyPolicy: PreferDualStack, ports: [{ port: 80 }] }
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: np }
spec:
  podSelector: ${d}
  policyTypes: [${b}]
  ingress: [{ from: [{ ipBlock: { cidr: ${a} } }], ports: [{ protocol: ${b}, port: ${c}, endPort: ${a} }] }]
`;
        try {
          const s = scenarioFromYaml(yaml);
          deriveClusterNbctl(s);
          diagnose(s);
        } catch (e) {
          if (!isSimError(e)) throw e;
        }
      }),
      { numRuns: 300, seed: 14 },
    );
  });
});
