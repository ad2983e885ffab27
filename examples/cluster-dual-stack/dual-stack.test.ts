// Example: a dual-stack cluster. Each subnet's router port, each pod's addresses and the join
// ports carry both families; ovn-cluster gets the IPv6 31000 policies and default route; a
// PreferDualStack Service gets a VIP per family on cluster-tcp-loadbalancer. Both families are
// traced end to end both ways (the live test checks every path, IPv6 included, against the real
// northd / ovn-trace): pod → IPv6 ClusterIP (DNAT on the client's switch, un-DNAT of the reply),
// pod → pod over IPv6 across subnets and nodes (Geneve), a node's ovn0 → pod over IPv6.
import { deriveClusterNbctl, loadScenario, readManifestPaths, scenarioFromTexts } from "@ovnsim/kube";
import { decodeFrame, formatIp6, readPcapng } from "@ovnsim/packet";
import {
  buildClusterWorld,
  clusterCaptureWorld,
  parseTarget,
  renderText,
  toJson,
  traceCluster,
  writeTracePcapng,
} from "@ovnsim/tracer";
import { describe, expect, it } from "vitest";

const w = buildClusterWorld(loadScenario([import.meta.dirname]));

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
  it("pod → the IPv6 ClusterIP: DNAT to a backend's IPv6 address, the reply's source restored", () => {
    const { doc, frames } = traceCluster(w, { from: "default/client", to: "fd00:10:96::a", port: 80 });
    expect(doc.verdict).toMatchObject({
      delivered: true,
      pod: "app/web-1",
      node: "node2",
      backend: "[fd00:10:17::3]:8080",
      backendLocal: false,
      clientIpPreserved: true,
      replyDelivered: true,
      replySourceIp: "fd00:10:96::a",
    });
    const text = renderText(doc, { detailed: false });
    expect(text).toContain(
      'Service app/web (VIP [fd00:10:96::a]:80) · NB Load_Balancer cluster-tcp-loadbalancer vips "[fd00:10:96::a]:80" · lflow ls_in_lb 120',
    );
    expect(text).toContain('Logical_Router_Policy 31000 "ip6.dst == fd00:10:17::/112"');
    expect(text).toContain("tcp [fd00:10:16::2]:40000 > [fd00:10:96::a]:80");
    expect(text).toContain("Geneve node1 → node2");
    expect(text).toContain("source back to [fd00:10:96::a]:80");
    // The pcap: IPv6 frames, the reply from the VIP, byte for byte the same twice.
    const pa = writeTracePcapng(frames, clusterCaptureWorld(w.scenario));
    const again = traceCluster(buildClusterWorld(loadScenario([import.meta.dirname])), {
      from: "default/client",
      to: "fd00:10:96::a",
      port: 80,
    });
    expect(toJson(again.doc)).toBe(toJson(doc));
    expect(
      Buffer.from(writeTracePcapng(again.frames, clusterCaptureWorld(w.scenario))).equals(Buffer.from(pa)),
    ).toBe(true);
    const pk = readPcapng(pa)[0]!.packets.map((p) => decodeFrame(p.bytes).flow);
    expect(pk.every((f) => f.dl_type === 0x86dd)).toBe(true);
    expect(formatIp6(pk[0]!.ipv6_dst)).toBe("fd00:10:96::a");
    expect(formatIp6(pk[pk.length - 1]!.ipv6_src)).toBe("fd00:10:96::a");
  });
  it("pod → pod over IPv6 across subnets and nodes, and ICMPv6 echo", () => {
    const { doc } = traceCluster(w, { from: "default/client", to: "fd00:10:17::3", port: 8080 });
    expect(doc.verdict).toMatchObject({ delivered: true, pod: "app/web-1", replySourceIp: "fd00:10:17::3" });
    const text = renderText(doc, { detailed: false });
    expect(text).toContain("Geneve node2 → node1");
    expect(text).toContain('Logical_Router_Policy 31000 "ip6.dst == fd00:10:16::/112"');
    const ping = traceCluster(w, { from: "app/web-0", to: "fd00:10:16::2", proto: "icmp" });
    expect(ping.doc.verdict).toMatchObject({ delivered: true, pod: "default/client", replyDelivered: true });
    expect(renderText(ping.doc, { detailed: false })).toContain("icmp6 fd00:10:17::2 > fd00:10:16::2");
  });
  it("a node's ovn0 → a pod over IPv6: the host routes via the join IPv6 gateway", () => {
    const { doc } = traceCluster(w, { from: "node2", to: "fd00:10:17::2", port: 8080 });
    expect(doc.verdict).toMatchObject({ delivered: true, pod: "app/web-0", replyDelivered: true });
    const text = renderText(doc, { detailed: false });
    expect(text).toContain("the host routes the cluster's CIDRs via fd00:100:64::1 dev ovn0");
    expect(text).toContain("tcp [fd00:100:64::3]:40000 > [fd00:10:17::2]:8080");
  });
  it("--to takes IPv6 as [IP]:PORT or bare; a pod without IPv6 is a typed error", () => {
    expect(parseTarget("[fd00:10:96::a]:80")).toEqual({ kind: "ip", ip: "fd00:10:96::a", port: 80 });
    expect(parseTarget("FD00:10:96:0::A")).toEqual({ kind: "ip", ip: "fd00:10:96::a" });
    expect(() => parseTarget("[fd00::zz]:80")).toThrow(/--to/);
  });
  it("IPv6 excludeIps: each family skips its own entries (pkg/ipam), the trace follows the new address", () => {
    const texts = readManifestPaths([import.meta.dirname]).map((t) =>
      t.text.includes("name: app }") && t.text.includes("fd00:10:17::1")
        ? {
            ...t,
            text: t.text.replace(
              "gateway: 10.17.0.1,fd00:10:17::1",
              "gateway: 10.17.0.1,fd00:10:17::1\n  excludeIps: [10.17.0.2, fd00:10:17::2..fd00:10:17::9]",
            ),
          }
        : t,
    );
    const ex = scenarioFromTexts(texts);
    const web0 = ex.pods.find((p) => p.name === "web-0")!;
    expect(web0.ip).toBe("10.17.0.3");
    expect(ex.cluster!.podIp6[web0.lsp]).toBe("fd00:10:17::a");
    expect(deriveClusterNbctl(ex).lines.join("\n")).toContain(`"${web0.mac} 10.17.0.3 fd00:10:17::a"`);
    const { doc } = traceCluster(buildClusterWorld(ex), { from: "node2", to: "fd00:10:17::a", port: 8080 });
    expect(doc.verdict).toMatchObject({ delivered: true, pod: "app/web-0", replyDelivered: true });
  });
});
