// Packed (miniflow-style) keys: `lookupPacked(layout, packed, offset)` must give the rule the
// linear scan gives for the full key the packed key stands for (the layout's words, every
// other word zero), on one-mask tables (the generated probe) and many-mask tables (the
// unpacking path), with inserts, removals and batches; and KeyLayout rejects bad input with
// SimError BAD_VALUE.
import { FLOW_WORDS, isSimError, SimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Classifier, KeyLayout, LinearClassifier, ovsBenchmark, type Rule } from "../src/index.js";

const N = 6;
const OPTS = { nWords: N, stageEnds: [1, 3, 4, 6], tries: [], ports: null } as const;
const DOMAIN = [0, 1, 2, 0x80000000, 0xffffffff];
const arbKey = fc
  .array(fc.oneof(fc.constantFrom(...DOMAIN), fc.integer({ min: 0, max: 0xffffffff })), {
    minLength: N,
    maxLength: N,
  })
  .map((k) => Uint32Array.from(k));
const arbMask = fc
  .array(fc.constantFrom(0, 0xffffffff, 0xffff, 0x80000001), { minLength: N, maxLength: N })
  .map((m) => Uint32Array.from(m));

type Op = { t: "ins"; mask: number; key: Uint32Array; pri: number } | { t: "rm"; i: number } | { t: "batch" };

const scenario = fc.integer({ min: 1, max: 3 }).chain((nMasks) =>
  fc.record({
    masks: fc.array(arbMask, { minLength: nMasks, maxLength: nMasks }),
    ops: fc.array(
      fc.oneof(
        {
          weight: 6,
          arbitrary: fc.record({
            t: fc.constant("ins" as const),
            mask: fc.nat(nMasks - 1),
            key: arbKey,
            pri: fc.constantFrom(0, 1, 5, 5, 100),
          }),
        },
        { weight: 2, arbitrary: fc.record({ t: fc.constant("rm" as const), i: fc.nat(1000) }) },
        { weight: 1, arbitrary: fc.constant({ t: "batch" as const }) },
      ) as fc.Arbitrary<Op>,
      { minLength: 1, maxLength: 40 },
    ),
    keys: fc.array(arbKey, { minLength: 1, maxLength: 8 }),
    layout: fc.subarray([0, 1, 2, 3, 4, 5]),
  }),
);

const same = (a: Rule<number> | undefined, b: Rule<number> | undefined): boolean =>
  a === undefined ? b === undefined : b !== undefined && a.id === b.id;

describe("lookupPacked", () => {
  it("gives the linear scan's rule for the packed key's full key (random tables, layouts, batches)", () => {
    fc.assert(
      fc.property(scenario, ({ masks, ops, keys, layout: words }) => {
        const fast = new Classifier<number>(OPTS);
        const lin = new LinearClassifier<number>(OPTS);
        const layout = new KeyLayout(words);
        const fr: Rule<number>[] = [];
        const lr: Rule<number>[] = [];
        const packed = new Uint32Array(3 + keys.length * layout.size);
        for (const [i, k] of keys.entries()) layout.pack(k, packed, 3 + i * layout.size);
        const full = new Uint32Array(N);
        const check = (): void => {
          keys.forEach((k, i) => {
            layout.unpack(packed, 3 + i * layout.size, full);
            // The full key agrees with k on the layout's words and is 0 elsewhere.
            for (let w = 0; w < N; w++) expect(full[w]).toBe(words.includes(w) ? k[w] : 0);
            // Several times, past the generated finder's threshold of the plain lookup too.
            for (let r = 0; r < 3; r++)
              expect(same(fast.lookupPacked(layout, packed, 3 + i * layout.size), lin.lookup(full))).toBe(
                true,
              );
          });
        };
        let payload = 0;
        for (const op of ops) {
          if (op.t === "ins") {
            const mask = masks[op.mask]!;
            const spec = {
              priority: op.pri,
              value: Uint32Array.from(op.key, (x, w) => (x & mask[w]!) >>> 0),
              mask,
              payload: payload++,
            };
            let a: Rule<number> | undefined;
            let b: Rule<number> | undefined;
            try {
              a = fast.insert(spec);
            } catch {}
            try {
              b = lin.insert(spec);
            } catch {}
            expect(a?.id).toBe(b?.id);
            if (a && b) {
              fr.push(a);
              lr.push(b);
            }
          } else if (op.t === "rm") {
            if (fr.length === 0) continue;
            const i = op.i % fr.length;
            expect(fast.remove(fr[i]!)).toBe(lin.remove(lr[i]!));
          } else if (fast.batching) {
            fast.commit();
            lin.commit();
          } else {
            fast.beginBatch();
            lin.beginBatch();
          }
          check();
        }
      }),
      { numRuns: 300, seed: 7 },
    );
  });

  it("answers as the linear scan with narrow fields at any bit offset sharing row words (growth, removals)", () => {
    // Masks whose bit spans pack several to a row word (lo > 0, pos > 0), over tables large
    // enough to rehash, then with half the rules removed (backward-shift deletes of tagged slots).
    const narrow = [0xffff0000, 0xff00, 0xfc, 0x3f, 0x80000000, 1, 0xffffffff, 0x0ff0, 0];
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...narrow), { minLength: N, maxLength: N }),
        fc.array(arbKey, { minLength: 1, maxLength: 300 }),
        fc.array(arbKey, { minLength: 1, maxLength: 20 }),
        fc.subarray([0, 1, 2, 3, 4, 5], { minLength: 1 }),
        (m, values, probes, words) => {
          const mask = Uint32Array.from(m);
          const fast = new Classifier<number>(OPTS);
          const lin = new LinearClassifier<number>(OPTS);
          const fr: Rule<number>[] = [];
          const lr: Rule<number>[] = [];
          values.forEach((v, i) => {
            const spec = {
              priority: i % 3,
              value: Uint32Array.from(v, (x, w) => (x & mask[w]!) >>> 0),
              mask,
              payload: i,
            };
            try {
              fr.push(fast.insert(spec));
              lr.push(lin.insert(spec));
            } catch {}
          });
          const layout = new KeyLayout(words);
          const packed = new Uint32Array(layout.size);
          const full = new Uint32Array(N);
          const check = (): void => {
            for (const k of [...probes, ...values.slice(0, 40)]) {
              layout.pack(k, packed);
              layout.unpack(packed, 0, full);
              const want = lin.lookup(full);
              expect(same(fast.lookupPacked(layout, packed, 0), want)).toBe(true);
              // Past FAST_AFTER probes the plain lookup runs its generated finder.
              for (let r = 0; r < 3; r++) expect(same(fast.lookup(full), want)).toBe(true);
              expect(same(fast.lookup(k), lin.lookup(k))).toBe(true);
            }
          };
          check();
          for (let i = 0; i < fr.length; i += 2) expect(fast.remove(fr[i]!)).toBe(lin.remove(lr[i]!));
          check();
        },
      ),
      { numRuns: 150, seed: 11 },
    );
  });

  it("packs the ovstest benchmark flows to the mask's 17 words and answers as lookup does", () => {
    const w = ovsBenchmark(1000, 4, 8, 3000);
    const one = new Classifier<number>();
    for (const r of w.rules) one.insert(r);
    const used: number[] = [];
    for (let i = 0; i < FLOW_WORDS; i++) if (w.rules[0]!.mask[i] !== 0) used.push(i);
    const layout = new KeyLayout(used);
    expect(layout.size).toBe(17);
    const packed = new Uint32Array(w.flows.length * layout.size);
    for (const [i, f] of w.flows.entries()) layout.pack(f, packed, i * layout.size);
    let hits = 0;
    for (const i of w.lookups) {
      const r = one.lookupPacked(layout, packed, i * layout.size);
      expect(r).toBe(one.lookup(w.flows[i]!));
      if (r) hits++;
    }
    expect(hits).toBeGreaterThan(0);
    // A layout that leaves out a masked word reads it as 0, as an unpacked key would.
    const short = new KeyLayout(used.slice(1));
    const p2 = new Uint32Array(short.size);
    const full = new Uint32Array(FLOW_WORDS);
    for (const f of w.flows.slice(0, 200)) {
      short.pack(f, p2);
      short.unpack(p2, 0, full);
      expect(one.lookupPacked(short, p2, 0)).toBe(one.lookup(full));
    }
  });

  it("rejects bad layouts and offsets with SimError BAD_VALUE", () => {
    for (const bad of [[2, 1], [1, 1], [-1], [1.5], [1024]])
      expect(() => new KeyLayout(bad)).toThrow(/ascending distinct/);
    const c = new Classifier<number>({ nWords: 4 });
    const err = (f: () => unknown): string | undefined => {
      try {
        f();
      } catch (e) {
        return isSimError(e) ? e.code : "other";
      }
      return undefined;
    };
    expect(err(() => c.lookupPacked(new KeyLayout([0, 4]), new Uint32Array(2), 0))).toBe("BAD_VALUE");
    expect(err(() => c.lookupPacked(new KeyLayout([0, 3]), new Uint32Array(3), 2))).toBe("BAD_VALUE");
    expect(err(() => c.lookupPacked(new KeyLayout([0, 3]), new Uint32Array(3), -1))).toBe("BAD_VALUE");
    expect(c.lookupPacked(new KeyLayout([0, 3]), new Uint32Array(3), 1)).toBeUndefined();
    expect(() => new KeyLayout([5]).pack(new Uint32Array(4), new Uint32Array(1))).toThrow(SimError);
    expect(() => new KeyLayout([1]).unpack(new Uint32Array(1), 1, new Uint32Array(4))).toThrow(SimError);
  });
});

describe("README example (packed keys)", () => {
  it("finds nw_dst=10.0.0.1 in the first packed key and nothing in the second", async () => {
    const { W } = await import("@ovnsim/packet");
    const table = new Classifier<string>();
    const value = new Uint32Array(FLOW_WORDS);
    const mask = new Uint32Array(FLOW_WORDS);
    value[W.nw_dst] = 0x0a000001;
    mask[W.nw_dst] = 0xffffffff;
    table.insert({ priority: 10, value, mask, payload: "output:2" });
    const layout = new KeyLayout([W.nw_src, W.nw_dst]);
    const batch = new Uint32Array(2 * layout.size);
    const key = new Uint32Array(FLOW_WORDS);
    key[W.nw_dst] = 0x0a000001;
    layout.pack(key, batch, 0);
    key[W.nw_dst] = 0x0a000002;
    layout.pack(key, batch, layout.size);
    expect(table.lookupPacked(layout, batch, 0)?.payload).toBe("output:2");
    expect(table.lookupPacked(layout, batch, layout.size)).toBeUndefined();
  });
});
