// Example: the host network (each node's ovn0 on the join switch, node-<name>) → pods: the host
// routes the cluster CIDRs via the join gateway with its InternalIP as source (kube-ovn-cni's
// routes); ovn-cluster's policy 30000 on that InternalIP brings the reply back to the node's
// ovn0. A pod → its node's InternalIP takes the same policy. And the host → a ClusterIP: the join
// switch has no load balancer, kube-proxy's iptables in the host DNAT it to an endpoint and
// MASQUERADE it to ovn0's join address before OVN sees it; the host's conntrack un-NATs the reply.
import { decodeFrame, formatIp4, readPcapng } from "@ovnsim/packet";
import { deriveClusterNbctl, loadScenario } from "@ovnsim/kube";
import {
  buildClusterWorld,
  clusterCaptureWorld,
  isClusterPath,
  kubeProxyEndpoint,
  renderText,
  toJson,
  traceCluster,
  writeTracePcapng,
} from "@ovnsim/tracer";
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
    // kube-ovn-cni's route names the node's InternalIP as source; the reply to it is policy 30000's.
    expect(text).toContain(
      "the host routes the cluster's CIDRs via 100.64.0.1 dev ovn0 src 172.18.0.3 (kube-ovn-cni's route)",
    );
    expect(text).toContain("tcp 172.18.0.3:40000 > 10.17.0.2:8080");
    expect(text).toContain('Logical_Router_Policy 30000 "ip4.dst == 172.18.0.3"');
  });
  it("a pod → the other node's InternalIP: policy 30000 reroutes to that node's ovn0", () => {
    const { doc } = traceCluster(w, { from: "default/client", to: "172.18.0.3", port: 10250 });
    expect(doc.verdict).toMatchObject({ delivered: true, node: "node2", pod: null });
    expect(renderText(doc, { detailed: false })).toContain(
      'Node node2 (traffic to the node\'s InternalIP goes to its ovn0 (100.64.0.3)) · NB Logical_Router_Policy 30000 "ip4.dst == 172.18.0.3"',
    );
  });
  it("a node → a ClusterIP: kube-proxy DNATs and masquerades in the host, OVN routes to the endpoint, the host un-NATs the reply", () => {
    expect(isClusterPath(s, "node1", "10.96.50.5")).toBe(true);
    const { doc, frames } = traceCluster(w, { from: "node1", to: "10.96.50.5", port: 80 });
    const svc = s.services.find((x) => x.name === "web")!;
    const ep = kubeProxyEndpoint(s, svc, "10.96.50.5", 80, "node1")!;
    expect(doc.verdict).toMatchObject({
      delivered: true,
      pod: `app/${ep.pod.name}`,
      backend: `${ep.ip}:8080`,
      clientIpPreserved: false,
      replyDelivered: true,
      replySourceIp: "10.96.50.5",
    });
    const text = renderText(doc, { detailed: false });
    expect(text).toContain("kube-proxy (iptables) on node1: 10.96.50.5:80 → KUBE-SERVICES → KUBE-SVC");
    expect(text).toContain("MASQUERADEs the source 172.18.0.2 to ovn0's 100.64.0.2");
    expect(text).toContain(`tcp 100.64.0.2:40000 > ${ep.ip}:8080`);
    expect(text).toContain("Service app/web");
    expect(text).toContain('Logical_Router_Policy 31000 "ip4.dst == 100.64.0.0/16"');
    expect(text).toContain("source back to 10.96.50.5:80, destination back to 172.18.0.2");
    // JSON carries the same attribution; the pcap starts on ovn0 after the host's NAT.
    expect(toJson(doc)).toContain("kube-proxy (iptables) on node1");
    const pk = readPcapng(writeTracePcapng(frames, clusterCaptureWorld(s)))[0]!.packets.map(
      (p) => decodeFrame(p.bytes).flow,
    );
    expect(formatIp4(pk[0]!.nw_src)).toBe("100.64.0.2");
    expect(formatIp4(pk[0]!.nw_dst)).toBe(ep.ip);
    expect(formatIp4(pk[pk.length - 1]!.nw_dst)).toBe("100.64.0.2");
  });
  it("kube-proxy picks the endpoint the same way every run; other nodes may pick another", () => {
    const svc = s.services.find((x) => x.name === "web")!;
    const a = traceCluster(buildClusterWorld(loadScenario([import.meta.dirname])), {
      from: "node2",
      to: "10.96.50.5",
    });
    expect(toJson(a.doc)).toBe(toJson(traceCluster(w, { from: "node2", to: "10.96.50.5" }).doc));
    expect(a.doc.verdict.backend).toBe(`${kubeProxyEndpoint(s, svc, "10.96.50.5", 80, "node2")!.ip}:8080`);
  });
  it("a ClusterIP without endpoints: kube-proxy REJECTs it in the host; a port the Service lacks has no rule", () => {
    const { doc } = traceCluster(w, { from: "node1", to: "10.96.50.6", port: 80 });
    expect(doc.verdict).toMatchObject({
      delivered: false,
      droppedAt: { layer: "host", where: "node1/kube-proxy" },
    });
    expect(doc.verdict.droppedAt?.reason).toContain("REJECTs it");
    expect(doc.verdict.droppedAt?.reason).toContain("Service app/empty has no ready endpoint");
    const other = traceCluster(w, { from: "node1", to: "10.96.50.5", port: 81 });
    expect(other.doc.verdict.droppedAt?.reason).toContain("has no rule for 10.96.50.5:81/tcp");
  });
});
