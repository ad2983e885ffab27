// `branches` forks on ECMP from manifests: a Kube-OVN centralized-gateway subnet with
// spec.enableEcmp (or kube-ovn-controller's --enable-ecmp) and several gatewayNodes gets one
// 29000 reroute policy over every gateway node's join address (reconcileEcmpCentralizedSubnet-
// RouteInDefaultVpc); without ECMP, the active gateway's alone (status.activateGateway, else
// the first gateway node). Each select() member is a branch whose witness is a searched source
// port, replayed by the cluster tracer.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deriveClusterNbctl, loadScenario } from "@ovnsim/kube";
import { buildClusterWorld, traceCluster } from "@ovnsim/tracer";
import { exploreBranches } from "@ovnsim/whatif";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

interface Central {
  readonly gateways: readonly string[];
  readonly ecmp: boolean;
  readonly flag: boolean;
  readonly active?: string;
}

/** examples/cluster-pod-to-external plus node3 and a centralized subnet with a pod on node1. */
function cluster(c: Central): string {
  const dir = mkdtempSync(join(tmpdir(), "ovnsim-ecmp-"));
  dirs.push(dir);
  cpSync(new URL("../../../examples/cluster-pod-to-external", import.meta.url), dir, {
    recursive: true,
    filter: (f) => !/\.(ts|md|png)$/.test(f),
  });
  if (c.flag) {
    const p = join(dir, "00-cluster.yaml");
    const text = readFileSync(p, "utf8");
    writeFileSync(
      p,
      text.replace("- --default-cidr=", "- --enable-ecmp=true\n            - --default-cidr="),
    );
  }
  writeFileSync(
    join(dir, "20-central.yaml"),
    `apiVersion: v1
kind: Node
metadata: { name: node3 }
status: { addresses: [{ type: InternalIP, address: 172.18.0.4 }] }
---
apiVersion: kubeovn.io/v1
kind: Subnet
metadata: { name: central }
spec:
  protocol: IPv4
  cidrBlock: 10.18.0.0/16
  gateway: 10.18.0.1
  namespaces: [central]
  gatewayType: centralized
  gatewayNode: ${c.gateways.join(",")}
  enableEcmp: ${c.ecmp}
  natOutgoing: true
${c.active ? `status: { activateGateway: ${c.active} }\n` : ""}---
apiVersion: v1
kind: Pod
metadata: { name: job, namespace: central }
spec: { nodeName: node1 }
`,
  );
  return dir;
}

const JOIN: Record<string, string> = { node1: "100.64.0.2", node2: "100.64.0.3", node3: "100.64.0.4" };

function policy29000(dir: string): string | undefined {
  const s = loadScenario([dir]);
  return deriveClusterNbctl(s).lines.find((l) => l.includes("29000") && l.includes("10.18.0.0/16"));
}

describe("centralized gateway subnets from manifests", () => {
  it("enableEcmp: one reroute over both gateways, and branches forks on each with a replayed witness", () => {
    const dir = cluster({ gateways: ["node2", "node3"], ecmp: true, flag: false });
    expect(policy29000(dir)).toContain("reroute 100.64.0.3,100.64.0.4");
    const s = loadScenario([dir]);
    const d = exploreBranches(s, { from: "central/job", to: "1.1.1.1", port: 443 });
    expect(d.coverage.find((c) => c.kind === "ecmp")).toEqual({
      kind: "ecmp",
      reached: 2,
      total: 2,
      missed: [],
    });
    const ecmp = d.branches.filter((b) => b.kind === "ecmp");
    expect(ecmp.map((b) => [b.choice, b.verdict])).toEqual([
      ["select member 1 (next hop 100.64.0.3 (node2's ovn0))", "delivered to node2's host stack (ovn0)"],
      ["select member 2 (next hop 100.64.0.4 (node3's ovn0))", "delivered to node3's host stack (ovn0)"],
    ]);
    // Nothing on the way out (no stateful ACL, no VIP) commits the connection: the next packet
    // meets no entry, as a mid-stream one does.
    expect(d.branches.filter((b) => b.kind === "conntrack").map((b) => b.choice)).toEqual([
      "new",
      "new (no entry: nothing committed)",
      "new (no entry)",
    ]);
    const w = buildClusterWorld(s);
    for (const b of ecmp) {
      const port = Number(/source port (\d+)/.exec(b.witness)![1]);
      const node = /\((node\d)'s ovn0\)/.exec(b.choice)![1];
      expect(
        traceCluster(w, { from: "central/job", to: "1.1.1.1", port: 443, srcPort: port }).doc.verdict.node,
      ).toBe(node);
    }
  }, 120_000);

  it("without ECMP: the active gateway alone (status.activateGateway, else the first), no fork", () => {
    expect(policy29000(cluster({ gateways: ["node2", "node3"], ecmp: false, flag: false }))).toContain(
      "reroute 100.64.0.3",
    );
    const withStatus = cluster({ gateways: ["node2", "node3"], ecmp: false, flag: false, active: "node3" });
    expect(policy29000(withStatus)).toMatch(/reroute 100\.64\.0\.4(?![,\d])/);
    const d = exploreBranches(loadScenario([withStatus]), { from: "central/job", to: "1.1.1.1", port: 443 });
    expect(d.branches.filter((b) => b.kind === "ecmp")).toEqual([]);
    expect(d.coverage.find((c) => c.kind === "ecmp")).toBeUndefined();
  }, 120_000);

  it("kube-ovn-controller --enable-ecmp turns it on for a centralized subnet that has it off", () => {
    expect(policy29000(cluster({ gateways: ["node3", "node2"], ecmp: false, flag: true }))).toMatch(
      /reroute 100\.64\.0\.(4,100\.64\.0\.3|3,100\.64\.0\.4)/,
    );
  });

  it("property: one branch per gateway node under ECMP (none otherwise), each witness exits there", () => {
    const node = fc.constantFrom("node1", "node2", "node3");
    let forks = 0;
    fc.assert(
      fc.property(
        fc.uniqueArray(node, { minLength: 1, maxLength: 3 }),
        fc.boolean(),
        fc.boolean(),
        fc.option(node, { nil: undefined }),
        (gateways, ecmp, flag, active) => {
          const dir = cluster({ gateways, ecmp, flag, ...(active ? { active } : {}) });
          const on = ecmp || flag;
          const line = policy29000(dir)!;
          const want = on
            ? gateways
            : [active !== undefined && gateways.includes(active) ? active : gateways[0]!];
          const hops = /reroute (\S+)/.exec(line)![1]!.split(",").sort();
          expect(hops).toEqual(want.map((g) => JOIN[g]!).sort());
          const s = loadScenario([dir]);
          const d = exploreBranches(s, { from: "central/job", to: "1.1.1.1", port: 443 });
          const e = d.branches.filter((b) => b.kind === "ecmp");
          if (want.length < 2) expect(e).toEqual([]);
          else {
            forks++;
            expect(d.coverage.find((c) => c.kind === "ecmp")).toMatchObject({
              reached: want.length,
              missed: [],
            });
            const w = buildClusterWorld(s);
            const seen = e.map((b) => /\((node\d)'s ovn0\)/.exec(b.choice)![1]).sort();
            expect(seen).toEqual([...want].sort());
            for (const b of e) {
              const port = Number(/source port (\d+)/.exec(b.witness)![1]);
              const v = traceCluster(w, { from: "central/job", to: "1.1.1.1", port: 443, srcPort: port }).doc
                .verdict;
              expect(b.choice).toContain(`(${v.node}'s ovn0)`);
            }
          }
          // Every branch is delivered out of the gateway it names (the host masquerades it).
          for (const b of e) expect(b.delivered).toBe(true);
        },
      ),
      { numRuns: 10, seed: 16 },
    );
    expect(forks).toBeGreaterThan(1);
  }, 600_000);
});
