// The README example, executed.
import { ETH_TYPE, IP_PROTO, TCP_FLAG, makeFlow, parseIp4 } from "@ovnsim/packet";
import { expect, it } from "vitest";
import { Conntrack, formatCtState } from "../src/index.js";

it("README example", () => {
  const syn = makeFlow({
    dl_type: ETH_TYPE.ip,
    nw_proto: IP_PROTO.tcp,
    tcp_flags: TCP_FLAG.syn,
    nw_src: parseIp4("192.0.2.10"),
    nw_dst: parseIp4("10.180.204.252"),
    tp_src: 40000,
    tp_dst: 80,
  });
  const r = Conntrack.empty().process(syn, {
    zone: 5,
    commit: true,
    now: 0,
    nat: { kind: "dnat", ip: parseIp4("10.180.204.12"), port: 80 },
    mark: { value: 0x2, mask: 0x2 },
  });
  expect(formatCtState(r.flow.ct_state)).toBe("new|trk|dnat");
  expect([r.flow.nw_dst, r.flow.ct_nw_dst]).toEqual([parseIp4("10.180.204.12"), parseIp4("10.180.204.252")]);
  const reply = makeFlow({
    ...syn,
    nw_src: parseIp4("10.180.204.12"),
    nw_dst: parseIp4("192.0.2.10"),
    tp_src: 80,
    tp_dst: 40000,
    tcp_flags: TCP_FLAG.syn | TCP_FLAG.ack,
  });
  const rr = r.table.process(reply, { zone: 5, nat: {}, now: 0.001 });
  expect(formatCtState(rr.flow.ct_state)).toBe("est|rpl|trk|snat");
  expect(rr.flow.nw_src).toBe(parseIp4("10.180.204.252"));
});
