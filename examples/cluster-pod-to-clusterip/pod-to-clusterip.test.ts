// Example: a pod in ovn-default reaches a ClusterIP Service whose endpoints live in another
// subnet on both nodes. Kube-OVN puts the ClusterIP on cluster-tcp-loadbalancer, attached to
// every subnet switch: the client's own switch DNATs it (ls_in_lb), ovn-cluster routes it
// (policy 31000), and the reply's source is restored to the ClusterIP by conntrack. A Service
// without endpoints has no VIP at all (Kube-OVN deletes it), so its ClusterIP leaves OVN on the
// client's node's ovn0 and kube-proxy there rejects it.
import {
  deriveClusterNbctl,
  diagnose,
  loadScenario,
  readManifestPaths,
  scenarioFromTexts,
} from "@ovnsim/kube";
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
  it("a Service without endpoints: no VIP on the LB, out through ovn0, kube-proxy rejects it", () => {
    const empty = `apiVersion: v1
kind: Service
metadata: { name: empty, namespace: app }
spec:
  type: ClusterIP
  clusterIP: 10.96.100.20
  selector: { app: nothing }
  ports: [{ port: 80, targetPort: 8080, protocol: TCP }]
`;
    const s2 = scenarioFromTexts([
      ...readManifestPaths([import.meta.dirname]),
      { file: "20-empty.yaml", text: empty },
    ]);
    // endpoint_slice.go: "for performance reason delete lb with no backends".
    const nb = deriveClusterNbctl(s2).lines.join("\n");
    expect(nb).not.toContain("10.96.100.20");
    expect(nb).toContain("lb-add cluster-tcp-loadbalancer 10.96.100.10:80");
    const w2 = buildClusterWorld(s2);
    const { doc, frames } = traceCluster(w2, { from: "default/client", to: "10.96.100.20", port: 80 });
    expect(doc.verdict.delivered).toBe(false);
    expect(doc.verdict.droppedAt).toMatchObject({ layer: "host", where: "node1/kube-proxy" });
    const text = renderText(doc, { detailed: false });
    expect(text).not.toContain("ls_in_lb: dropped");
    expect(text).toContain('Logical_Router_Policy 29000 "ip4.src == $ovn.default.node1_ip4"');
    expect(text).toContain("output to node-node1 on node1");
    expect(text).toContain('kube-proxy REJECTs it (filter KUBE-SERVICES "has no endpoints"');
    expect(doc.findings.map((f) => f.code)).toContain("SERVICE_NO_ENDPOINTS");
    expect(diagnose(s2).find((f) => f.code === "SERVICE_NO_ENDPOINTS")?.message).toContain(
      "Kube-OVN deletes 10.96.100.20 from cluster-tcp-loadbalancer",
    );
    const cap = readPcapng(writeTracePcapng(frames, clusterCaptureWorld(s2)))[0]!;
    expect(cap.interfaces.map((i) => i.name)).toEqual(
      expect.arrayContaining(["pod default/client eth0", "node1/ovn0"]),
    );
    // The live Service on the same cluster is still DNATed by OVN.
    expect(
      traceCluster(w2, { from: "default/client", to: "10.96.100.10", port: 80 }).doc.verdict.delivered,
    ).toBe(true);
  });
});
