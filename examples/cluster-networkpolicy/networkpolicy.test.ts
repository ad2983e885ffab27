// Example: a NetworkPolicy in Kube-OVN's terms. The policy app/web-allow-frontend becomes port
// group web.allow.frontend.app, address sets ….ingress.allow.IPv4.0 / ….except.IPv4.0 and ACLs
// (to-lport 2000 default drop, 2001 allow-related per rule, gateway and node exceptions); the
// frontend pod reaches web through its ClusterIP, another pod of the same namespace is dropped
// by the policy's default deny, and the trace names the policy.
import { deriveClusterNbctl, diagnose, loadScenario } from "@ovnsim/kube";
import { buildClusterWorld, renderText, traceCluster } from "@ovnsim/tracer";
import { describe, expect, it } from "vitest";

const s = loadScenario([import.meta.dirname]);
const w = buildClusterWorld(s);

describe("NetworkPolicy → port group, address sets, ACLs", () => {
  it("derives the rows Kube-OVN writes", () => {
    const nb = deriveClusterNbctl(s).lines;
    expect(nb).toContain("ovn-nbctl pg-add web.allow.frontend.app web-a.app");
    expect(nb).toContain(
      "ovn-nbctl create Address_Set name=web.allow.frontend.app.ingress.allow.IPv4.0 addresses='\"10.16.0.2\"' external_ids:np=app/web-allow-frontend",
    );
    expect(nb).toContain(
      'ovn-nbctl --tier=2 --type=port-group acl-add web.allow.frontend.app to-lport 2000 "outport == @web.allow.frontend.app && ip4" drop',
    );
    expect(nb).toContain(
      'ovn-nbctl --tier=2 --type=port-group acl-add web.allow.frontend.app to-lport 2001 "outport == @web.allow.frontend.app && ip && ip4.src == \\$web.allow.frontend.app.ingress.allow.IPv4.0 && ip4.src != \\$web.allow.frontend.app.ingress.except.IPv4.0 && tcp.dst == 8080" allow-related',
    );
  });
  it("the frontend reaches web through the ClusterIP (the ACL sees the backend port 8080)", () => {
    const { doc } = traceCluster(w, { from: "default/frontend", to: "10.96.100.10", port: 80 });
    expect(doc.verdict.delivered).toBe(true);
    expect(doc.verdict.pod).toBe("app/web-a");
    expect(doc.verdict.replySourceIp).toBe("10.96.100.10");
    expect(renderText(doc, { detailed: false })).toContain(
      "NetworkPolicy app/web-allow-frontend (ingress rule 0 allow)",
    );
  });
  it("another pod is dropped, and the drop names the policy", () => {
    const { doc } = traceCluster(w, { from: "default/intruder", to: "10.96.100.10", port: 80 });
    expect(doc.verdict.delivered).toBe(false);
    expect(doc.verdict.droppedAt?.reason).toBe(
      "dropped by NetworkPolicy app/web-allow-frontend (default deny (ingress))",
    );
  });
  it("the node's own health checks still pass (CreateNodeACL: port group node.<name>, 3000 allow-related from its InternalIP)", () => {
    // The host sends from its InternalIP (kube-ovn-cni's route `CIDR via 100.64.0.1 dev ovn0 src
    // <InternalIP>`), the address kube-ovn-controller's node ACL allows towards that node's pods.
    const { doc } = traceCluster(w, { from: "node2", to: "10.17.0.2", port: 8080 });
    expect(doc.verdict.delivered).toBe(true);
    expect(renderText(doc, { detailed: false })).toContain(
      'Node node2 (its own pods stay reachable (kubelet probes)) · NB ACL "ip4.src == 172.18.0.3 && ip4.dst == $node.node2_ip4"',
    );
  });
  it("the doctor flags the policy that selects nothing", () => {
    const f = diagnose(s).filter((x) => x.code === "NETWORKPOLICY_SELECTS_NOTHING");
    expect(f.map((x) => x.subject)).toEqual(["NetworkPolicy app/typo"]);
  });
});
