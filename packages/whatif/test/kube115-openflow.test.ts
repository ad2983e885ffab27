// Kube-OVN 1.15 runs OVN 25.03, whose northd has 30 logical-switch ingress stages: its
// ovn-controller moves the output tables to 40–44 and the egress pipeline to 45
// (controller/lflow.h). @ovnsim/controller follows the profile's layout; on 23.03's layout the
// ingress pipeline ran into the output tables ("too many resubmits"). Here a 1.15 cluster's br-int
// must give the logical datapath's verdicts: pod → pod, pod → ClusterIP, and `reach --datapath
// openflow`.
import { Conntrack } from "@ovnsim/conntrack";
import { ovnController } from "@ovnsim/controller";
import {
  deriveNodeDataplane,
  readManifestPaths,
  scenarioFromTexts,
  scenarioFromYaml,
  seedScenarioDir,
} from "@ovnsim/kube";
import { traceFlow } from "@ovnsim/openflow";
import { isSimError, parseFlow } from "@ovnsim/packet";
import { scenarioYaml } from "@ovnsim/testing";
import {
  buildClusterWorld,
  capturedNode,
  createSimulation,
  scenarioNodeFiles,
  scenarioSbFiles,
  trace,
  traceCluster,
} from "@ovnsim/tracer";
import { reachOpenflow } from "@ovnsim/whatif";
import { describe, expect, it } from "vitest";

const spec = {
  nodes: 3,
  replicas: 4,
  etpLocal: false,
  preferLocal: true,
  ctSkip: false,
  dnatModDlDst: true,
  externalLb: true,
  release: "v1.15.20" as const,
  vlan: 341,
};
const s = scenarioFromYaml(scenarioYaml(spec));

describe("Kube-OVN 1.15 (OVN 25.03 table layout): br-int as OpenFlow", () => {
  it("pod → pod: every pair has the logical datapath's verdict", () => {
    const lg = createSimulation(s);
    const of = createSimulation(s, { datapath: "openflow" });
    let delivered = 0;
    for (const a of s.pods)
      for (const b of s.pods) {
        if (a === b) continue;
        const input = { from: `${a.namespace}/${a.name}`, to: b.ip, port: 8080 };
        const l = trace(lg, input).verdict;
        const o = trace(of, input).verdict;
        expect(o, `${a.name} → ${b.name}`).toEqual(l);
        if (o.delivered) delivered++;
      }
    expect(delivered).toBe(s.pods.length * (s.pods.length - 1));
  });

  it("the seed under 1.15: client → LoadBalancer VIP (br-provider → patch → br-int → pod) matches", () => {
    const texts = readManifestPaths([seedScenarioDir()]).map((t) => ({
      ...t,
      text: t.text.replace("kube-ovn:v1.14.5", "kube-ovn:v1.15.20"),
    }));
    const seed115 = scenarioFromTexts(texts);
    expect(seed115.controller.release).toBe("1.15");
    const l = trace(createSimulation(seed115)).verdict;
    const o = trace(createSimulation(seed115, { datapath: "openflow" })).verdict;
    expect(o).toEqual(l);
    expect(o.delivered).toBe(true);
    expect(o.backend).toBe("10.180.204.4:80");
  });

  it("pod → ClusterIP: br-int DNATs to a backend and sends it to the backend's node, as the logical trace", () => {
    const cw = buildClusterWorld(s);
    const sb = scenarioSbFiles(s, cw);
    const cs = s.cluster!.services[0]!;
    const svc = s.services.find((x) => x.name === cs.name)!;
    const port = svc.ports[0]!;
    const backends = s.pods.map((p) => `${p.ip}:${port.targetPort}`);
    for (const pod of s.pods) {
      const lg = traceCluster(cw, {
        from: `${pod.namespace}/${pod.name}`,
        to: cs.clusterIps[0]!,
        port: port.port,
        proto: "tcp",
      }).doc.verdict;
      expect(lg.delivered).toBe(true);
      expect(backends).toContain(lg.backend);
      const dp = deriveNodeDataplane(s, pod.node);
      const node = capturedNode(sb, scenarioNodeFiles(s, dp), false, "kube-ovn-1.15");
      const veth = dp.bridges
        .find((b) => b.name === "br-int")!
        .ports.find((p) => p.mac?.toLowerCase() === pod.mac.toLowerCase())!;
      const sub = s.subnets.find((x) => x.name === pod.subnet)!;
      const gw = s.physical.routers.flatMap((r) => r.interfaces).find((i) => i.ip === sub.gateway)!;
      const flow = parseFlow(
        `in_port=${veth.ofport},tcp,dl_src=${pod.mac},dl_dst=${gw.mac},nw_src=${pod.ip},nw_dst=${cs.clusterIps[0]},nw_ttl=64,tp_src=40000,tp_dst=${port.port},tcp_flags=0x002`,
      );
      const r = traceFlow(node.sw, "br-int", flow, { conntrack: Conntrack.empty() });
      const acts = r.passes.map((p) => p.datapathActions).join(" ");
      const nat = /nat\(dst=([\d.]+:\d+)\)/.exec(acts);
      expect(nat, acts).not.toBeNull();
      const backend = nat![1]!;
      expect(backends).toContain(backend);
      const target = s.pods.find((p) => `${p.ip}:${port.targetPort}` === backend)!;
      // Kube-OVN's mod_dl_dst: the frame is addressed to the backend pod.
      expect(acts).toMatch(new RegExp(`set\\(eth\\([^)]*dst=${target.mac.toLowerCase()}\\)`));
      const last = r.passes.at(-1)!.datapathActions;
      if (target.node === pod.node) {
        // Local backend: out of its veth (a datapath port of this node), no VLAN.
        expect(last).not.toContain("push_vlan");
      } else {
        // Remote backend: out through the localnet patch with the subnet's VLAN.
        expect(last).toContain("push_vlan(vid=341");
      }
    }
  });

  it("23.03's layout refuses the 1.15 southbound with a typed error", () => {
    const cw = buildClusterWorld(s);
    const sb = scenarioSbFiles(s, cw);
    const node = scenarioNodeFiles(s, deriveNodeDataplane(s, "node1"));
    let err: unknown;
    try {
      ovnController({ sb, node, chassis: "node1" });
    } catch (e) {
      err = e;
    }
    expect(isSimError(err) && err.code).toBe("CONFLICT");
    expect(String(err)).toMatch(/ingress table 29 \(ls_in_l2_unknown\).*room for ingress tables 0–28/);
    const out = ovnController({ sb, node, chassis: "node1", profile: "kube-ovn-1.15" });
    // ls_in_l2_unknown is table 8 + 29 = 37; output() resubmits to 40, the egress pipeline is 45+.
    expect(out.flows.some((l) => /table=37,.*resubmit\(,40\)/.test(l))).toBe(true);
    expect(out.flows.some((l) => / table=44, priority=0 .*resubmit\(,45\)/.test(l))).toBe(true);
  });

  it("reach --datapath openflow from a pod: no class loops, every witness confirmed", () => {
    const pod = s.pods[0]!;
    const r = reachOpenflow(s, { from: `${pod.namespace}/${pod.name}` });
    expect(r.doc.classes.length).toBeGreaterThan(20);
    expect(r.doc.classes.filter((c) => /too many resubmits/.test(c.verdict.reason ?? ""))).toEqual([]);
    expect(r.doc.confirmed).toBe(r.doc.classes.length);
    expect(r.doc.delivered).toBeGreaterThan(0);
  }, 300_000);
  it("reach --datapath openflow on a 12-backend cluster: every class confirmed, hairpin and new TCP included", () => {
    // 25.03's br-int splits the VIP's classes per backend (table 68's hairpin check matches
    // nw_src == nw_dst == backend): with 12 buckets, random members rarely hashed to the
    // class's bucket, and a new connection's witness with no TCP flags was invalid to
    // conntrack, so 7 of 270 classes went unconfirmed (126 of 1,678 at 100 pods).
    const s12 = scenarioFromYaml(scenarioYaml({ ...spec, nodes: 4, replicas: 12 }));
    const pod = s12.pods[0]!;
    const r = reachOpenflow(s12, { from: `${pod.namespace}/${pod.name}` });
    const hairpin = r.doc.classes.filter(
      (c) => c.backend !== null && c.header.includes(`nw_src=${c.backend.split(":")[0]},`),
    );
    expect(hairpin.length).toBeGreaterThan(0);
    const newTcp = r.doc.classes.filter((c) => c.ct === "new" && /nw_proto=6,/.test(c.witness));
    expect(newTcp.length).toBeGreaterThan(0);
    expect(r.doc.classes.filter((c) => c.confirmed !== true).map((c) => c.witness)).toEqual([]);
    expect(r.doc.confirmed).toBe(r.doc.classes.length);
  }, 300_000);
});
