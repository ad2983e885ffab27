// The seed's pod → ClusterIP whose backend is the pod itself (prefer-local picks it): OVN's
// load-balancer hairpin. ovnsim's ovn-trace must print what the real ovn-trace 23.03 printed
// for the seed's NB (goldens in golden/hairpin, recorded as its README says), and the tracer's
// stateful path must do what the data path does with those flows: ct_snat_to_vip SNATs the
// request to the VIP (the pod sees 10.96.0.10 as its peer), the reply to the VIP is recognised
// by chk_lb_hairpin_reply (table 69), un-SNATed by ct_snat, hairpinned, and un-DNATed in the
// pod's zone, so the pod's socket sees 10.96.0.10:80 answer.
import { readFileSync } from "node:fs";
import path from "node:path";
import { deriveClusterNbctl, loadScenario } from "@ovnsim/kube";
import { LogicalNetwork, northd, parseNbctl, renderTrace, sbModelFromNb } from "@ovnsim/ovn";
import { describe, expect, it } from "vitest";
import { buildClusterWorld, traceCluster } from "../src/cluster.js";
import { traceScenario } from "../src/engine.js";

const GOLDEN = path.resolve(import.meta.dirname, "golden/hairpin");
const mask = (s: string): string =>
  s
    .replace(/ \(northd\.c:\d+\)/g, "")
    .replace(/, uuid [0-9a-f]{8}/g, ", uuid X")
    .trimEnd();
const MF = (sport: number, dport: number, dst: string) =>
  `inport == "deploy-169402624-0.default" && eth.src == 00:00:00:b4:cc:02 && eth.dst == 52:54:00:ff:00:01 && ip4.src == 10.180.204.2 && ip4.dst == ${dst} && tcp.src == ${sport} && tcp.dst == ${dport} && ip.ttl == 64`;

describe("seed hairpin: pod deploy-169402624-0 → ClusterIP 10.96.0.10:80 → itself", () => {
  const s = loadScenario();
  const lines = deriveClusterNbctl(s).lines;
  const db = parseNbctl(lines.join("\n"), { file: "seed" });
  const net = new LogicalNetwork(sbModelFromNb(db, northd(db, "ovn-23.03")));

  it("ovn-trace (stateless) prints what the real ovn-trace 23.03 printed: request", () => {
    const r = net.trace("underlay-subnet", MF(40000, 80, "10.96.0.10"), {
      ct: ["new", "new", "new", "new"],
      lbDst: "10.180.204.2:80",
    });
    const real = readFileSync(path.join(GOLDEN, "seed-pod0-clusterip-forward.txt"), "utf8");
    expect(mask(renderTrace(r, ["detailed"]))).toBe(mask(real));
    // Stateless: the source stays the pod's own address.
    expect(r.deliveries.map((d) => d.flow.nw_src)).toEqual([0x0ab4cc02]);
  });

  it("ovn-trace (stateless) prints what the real ovn-trace 23.03 printed: reply to the VIP", () => {
    const r = net.trace("underlay-subnet", MF(80, 40000, "10.96.0.10"), {
      ct: ["est,rpl", "est,rpl", "est,rpl"],
    });
    const real = readFileSync(path.join(GOLDEN, "seed-pod0-clusterip-reply.txt"), "utf8");
    expect(mask(renderTrace(r, ["detailed"]))).toBe(mask(real));
    expect(r.outputs).toEqual(["localnet.underlay-subnet"]);
  });

  it("with the data path's hairpin state the same flows SNAT, un-SNAT and loop the reply back", () => {
    const fwd = net.trace("underlay-subnet", MF(40000, 80, "10.96.0.10"), {
      ct: ["new", "new", "new", "new"],
      lbDst: "10.180.204.2:80",
      hairpin: [],
    });
    expect(fwd.deliveries.map((d) => [d.port, d.flow.nw_src, d.flow.nw_dst])).toEqual([
      ["deploy-169402624-0.default", 0x0a60000a, 0x0ab4cc02],
    ]);
    const session = {
      vip: "10.96.0.10",
      vipPort: 80,
      backend: "10.180.204.2",
      backendPort: 80,
      clientPort: 40000,
      proto: 6,
    };
    const rep = net.trace("underlay-subnet", MF(80, 40000, "10.96.0.10"), {
      ct: ["est,rpl", "est,rpl", "est,rpl"],
      hairpin: [session],
    });
    const text = mask(renderTrace(rep, ["detailed"]));
    expect(text).toContain("ls_in_nat_hairpin: ip && reg0[12] == 1, priority 90");
    expect(text).toContain("ls_in_hairpin: (reg0[6] == 1 || reg0[12] == 1), priority 1");
    expect(rep.deliveries.map((d) => [d.port, d.flow.nw_dst, d.flow.tp_dst])).toEqual([
      ["deploy-169402624-0.default", 0x0ab4cc02, 40000],
    ]);
    // Another connection's reply is no hairpin reply.
    const other = net.trace("underlay-subnet", MF(80, 40001, "10.96.0.10"), {
      ct: ["est,rpl", "est,rpl", "est,rpl"],
      hairpin: [session],
    });
    expect(other.outputs).toEqual(["localnet.underlay-subnet"]);
  });

  it("traceCluster: the pod sees the VIP as its peer and gets the reply from 10.96.0.10:80", () => {
    const w = buildClusterWorld(s);
    for (const [from, ip] of [
      ["default/deploy-169402624-0", "10.180.204.2"],
      ["default/deploy-169402624-1", "10.180.204.3"],
      ["default/deploy-169402624-2", "10.180.204.4"],
    ] as const) {
      const { doc } = traceCluster(w, { from, to: "10.96.0.10", port: 80 });
      expect(doc.verdict).toMatchObject({
        delivered: true,
        pod: from,
        backend: `${ip}:80`,
        backendLocal: true,
        clientIpPreserved: false,
        replyDelivered: true,
        replySourceIp: "10.96.0.10",
      });
      const hops = JSON.stringify(doc.forward);
      expect(hops).toContain(`"nw_src":"10.96.0.10"`);
    }
  });

  it("the seed path: a pod → its Service's LoadBalancer VIP is a new connection, prefer-local DNATs it to the pod itself, hairpin", () => {
    for (const [pod, ip, node] of [
      ["default/deploy-169402624-0", "10.180.204.2", "node1"],
      ["default/deploy-169402624-2", "10.180.204.4", "node3"],
    ] as const) {
      const doc = traceScenario(s, { from: pod, to: "10.180.204.252", port: 80 });
      expect(doc.verdict).toMatchObject({
        delivered: true,
        pod,
        node,
        backend: `${ip}:80`,
        clientIpPreserved: false,
        replyDelivered: true,
        replySourceIp: "10.180.204.252",
      });
      const text = JSON.stringify(doc);
      expect(text).toContain("ls_in_nat_hairpin ct_snat_to_vip");
      expect(text).toContain("is_chassis_resident");
    }
  });

  it("a node → the ClusterIP: kube-proxy's endpoint is on the underlay, which the node cannot route to", () => {
    const w = buildClusterWorld(s);
    const { doc } = traceCluster(w, { from: "node1", to: "10.96.0.10", port: 80 });
    const backend = doc.verdict.backend ?? "";
    expect(doc.verdict).toMatchObject({
      delivered: false,
      node: "node1",
      droppedAt: { layer: "physical", reason: `no route to ${backend.split(":")[0]}` },
    });
    // The same reason the physical trace gives for the node to that pod's own address.
    const direct = traceScenario(s, { from: "node1", to: backend.split(":")[0], port: 80 });
    expect(direct.verdict.droppedAt?.reason).toBe(doc.verdict.droppedAt?.reason);
  });
});
