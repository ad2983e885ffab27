// The in-cluster HTML report read back as a DOM (jsdom; the real browser is the examples'
// html.test.ts): the cluster drawn from the compiled NB (nodes, bridges, tunnels, ovn-cluster,
// join, the subnets' switches, the pods), the path over it both ways, the drop marked where it
// happened naming the NetworkPolicy, each hop opening onto its objects, NB rows, logical flows
// and br-int tables; deterministic, escaped, self-contained.
import { join } from "node:path";
import { loadScenario } from "@ovnsim/kube";
import fc from "fast-check";
import { JSDOM } from "jsdom";
import { describe, expect, it } from "vitest";
import { run } from "@ovnsim/cli";
import { rng } from "@ovnsim/oracle";
import { isSimError } from "@ovnsim/packet";
import { scenarioFromYaml } from "@ovnsim/kube";
import {
  type TraceDocument,
  type TraceStep,
  buildClusterWorld,
  renderClusterHtml,
  traceCluster,
} from "../src/index.js";
import { clusterMicroflows, randomClusterYaml } from "./cluster-support.js";

const EX = join(import.meta.dirname, "../../../examples");
const world = (name: string) => buildClusterWorld(loadScenario([join(EX, name)]));
const p2p = world("cluster-pod-to-pod");
const np = world("cluster-networkpolicy");
const domOf = (html: string) => new JSDOM(html).window.document;
type Doc = ReturnType<typeof domOf>;
const places = (d: Doc) => [...d.querySelectorAll("svg g.place")].map((g) => g.getAttribute("data-place"));
/** The boxes a drawn direction goes through, from its segments' titles. */
const path = (d: Doc, dir: "fwd" | "rev") => {
  const segs = [...d.querySelectorAll(`svg path.hop-path.${dir} title`)].map((t) => t.textContent ?? "");
  if (segs.length === 0) return [];
  return [...segs.map((x) => /: (\S+) → /.exec(x)![1]!), /→ (\S+)$/.exec(segs.at(-1)!)![1]!];
};

describe("renderClusterHtml", () => {
  const across = traceCluster(p2p, { from: "default/client", to: "10.17.0.3", port: 8080 }).doc;

  it("draws the cluster Kube-OVN builds: nodes, NIC, br-int, ovn0, tunnels, ovn-cluster, join, subnets, pods, the physical network", () => {
    const d = domOf(renderClusterHtml(p2p, across));
    const p = places(d);
    for (const k of [
      "dev:client",
      "dev:gw",
      "dev:tor",
      "nic:node1",
      "brint:node1",
      "ovn0:node1",
      "nic:node2",
      "brint:node2",
      "ovn0:node2",
      "lr:ovn-cluster",
      "ls:join",
      "ls:ovn-default",
      "ls:app",
      "pod:default/client",
      "pod:default/peer",
      "pod:app/web-a",
      "pod:app/web-b",
    ])
      expect(p).toContain(k);
    // No localnet switch here: no br-provider; no Service VIP: no load balancer box.
    expect(p.filter((k) => k?.startsWith("brp:"))).toEqual([]);
    expect(p).not.toContain("lb");
    expect(d.querySelectorAll("svg path.tunnel").length).toBe(1);
    expect(d.querySelector("svg path.tunnel title")?.textContent).toBe("Geneve 172.18.0.2 ↔ 172.18.0.3");
    expect([...d.querySelectorAll("svg .node-name")].map((t) => t.textContent)).toEqual(["node1", "node2"]);
    // ovn-cluster is wired to each switch with its router port's network.
    const lrp = [...d.querySelectorAll("svg text.port")].map((t) => t.textContent);
    for (const n of ["100.64.0.1/16", "10.16.0.1/16", "10.17.0.1/16"]) expect(lrp).toContain(n);
  });

  it("the path across subnets and nodes, both ways: the pipelines on the source chassis, then Geneve", () => {
    const d = domOf(renderClusterHtml(p2p, across));
    expect(path(d, "fwd")).toEqual([
      "pod:default/client",
      "ls:ovn-default",
      "lr:ovn-cluster",
      "ls:app",
      "brint:node1",
      "brint:node2",
      "pod:app/web-b",
    ]);
    expect(path(d, "rev")).toEqual([
      "pod:app/web-b",
      "ls:app",
      "lr:ovn-cluster",
      "ls:ovn-default",
      "brint:node2",
      "brint:node1",
      "pod:default/client",
    ]);
    expect(d.querySelectorAll("svg g.end.deliver").length).toBe(2);
    expect(d.querySelector("svg desc")?.textContent).toBe(
      "Request: client → ovn-default → ovn-cluster → app → br-int (node1) → br-int (node2) → web-b. Reply: web-b → app → ovn-cluster → ovn-default → br-int (node2) → br-int (node1) → client.",
    );
    expect(d.querySelector("#verdict h2")?.textContent).toBe("✓ Delivered to app/web-b on node2");
  });

  it("each hop opens onto its Kubernetes objects, NB rows, logical flows and br-int tables", () => {
    const d = domOf(renderClusterHtml(p2p, across));
    const hops = [...d.querySelectorAll("#forward details.hop")];
    // The leg's steps are hops of their own (not one hop holding all of them).
    expect(hops.map((h) => h.querySelector(".where")?.textContent)).toEqual([
      "node1 forward: Pod default/client",
      "pod eth0",
      "node1 ingress(ovn-default)",
      "node1 egress(ovn-default)",
      "node1 ingress(ovn-cluster)",
      "node1 egress(ovn-cluster)",
      "node1 ingress(app)",
      "Geneve node1 → node2",
      "node2 egress(app)",
      "output web-b.app",
      "pod app/web-b",
    ]);
    expect(hops.filter((h) => h.hasAttribute("open"))).toEqual([]);
    const router = hops[4]!;
    const attr = [...router.querySelectorAll("table.attr tbody tr")].map((r) =>
      [...r.querySelectorAll("td")].map((c) => c.textContent),
    );
    expect(attr).toEqual([
      [
        "kube-ovn-controller kube-ovn-controller (the default VPC's router)",
        "Logical_Router ovn-cluster",
        "lr_in_ip_routing 134",
      ],
      [
        "Subnet app (traffic to the subnet stays in the cluster)",
        'Logical_Router_Policy 31000 "ip4.dst == 10.17.0.0/16"',
        "lr_in_policy 31000",
      ],
    ]);
    // The policy's logical flow, with the br-int table ovn-controller 24.03 puts it in (8 + 15)
    // and the cookie of the southbound flow's UUID.
    const rows = [...router.querySelectorAll("table.lflows tbody tr")].map((r) =>
      [...r.querySelectorAll("td")].map((c) => c.textContent ?? ""),
    );
    const policy = rows.find((r) => r[0] === "15 · lr_in_policy")!;
    expect(policy.slice(1, 3)).toEqual(["31000", "ip4.dst == 10.17.0.0/16"]);
    const uuid = p2p.sb.flows.find(
      (f) =>
        f.datapath === "ovn-cluster" &&
        f.stage === "lr_in_policy" &&
        f.priority === 31000 &&
        f.match === "ip4.dst == 10.17.0.0/16",
    )!.uuid;
    expect(policy[4]).toBe(`table=23, priority=31000, cookie=0x${uuid}`);
    // An egress pipeline starts at br-int table 42.
    const egress = [...hops[8]!.querySelectorAll("table.lflows tbody tr td:last-child")].map(
      (c) => c.textContent,
    );
    expect(egress.every((t) => /^table=(4[2-9]|5\d),/.test(t ?? ""))).toBe(true);
    expect(hops[8]!.querySelector("details.native summary")?.textContent).toBe("ovn-trace --detailed");
  });

  it("a NetworkPolicy drop: marked at the chassis whose egress pipeline dropped it, naming the policy", () => {
    const { doc } = traceCluster(np, { from: "default/intruder", to: "10.96.100.10", port: 80 });
    const d = domOf(renderClusterHtml(np, doc));
    expect(d.querySelector("#verdict")?.className).toBe("verdict bad");
    expect(path(d, "fwd")).toEqual([
      "pod:default/intruder",
      "ls:ovn-default",
      "lb",
      "ls:ovn-default",
      "lr:ovn-cluster",
      "ls:app",
      "brint:node1",
      "brint:node2",
    ]);
    expect(path(d, "rev")).toEqual([]);
    const end = d.querySelector("svg g.end.drop");
    expect(end?.getAttribute("data-place")).toBe("brint:node2");
    expect(d.querySelector("svg g.drop-label text")?.textContent).toBe(
      "✗ ls_out_acl_action: dropped by NetworkPolicy app/web-allow-frontend (default deny (ingress))",
    );
    // The policy's port group holds web-a: its tag is on the pod.
    expect(
      [...d.querySelectorAll("svg g.np-tag")].map((g) => [
        g.getAttribute("data-box"),
        g.querySelector("text")?.textContent,
      ]),
    ).toEqual([["pod:app/web-a", "NetworkPolicy app/web-allow-frontend"]]);
    // Open: the egress pipeline whose ACL dropped it (its ACL row marked), and the drop.
    const open = [...d.querySelectorAll("#forward details.hop[open]")];
    expect(open.map((h) => h.querySelector(".where")?.textContent)).toEqual([
      "node2 egress(app)",
      "ls_out_acl_action",
    ]);
    expect([...open[0]!.querySelectorAll("tr.drop td:first-child")].map((c) => c.textContent)).toEqual([
      "4 · ls_out_acl_eval",
    ]);
    expect(open[0]!.querySelector("table.attr")?.textContent).toContain(
      "NetworkPolicy app/web-allow-frontend (default deny (ingress))",
    );
    expect(open[1]!.querySelector(".dropnote")?.textContent).toContain(
      "NetworkPolicy app/web-allow-frontend",
    );
  });

  it("the same world and document give the same bytes; another path another page", () => {
    const a = renderClusterHtml(p2p, across);
    const again = buildClusterWorld(loadScenario([join(EX, "cluster-pod-to-pod")]));
    expect(
      renderClusterHtml(
        again,
        traceCluster(again, { from: "default/client", to: "10.17.0.3", port: 8080 }).doc,
      ),
    ).toBe(a);
    expect(
      renderClusterHtml(p2p, traceCluster(p2p, { from: "default/client", to: "10.17.0.2", port: 8080 }).doc),
    ).not.toBe(a);
  });

  it("self-contained: no script, no external URL, no resource to fetch", () => {
    const html = renderClusterHtml(p2p, across);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|@import|url\((?!#)/i);
    expect(html.match(/https?:\/\/[^\s"')]+/g)).toEqual(["http://www.w3.org/2000/svg"]);
    expect(html).toContain("default-src 'none'");
  });

  it("`ovnsim trace --format html` on a cluster path prints this page", async () => {
    let out = "";
    const code = await run(
      [
        "trace",
        join(EX, "cluster-pod-to-pod"),
        "--from",
        "pod/default/client",
        "--to",
        "pod/app/web-b:8080",
        "--format",
        "html",
      ],
      { stdout: (s) => (out += s), stderr: () => {} },
    );
    expect(code).toBe(0);
    expect(out).toBe(renderClusterHtml(p2p, across));
  });

  it("fuzz: any text in the document is escaped (the page's element structure does not change)", () => {
    const shape = (d: Doc) => [...d.querySelectorAll("*")].map((e) => e.tagName).join(",");
    const base = shape(domOf(renderClusterHtml(p2p, across)));
    fc.assert(
      fc.property(
        fc.string({ maxLength: 20 }).filter((x) => !/[;·—]/.test(x)),
        fc.constantFrom("<", ">", "&", '"', "'", "</details><script>"),
        (s, c) => {
          const t = `${s}${c}${s}`;
          const mark = (st: TraceStep): TraceStep => ({
            ...st,
            summary: `${st.summary}${t}`,
            ...(st.detail !== undefined ? { detail: `${st.detail}${t}` } : {}),
            children: st.children.map(mark),
          });
          const evil: TraceDocument = {
            ...across,
            scenario: t,
            request: { ...across.request, from: t },
            forward: mark(across.forward),
            reply: mark(across.reply!),
          };
          const html = renderClusterHtml(p2p, evil);
          expect(html).not.toContain("<script");
          const d = domOf(html);
          expect(d.querySelector("title")?.textContent).toContain(t);
          expect(shape(d)).toBe(base);
        },
      ),
      { numRuns: 12 },
    );
  });

  it("every example's path family: drawn from its origin to where it ends, on boxes of the picture", () => {
    const cases: Array<[string, string, string, number | undefined, string, string]> = [
      [
        "cluster-pod-to-vip",
        "default/overlay-client",
        "10.180.204.252",
        80,
        "pod:default/overlay-client",
        "ovn0:node2",
      ],
      ["cluster-pod-to-clusterip", "default/client", "10.96.100.10", 80, "pod:default/client", "pod:"],
      ["cluster-host-network", "node2", "10.17.0.2", 8080, "ovn0:node2", "pod:app/web-a"],
      [
        "cluster-u2o",
        "kube-system/coredns",
        "10.180.204.2",
        80,
        "pod:kube-system/coredns",
        "pod:legacy/vm-0",
      ],
      ["cluster-dual-stack", "default/client", "fd00:10:96::a", 80, "pod:default/client", "pod:"],
      ["cluster-pod-to-external", "app/web-a", "1.1.1.1", 443, "pod:app/web-a", "ovn0:"],
    ];
    for (const [ex, from, to, port, first, last] of cases) {
      const w = world(ex);
      const { doc } = traceCluster(w, { from, to, ...(port !== undefined ? { port } : {}) });
      const d = domOf(renderClusterHtml(w, doc));
      const fwd = path(d, "fwd");
      const p = places(d);
      expect(fwd[0], ex).toBe(first);
      expect(fwd.at(-1)!.startsWith(last), `${ex}: ${fwd.join(" ")}`).toBe(true);
      for (const k of [...fwd, ...path(d, "rev")]) expect(p, ex).toContain(k);
      // One end mark per direction the trace settles: delivered, dropped or handed off.
      expect(d.querySelectorAll("svg g.end").length, ex).toBeGreaterThanOrEqual(1);
      if (doc.verdict.replyDelivered) expect(path(d, "rev").at(-1), ex).toBe(first);
    }
  });

  it("a path handed to a host stack ends with a hand-off mark, not a drop; one delivered to ovn0 says so", () => {
    const vip = world("cluster-pod-to-vip");
    const a = traceCluster(vip, { from: "default/overlay-client", to: "10.180.204.252", port: 80 }).doc;
    const d = domOf(renderClusterHtml(vip, a));
    expect(
      [...d.querySelectorAll("svg g.end")].map((g) => [
        g.getAttribute("class"),
        g.getAttribute("data-place"),
      ]),
    ).toEqual([["end handoff", "ovn0:node2"]]);
    expect(d.querySelector("svg g.drop-label")?.getAttribute("class")).toBe("drop-label handoff");
    expect(d.querySelector("svg g.drop-label text")?.textContent).toMatch(
      /^⇢ node-node2: leaves OVN to node2's host stack on ovn0 \(policy 29000\)/,
    );
    const ext = world("cluster-pod-to-external");
    const b = traceCluster(ext, { from: "app/web-a", to: "1.1.1.1", port: 443 }).doc;
    expect(domOf(renderClusterHtml(ext, b)).querySelector("#verdict h2")?.textContent).toBe(
      "✓ Delivered to node1's host network (ovn0)",
    );
  });

  it("random clusters: the page never fails, is byte-for-byte deterministic, and its paths stay on the picture", () => {
    let pages = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), (seed) => {
        const yaml = randomClusterYaml(rng(seed));
        let s: ReturnType<typeof scenarioFromYaml>;
        try {
          s = scenarioFromYaml(yaml, `random-${seed}.yaml`);
        } catch (e) {
          if (isSimError(e)) return;
          throw e;
        }
        const w1 = buildClusterWorld(s);
        const w2 = buildClusterWorld(scenarioFromYaml(yaml, `random-${seed}.yaml`));
        for (const m of clusterMicroflows(s, 2, w1.db)) {
          const a = renderClusterHtml(w1, traceCluster(w1, { from: m.from, to: m.to, port: m.port }).doc);
          const b = renderClusterHtml(w2, traceCluster(w2, { from: m.from, to: m.to, port: m.port }).doc);
          expect(a).toBe(b);
          const d = domOf(a);
          const p = places(d);
          const fwd = path(d, "fwd");
          expect(fwd.length, `seed ${seed}: ${m.from} → ${m.to}`).toBeGreaterThan(1);
          for (const k of [...fwd, ...path(d, "rev")]) expect(p).toContain(k);
          pages++;
        }
      }),
      { numRuns: 8 },
    );
    expect(pages).toBeGreaterThan(0);
  });
});
