// Example: a pod in ovn-default reaches a ClusterIP Service whose endpoints live in another
// subnet on both nodes. Kube-OVN puts the ClusterIP on cluster-tcp-loadbalancer, attached to
// every subnet switch: the client's own switch DNATs it (ls_in_lb), ovn-cluster routes it
// (policy 31000), and the reply's source is restored to the ClusterIP by conntrack.
import { deriveClusterNbctl, loadScenario } from "@ovnsim/kube";
import { readPcapng } from "@ovnsim/packet";
import {
  buildClusterWorld,
  clusterCaptureWorld,
  renderText,
  resolveTarget,
  parseTarget,
  toJson,
  traceCluster,
  writeTracePcapng,
} from "@ovnsim/tracer";
import { describe, expect, it } from "vitest";

const s = loadScenario([import.meta.dirname]);
const w = buildClusterWorld(s);

describe("pod → ClusterIP (cluster-tcp-loadbalancer)", () => {
  it("the Service's ClusterIP is a VIP of cluster-tcp-loadbalancer with its endpoints as backends", () => {
    const nb = deriveClusterNbctl(s).lines.join("\n");
    expect(nb).toContain(
      'lb-add cluster-tcp-loadbalancer 10.96.100.10:80 "10.17.0.2:8080,10.17.0.3:8080" tcp',
    );
    expect(nb).toContain("ls-lb-add app cluster-tcp-loadbalancer");
    expect(nb).not.toContain("ls-lb-add join");
  });
  it("svc/app/web resolves to the ClusterIP", () => {
    expect(resolveTarget(s, parseTarget("svc/app/web"))).toEqual({ to: "10.96.100.10" });
  });
  it("is DNATed on the client's switch, routed by ovn-cluster, and answered from the ClusterIP", () => {
    const { doc } = traceCluster(w, { from: "default/client", to: "10.96.100.10", port: 80 });
    expect(doc.verdict.delivered).toBe(true);
    expect(doc.verdict.backend).toMatch(/^10\.17\.0\.[23]:8080$/);
    expect(doc.verdict.replyDelivered).toBe(true);
    expect(doc.verdict.replySourceIp).toBe("10.96.100.10");
    const text = renderText(doc, { detailed: false });
    expect(text).toContain(
      'Service app/web (VIP 10.96.100.10:80) · NB Load_Balancer cluster-tcp-loadbalancer vips "10.96.100.10:80" · lflow ls_in_lb',
    );
    expect(text).toContain('Logical_Router_Policy 31000 "ip4.dst == 10.17.0.0/16"');
    expect(text).toContain("conntrack reverses the Service DNAT");
  });
  it("a backend on the other node crosses Geneve; the pcap has the hops, byte for byte the same twice", () => {
    const a = traceCluster(w, { from: "default/client", to: "10.96.100.10", port: 80 });
    const b = traceCluster(buildClusterWorld(loadScenario([import.meta.dirname])), {
      from: "default/client",
      to: "10.96.100.10",
      port: 80,
    });
    expect(toJson(a.doc)).toBe(toJson(b.doc));
    const pa = writeTracePcapng(a.frames, clusterCaptureWorld(s));
    expect(Buffer.from(pa).equals(Buffer.from(writeTracePcapng(b.frames, clusterCaptureWorld(s))))).toBe(
      true,
    );
    const cap = readPcapng(pa)[0]!;
    expect(cap.packets.length).toBeGreaterThanOrEqual(4);
    const names = cap.interfaces.map((i) => i.name);
    expect(names).toContain("pod default/client eth0");
    if (a.doc.verdict.pod === "app/web-1") expect(names).toContain("node1/genev_sys_6081");
  });
});
