/**
 * runLogical traces a packet without writing its microflow when it can: microflowPacket must be
 * the packet ovn-trace's microflow parser makes of microflowOf's text, field for field.
 */
import { describe, expect, it } from "vitest";
import { parseMicroflow } from "@ovnsim/ovn";
import { makeFlow, parseIp4, parseIp6, parseMac } from "@ovnsim/packet";
import { toMFlow } from "../../ovn/src/expr/symtab.js";
import { microflowOf, microflowPacket } from "../src/ovn.js";

const base = {
  dl_src: parseMac("52:54:00:ff:00:01"),
  dl_dst: parseMac("00:00:00:01:00:01"),
  in_port: 7,
  vlans: [],
};
const cases = [
  makeFlow({
    ...base,
    dl_type: 0x0800,
    nw_src: parseIp4("192.0.2.10"),
    nw_dst: parseIp4("10.180.204.252"),
    nw_proto: 6,
    nw_ttl: 63,
    tp_src: 4000,
    tp_dst: 80,
    tcp_flags: 2,
  }),
  makeFlow({
    ...base,
    dl_type: 0x0800,
    nw_src: parseIp4("10.0.0.1"),
    nw_dst: parseIp4("10.0.0.2"),
    nw_proto: 17,
    tp_src: 53,
    tp_dst: 5353,
  }),
  makeFlow({
    ...base,
    dl_type: 0x0800,
    nw_src: parseIp4("10.0.0.1"),
    nw_dst: parseIp4("10.0.0.2"),
    nw_proto: 1,
    nw_ttl: 5,
    tp_src: 8,
    tp_dst: 0,
  }),
  makeFlow({
    ...base,
    dl_type: 0x86dd,
    ipv6_src: parseIp6("fd00::1"),
    ipv6_dst: parseIp6("fd00::2"),
    nw_proto: 6,
    tp_src: 1,
    tp_dst: 443,
    tcp_flags: 0x12,
  }),
  makeFlow({
    ...base,
    dl_type: 0x86dd,
    ipv6_src: parseIp6("fd00::1"),
    ipv6_dst: parseIp6("fd00::2"),
    nw_proto: 17,
    tp_src: 1,
    tp_dst: 443,
  }),
  makeFlow({
    ...base,
    dl_type: 0x0806,
    nw_proto: 1,
    nw_src: parseIp4("10.180.204.50"),
    nw_dst: parseIp4("10.180.204.4"),
    arp_sha: base.dl_src,
  }),
  makeFlow({
    ...base,
    dl_type: 0x0806,
    nw_proto: 2,
    nw_src: parseIp4("10.180.204.4"),
    nw_dst: parseIp4("10.180.204.50"),
    arp_sha: 5,
    arp_tha: 6,
  }),
];

describe("microflowPacket", () => {
  it.each(cases.map((f, i) => [i, f] as const))(
    "case %i is the packet the microflow text describes",
    (_, f) => {
      const fast = microflowPacket(f);
      expect(fast).not.toBeNull();
      const parsed = parseMicroflow(microflowOf("p1", f), (n) => (n === "p1" ? 3 : undefined));
      const mine = toMFlow(fast!);
      mine.regs[14] = 3;
      expect(mine).toEqual(parsed);
    },
  );
  it("leaves the rest to the microflow text", () => {
    expect(microflowPacket(makeFlow({ ...base, dl_type: 0x86dd, nw_proto: 58 }))).toBeNull();
    expect(microflowPacket(makeFlow({ ...base, dl_type: 0x88cc }))).toBeNull();
  });
});
