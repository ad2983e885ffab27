// Example: a pod → an address outside the cluster. Kube-OVN makes no OVN NAT for natOutgoing:
// the distributed gateway policy (29000, port group <subnet>.<node>) reroutes the packet to the
// pod's own node's ovn0, where kube-ovn-cni's iptables MASQUERADE rewrites the source.
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

describe("pod → outside", () => {
  it("leaves through the pod's own node (distributed gateway), masqueraded by the host", () => {
    const { doc, frames } = traceCluster(w, { from: "default/peer", to: "1.1.1.1", port: 443 });
    expect(doc.verdict).toMatchObject({
      delivered: true,
      node: "node2",
      clientIpPreserved: false,
      replyDelivered: true,
    });
    const text = renderText(doc, { detailed: false });
    expect(text).toContain('Logical_Router_Policy 29000 "ip4.src == $ovn.default.node2_ip4"');
    expect(text).toContain("MASQUERADE rewrites the source to 172.18.0.3");
    expect(text).toContain(
      "Subnet ovn-default (distributed gateway: leaves through node2's ovn0) · NB Logical_Router_Policy 29000",
    );
    const cap = readPcapng(writeTracePcapng(frames, clusterCaptureWorld(s)))[0]!;
    expect(cap.interfaces.map((i) => i.name)).toEqual(
      expect.arrayContaining(["pod default/peer eth0", "node2/ovn0"]),
    );
    expect(cap.packets.length).toBeGreaterThanOrEqual(3);
  });
  it("a subnet without natOutgoing keeps the pod's address", () => {
    const { doc } = traceCluster(w, { from: "app/web-a", to: "1.1.1.1", port: 443 });
    expect(doc.verdict).toMatchObject({ delivered: true, node: "node1", clientIpPreserved: true });
  });
});
