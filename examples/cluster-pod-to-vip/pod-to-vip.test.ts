// Example: pods inside the cluster calling the seed's MetalLB VIP, on Kube-OVN 1.14.
//
// What 1.14 really does (kube-ovn PR #7040's discussion): the VIP is a plain VIP of
// cluster-tcp-loadbalancer, which is attached to every subnet switch, so a pod's packet to it
// is DNATed by its OWN switch, on its own chassis (ls_in_lb; prefer-local picks a backend on the
// client's node). It never goes to the node MetalLB elected. PR #7040 (v1.15.x / v1.16.x
// backports #7066, #7067, not 1.14) defers that DNAT to the announcing chassis for
// ETP=Local VIPs; this example states the 1.14 behaviour.
import { readFileSync } from "node:fs";
import path from "node:path";
import { electAnnouncer, loadScenario, readManifestPaths, scenarioFromTexts } from "@ovnsim/kube";
import { readPcapng } from "@ovnsim/packet";
import {
  buildClusterWorld,
  clusterCaptureWorld,
  isClusterPath,
  renderText,
  traceCluster,
  writeTracePcapng,
} from "@ovnsim/tracer";
import { describe, expect, it } from "vitest";

const s = loadScenario([import.meta.dirname]);
const w = buildClusterWorld(s);
const VIP = "10.180.204.252";

describe("pod → MetalLB VIP on Kube-OVN 1.14", () => {
  it("an underlay pod is DNATed by its own switch to a backend on its own node, not via the announcing node", () => {
    const svc = s.services.find((x) => x.name === "nginx-lb")!;
    expect(electAnnouncer(s, svc, VIP).node).toBe("node3");
    const { doc } = traceCluster(w, { from: "default/underlay-client", to: VIP, port: 80 });
    expect(doc.verdict).toMatchObject({
      delivered: true,
      pod: "default/deploy-169402624-0",
      node: "node1",
      backendLocal: true,
      replyDelivered: true,
      replySourceIp: VIP,
    });
    const text = renderText(doc, { detailed: false });
    expect(text).toContain("MetalLB's speaker on node3 answers its ARP with 52:54:00:0a:00:03");
    expect(text).toContain(
      'Load_Balancer cluster-tcp-loadbalancer vips "10.180.204.252:80" · lflow ls_in_lb 140',
    );
    expect(text).not.toContain("Geneve");
  });
  it("a pod on the announcing node (node3) and one on another node (node1): each DNATed on its own chassis, pcap both ways", () => {
    const texts = [
      ...readManifestPaths([import.meta.dirname]),
      {
        file: "52-announcer-client.yaml",
        text: `apiVersion: v1
kind: Pod
metadata:
  name: announcer-client
  namespace: default
  annotations: { ovn.kubernetes.io/logical_switch: underlay-subnet }
spec: { nodeName: node3 }
`,
      },
    ];
    const s3 = scenarioFromTexts(texts);
    const w3 = buildClusterWorld(s3);
    for (const [from, node] of [
      ["default/announcer-client", "node3"],
      ["default/underlay-client", "node1"],
    ] as const) {
      const { doc, frames } = traceCluster(w3, { from, to: VIP, port: 80 });
      expect(doc.verdict, from).toMatchObject({
        delivered: true,
        node,
        backendLocal: true,
        replyDelivered: true,
        replySourceIp: VIP,
      });
      const text = renderText(doc, { detailed: false });
      expect(text).toContain("Service default/nginx-lb (LoadBalancer VIP 10.180.204.252:80");
      expect(text).toMatch(
        /Subnet underlay-subnet \(logical switch\) · NB Logical_Switch underlay-subnet · lflow/,
      );
      const cap = readPcapng(writeTracePcapng(frames, clusterCaptureWorld(s3)))[0]!;
      const client = from.split("/")[1]!;
      expect(cap.interfaces.map((i) => i.name)).toContain(`pod default/${client} eth0`);
      expect(cap.packets.length).toBeGreaterThanOrEqual(2);
    }
  });
  it("an overlay pod is DNATed on ovn-default; without U2O the backend is only reachable through the host", () => {
    const { doc } = traceCluster(w, { from: "default/overlay-client", to: VIP, port: 80 });
    expect(doc.verdict.delivered).toBe(false);
    expect(doc.verdict.backend).toBe("10.180.204.3:80");
    expect(doc.verdict.droppedAt?.layer).toBe("host");
    expect(doc.verdict.droppedAt?.reason).toContain("no router port on ovn-cluster");
  });
  it("with u2oInterconnection the overlay pod reaches the backend inside OVN (policy 29400)", () => {
    const texts = readManifestPaths([import.meta.dirname]).map((t) =>
      path.basename(t.file) === "10-underlay-network.yaml"
        ? {
            ...t,
            text: t.text.replace("natOutgoing: false", "natOutgoing: false\n  u2oInterconnection: true"),
          }
        : t,
    );
    const u2o = scenarioFromTexts(texts);
    const { doc } = traceCluster(buildClusterWorld(u2o), {
      from: "default/overlay-client",
      to: VIP,
      port: 80,
    });
    expect(doc.verdict).toMatchObject({
      delivered: true,
      pod: "default/deploy-169402624-1",
      replySourceIp: VIP,
    });
    expect(renderText(doc, { detailed: false })).toContain(
      'Logical_Router_Policy 29400 "ip4.dst == 10.180.204.0/24"',
    );
  });
  it("`ovnsim trace` keeps the seed's own path for the seed's pods (its findings and verdicts do not change)", () => {
    expect(isClusterPath(s, "default/deploy-169402624-0", VIP)).toBe(false);
    expect(isClusterPath(s, "client", VIP)).toBe(false);
    expect(isClusterPath(s, "default/overlay-client", VIP)).toBe(true);
    expect(readFileSync(path.join(import.meta.dirname, "30-app.yaml"), "utf8")).toBe(
      readFileSync(path.join(import.meta.dirname, "../metallb-underlay/30-app.yaml"), "utf8"),
    );
  });
  it("a node → the VIP: kube-proxy DNATs it in the host (LOCAL traffic goes cluster-wide); with no ovn0 route to the underlay backend the host routes it by its own table, and the scenario's nodes have no route there", () => {
    expect(isClusterPath(s, "node1", VIP)).toBe(true);
    const { doc, frames } = traceCluster(w, { from: "node1", to: VIP, port: 80 });
    const backend = doc.verdict.backend ?? "";
    expect(backend).toMatch(/^10\.180\.204\.\d+:80$/);
    // The same drop as `ovnsim trace --from node/node1 --to <that pod's IP>`: the physical
    // model gives the nodes no address or route on the underlay (the seed's topology).
    expect(doc.verdict).toMatchObject({
      delivered: false,
      node: "node1",
      droppedAt: { layer: "physical", reason: `no route to ${backend.split(":")[0]}` },
    });
    const text = renderText(doc, { detailed: false });
    expect(text).toContain(
      "KUBE-EXT (externalTrafficPolicy Local: LOCAL-sourced traffic is masqueraded and sent to the cluster-wide KUBE-SVC chain)",
    );
    expect(text).toContain(
      "kube-ovn-cni adds no route via ovn0 for Subnet underlay-subnet (underlay without logicalGateway or U2O",
    );
    expect(frames).toEqual([]);
  });
});
