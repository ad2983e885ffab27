// `branches` of in-cluster requests (the cluster tracer): the conntrack branches carry what the
// SYN committed to the connection's next packet, the announcer branch point says whether
// MetalLB's announcer is on the in-cluster path at all, and every branch is one concrete trace
// of its witness (property over the cluster examples' pods and destinations); `ovnsim branches`
// takes every reference `ovnsim trace` takes.
import { run } from "@ovnsim/cli";
import { type Scenario, loadScenario } from "@ovnsim/kube";
import { TCP_FLAG, isSimError } from "@ovnsim/packet";
import {
  type ClusterTraceInput,
  type TraceDocument,
  buildClusterWorld,
  clusterAnnouncerOnPath,
  clusterConnection,
  isClusterPath,
  traceCluster,
} from "@ovnsim/tracer";
import { type Branch, exploreBranches, exploreClusterAnnouncers } from "@ovnsim/whatif";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { parseBranchesArgs, resolveBranchesRequest } from "../../cli/src/commands/branches.js";

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

const EXAMPLES = [
  "cluster-pod-to-clusterip",
  "cluster-networkpolicy",
  "cluster-pod-to-vip",
  "cluster-pod-to-pod",
  "cluster-host-network",
];
const scenarios = new Map<string, Scenario>(EXAMPLES.map((e) => [e, loadScenario([`examples/${e}`])]));

/** The verdict line of a trace, as a branch states it. */
function line(d: TraceDocument): string {
  const v = d.verdict;
  if (v.delivered && v.pod === null) return `delivered to ${v.node ?? "?"}'s host stack (ovn0)`;
  if (v.delivered)
    return `delivered to ${v.pod ?? "?"} on ${v.node ?? "?"}${v.backend ? ` (DNAT ${v.backend})` : ""}`;
  return `dropped at ${v.droppedAt?.layer ?? "?"} ${v.droppedAt?.where ?? "?"}: ${v.droppedAt?.reason ?? "?"}`;
}

/** The branch's witness replayed from scratch as one cluster trace. */
function replay(s: Scenario, input: ClusterTraceInput, b: Branch): TraceDocument {
  const w = buildClusterWorld(s);
  const port = /^source port (\d+)/.exec(b.witness);
  if (b.kind === "backend" && port) return traceCluster(w, { ...input, srcPort: Number(port[1]) }).doc;
  if (b.kind === "backend" && b.witness.startsWith("kube-proxy's random pick")) {
    const ip = /^\[?([^\]]+?)\]?:\d+$/.exec(b.choice)![1]!;
    return traceCluster(w, { ...input, kubeProxyPick: ip }).doc;
  }
  if (b.kind === "conntrack" && b.witness.startsWith("first packet")) return traceCluster(w, input).doc;
  if (b.kind === "conntrack" && b.witness.startsWith("mid-stream"))
    return traceCluster(w, { ...input, tcpFlags: TCP_FLAG.ack }).doc;
  // The connection's next packet: the SYN, then what it committed carried to an ACK.
  const conn = clusterConnection(w, traceCluster(w, input).doc);
  const announcer = b.kind === "announcer" && b.choice !== "(not on the path)" ? { announcer: b.choice } : {};
  return traceCluster(w, { ...input, tcpFlags: TCP_FLAG.ack, conn, ...announcer }).doc;
}

/** Every in-cluster request of an example: each pod and node to each pod, ClusterIP and VIP. */
function requests(s: Scenario): { from: string; fromKind: "pod" | "node"; to: string; port?: number }[] {
  const out: { from: string; fromKind: "pod" | "node"; to: string; port?: number }[] = [];
  const srcs = [
    ...s.pods.map((p) => ({ from: `${p.namespace}/${p.name}`, fromKind: "pod" as const })),
    ...s.nodes.map((n) => ({ from: n.name, fromKind: "node" as const })),
  ];
  const dsts = [
    ...s.pods.map((p) => ({ to: p.ip, port: 8080 })),
    ...(s.cluster?.services ?? [])
      .flatMap((x) => x.clusterIps.filter((ip) => !ip.includes(":")))
      .map((to) => ({ to })),
    ...s.services.flatMap((x) => x.vips).map((to) => ({ to })),
  ];
  for (const a of srcs)
    for (const b of dsts)
      if (
        isClusterPath(s, a.from, b.to, a.fromKind) &&
        !s.pods.some((p) => `${p.namespace}/${p.name}` === a.from && p.ip === b.to)
      )
        out.push({ ...a, ...b });
  return out;
}

describe("branches of in-cluster requests", () => {
  it("pod → ClusterIP: the ACK after the SYN meets ct.est where the SYN committed, DNATed to the SYN's backend", () => {
    const s = scenarios.get("cluster-pod-to-clusterip")!;
    const d = exploreBranches(s, { from: "default/client", fromKind: "pod", to: "10.96.100.10", port: 80 });
    const ct = d.branches.filter((b) => b.kind === "conntrack");
    expect(ct.map((b) => b.choice)).toEqual(["new", "est", "new (no entry)"]);
    expect(ct[1]!.witness).toBe(
      "next packet (ACK) after the SYN and its reply: committed in the zones of node1, node2 (DNAT to 10.17.0.3:8080)",
    );
    // Same backend as the SYN: the committed DNAT, not a fresh hash.
    expect(ct[1]!.verdict).toBe(ct[0]!.verdict);
    expect(ct[1]!.verdict).toBe("delivered to app/web-1 on node2 (DNAT 10.17.0.3:8080)");
    expect(d.coverage.find((c) => c.kind === "conntrack")).toEqual({
      kind: "conntrack",
      reached: 3,
      total: 3,
      missed: [],
    });
    // A ClusterIP has no announcer.
    expect(d.coverage.some((c) => c.kind === "announcer")).toBe(false);
  }, 120_000);

  it("the committed connection is what the ACK carries: pinned to a backend the ACK's own hash would not pick", () => {
    const s = scenarios.get("cluster-pod-to-clusterip")!;
    const w = buildClusterWorld(s);
    const input = { from: "default/client", to: "10.96.100.10", port: 80 };
    const a = traceCluster(w, { ...input, srcPort: 40000 }).doc;
    const b = traceCluster(w, { ...input, srcPort: 40001 }).doc;
    expect(a.verdict.backend).not.toBe(b.verdict.backend);
    // The SYN from port 40000 committed its DNAT; an ACK on 40001 carrying it goes there.
    const next = traceCluster(w, {
      ...input,
      srcPort: 40001,
      tcpFlags: TCP_FLAG.ack,
      conn: clusterConnection(w, a),
    }).doc;
    expect(next.verdict.backend).toBe(a.verdict.backend);
    expect(next.verdict.pod).toBe(a.verdict.pod);
  }, 60_000);

  it("a SYN a NetworkPolicy drops commits nothing past the drop: every ct branch is dropped by the policy", () => {
    const s = scenarios.get("cluster-networkpolicy")!;
    const d = exploreBranches(s, { from: "default/intruder", fromKind: "pod", to: "10.96.100.10", port: 80 });
    const ct = d.branches.filter((b) => b.kind === "conntrack");
    expect(ct).toHaveLength(3);
    for (const b of ct) {
      expect(b.delivered).toBe(false);
      expect(b.verdict).toContain("NetworkPolicy app/web-allow-frontend");
    }
  }, 120_000);

  it("overlay pod → MetalLB VIP: the switch's load balancer DNATs it where it enters OVN, the announcer is not on the path", () => {
    const s = scenarios.get("cluster-pod-to-vip")!;
    const vip = s.services.find((x) => x.type === "LoadBalancer")!.vips[0]!;
    const w = buildClusterWorld(s);
    expect(clusterAnnouncerOnPath(w, "default/overlay-client", vip)).toBeNull();
    const d = exploreBranches(s, { from: "default/overlay-client", fromKind: "pod", to: vip, port: 80 });
    const a = d.branches.filter((b) => b.kind === "announcer");
    expect(a.map((b) => b.choice)).toEqual(["(not on the path)"]);
    expect(d.coverage.find((c) => c.kind === "announcer")).toEqual({
      kind: "announcer",
      reached: 1,
      total: 1,
      missed: [],
      note: "not on the path",
    });
  }, 120_000);

  it("underlay pod → VIP of its own subnet: the announcer answers its ARP, so each failover is a branch", () => {
    const s = scenarios.get("cluster-pod-to-vip")!;
    const vip = s.services.find((x) => x.type === "LoadBalancer")!.vips[0]!;
    const w = buildClusterWorld(s);
    const input = { from: "default/underlay-client", to: vip, port: 80, proto: "tcp" as const };
    const first = clusterAnnouncerOnPath(w, input.from, vip);
    expect(first).not.toBeNull();
    const syn = traceCluster(w, input).doc;
    const r = exploreClusterAnnouncers(w, input, clusterConnection(w, syn))!;
    expect(r.coverage.note).toBe(`${first} announces first`);
    expect(r.branches.length).toBe(r.coverage.total - 1);
    expect(r.branches.map((b) => b.choice)).not.toContain(first);
    for (const b of r.branches) expect(b.verdict).toBe(line(replay(s, input, b)));
  }, 120_000);

  it("node → ClusterIP: kube-proxy picks the endpoint in the host, so every endpoint is a backend branch", () => {
    const s = scenarios.get("cluster-host-network")!;
    const svc = s.cluster!.services.find((x) => x.name === "web")!;
    const input = {
      from: "node1",
      fromKind: "node" as const,
      to: svc.clusterIps[0]!,
      port: 80,
      proto: "tcp" as const,
    };
    const d = exploreBranches(s, input);
    const backends = d.branches.filter((b) => b.kind === "backend");
    const cov = d.coverage.find((c) => c.kind === "backend")!;
    expect(cov).toMatchObject({ reached: 2, total: 2, missed: [], note: "kube-proxy" });
    expect(new Set(backends.map((b) => b.choice))).toEqual(new Set(["10.17.0.2:8080", "10.17.0.3:8080"]));
    for (const b of backends) {
      const t = replay(s, input, b);
      expect(b.verdict).toBe(line(t));
      expect(t.verdict.backend).toBe(b.choice);
    }
    // The pick is one of the Service's endpoints, or a typed error naming the address.
    const w = buildClusterWorld(s);
    const bad = (() => {
      try {
        traceCluster(w, { ...input, kubeProxyPick: "10.17.0.99" });
      } catch (e) {
        return e;
      }
    })();
    expect(isSimError(bad) && bad.code).toBe("BAD_VALUE");
    expect(String((bad as Error).message)).toContain("10.17.0.99");
  }, 120_000);

  it("a manifest directory without a Scenario object is named after the directory", () => {
    expect(scenarios.get("cluster-host-network")!.name).toBe("cluster-host-network");
  });

  it("property: every branch of a random in-cluster request is the concrete trace of its witness", () => {
    const all = EXAMPLES.flatMap((e) => requests(scenarios.get(e)!).map((r) => ({ e, r })));
    expect(all.length).toBeGreaterThan(20);
    fc.assert(
      fc.property(fc.nat(all.length - 1), (i) => {
        const { e, r } = all[i]!;
        const s = scenarios.get(e)!;
        const d = exploreBranches(s, { ...r, proto: "tcp", searchPorts: 24 });
        const input: ClusterTraceInput = { ...r, proto: "tcp" };
        expect(d.branches.filter((b) => b.kind === "conntrack")).toHaveLength(3);
        for (const b of d.branches) {
          const t = replay(s, input, b);
          expect(b.verdict, `${e} ${r.from} → ${r.to}: ${b.kind} ${b.choice}`).toBe(line(t));
          expect(b.delivered).toBe(t.verdict.delivered);
          if (b.kind === "backend") expect(t.verdict.backend).toBe(b.choice);
        }
        // The connection's next packet stays with the SYN's pod (the committed DNAT).
        const [syn, est] = d.branches.filter((b) => b.kind === "conntrack");
        if (syn!.delivered && est!.choice === "est") expect(est!.verdict).toBe(syn!.verdict);
      }),
      { numRuns: 14, seed: 16 },
    );
  }, 600_000);
});

describe("ovnsim branches --from / --to take what ovnsim trace takes", () => {
  it("pod/NS/NAME → svc/NS/NAME, text and JSON", async () => {
    const args = [
      "branches",
      "examples/cluster-pod-to-clusterip",
      "--from",
      "pod/default/client",
      "--to",
      "svc/app/web",
    ];
    const t = await cli(args);
    expect(t.code, t.err).toBe(0);
    expect(t.out).toContain("default/client → 10.96.100.10:80/tcp: 5 branches, 5 delivered, 0 dropped");
    expect(t.out).toContain("conntrack (coverage 3/3):\n  new: delivered to app/web-1 on node2");
    const j = await cli([...args, "--format", "json"]);
    const doc = JSON.parse(j.out);
    expect(doc.schema).toBe("ovnsim.branches/v1");
    expect(doc.request).toEqual({ from: "default/client", to: "10.96.100.10", port: 80, proto: "tcp" });
    expect(doc.branches.filter((b: Branch) => b.kind === "conntrack").map((b: Branch) => b.choice)).toEqual([
      "new",
      "est",
      "new (no entry)",
    ]);
  }, 120_000);

  it("node/NAME, pod/…:PORT, client/NAME and a bare name", async () => {
    const n = await cli([
      "branches",
      "examples/cluster-host-network",
      "--from",
      "node/node1",
      "--to",
      "svc/app/web",
      "--format",
      "json",
    ]);
    expect(n.code, n.err).toBe(0);
    expect(JSON.parse(n.out).request.from).toBe("node1");
    const p = await cli([
      "branches",
      "examples/cluster-pod-to-clusterip",
      "--from",
      "pod/default/client",
      "--to",
      "pod/app/web-0:8080",
    ]);
    expect(p.code, p.err).toBe(0);
    expect(p.out).toContain("default/client → 10.17.0.2:8080/tcp");
    const c = await cli(["branches", "--from", "client/client", "--to", "svc/default/nginx-lb"]);
    expect(c.code, c.err).toBe(0);
    expect(c.out).toContain("client → 10.180.204.252:80/tcp");
    const b = await cli(["branches", "--from", "client", "--to", "10.180.204.252:80", "--format", "json"]);
    expect(JSON.parse(b.out).branches).toEqual(
      JSON.parse(
        (
          await cli([
            "branches",
            "--from",
            "client/client",
            "--to",
            "svc/default/nginx-lb",
            "--format",
            "json",
          ])
        ).out,
      ).branches,
    );
  }, 240_000);

  it("an unknown reference is a typed error naming it: its closed code, exit 2", async () => {
    const s = scenarios.get("cluster-pod-to-clusterip")!;
    for (const [args, code, names] of [
      [["--from", "pod/default/nope", "--to", "svc/app/web"], "UNKNOWN_OBJECT", "pod/default/nope"],
      [["--from", "node/node9", "--to", "svc/app/web"], "UNKNOWN_OBJECT", "node/node9"],
      [["--from", "client/nobody"], "UNKNOWN_OBJECT", "client/nobody"],
      [["--from", "pod/default/client", "--to", "svc/app/nope"], "UNKNOWN_OBJECT", "svc/app/nope"],
      [["--from", "pod/default/client", "--to", "pod/app/nope"], "UNKNOWN_OBJECT", "pod/app/nope"],
      [["--from", "x/y/z"], "BAD_VALUE", "x/y/z"],
      [["--to", "svc/a"], "BAD_VALUE", "svc/a"],
      [["--to", "10.0.0.1:70000"], "BAD_VALUE", "70000"],
    ] as const) {
      const what = args.join(" ");
      let err: unknown;
      try {
        resolveBranchesRequest(s, parseBranchesArgs(args));
      } catch (e) {
        err = e;
      }
      expect(isSimError(err) && err.code, what).toBe(code);
      expect((err as Error).message, what).toContain(names);
      const r = await cli(["branches", "examples/cluster-pod-to-clusterip", ...args]);
      expect(r.code, what).toBe(2);
      expect(r.err, what).toContain(names);
    }
  }, 60_000);
});
