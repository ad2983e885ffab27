// The check upstream tests/test-classifier.c makes (compare_classifiers): for random rule sets
// drawn from a small pool of masks (so subtables share masks), random priorities with ties,
// removals, replacements and batches, the tuple-space classifier returns exactly the rule the
// linear scan returns. Plus the megaflow property: any key that agrees with a looked-up key on
// the reported wildcard bits gets the same rule.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  Classifier,
  type ClassifierOptions,
  LinearClassifier,
  type Rule,
  TupleMergeClassifier,
} from "../src/index.js";

// A 6-word layout: 0 "metadata" | 1-2 "L2" | 3 "L3" address (prefix trie) | 4-5 "L4" 16-bit ports.
const N = 6;
const OPTS: ClassifierOptions = {
  nWords: N,
  stageEnds: [1, 3, 4, 6],
  tries: [{ word: 3, prereq: { word: 2, mask: 0xffff, value: 0x0800 } }],
  ports: { src: 4, dst: 5 },
  prefilterTries: [
    { word: 5, bits: 16, bitOffset: 16 },
    { word: 4, bits: 16, bitOffset: 16 },
  ],
  prefilterMinSubtables: 1,
};
const plen = (n: number, bits = 32): number => (n === 0 ? 0 : ((~0 << (32 - n)) >>> (32 - bits)) >>> 0) >>> 0;

// Word-value domains: small, so that rules and keys collide often.
const DOMAIN: readonly (readonly number[])[] = [
  [0, 1, 2, 0xfffffffe],
  [0, 0xaaaa, 0x5555],
  [0x0800, 0x0806, 0],
  [0x0a000000, 0x0a010000, 0x0a010203, 0xc0a80001, 0xc0a80101, 0x80000000],
  [0, 80, 1024, 1025, 65535],
  [0, 22, 79, 80, 443, 0x40, 0xffff],
];
const arbMaskWord = (w: number): fc.Arbitrary<number> => {
  if (w === 3)
    return fc.oneof(
      fc.constantFrom(0, 0xffffffff, 0x0f0f0f0f),
      fc.integer({ min: 0, max: 32 }).map((n) => plen(n)),
    );
  if (w >= 4)
    return fc.oneof(
      fc.constantFrom(0, 0xffff, 0x00f0),
      fc.integer({ min: 0, max: 16 }).map((n) => plen(n, 16)),
    );
  return fc.constantFrom(0, 0xffffffff, 0xffff, 0x1);
};
const arbMask = fc
  .tuple(...Array.from({ length: N }, (_, w) => arbMaskWord(w)))
  .map((m) => Uint32Array.from(m));
const arbKey = fc
  .tuple(
    ...DOMAIN.map((d) =>
      fc.oneof(
        { weight: 4, arbitrary: fc.constantFrom(...d) },
        { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffffffff }) },
      ),
    ),
  )
  .map((k) => Uint32Array.from(k.map((x, w) => (w >= 4 ? x & 0xffff : x))));

type Op =
  | { t: "ins"; mask: number; key: Uint32Array; pri: number }
  | { t: "rm"; i: number }
  | { t: "rep"; i: number }
  | { t: "begin" }
  | { t: "commit" }
  | { t: "abort" };

const arbOp = (nMasks: number): fc.Arbitrary<Op> =>
  fc.oneof(
    {
      weight: 8,
      arbitrary: fc.record({
        t: fc.constant("ins" as const),
        mask: fc.nat(nMasks - 1),
        key: arbKey,
        pri: fc.constantFrom(0, 1, 5, 5, 10, 65535),
      }),
    },
    { weight: 2, arbitrary: fc.record({ t: fc.constant("rm" as const), i: fc.nat(1000) }) },
    { weight: 1, arbitrary: fc.record({ t: fc.constant("rep" as const), i: fc.nat(1000) }) },
    { weight: 1, arbitrary: fc.constant({ t: "begin" as const }) },
    { weight: 1, arbitrary: fc.constant({ t: "commit" as const }) },
    { weight: 1, arbitrary: fc.constant({ t: "abort" as const }) },
  );

const scenario = fc.array(arbMask, { minLength: 1, maxLength: 6 }).chain((masks) =>
  fc.record({
    masks: fc.constant(masks),
    ops: fc.array(arbOp(masks.length), { minLength: 1, maxLength: 60 }),
    keys: fc.array(arbKey, { minLength: 1, maxLength: 12 }),
    noise: fc.array(fc.tuple(...Array.from({ length: N }, () => fc.integer({ min: 0, max: 0xffffffff }))), {
      minLength: 1,
      maxLength: 4,
    }),
  }),
);

function same(a: Rule<number> | undefined, b: Rule<number> | undefined): boolean {
  return a === undefined ? b === undefined : b !== undefined && a.id === b.id && a.payload === b.payload;
}

describe("Classifier vs LinearClassifier (compare_classifiers)", () => {
  it("returns the linear scan's rule for random rules, removals, replaces and batches; megaflows hold", () => {
    fc.assert(
      fc.property(scenario, ({ masks, ops, keys, noise }) => {
        const fast = new Classifier<number>(OPTS);
        const lin = new LinearClassifier<number>(OPTS);
        const tm = new TupleMergeClassifier<number>({ ...OPTS, bucketLimit: 2, relaxBits: 4 });
        const fastRules: Rule<number>[] = [];
        const linRules: Rule<number>[] = [];
        const tmRules: Rule<number>[] = [];
        let payload = 0;
        const check = () => {
          expect(fast.size).toBe(lin.size);
          expect(tm.size).toBe(lin.size);
          for (const key of keys) {
            const a = fast.lookup(key);
            const b = lin.lookup(key);
            expect(same(a, b)).toBe(true);
            const wcTm = new Uint32Array(N);
            const t = tm.lookup(key, wcTm);
            expect(same(t, b)).toBe(true);
            for (const nz of noise) {
              const k2 = Uint32Array.from(key, (x, w) => ((x & wcTm[w]!) | (nz[w]! & ~wcTm[w]!)) >>> 0);
              expect(same(tm.lookup(k2), t)).toBe(true);
            }
            const wc = new Uint32Array(N);
            const c = fast.lookup(key, wc);
            expect(same(a, c)).toBe(true);
            for (const nz of noise) {
              // Any key that agrees with `key` on the wildcard bits gets the same answer.
              const k2 = Uint32Array.from(key, (x, w) => ((x & wc[w]!) | (nz[w]! & ~wc[w]!)) >>> 0);
              expect(same(fast.lookup(k2), c)).toBe(true);
              expect(same(lin.lookup(k2), c)).toBe(true);
            }
          }
        };
        for (const op of ops) {
          switch (op.t) {
            case "ins": {
              const mask = masks[op.mask]!;
              const value = Uint32Array.from(op.key, (x, w) => (x & mask[w]!) >>> 0);
              const spec = { priority: op.pri, value, mask, payload: payload++ };
              let ea: unknown;
              let eb: unknown;
              let ra: Rule<number> | undefined;
              let rb: Rule<number> | undefined;
              let rt: Rule<number> | undefined;
              try {
                rt = tm.insert(spec);
              } catch {}
              try {
                ra = fast.insert(spec);
              } catch (e) {
                ea = e;
              }
              try {
                rb = lin.insert(spec);
              } catch (e) {
                eb = e;
              }
              expect((ea as Error | undefined)?.message).toBe((eb as Error | undefined)?.message);
              expect(rt?.id).toBe(ra?.id);
              if (ra && rb && rt) {
                fastRules.push(ra);
                linRules.push(rb);
                tmRules.push(rt);
              }
              break;
            }
            case "rm": {
              if (fastRules.length === 0) break;
              const i = op.i % fastRules.length;
              const ok = lin.remove(linRules[i]!);
              expect(fast.remove(fastRules[i]!)).toBe(ok);
              expect(tm.remove(tmRules[i]!)).toBe(ok);
              break;
            }
            case "rep": {
              if (fastRules.length === 0) break;
              const i = op.i % fastRules.length;
              const r = fastRules[i]!;
              const spec = { priority: r.priority, value: r.value, mask: r.mask, payload: payload++ };
              const oa = fast.replace(spec);
              const ob = lin.replace(spec);
              expect(same(oa, ob)).toBe(true);
              expect(same(tm.replace(spec), ob)).toBe(true);
              tmRules.push(tm.findExactly(r.value, r.mask, r.priority)!);
              fastRules.push(fast.findExactly(r.value, r.mask, r.priority)!);
              linRules.push(lin.findExactly(r.value, r.mask, r.priority)!);
              break;
            }
            case "begin":
              if (!fast.batching) {
                fast.beginBatch();
                lin.beginBatch();
                tm.beginBatch();
              }
              break;
            case "commit":
              if (fast.batching) {
                fast.commit();
                lin.commit();
                tm.commit();
              }
              break;
            case "abort":
              if (fast.batching) {
                fast.abortBatch();
                lin.abortBatch();
                tm.abortBatch();
              }
              break;
          }
          check();
        }
        expect(fast.rules().map((r) => r.id)).toEqual(lin.rules().map((r) => r.id));
        expect(tm.rules().map((r) => r.id)).toEqual(lin.rules().map((r) => r.id));
      }),
      { numRuns: 300, seed: 42 },
    );
  });

  it("agrees on the OVS flow-key layout too (default stages, tries and ports trie)", async () => {
    const { FLOW_WORDS, W } = await import("@ovnsim/packet");
    const fields = [W.in_port, W.dl_type, W.nw_src, W.nw_dst, W.nw_proto, W.tp_src, W.tp_dst];
    const vals = [
      [1, 2],
      [0x0800, 0x86dd],
      [0x0a000001, 0x0a000101, 0xc0a80001],
      [0x0a000002, 0x0b000002, 0xc0a80002],
      [6, 17],
      [80, 1024, 8080],
      [22, 80, 79, 443],
    ];
    const arbFlowMask = fc
      .tuple(
        ...fields.map((f) =>
          f === W.nw_src || f === W.nw_dst
            ? fc.integer({ min: 0, max: 32 }).map((n) => plen(n))
            : f === W.tp_src || f === W.tp_dst
              ? fc.oneof(
                  fc.constantFrom(0, 0xffff),
                  fc.integer({ min: 0, max: 16 }).map((n) => plen(n, 16)),
                )
              : fc.constantFrom(0, 0xffff),
        ),
      )
      .map((ms) => {
        const m = new Uint32Array(FLOW_WORDS);
        fields.forEach((f, i) => {
          m[f] = ms[i]!;
        });
        return m;
      });
    const arbFlowKey = fc.tuple(...vals.map((v) => fc.constantFrom(...v))).map((vs) => {
      const k = new Uint32Array(FLOW_WORDS);
      fields.forEach((f, i) => {
        k[f] = vs[i]!;
      });
      return k;
    });
    fc.assert(
      fc.property(
        fc.array(arbFlowMask, { minLength: 1, maxLength: 16 }).chain((masks) =>
          fc.record({
            rules: fc.array(fc.tuple(fc.nat(masks.length - 1), arbFlowKey, fc.constantFrom(1, 2, 2, 3)), {
              maxLength: 60,
            }),
            masks: fc.constant(masks),
            keys: fc.array(arbFlowKey, { minLength: 1, maxLength: 10 }),
          }),
        ),
        ({ rules, masks, keys }) => {
          const fast = new Classifier<number>({ prefilterMinSubtables: 2 });
          const lin = new LinearClassifier<number>();
          rules.forEach(([mi, k, pri], i) => {
            const mask = masks[mi]!;
            const value = Uint32Array.from(k, (x, w) => (x & mask[w]!) >>> 0);
            if (fast.findExactly(value, mask, pri)) return;
            fast.insert({ priority: pri, value, mask, payload: i });
            lin.insert({ priority: pri, value, mask, payload: i });
          });
          for (const key of keys) {
            const wc = new Uint32Array(FLOW_WORDS);
            const a = fast.lookup(key, wc);
            expect(same(a, lin.lookup(key))).toBe(true);
            // Flip every wildcarded bit among the fields: same answer.
            const k2 = Uint32Array.from(key, (x, w) => (x ^ ~wc[w]!) >>> 0);
            expect(same(fast.lookup(k2), a)).toBe(true);
            expect(same(lin.lookup(k2), a)).toBe(true);
          }
        },
      ),
      { numRuns: 400, seed: 7 },
    );
  });
});
