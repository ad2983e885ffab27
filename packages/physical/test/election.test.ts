import { createHash } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  compileTopology,
  electAnnouncer,
  MetalLB,
  PhysicalNetwork,
  responderInterfaces,
  seedScenario,
  EXCLUDE_LB_LABEL,
  goIpString,
  type LBService,
  type MetalLBSpec,
  parseIp,
  parseMetalLB,
} from "../src/index.js";

// Independent reference: MetalLB's sortL2Candidates is sha256(node + "#" + ip) ascending.
function expectedOrder(nodes: readonly string[], ip: string): string[] {
  return [...nodes].sort((a, b) => {
    const ha = createHash("sha256").update(`${a}#${ip}`).digest();
    const hb = createHash("sha256").update(`${b}#${ip}`).digest();
    return Buffer.compare(ha, hb);
  });
}

const nodes = ["node1", "node2", "node3", "node4", "worker-a", "worker-b"];
const spec: MetalLBSpec = {
  pools: [{ name: "p", addresses: ["10.180.204.250-10.180.204.254", "fd00::/120"] }],
  advertisements: [{ name: "ad" }],
  nodes: nodes.map((name) => ({ name })),
};
const pool = parseMetalLB(spec)[0];
const svc = (over: Partial<LBService> = {}): LBService => ({
  name: "s",
  endpoints: nodes.map((nodeName) => ({ nodeName, ready: true })),
  ...over,
});

describe("MetalLB L2 election agrees with sortL2Candidates", () => {
  it("picks the first of the sha256(node#ip) order (ETP=Cluster)", () => {
    for (const ip of ["10.180.204.250", "10.180.204.252", "10.180.204.254", "fd00::fc"]) {
      if (!pool) throw new Error("no pool");
      const e = electAnnouncer(spec, svc(), parseIp(ip), pool);
      expect(e.candidates.map((c) => c.node)).toEqual(expectedOrder(nodes, ip));
      expect(e.owner).toBe(expectedOrder(nodes, ip)[0]);
    }
  });

  it("ETP=Local: only nodes with a serving local endpoint can win", () => {
    if (!pool) throw new Error("no pool");
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom(...nodes), { minLength: 0, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        fc.integer({ min: 250, max: 254 }),
        (epNodes, readiness, last) => {
          const ip = `10.180.204.${last}`;
          const endpoints = epNodes.map((nodeName, i) => ({ nodeName, ready: readiness[i] ?? true }));
          const e = electAnnouncer(
            spec,
            svc({ externalTrafficPolicy: "Local", endpoints }),
            parseIp(ip),
            pool,
          );
          const eligible = epNodes.filter((_, i) => readiness[i] ?? true);
          if (eligible.length === 0) {
            expect(e.owner).toBeUndefined();
          } else {
            expect(e.owner).toBe(expectedOrder(eligible, ip)[0]);
            expect(eligible).toContain(e.owner);
          }
        },
      ),
    );
  });

  it("no serving endpoint anywhere → no owner; serving-but-not-ready counts", () => {
    if (!pool) throw new Error("no pool");
    const vip = parseIp("10.180.204.252");
    expect(electAnnouncer(spec, svc({ endpoints: [] }), vip, pool).reason).toBe("no active endpoints");
    expect(
      electAnnouncer(spec, svc({ endpoints: [{ nodeName: "node1", ready: false }] }), vip, pool).owner,
    ).toBeUndefined();
    const serving = electAnnouncer(
      spec,
      svc({
        externalTrafficPolicy: "Local",
        endpoints: [{ nodeName: "node2", ready: false, serving: true }],
      }),
      vip,
      pool,
    );
    expect(serving.owner).toBe("node2");
  });

  it("drops NetworkUnavailable, excluded-label, unselected and speaker-less nodes", () => {
    const s2: MetalLBSpec = {
      ...spec,
      nodes: [
        { name: "node1", networkUnavailable: true },
        { name: "node2", labels: { [EXCLUDE_LB_LABEL]: "", zone: "a" } },
        { name: "node3", labels: { zone: "b" } },
        { name: "node4", labels: { zone: "a" } },
        { name: "worker-a", labels: { zone: "a" } },
        { name: "worker-b", labels: { zone: "a" } },
      ],
      advertisements: [{ name: "ad", nodeSelectors: [{ matchLabels: { zone: "a" } }] }],
      speakers: ["node1", "node2", "node3", "node4", "worker-a"],
    };
    const p = parseMetalLB(s2)[0];
    if (!p) throw new Error("no pool");
    const e = electAnnouncer(s2, svc(), parseIp("10.180.204.252"), p);
    expect(e.candidates.map((c) => c.node)).toEqual(expectedOrder(["node4", "worker-a"], "10.180.204.252"));
    expect(Object.fromEntries(e.excluded.map((x) => [x.node, x.reason]))).toMatchObject({
      node1: "NetworkUnavailable",
      node2: `labelled ${EXCLUDE_LB_LABEL}`,
      node3: "not selected by any L2Advertisement",
      "worker-b": "no running speaker",
    });
    // --ignore-exclude-lb brings node2 back; memberlist off makes every node a candidate.
    const e2 = electAnnouncer({ ...s2, ignoreExcludeLB: true }, svc(), parseIp("10.180.204.252"), p);
    expect(e2.candidates.map((c) => c.node).sort()).toEqual(["node2", "node4", "worker-a"]);
    const e3 = electAnnouncer({ ...s2, memberlist: false }, svc(), parseIp("10.180.204.252"), p);
    expect(e3.candidates.map((c) => c.node).sort()).toEqual(["node4", "worker-a", "worker-b"]);
  });
});

describe("goIpString matches Go's net.IP.String()", () => {
  it.each([
    ["10.180.204.252", "10.180.204.252"],
    ["fd00:10:180:204::fc", "fd00:10:180:204::fc"],
    ["::ffff:1.2.3.4", "1.2.3.4"],
    ["::1.2.3.4", "::102:304"],
    ["1:0:0:1:0:0:0:1", "1:0:0:1::1"],
    ["1:0:0:2:0:0:3:4", "1::2:0:0:3:4"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"],
    ["::", "::"],
    ["FD00::ABC", "fd00::abc"],
  ])("%s → %s", (input, out) => {
    expect(goIpString(parseIp(input))).toBe(out);
  });
});

describe("responder interfaces (announcer.updateInterfaces)", () => {
  const topo = compileTopology({
    hosts: [
      {
        name: "n",
        nics: [
          { name: "eth0", mac: "02:00:00:00:00:01", addresses: ["10.0.0.1/24"] },
          { name: "eth0.5", parent: "eth0", vid: 5 },
          { name: "eth1", mac: "02:00:00:00:00:02", up: false },
          { name: "eth2", mac: "02:00:00:00:00:03", noarp: true },
          { name: "eth3", mac: "02:00:00:00:00:04", broadcast: false },
          { name: "veth12", mac: "02:00:00:00:00:05" },
          { name: "eth4", mac: "02:00:00:00:00:06", linkLocal6: false },
          { name: "br-x", macFrom: "eth4" },
        ],
        bridges: [{ name: "br-x", ports: [{ name: "eth4" }] }],
      },
    ],
    switches: [],
    links: [],
  });
  const host = topo.hosts.get("n");
  it("skips excluded, down, enslaved and NOARP interfaces; ARP needs broadcast, NDP a link-local", () => {
    if (!host) throw new Error("no host");
    const r = responderInterfaces(host, {});
    expect(r.arp.map((n) => n.name)).toEqual(["eth0", "eth0.5", "br-x"]);
    expect(r.ndp.map((n) => n.name)).toEqual(["eth0", "eth0.5", "eth3", "br-x"]);
    expect(Object.fromEntries(r.skipped.map((x) => [x.iface, x.reason]))).toEqual({
      eth1: "down",
      eth2: "NOARP",
      veth12: "excluded by announcedInterfacesToExclude",
      eth4: "enslaved (master br-x)",
    });
    // The doc's reading: the enslaved NIC answers too.
    expect(responderInterfaces(host, { respectMaster: false }).arp.map((n) => n.name)).toContain("eth4");
    // nodeInterfaces (for MatchInterfaces) lists everything not excluded, down or not.
    expect(r.names).not.toContain("veth12");
    expect(r.names).toContain("eth1");
  });
  it("an advertisement naming an interface the node lacks: announceFailed, nobody answers", () => {
    const s = seedScenario();
    const net = new PhysicalNetwork(s.topology);
    const m = new MetalLB(net, { ...s.metallb, advertisements: [{ name: "ad", interfaces: ["bond0"] }] }, [
      s.service,
    ]);
    const t = m.reconcile();
    expect(t.events.some((e) => e.text.startsWith("announceFailed"))).toBe(true);
    expect(m.status()[0]?.interfaces).toEqual([]);
  });
});
