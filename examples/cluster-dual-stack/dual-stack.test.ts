// Example: a dual-stack cluster. Each subnet's router port, each pod's addresses and the join
// ports carry both families; ovn-cluster gets the IPv6 31000 policies and default route; a
// PreferDualStack Service gets a VIP per family on cluster-tcp-loadbalancer. The IPv4 paths are
// traced; IPv6 paths are derived (and checked against the real northd by the live test) but not
// traced yet.
import { deriveClusterNbctl, loadScenario } from "@ovnsim/kube";
import { buildClusterWorld, traceCluster } from "@ovnsim/tracer";
import { describe, expect, it } from "vitest";

const s = loadScenario([import.meta.dirname]);

describe("dual-stack subnets and Services", () => {
  it("the Service has a ClusterIP per family, both on cluster-tcp-loadbalancer", () => {
    expect(s.cluster?.services.find((x) => x.name === "web")?.clusterIps).toEqual([
      "10.96.0.10",
      "fd00:10:96::a",
    ]);
    const nb = deriveClusterNbctl(s).lines.join("\n");
    expect(nb).toContain(
      'lb-add cluster-tcp-loadbalancer [fd00:10:96::a]:80 "[fd00:10:17::2]:8080,[fd00:10:17::3]:8080" tcp',
    );
    expect(nb).toContain(
      "lrp-add ovn-cluster ovn-cluster-app 0a:58:0a:11:00:01 10.17.0.1/16 fd00:10:17::1/112",
    );
    expect(nb).toContain('lr-policy-add ovn-cluster 31000 "ip6.dst == fd00:10:17::/112" allow');
    expect(nb).toContain("lr-route-add ovn-cluster ::/0 fd00:100:64::1");
    expect(nb).toContain(
      'lsp-add app web-0.app -- lsp-set-addresses web-0.app "00:00:00:11:00:02 10.17.0.2 fd00:10:17::2"',
    );
  });
  it("the IPv4 path to the ClusterIP works as in a single-stack cluster", () => {
    const { doc } = traceCluster(buildClusterWorld(s), {
      from: "default/client",
      to: "10.96.0.10",
      port: 80,
    });
    expect(doc.verdict).toMatchObject({ delivered: true, replySourceIp: "10.96.0.10" });
  });
});
