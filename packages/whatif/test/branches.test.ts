// `branches` on the seed: every LB bucket gets a witness, the conntrack states and the MetalLB
// failover chain are each a concrete trace; and `ovnsim branches` exit codes.
import { run } from "@ovnsim/cli";
import { loadScenario } from "@ovnsim/kube";
import { createSimulation, trace } from "@ovnsim/tracer";
import { type BranchesDocument, applyVariant, exploreBranches } from "@ovnsim/whatif";
import { beforeAll, describe, expect, it } from "vitest";

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

const seed = loadScenario([]);

describe("branches on the seed", () => {
  let local: BranchesDocument;
  let cluster: BranchesDocument;
  beforeAll(() => {
    local = exploreBranches(seed);
    cluster = exploreBranches(applyVariant(seed, { release: "1.15", etp: "Cluster" }));
  }, 180_000);

  it("prefer-local with ETP Local: the announcing node's one local bucket, then each announcer in turn", () => {
    expect(local.coverage.find((c) => c.kind === "backend")).toEqual({
      kind: "backend",
      reached: 1,
      total: 1,
      missed: [],
    });
    expect(local.branches.filter((b) => b.kind === "announcer").map((b) => [b.choice, b.delivered])).toEqual([
      ["node1", true],
      ["node2", true],
      ["(none)", false],
    ]);
    expect(local.coverage.find((c) => c.kind === "announcer")).toMatchObject({ reached: 3, total: 3 });
    const ct = local.branches.filter((b) => b.kind === "conntrack").map((b) => b.choice);
    expect(ct).toEqual(["new", "est|trk|dnat", "new|trk (no entry)"]);
  });

  it("1.15 with ETP Cluster: all three buckets of the ct_lb_mark, each witness replays to its backend", () => {
    const b = cluster.branches.filter((x) => x.kind === "backend");
    expect(b.map((x) => x.choice)).toEqual(["10.180.204.2:80", "10.180.204.3:80", "10.180.204.4:80"]);
    expect(cluster.coverage.find((c) => c.kind === "backend")).toEqual({
      kind: "backend",
      reached: 3,
      total: 3,
      missed: [],
    });
    // Only the announcing node's own backend is reachable from the localnet port: the others
    // would go back out where the packet came in.
    expect(b.map((x) => x.delivered)).toEqual([false, false, true]);
    const s = applyVariant(seed, { release: "1.15", etp: "Cluster" });
    for (const x of b) {
      const port = Number(/source port (\d+)/.exec(x.witness)![1]);
      expect(trace(createSimulation(s), { srcPort: port }).verdict.backend).toBe(x.choice);
    }
  });

  // Known difference (tracer, not whatif): real OVS applies the committed DNAT to an established
  // packet in ls_in_pre_stateful's ct_lb_mark, so the ACK reaches the backend; the tracer hands
  // the logical pipeline only the ct state, the VIP stays the destination and l2_lkup drops it.
  it.fails("an established ACK on the node that committed the connection is delivered (tracer gap)", () => {
    expect(local.branches.find((b) => b.kind === "conntrack" && b.choice.startsWith("est"))?.delivered).toBe(
      true,
    );
  });
});

describe("ovnsim branches", () => {
  it("json schema, exit 1 when a branch drops, 2 on bad input", async () => {
    const r = await cli(["branches", "--format", "json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).schema).toBe("ovnsim.branches/v1");
    for (const args of [
      ["branches", "--proto", "icmp"],
      ["branches", "--to", "10.0.0"],
      ["branches", "--from", "nobody"],
      ["branches", "--etp", "Local,Cluster"],
    ]) {
      expect((await cli(args)).code, args.join(" ")).toBe(2);
    }
  }, 120_000);
});
