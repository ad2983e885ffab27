// Example: pod → pod across subnets, on the same node (ovn-cluster routes it, policy 31000, no
// tunnel) and on another node (the last switch's egress runs on the destination chassis, after
// a Geneve crossing shown at the logical level); and within one subnet across nodes.
import { loadScenario } from "@ovnsim/kube";
import { readPcapng } from "@ovnsim/packet";
import {
  buildClusterWorld,
  clusterCaptureWorld,
  renderText,
  traceCluster,
  writeTracePcapng,
} from "@ovnsim/tracer";
import { describe, expect, it } from "vitest";

const s = loadScenario([import.meta.dirname]);
const w = buildClusterWorld(s);
const ip = (name: string) => s.pods.find((p) => p.name === name)!.ip;

describe("pod → pod", () => {
  it("across subnets on the same node: routed by ovn-cluster, no tunnel", () => {
    const { doc } = traceCluster(w, { from: "default/client", to: ip("web-a"), port: 8080 });
    expect(doc.verdict).toMatchObject({
      delivered: true,
      pod: "app/web-a",
      node: "node1",
      replyDelivered: true,
    });
    const text = renderText(doc, { detailed: false });
    expect(text).toContain('Logical_Router_Policy 31000 "ip4.dst == 10.17.0.0/16"');
    expect(text).not.toContain("Geneve");
  });
  it("across subnets and nodes: Geneve node1 → node2 both ways", () => {
    const { doc, frames } = traceCluster(w, { from: "default/client", to: ip("web-b"), port: 8080 });
    expect(doc.verdict).toMatchObject({
      delivered: true,
      pod: "app/web-b",
      node: "node2",
      replySourceIp: ip("web-b"),
    });
    const text = renderText(doc, { detailed: false });
    expect(text).toContain("Geneve node1 → node2");
    expect(text).toContain("Geneve node2 → node1");
    expect(frames.map((f) => f.link)).toContain("node1/genev_sys_6081");
    expect(text).toContain(
      "Pod app/web-b (pod on node2) · NB Logical_Switch_Port web-b.app · lflow output to web-b.app",
    );
    const cap = readPcapng(writeTracePcapng(frames, clusterCaptureWorld(s)))[0]!;
    const names = cap.interfaces.map((i) => i.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "pod default/client eth0",
        "pod app/web-b eth0",
        "node1/genev_sys_6081",
        "node2/genev_sys_6081",
      ]),
    );
    expect(cap.packets.length).toBeGreaterThanOrEqual(6);
  });
  it("same subnet, other node: the switch alone, straight to the peer's MAC", () => {
    const { doc } = traceCluster(w, { from: "default/client", to: ip("peer"), port: 8080 });
    expect(doc.verdict).toMatchObject({ delivered: true, pod: "default/peer", node: "node2" });
    expect(renderText(doc, { detailed: false })).not.toContain("ovn-cluster");
  });
});
