// The order of NAT external MACs in a switch's self-originated ARP flow (ls_in_l2_lkup 75) is
// decided by the NAT rows' random uuids when MACs share an hmap bucket, and how the --nbctl
// ovn-trace differential aligns it (run-dependent.ts alignSsetOrder).
import { describe, expect, it } from "vitest";
import { ssetOrder } from "../src/northd/ovs-hmap.js";
import type { LogicalFlow } from "../src/types.js";
import { alignSsetOrder } from "./run-dependent.js";

const flow = (match: string, over: Partial<LogicalFlow> = {}): LogicalFlow => ({
  datapath: "sw2",
  pipeline: "ingress",
  table: 25,
  stage: "ls_in_l2_lkup",
  priority: 75,
  match,
  actions: 'outport = "_MC_flood_l2"; output;',
  ...over,
});
const arp = (macs: string) => `eth.src == {${macs}} && (arp.op == 1 || rarp.op == 3 || nd_ns)`;

describe("the MAC set of the self-originated ARP flow follows the NAT rows' uuid order", () => {
  it("two MACs in one hmap bucket come out in reverse insertion order: the NAT row order decides", () => {
    // Seen live (--nbctl differential, seed 1796471223, config seed 1326025165): real northd
    // printed {…02:ff, …01:01, …01:02}, ovnsim (NAT rows in configuration order) the other.
    const port = "00:00:00:00:02:ff";
    expect(ssetOrder([port, "0a:00:00:00:01:01", "0a:00:00:00:01:02"])).toEqual([
      port,
      "0a:00:00:00:01:02",
      "0a:00:00:00:01:01",
    ]);
    expect(ssetOrder([port, "0a:00:00:00:01:02", "0a:00:00:00:01:01"])).toEqual([
      port,
      "0a:00:00:00:01:01",
      "0a:00:00:00:01:02",
    ]);
  });

  it("MACs in different buckets print in bucket order, whatever the insertion order", () => {
    const port = "00:00:00:00:02:ff";
    const a = ssetOrder([port, "0a:00:00:00:01:01", "0a:00:00:00:01:03"]);
    expect(a[0]).toBe("0a:00:00:00:01:03");
    expect(new Set(a)).toEqual(new Set([port, "0a:00:00:00:01:01", "0a:00:00:00:01:03"]));
  });
});

describe("alignSsetOrder takes the real order only for the same set in an otherwise identical flow", () => {
  const real = [flow(arp("00:00:00:00:02:ff, 0a:00:00:00:01:01, 0a:00:00:00:01:02"))];

  it("the same MACs in another order: aligned", () => {
    const ours = [flow(arp("00:00:00:00:02:ff, 0a:00:00:00:01:02, 0a:00:00:00:01:01"))];
    const r = alignSsetOrder(ours, real);
    expect(r.aligned).toBe(1);
    expect(r.flows).toEqual(real);
  });

  it("already in the real order: nothing to do", () => {
    const r = alignSsetOrder(real, real);
    expect(r.aligned).toBe(0);
    expect(r.flows[0]).toBe(real[0]);
  });

  it.each([
    ["another MAC", flow(arp("00:00:00:00:02:ff, 0a:00:00:00:01:03, 0a:00:00:00:01:01"))],
    ["a MAC missing", flow(arp("00:00:00:00:02:ff, 0a:00:00:00:01:02"))],
    [
      "other actions",
      flow(arp("0a:00:00:00:01:02, 00:00:00:00:02:ff, 0a:00:00:00:01:01"), { actions: "drop;" }),
    ],
    [
      "another match around the set",
      flow(`eth.src == {0a:00:00:00:01:02, 00:00:00:00:02:ff, 0a:00:00:00:01:01} && arp.op == 1`),
    ],
    [
      "another datapath",
      flow(arp("0a:00:00:00:01:02, 00:00:00:00:02:ff, 0a:00:00:00:01:01"), { datapath: "sw3" }),
    ],
    [
      "another stage",
      flow(arp("0a:00:00:00:01:02, 00:00:00:00:02:ff, 0a:00:00:00:01:01"), { stage: "ls_in_arp_rsp" }),
    ],
  ])("%s: left as it was (the difference shows)", (_, ours) => {
    // For the other stage, the real southbound holds the same-order flow in that stage too:
    // only ls_in_l2_lkup 75 is ever aligned.
    const r = alignSsetOrder([ours], [...real, { ...real[0]!, stage: "ls_in_arp_rsp" }]);
    expect(r.aligned).toBe(0);
    expect(r.flows[0]).toBe(ours);
  });
});
