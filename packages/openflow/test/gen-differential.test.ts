// The differential generator itself (no OVS needed): deterministic per seed, covering the
// action families it claims, honouring an allow-list, and producing what ovs-vsctl needs.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { caseFamilies, sliceVsctlShow } from "./differential.js";
import { FAMILIES, type Family, generateProgram, vsctlArgs } from "./gen-differential.js";
import { odpEffects, odpTree } from "./harness.js";

/** Families decided per case from the trace or topology, not carried by a flow cookie. */
const CASE_LEVEL = new Set<Family>(["patch", "recirc", "vlan-port", "tunnel-in", "ct-non-ip"]);

describe("differential generator", () => {
  it("is deterministic per (seed, program id)", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.integer({ min: 0, max: 500 }), (seed, id) => {
        expect(JSON.stringify(generateProgram(seed, id, 4), replacer)).toBe(
          JSON.stringify(generateProgram(seed, id, 4), replacer),
        );
      }),
      { numRuns: 30 },
    );
  });

  it("draws every flow-level action family over a few hundred programs", () => {
    const seen = new Set<Family>();
    for (let id = 0; id < 400; id++)
      for (const fams of generateProgram(7, id, 1).cookieFamilies.values()) for (const f of fams) seen.add(f);
    const missing = FAMILIES.filter((f) => !seen.has(f) && !CASE_LEVEL.has(f));
    expect(missing).toEqual([]);
  });

  it("only draws allowed families when given an allow-list", () => {
    const allow = new Set<Family>(["output", "drop", "normal", "resubmit", "set-field", "move", "patch"]);
    for (let id = 0; id < 60; id++) {
      const p = generateProgram(11, id, 2, allow);
      for (const fams of p.cookieFamilies.values()) for (const f of fams) expect(allow.has(f), f).toBe(true);
      for (const b of p.bridges)
        expect(b.ports.every((x) => x.tag === undefined && x.trunks === undefined)).toBe(true);
    }
  });

  it("names every bridge and port uniquely in the switch and keeps names ≤ 15 characters", () => {
    const names = new Set<string>();
    for (let id = 0; id < 80; id++) {
      const p = generateProgram(3, id, 1);
      const args = vsctlArgs(p);
      expect(args.filter((a) => a === "add-br").length).toBe(p.bridges.length);
      for (const b of p.bridges)
        for (const n of [b.name, ...b.ports.map((x) => x.name)]) {
          expect(n.length).toBeLessThanOrEqual(15);
          expect(names.has(n), n).toBe(false);
          names.add(n);
        }
    }
  });

  it("classifies a case by the cookies its real trace printed", () => {
    const p = generateProgram(5, 0, 1);
    const [cookie, fams] = [...p.cookieFamilies.entries()][0]!;
    const c = p.cases[0]!;
    const text = `Flow: tcp,in_port=1\n\nbridge("${c.bridge}")\n 0. priority 1, cookie 0x${cookie.toString(16)}\n`;
    expect(caseFamilies(p, c, text)).toEqual(expect.arrayContaining([...fams]));
  });

  it("reads any text as a trace or a `ovs-vsctl show` without throwing (fuzz)", () => {
    const p = generateProgram(9, 1, 1);
    fc.assert(
      fc.property(fc.string({ maxLength: 400 }), (t) => {
        expect(typeof sliceVsctlShow(t, new Set(["a"]))).toBe("string");
        expect(Array.isArray(caseFamilies(p, p.cases[0]!, t))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it("ignores flood order inside check_pkt_len branches; MPLS pushes are header state", () => {
    const flow = "udp,in_port=1,dl_src=0a:58:0a:b4:cc:0c,nw_src=8.8.8.8";
    // Real OVS 3.1 floods in hash order, inside check_pkt_len as elsewhere (seed 4242, program 73).
    expect(odpEffects("check_pkt_len(size=64,gt(23,45,43),le(23,45,43))", flow)).toBe(
      odpEffects("check_pkt_len(size=64,gt(43,23,45),le(43,23,45))", flow),
    );
    expect(odpEffects("check_pkt_len(size=64,gt(23,45),le(23))", flow)).not.toBe(
      odpEffects("check_pkt_len(size=64,gt(23),le(23,45))", flow),
    );
    const push = "push_mpls(label=0,tc=0,ttl=64,bos=1,eth_type=0x8847)";
    expect(odpEffects(`${push},2,3`, flow)).toBe(odpEffects(`${push},3,2`, flow));
    expect(odpEffects(`2,${push},3`, flow)).not.toBe(odpEffects(`${push},2,3`, flow));
  });
  it("compares the packets a masked set leaves, not its spelling (which follows the flood order)", () => {
    // Real OVS 3.1 (seed 604222813, program 40): its flood reached the port that saw the TOS
    // restored after the rewrite (set(ipv4(tos=0/0xfc))); ovnsim's flood reached it first, before
    // any rewrite. The same packets leave.
    const flow = "udp,in_port=2,dl_src=0a:58:0a:b4:cc:0b,nw_src=8.8.8.8,nw_tos=0,nw_ecn=0,nw_ttl=64";
    expect(odpEffects("48,set(ipv4(tos=0x20/0xfc)),103,set(ipv4(tos=0/0xfc)),50,52", flow)).toBe(
      odpEffects("50,48,set(ipv4(tos=0x20/0xfc)),103,set(ipv4(tos=0/0xfc)),52", flow),
    );
    // The ECN bits are in the TOS byte too (program 141: set(ipv4(tos=0x2/0x3))).
    const ecn = "tcp,in_port=2,nw_tos=0,nw_ecn=1,nw_ttl=1";
    expect(odpEffects("117,set(ipv4(tos=0x2/0x3)),88", ecn)).toBe(
      odpEffects("set(ipv4(tos=0x2/0x3)),88,set(ipv4(tos=0x1/0x3)),117", ecn),
    );
    expect(odpEffects("117,set(ipv4(tos=0x2/0x3)),88", ecn)).not.toBe(
      odpEffects("set(ipv4(tos=0x2/0x3)),88,117", ecn),
    );
  });
  it("knows the ICMP type/code a packet starts with, so a restore after a flood is no difference", () => {
    // Real OVS 3.1 (seed 880301, program 262): a bucket's mod_tp_src on ICMP, a NORMAL flood that
    // reached LOCAL first; ovnsim reached it last, after set(icmp(type=8,...)) put the type back.
    const flow =
      "icmp,in_port=2,dl_src=9a:71:6e:61:f6:e0,nw_src=10.180.204.252,nw_ttl=1,icmp_type=8,icmp_code=0";
    const real = "5,set(icmp(type=210,code=0)),push_vlan(vid=20,pcp=0),262";
    expect(odpEffects(real, flow)).toBe(
      odpEffects(
        "set(icmp(type=210,code=0)),push_vlan(vid=20,pcp=0),262,set(icmp(type=8,code=0)),pop_vlan,5",
        flow,
      ),
    );
    expect(odpEffects(real, flow)).not.toBe(
      odpEffects("set(icmp(type=210,code=0)),push_vlan(vid=20,pcp=0),262,pop_vlan,5", flow),
    );
    const v6 = "icmp6,in_port=2,ipv6_src=fe80::1,nw_ttl=255,icmp_type=135,icmp_code=0";
    expect(odpEffects("5,set(icmpv6(type=136,code=0)),6", v6)).toBe(
      odpEffects("set(icmpv6(type=136,code=0)),6,set(icmpv6(type=135,code=0)),5", v6),
    );
  });
  it("recirculations a flood forks compare as a tree of passes: their ids and order follow the flood order", () => {
    // live-router seed 1888926483: br-provider floods LOCAL and eth0, then two localnet patch
    // ports whose br-int pipelines fork ct(table=…); OVS met zone 16's fork first, ovnsim 17's.
    const pass = (id: string, zone: number, rest = ""): string =>
      `\n${"=".repeat(79)}\nrecirc(${id}) - resume conntrack with default ct_state=trk|new\n${"=".repeat(79)}\n\nFlow: recirc_id=${id},udp,in_port=1,nw_ttl=64\n\nDatapath actions: ct(commit,zone=${zone},nat(src))${rest}\n`;
    const top = "Flow: udp,in_port=11,nw_ttl=64\n\nDatapath actions: ";
    const real = `${top}3,2,ct(zone=16,nat),recirc(0x3),ct(zone=17,nat),recirc(0x4)\n${pass("0x3", 16)}${pass("0x4", 17)}`;
    const ours = `${top}2,ct(zone=17,nat),recirc(0x3),ct(zone=16,nat),recirc(0x4),3\n${pass("0x3", 17)}${pass("0x4", 16)}`;
    expect(odpTree(real)).toBe(odpTree(ours));
    // The passes stay tied to the fork that queued them: other outputs in one pass differ.
    const other = `${top}2,ct(zone=17,nat),recirc(0x3),ct(zone=16,nat),recirc(0x4),3\n${pass("0x3", 17)}${pass("0x4", 16, ",5")}`;
    expect(odpTree(other)).not.toBe(odpTree(real));
    // A shared id (one frozen state) queues one pass per fork, in order.
    const shared = `${top}ct(zone=1),recirc(0x1),ct(zone=1),recirc(0x1)\n${pass("0x1", 1)}${pass("0x1", 1, ",5")}`;
    const swapped = `${top}ct(zone=1),recirc(0x1),ct(zone=1),recirc(0x1)\n${pass("0x1", 1, ",5")}${pass("0x1", 1)}`;
    expect(odpTree(shared)).toBe(odpTree(swapped));
    expect(odpTree(shared)).not.toBe(
      odpTree(`${top}ct(zone=1),recirc(0x1),ct(zone=1),recirc(0x1)\n${pass("0x1", 1)}${pass("0x1", 1)}`),
    );
    // Inside a datapath clone() (a flooded patch port that was not last) as well.
    const cloned = `${top}clone(ct(zone=16,nat),recirc(0x3)),2,ct(zone=17,nat),recirc(0x4),3\n${pass("0x3", 16)}${pass("0x4", 17)}`;
    expect(odpTree(cloned)).toBe(odpTree(real));
  });
  it("a datapath clone() is the packets it sends: whether OVS wraps a flooded patch port follows the flood order", () => {
    // Real OVS 3.1 (seed 90125, program 162) flooded the patch port last (no clone), ovnsim first.
    const flow = "tcp,in_port=9,dl_src=0a:58:0a:b4:cc:0c,nw_src=10.0.0.1,nw_ttl=2";
    expect(odpEffects("6,7,meter(0),6,7", flow)).toBe(odpEffects("6,clone(meter(0),6,7),7", flow));
    expect(odpEffects("124,ct(zone=2,nat),recirc(0x1)", flow)).toBe(
      odpEffects("clone(ct(zone=2,nat),recirc(0x1)),124", flow),
    );
    // set_queue's skb_priority is 0 before any set (seed 31337, program 194: flood order).
    expect(odpEffects("76,set(skb_priority(0x1)),209", flow)).toBe(
      odpEffects("set(skb_priority(0x1)),209,set(skb_priority(0)),76", flow),
    );
    // The state after a clone is the state before it.
    expect(odpEffects("clone(set(ipv4(ttl=1)),6),7", flow)).not.toBe(
      odpEffects("set(ipv4(ttl=1)),6,7", flow),
    );
  });
  it("slices `ovs-vsctl show` to some bridges", () => {
    const show = [
      "3f1c",
      "    Bridge a",
      "        Port a",
      "            Interface a",
      "    Bridge b",
      "        Port b1",
      '    ovs_version: "3.1.0"',
    ].join("\n");
    expect(sliceVsctlShow(show, new Set(["b"]))).toBe(
      ["3f1c", "    Bridge b", "        Port b1", '    ovs_version: "3.1.0"'].join("\n"),
    );
  });
});

function replacer(_k: string, v: unknown): unknown {
  return v instanceof Map ? [...v.entries()] : v;
}
