import {
  arpReply,
  arpRequest,
  decodeFrame,
  encodeFrame,
  frameChecksumsOk,
  ndAdvert,
  ndSolicit,
  parseMac,
  withFlow,
} from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import {
  ARP_OP,
  arpFrame,
  BROADCAST,
  describeFrame,
  fromPacket,
  ipFrame,
  NA_FLAG,
  naFrame,
  nsFrame,
  parseIp,
  toPacket,
} from "../src/index.js";
import { describeMemo, describeWith } from "../src/describe.js";
import { rewriteFrame } from "../src/frames.js";

describe("physical frames survive the wire format", () => {
  const mac = parseMac("00:00:5e:00:54:03");
  const vip = parseIp("10.180.204.252");
  const vip6 = parseIp("fd00:10:180:204::fc").v;
  const frames = [
    arpFrame({
      op: ARP_OP.request,
      dlSrc: mac,
      dlDst: BROADCAST,
      sha: mac,
      spa: vip,
      tha: BROADCAST,
      tpa: vip,
    }),
    arpFrame({
      op: ARP_OP.reply,
      dlSrc: mac,
      dlDst: BROADCAST,
      sha: mac,
      spa: vip,
      tha: BROADCAST,
      tpa: vip,
      vlans: [{ tpid: 0x8100, pcp: 0, vid: 341 }],
    }),
    nsFrame({ dlSrc: mac, src: parseIp("fd00:10:180:204::1").v, target: vip6 }),
    naFrame({
      dlSrc: mac,
      dlDst: 0x333300000001,
      src: 0xfe80n << 112n,
      dst: (0xff02n << 112n) | 1n,
      target: vip6,
      tll: mac,
      flags: NA_FLAG.override,
    }),
    naFrame({
      dlSrc: mac,
      dlDst: mac,
      src: 0xfe80n << 112n,
      dst: vip6,
      target: vip6,
      tll: mac,
      flags: NA_FLAG.solicited | NA_FLAG.router,
    }),
    ipFrame({
      dlSrc: mac,
      dlDst: mac + 1,
      src: parseIp("192.0.2.10"),
      dst: vip,
      tpSrc: 40000,
      tpDst: 80,
      tcpFlags: 2,
    }),
  ];
  it.each(frames.map((f, i) => [i, f] as const))(
    "frame %i: encode → decode gives the same flow, checksums good",
    (_i, f) => {
      const bytes = encodeFrame(toPacket(f));
      expect(frameChecksumsOk(bytes)).toBe(true);
      expect(fromPacket(decodeFrame(bytes))).toEqual(f);
    },
  );
});

describe("ARP/ND frames are @ovnsim/packet's builders", () => {
  const mac = parseMac("00:00:5e:00:54:03");
  const gw = parseMac("52:54:00:ff:00:01");
  it("ARP request and reply", () => {
    const a = { sha: mac, spa: parseIp("10.180.204.252"), tpa: parseIp("10.180.204.1") };
    expect(arpFrame({ op: ARP_OP.request, dlSrc: mac, dlDst: BROADCAST, tha: 0, ...a, vlans: [] })).toEqual(
      arpRequest({ sha: mac, spa: "10.180.204.252", tpa: "10.180.204.1" }).flow,
    );
    expect(arpFrame({ op: ARP_OP.reply, dlSrc: mac, dlDst: gw, tha: gw, ...a })).toEqual(
      arpReply({ sha: mac, spa: "10.180.204.252", tpa: "10.180.204.1", tha: gw, vlan: [] }).flow,
    );
  });
  it("NS to the solicited-node group, NA with its flags", () => {
    const src = parseIp("fd00:10:180:204::1").v;
    const target = parseIp("fd00:10:180:204::fc").v;
    expect(nsFrame({ dlSrc: mac, src, target })).toEqual(
      ndSolicit({
        dlSrc: mac,
        dlDst: "33:33:ff:00:00:fc",
        src: "fd00:10:180:204::1",
        dst: "ff02::1:ff00:fc",
        target: "fd00:10:180:204::fc",
      }).flow,
    );
    const na = naFrame({
      dlSrc: mac,
      dlDst: gw,
      src: target,
      dst: src,
      target,
      tll: mac,
      flags: NA_FLAG.solicited,
    });
    const p = ndAdvert({
      dlSrc: mac,
      dlDst: gw,
      src: "fd00:10:180:204::fc",
      dst: "fd00:10:180:204::1",
      target: "fd00:10:180:204::fc",
      naFlags: 0x40,
    });
    expect(toPacket(na)).toEqual(p);
    expect(na).toEqual(fromPacket(p));
  });
});

describe("rewriteFrame", () => {
  it("is withFlow with the header fields given (same keys in the same order, frozen)", () => {
    const base = withFlow(
      ipFrame({ dlSrc: 1, dlDst: 2, src: parseIp("10.0.0.1"), dst: parseIp("10.0.0.2"), tpSrc: 5 }),
      {
        vlans: [{ tpid: 0x8100, pcp: 0, vid: 341 }],
        ct_state: 0x21,
        regs: [1, 2, 3],
      },
    );
    const a = rewriteFrame(
      base,
      7,
      8,
      base.dl_type,
      [],
      base.nw_src,
      base.nw_dst,
      0n,
      0n,
      17,
      63,
      1,
      2,
      0x10,
    );
    const b = withFlow(base, {
      dl_src: 7,
      dl_dst: 8,
      vlans: [],
      nw_proto: 17,
      nw_ttl: 63,
      tp_src: 1,
      tp_dst: 2,
      tcp_flags: 0x10,
    });
    expect(a).toEqual(b);
    expect(Object.keys(a)).toEqual(Object.keys(b));
    expect(Object.isFrozen(a) && Object.isFrozen(a.vlans)).toBe(true);
    expect(a.regs).toBe(base.regs);
  });
});

describe("describeWith", () => {
  it("reads as describeFrame for every frame through one memo", () => {
    const memo = describeMemo();
    const base = ipFrame({ dlSrc: 1, dlDst: 2, src: parseIp("10.0.0.1"), dst: parseIp("10.0.0.2") });
    const frames = [
      base,
      withFlow(base, { tp_src: 40000, tp_dst: 80 }),
      withFlow(base, { tp_src: 40001, tp_dst: 80 }),
      withFlow(base, { tp_src: 40001, tp_dst: 80, vlans: [{ tpid: 0x8100, pcp: 0, vid: 341 }] }),
      withFlow(base, { tp_src: 40001, tp_dst: 80, vlans: [{ tpid: 0x8100, pcp: 0, vid: 342 }] }),
      withFlow(base, { tp_src: 40001, tp_dst: 80, nw_ttl: 63 }),
      withFlow(base, { nw_proto: 17, tp_src: 53, tp_dst: 5353 }),
      withFlow(base, { nw_proto: 1 }),
      withFlow(base, { dl_src: 3 }),
      withFlow(base, { nw_dst: 0x0a000003 }),
      arpFrame({
        op: ARP_OP.request,
        dlSrc: 1,
        dlDst: BROADCAST,
        sha: 1,
        spa: parseIp("10.0.0.1"),
        tha: 0,
        tpa: parseIp("10.0.0.2"),
      }),
      base,
    ];
    for (const f of frames) expect(describeWith(memo, f)).toBe(describeFrame(f));
  });
});
