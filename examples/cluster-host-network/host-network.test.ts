// Example: the host network (each node's ovn0 on the join switch, node-<name>) → pods: the host
// routes the cluster CIDRs via the join gateway; ovn-cluster's policy 31000 on the join CIDR
// brings the reply back to ovn0. And a pod → its node's InternalIP: policy 30000 reroutes it to
// that node's ovn0.
import { deriveClusterNbctl, loadScenario } from "@ovnsim/kube";
import { buildClusterWorld, renderText, traceCluster } from "@ovnsim/tracer";
import { describe, expect, it } from "vitest";

const s = loadScenario([import.meta.dirname]);
const w = buildClusterWorld(s);
const ip = (name: string) => s.pods.find((p) => p.name === name)!.ip;

describe("host network (ovn0) ↔ pods", () => {
  it("node ports are the nodes' ovn0 on join", () => {
    const nb = deriveClusterNbctl(s).lines;
    expect(nb).toContain(
      'ovn-nbctl lsp-add join node-node1 -- lsp-set-addresses node-node1 "0a:58:64:40:00:02 100.64.0.2"',
    );
    expect(nb).toContain("ovn-sbctl lsp-bind node-node2 node2");
  });
  it("node2's host → a pod on node1: through join and ovn-cluster, reply back to ovn0", () => {
    const { doc } = traceCluster(w, { from: "node2", to: ip("web-a"), port: 8080 });
    expect(doc.verdict).toMatchObject({ delivered: true, pod: "app/web-a", replyDelivered: true });
    const text = renderText(doc, { detailed: false });
    expect(text).toContain("the host routes the cluster's CIDRs via 100.64.0.1 dev ovn0");
    expect(text).toContain('Logical_Router_Policy 31000 "ip4.dst == 100.64.0.0/16"');
  });
  it("a pod → the other node's InternalIP: policy 30000 reroutes to that node's ovn0", () => {
    const { doc } = traceCluster(w, { from: "default/client", to: "172.18.0.3", port: 10250 });
    expect(doc.verdict).toMatchObject({ delivered: true, node: "node2", pod: null });
    expect(renderText(doc, { detailed: false })).toContain(
      'Node node2 (traffic to the node\'s InternalIP goes to its ovn0 (100.64.0.3)) · NB Logical_Router_Policy 30000 "ip4.dst == 172.18.0.3"',
    );
  });
});
