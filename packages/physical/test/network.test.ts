import { formatMac, parseMac } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import {
  ARP_OP,
  arpFrame,
  BROADCAST,
  formatTrace,
  MetalLB,
  PhysicalNetwork,
  parseIp,
  seedScenario,
  type Trace,
} from "../src/index.js";

function setup(profile: "doc" | "code", ipv6 = false) {
  const s = seedScenario({ profile, ipv6 });
  const net = new PhysicalNetwork(s.topology);
  const svcs = s.service6 ? [s.service, s.service6] : [s.service];
  const m = new MetalLB(net, s.metallb, svcs);
  m.reconcile();
  const owner = m.status()[0]?.node as string;
  const ownerMac = net.host(owner).nics.get("underlay0")?.mac as number;
  return { s, net, m, owner, ownerMac };
}

const answers = (t: Trace) =>
  t.events.filter((e) => e.kind === "metallb" && e.text.startsWith("speaker answers"));

describe("ARP for the VIP from the gateway router on VLAN 341", () => {
  for (const profile of ["doc", "code"] as const) {
    it(`is answered with the announcing node's MAC (${profile} profile), by that node only`, () => {
      const { net, owner, ownerMac } = setup(profile);
      net.advance(10);
      const t = net.resolve("gw", "10.180.204.252");
      expect(net.neighbourMac("gw", "10.180.204.252")).toBe(ownerMac);
      const a = answers(t);
      expect(a).toHaveLength(1);
      expect(a[0]?.at).toBe(profile === "doc" ? `${owner}/underlay0.341` : `${owner}/br-provider`);
      // The request crossed the switch in VLAN 341 and the reply came back tagged.
      expect(t.events.some((e) => e.at === "tor:gw-underlay" && e.text.startsWith("VLAN 341:"))).toBe(true);
      expect(formatTrace(t)).toContain(`Reply 10.180.204.252 is-at ${formatMac(ownerMac)}`);
    });
  }

  it("an external client reaches the announcing node through the router", () => {
    const { net, owner } = setup("code");
    const t = net.send("client", { dst: "10.180.204.252", proto: "tcp", tpSrc: 40000, tpDst: 80 });
    const last = t.events.filter((e) => e.kind === "bridge").at(-1);
    expect(last?.at).toBe(`${owner}/br-provider`);
    expect(last?.frame?.vlans).toEqual([]);
    expect(last?.frame?.nw_ttl).toBe(63);
  });
});

describe("gratuitous announcements (announcer.go spamLoop)", () => {
  it("at once, then every 1.1 s for 5 s: request + reply per responder", () => {
    const s = seedScenario({ profile: "doc" });
    const net = new PhysicalNetwork(s.topology);
    const m = new MetalLB(net, s.metallb, [s.service]);
    const t0 = m.reconcile();
    const t1 = net.advance(20);
    const garps = [...t0.events, ...t1.events].filter(
      (e) => e.kind === "metallb" && e.text.startsWith("gratuitous"),
    );
    const times = [...new Set(garps.map((e) => e.t.toFixed(1)))];
    expect(times).toEqual(["0.0", "1.1", "2.2", "3.3", "4.4"]);
    expect(garps).toHaveLength(10);
    expect(garps[0]?.frame?.arp_tha).toBe(BROADCAST);
    expect(garps[0]?.frame?.nw_src).toBe(garps[0]?.frame?.nw_dst);
  });
});

describe("failover", () => {
  for (const profile of ["doc", "code"] as const) {
    it(`node down → new leader → GARP updates the router → next frame reaches the new node (${profile})`, () => {
      const { net, m, owner, ownerMac } = setup(profile);
      net.advance(10);
      net.send("client", { dst: "10.180.204.252", tpSrc: 40000, tpDst: 80 });
      expect(net.neighbourMac("gw", "10.180.204.252")).toBe(ownerMac);
      net.advance(5);
      const t = m.setNodeUp(owner, false);
      const next = m.status()[0]?.node as string;
      expect(next).toBeDefined();
      expect(next).not.toBe(owner);
      const nextMac = net.host(next).nics.get("underlay0")?.mac as number;
      expect(net.neighbourMac("gw", "10.180.204.252")).toBe(nextMac);
      expect(formatTrace(t)).toContain("gratuitous ARP");
      const after = net.send("client", { dst: "10.180.204.252", tpSrc: 40000, tpDst: 80 });
      const last = after.events.filter((e) => e.kind === "bridge").at(-1);
      expect(last?.at).toBe(`${next}/br-provider`);
      expect(after.events.some((e) => e.at.startsWith(`${owner}/`) && e.kind !== "drop")).toBe(false);
    });
  }

  it("a speaker stopping moves the VIP; a non-leader stopping does not", () => {
    const { m, owner, s } = setup("code");
    const other = s.nodeNames.find((n) => n !== owner) as string;
    m.setSpeaker(other, false);
    expect(m.status()[0]?.node).toBe(owner);
    m.setSpeaker(owner, false);
    expect(m.status()[0]?.node).not.toBe(owner);
  });

  it("ETP=Local with no ready endpoint anywhere: nobody answers", () => {
    const { net, m, s } = setup("code");
    m.update({
      services: [{ ...s.service, endpoints: s.service.endpoints.map((e) => ({ ...e, ready: false })) }],
    });
    expect(m.status()[0]?.node).toBeUndefined();
    const t = net.resolve("gw", "10.180.204.252");
    expect(answers(t)).toHaveLength(0);
    expect(net.neighbourMac("gw", "10.180.204.252")).toBeUndefined();
  });
});

describe("IPv6 with NDP", () => {
  for (const profile of ["doc", "code"] as const) {
    it(`NS for the VIP is answered by the leader; failover NA (override) updates the router (${profile})`, () => {
      const { net, m } = setup(profile, true);
      net.advance(10);
      const st = m.status().find((x) => x.vip === "fd00:10:180:204::fc");
      const owner = st?.node as string;
      const ownerMac = net.host(owner).nics.get("underlay0")?.mac as number;
      const t = net.resolve("gw", "fd00:10:180:204::fc");
      expect(answers(t)).toHaveLength(1);
      expect(net.neighbourMac("gw", "fd00:10:180:204::fc")).toBe(ownerMac);
      net.advance(5);
      m.setNodeUp(owner, false);
      const next = m.status().find((x) => x.vip === "fd00:10:180:204::fc")?.node as string;
      expect(next).not.toBe(owner);
      expect(net.neighbourMac("gw", "fd00:10:180:204::fc")).toBe(net.host(next).nics.get("underlay0")?.mac);
    });
  }
});

describe("Linux neighbour rules", () => {
  it("a non-gratuitous ARP within locktime does not replace an entry; a gratuitous one does", () => {
    const { net, owner, ownerMac } = setup("code");
    net.resolve("gw", "10.180.204.252");
    const evil = parseMac("02:00:00:00:00:66");
    const reply = arpFrame({
      op: ARP_OP.reply,
      dlSrc: ownerMac,
      dlDst: parseMac("00:00:5e:00:53:fd"),
      sha: evil,
      spa: parseIp("10.180.204.252"),
      tha: parseMac("00:00:5e:00:53:fd"),
      tpa: parseIp("10.180.204.1"),
    });
    net.inject(owner, "underlay0.341", reply);
    expect(net.neighbourMac("gw", "10.180.204.252")).toBe(ownerMac);
    const garp = arpFrame({
      op: ARP_OP.request,
      dlSrc: ownerMac,
      dlDst: BROADCAST,
      sha: evil,
      spa: parseIp("10.180.204.252"),
      tha: 0,
      tpa: parseIp("10.180.204.252"),
    });
    net.inject(owner, "underlay0.341", garp);
    expect(net.neighbourMac("gw", "10.180.204.252")).toBe(evil);
  });
});

describe("loops", () => {
  it("a bridging loop is detected and reported, never an endless flood", () => {
    const net = new PhysicalNetwork({
      hosts: [
        { name: "a", nics: [{ name: "eth0", mac: "02:00:00:00:00:0a", addresses: ["10.0.0.1/24"] }] },
        { name: "b", nics: [{ name: "eth0", mac: "02:00:00:00:00:0b", addresses: ["10.0.0.2/24"] }] },
      ],
      switches: [
        { name: "s1", ports: [{ name: "h" }, { name: "x" }, { name: "y" }] },
        { name: "s2", ports: [{ name: "h" }, { name: "x" }, { name: "y" }] },
      ],
      links: [
        { a: "a:eth0", b: "s1:h" },
        { a: "b:eth0", b: "s2:h" },
        { a: "s1:x", b: "s2:x" },
        { a: "s1:y", b: "s2:y" },
      ],
    });
    const t = net.resolve("a", "10.0.0.2");
    expect(t.loops.length).toBeGreaterThan(0);
    expect(t.events.some((e) => e.kind === "loop" && e.text.startsWith("loop detected"))).toBe(true);
    expect(t.events.length).toBeLessThan(200);
  });
});

describe("node attachment variants", () => {
  for (const profile of ["doc", "code"] as const) {
    it(`with the NIC itself trunking VLAN 341 into br-provider, nobody can answer for the VIP (${profile})`, () => {
      const s = seedScenario({ profile, attachment: "trunk" });
      const net = new PhysicalNetwork(s.topology);
      const m = new MetalLB(net, s.metallb, [s.service]);
      const garps = m.reconcile();
      expect(m.status()[0]?.node).toBeDefined();
      // GARPs from the untagged br-provider are in VLAN 0, which the trunks=[341] port does not carry.
      expect(garps.events.some((e) => e.kind === "wire" && e.frame?.vlans[0]?.vid === 341)).toBe(false);
      const t = net.resolve("gw", "10.180.204.252");
      expect(answers(t)).toHaveLength(0);
      expect(net.neighbourMac("gw", "10.180.204.252")).toBeUndefined();
      expect(formatTrace(t)).toContain("tagged VLAN 341 and no VLAN sub-interface for it on br-provider");
    });
  }
});

describe("more paths", () => {
  it("with a memberlist detection delay, frames are lost until the new leader's GARPs", () => {
    const { net, m, owner } = setup("code");
    net.advance(10);
    net.send("client", { dst: "10.180.204.252", tpSrc: 40000, tpDst: 80 });
    m.setNodeUp(owner, false, { detectionDelay: 3 });
    const lost = net.send("client", { dst: "10.180.204.252", tpSrc: 40000, tpDst: 80 });
    expect(lost.events.some((e) => e.kind === "drop" && e.text === "host is down")).toBe(true);
    expect(m.status()[0]?.node).toBe(owner);
    const t = net.advance(3);
    const next = m.status()[0]?.node as string;
    expect(next).not.toBe(owner);
    expect(formatTrace(t)).toContain(`SetBalancer default/nginx-lb`);
    const ok = net.send("client", { dst: "10.180.204.252", tpSrc: 40000, tpDst: 80 });
    expect(ok.events.filter((e) => e.kind === "bridge").at(-1)?.at).toBe(`${next}/br-provider`);
  });

  it("an IPv6 client reaches the IPv6 VIP's leader through the router", () => {
    const { net, m } = setup("code", true);
    const owner = m.status().find((x) => x.vip === "fd00:10:180:204::fc")?.node;
    const t = net.send("client", { dst: "fd00:10:180:204::fc", tpSrc: 40000, tpDst: 80 });
    const last = t.events.filter((e) => e.kind === "bridge").at(-1);
    expect(last?.at).toBe(`${owner}/br-provider`);
    expect(last?.frame?.nw_ttl).toBe(63);
  });

  it("switch FDB entries age out after 300 s of virtual time and flooding resumes", () => {
    const { net, owner, ownerMac } = setup("code");
    net.resolve("gw", "10.180.204.252");
    expect(net.fdb("tor").lookup(341, ownerMac, net.now)).toBeDefined();
    net.advance(299);
    expect(net.fdb("tor").lookup(341, ownerMac, net.now)).toBeDefined();
    net.advance(2);
    expect(net.fdb("tor").lookup(341, ownerMac, net.now)).toBeUndefined();
    const t = net.send("client", { dst: "10.180.204.252", tpSrc: 1, tpDst: 80 });
    expect(t.events.some((e) => e.at === "tor:gw-underlay" && e.text.includes("flooding"))).toBe(true);
    expect(t.events.filter((e) => e.kind === "bridge").some((e) => e.at === `${owner}/br-provider`)).toBe(
      true,
    );
  });
});

describe("a VLAN sub-interface of a bridge's internal port", () => {
  // `ip link add link br0 name br0.5 type vlan id 5`: the VLAN device hands the tagged frame to
  // br0, the OVS internal port, so it enters the bridge (internal_dev_xmit), which sends it out
  // of eth0 — it never goes to a wire of its own.
  const net = () =>
    new PhysicalNetwork({
      hosts: [
        {
          name: "h",
          nics: [
            { name: "eth0", mac: "02:00:00:00:00:01" },
            { name: "br0", macFrom: "eth0" },
            { name: "br0.5", parent: "br0", vid: 5, addresses: ["10.0.5.1/24"] },
          ],
          bridges: [{ name: "br0", ports: [{ name: "eth0" }] }],
        },
        {
          name: "peer",
          nics: [
            { name: "eth0", mac: "02:00:00:00:00:02" },
            { name: "eth0.5", parent: "eth0", vid: 5, addresses: ["10.0.5.2/24"] },
          ],
        },
      ],
      switches: [],
      links: [{ a: "h:eth0", b: "peer:eth0" }],
    });
  it("sends through the bridge, tagged, out of the enslaved NIC", () => {
    const n = net();
    const t = n.inject(
      "h",
      "br0.5",
      arpFrame({
        op: ARP_OP.request,
        dlSrc: parseMac("02:00:00:00:00:01"),
        dlDst: BROADCAST,
        sha: parseMac("02:00:00:00:00:01"),
        spa: parseIp("10.0.5.1"),
        tha: 0,
        tpa: parseIp("10.0.5.2"),
      }),
    );
    expect(t.events.some((e) => e.kind === "drop" && /no cable/.test(e.text))).toBe(false);
    const br = t.events.find((e) => e.kind === "bridge");
    expect(br?.at).toBe("h/br0");
    expect(br?.frame?.vlans.map((v) => v.vid)).toEqual([5]);
    const wire = t.events.find((e) => e.kind === "wire");
    expect(wire?.at).toBe("h/eth0");
    expect(wire?.frame?.vlans.map((v) => v.vid)).toEqual([5]);
  });
  it("ARP resolves across it in both directions", () => {
    const n = net();
    n.resolve("h", "10.0.5.2");
    expect(n.neighbourMac("h", "10.0.5.2")).toBe(parseMac("02:00:00:00:00:02"));
    n.resolve("peer", "10.0.5.1");
    expect(n.neighbourMac("peer", "10.0.5.1")).toBe(parseMac("02:00:00:00:00:01"));
  });
});

describe("a bridge's OVS-only port answers within the exchange (BridgeResult.answers)", () => {
  it("the router's ARP for an address behind node2's patch port is answered through it", () => {
    const s = seedScenario({ profile: "code" });
    const net = new PhysicalNetwork(s.topology);
    const inner = net.bridge("node2", "br-provider");
    const behind = parseMac("00:00:00:b4:cc:03");
    const patch = "patch-localnet.underlay-subnet-to-br-int";
    // Stands for OVN behind the patch port: a pod holding 10.180.204.3 answers who-has.
    net.attachBridge("node2", {
      name: "br-provider",
      receive(frame, inPort, now) {
        const r = inner.receive(frame, inPort, now);
        const toPatch = r.outputs.find((o) => o.port === patch)?.frame;
        if (toPatch?.dl_type !== 0x0806 || toPatch.nw_proto !== ARP_OP.request) return r;
        if (toPatch.nw_dst !== 0x0ab4cc03) return r;
        const reply = arpFrame({
          op: ARP_OP.reply,
          dlSrc: behind,
          dlDst: toPatch.arp_sha,
          sha: behind,
          spa: parseIp("10.180.204.3"),
          tha: toPatch.arp_sha,
          tpa: parseIp("10.180.204.1"),
          vlans: toPatch.vlans,
        });
        return { ...r, answers: [{ port: patch, frame: reply, note: "pod answers" }] };
      },
    });
    const t = net.resolve("gw", "10.180.204.3");
    expect(net.neighbourMac("gw", "10.180.204.3")).toBe(behind);
    expect(
      t.events.some((e) => e.at === `node2/br-provider:${patch}` && e.text.includes("pod answers")),
    ).toBe(true);
    // Nothing behind node1's or node3's patch port answers: only the ARP request left there.
    expect(net.resolve("gw", "10.180.204.99").events.at(-1)?.text).toContain("did not answer");
  });
});

describe("actions inside an action", () => {
  // The frame queue and the loop detector's lists are kept between actions; an action started
  // from inside another (a tap acting on the network while the outer flood's copies are still
  // queued) must neither see nor disturb the outer's.
  it("leave the outer trace as it reads without them", () => {
    const run = (nested: boolean) => {
      const { net } = setup("code");
      net.advance(10);
      const inner: Trace[] = [];
      const side = () => net.send("client", { dst: "192.0.2.1", tpSrc: 40000, tpDst: 80 });
      if (nested) {
        net.addTap((_api, host, _nic, f) => {
          if (host.name === "node1" && f.dl_type === 0x0806 && f.nw_proto === ARP_OP.request && !inner.length)
            inner.push(side());
        });
      }
      const outer = net.resolve("gw", "10.180.204.252");
      if (!nested) inner.push(side());
      return { outer: formatTrace(outer), inner: formatTrace(inner[0]!), neigh: net.neighbours("gw") };
    };
    const plain = run(false);
    const nested = run(true);
    expect(nested.outer).toBe(plain.outer);
    expect(nested.inner).toBe(plain.inner);
    expect(nested.neigh).toEqual(plain.neigh);
    expect(plain.outer).toContain("speaker answers ARP");
  });
});
