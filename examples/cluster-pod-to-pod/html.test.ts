// Example: pod → pod across subnets and nodes as an HTML page (`ovnsim trace … --html FILE`),
// opened in a real headless browser (Debian's chromium, driven over its DevTools pipe): the
// cluster Kube-OVN builds drawn (nodes, br-int, ovn0, the Geneve tunnel, ovn-cluster, join, the
// subnets' switches, the pods), the request and the reply on it, and a click that opens a hop
// onto its objects, NB rows, logical flows and br-int tables. trace.png (the topology) and
// trace-hop.png (the opened hop) here are its screenshots; after an intended change rewrite them
// with  OVNSIM_UPDATE_EXAMPLES=1 npx vitest run examples/cluster-pod-to-pod/html.test.ts
// Skips without chromium, fails without it under OVNSIM_REQUIRE_ORACLE=1 (as CI sets).
import { beforeAll, describe, expect, it } from "vitest";
import { type Report, clusterReport } from "../../packages/tracer/test/cluster-browser.js";
import { chromiumGate, countColour } from "../../packages/tracer/test/chromium.js";

const gate = chromiumGate();

describe.skipIf(gate.skip)("pod → pod as an HTML page in headless chromium", () => {
  let r: Report;
  beforeAll(async () => {
    gate.assert();
    r = await clusterReport(
      import.meta.dirname,
      "pod/default/client",
      "pod/app/web-b:8080",
      "node1 ingress(ovn-cluster)",
    );
  }, 300_000);

  it("draws the cluster and the path both ways, over the Geneve tunnel", () => {
    const d = r.drawn;
    expect(d.verdict).toBe("✓ Delivered to app/web-b on node2");
    for (const k of [
      "nic:node1",
      "brint:node1",
      "ovn0:node2",
      "lr:ovn-cluster",
      "ls:join",
      "ls:app",
      "dev:tor",
    ])
      expect(d.places).toContain(k);
    expect(d.fwd).toEqual([
      "pod:default/client",
      "ls:ovn-default",
      "lr:ovn-cluster",
      "ls:app",
      "brint:node1",
      "brint:node2",
      "pod:app/web-b",
    ]);
    expect(d.rev[0]).toBe("pod:app/web-b");
    expect(d.rev.at(-1)).toBe("pod:default/client");
    expect(d.ends.map((e) => e.cls)).toEqual(["end deliver", "end deliver"]);
    expect(d.hops).toEqual({ forward: 11, reply: 10 });
    // The browser laid the SVG out at the page's width (1400 minus the margins), at its aspect.
    expect(d.svg.width).toBeGreaterThan(1200);
    expect(d.svg.height).toBeGreaterThan(700);
    // No script, nothing refused by the page's Content-Security-Policy, nothing logged.
    expect(r.messages).toEqual([]);
  });

  it("a click opens a hop onto its NB row, logical flows and br-int tables", () => {
    expect(r.opened.before).toEqual({ open: false, visible: false, bodyHeight: 0, text: "" });
    expect(r.opened.after).toMatchObject({ open: true, visible: true });
    expect(r.opened.after.bodyHeight).toBeGreaterThan(150);
    expect(r.opened.after.text).toContain('Logical_Router_Policy 31000 "ip4.dst == 10.17.0.0/16"');
    expect(r.opened.after.text).toMatch(/lr_in_policy\s+31000\s+ip4\.dst == 10\.17\.0\.0\/16/);
    expect(r.opened.after.text).toMatch(/table=23, priority=31000, cookie=0x[0-9a-f]{8}/);
  });

  it("the screenshots show the request (blue), the reply (orange) and the logical band", () => {
    expect([r.topology.width, r.topology.height]).toEqual([1400, 1500]);
    expect(countColour(r.topology, "#1f6feb", 20), "request path").toBeGreaterThan(1500);
    expect(countColour(r.topology, "#d9480f", 20), "reply path").toBeGreaterThan(800);
    expect(countColour(r.topology, "#f4ecfb", 4), "the OVN logical band").toBeGreaterThan(40_000);
    // The opened hop's tables are on screen in the second one (their header cells' grey).
    expect(countColour(r.hop, "#f6f8fa", 2)).toBeGreaterThan(countColour(r.topology, "#f6f8fa", 2) / 4);
  });
});
