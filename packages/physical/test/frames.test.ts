import { decodeFrame, encodeFrame, frameChecksumsOk, parseMac } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import {
  ARP_OP,
  arpFrame,
  BROADCAST,
  fromPacket,
  ipFrame,
  NA_FLAG,
  naFrame,
  nsFrame,
  parseIp,
  toPacket,
} from "../src/index.js";

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
