// runLogical reuses the logical pipeline's decision for packets that differ only in L4 ports the
// run never read (TraceResult.portsRead). Reused or not, a run must say the same: the same
// outputs with the same packets, backend, stages, drop reason, executor record and text. Each
// case is traced on a world that has already seen the packet with other ports (a reuse, when
// the ports were not read) and on a fresh world (the executor itself).
import { loadScenario } from "@ovnsim/kube";
import { type Flow, makeFlow, parseIp4, parseMac } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { buildOvn, type LogicalRun, runLogical } from "../src/index.js";

const s = loadScenario();
const warm = buildOvn(s);

const CT_NEW = ["new", "new", "new", "new"];
const CT_RPL = ["est|rpl", "est|rpl", "est|rpl", "est|rpl"];

/** The client's packet as br-int hands it to OVN on node3 (registers cleared). */
const forward = (sport: number, dport: number, flags: number): Flow =>
  makeFlow({
    dl_src: parseMac("52:54:00:ff:00:01"),
    dl_dst: parseMac("00:00:00:01:00:01"),
    dl_type: 0x0800,
    nw_src: parseIp4("192.0.2.10"),
    nw_dst: parseIp4("10.180.204.252"),
    nw_proto: 6,
    nw_ttl: 63,
    tp_src: sport,
    tp_dst: dport,
    tcp_flags: flags,
  });
/** The backend's reply, leaving its pod. */
const reply = (sport: number, dport: number): Flow =>
  makeFlow({
    dl_src: parseMac("00:00:00:b4:cc:04"),
    dl_dst: parseMac("00:00:00:01:00:01"),
    dl_type: 0x0800,
    nw_src: parseIp4("10.180.204.4"),
    nw_dst: parseIp4("192.0.2.10"),
    nw_proto: 6,
    nw_ttl: 64,
    tp_src: sport,
    tp_dst: dport,
    tcp_flags: 0x12,
  });

const seen = (lr: LogicalRun) => ({
  outputs: lr.outputs,
  backend: lr.backend,
  ctNat: lr.ctNat,
  stages: lr.stages,
  dropReason: lr.dropReason,
  resultOutputs: lr.result.outputs,
  portsRead: lr.result.portsRead,
  text: lr.text,
});

const BACKEND_POD = "deploy-169402624-2.default";

describe("runLogical's reuse of a decision", () => {
  it("says what the executor says, forward and reply, whatever the ports", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 65535 }),
        fc.integer({ min: 1, max: 65535 }),
        fc.constantFrom(80, 8080, 443),
        fc.constantFrom(2, 0x10, 0x12),
        fc.boolean(),
        (p1, p2, vport, flags, isReply) => {
          const run = (w: ReturnType<typeof buildOvn>, p: number) =>
            isReply
              ? runLogical(w, "node3", BACKEND_POD, reply(vport, p), CT_RPL)
              : runLogical(w, "node3", "localnet.underlay-subnet", forward(p, vport, flags), CT_NEW);
          run(warm, p1);
          const reused = run(warm, p2);
          const fresh = run(buildOvn(s), p2);
          expect(seen(reused)).toEqual(seen(fresh));
        },
      ),
      { numRuns: 12 },
    );
  });
  it("is taken: a second connection on the seed's VIP gets its own ports back, DNATed", () => {
    const w = buildOvn(s);
    runLogical(w, "node3", "localnet.underlay-subnet", forward(40000, 80, 2), CT_NEW);
    const lr = runLogical(w, "node3", "localnet.underlay-subnet", forward(40001, 80, 2), CT_NEW);
    expect(lr.backend).toEqual({ ip: "10.180.204.4", port: 80 });
    expect(lr.outputs[0]!.flow.tp_src).toBe(40001);
    expect(lr.outputs[0]!.flow.nw_dst).toBe(parseIp4("10.180.204.4"));
    expect(lr.text).toContain("tp_src=40001,tp_dst=80");
  });
});
