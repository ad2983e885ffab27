// Example: the seed scenario on a dual-stack cluster. MetalLB gives the Service one address per
// family from a dual-stack IPAddressPool; Kube-OVN puts both on cluster-tcp-loadbalancer
// (IPv6 VIP "[fd00:…]:80", ip_port_mappings keys bracketed) and kube-cni writes one VIP flow per
// family on br-provider: cookie 0x1000 (tcp, nw_dst) and cookie 0x1001 (tcp6, ipv6_dst).
// An external client reaches the IPv6 VIP end to end: NDP for the router, then the router's
// neighbour solicitation for the VIP answered by MetalLB's elected speaker (a neighbour
// advertisement from its br-provider.341), the 0x1001 flow into OVN, prefer-local DNAT to the
// backend on that node, and the reply un-DNATed back to the VIP. Each family has its own MetalLB
// election (sha256 of node + "#" + IP), so the two VIPs can be announced by different nodes.
import {
  deriveNbctl,
  deriveNodeDataplane,
  diagnose,
  electAnnouncer,
  loadScenario,
  readManifestPaths,
  scenarioFromTexts,
} from "@ovnsim/kube";
import { decodeFrame, formatIp6, readPcapng } from "@ovnsim/packet";
import {
  captureWorld,
  createSimulation,
  renderText,
  runTrace,
  toJson,
  trace,
  writeTracePcapng,
} from "@ovnsim/tracer";
import { describe, expect, it } from "vitest";

const s = loadScenario([import.meta.dirname]);
const VIP4 = "10.180.204.250";
const VIP6 = "fd00:10:180:204::fa";

describe("dual-stack MetalLB VIPs on a Kube-OVN underlay", () => {
  it("MetalLB allocates one address per family from the dual-stack pool", () => {
    const svc = s.services.find((x) => x.name === "web-lb")!;
    expect(svc.vips).toEqual([VIP4, VIP6]);
    expect(svc.pool).toBe("underlay-pool");
    expect(electAnnouncer(s, svc, VIP4).node).toBe("node2");
    expect(electAnnouncer(s, svc, VIP6).node).toBe("node3");
  });
  it("Kube-OVN's NB rows and kube-ovn-cni's br-provider flows carry the IPv6 VIP", () => {
    const nb = deriveNbctl(s);
    expect(nb).toContain(
      'ovn-nbctl lb-add cluster-tcp-loadbalancer [fd00:10:180:204::fa]:80 "[fd00:10:180:204::2]:80,[fd00:10:180:204::3]:80,[fd00:10:180:204::4]:80" tcp',
    );
    expect(nb.join("\n")).toContain(`'ip_port_mappings:"[fd00:10:180:204::4]"="web-2.default:0.0.0.0"'`);
    expect(nb.join("\n")).toContain("external_ids:ipv6_network=fd00:10:180:204::/64");
    const flows = deriveNodeDataplane(s, "node3").bridges.find((b) => b.name === "br-provider")!.flows;
    expect(flows).toEqual([
      "cookie=0x1000,priority=10000,in_port=1,tcp,nw_dst=10.180.204.250,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2",
      "cookie=0x1001,priority=10000,in_port=1,tcp6,ipv6_dst=fd00:10:180:204::fa,tp_dst=80 actions=mod_dl_dst:00:00:00:01:00:01,output:2",
      "priority=0 actions=NORMAL",
    ]);
  });
  it("client → the IPv6 VIP: NDP answered by MetalLB, cookie 0x1001, prefer-local DNAT, the reply from the VIP", () => {
    const sim = createSimulation(s);
    const { doc, frames } = runTrace(sim, { to: VIP6 });
    expect(doc.verdict).toMatchObject({
      delivered: true,
      pod: "default/web-2",
      node: "node3",
      announcingNode: "node3",
      backend: "[fd00:10:180:204::4]:80",
      backendLocal: true,
      clientIpPreserved: true,
      replyDelivered: true,
      replySourceIp: VIP6,
    });
    const text = renderText(doc, { detailed: false });
    expect(text).toContain(
      `${VIP6} is a LoadBalancer address of Service default/web-lb (externalTrafficPolicy Local) · MetalLB IPAddressPool underlay-pool · L2Advertisement metallb-system/l2-advert · announced by node3 (NDP) · NB Load_Balancer cluster-tcp-loadbalancer vips "[${VIP6}]:80"`,
    );
    expect(text).toContain(`speaker answers NS for ${VIP6} with 52:54:00:0a:00:03`);
    expect(text).toContain(`neighbor advertisement, tgt is ${VIP6} is-at 52:54:00:0a:00:03`);
    expect(text).toContain("table 0 priority 10000 cookie 0x1001: mod_dl_dst:00:00:00:01:00:01,output:2");
    expect(text).toContain(
      `ls_in_lb (table 13): priority 140: ct.new && ip6.dst == ${VIP6} && tcp.dst == 80 && is_chassis_resident("web-2.default")`,
    );
    expect(text).toContain(`DNAT [${VIP6}]:80 → [fd00:10:180:204::4]:80 (backend on this chassis)`);
    expect(text).toContain(`source [fd00:10:180:204::4]:80 → [${VIP6}]:80`);
    // JSON and pcap: deterministic, IPv6 on the wire, the NA among the frames.
    expect(toJson(trace(createSimulation(loadScenario([import.meta.dirname])), { to: VIP6 }))).toBe(
      toJson(doc),
    );
    const pk = readPcapng(writeTracePcapng(frames, captureWorld(sim)))[0]!.packets.map(
      (p) => decodeFrame(p.bytes).flow,
    );
    expect(pk.some((f) => f.dl_type === 0x86dd && f.nw_proto === 58 && f.tp_src === 136)).toBe(true);
    const tcp = pk.filter((f) => f.dl_type === 0x86dd && f.nw_proto === 6);
    expect(formatIp6(tcp[0]!.ipv6_dst)).toBe(VIP6);
    expect(formatIp6(tcp[tcp.length - 1]!.ipv6_src)).toBe(VIP6);
  });
  it("--datapath openflow: br-int as OpenFlow reaches the same verdict for the IPv6 VIP", () => {
    const doc = trace(createSimulation(s, { datapath: "openflow" }), { to: VIP6 });
    expect(doc.verdict).toMatchObject({
      delivered: true,
      pod: "default/web-2",
      backend: "[fd00:10:180:204::4]:80",
      backendLocal: true,
      replyDelivered: true,
      replySourceIp: VIP6,
    });
  });
  it("the IPv4 VIP of the same Service keeps the seed's path (ARP, cookie 0x1000), announced by its own node", () => {
    const doc = trace(createSimulation(s), { to: VIP4 });
    expect(doc.verdict).toMatchObject({
      delivered: true,
      announcingNode: "node2",
      backend: "10.180.204.3:80",
      replySourceIp: VIP4,
    });
    expect(renderText(doc, { detailed: false })).toContain("cookie 0x1000");
  });
});

/** The example's manifests with one file's text rewritten, plus extra documents. */
function variant(file: string, edit: (t: string) => string, extra?: string) {
  const texts = readManifestPaths([import.meta.dirname]).map((t) =>
    t.file.endsWith(file) ? { ...t, text: edit(t.text) } : t,
  );
  return scenarioFromTexts(extra ? [...texts, { file: "extra.yaml", text: extra }] : texts);
}

describe("the doctor on dual-stack MetalLB", () => {
  it("the example itself has no IPv6 or announcement finding", () => {
    const codes = diagnose(s).map((f) => f.code);
    expect(codes).not.toContain("IPV6_VIP_SUBNET_NOT_DUAL_STACK");
    expect(codes).not.toContain("L2ADVERTISEMENT_EXCLUDES_ENDPOINT_NODES");
    expect(codes).not.toContain("POOL_OUTSIDE_SUBNET");
  });
  it("the IPv6 half of excludeIps: without the pool's IPv6 range, POOL_NOT_EXCLUDED names the IPv6 VIP", () => {
    expect(diagnose(s).map((f) => f.code)).not.toContain("POOL_NOT_EXCLUDED");
    const open = variant("10-underlay-network.yaml", (t) =>
      t.replace(", fd00:10:180:204::fa..fd00:10:180:204::fe", ""),
    );
    const f = diagnose(open).filter((x) => x.code === "POOL_NOT_EXCLUDED");
    expect(f).toHaveLength(1);
    expect(f[0]!.message).toContain(
      "VIP fd00:10:180:204::fa of Service default/web-lb is not in Subnet underlay-subnet's IPv6 excludeIps",
    );
  });
  it("an IPv6 pool over a subnet that is not dual-stack: no IPv6 VIP on the load balancer, the trace drops in OVN", () => {
    const v4only = variant("10-underlay-network.yaml", (t) =>
      t
        .replace("protocol: Dual", "protocol: IPv4")
        .replace("cidrBlock: 10.180.204.0/24,fd00:10:180:204::/64", "cidrBlock: 10.180.204.0/24")
        .replace("gateway: 10.180.204.1,fd00:10:180:204::1", "gateway: 10.180.204.1"),
    );
    expect(v4only.services[0]!.vips).toEqual([VIP4, VIP6]);
    const f = diagnose(v4only).find((x) => x.code === "IPV6_VIP_SUBNET_NOT_DUAL_STACK")!;
    expect(f.message).toContain(
      `Service default/web-lb has the IPv6 address ${VIP6} (IPAddressPool underlay-pool), but the Pods behind it have no IPv6 address (Subnet underlay-subnet is not dual-stack)`,
    );
    expect(deriveNbctl(v4only).join("\n")).not.toContain(`[${VIP6}]`);
    // kube-ovn-cni still writes the 0x1001 flow (every ingress IP of the Service).
    expect(
      deriveNodeDataplane(v4only, "node3").bridges[0]!.flows.some((x) => x.startsWith("cookie=0x1001")),
    ).toBe(true);
    const doc = trace(createSimulation(v4only), { to: VIP6 });
    expect(doc.verdict.delivered).toBe(false);
    expect(doc.verdict.droppedAt?.layer).toBe("ovn");
    expect(doc.findings.map((x) => x.code)).toContain("IPV6_VIP_SUBNET_NOT_DUAL_STACK");
  });
  it("externalTrafficPolicy Local with an L2Advertisement whose nodeSelectors exclude every node with an endpoint: nobody answers", () => {
    const nodes = ["node1", "node2", "node3"]
      .map(
        (n) =>
          `apiVersion: v1\nkind: Node\nmetadata:\n  name: ${n}\n  labels: { metallb: "${n === "node2" ? "on" : "off"}" }`,
      )
      .join("\n---\n");
    const narrowed = variant(
      "20-metallb.yaml",
      (t) =>
        t.replace(
          "ipAddressPools: [underlay-pool]",
          'ipAddressPools: [underlay-pool]\n  nodeSelectors: [{ matchLabels: { metallb: "on" } }]',
        ),
      nodes,
    );
    const one = scenarioFromTexts(
      readManifestPaths([import.meta.dirname])
        .map((t) =>
          t.file.endsWith("20-metallb.yaml")
            ? {
                ...t,
                text: t.text.replace(
                  "ipAddressPools: [underlay-pool]",
                  'ipAddressPools: [underlay-pool]\n  nodeSelectors: [{ matchLabels: { metallb: "on" } }]',
                ),
              }
            : t.file.endsWith("30-app.yaml")
              ? { ...t, text: t.text.replace("replicas: 3", "replicas: 1") }
              : t,
        )
        .concat([{ file: "nodes.yaml", text: nodes }]),
    );
    // Three replicas, one per node: node2 has an endpoint, nothing to report.
    expect(diagnose(narrowed).map((x) => x.code)).not.toContain("L2ADVERTISEMENT_EXCLUDES_ENDPOINT_NODES");
    // One replica on node1, the advertisement only on node2.
    expect(one.pods.map((p) => p.node)).toEqual(["node1"]);
    const f = diagnose(one).filter((x) => x.code === "L2ADVERTISEMENT_EXCLUDES_ENDPOINT_NODES");
    expect(f.map((x) => x.message)).toEqual([
      `MetalLB announces ${VIP4} of Service default/web-lb from no node: with externalTrafficPolicy: Local only nodes with a ready endpoint (node1) are candidates, and the nodeSelectors of L2Advertisement l2-advert select only node2; nobody answers ARP for ${VIP4}.`,
      `MetalLB announces ${VIP6} of Service default/web-lb from no node: with externalTrafficPolicy: Local only nodes with a ready endpoint (node1) are candidates, and the nodeSelectors of L2Advertisement l2-advert select only node2; nobody answers the neighbour solicitation for ${VIP6}.`,
    ]);
    const doc = trace(createSimulation(one), { to: VIP6 });
    expect(doc.verdict).toMatchObject({ delivered: false, announcingNode: null });
  });
});
