// Example: an underlay subnet with U2O interconnection (kube-ovn #4786, #3257). The subnet gets
// a router port on ovn-cluster at its u2oInterconnectionIP; overlay → underlay crosses it
// (policy 29400), and the last hop to the underlay pod goes out the localnet port on VLAN 341,
// not over Geneve. Underlay → a node's InternalIP is rerouted by policy 31000 on
// `underlay.u2o_exclude_ip.ip4` to the PHYSICAL gateway (router ARPs for 10.180.204.1 out of the
// localnet port), not to the node's ovn0: the reported behaviour. Without U2O the underlay
// pods' gateway is the physical router and `ovnsim trace` keeps the seed's physical path.
// kube-ovn #3814 (underlay pods cannot reach a ClusterIP with the load balancers off): with
// --enable-lb=false no subnet switch has cluster-tcp-loadbalancer, and Kube-OVN 1.14 / 1.15 add
// policy 29400 "ip4.src == $underlay.<node>_ip4 && ip4.dst == <service CIDR>" reroute <node's
// join IP> (addPolicyRouteForU2ONoLoadBalancer): the ClusterIP goes through the node's ovn0,
// kube-proxy DNATs it, and it comes back into OVN from ovn0. Without those rows (v1.13.0, the
// version reported) policy 29000 sends it to the physical gateway.
import path from "node:path";
import {
  deriveClusterNbctl,
  diagnose,
  loadScenario,
  readManifestPaths,
  scenarioFromTexts,
} from "@ovnsim/kube";
import { northd, parseNbctl, sbModelFromNb } from "@ovnsim/ovn";
import { readPcapng } from "@ovnsim/packet";
import {
  type ClusterWorld,
  buildClusterWorld,
  captureWorld,
  clusterCaptureWorld,
  clusterProfile,
  createSimulation,
  isClusterPath,
  renderText,
  runTrace,
  traceCluster,
  writeTracePcapng,
} from "@ovnsim/tracer";
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
  it("underlay pod → underlay pod on another node, U2O on: over the localnet port both ways, no Geneve", () => {
    const { doc, frames } = traceCluster(w, { from: "legacy/vm-0", to: "10.180.204.3", port: 8080 });
    expect(doc.verdict).toMatchObject({
      delivered: true,
      pod: "legacy/vm-1",
      node: "node2",
      replyDelivered: true,
      replySourceIp: "10.180.204.3",
    });
    const text = renderText(doc, { detailed: false });
    expect(text).toContain("localnet.underlay node1 → node2");
    expect(text).toContain("localnet.underlay node2 → node1");
    expect(text).toContain("Pod legacy/vm-1 (pod on node2) · NB Logical_Switch_Port vm-1.legacy · lflow");
    expect(text).not.toContain("Geneve node");
    const cap = readPcapng(writeTracePcapng(frames, clusterCaptureWorld(s)))[0]!;
    expect(cap.interfaces.map((i) => i.name)).toContain("node1/localnet.underlay");
    expect(cap.interfaces.map((i) => i.name)).not.toContain("node1/genev_sys_6081");
  });
  it("underlay pod → underlay pod on another node, U2O off: the physical network (ToR, VLAN 341) both ways", () => {
    const off = scenarioFromTexts(
      readManifestPaths([import.meta.dirname]).map((t) =>
        path.basename(t.file) === "10-underlay.yaml"
          ? { ...t, text: t.text.replace("u2oInterconnection: true", "u2oInterconnection: false") }
          : t,
      ),
    );
    expect(isClusterPath(off, "legacy/vm-0", "10.180.204.3")).toBe(false);
    const sim = createSimulation(off);
    const { doc, frames } = runTrace(sim, { from: "legacy/vm-0", to: "10.180.204.3", port: 8080 });
    expect(doc.verdict).toMatchObject({
      delivered: true,
      pod: "legacy/vm-1",
      replyDelivered: true,
      replySourceIp: "10.180.204.3",
    });
    const text = renderText(doc, { detailed: false });
    expect(text).toContain("tor p-node1: VLAN 341");
    // The peer is on the link: the reply goes straight to it, not to the gateway 10.180.204.1.
    expect(text).toContain("replies directly to 10.180.204.2 (00:00:00:b4:cc:02)");
    expect(text).toContain("node1 logical switch underlay: from vm-0.legacy; output to vm-1.legacy");
    const cap = readPcapng(writeTracePcapng(frames, captureWorld(sim)))[0]!;
    expect(cap.interfaces.map((i) => i.name)).toEqual(expect.arrayContaining(["tor/p-node1", "tor/p-node2"]));
  });
  describe("kube-ovn #3814: U2O with --enable-lb=false", () => {
    const noLb = scenarioFromTexts(
      readManifestPaths([import.meta.dirname]).map((t) =>
        path.basename(t.file) === "00-cluster.yaml"
          ? {
              ...t,
              text: t.text.replace(
                "- --service-cluster-ip-range=10.96.0.0/12",
                "- --service-cluster-ip-range=10.96.0.0/12\n            - --enable-lb=false",
              ),
            }
          : t,
      ),
    );
    const nb = deriveClusterNbctl(noLb).lines;
    it("no load balancer; a port group per node and a 29400 reroute of the Service CIDR to its ovn0", () => {
      expect(nb.join("\n")).not.toContain("cluster-tcp-loadbalancer");
      expect(nb).toContain("ovn-nbctl pg-add underlay.node1 vm-0.legacy");
      expect(nb).toContain(
        'ovn-nbctl lr-policy-add ovn-cluster 29400 "ip4.src == \\$underlay.node1_ip4 && ip4.dst == 10.96.0.0/12" reroute 100.64.0.2',
      );
      expect(nb).toContain(
        'ovn-nbctl lr-policy-add ovn-cluster 29400 "ip4.src == \\$underlay.node2_ip4 && ip4.dst == 10.96.0.0/12" reroute 100.64.0.3',
      );
      // With the load balancers on, none of it.
      expect(deriveClusterNbctl(s).lines.join("\n")).not.toContain("$underlay.node1_ip4");
    });
    it("underlay pod → ClusterIP: 29400 to node1's ovn0, kube-proxy DNAT, back into OVN, answered from the ClusterIP", () => {
      const { doc, frames } = traceCluster(buildClusterWorld(noLb), {
        from: "legacy/vm-0",
        to: "10.96.100.10",
        port: 80,
      });
      expect(doc.verdict).toMatchObject({
        delivered: true,
        replyDelivered: true,
        replySourceIp: "10.96.100.10",
        clientIpPreserved: false,
      });
      expect(doc.verdict.backend).toMatch(/^10\.17\.0\.[23]:8080$/);
      const text = renderText(doc, { detailed: false });
      expect(text).toContain(
        'Subnet underlay (U2O without load balancer: its pods on node1 reach Services through node1\'s ovn0 and kube-proxy (kube-ovn #3814)) · NB Logical_Router_Policy 29400 "ip4.src == $underlay.node1_ip4 && ip4.dst == 10.96.0.0/12"',
      );
      expect(text).toContain("kube-proxy (iptables) DNATs 10.96.100.10:80");
      expect(text).toContain("KUBE-MARK-MASQ, 0x4000: 10.180.204.2 of underlay Subnet underlay");
      expect(text).toContain("the source 10.180.204.2 MASQUERADEd to ovn0's 100.64.0.2");
      expect(text).toContain("the host's conntrack reverses kube-proxy's DNAT and the MASQUERADE");
      const cap = readPcapng(writeTracePcapng(frames, clusterCaptureWorld(noLb)))[0]!;
      const names = cap.interfaces.map((i) => i.name);
      expect(names).toEqual(expect.arrayContaining(["pod legacy/vm-0 eth0", "node1/ovn0"]));
      expect(cap.packets.length).toBeGreaterThanOrEqual(5);
    });
    it("the reported behaviour (v1.13.0, before those rows): 29000 sends it to the physical gateway", () => {
      const lines = nb.filter((l) => !l.includes("$underlay.node"));
      const db = parseNbctl(lines.join("\n"), { file: "cluster-nb" });
      const profile = clusterProfile(noLb);
      const w: ClusterWorld = {
        scenario: noLb,
        nb: { lines, owners: deriveClusterNbctl(noLb).owners },
        db,
        profile,
        sb: sbModelFromNb(db, northd(db, profile)),
        nets: new Map(),
      };
      const { doc } = traceCluster(w, { from: "legacy/vm-0", to: "10.96.100.10", port: 80 });
      expect(doc.verdict.delivered).toBe(false);
      const text = renderText(doc, { detailed: false });
      expect(text).toContain('Logical_Router_Policy 29000 "ip4.src == 10.180.204.0/24"');
      expect(text).toContain("arp who-has 10.180.204.1 tell 10.180.204.254");
    });
  });
});
