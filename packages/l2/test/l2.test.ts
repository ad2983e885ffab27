import { parseMac } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type L2PortConfig,
  MacTable,
  formatNotes,
  inputVlan,
  normalDecide,
  outputTag,
  outputVlans,
  portCarriesVlan,
  resolvePort,
} from "../src/index.js";

const A = parseMac("00:00:5e:00:53:01");
const B = parseMac("00:00:5e:00:53:02");
const BCAST = parseMac("ff:ff:ff:ff:ff:ff");
const q = (vid: number, pcp = 0) => ({ tpid: 0x8100, pcp, vid });

describe("port resolution (bridge.c port_configure, ofproto-dpif bundle_set)", () => {
  it("defaults to access with a tag, trunk without", () => {
    expect(resolvePort({ port: 1, name: "p1", tag: 10 }).mode).toBe("access");
    expect(resolvePort({ port: 1, name: "p1" }).mode).toBe("trunk");
    expect(resolvePort({ port: 1, name: "p1", trunks: [5] }).vlan).toBe(-1);
  });
  it("native modes force the native VLAN into trunks and VLAN 0 out", () => {
    const p = resolvePort({ port: 1, name: "p", vlanMode: "native-untagged", tag: 7, trunks: [0, 8] });
    expect(p.trunks?.[7]).toBe(1);
    expect(p.trunks?.[0]).toBe(0);
    expect(p.trunks?.[8]).toBe(1);
    expect(p.trunks?.[9]).toBe(0);
  });
  it("rejects VLAN ids outside 0-4095 with a SimError naming the port", () => {
    expect(() => resolvePort({ port: 1, name: "eth9", tag: 4096 })).toThrow(/port eth9: tag 4096/);
    expect(() => resolvePort({ port: 1, name: "eth9", trunks: [1, -1] })).toThrow(/port eth9: trunk -1/);
    expect(() => resolvePort({ port: 1, name: "eth9", vlanMode: "bogus" as never })).toThrow(/vlan_mode/);
  });
});

describe("input VLAN (input_vid_is_valid, xvlan_input_translate)", () => {
  const access: L2PortConfig = { port: 1, name: "acc", tag: 341 };
  const trunk: L2PortConfig = { port: 2, name: "tr", trunks: [341, 342] };
  const trunkAll: L2PortConfig = { port: 3, name: "all" };
  const nu: L2PortConfig = { port: 4, name: "nu", vlanMode: "native-untagged", tag: 10, trunks: [341] };
  const nt: L2PortConfig = { port: 5, name: "nt", vlanMode: "native-tagged", tag: 10, trunks: [341] };

  it("access: untagged joins the access VLAN, tagged is dropped with OVS's message", () => {
    expect(inputVlan(access, [])).toMatchObject({ ok: true, vlan: 341 });
    expect(inputVlan(access, [q(0, 5)])).toMatchObject({ ok: true, vlan: 341, xvlan: [q(341, 5)] });
    expect(inputVlan(access, [5])).toEqual({
      ok: false,
      reason: "dropping VLAN 5 tagged packet received on port acc configured as VLAN 341 access port",
    });
  });
  it("trunk: only trunked VLANs; untagged is VLAN 0 and needs VLAN 0 trunked", () => {
    expect(inputVlan(trunk, [341])).toMatchObject({ ok: true, vlan: 341 });
    expect(inputVlan(trunk, [343])).toEqual({
      ok: false,
      reason: "dropping VLAN 343 packet received on port tr not configured for trunking VLAN 343",
    });
    expect(inputVlan(trunk, [])).toMatchObject({ ok: false });
    expect(inputVlan(trunkAll, [])).toMatchObject({ ok: true, vlan: 0 });
    expect(inputVlan(trunkAll, [4000])).toMatchObject({ ok: true, vlan: 4000 });
  });
  it("native: untagged joins the native VLAN; tagged native is accepted too", () => {
    for (const p of [nu, nt]) {
      expect(inputVlan(p, [])).toMatchObject({ ok: true, vlan: 10 });
      expect(inputVlan(p, [10])).toMatchObject({ ok: true, vlan: 10 });
      expect(inputVlan(p, [341])).toMatchObject({ ok: true, vlan: 341 });
      expect(inputVlan(p, [342])).toMatchObject({ ok: false });
    }
  });
  it("carries and output tags", () => {
    expect(portCarriesVlan(access, 341)).toBe(true);
    expect(portCarriesVlan(access, 342)).toBe(false);
    expect(portCarriesVlan(nu, 10)).toBe(true);
    expect(portCarriesVlan(nu, 0)).toBe(false);
    expect(outputTag(access, 341)).toBeNull();
    expect(outputTag(trunk, 341)).toBe(341);
    expect(outputTag(nu, 10)).toBeNull();
    expect(outputTag(nu, 341)).toBe(341);
    expect(outputTag(nt, 10)).toBe(10);
    expect(outputTag(trunkAll, 0)).toBeNull();
    // A priority tag survives on a trunk; pcp is kept.
    expect(outputVlans(trunkAll, [q(0, 3)])).toEqual([q(0, 3)]);
    expect(outputVlans(trunk, [q(341, 2)])).toEqual([q(341, 2)]);
  });
});

describe("NORMAL (xlate_normal)", () => {
  const ports: L2PortConfig[] = [
    { port: 1, name: "eth0", trunks: [341] },
    { port: 2, name: "p2", tag: 341 },
    { port: 3, name: "p3", tag: 341 },
    { port: 4, name: "p4", tag: 342 },
    { port: 5, name: "nf", tag: 341, floodable: false },
  ];
  it("floods unknown unicast to every other port of the VLAN, with the right tags", () => {
    const t = new MacTable();
    const d = normalDecide(ports, t, 2, [], A, B, 0);
    expect(d.kind).toBe("flood");
    expect(d.message).toBe("no learned MAC for destination, flooding");
    expect(d.outputs).toEqual([
      { port: 1, name: "eth0", vlans: [q(341)] },
      { port: 3, name: "p3", vlans: [] },
    ]);
    expect(formatNotes(d.notes)).toBe(
      "     -> learned that 00:00:5e:00:53:01 is on port p2 in VLAN 341\n     -> no learned MAC for destination, flooding",
    );
  });
  it("forwards to the learned port, drops when it is the input port", () => {
    const t = new MacTable();
    normalDecide(ports, t, 1, [341], B, BCAST, 0);
    const d = normalDecide(ports, t, 2, [], A, B, 1);
    expect(d).toMatchObject({ kind: "forward", port: 1, message: "forwarding to learned port" });
    expect(d.outputs[0]?.vlans).toEqual([q(341)]);
    const back = normalDecide(ports, t, 1, [341], B, A, 2);
    expect(back).toMatchObject({ kind: "forward", port: 2, outputs: [{ port: 2, vlans: [] }] });
    const same = normalDecide(ports, t, 1, [341], A, B, 3, { learn: false });
    expect(same).toMatchObject({ kind: "drop", message: "learned port is input port, dropping" });
  });
  it("learning is per VLAN", () => {
    const t = new MacTable();
    normalDecide(ports, t, 4, [], B, BCAST, 0);
    expect(t.lookup(342, B, 0)).toBe(4);
    expect(normalDecide(ports, t, 2, [], A, B, 0).kind).toBe("flood");
  });
  it("does not learn in trace mode, or from multicast sources", () => {
    const t = new MacTable();
    normalDecide(ports, t, 2, [], A, B, 0, { learn: false });
    expect(t.size).toBe(0);
    normalDecide(ports, t, 2, [], parseMac("01:00:5e:00:00:01"), B, 0);
    expect(t.size).toBe(0);
  });
  it("drops a disallowed VLAN with OVS's error and warning lines", () => {
    const d = normalDecide(ports, new MacTable(), 2, [7], A, B, 0);
    expect(d.kind).toBe("drop");
    expect(formatNotes(d.notes)).toBe(
      "     >>>> dropping VLAN 7 tagged packet received on port p2 configured as VLAN 341 access port <<<<\n" +
        "     >> disallowed VLAN VID for this input port, dropping",
    );
  });
  it("drops reserved destinations unless forward-bpdu, and unknown input ports", () => {
    const stp = parseMac("01:80:c2:00:00:00");
    expect(normalDecide(ports, new MacTable(), 2, [], A, stp, 0)).toMatchObject({
      kind: "drop",
      message: "packet has reserved destination MAC, dropping",
    });
    expect(normalDecide(ports, new MacTable(), 2, [], A, stp, 0, { forwardBpdu: true }).kind).toBe("flood");
    expect(normalDecide(ports, new MacTable(), 99, [], A, B, 0)).toMatchObject({
      kind: "drop",
      notes: [{ type: "warn", text: "no input bundle, dropping" }],
    });
  });
});

describe("MacTable (lib/mac-learning.c)", () => {
  it("ages entries after idle_time whole seconds", () => {
    const t = new MacTable();
    expect(t.learn(1, A, 3, 10.7).changed).toBe(true);
    expect(t.lookup(1, A, 309.9)).toBe(3);
    expect(t.lookup(1, A, 310)).toBeUndefined();
    expect(t.entries(100)).toEqual([{ vlan: 1, mac: A, port: 3, age: 90 }]);
  });
  it("re-learning refreshes, moving reports changed", () => {
    const t = new MacTable({ idleTime: 15 });
    t.learn(1, A, 3, 0);
    expect(t.learn(1, A, 3, 10).changed).toBe(false);
    expect(t.lookup(1, A, 20)).toBe(3);
    expect(t.learn(1, A, 4, 21).changed).toBe(true);
    expect(t.stats.moved).toBe(1);
  });
  it("clamps idle time and size like OVS", () => {
    expect(new MacTable({ idleTime: 1 }).idleTime).toBe(15);
    expect(new MacTable({ idleTime: 99999 }).idleTime).toBe(3600);
    expect(new MacTable({ maxEntries: 1 }).maxEntries).toBe(10);
  });
  it("evicts fairly: the oldest entry of the busiest port", () => {
    const t = new MacTable({ maxEntries: 10 });
    for (let i = 0; i < 8; i++) t.learn(1, 0x020000000000 + i, 1, i);
    t.learn(1, 0x020000000100, 2, 8);
    t.learn(1, 0x020000000101, 2, 9);
    t.learn(1, 0x020000000200, 3, 10);
    expect(t.size).toBe(10);
    expect(t.lookup(1, 0x020000000000, 10)).toBeUndefined();
    expect(t.lookup(1, 0x020000000100, 10)).toBe(2);
  });
  it("static entries never age or move; clone is independent; fdb/show format", () => {
    const t = new MacTable();
    t.addStatic(0, A, 0xfffe);
    t.learn(0, A, 1, 0);
    expect(t.lookup(0, A, 1e6)).toBe(0xfffe);
    t.learn(341, B, 1, 5);
    const c = t.clone();
    c.learn(341, B, 2, 6);
    expect(t.lookup(341, B, 6)).toBe(1);
    expect(c.lookup(341, B, 6)).toBe(2);
    expect(t.fdbShow(7)).toBe(
      " port  VLAN  MAC                Age\n" +
        "LOCAL     0  00:00:5e:00:53:01  static\n" +
        "    1   341  00:00:5e:00:53:02    2\n",
    );
  });
});

describe("property: a frame never leaves its VLAN", () => {
  const portArb = fc.record({
    mode: fc.constantFrom("access", "trunk", "native-tagged", "native-untagged", undefined),
    tag: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }),
    trunks: fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 3 }),
  });
  it("every output carries the input VLAN (tagged or as the port's native/access VLAN)", () => {
    fc.assert(
      fc.property(
        fc.array(portArb, { minLength: 2, maxLength: 6 }),
        // One tag at most: with two, a native-untagged port pops only the outer one and the
        // inner tag becomes the VLAN downstream, exactly as OVS does (see the test below).
        fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 1 }),
        fc.nat(10),
        (specs, vids, inIdx) => {
          const ports: L2PortConfig[] = specs.map((s, i) => ({
            port: i + 1,
            name: `p${i + 1}`,
            ...(s.mode !== undefined ? { vlanMode: s.mode } : {}),
            ...(s.tag !== undefined ? { tag: s.tag } : {}),
            trunks: s.trunks,
          }));
          const inPort = (inIdx % ports.length) + 1;
          const d = normalDecide(ports, new MacTable(), inPort, vids, A, BCAST, 0);
          if (d.kind === "drop") return;
          for (const o of d.outputs) {
            const p = resolvePort(ports[o.port - 1] as L2PortConfig);
            // What VLAN would the receiving side of this port think the frame is in?
            const back = inputVlan({ ...p, name: "x" }, o.vlans);
            if (back.ok) expect(back.vlan).toBe(d.vlan);
            else expect.fail(`output on ${o.name} not accepted back: ${back.reason}`);
          }
        },
      ),
    );
  });
});

describe("stacked tags (OVS keeps the inner one)", () => {
  it("a priority-tagged frame with an inner tag, via native ports, exposes the inner tag", () => {
    const ports: L2PortConfig[] = [
      { port: 3, name: "nt", vlanMode: "native-tagged", tag: 4 },
      { port: 4, name: "nu", vlanMode: "native-untagged", tag: 4 },
    ];
    const d = normalDecide(ports, new MacTable(), 3, [0, 1], A, BCAST, 0, { learn: false });
    expect(d.vlan).toBe(4);
    expect(d.outputs).toEqual([{ port: 4, name: "nu", vlans: [q(1)] }]);
  });
});

describe("remembered decisions", () => {
  // normalDecide hands out one decision object per (input port, tag, learned port) when nothing
  // was learned; a fresh copy of the port list each call compiles afresh and remembers nothing.
  it("read as the decisions made afresh, over random packets", () => {
    const ports: L2PortConfig[] = [
      { port: 1, name: "up", trunks: [10, 20] },
      { port: 2, name: "a10", tag: 10 },
      { port: 3, name: "a20", tag: 20 },
      { port: 4, name: "nt", vlanMode: "native-tagged", tag: 10 },
      { port: 5, name: "nu", vlanMode: "native-untagged", tag: 20, trunks: [10, 20] },
      { port: 6, name: "all" },
      { port: 7, name: "quiet", tag: 10, floodable: false },
    ];
    const macs = [A, B, BCAST, 0x0180c2000000, 0x020000000003];
    const stack = fc.oneof(
      fc.constant([] as { tpid: number; pcp: number; vid: number }[]),
      fc.tuple(fc.constantFrom(0, 10, 20, 30), fc.constantFrom(0, 3)).map(([vid, pcp]) => [q(vid, pcp)]),
      fc.constant([q(10), q(20)]),
    );
    const packet = fc.record({
      inPort: fc.constantFrom(1, 2, 3, 4, 5, 6, 7, 9, 0xffff),
      vlans: stack,
      src: fc.constantFrom(...macs),
      dst: fc.constantFrom(...macs),
      dt: fc.constantFrom(0, 1, 200),
      learn: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(packet, { minLength: 1, maxLength: 40 }), (pkts) => {
        const kept = new MacTable({ idleTime: 300 });
        const fresh = new MacTable({ idleTime: 300 });
        let now = 0;
        for (const p of pkts) {
          now += p.dt;
          const opts = { learn: p.learn };
          const a = normalDecide(ports, kept, p.inPort, p.vlans, p.src, p.dst, now, opts);
          const b = normalDecide([...ports], fresh, p.inPort, p.vlans, p.src, p.dst, now, opts);
          expect(a).toEqual(b);
          expect(kept.entries(now)).toEqual(fresh.entries(now));
        }
        expect(kept.stats).toEqual(fresh.stats);
      }),
      { numRuns: 300 },
    );
  });
});
