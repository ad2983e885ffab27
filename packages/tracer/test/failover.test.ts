import { Conntrack, formatCtState } from "@ovnsim/conntrack";
import { loadScenario } from "@ovnsim/kube";
import { TCP_FLAG, makeFlow, parseIp4 } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import { createSimulation, findDrop, renderText, toJson, traceFailover } from "../src/index.js";

/** What OVS userspace conntrack (our model of it) says of this packet in a table without its connection. */
function ctStateOfFirstAck(): string {
  const ack = makeFlow({
    dl_type: 0x0800,
    nw_proto: 6,
    nw_src: parseIp4("192.0.2.10"),
    nw_dst: parseIp4("10.180.204.252"),
    tp_src: 40000,
    tp_dst: 80,
    tcp_flags: TCP_FLAG.ack,
  });
  return formatCtState(Conntrack.empty().process(ack, { zone: 1, nat: {} }).ctState);
}

describe.each(["speaker", "node"] as const)(
  "failover of an existing connection: %s down (ETP=Local)",
  (fail) => {
    const sim = createSimulation(loadScenario());
    const r = traceFailover(sim, { fail, srcPort: 40000 });
    const expected = ctStateOfFirstAck();

    it("the seed SYN is delivered on the old announcer and committed in its conntrack only", () => {
      expect(r.seed.verdict.delivered).toBe(true);
      expect(r.seed.verdict.node).toBe(r.oldAnnouncer);
      expect(r.oldAnnouncer).toBe("node3");
      expect(sim.ctByNode.get("node3")!.size()).toBe(1);
    });
    it("a new leader is elected among the nodes with a local endpoint and sends gratuitous ARPs", () => {
      expect(r.newAnnouncer).not.toBeNull();
      expect(r.newAnnouncer).not.toBe(r.oldAnnouncer);
      const withEndpoint = sim.scenario.pods.map((p) => p.node);
      expect(withEndpoint).toContain(r.newAnnouncer);
      expect(r.failover.some((e) => /gratuitous ARP/.test(e))).toBe(true);
      expect(r.next.verdict.announcingNode).toBe(r.newAnnouncer);
    });
    it("the next packet (ACK) reaches the new announcer; its conntrack has no entry: state as conntrack computes it", () => {
      expect(r.next.request.proto).toBe("tcp");
      expect(r.ct?.node).toBe(r.newAnnouncer);
      expect(r.ct?.found).toBe(false);
      // OVS tcp_valid_new: a bare ACK may open a connection (mid-stream pickup) → new, not inv.
      expect(r.ct?.state).toBe(expected);
      expect(r.ct?.state).not.toMatch(/est/);
      expect(r.ct?.state).toBe("new|trk");
      const text = renderText(r.next);
      expect(text).toContain(`zone ${r.ct?.zone} on ${r.newAnnouncer}: ct_state=${expected}`);
      expect(r.summary.join("\n")).toContain(`ct_state=${expected}`);
    });
    it("OVN's logical flows decide with that state: ls_in_lb (ct.new) DNATs to the new node's local backend", () => {
      // Whatever the pipeline does is the answer; with ct.new, ls_in_lb's prefer-local flow matches.
      expect(renderText(r.next, { detailed: true })).toMatch(/ls_in_lb .*priority 140: ct\.new/);
      expect(findDrop(r.next.forward)).toBeUndefined();
      expect(r.next.verdict.delivered).toBe(true);
      expect(r.next.verdict.node).toBe(r.newAnnouncer);
      expect(r.next.verdict.backendLocal).toBe(true);
      expect(r.next.verdict.pod).not.toBe(r.seed.verdict.pod);
      // A new connection on the new node; the old node's entry is untouched.
      expect(sim.ctByNode.get(r.newAnnouncer!)!.size()).toBe(1);
      expect(sim.ctByNode.get("node3")!.size()).toBe(1);
    });
    it("is deterministic", () => {
      const again = traceFailover(createSimulation(loadScenario()), { fail, srcPort: 40000 });
      expect(toJson(again.next)).toBe(toJson(r.next));
      expect(again.summary).toEqual(r.summary);
    });
  },
);
