// Example: an underlay subnet with U2O interconnection (kube-ovn #4786, #3257). The subnet gets
// a router port on ovn-cluster at its u2oInterconnectionIP; overlay → underlay crosses it
// (policy 29400), and the last hop to the underlay pod goes out the localnet port on VLAN 341,
// not over Geneve. Underlay → a node's InternalIP is rerouted by policy 31000 on
// `underlay.u2o_exclude_ip.ip4` to the PHYSICAL gateway (router ARPs for 10.180.204.1 out of the
// localnet port), not to the node's ovn0: the reported behaviour. Without U2O the underlay
// pods' gateway is the physical router and `ovnsim trace` keeps the seed's physical path.
import path from "node:path";
import {
  deriveClusterNbctl,
  diagnose,
  loadScenario,
  readManifestPaths,
  scenarioFromTexts,
} from "@ovnsim/kube";
import { buildClusterWorld, isClusterPath, renderText, traceCluster } from "@ovnsim/tracer";
import { describe, expect, it } from "vitest";

const s = loadScenario([import.meta.dirname]);
const w = buildClusterWorld(s);

describe("U2O interconnection", () => {
  it("derives the U2O router port, address set and policies", () => {
    const nb = deriveClusterNbctl(s).lines;
    expect(nb).toContain(
      "ovn-nbctl lrp-add ovn-cluster ovn-cluster-underlay 0a:58:0a:b4:cc:fe 10.180.204.254/24",
    );
    expect(nb).toContain(
      `ovn-nbctl create Address_Set name=underlay.u2o_exclude_ip.ip4 addresses='"172.18.0.2","172.18.0.3"' external_ids:vendor=kube-ovn`,
    );
    expect(nb).toContain(
      'ovn-nbctl lr-policy-add ovn-cluster 29000 "ip4.src == 10.180.204.0/24" reroute 10.180.204.1',
    );
  });
  it("overlay → underlay pod on another node: policy 29400, then out the localnet port (VLAN 341), no Geneve", () => {
    const { doc } = traceCluster(w, { from: "kube-system/coredns", to: "10.180.204.2", port: 80 });
    expect(doc.verdict).toMatchObject({ delivered: true, pod: "legacy/vm-0", replyDelivered: true });
    const text = renderText(doc, { detailed: false });
    expect(text).toContain('Logical_Router_Policy 29400 "ip4.dst == 10.180.204.0/24"');
    expect(text).toContain(
      "underlay has a localnet port: ovn-controller on node2 sends it out localnet.underlay (VLAN 341",
    );
  });
  it("kube-ovn #4786: underlay → node InternalIP goes to the physical gateway, not to the node's ovn0", () => {
    const { doc } = traceCluster(w, { from: "legacy/vm-0", to: "172.18.0.3", port: 10250 });
    expect(doc.verdict.delivered).toBe(false);
    expect(doc.verdict.droppedAt?.where).toBe("localnet.underlay");
    const text = renderText(doc, { detailed: false });
    expect(text).toContain(
      'Logical_Router_Policy 31000 "ip4.dst == $underlay.u2o_exclude_ip.ip4 && ip4.src == 10.180.204.0/24"',
    );
    expect(text).toContain("arp who-has 10.180.204.1 tell 10.180.204.254");
    expect(text).not.toContain("node-node2");
    expect(diagnose(s).map((f) => f.code)).toContain("U2O_EXCLUDE_IP_REROUTE");
  });
  it("U2O off: no router port, the underlay pods' gateway is the physical router; the seed's trace keeps them", () => {
    const off = scenarioFromTexts(
      readManifestPaths([import.meta.dirname]).map((t) =>
        path.basename(t.file) === "10-underlay.yaml"
          ? { ...t, text: t.text.replace("u2oInterconnection: true", "u2oInterconnection: false") }
          : t,
      ),
    );
    expect(deriveClusterNbctl(off).lines.join("\n")).not.toContain("ovn-cluster-underlay");
    expect(isClusterPath(off, "legacy/vm-0", "10.16.0.2")).toBe(false);
    const { doc } = traceCluster(buildClusterWorld(off), {
      from: "kube-system/coredns",
      to: "10.180.204.2",
      port: 80,
    });
    expect(doc.verdict.delivered).toBe(false);
    expect(doc.verdict.droppedAt?.layer).toBe("host");
  });
});
