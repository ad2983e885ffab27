// Example: a pod the NetworkPolicy does not allow, as an HTML page in a real headless browser
// (Debian's chromium over its DevTools pipe): the drop marked on node2's br-int, where web-a's
// switch runs its egress pipeline after the Geneve crossing, a label naming the policy, the
// policy's tag on the pod it selects, and the hop whose ACL dropped it open with that row
// marked. trace.png and trace-hop.png here are its screenshots; after an intended change rewrite
// them with  OVNSIM_UPDATE_EXAMPLES=1 npx vitest run examples/cluster-networkpolicy/html.test.ts
// Skips without chromium, fails without it under OVNSIM_REQUIRE_ORACLE=1 (as CI sets).
import { beforeAll, describe, expect, it } from "vitest";
import { type Report, clusterReport } from "../../packages/tracer/test/cluster-browser.js";
import { chromiumGate, countColour } from "../../packages/tracer/test/chromium.js";

const gate = chromiumGate();

describe.skipIf(gate.skip)("a NetworkPolicy drop as an HTML page in headless chromium", () => {
  let r: Report;
  beforeAll(async () => {
    gate.assert();
    r = await clusterReport(
      import.meta.dirname,
      "pod/default/intruder",
      "svc/app/web",
      "node1 ingress(ovn-default)",
    );
  }, 300_000);

  it("marks the drop where it happened and names the policy", () => {
    const d = r.drawn;
    expect(r.doc.verdict.delivered).toBe(false);
    expect(d.verdict).toBe("✗ Not delivered");
    expect(d.fwd).toEqual([
      "pod:default/intruder",
      "ls:ovn-default",
      "lb",
      "ls:ovn-default",
      "lr:ovn-cluster",
      "ls:app",
      "brint:node1",
      "brint:node2",
    ]);
    expect(d.rev).toEqual([]);
    expect(d.ends).toEqual([{ cls: "end drop", place: "brint:node2" }]);
    expect(d.dropLabel).toBe(
      "✗ ls_out_acl_action: dropped by NetworkPolicy app/web-allow-frontend (default deny (ingress))",
    );
    expect(d.npTags).toEqual(["pod:app/web-a NetworkPolicy app/web-allow-frontend"]);
    expect(r.messages).toEqual([]);
  });

  it("a click opens the hop where the ClusterIP was load-balanced: the Service behind the VIP", () => {
    expect(r.opened.before).toMatchObject({ open: false, visible: false });
    expect(r.opened.after).toMatchObject({ open: true, visible: true });
    expect(r.opened.after.text).toContain(
      'Service app/web (VIP 10.96.100.10:80)\tLoad_Balancer cluster-tcp-loadbalancer vips "10.96.100.10:80"',
    );
    expect(r.opened.after.text).toMatch(/ct_lb_mark\(backends=10\.17\.0\.2:8080\)/);
  });

  it("the screenshot shows the request (blue), the drop (red) and no reply", () => {
    expect(countColour(r.topology, "#1f6feb", 20), "request path").toBeGreaterThan(1500);
    // (the legend's dashed sample is the only orange)
    expect(countColour(r.topology, "#d9480f", 20), "no reply path").toBeLessThan(200);
    expect(countColour(r.topology, "#cf222e", 20), "drop mark, label, verdict").toBeGreaterThan(400);
  });
});
