// Symbolic reachability against the concrete ovn-trace model: on the seed and on random
// scenarios, every class's witness and random members of every exact class get the class's
// verdict (same output ports, in order, or dropped) from LogicalNetwork.traceFlow run with the
// class's conntrack state (--ct) and backend (--lb-dst).
import { readFileSync } from "node:fs";
import { loadScenario, scenarioFromYaml } from "@ovnsim/kube";
import { isSimError } from "@ovnsim/packet";
import { arbTopology, scenarioYaml } from "@ovnsim/testing";
import {
  REACH_SCHEMA,
  type ReachRun,
  classMembers,
  concreteVerdict,
  parseCtList,
  reach,
  reachNbctl,
  renderReachJson,
  renderReachText,
} from "@ovnsim/whatif";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const seed = loadScenario([]);

/** Classes whose witness or a random member the concrete executor disagrees with. */
function disagreements(r: ReachRun, inport: string, members: number): string[] {
  const bad: string[] = [];
  r.doc.classes.forEach((c, i) => {
    const flows = classMembers(r.terms[i]!, c.exact ? members : 0, 1000 + i);
    for (const f of flows) {
      const v = concreteVerdict(r.concrete, inport, f, c.ct, c.backend, c.select);
      if (v.delivered !== c.verdict.delivered || v.ports.join(",") !== c.verdict.ports.join(","))
        bad.push(
          `#${c.id} ${c.header}: symbolic ${c.verdict.ports.join(",") || "drop"}, concrete ${v.ports.join(",") || "drop"}`,
        );
    }
  });
  return bad;
}

describe("reach on the seed", () => {
  const pod = seed.pods[0]!;
  const r = reach(seed, { from: `${pod.namespace}/${pod.name}` });

  it("every witness is confirmed and every class is exact", () => {
    expect(r.doc.schema).toBe(REACH_SCHEMA);
    expect(r.doc.classes.length).toBeGreaterThan(50);
    expect(r.doc.confirmed).toBe(r.doc.classes.length);
    expect(r.doc.classes.every((c) => c.exact)).toBe(true);
    expect(r.doc.truncated).toBe(false);
  });

  it("random members of every class get the class's verdict", () => {
    expect(disagreements(r, pod.lsp, 3)).toEqual([]);
  }, 120_000);

  it("the VIP's new connections branch once per backend, each with the hash's own choice named", () => {
    const pods = seed.pods.map((p) => `${p.ip}:80`);
    const newBackends = (x: ReachRun) => x.doc.classes.filter((c) => c.backend !== null && c.ct === "new");
    // enable-ovn-lb-prefer-local: on the pod's own node only the local backend is offered.
    const local = newBackends(r);
    expect([...new Set(local.map((c) => c.backend))]).toEqual([`${pod.ip}:80`]);
    // On a chassis that hosts no backend, ls_in_lb's priority-120 flow offers all three.
    const away = reach(seed, { from: pod.lsp, chassis: "elsewhere", match: "ip4 && tcp.dst == 80" });
    const all = newBackends(away);
    expect([...new Set(all.map((c) => c.backend))].sort()).toEqual([...pods].sort());
    for (const c of all) expect(pods).toContain(c.hashPicks);
    expect(away.doc.confirmed).toBe(away.doc.classes.length);
    // A backend that is the client itself comes back to its own port: hairpin, delivered back.
    const self = local.filter((c) => c.backend === `${pod.ip}:80`);
    expect(self.some((c) => c.verdict.delivered && c.verdict.ports.includes(pod.lsp))).toBe(true);
  });

  it("each conntrack state is its own branch, and ct.inv is dropped", () => {
    const states = new Set(r.doc.classes.map((c) => c.ct).filter((x) => x !== null));
    expect([...states].sort()).toEqual(["est", "est|rpl", "inv", "new", "rel"]);
    const inv = r.doc.classes.filter((c) => c.ct === "inv");
    expect(inv.length).toBeGreaterThan(0);
  });

  it("--match and --to restrict the classes; text and JSON render them", () => {
    const other = seed.pods[1]!;
    const m = reach(seed, {
      from: pod.lsp,
      match: `ip4 && tcp && ip4.dst == ${other.ip}`,
      to: [`${other.namespace}/${other.name}`],
    });
    expect(m.doc.classes.length).toBeGreaterThan(0);
    for (const c of m.doc.classes) {
      expect(c.verdict.ports).toContain(other.lsp);
      expect(c.header).toContain(`ip4.dst == ${other.ip}`);
    }
    expect(renderReachText(m.doc)).toContain(`DELIVERED to ${other.lsp}`);
    expect(JSON.parse(renderReachJson(m.doc)).schema).toBe("ovnsim.reach/v1");
  });

  it("names what it cannot find", () => {
    expect(() => reach(seed, { from: "nope" })).toThrow(/no pod or logical port "nope"/);
    expect(() => reach(seed, { from: pod.lsp, to: ["nope"] })).toThrow(/--to: no logical port/);
    expect(() => parseCtList("new,,est")).toThrow(/empty state/);
    expect(() => parseCtList("bogus")).toThrow(/unknown connection tracking state/);
  });
});

// The "est" class to the VIP that ends at ls_in_l2_unknown (kept on purpose): reach's conntrack
// branch is ovn-trace's --ct: a state, no connection entry. ls_in_pre_stateful's ct_lb_mark has
// no backends, so it only sets ct_state — in ovn-trace (execute_ct_lb rewrites the destination
// only when the action lists backends, or --lb-dst gives one) and here — and the VIP stays the
// destination. A real datapath applies the entry's DNAT there, and so does the stateful tracer
// (branches.test.ts: both of its datapaths deliver that ACK); reach's `new` class carries the
// ct_lb_mark(backends=…) branch that commits it.
describe("reach: the established class to the VIP is ovn-trace's --ct=est (no NAT entry)", () => {
  const r = reach(seed, {
    from: "localnet.underlay-subnet",
    chassis: "node3",
    match:
      "ip4 && tcp && ip4.dst == 10.180.204.252 && tcp.dst == 80 && eth.dst == 00:00:00:01:00:01 && !vlan.present && eth.src[40] == 0",
    ctStates: ["new", "est"],
  });
  it("new: DNAT to the local backend; est: no NAT, flooded to _MC_unknown; both confirmed by ovn-trace", () => {
    const byCt = (ct: string) => r.doc.classes.filter((c) => c.ct === ct);
    expect(
      byCt("new").some(
        (c) => c.backend === "10.180.204.4:80" && c.verdict.ports.includes("deploy-169402624-2.default"),
      ),
    ).toBe(true);
    const est = byCt("est");
    expect(est).toHaveLength(1);
    expect(est[0]!.backend).toBeNull();
    expect(est[0]!.verdict.droppedAt).toBe('ls_in_l2_unknown priority 50 (outport == "none")');
    expect(r.doc.confirmed).toBe(r.doc.classes.length);
  });
});

describe("reach through a router with ECMP routes (ovn-nbctl, northd ovn-23.03)", () => {
  const text = readFileSync(new URL("./fixtures/ecmp.nbctl", import.meta.url), "utf8");
  const r = reachNbctl(text, "ecmp.nbctl", "ovn-23.03", {
    from: "vm1",
    match: "ip4 && tcp && ip4.dst == 8.8.8.8",
  });

  it("each next hop is a branch, confirmed with --select-id, the hash's choice named", () => {
    const hops = r.doc.classes.filter((c) => c.select !== null && c.verdict.delivered);
    expect(new Set(hops.map((c) => `${c.select}->${c.verdict.ports.join(",")}`))).toEqual(
      new Set(["1->gw-a", "2->gw-b"]),
    );
    for (const c of hops) expect([1, 2]).toContain(c.selectHashPicks);
    expect(r.doc.confirmed).toBe(r.doc.classes.length);
    // ip.ttl-- is followed exactly (split on the TTL's lowest set bit), so every class is exact.
    expect(r.doc.classes.every((c) => c.exact)).toBe(true);
  });

  it("random members of every class agree with the concrete trace", () => {
    expect(disagreements(r, "vm1", 3)).toEqual([]);
  }, 120_000);

  it("a TTL of 1 is answered, not routed", () => {
    const t = reachNbctl(text, "ecmp.nbctl", "ovn-23.03", {
      from: "vm1",
      match: "ip4 && tcp && ip.ttl == 1",
    });
    expect(
      t.doc.classes.some((c) => c.verdict.delivered && c.verdict.ports.some((p) => p.startsWith("gw-"))),
    ).toBe(false);
    expect(t.doc.classes.some((c) => c.verdict.droppedAt?.includes("ip.ttl == {0, 1}"))).toBe(true);
  });
});

describe("reach on random scenarios", () => {
  it("witnesses and random members agree with the concrete trace", () => {
    fc.assert(
      fc.property(
        arbTopology().filter((t) => t.replicas > 0),
        fc.nat(),
        fc.boolean(),
        (t, pick, fromLocalnet) => {
          const s = scenarioFromYaml(scenarioYaml({ ...t, replicas: Math.min(t.replicas, 3) }));
          const pod = s.pods[pick % s.pods.length]!;
          const r = fromLocalnet
            ? reach(s, {
                from: `localnet.${pod.subnet}`,
                chassis: pod.node,
                match: "ip4 || arp",
              })
            : reach(s, { from: pod.lsp });
          expect(r.doc.confirmed).toBe(r.doc.classes.length);
          const inport = fromLocalnet ? `localnet.${pod.subnet}` : pod.lsp;
          expect(disagreements(r, inport, 2)).toEqual([]);
        },
      ),
      { numRuns: 10, seed: 16 },
    );
  }, 300_000);
});

describe("fuzz: --match and --ct", () => {
  const atoms = fc.constantFrom(
    "ip4",
    "ip6",
    "arp",
    "tcp",
    "udp",
    "icmp4",
    "tcp.dst == 80",
    "tcp.dst >= 1024",
    "udp.src < 100",
    "ip4.dst == 10.180.204.252",
    "ip4.src == 10.0.0.0/8",
    "eth.dst[40]",
    "ct.new",
    "reg0[2] == 1",
    'outport == "x"',
    "1",
    "0",
  );
  const expr: fc.Arbitrary<string> = fc.letrec((tie) => ({
    e: fc.oneof(
      { depthSize: "small" },
      atoms,
      fc.tuple(tie("e"), fc.constantFrom(" && ", " || "), tie("e")).map(([a, o, b]) => `(${a}${o}${b})`),
      tie("e").map((x) => `!${x}`),
    ),
  })).e as fc.Arbitrary<string>;
  const pod = seed.pods[0]!;

  it("any --match expression gives classes or a SimError", () => {
    fc.assert(
      fc.property(fc.oneof(expr, fc.string({ maxLength: 24 })), (m) => {
        try {
          const r = reach(seed, { from: pod.lsp, match: m, confirm: false, maxClasses: 40 });
          expect(r.doc.classes.length).toBeLessThanOrEqual(40);
        } catch (e) {
          if (!isSimError(e)) throw e;
        }
      }),
      { numRuns: 40, seed: 16 },
    );
  }, 120_000);

  it("any --ct list parses or is a SimError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (t) => {
        try {
          parseCtList(t);
        } catch (e) {
          if (!isSimError(e)) throw e;
        }
      }),
      { numRuns: 500, seed: 16 },
    );
  });
});
