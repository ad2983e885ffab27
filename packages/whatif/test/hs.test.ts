// The header-space algebra against brute force: over two small fields (ip.frag, 2 bits; the low
// byte of ip.proto) every point is enumerated, and a term's witness search, subtraction and
// range blocks must agree with plain set membership.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Cube,
  contains,
  cube,
  intersect,
  prng,
  rangeBlocks,
  slotOf,
  subtractCube,
  termAnd,
  termMinus,
  unionDisjoint,
  witness,
} from "../src/hs.js";

const FRAG = slotOf("nw_frag");
const PROTO = slotOf("nw_proto");

const arbCube: fc.Arbitrary<Cube> = fc
  .record({ fv: fc.nat(3), fm: fc.nat(3), pv: fc.nat(255), pm: fc.nat(255) })
  .map(({ fv, fm, pv, pm }) =>
    cube([
      [FRAG, BigInt(fv), BigInt(fm)],
      [PROTO, BigInt(pv), BigInt(pm)],
    ]),
  );

const points = (): Map<number, bigint>[] => {
  const out: Map<number, bigint>[] = [];
  for (let f = 0; f < 4; f++)
    for (let p = 0; p < 256; p++)
      out.push(
        new Map([
          [FRAG, BigInt(f)],
          [PROTO, BigInt(p)],
        ]),
      );
  return out;
};
const ALL = points();
const inCube = (c: Cube, p: Map<number, bigint>) => contains({ pos: c, neg: [] }, p);

describe("header space", () => {
  it("a term's witness exists exactly when brute force finds a member, and is one", () => {
    fc.assert(
      fc.property(arbCube, fc.array(arbCube, { maxLength: 6 }), (pos, neg) => {
        const t = { pos, neg };
        const members = ALL.filter((p) => contains(t, p));
        const w = witness(t, [FRAG, PROTO]);
        expect(w !== null).toBe(members.length > 0);
        if (w) expect(contains(t, w)).toBe(true);
        const r = witness(t, [FRAG, PROTO], prng(7));
        if (r) expect(contains(t, r)).toBe(true);
      }),
      { numRuns: 300, seed: 16 },
    );
  });

  it("subtraction, intersection and disjoint union are the set operations", () => {
    fc.assert(
      fc.property(arbCube, arbCube, (a, b) => {
        const diff = subtractCube(a, b);
        const k = intersect(a, b);
        const u = unionDisjoint([a], [b]);
        let bad = 0;
        for (const p of ALL) {
          const ia = inCube(a, p);
          const ib = inCube(b, p);
          if (diff.filter((c) => inCube(c, p)).length !== (ia && !ib ? 1 : 0)) bad++;
          if ((k !== null && inCube(k, p)) !== (ia && ib)) bad++;
          if (u.filter((c) => inCube(c, p)).length !== (ia || ib ? 1 : 0)) bad++;
        }
        const t = termMinus({ pos: a, neg: [] }, b);
        const ta = termAnd({ pos: a, neg: [] }, b);
        for (const p of ALL) {
          if ((t !== null && contains(t, p)) !== (inCube(a, p) && !inCube(b, p))) bad++;
          if ((ta !== null && contains(ta, p)) !== (inCube(a, p) && inCube(b, p))) bad++;
        }
        expect(bad).toBe(0);
      }),
      { numRuns: 100, seed: 16 },
    );
  });

  it("range blocks cover [lo, hi] exactly once", () => {
    fc.assert(
      fc.property(fc.nat(255), fc.nat(255), (x, y) => {
        const [lo, hi] = x <= y ? [x, y] : [y, x];
        const blocks = rangeBlocks(BigInt(lo), BigInt(hi), 8);
        let bad = 0;
        for (let v = 0; v < 256; v++) {
          const n = blocks.filter(([bv, bm]) => (BigInt(v) & bm) === bv).length;
          if (n !== (v >= lo && v <= hi ? 1 : 0)) bad++;
        }
        expect(bad).toBe(0);
      }),
      { numRuns: 200, seed: 16 },
    );
  });
});
