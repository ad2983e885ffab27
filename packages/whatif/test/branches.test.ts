// `branches` on the seed: every LB bucket gets a witness, the conntrack states and the MetalLB
// failover chain are each a concrete trace; through an ovn-nbctl file, each ECMP next hop; and
// `ovnsim branches` exit codes.
import { run } from "@ovnsim/cli";
import { loadScenario } from "@ovnsim/kube";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TCP_FLAG } from "@ovnsim/packet";
import { createSimulation, runTrace, trace } from "@ovnsim/tracer";
import { type BranchesDocument, applyVariant, exploreBranches, exploreNbctlBranches } from "@ovnsim/whatif";
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
      // No speaker left: the gateway's ARP cache still sends the ACK to node2, whose conntrack
      // committed the connection on the previous ACK, so its DNAT is applied (as through br-int).
      ["(none)", true],
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

  // Real OVS applies the committed DNAT to an established packet at ls_in_pre_stateful's
  // argument-less ct_lb_mark (ovn-controller encodes it as ct(table=…,zone=…,nat)), so the ACK
  // reaches the backend on the node that committed the connection.
  it("an established ACK on the node that committed the connection is delivered", () => {
    const est = local.branches.find((b) => b.kind === "conntrack" && b.choice.startsWith("est"));
    expect(est?.delivered).toBe(true);
    expect(est?.verdict).toBe("delivered to default/deploy-169402624-2 on node3 (DNAT 10.180.204.4:80)");
  });

  // Both datapaths on the same SYN, reply and ACK: through br-int as OpenFlow, table 14's
  // ct(table=…,zone=…,nat) applies the committed DNAT (nw_dst=10.180.204.4) and l2_lkup finds
  // the pod; the logical datapath finds the same entry (ct_state=est|trk|dnat) and applies the
  // same DNAT at ct_lb_mark. Without it (the tracer before this fix, and ovn-trace --ct=est
  // without --lb-dst) the VIP stays the destination and the packet floods at ls_in_l2_unknown.
  it("the established ACK: the logical and the OpenFlow datapaths both deliver it to the committed backend", () => {
    const ack = (datapath: "logical" | "openflow") => {
      const sim = createSimulation(seed, { datapath });
      trace(sim, {});
      return runTrace(sim, { reply: false, tcpFlags: TCP_FLAG.ack });
    };
    for (const dp of ["openflow", "logical"] as const) {
      const r = ack(dp);
      expect(r.ct, dp).toMatchObject({ node: "node3", state: "est|trk|dnat", found: true });
      expect(r.doc.verdict, dp).toMatchObject({
        delivered: true,
        pod: "default/deploy-169402624-2",
        node: "node3",
        backend: "10.180.204.4:80",
      });
    }
    const lg = ack("logical");
    const steps = JSON.stringify(lg.doc.forward);
    expect(steps).toContain(
      "established connection: its committed DNAT 10.180.204.252:80 → 10.180.204.4:80 applied",
    );
    expect(steps).not.toContain("ls_in_l2_unknown");
  }, 120_000);
});

describe("branches through an ovn-nbctl configuration (ECMP next hops, LB backends, ct states)", () => {
  const ecmp = readFileSync(new URL("./fixtures/ecmp.nbctl", import.meta.url), "utf8");
  const withLb = `${ecmp}ovn-nbctl lb-add lb0 10.0.0.100:80 172.16.0.11:8080,172.16.0.12:8080 tcp\novn-nbctl ls-lb-add inside lb0\n`;

  it("each --ecmp route of the router is a branch, its witness confirmed with --select-id", () => {
    const d = exploreNbctlBranches(ecmp, "ecmp.nbctl", "ovn-23.03", { from: "vm1", to: "8.8.8.8" });
    expect(d.branches.map((b) => [b.kind, b.choice, b.verdict])).toEqual([
      ["ecmp", "select member 1 (next hop via gw-a)", "delivered to gw-a"],
      ["ecmp", "select member 2 (next hop via gw-b)", "delivered to gw-b"],
    ]);
    expect(d.coverage).toEqual([{ kind: "ecmp", reached: 2, total: 2, missed: [] }]);
    for (const b of d.branches)
      expect(b.witness).toMatch(/ip4\.src == 192\.168\.1\.10 && ip4\.dst == 8\.8\.8\.8.*\(confirmed\)$/);
  });

  it("a load-balanced VIP behind the ECMP routes: every backend, every next hop, every ct state", () => {
    const d = exploreNbctlBranches(withLb, "lb.nbctl", "ovn-23.03", {
      from: "vm1",
      to: "10.0.0.100",
      port: 80,
    });
    expect(d.coverage).toEqual([
      { kind: "ecmp", reached: 2, total: 2, missed: [] },
      { kind: "backend", reached: 2, total: 2, missed: [] },
      { kind: "conntrack", reached: 5, total: 5, missed: [] },
    ]);
    const be = d.branches.filter((b) => b.kind === "backend").map((b) => [b.choice, b.verdict]);
    expect(be).toEqual([
      ["172.16.0.11:8080", "delivered to gw-a"],
      ["172.16.0.12:8080", "delivered to gw-b"],
    ]);
    // ct.inv is dropped by the switch's stateful ACL stage, as northd programs it.
    const inv = d.branches.find((b) => b.kind === "conntrack" && b.choice === "inv");
    expect(inv?.delivered).toBe(false);
    expect(d.branches.every((b) => b.witness.endsWith("(confirmed)"))).toBe(true);
  });

  it("ovnsim branches --nbctl: exit 0 all delivered, 1 some dropped, 2 bad input", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-branches-"));
    writeFileSync(join(dir, "ecmp.nbctl"), ecmp);
    writeFileSync(join(dir, "lb.nbctl"), withLb);
    const ok = await cli([
      "branches",
      "--nbctl",
      join(dir, "ecmp.nbctl"),
      "--from",
      "vm1",
      "--to",
      "8.8.8.8:80",
    ]);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("ecmp (coverage 2/2):");
    const some = await cli([
      "branches",
      "--nbctl",
      join(dir, "lb.nbctl"),
      "--from",
      "vm1",
      "--to",
      "10.0.0.100:80",
      "--format",
      "json",
    ]);
    expect(some.code).toBe(1);
    expect(JSON.parse(some.out).schema).toBe("ovnsim.branches/v1");
    for (const args of [
      ["branches", "--nbctl", join(dir, "ecmp.nbctl"), "--from", "vm1"],
      ["branches", "--nbctl", join(dir, "ecmp.nbctl"), "--from", "nobody", "--to", "8.8.8.8"],
      ["branches", "--nbctl", join(dir, "ecmp.nbctl"), "--from", "vm1", "--to", "8.8.8.8", "--profile", "x"],
      ["branches", "--nbctl", join(dir, "missing.nbctl"), "--from", "vm1", "--to", "8.8.8.8"],
      ["branches", "--chassis", "hv1"],
    ]) {
      expect((await cli(args)).code, args.join(" ")).toBe(2);
    }
  }, 120_000);
});

describe("ovnsim branches", () => {
  it("json schema, exit 0 on the seed (every branch delivered), 1 when a branch drops, 2 on bad input", async () => {
    const r = await cli(["branches", "--format", "json"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out).schema).toBe("ovnsim.branches/v1");
    // ETP Cluster: two of the three buckets would leave through the localnet port they came in by.
    expect((await cli(["branches", "--release", "1.15", "--etp", "Cluster"])).code).toBe(1);
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
