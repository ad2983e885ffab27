// Symbolic reachability through the OpenFlow bridges (br-int as ovn-controller programs it, the
// provider bridge behind the localnet patch) against the concrete ofproto/trace model in its
// stateful mode (`--datapath openflow`): on the seed and on random scenarios, every class's
// witness and random members of every exact class leave by the class's bridge ports (or are
// dropped) when traced concretely with the class's conntrack state as --ct-next.
import { loadScenario, scenarioFromYaml } from "@ovnsim/kube";
import { isSimError } from "@ovnsim/packet";
import { arbTopology, scenarioYaml } from "@ovnsim/testing";
import {
  OF_HEADER_SLOTS,
  OF_REACH_SCHEMA,
  type OfReachRun,
  contains,
  prng,
  reach,
  reachOpenflow,
  renderOfReachJson,
  renderOfReachText,
  witness,
} from "@ovnsim/whatif";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

const seed = loadScenario([]);

/** Classes a random member of which the concrete trace disagrees with (exact classes without a select bucket). */
function disagreements(r: OfReachRun, members: number, seedNo: number): string[] {
  const bad: string[] = [];
  r.doc.classes.forEach((c, i) => {
    // A bucket is the datapath's hash of the packet: only members hashing to it are in the class.
    if (!c.exact || c.buckets.length > 0) return;
    const rand = prng(seedNo + i);
    const ts = r.terms[i]!;
    for (let k = 0; k < members; k++) {
      const t = ts[Math.floor(rand() * ts.length)]!;
      const p = witness(t, OF_HEADER_SLOTS, rand);
      if (!p || !contains(t, p)) continue;
      if (!r.check(i, r.flowOf(p))) bad.push(`#${c.id} ${c.header}: ${c.verdict.exits.join(",") || "drop"}`);
    }
  });
  return bad;
}

describe("reach --datapath openflow on the seed", () => {
  const pod = seed.pods[0]!;
  const r = reachOpenflow(seed, { from: `${pod.namespace}/${pod.name}` });

  it("every witness is confirmed by the concrete OpenFlow trace, every class exact", () => {
    expect(r.doc.schema).toBe(OF_REACH_SCHEMA);
    expect(r.doc.chassis).toBe(pod.node);
    expect(r.doc.classes.length).toBeGreaterThan(50);
    expect(r.doc.confirmed).toBe(r.doc.classes.length);
    expect(r.doc.classes.filter((c) => !c.exact).map((c) => c.approx)).toEqual([]);
    expect(r.doc.truncated).toBe(false);
  });

  it("random members of every class leave by the class's ports", () => {
    expect(disagreements(r, 3, 7)).toEqual([]);
  }, 120_000);

  it("a new connection to the VIP is DNATed to the local backend and delivered to its veth", () => {
    const vip = reachOpenflow(seed, {
      from: pod.name,
      match: "tcp,nw_dst=10.180.204.252,tp_dst=80",
    });
    const lb = vip.doc.classes.filter((c) => c.ct === "new" && c.backend !== null);
    expect([...new Set(lb.map((c) => c.backend))]).toEqual([`${pod.ip}:80`]);
    expect(lb.some((c) => c.verdict.delivered)).toBe(true);
    // Conntrack states are branches: a mid-stream packet of an unknown connection (inv) is dropped.
    const inv = vip.doc.classes.filter((c) => c.ct === "inv");
    expect(inv.length).toBeGreaterThan(0);
    expect(vip.doc.confirmed).toBe(vip.doc.classes.length);
    // The drop points name the logical flow behind the rule's cookie (ovn-detrace).
    expect(vip.doc.classes.some((c) => c.logical.some((l) => /ls_in_check_port_sec/.test(l)))).toBe(true);
  });

  it("--to keeps the classes leaving by the pod's veth; text and JSON render them", () => {
    const other = seed.pods[1]!;
    const t = reachOpenflow(seed, { from: pod.name, to: [pod.name], match: "ip", ctStates: ["new"] });
    expect(t.doc.classes.length).toBeGreaterThan(0);
    for (const c of t.doc.classes) expect(c.verdict.exits.some((e) => e.startsWith("br-int/"))).toBe(true);
    expect(renderOfReachText(t.doc)).toMatch(/witnesses confirmed by the concrete OpenFlow trace/);
    expect(JSON.parse(renderOfReachJson(t.doc)).schema).toBe(OF_REACH_SCHEMA);
    // Another node's pod is reached through a Geneve port or the localnet (underlay) — never its veth here.
    const far = reachOpenflow(seed, { from: pod.name, match: `ip,nw_dst=${other.ip}`, ctStates: ["new"] });
    expect(far.doc.classes.some((c) => c.verdict.delivered)).toBe(true);
  });

  it("the logical and the OpenFlow runs agree on what reaches the VIP's backends", () => {
    // Same question both ways: new TCP connections to the VIP from the pod, delivered somewhere.
    const lg = reach(seed, {
      from: pod.lsp,
      match: "ip4 && tcp.dst == 80 && ip4.dst == 10.180.204.252",
      ctStates: ["new"],
    });
    const of = reachOpenflow(seed, {
      from: pod.name,
      match: "tcp,nw_dst=10.180.204.252,tp_dst=80",
      ctStates: ["new"],
    });
    const lgBackends = new Set(
      lg.doc.classes.filter((c) => c.verdict.delivered && c.backend).map((c) => c.backend),
    );
    const ofBackends = new Set(
      of.doc.classes.filter((c) => c.verdict.delivered && c.backend).map((c) => c.backend),
    );
    expect([...ofBackends].sort()).toEqual([...lgBackends].sort());
  });

  it("names what it cannot find", () => {
    expect(() => reachOpenflow(seed, { from: "nope" })).toThrow(/no pod/);
    expect(() => reachOpenflow(seed, { from: pod.name, match: "tcp,nw_dst=1.2.3.4,nw_dst=" })).toThrow();
    expect(() => reachOpenflow(seed, { from: pod.name, ctStates: ["bogus"] })).toThrow(/conntrack state/);
  });
});

describe("reach --datapath openflow on random scenarios", () => {
  it("witnesses and random members agree with the concrete OpenFlow trace", () => {
    fc.assert(
      fc.property(
        arbTopology().filter((t) => t.replicas > 0),
        fc.nat(),
        (t, pick) => {
          const s = scenarioFromYaml(scenarioYaml({ ...t, replicas: Math.min(t.replicas, 3) }));
          const pod = s.pods[pick % s.pods.length]!;
          const r = reachOpenflow(s, { from: `${pod.namespace}/${pod.name}`, match: "ip" });
          expect(r.doc.truncated).toBe(false);
          expect(r.doc.classes.filter((c) => c.confirmed !== true).map((c) => `${c.id} ${c.header}`)).toEqual(
            [],
          );
          expect(disagreements(r, 2, pick)).toEqual([]);
        },
      ),
      { numRuns: 6, seed: 16 },
    );
  }, 600_000);
});

// A multicast group's members are each output through the egress pipeline (table 40 → 41 →
// 42…65 per member): the translation depth (64) is a nesting depth, so each member starts from
// the depth of the table-40 flow. Counting every lookup instead cut the flood after two members
// (the 100-pod bench: 8 of 123 witnesses not confirmed).
describe("reach --datapath openflow: a flood reaches every local port", () => {
  it("3 pods on one chassis: the ARP broadcast leaves by both other veths and the provider bridge", () => {
    const s = scenarioFromYaml(
      scenarioYaml({
        nodes: 4,
        replicas: 12,
        etpLocal: false,
        preferLocal: true,
        ctSkip: false,
        dnatModDlDst: true,
        externalLb: true,
        release: "v1.14.5",
        vlan: 341,
      }),
    );
    const from = s.pods[0]!;
    const others = s.pods.filter((p) => p.node === from.node && p !== from);
    expect(others).toHaveLength(2);
    const r = reachOpenflow(s, { from: from.lsp, match: "arp,dl_dst=ff:ff:ff:ff:ff:ff" });
    expect(r.doc.confirmed).toBe(r.doc.classes.length);
    const flood = r.doc.classes.filter((c) => c.verdict.exits.includes("br-provider/underlay0"));
    expect(flood.length).toBeGreaterThan(0);
    for (const c of flood) expect(c.verdict.exits.filter((e) => e.startsWith("br-int/"))).toHaveLength(2);
  }, 300_000);
});

describe("fuzz: --match (ovs-ofctl syntax)", () => {
  const pod = seed.pods[0]!;
  it("any match gives classes or a SimError", () => {
    const atoms = fc.constantFrom(
      "ip",
      "arp",
      "tcp",
      "udp",
      "icmp",
      "nw_dst=10.180.204.252",
      "tp_dst=80",
      "dl_dst=ff:ff:ff:ff:ff:ff",
      "nw_src=10.0.0.0/8",
      "ct_state=+trk",
      "reg0=1",
    );
    fc.assert(
      fc.property(
        fc.oneof(
          fc.array(atoms, { maxLength: 4 }).map((a) => a.join(",")),
          fc.string({ maxLength: 24 }),
        ),
        (m) => {
          try {
            const r = reachOpenflow(seed, { from: pod.name, match: m, confirm: false, maxClasses: 30 });
            expect(r.doc.classes.length).toBeLessThanOrEqual(30);
          } catch (e) {
            if (!isSimError(e)) throw e;
          }
        },
      ),
      { numRuns: 40, seed: 16 },
    );
  }, 300_000);
});
