import { CS, ETH_TYPE, IP_PROTO, TCP_FLAG, makeFlow, parseIp4, parseIp6, withFlow } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Conntrack, formatCtState } from "../src/index.js";

const CLIENT = parseIp4("10.180.204.100");
const VIP = parseIp4("10.180.204.252");
const BACKEND = parseIp4("10.180.204.11");
const { syn, ack, fin, rst } = TCP_FLAG;

const tcp = (src: number, dst: number, sport: number, dport: number, flags: number) =>
  makeFlow({
    dl_type: ETH_TYPE.ip,
    nw_proto: IP_PROTO.tcp,
    nw_src: src,
    nw_dst: dst,
    tp_src: sport,
    tp_dst: dport,
    tcp_flags: flags,
  });
const udp = (src: number, dst: number, sport: number, dport: number) =>
  makeFlow({
    dl_type: ETH_TYPE.ip,
    nw_proto: IP_PROTO.udp,
    nw_src: src,
    nw_dst: dst,
    tp_src: sport,
    tp_dst: dport,
  });
const st = (f: { ct_state: number }) => formatCtState(f.ct_state);
const DNAT = { kind: "dnat", ip: BACKEND, port: 8080 } as const;

describe("ct_state", () => {
  it("uncommitted new: new|trk, no entry, orig tuple = packet", () => {
    const r = Conntrack.empty().process(tcp(CLIENT, VIP, 40000, 80, syn), { zone: 7 });
    expect(st(r.flow)).toBe("new|trk");
    expect(r.entry).toBeUndefined();
    expect(r.table.size()).toBe(0);
    expect(r.flow).toMatchObject({
      ct_zone: 7,
      ct_nw_src: CLIENT,
      ct_nw_dst: VIP,
      ct_nw_proto: 6,
      ct_tp_src: 40000,
      ct_tp_dst: 80,
    });
  });

  it("TCP handshake through a DNAT connection, reply un-NATed, then close", () => {
    let t = Conntrack.empty();
    const r1 = t.process(tcp(CLIENT, VIP, 40000, 80, syn), {
      zone: 7,
      commit: true,
      nat: DNAT,
      mark: { value: 2, mask: 2 },
    });
    expect(st(r1.flow)).toBe("new|trk|dnat");
    expect(r1.created).toBe(true);
    expect(r1.flow).toMatchObject({
      nw_dst: BACKEND,
      tp_dst: 8080,
      nw_src: CLIENT,
      ct_nw_dst: VIP,
      ct_tp_dst: 80,
      ct_mark: 2,
    });
    t = r1.table;
    // Retransmitted SYN: still new.
    const r1b = t.process(tcp(CLIENT, VIP, 40000, 80, syn), { zone: 7, nat: {} });
    expect(st(r1b.flow)).toBe("new|trk|dnat");
    expect(r1b.flow.nw_dst).toBe(BACKEND);
    // SYN+ACK from the backend: est|rpl, un-DNATed (source back to the VIP).
    const r2 = t.process(tcp(BACKEND, CLIENT, 8080, 40000, syn | ack), { zone: 7, nat: {} });
    expect(st(r2.flow)).toBe("est|rpl|trk|snat");
    expect(r2.reply).toBe(true);
    expect(r2.flow).toMatchObject({
      nw_src: VIP,
      tp_src: 80,
      nw_dst: CLIENT,
      tp_dst: 40000,
      ct_mark: 2,
      ct_nw_src: CLIENT,
      ct_nw_dst: VIP,
    });
    t = r2.table;
    // Without nat, the reply is tracked but not translated.
    const r2b = t.process(tcp(BACKEND, CLIENT, 8080, 40000, ack), { zone: 7 });
    expect(st(r2b.flow)).toBe("est|rpl|trk");
    expect(r2b.flow.nw_src).toBe(BACKEND);
    const r3 = t.process(tcp(CLIENT, VIP, 40000, 80, ack), { zone: 7, nat: {} });
    expect(st(r3.flow)).toBe("est|trk|dnat");
    expect(r3.entry?.proto).toEqual({ kind: "tcp", peers: ["ESTABLISHED", "ESTABLISHED"] });
    t = r3.table;
    t = t.process(tcp(CLIENT, VIP, 40000, 80, fin | ack), { zone: 7, nat: {} }).table;
    t = t.process(tcp(BACKEND, CLIENT, 8080, 40000, fin | ack), { zone: 7, nat: {} }).table;
    const r4 = t.process(tcp(CLIENT, VIP, 40000, 80, ack), { zone: 7, nat: {} });
    expect(r4.entry?.proto).toEqual({ kind: "tcp", peers: ["FIN_WAIT_2", "FIN_WAIT_2"] });
    expect(r4.entry?.expires).toBe(30);
    // A new SYN on the closed connection replaces it.
    const r5 = r4.table.process(tcp(CLIENT, VIP, 40000, 80, syn), { zone: 7, commit: true });
    expect(st(r5.flow)).toBe("new|trk");
    expect(r5.created).toBe(true);
    expect(r5.table.size(0)).toBe(1);
    expect(r5.entry?.id).toBe(2);
  });

  it("OVS 3.1 un-NAT entries: a dead NAT connection's reply key gives inv, blocks a reply-side SYN and moves a re-opened client port", () => {
    let t = Conntrack.empty();
    t = t.process(tcp(CLIENT, VIP, 40000, 80, syn), { zone: 7, commit: true, nat: DNAT }).table;
    t = t.process(tcp(BACKEND, CLIENT, 8080, 40000, rst | ack), { zone: 7, nat: {} }).table;
    // Reply-direction SYN on the closed connection: ends it, but creates nothing (only trk).
    const s1 = t.process(tcp(BACKEND, CLIENT, 8080, 40000, syn), { zone: 7, nat: {} });
    expect(st(s1.flow)).toBe("trk");
    t = s1.table;
    // Its un-NAT key is still there until swept: a reply to it is inv.
    expect(st(t.process(tcp(BACKEND, CLIENT, 8080, 40000, ack), { zone: 7, nat: {} }).flow)).toBe("inv|trk");
    // The client re-opens: a new connection, whose reply tuple must avoid the old one.
    const re = t.process(tcp(CLIENT, VIP, 40000, 80, syn), { zone: 7, commit: true, nat: DNAT });
    expect(st(re.flow)).toBe("new|trk|dnat");
    expect(re.entry?.reply.dport).toBe(40001);
    expect(re.flow.tp_src).toBe(40001);
    // After the sweeper (CT_SWEEP_DELAY later) the old key is gone.
    expect(st(t.process(tcp(BACKEND, CLIENT, 8080, 40000, ack), { zone: 7, nat: {}, now: 20 }).flow)).toBe(
      "new|trk",
    );
  });

  it("TCP: SYN+ACK or bad flags cannot open; a bare ACK can (mid-stream pickup)", () => {
    const t = Conntrack.empty();
    expect(st(t.process(tcp(CLIENT, VIP, 1, 80, syn | ack), { zone: 1, commit: true }).flow)).toBe("inv|trk");
    expect(st(t.process(tcp(CLIENT, VIP, 1, 80, syn | fin), { zone: 1, commit: true }).flow)).toBe("inv|trk");
    expect(st(t.process(tcp(CLIENT, VIP, 1, 80, 0), { zone: 1, commit: true }).flow)).toBe("inv|trk");
    expect(st(t.process(tcp(CLIENT, VIP, 1, 80, fin), { zone: 1, commit: true }).flow)).toBe("inv|trk");
    const r = t.process(tcp(CLIENT, VIP, 1, 80, ack), { zone: 1, commit: true });
    expect(st(r.flow)).toBe("new|trk");
    expect(r.table.size()).toBe(1);
    const rst1 = r.table.process(tcp(VIP, CLIENT, 80, 1, rst), { zone: 1 });
    expect(st(rst1.flow)).toBe("est|rpl|trk");
    expect(rst1.entry?.proto).toEqual({ kind: "tcp", peers: ["TIME_WAIT", "TIME_WAIT"] });
  });

  it("UDP: new until a reply, then est", () => {
    const f = udp(CLIENT, VIP, 5000, 53);
    const r1 = Conntrack.empty().process(f, { zone: 3, commit: true });
    expect(st(r1.flow)).toBe("new|trk");
    const r2 = r1.table.process(f, { zone: 3 });
    expect(st(r2.flow)).toBe("new|trk");
    const r3 = r2.table.process(udp(VIP, CLIENT, 53, 5000), { zone: 3 });
    expect(st(r3.flow)).toBe("est|rpl|trk");
    expect(st(r3.table.process(f, { zone: 3 }).flow)).toBe("est|trk");
  });

  it("zones are separate; entering another zone clears the previous state", () => {
    const r1 = Conntrack.empty().process(udp(CLIENT, VIP, 5000, 53), { zone: 3, commit: true });
    const r2 = r1.table.process(udp(VIP, CLIENT, 53, 5000), { zone: 4 });
    expect(st(r2.flow)).toBe("new|trk");
    expect(r2.flow.ct_zone).toBe(4);
    // A packet that was DNATed in zone 3 and now goes through zone 4: no stale dnat bit.
    const d = Conntrack.empty().process(tcp(CLIENT, VIP, 1, 80, syn), { zone: 3, commit: true, nat: DNAT });
    const z4 = d.table.process(d.flow, { zone: 4, nat: {} });
    expect(st(z4.flow)).toBe("new|trk");
  });

  it("a packet already NATed in this zone is found by its reversed tuple, and not NATed twice", () => {
    const d = Conntrack.empty().process(tcp(CLIENT, VIP, 1, 80, syn), { zone: 3, commit: true, nat: DNAT });
    const again = d.table.process(d.flow, { zone: 3, nat: {} });
    expect(again.entry?.id).toBe(d.entry?.id);
    expect(again.reply).toBe(false);
    expect(again.flow.nw_dst).toBe(BACKEND);
    expect(st(again.flow)).toBe("new|trk|dnat");
  });

  it("ICMP echo and ICMP errors (rel)", () => {
    const echo = makeFlow({
      dl_type: ETH_TYPE.ip,
      nw_proto: 1,
      nw_src: CLIENT,
      nw_dst: VIP,
      tp_src: 8,
      tp_dst: 0,
    });
    const r1 = Conntrack.empty().process(echo, { zone: 1, commit: true, icmpId: 77 });
    expect(st(r1.flow)).toBe("new|trk");
    expect(r1.flow).toMatchObject({ ct_tp_src: 8, ct_tp_dst: 0 });
    const reply = makeFlow({
      dl_type: ETH_TYPE.ip,
      nw_proto: 1,
      nw_src: VIP,
      nw_dst: CLIENT,
      tp_src: 0,
      tp_dst: 0,
    });
    expect(st(r1.table.process(reply, { zone: 1, icmpId: 77 }).flow)).toBe("est|rpl|trk");
    expect(st(r1.table.process(reply, { zone: 1, icmpId: 78 }).flow)).toBe("inv|trk");
    // Port unreachable from a router on the path for a committed UDP connection.
    const u = Conntrack.empty().process(udp(CLIENT, VIP, 5000, 53), {
      zone: 1,
      commit: true,
      mark: { value: 9 },
    });
    const router = parseIp4("10.180.204.1");
    const err = makeFlow({
      dl_type: ETH_TYPE.ip,
      nw_proto: 1,
      nw_src: router,
      nw_dst: CLIENT,
      tp_src: 3,
      tp_dst: 3,
    });
    const inner = { src: CLIENT, dst: VIP, proto: IP_PROTO.udp, sport: 5000, dport: 53 };
    const rel = u.table.process(err, { zone: 1, icmpInner: inner });
    expect(st(rel.flow)).toBe("rel|rpl|trk");
    expect(rel.flow.ct_mark).toBe(9);
    expect(st(u.table.process(err, { zone: 1 }).flow)).toBe("inv|trk");
    expect(st(Conntrack.empty().process(err, { zone: 1, icmpInner: inner }).flow)).toBe("inv|trk");
  });

  it("not IP → inv|trk", () => {
    const arp = makeFlow({ dl_type: ETH_TYPE.arp });
    expect(st(Conntrack.empty().process(arp, { zone: 0 }).flow)).toBe("inv|trk");
  });

  it("ct_label with mask, IPv6 SNAT", () => {
    const a = parseIp6("fd00::100");
    const b = parseIp6("fd00::1");
    const snat = parseIp6("fd00::ffff");
    const f = makeFlow({
      dl_type: ETH_TYPE.ipv6,
      nw_proto: 17,
      ipv6_src: a,
      ipv6_dst: b,
      tp_src: 1000,
      tp_dst: 53,
    });
    const r = Conntrack.empty().process(f, {
      zone: 2,
      commit: true,
      nat: { kind: "snat", ip: snat, port: 2000 },
      label: { value: 0xabn << 64n, mask: 0xffn << 64n },
    });
    expect(st(r.flow)).toBe("new|trk|snat");
    expect(r.flow).toMatchObject({ ipv6_src: snat, tp_src: 2000, ct_ipv6_src: a, ct_label: 0xabn << 64n });
    const back = makeFlow({
      dl_type: ETH_TYPE.ipv6,
      nw_proto: 17,
      ipv6_src: b,
      ipv6_dst: snat,
      tp_src: 53,
      tp_dst: 2000,
    });
    const rr = r.table.process(back, { zone: 2, nat: {} });
    expect(st(rr.flow)).toBe("est|rpl|trk|dnat");
    expect(rr.flow).toMatchObject({ ipv6_dst: a, tp_dst: 1000 });
  });

  it("force replaces a connection seen in the reply direction", () => {
    const r = Conntrack.empty().process(udp(CLIENT, VIP, 1, 2), { zone: 1, commit: true });
    const f = r.table.process(udp(VIP, CLIENT, 2, 1), { zone: 1, force: true });
    expect(st(f.flow)).toBe("new|trk");
    expect(f.created).toBe(true);
    expect(f.table.entries().map((e) => e.orig.src4)).toEqual([VIP]);
  });

  it("expiry in virtual time", () => {
    const r = Conntrack.empty().process(udp(CLIENT, VIP, 1, 2), { zone: 1, commit: true, now: 100 });
    expect(r.entry?.expires).toBe(160);
    expect(st(r.table.process(udp(VIP, CLIENT, 2, 1), { zone: 1, now: 159 }).flow)).toBe("est|rpl|trk");
    expect(st(r.table.process(udp(VIP, CLIENT, 2, 1), { zone: 1, now: 160 }).flow)).toBe("new|trk");
    expect(r.table.size(159)).toBe(1);
    expect(r.table.expire(160).size()).toBe(0);
  });

  it("tables are values: processing never changes the input table", () => {
    const t0 = Conntrack.empty();
    const r = t0.process(udp(CLIENT, VIP, 1, 2), { zone: 1, commit: true });
    expect(t0.size()).toBe(0);
    expect(r.table.size()).toBe(1);
    expect(r.table.flush(1).size()).toBe(0);
    expect(r.table.flush(2).size()).toBe(1);
  });

  it("bad zone is a SimError", () => {
    expect(() => Conntrack.empty().process(udp(1, 2, 3, 4), { zone: 70000 })).toThrow(/zone/);
  });
});

describe("properties", () => {
  const ip4 = fc.integer({ min: 1, max: 0xfffffffe });
  const port = fc.integer({ min: 1, max: 65535 });
  it("the reply of a committed DNAT connection is est|rpl and un-NATed", () => {
    fc.assert(
      fc.property(
        ip4,
        ip4,
        ip4,
        port,
        port,
        port,
        fc.constantFrom(6, 17, 132),
        fc.integer({ min: 0, max: 65535 }),
        (client, vip, backend, cport, vport, bport, proto, zone) => {
          fc.pre(client !== vip && client !== backend);
          const f = makeFlow({
            dl_type: ETH_TYPE.ip,
            nw_proto: proto,
            nw_src: client,
            nw_dst: vip,
            tp_src: cport,
            tp_dst: vport,
            tcp_flags: proto === 6 ? syn : 0,
          });
          const r = Conntrack.empty().process(f, {
            zone,
            commit: true,
            nat: { kind: "dnat", ip: backend, port: bport },
          });
          expect(r.flow.ct_state).toBe(CS.new | CS.trk | CS.dnat);
          expect([r.flow.nw_dst, r.flow.tp_dst]).toEqual([backend, bport]);
          const back = withFlow(r.flow, {
            nw_src: backend,
            nw_dst: client,
            tp_src: bport,
            tp_dst: cport,
            tcp_flags: proto === 6 ? syn | ack : 0,
            ct_state: 0,
          });
          const rr = r.table.process(back, { zone, nat: {} });
          expect(rr.flow.ct_state).toBe(CS.est | CS.rpl | CS.trk | CS.snat);
          expect([rr.flow.nw_src, rr.flow.tp_src, rr.flow.nw_dst, rr.flow.tp_dst]).toEqual([
            vip,
            vport,
            client,
            cport,
          ]);
        },
      ),
      { numRuns: 500 },
    );
  });
  it("a connection is gone exactly at its expiry", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.integer({ min: 0, max: 200 }), (t0, dt) => {
        const r = Conntrack.empty().process(udp(CLIENT, VIP, 1, 2), { zone: 1, commit: true, now: t0 });
        const rr = r.table.process(udp(VIP, CLIENT, 2, 1), { zone: 1, now: t0 + dt });
        expect(st(rr.flow)).toBe(dt < 60 ? "est|rpl|trk" : "new|trk");
      }),
    );
  });
  it("replay: the same packets from the same table give the same result", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), port, fc.constantFrom(syn, ack, syn | ack, fin | ack, rst)), {
          maxLength: 20,
        }),
        (pkts) => {
          const run = () => {
            let t = Conntrack.empty();
            const out: string[] = [];
            for (const [dir, p, fl] of pkts) {
              const f = dir ? tcp(CLIENT, VIP, p % 4, 80, fl) : tcp(VIP, CLIENT, 80, p % 4, fl);
              const r = t.process(f, { zone: 1, commit: true, now: out.length });
              out.push(st(r.flow));
              t = r.table;
            }
            return out;
          };
          expect(run()).toEqual(run());
        },
      ),
    );
  });
});
