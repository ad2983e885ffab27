import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  ARP_OP,
  arpFrame,
  BROADCAST,
  compileTopology,
  type HostSpec,
  type LinkSpec,
  MetalLB,
  PhysicalNetwork,
  parseIfaceCidr,
  parseIp,
  parsePoolEntry,
  type SwitchSpec,
  seedScenario,
} from "../src/index.js";

function simError(fn: () => unknown): { code: string; message: string } {
  try {
    fn();
  } catch (e) {
    if (isSimError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("no error");
}

describe("bad input gives SimErrors naming the object", () => {
  it("a VIP outside every pool", () => {
    const s = seedScenario();
    const net = new PhysicalNetwork(s.topology);
    const e = simError(
      () => new MetalLB(net, s.metallb, [{ ...s.service, loadBalancerIPs: ["10.180.205.7"] }]),
    );
    expect(e).toEqual({
      code: "BAD_VALUE",
      message: "Service default/nginx-lb: VIP 10.180.205.7 is outside every IPAddressPool",
    });
  });
  it("a pool range that is not a range", () => {
    expect(simError(() => parsePoolEntry("10.0.0.9-10.0.0.1", "IPAddressPool p")).message).toBe(
      'IPAddressPool p: invalid IP range "10.0.0.9-10.0.0.1": start IP "10.0.0.9" is after the end IP "10.0.0.1"',
    );
    expect(simError(() => parsePoolEntry("10.0.0.1-x", "IPAddressPool p")).message).toBe(
      'IPAddressPool p: invalid IP range "10.0.0.1-x": invalid end IP "x"',
    );
    expect(simError(() => parsePoolEntry("10.0.0.1-fd00::1", "IPAddressPool p")).message).toContain(
      "different IP families",
    );
    expect(simError(() => parsePoolEntry("10.0.0.0/33", "IPAddressPool p")).message).toBe(
      'IPAddressPool p: invalid CIDR "10.0.0.0/33"',
    );
    expect(simError(() => parsePoolEntry("10.0.0.7", "IPAddressPool p")).message).toBe(
      'IPAddressPool p: invalid CIDR "10.0.0.7"',
    );
    const s = seedScenario();
    const bad = {
      ...s.metallb,
      pools: [{ name: "underlay-pool", addresses: ["10.180.204.254-10.180.204.250"] }],
    };
    expect(simError(() => new MetalLB(new PhysicalNetwork(s.topology), bad, [s.service])).message).toContain(
      "IPAddressPool underlay-pool",
    );
  });
  it("pool ranges parse like MetalLB's ParseCIDR", () => {
    expect(parsePoolEntry("10.180.204.250-10.180.204.254")).toMatchObject({
      family: 4,
      first: 0x0ab4ccfan,
      last: 0x0ab4ccfen,
    });
    expect(parsePoolEntry("10.180.204.250 - 10.180.204.254")).toMatchObject({ first: 0x0ab4ccfan });
    expect(parsePoolEntry("10.0.0.5/24")).toMatchObject({ first: 0x0a000000n, last: 0x0a0000ffn });
    expect(parsePoolEntry("fd00::/126")).toMatchObject({
      family: 6,
      first: 0xfd00n << 112n,
      last: (0xfd00n << 112n) | 3n,
    });
  });
  it("a VLAN id outside 1-4094", () => {
    const s = seedScenario();
    const subif = simError(() =>
      compileTopology({
        ...s.topology,
        hosts: s.topology.hosts.map((h) =>
          h.name === "gw"
            ? { ...h, nics: h.nics.map((n) => (n.name === "eth1.341" ? { ...n, vid: 4095 } : n)) }
            : h,
        ),
      }),
    );
    expect(subif).toEqual({
      code: "BAD_VALUE",
      message: "host gw interface eth1.341: VLAN id 4095 is outside 1-4094",
    });
    const port = simError(() =>
      compileTopology({
        ...s.topology,
        switches: [{ name: "tor", ports: [{ name: "p1", trunks: [341, 0] }] }],
        links: [],
      }),
    );
    expect(port).toEqual({ code: "BAD_VALUE", message: "switch tor port p1: VLAN id 0 is outside 1-4094" });
  });
  it("a link to a missing port or device", () => {
    const s = seedScenario();
    const e = simError(() =>
      compileTopology({ ...s.topology, links: [...s.topology.links, { a: "tor:p99", b: "gw:eth9" }] }),
    );
    expect(e).toEqual({
      code: "UNKNOWN_PORT",
      message: "link tor:p99 - gw:eth9: switch tor has no port p99",
    });
    const e2 = simError(() =>
      compileTopology({ ...s.topology, links: [{ a: "nosuch:eth0", b: "tor:client" }] }),
    );
    expect(e2).toEqual({
      code: "UNKNOWN_OBJECT",
      message: "link nosuch:eth0 - tor:client: no device nosuch",
    });
    const e3 = simError(() =>
      compileTopology({ ...s.topology, links: [...s.topology.links, { a: "tor:client", b: "gw:eth1" }] }),
    );
    expect(e3.code).toBe("CONFLICT");
  });
  it("two devices with one MAC", () => {
    const s = seedScenario();
    const e = simError(() =>
      compileTopology({
        ...s.topology,
        hosts: s.topology.hosts.map((h) =>
          h.name === "client"
            ? { ...h, nics: [{ ...h.nics[0], name: "eth0", mac: "00:00:5e:00:54:01" }] }
            : h,
        ),
      }),
    );
    expect(e.code).toBe("DUPLICATE");
    expect(e.message).toBe(
      "MAC 00:00:5e:00:54:01 is used by two devices: client and node1 (interface underlay0)",
    );
  });
  it("an L2Advertisement naming a missing pool, overlapping pools", () => {
    const s = seedScenario();
    const net = new PhysicalNetwork(s.topology);
    const m1 = { ...s.metallb, advertisements: [{ name: "ad", ipAddressPools: ["nope"] }] };
    expect(simError(() => new MetalLB(net, m1, [s.service])).message).toBe(
      "L2Advertisement ad: no IPAddressPool nope",
    );
    const m2 = {
      ...s.metallb,
      pools: [...s.metallb.pools, { name: "other", addresses: ["10.180.204.0/24"] }],
    };
    expect(simError(() => new MetalLB(net, m2, [s.service])).code).toBe("CONFLICT");
  });
});

describe("fuzz: text parsers give a result or a SimError", () => {
  const texty = fc.oneof(
    fc.string(),
    fc.stringMatching(/^[0-9a-f.:/\- ]{0,40}$/),
    fc.tuple(fc.ipV4(), fc.ipV4()).map(([a, b]) => `${a}-${b}`),
    fc.tuple(fc.ipV6(), fc.ipV6()).map(([a, b]) => `${a}-${b}`),
    fc.tuple(fc.ipV4(), fc.integer({ min: -1, max: 40 })).map(([a, p]) => `${a}/${p}`),
    fc.tuple(fc.ipV6(), fc.integer({ min: -1, max: 130 })).map(([a, p]) => `${a}/${p}`),
  );
  const safe = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      if (!isSimError(e)) throw e;
    }
  };
  it("parsePoolEntry", () => {
    fc.assert(
      fc.property(texty, (t) =>
        safe(() => {
          const r = parsePoolEntry(t, "IPAddressPool f");
          expect(r.first <= r.last).toBe(true);
        }),
      ),
      { numRuns: 3000 },
    );
  });
  it("parseIfaceCidr and parseIp", () => {
    fc.assert(
      fc.property(texty, (t) => {
        safe(() => parseIfaceCidr(t));
        safe(() => parseIp(t));
      }),
      { numRuns: 3000 },
    );
  });
});

describe("property: a frame never leaves its VLAN", () => {
  // Random topologies: switches in a random graph (loops allowed) joined by all-VLAN trunks or
  // by trunks allowing a random subset; hosts on access ports or on trunks through a VLAN
  // sub-interface; one host broadcasts an ARP. Every host stack that sees it is in its VLAN.
  const topoArb = fc.record({
    nSwitches: fc.integer({ min: 1, max: 4 }),
    interLinks: fc.array(fc.record({ a: fc.nat(3), b: fc.nat(3), trunks: fc.subarray([1, 2, 3]) }), {
      maxLength: 5,
    }),
    hosts: fc.array(fc.record({ sw: fc.nat(3), vlan: fc.integer({ min: 1, max: 3 }), subif: fc.boolean() }), {
      minLength: 2,
      maxLength: 7,
    }),
    sender: fc.nat(6),
  });
  it("holds over random topologies", () => {
    fc.assert(
      fc.property(topoArb, (t) => {
        const switches: { name: string; ports: SwitchSpec["ports"][number][] }[] = Array.from(
          { length: t.nSwitches },
          (_, i) => ({ name: `s${i}`, ports: [] }),
        );
        const links: LinkSpec[] = [];
        t.interLinks.forEach((l, i) => {
          const a = switches[l.a % t.nSwitches];
          const b = switches[l.b % t.nSwitches];
          if (!a || !b) return;
          a.ports.push({ name: `t${i}a`, ...(l.trunks.length ? { trunks: l.trunks } : {}) });
          b.ports.push({ name: `t${i}b`, ...(l.trunks.length ? { trunks: l.trunks } : {}) });
          links.push({ a: `${a.name}:t${i}a`, b: `${b.name}:t${i}b` });
        });
        const hosts: HostSpec[] = t.hosts.map((h, i) => {
          const sw = switches[h.sw % t.nSwitches];
          const mac = `02:00:00:00:01:${i.toString(16).padStart(2, "0")}`;
          const addr = `10.0.0.${i + 1}/24`;
          sw?.ports.push(h.subif ? { name: `h${i}`, trunks: [1, 2, 3] } : { name: `h${i}`, tag: h.vlan });
          links.push({ a: `h${i}:eth0`, b: `${sw?.name}:h${i}` });
          return {
            name: `h${i}`,
            nics: h.subif
              ? [
                  { name: "eth0", mac },
                  { name: `eth0.${h.vlan}`, parent: "eth0", vid: h.vlan, addresses: [addr] },
                ]
              : [{ name: "eth0", mac, addresses: [addr] }],
          };
        });
        const net = new PhysicalNetwork({ hosts, switches, links });
        const si = t.sender % t.hosts.length;
        const sender = t.hosts[si];
        if (!sender) return;
        const iface = sender.subif ? `eth0.${sender.vlan}` : "eth0";
        const mac = net.host(`h${si}`).nics.get("eth0")?.mac ?? 0;
        const trace = net.inject(
          `h${si}`,
          iface,
          arpFrame({
            op: ARP_OP.request,
            dlSrc: mac,
            dlDst: BROADCAST,
            sha: mac,
            spa: parseIp(`10.0.0.${si + 1}`),
            tha: 0,
            tpa: parseIp("10.0.0.250"),
          }),
        );
        for (const e of trace.events) {
          if (e.kind !== "host" && e.kind !== "neigh") continue;
          const hi = Number(e.at.slice(1, e.at.indexOf("/")));
          expect(t.hosts[hi]?.vlan, `${e.at} saw a VLAN ${sender.vlan} broadcast`).toBe(sender.vlan);
        }
        expect(trace.events.length).toBeLessThan(5000);
      }),
      { numRuns: 300 },
    );
  });
});
