import {
  CS,
  ETH_TYPE,
  type Flow,
  IP_PROTO,
  TCP_FLAG,
  makeFlow,
  parseIp4,
  parseIp6,
  withFlow,
} from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type LbState,
  backendsOnChassis,
  ctLbMark,
  emptyLbState,
  groupBackendsByChassis,
  lbDnat,
  lbReply,
  makeLoadBalancer,
  preferLocalPlan,
} from "../src/index.js";

const VIP = "10.180.204.252";
const backends = ["10.180.204.11:80", "10.180.204.12:80", "10.180.204.13:80", "10.180.204.14:80"];
const mappings = {
  "10.180.204.11": "nginx-0.default:0.0.0.0",
  "10.180.204.12": "nginx-1.default:0.0.0.0",
  "10.180.204.13": "nginx-2.default:0.0.0.0",
  "10.180.204.14": "nginx-3.default:0.0.0.0",
};
const portChassis = {
  "nginx-0.default": "node1",
  "nginx-1.default": "node2",
  "nginx-2.default": "node2",
  "nginx-3.default": "node3",
  "node-node1": "node1",
  "node-node2": "node2",
  "node-node3": "node3",
};
const lb = (
  extra: {
    options?: Record<string, string>;
    externalIds?: Record<string, string>;
    selectionFields?: string[];
  } = {},
) =>
  makeLoadBalancer({
    name: "cluster-tcp-loadbalancer",
    vips: { [`${VIP}:80`]: backends },
    ipPortMappings: mappings,
    options: { prefer_local_backend: "true", ...extra.options },
    ...(extra.externalIds ? { externalIds: extra.externalIds } : {}),
    ...(extra.selectionFields ? { selectionFields: extra.selectionFields } : {}),
  });
const syn = (src: number, sport: number, dst = parseIp4(VIP), dport = 80): Flow =>
  makeFlow({
    dl_type: ETH_TYPE.ip,
    nw_proto: IP_PROTO.tcp,
    nw_src: src,
    nw_dst: dst,
    tp_src: sport,
    tp_dst: dport,
    tcp_flags: TCP_FLAG.syn,
  });
const CLIENT = parseIp4("192.0.2.10");

describe("prefer-local grouping", () => {
  it("groups by chassis in backend order, first port guards the 1.14 flow", () => {
    const l = lb();
    const v = l.vips[0];
    if (!v) throw new Error();
    const g = groupBackendsByChassis(l, v, portChassis);
    expect(g.byChassis.map((c) => [c.chassis, c.residentPort, c.backends.map((b) => b.key)])).toEqual([
      ["node1", "nginx-0.default", ["10.180.204.11:80"]],
      ["node2", "nginx-1.default", ["10.180.204.12:80", "10.180.204.13:80"]],
      ["node3", "nginx-3.default", ["10.180.204.14:80"]],
    ]);
    expect(g.unplaced).toEqual([]);
    const unbound = groupBackendsByChassis(l, v, { "nginx-0.default": "node1" });
    expect(unbound.unplaced.map((b) => b.key)).toEqual([
      "10.180.204.12:80",
      "10.180.204.13:80",
      "10.180.204.14:80",
    ]);
  });

  it("1.14 form: local backends on a chassis with backends, generic 120 elsewhere", () => {
    const l = lb();
    const v = l.vips[0];
    if (!v) throw new Error();
    expect(preferLocalPlan(l, v, portChassis, "1.14").form).toBe("per-chassis");
    const on2 = backendsOnChassis(l, v, portChassis, "node2", "1.14");
    expect([on2.priority, on2.local, on2.backends.map((b) => b.ip)]).toEqual([
      140,
      true,
      ["10.180.204.12", "10.180.204.13"],
    ]);
    const on4 = backendsOnChassis(l, v, portChassis, "node4", "1.14");
    expect([on4.priority, on4.local, on4.backends.length]).toEqual([120, false, 4]);
    const off = backendsOnChassis(
      lb({ options: { prefer_local_backend: "false" } }),
      v,
      portChassis,
      "node2",
    );
    expect([off.priority, off.backends.length]).toEqual([120, 4]);
  });

  it("1.16 VIP-node form: 140 on the announcing node, 139 bypass elsewhere; 1.14 ignores the marker", () => {
    const l = lb({ externalIds: { [`kube-ovn.io/local-external-vip/${VIP}:80`]: "node-node2" } });
    const v = l.vips[0];
    if (!v) throw new Error();
    const on2 = backendsOnChassis(l, v, portChassis, "node2");
    expect([on2.priority, on2.bypass, on2.backends.map((b) => b.ip)]).toEqual([
      140,
      false,
      ["10.180.204.12", "10.180.204.13"],
    ]);
    const on1 = backendsOnChassis(l, v, portChassis, "node1");
    expect([on1.priority, on1.bypass, on1.backends]).toEqual([139, true, []]);
    expect(backendsOnChassis(l, v, portChassis, "node1", "1.14").priority).toBe(140);
  });
});

describe("DNAT stage", () => {
  it("DNATs a new connection, reuses it, and un-NATs the reply; the client IP is kept", () => {
    const l = lb({ options: { prefer_local_backend: "false" } });
    const r = lbDnat(emptyLbState(), syn(CLIENT, 40000), { lb: l, zone: 5 });
    if (r.verdict !== "dnat") throw new Error(r.verdict);
    expect(r.reason.kind).toBe("dp_hash");
    expect(r.flow.ct_state).toBe(CS.new | CS.trk | CS.dnat);
    expect(r.flow.ct_mark & 2).toBe(2);
    expect(r.flow.nw_dst).toBe(r.backend.ip4);
    expect(r.created?.zone).toBe(5);
    // Same as real OVS would pick: dp_hash 0x5b2943e4, 16 slots, slot 4 → bucket 0 of 4.
    if (r.reason.kind === "dp_hash")
      expect([r.reason.choice.hash.toString(16), r.reason.choice.slot]).toEqual(["5b2943e4", 4]);
    const again = lbDnat(r.state, withFlow(syn(CLIENT, 40000), { tcp_flags: TCP_FLAG.ack }), {
      lb: l,
      zone: 5,
    });
    if (again.verdict !== "dnat") throw new Error();
    expect(again.reason.kind).toBe("established");
    expect(again.backend.key).toBe(r.backend.key);
    const reply = makeFlow({
      dl_type: ETH_TYPE.ip,
      nw_proto: 6,
      nw_src: r.backend.ip4,
      nw_dst: CLIENT,
      tp_src: 80,
      tp_dst: 40000,
      tcp_flags: TCP_FLAG.syn | TCP_FLAG.ack,
    });
    const rr = lbReply(r.state, reply, { zone: 5 });
    expect(rr.reverseNat).toEqual({ from: `${r.backend.ip}:80`, to: `${VIP}:80` });
    expect(rr.clientSourceChanged).toBe(false);
    expect(rr.flow.ct_state).toBe(CS.est | CS.rpl | CS.trk | CS.snat);
  });

  it("--lb-dst override, bad override is a SimError", () => {
    const l = lb({ options: { prefer_local_backend: "false" } });
    const r = lbDnat(emptyLbState(), syn(CLIENT, 1), { lb: l, zone: 1, lbDst: "10.180.204.13:80" });
    if (r.verdict !== "dnat") throw new Error();
    expect([r.backend.ip, r.reason.kind]).toEqual(["10.180.204.13", "override"]);
    expect(() => lbDnat(emptyLbState(), syn(CLIENT, 1), { lb: l, zone: 1, lbDst: "10.0.0.1:80" })).toThrow(
      /not a backend/,
    );
  });

  it("selection_fields → OVS hash method with OVN's bucket ids", () => {
    const l = lb({ options: { prefer_local_backend: "false" }, selectionFields: ["ip_src", "tp_src"] });
    const r = lbDnat(emptyLbState(), syn(CLIENT, 40000), { lb: l, zone: 1 });
    if (r.verdict !== "dnat" || r.reason.kind !== "hash") throw new Error();
    expect(r.reason.choice.usedFields).toEqual(["ip_src", "tcp_src"]);
    expect(r.reason.choice.scores.length).toBe(4);
  });

  it("session affinity in virtual time", () => {
    const l = lb({ options: { prefer_local_backend: "false", affinity_timeout: "30" } });
    let s: LbState = emptyLbState();
    const first = lbDnat(s, syn(CLIENT, 1000), { lb: l, zone: 1, now: 0, lbDst: "10.180.204.14:80" });
    if (first.verdict !== "dnat") throw new Error();
    s = first.state;
    const second = lbDnat(s, syn(CLIENT, 2000), { lb: l, zone: 1, now: 10 });
    if (second.verdict !== "dnat") throw new Error();
    expect([second.backend.ip, second.reason.kind]).toEqual(["10.180.204.14", "affinity"]);
    const late = lbDnat(second.state, syn(CLIENT, 3000), { lb: l, zone: 1, now: 40.5 });
    if (late.verdict !== "dnat") throw new Error();
    expect(late.reason.kind).toBe("dp_hash");
  });

  it("VIP without backends; packet not to a VIP; VIP-node bypass", () => {
    const empty = makeLoadBalancer({ name: "e", vips: { "10.0.0.1:80": "" } });
    expect(lbDnat(emptyLbState(), syn(CLIENT, 1, parseIp4("10.0.0.1")), { lb: empty, zone: 1 }).verdict).toBe(
      "no-backends",
    );
    expect(lbDnat(emptyLbState(), syn(CLIENT, 1, parseIp4("10.0.0.9")), { lb: empty, zone: 1 }).verdict).toBe(
      "pass",
    );
    const l = lb({ externalIds: { [`kube-ovn.io/local-external-vip/${VIP}:80`]: "node-node2" } });
    const r = lbDnat(emptyLbState(), syn(CLIENT, 1), { lb: l, zone: 1, chassis: "node1", portChassis });
    expect(r.verdict).toBe("pass");
  });

  it("a packet conntrack rejects is not DNATed (invalid verdict)", () => {
    const l = lb({ options: { prefer_local_backend: "false" } });
    const synAck = withFlow(syn(CLIENT, 1), { tcp_flags: TCP_FLAG.syn | TCP_FLAG.ack });
    const r = lbDnat(emptyLbState(), synAck, { lb: l, zone: 1 });
    expect(r.verdict).toBe("invalid");
    if (r.verdict === "invalid") expect(r.flow.ct_state & CS.inv).toBe(CS.inv);
  });

  it("IPv6 VIP", () => {
    const l = makeLoadBalancer({
      name: "v6",
      vips: { "[fd00::a]:80": ["[fd00::1]:8080", "[fd00::2]:8080"] },
    });
    const f = makeFlow({
      dl_type: ETH_TYPE.ipv6,
      nw_proto: 6,
      ipv6_src: parseIp6("fd00::99"),
      ipv6_dst: parseIp6("fd00::a"),
      tp_src: 5,
      tp_dst: 80,
      tcp_flags: TCP_FLAG.syn,
    });
    const r = lbDnat(emptyLbState(), f, { lb: l, zone: 1 });
    if (r.verdict !== "dnat") throw new Error();
    expect(r.flow.ipv6_dst).toBe(r.backend.ip6);
    expect(r.flow.tp_dst).toBe(8080);
  });
});

describe("ct_lb_mark action", () => {
  it("DNATs to one of the inline backends, same choice as the LB stage, hash_fields honoured", () => {
    const l = lb({ options: { prefer_local_backend: "false" } });
    const a = lbDnat(emptyLbState(), syn(CLIENT, 40000), { lb: l, zone: 5 });
    const b = ctLbMark(emptyLbState(), syn(CLIENT, 40000), { backends: backends.join(","), zone: 5 });
    if (a.verdict !== "dnat" || b.verdict !== "dnat") throw new Error();
    expect(b.backend.key).toBe(a.backend.key);
    expect(b.vip.key).toBe(`${VIP}:80`);
    expect(b.flow.ct_mark & 2).toBe(2);
    const h = ctLbMark(emptyLbState(), syn(CLIENT, 40000), {
      backends: backends.join(","),
      hashFields: "ip_src,tcp_src",
      zone: 5,
    });
    if (h.verdict !== "dnat" || h.reason.kind !== "hash") throw new Error();
    expect(h.reason.choice.usedFields).toEqual(["ip_src", "tcp_src"]);
    // The established packet keeps its backend.
    const est = ctLbMark(b.state, withFlow(syn(CLIENT, 40000), { tcp_flags: TCP_FLAG.ack }), {
      backends: backends.join(","),
      zone: 5,
    });
    if (est.verdict !== "dnat") throw new Error();
    expect([est.reason.kind, est.backend.key]).toEqual(["established", b.backend.key]);
    expect(() => ctLbMark(emptyLbState(), syn(CLIENT, 1), { backends: "10.0.0.x:80", zone: 1 })).toThrow(
      /ct_lb_mark backend/,
    );
  });
});

describe("properties", () => {
  const ip = fc.integer({ min: 0x0a000001, max: 0x0affffff });
  const port = fc.integer({ min: 1024, max: 65535 });
  const l = lb({ options: { prefer_local_backend: "false" } });

  it("every forward packet to the VIP is DNATed to one of its backends, and its reply is un-NATed to the VIP", () => {
    fc.assert(
      fc.property(ip, port, fc.integer({ min: 0, max: 65535 }), (client, sport, zone) => {
        const r = lbDnat(emptyLbState(), syn(client, sport), { lb: l, zone });
        if (r.verdict !== "dnat") throw new Error(r.verdict);
        expect(backends).toContain(`${r.backend.ip}:${r.backend.port}`);
        expect([r.flow.nw_dst, r.flow.tp_dst]).toEqual([r.backend.ip4, r.backend.port]);
        const reply = makeFlow({
          dl_type: ETH_TYPE.ip,
          nw_proto: 6,
          nw_src: r.flow.nw_dst,
          nw_dst: client,
          tp_src: r.flow.tp_dst,
          tp_dst: sport,
          tcp_flags: TCP_FLAG.syn | TCP_FLAG.ack,
        });
        const rr = lbReply(r.state, reply, { zone });
        expect([rr.flow.nw_src, rr.flow.tp_src, rr.flow.nw_dst]).toEqual([parseIp4(VIP), 80, client]);
        expect(rr.clientSourceChanged).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it("with prefer-local and a local backend, the choice is local (both forms)", () => {
    const marker = lb({ externalIds: { [`kube-ovn.io/local-external-vip/${VIP}:80`]: "node-node2" } });
    fc.assert(
      fc.property(
        ip,
        port,
        fc.constantFrom("node1", "node2", "node3"),
        fc.constantFrom("1.14", "1.16") as fc.Arbitrary<"1.14" | "1.16">,
        (client, sport, chassis, form) => {
          const r = lbDnat(emptyLbState(), syn(client, sport), {
            lb: lb(),
            zone: 1,
            chassis,
            portChassis,
            preferLocalForm: form,
          });
          if (r.verdict !== "dnat") throw new Error();
          expect(portChassis[r.backend.logicalPort as keyof typeof portChassis]).toBe(chassis);
          expect(r.local?.local).toBe(true);
          const m = lbDnat(emptyLbState(), syn(client, sport), {
            lb: marker,
            zone: 1,
            chassis: "node2",
            portChassis,
            preferLocalForm: form,
          });
          if (m.verdict !== "dnat") throw new Error();
          expect(portChassis[m.backend.logicalPort as keyof typeof portChassis]).toBe("node2");
        },
      ),
      { numRuns: 300 },
    );
  });

  it("the same 5-tuple always gets the same backend (dp_hash and hash methods)", () => {
    const hashed = lb({
      options: { prefer_local_backend: "false" },
      selectionFields: ["ip_src", "ip_dst", "tp_src", "tp_dst"],
    });
    fc.assert(
      fc.property(ip, port, fc.boolean(), (client, sport, useHash) => {
        const which = useHash ? hashed : l;
        const a = lbDnat(emptyLbState(), syn(client, sport), { lb: which, zone: 3 });
        const b = lbDnat(emptyLbState(), syn(client, sport), { lb: which, zone: 9, now: 1000 });
        if (a.verdict !== "dnat" || b.verdict !== "dnat") throw new Error();
        expect(a.backend.key).toBe(b.backend.key);
      }),
      { numRuns: 300 },
    );
  });

  it("over many flows, equal backends share the load within a few percent", () => {
    for (const which of [
      l,
      lb({ options: { prefer_local_backend: "false" }, selectionFields: ["ip_src", "tp_src"] }),
    ]) {
      const counts = new Map<string, number>();
      const N = 10000;
      fc.assert(
        fc.property(ip, port, (client, sport) => {
          const r = lbDnat(emptyLbState(), syn(client, sport), { lb: which, zone: 1 });
          if (r.verdict !== "dnat") throw new Error();
          counts.set(r.backend.key, (counts.get(r.backend.key) ?? 0) + 1);
        }),
        { numRuns: N, seed: 42 },
      );
      for (const b of backends) {
        const share = (counts.get(b) ?? 0) / N;
        expect(Math.abs(share - 0.25)).toBeLessThan(0.02);
      }
    }
  });
});
