import { parseExpr } from "@ovnsim/ovn";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hashInt, uuidHash } from "../src/hash.js";
import { type MatchEnv, toConj, toDnf } from "../src/index.js";

const env: MatchEnv = { portKey: (n) => (n === "p1" ? 2 : undefined), isChassisResident: () => true };
const inRange = (v: number, t: ReadonlyMap<string, { v: bigint; m: bigint }>): boolean => {
  const x = t.get("tp_dst");
  return x ? (BigInt(v) & x.m) === x.v : true;
};

// Port numbers with the ends (0, 65535) and their neighbours drawn often: the special cases live there.
const port = fc.oneof(fc.constantFrom(0, 1, 65534, 65535), fc.integer({ min: 0, max: 65535 }));

describe("expression → OpenFlow matches", () => {
  it("a port range becomes OVN's masked matches (tcp.dst 1000..1005 as the real flows show)", () => {
    const cs = toConj(parseExpr("tcp.dst >= 1000 && tcp.dst <= 1005 && ip4"), env);
    const alts = cs[0]!.sets[0]!.alts.map((t) => {
      const x = t.get("tp_dst")!;
      return `${x.v}/${x.m.toString(16)}`;
    });
    expect(alts.sort()).toEqual(["1000/ffff", "1001/ffff", "1002/fffe", "1004/ffff", "1005/ffff"].sort());
  });

  it("range ends at 0 and 65535 simplify as expr_simplify_relational does", () => {
    const alts = (text: string): string[] =>
      toDnf(parseExpr(text), env)
        .filter((t) => t.get("dl_type")?.v === 0x800n)
        .map((t) => {
          const x = t.get("tp_dst");
          return x ? `${x.v}/${x.m.toString(16)}` : "*";
        })
        .sort();
    expect(alts("tcp.dst >= 0")).toEqual(["*"]);
    expect(alts("tcp.dst <= 65535")).toEqual(["*"]);
    expect(alts("tcp.dst <= 0")).toEqual(["0/ffff"]);
    expect(alts("tcp.dst >= 65535")).toEqual(["65535/ffff"]);
    expect(alts("tcp.dst > 0")).toHaveLength(16); // tcp.dst != 0: one alternative per bit
    expect(alts("tcp.dst < 65535")).toHaveLength(16);
    expect(alts("tcp.dst >= 0 && tcp.dst <= 0")).toEqual(["0/ffff"]);
  });

  it("ranges cover exactly [a, b] (property)", () => {
    fc.assert(
      fc.property(port, port, (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const d = toDnf(parseExpr(`tcp.dst >= ${lo} && tcp.dst <= ${hi}`), env).filter(
          (t) => t.get("dl_type")?.v === 0x800n,
        );
        for (const v of [lo, hi, lo - 1, hi + 1, (lo + hi) >> 1, 0, 65535]) {
          if (v < 0 || v > 65535) continue;
          const hit = d.some((t) => inRange(v, t));
          expect(hit).toBe(v >= lo && v <= hi);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("conjunction ids: hash_int of the lflow and datapath uuids (values from the real dump)", () => {
    expect(
      hashInt(
        uuidHash("f10dff50-e476-438a-b758-72a88c641f55"),
        uuidHash("a2debc74-fbc0-4cd2-8035-5b54cd7d7168"),
      ),
    ).toBe(2260216099);
  });

  it("two sets become conjunction clauses, one set is expanded", () => {
    const two = toConj(
      parseExpr('outport == "p1" && ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == {80, 443}'),
      env,
    );
    expect(two.map((c) => c.sets.length)).toEqual([2]);
    const one = toConj(parseExpr("ip4.src == {10.0.0.1, 10.0.0.2} && tcp.dst == 80"), env);
    expect(one.map((c) => c.sets.length)).toEqual([1]);
  });

  it("unknown ports match nothing; contradictions vanish", () => {
    expect(toDnf(parseExpr('inport == "nope"'), env)).toEqual([]);
    expect(toDnf(parseExpr("ip4 && ip6"), env)).toEqual([]);
  });
});
