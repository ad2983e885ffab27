// RangeClassifier against the linear scan, and every classifier of the package against each
// other on ClassBench boundary packets: each field of each filter at lo−1, lo, hi and hi+1
// (the other fields inside the filter), where an off-by-one in a tree threshold, a port-range
// expansion or a trie would show. Plus fast-check rule sets with random insert/delete sequences.
import { sharedDir } from "@ovnsim/oracle";
import { readFileSync } from "node:fs";
import path from "node:path";
import { FLOW_WORDS, isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  CLASSBENCH_FIELDS,
  type ClassBenchHeader,
  Classifier,
  classBenchToRanges,
  classBenchToRules,
  classBenchTrace,
  headersToRangeKeys,
  headerToKey,
  LinearClassifier,
  parseClassBench,
  RangeClassifier,
  type RangeClassifierOptions,
  RangeLinearClassifier,
  type RangeRule,
  type RangeTreeOptions,
  TupleMergeClassifier,
} from "../src/index.js";

const cbDir = path.join(sharedDir(), "data/classbench/neurocuts");
const MAX = [0xffffffff, 0xffffffff, 0xffff, 0xffff, 0xff];

/** Boundary headers of every filter: one field at lo−1 / lo / hi / hi+1, the others at lo. */
function boundaryHeaders(lo: readonly number[][], hi: readonly number[][]): ClassBenchHeader[] {
  const out: ClassBenchHeader[] = [];
  for (let i = 0; i < lo.length; i++) {
    for (let f = 0; f < 5; f++) {
      for (const v of [lo[i]![f]! - 1, lo[i]![f]!, hi[i]![f]!, hi[i]![f]! + 1]) {
        if (v < 0 || v > MAX[f]!) continue;
        const k = lo[i]!.slice();
        k[f] = v;
        out.push({ src: k[0]!, dst: k[1]!, sport: k[2]!, dport: k[3]!, proto: k[4]!, ruleIdx: i });
      }
    }
  }
  return out;
}

describe("RangeClassifier", () => {
  it("rejects malformed rules, options and keys with SimError", () => {
    const rc = new RangeClassifier<number>({ fields: [8, 16] });
    const bad = [
      { priority: -1, lo: [0, 0], hi: [1, 1], payload: 0 },
      { priority: 1, lo: [0], hi: [1], payload: 0 },
      { priority: 1, lo: [2, 0], hi: [1, 1], payload: 0 },
      { priority: 1, lo: [0, 0], hi: [256, 1], payload: 0 },
      { priority: 1.5, lo: [0, 0], hi: [1, 1], payload: 0 },
    ];
    for (const spec of bad) {
      expect(() => rc.insert(spec)).toThrow();
      try {
        rc.insert(spec);
      } catch (e) {
        expect(isSimError(e) && e.code).toBe("BAD_VALUE");
      }
    }
    expect(() => new RangeClassifier({ fields: [33] })).toThrow(/field width/);
    expect(() => new RangeClassifier({ fields: [8], leafSize: 0 })).toThrow(/leafSize/);
    expect(() => new RangeClassifier({ fields: [8], wideTop: -1 })).toThrow(/wideTop/);
    expect(() => new RangeClassifier({ fields: [8], wideTop: 1.5 })).toThrow(/wideTop/);
    expect(() => rc.lookup(Uint32Array.of(1))).toThrow(/fewer than 2 fields/);
    expect(rc.size).toBe(0);
  });

  it("answers, removes and keeps removed rules readable", () => {
    const rc = new RangeClassifier<string>({ fields: CLASSBENCH_FIELDS });
    const any = [0, 0, 0, 0, 0];
    const all = [0xffffffff, 0xffffffff, 65535, 65535, 255];
    const deny = rc.insert({ priority: 1, lo: any, hi: all, payload: "deny" });
    const allow = rc.insert({
      priority: 10,
      lo: [0x0a000000, 0, 0, 1024, 6],
      hi: [0x0affffff, 0xffffffff, 65535, 65535, 6],
      payload: "allow",
    });
    const k = Uint32Array.of(0x0a010203, 0xc0a80001, 40000, 8080, 6);
    expect(rc.lookup(k)?.payload).toBe("allow");
    expect(rc.lookup(Uint32Array.of(0x0a010203, 0xc0a80001, 40000, 80, 6))?.payload).toBe("deny");
    expect(Array.from(allow.hi)).toEqual([0x0affffff, 0xffffffff, 65535, 65535, 6]);
    expect(rc.rules().map((r) => r.payload)).toEqual(["allow", "deny"]);
    expect(rc.remove(allow)).toBe(true);
    expect(rc.remove(allow)).toBe(false);
    expect(Array.from(allow.lo)).toEqual([0x0a000000, 0, 0, 1024, 6]);
    expect(rc.lookup(k)).toBe(deny);
    expect(rc.remove(deny)).toBe(true);
    expect(rc.lookup(k)).toBeUndefined();
    expect(rc.size).toBe(0);
  });

  it.each(["acl1_1k", "fw1_1k", "ipc1_1k"])(
    "%s: every classifier gives the linear scan's filter on boundary and trace packets",
    (name) => {
      const filters = parseClassBench(readFileSync(path.join(cbDir, name), "utf8"), name);
      const ranges = classBenchToRanges(filters);
      const rc = new RangeClassifier<number>({ fields: CLASSBENCH_FIELDS, leafSize: 4 });
      const rl = new RangeLinearClassifier<number>({ fields: CLASSBENCH_FIELDS });
      for (const s of ranges) {
        rc.insert(s);
        rl.insert(s);
      }
      // The value/mask classifiers over the flow key, with ports expanded to prefixes.
      const specs = classBenchToRules(filters);
      const tss = new Classifier<number>();
      const tm = new TupleMergeClassifier<number>();
      const lin = new LinearClassifier<number>();
      for (const s of specs) {
        tss.insert(s);
        tm.insert(s);
        lin.insert(s);
      }
      const headers = [
        ...boundaryHeaders(
          ranges.map((r) => Array.from(r.lo)),
          ranges.map((r) => Array.from(r.hi)),
        ),
        ...classBenchTrace(filters, 2000, 3),
      ];
      const keys = headersToRangeKeys(headers);
      const fk = new Uint32Array(FLOW_WORDS);
      let hits = 0;
      for (let i = 0; i < headers.length; i++) {
        const want = rl.lookup(keys, 5 * i)?.payload;
        if (want !== undefined) hits++;
        expect(rc.lookup(keys, 5 * i)?.payload).toBe(want);
        headerToKey(headers[i]!, fk);
        expect(lin.lookup(fk)?.payload).toBe(want);
        expect(tss.lookup(fk)?.payload).toBe(want);
        expect(tm.lookup(fk)?.payload).toBe(want);
      }
      expect(headers.length).toBeGreaterThan(5000);
      expect(hits).toBeGreaterThan(headers.length / 2);
    },
  );

  it("acl1_1k: deleting every other filter and re-inserting keeps the linear scan's answers", () => {
    const filters = parseClassBench(readFileSync(path.join(cbDir, "acl1_1k"), "utf8"), "acl1_1k");
    const ranges = classBenchToRanges(filters);
    const rc = new RangeClassifier<number>({ fields: CLASSBENCH_FIELDS });
    const rules = ranges.map((s) => rc.insert(s));
    const keys = headersToRangeKeys(classBenchTrace(filters, 3000, 9));
    const check = (live: (i: number) => boolean): void => {
      const rl = new RangeLinearClassifier<number>({ fields: CLASSBENCH_FIELDS });
      ranges.forEach((s, i) => {
        if (live(i)) rl.insert(s);
      });
      for (let o = 0; o < keys.length; o += 5)
        expect(rc.lookup(keys, o)?.payload).toBe(rl.lookup(keys, o)?.payload);
    };
    for (let i = 0; i < rules.length; i += 2) expect(rc.remove(rules[i]!)).toBe(true);
    expect(rc.size).toBe(rules.length >> 1);
    check((i) => i % 2 === 1);
    // Re-inserted filters are newer, but keep their priority (n − i), so answers return.
    for (let i = 0; i < rules.length; i += 2) rc.insert(ranges[i]!);
    check(() => true);
  });
});

// ---- fast-check: random rule sets, insert/delete sequences, boundary and random keys ----

const FIELDS = [32, 16, 8];
const MAXF = [0xffffffff, 0xffff, 0xff];
// Few distinct end points per field so that ranges overlap, nest and share boundaries.
const POINTS = [
  [0, 1, 0x0a000000, 0x0a00ffff, 0x0a0000ff, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff],
  [0, 1, 79, 80, 1023, 1024, 0x7fff, 0x8000, 0xffff],
  [0, 1, 6, 17, 127, 128, 255],
];
const arbRange = (f: number): fc.Arbitrary<[number, number]> =>
  fc
    .tuple(
      fc.oneof(fc.constantFrom(...POINTS[f]!), fc.integer({ min: 0, max: MAXF[f]! })),
      fc.oneof(fc.constantFrom(...POINTS[f]!), fc.integer({ min: 0, max: MAXF[f]! })),
    )
    .map(([a, b]) => (a <= b ? [a, b] : [b, a]));
const arbSpec = fc.record({
  priority: fc.integer({ min: 0, max: 6 }),
  r: fc.tuple(arbRange(0), arbRange(1), arbRange(2)),
});
type Op = { t: "ins"; spec: { priority: number; r: [number, number][] } } | { t: "rm"; i: number };
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: arbSpec.map((spec) => ({ t: "ins" as const, spec })) },
  { weight: 1, arbitrary: fc.nat({ max: 1000 }).map((i) => ({ t: "rm" as const, i })) },
);
const arbOpts: fc.Arbitrary<RangeTreeOptions> = fc.record({
  fields: fc.constant(FIELDS),
  leafSize: fc.integer({ min: 1, max: 6 }),
  maxReplication: fc.constantFrom(1, 1.25, 2),
  cutBits: fc.integer({ min: 1, max: 8 }),
  partitionFields: fc.constantFrom([0], [0, 1], [], [2, 0, 1]),
  wideTop: fc.integer({ min: 0, max: 4 }),
});

function keysFor(rules: readonly RangeRule<number>[], extra: readonly number[][]): Uint32Array {
  const ks: number[][] = [...extra];
  for (const r of rules)
    for (let f = 0; f < FIELDS.length; f++)
      for (const v of [r.lo[f]! - 1, r.lo[f]!, r.hi[f]!, r.hi[f]! + 1]) {
        if (v < 0 || v > MAXF[f]!) continue;
        const k = Array.from(r.lo);
        k[f] = v;
        ks.push(k);
      }
  return Uint32Array.from(ks.flat());
}

describe("RangeClassifier (property)", () => {
  it("a wide partition of overlapping any/any rules (ipc1's wide leaf) answers as the linear scan through deletes that empty it", () => {
    // Rules wide in both addresses (so in the wide partition, whose top entries a lookup scans
    // before the tree), nested port and protocol ranges, interleaved priorities with ties,
    // beside narrow rules that often hold a better match.
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 12 }),
        fc.array(
          fc.record({
            wide: fc.boolean(),
            priority: fc.integer({ min: 0, max: 20 }),
            r: fc.tuple(arbRange(1), arbRange(2)),
            a: arbRange(0),
          }),
          { minLength: 1, maxLength: 50 },
        ),
        fc.array(fc.nat({ max: 1000 }), { maxLength: 60 }),
        (wideTop, specs, dels) => {
          const opts = { fields: FIELDS, leafSize: 2, partitionFields: [0], wideTop };
          const rc = new RangeClassifier<number>(opts);
          const lin = new RangeLinearClassifier<number>({ fields: FIELDS });
          const live: [RangeRule<number>, RangeRule<number>][] = [];
          specs.forEach((sp, i) => {
            const a: [number, number] = sp.wide
              ? [0, 0xffffffff]
              : [sp.a[0], Math.min(sp.a[1], sp.a[0] + 0xff)];
            const spec = {
              priority: sp.priority,
              lo: [a[0], sp.r[0][0], sp.r[1][0]],
              hi: [a[1], sp.r[0][1], sp.r[1][1]],
              payload: i,
            };
            live.push([rc.insert(spec), lin.insert(spec)]);
          });
          const check = (): void => {
            const keys = keysFor(
              live.map((p) => p[1]),
              [],
            );
            for (let o = 0; o < keys.length; o += 3)
              expect(rc.lookup(keys, o)?.payload).toBe(lin.lookup(keys, o)?.payload);
          };
          check();
          // Delete until empty (the wide partition empties on the way), checking as we go.
          for (const d of dels) {
            if (live.length === 0) break;
            const [a, b] = live.splice(d % live.length, 1)[0]!;
            expect(rc.remove(a)).toBe(true);
            expect(lin.remove(b)).toBe(true);
            check();
          }
          while (live.length > 0) {
            const [a, b] = live.pop()!;
            rc.remove(a);
            lin.remove(b);
          }
          check();
          expect(rc.lookup(Uint32Array.of(0, 0, 0))).toBeUndefined();
        },
      ),
      { numRuns: 200, seed: 151 },
    );
  });

  it("per-field bucket bounds skip only trees that cannot win: checked after every insert and delete, at bucket edges, through trims", () => {
    // Rules spread over two and three partitions with priorities that interleave, so that a
    // lookup often holds a match when it reaches the next tree and its bucket bounds decide;
    // keys sit on the edges of the 8-bit buckets (v = c·2^24 and c·2^24 − 1 on the address,
    // c·256 ± 0 / − 1 on the port) as well as at each rule's lo−1 / lo / hi / hi+1. Deletes that
    // take out a bucket's best, inserts while its bound is stale and re-inserts after the
    // arenas were trimmed (leaves without spare room) all happen with lookups in between.
    const edge = (f: number): fc.Arbitrary<number> =>
      f === 0
        ? fc
            .integer({ min: 0, max: 255 })
            .chain((c) => fc.constantFrom(c * 2 ** 24, Math.max(0, c * 2 ** 24 - 1)))
        : f === 1
          ? fc.integer({ min: 0, max: 255 }).chain((c) => fc.constantFrom(c * 256, Math.max(0, c * 256 - 1)))
          : fc.integer({ min: 0, max: 255 });
    const arbEdgeRange = (f: number): fc.Arbitrary<[number, number]> =>
      fc.oneof(
        fc.constant<[number, number]>([0, MAXF[f]!]),
        fc
          .tuple(
            fc.oneof(
              edge(f),
              arbRange(f).map((r) => r[0]),
            ),
            fc.oneof(
              edge(f),
              arbRange(f).map((r) => r[1]),
            ),
          )
          .map(([a, b]): [number, number] => (a <= b ? [a, b] : [b, a])),
      );
    fc.assert(
      fc.property(
        fc.constantFrom([0], [0, 1]),
        fc.array(
          fc.record({
            priority: fc.integer({ min: 0, max: 30 }),
            r: fc.tuple(arbEdgeRange(0), arbEdgeRange(1), arbEdgeRange(2)),
            rm: fc.nat({ max: 1000 }),
            del: fc.boolean(),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.array(fc.tuple(edge(0), edge(1), edge(2)), { maxLength: 12 }),
        (partitionFields, steps, extra) => {
          const rc = new RangeClassifier<number>({ fields: FIELDS, leafSize: 3, partitionFields });
          const lin = new RangeLinearClassifier<number>({ fields: FIELDS });
          const live: [RangeRule<number>, RangeRule<number>][] = [];
          const check = (): void => {
            const keys = keysFor(
              live.map((p) => p[1]),
              extra,
            );
            for (let o = 0; o < keys.length; o += 3)
              expect(rc.lookup(keys, o)?.payload).toBe(lin.lookup(keys, o)?.payload);
          };
          steps.forEach((st, i) => {
            const spec = {
              priority: st.priority,
              lo: st.r.map((x) => x[0]),
              hi: st.r.map((x) => x[1]),
              payload: i,
            };
            live.push([rc.insert(spec), lin.insert(spec)]);
            check();
            if (st.del && live.length > 0) {
              const [a, b] = live.splice(st.rm % live.length, 1)[0]!;
              expect(rc.remove(a)).toBe(true);
              expect(lin.remove(b)).toBe(true);
              check();
            }
          });
          // Re-insert what is left (newer copies, same priorities) after the trims above.
          for (const [, b] of live.slice()) {
            const spec = {
              priority: b.priority,
              lo: Array.from(b.lo),
              hi: Array.from(b.hi),
              payload: b.payload + 1000,
            };
            live.push([rc.insert(spec), lin.insert(spec)]);
          }
          check();
        },
      ),
      { numRuns: 150, seed: 1515 },
    );
  });

  it("gives the linear scan's answer after any insert/delete sequence, on boundary and random keys", () => {
    const arbKey = fc.tuple(
      ...MAXF.map((m, f) => fc.oneof(fc.constantFrom(...POINTS[f]!), fc.integer({ min: 0, max: m }))),
    );
    fc.assert(
      fc.property(
        arbOpts,
        fc.array(arbOp, { maxLength: 60 }),
        fc.array(arbKey, { maxLength: 20 }),
        (opts, ops, extra) => {
          const rc = new RangeClassifier<number>(opts);
          const lin = new RangeLinearClassifier<number>(opts as RangeClassifierOptions);
          const live: [RangeRule<number>, RangeRule<number>][] = [];
          let n = 0;
          const check = (): void => {
            const keys = keysFor(
              live.map((p) => p[1]),
              extra,
            );
            for (let o = 0; o < keys.length; o += 3) {
              const a = rc.lookup(keys, o);
              const b = lin.lookup(keys, o);
              expect(a?.payload).toBe(b?.payload);
            }
            expect(rc.size).toBe(lin.size);
          };
          for (const op of ops) {
            if (op.t === "ins") {
              const spec = {
                priority: op.spec.priority,
                lo: op.spec.r.map((x: [number, number]) => x[0]),
                hi: op.spec.r.map((x: [number, number]) => x[1]),
                payload: n++,
              };
              live.push([rc.insert(spec), lin.insert(spec)]);
            } else if (live.length > 0) {
              const [a, b] = live.splice(op.i % live.length, 1)[0]!;
              expect(rc.remove(a)).toBe(true);
              expect(lin.remove(b)).toBe(true);
              expect(rc.remove(a)).toBe(false);
            }
            if (n % 7 === 0) check();
          }
          check();
        },
      ),
      { numRuns: 300, seed: 15 },
    );
  });

  it("classifiers whose trees differ in number, kind and cut share compiled lookups without mixing them up (interleaved, through recuts and emptied trees)", () => {
    // The lookup code is compiled per sequence of trees (cut field and shift) and shared by
    // every classifier with that sequence; each classifier swaps its own on publish.
    const arbKey = fc.tuple(
      ...MAXF.map((m, f) => fc.oneof(fc.constantFrom(...POINTS[f]!), fc.integer({ min: 0, max: m }))),
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(arbOpts, fc.array(arbOp, { maxLength: 40 })), { minLength: 2, maxLength: 4 }),
        fc.array(arbKey, { maxLength: 8 }),
        (sets, extra) => {
          const pairs = sets.map(([opts]) => ({
            rc: new RangeClassifier<number>({ ...opts, cutBits: 2 }),
            lin: new RangeLinearClassifier<number>(opts as RangeClassifierOptions),
            live: [] as [RangeRule<number>, RangeRule<number>][],
          }));
          const longest = Math.max(...sets.map(([, ops]) => ops.length));
          let n = 0;
          for (let step = 0; step <= longest; step++) {
            sets.forEach(([, ops], c) => {
              const op = ops[step];
              const p = pairs[c]!;
              if (op?.t === "ins") {
                const spec = {
                  priority: op.spec.priority,
                  lo: op.spec.r.map((x: [number, number]) => x[0]),
                  hi: op.spec.r.map((x: [number, number]) => x[1]),
                  payload: n++,
                };
                p.live.push([p.rc.insert(spec), p.lin.insert(spec)]);
              } else if (op?.t === "rm" && p.live.length > 0) {
                const [a, b] = p.live.splice(op.i % p.live.length, 1)[0]!;
                p.rc.remove(a);
                p.lin.remove(b);
              }
            });
            // Every classifier answers its own keys, one key at a time across classifiers.
            const keys = pairs.map((p) =>
              keysFor(
                p.live.map((x) => x[1]),
                extra,
              ),
            );
            const most = Math.max(...keys.map((k) => k.length));
            for (let o = 0; o < most; o += 3)
              pairs.forEach((p, c) => {
                if (o < keys[c]!.length)
                  expect(p.rc.lookup(keys[c]!, o)?.payload).toBe(p.lin.lookup(keys[c]!, o)?.payload);
              });
          }
        },
      ),
      { numRuns: 60, seed: 10 },
    );
  });
});
