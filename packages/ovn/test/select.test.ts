// select(…) (ECMP next hops) forks as ovn-trace's execute_select does: the member is written to
// a copy of the packet that continues at the next table; --select-id pins it, and without it the
// member is the one the datapath's dp_hash select group takes (ovn-trace would pick at random).
import { readFileSync } from "node:fs";
import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  LogicalNetwork,
  getProfile,
  northd,
  parseNbctl,
  parseOvnTraceArgs,
  renderMinimal,
  renderTrace,
  sbModelFromNb,
  selectMembers,
} from "../src/index.js";

const text = readFileSync(new URL("../../whatif/test/fixtures/ecmp.nbctl", import.meta.url), "utf8");
const db = parseNbctl(text, { file: "ecmp.nbctl" });
const net = new LogicalNetwork(sbModelFromNb(db, northd(db, getProfile("ovn-23.03")!)));
const flow = (src: number) =>
  `inport == "vm1" && eth.src == 00:00:00:00:01:01 && eth.dst == 00:00:00:00:00:01 && ip4.src == 192.168.1.10 && ip4.dst == 8.8.8.8 && ip.ttl == 64 && tcp && tcp.src == ${src} && tcp.dst == 80`;

describe("select()", () => {
  it("matches the real ovn-trace 23.03 with --select-id, in every mode (golden/select-ecmp)", () => {
    const mask = (t: string) => t.replace(/uuid [0-9a-f]+/g, "uuid X");
    for (const id of [1, 2])
      for (const mode of ["detailed", "minimal", "summary"] as const) {
        const want = readFileSync(
          new URL(`./golden/select-ecmp/select-${id}.${mode}.txt`, import.meta.url),
          "utf8",
        );
        const r = net.trace(undefined, flow(1234), { selectId: id });
        expect(mask(renderTrace(r, [mode]))).toBe(mask(want));
      }
  });

  it("reads its members and weights", () => {
    expect(selectMembers("1, 2")).toEqual([
      { id: 1, weight: 100 },
      { id: 2, weight: 100 },
    ]);
    expect(selectMembers("1=50,2=150")).toEqual([
      { id: 1, weight: 50 },
      { id: 2, weight: 150 },
    ]);
    expect(selectMembers("values=(1,2)")).toEqual([]);
  });

  it("--select-id takes that next hop; without it the hash decides, reproducibly", () => {
    expect(net.trace(undefined, flow(1234), { selectId: 1 }).outputs).toEqual(["gw-a"]);
    expect(net.trace(undefined, flow(1234), { selectId: 2 }).outputs).toEqual(["gw-b"]);
    const seen = new Set<string>();
    for (let p = 1000; p < 1040; p++) {
      const a = net.trace(undefined, flow(p)).outputs.join();
      expect(net.trace(undefined, flow(p)).outputs.join()).toBe(a);
      seen.add(a);
    }
    expect(seen).toEqual(new Set(["gw-a", "gw-b"]));
    const r = net.trace(undefined, flow(1234), { selectId: 2 });
    expect(renderMinimal(r.tree)).toContain("select: reg8[16..31] = 2 {");
  });

  it("--select-id is read from the command line", () => {
    expect(parseOvnTraceArgs(["--select-id", "2", "m"]).selectId).toBe(2);
    expect(() => parseOvnTraceArgs(["--select-id=x", "m"])).toThrow(/not an id/);
    fc.assert(
      fc.property(fc.string({ maxLength: 8 }), (v) => {
        try {
          parseOvnTraceArgs([`--select-id=${v}`, "m"]);
        } catch (e) {
          if (!isSimError(e)) throw e;
        }
      }),
    );
  });
});
