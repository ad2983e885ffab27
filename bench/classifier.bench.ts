/**
 * Flow classifier benchmark (`pnpm bench classifier`, or
 * `npx tsx --conditions=@ovnsim/source bench/classifier.bench.ts [filter]`).
 *
 * Workloads: ClassBench acl1/fw1/ipc1 at 1k and 10k filters (shared/data/classbench/neurocuts,
 * ClassBench-style traces from a fixed seed), and the rules and packets of
 * `ovstest test-classifier benchmark N 4 8 1 N_LOOKUPS` at 1k/10k/100k, whose C figures on this
 * machine class are in docs/performance.md §2.1. Every answer of the tuple-space classifier
 * is checked against the linear scan once before timing. Each figure is the median of 5 runs;
 * the linear-scan baseline is measured in the same process. Figures are printed and written to
 * bench/results/classifier.json; nothing is asserted.
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import v8 from "node:v8";
import vm from "node:vm";
import {
  CLASSBENCH_FIELDS,
  type ClassBenchRule,
  Classifier,
  classBenchToRanges,
  KeyLayout,
  classBenchToRules,
  classBenchTrace,
  headersToRangeKeys,
  headerToKey,
  LinearClassifier,
  lcg,
  type LookupStats,
  ovsBenchmark,
  parseClassBench,
  RangeClassifier,
  RangeLinearClassifier,
  type RangeRuleSpec,
  type RuleSpec,
  TupleMergeClassifier,
} from "../packages/classifier/src/index.js";
import os from "node:os";
import { FLOW_WORDS } from "../packages/packet/src/index.js";
import { cpuMs, type LookupTimer, MIN_RUNS, machine, makeTimer, median, writeResults } from "./lib.js";

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

const root = path.resolve(import.meta.dirname, "..");
const shared = process.env.OVNSIM_SHARED ?? path.resolve(root, "../shared");
const filter = process.argv[2];
const RUNS = MIN_RUNS;
const TARGET_MS = Number(process.env.BENCH_TARGET_MS ?? 150);
/**
 * Rates are computed from CPU time (lib.ts `cpuMs`), not wall time: the 2-core CI box is shared
 * with other jobs, and wall-clock rates there swing with the load average.
 */
const now = cpuMs;

interface Row {
  workload: string;
  family: string;
  filters: number;
  rules: number;
  masks: number;
  lookups: number;
  hitRate: number;
  subtablesPerLookup: number;
  lookupsPerSec: number;
  /** The same lookups over the first 64 keys only: keys in cache, as a pipeline looks one
   * packet's key up table after table. The full set (16,384 random 640-byte keys for ovstest)
   * is bound by reading the keys' cache lines, not by the classifier. */
  lookupsPerSecHotKeys: number;
  lookupsPerSecWc: number;
  /** One-mask tables only (else null): `lookupAt(arena, offset)` over the same keys as one
   * arena (no typed-array view per key), then over its first 64 keys. */
  lookupsPerSecArena: number | null;
  lookupsPerSecArenaHotKeys: number | null;
  /** One-mask tables only (else null): `lookupPacked` over the same keys packed to the words
   * the masks use (KeyLayout, OVS's miniflow), one packed key per lookup in lookup order, as a
   * datapath batch holds its packets' keys; then the packed keys left where the full keys were
   * (each lookup reads a key at a random place, as `arena` does). */
  lookupsPerSecPacked: number | null;
  lookupsPerSecPackedScattered: number | null;
  /** The floor under any lookup of these keys: reading and summing just the key words the
   * rules' masks use (straight-line code, arena offsets), no table. */
  keyReadsPerSec: number;
  baselineLookupsPerSec: number;
  speedup: number;
  tmLookupsPerSec: number;
  tmTables: number;
  tmTablesPerLookup: number;
  tmInsertMs: number;
  tmBytesPerRule: number;
  tmBytesPerRuleHeap: number;
  emcLookupsPerSec: number;
  emcHitRate: number;
  insertMs: number;
  bytesPerRule: number;
  bytesPerRuleHeap: number;
  bytesPerFilter: number;
  checked: number;
}

/** Flow keys as views into one arena (as a datapath batch holds packets, and upstream's
 * benchmark its flows): separately allocated keys scatter over memory and cost more to read
 * than the lookup itself. */
function arenaKeys(keys: readonly Uint32Array[]): Uint32Array[] {
  const a = new Uint32Array(keys.length * FLOW_WORDS);
  return keys.map((k, i) => {
    a.set(k, i * FLOW_WORDS);
    return a.subarray(i * FLOW_WORDS, (i + 1) * FLOW_WORDS);
  });
}

/**
 * A small exact-match cache in front of the classifier, as the datapath's EMC is in front of
 * the megaflow classifier: 8192 entries, 1-way, keyed on a hash of the key's used words.
 * Reported separately: it only helps when headers repeat.
 */
class Emc<T> {
  private readonly keys: Uint32Array[] = [];
  private readonly vals: (T | undefined)[] = [];
  private readonly hashes = new Int32Array(8192).fill(-1);
  hits = 0;
  constructor(
    private readonly inner: (k: Uint32Array) => T | undefined,
    private readonly words: readonly number[],
  ) {
    for (let i = 0; i < 8192; i++) {
      this.keys.push(new Uint32Array(words.length));
      this.vals.push(undefined);
    }
  }
  lookup(k: Uint32Array): T | undefined {
    let h = 0x811c9dc5;
    const ws = this.words;
    for (let i = 0; i < ws.length; i++) h = Math.imul(h ^ k[ws[i]!]!, 0x01000193);
    h = (h ^ (h >>> 15)) & 0x7fffffff;
    const slot = h & 8191;
    const ek = this.keys[slot]!;
    if (this.hashes[slot] === h) {
      let i = 0;
      for (; i < ws.length; i++) if (ek[i] !== k[ws[i]!]) break;
      if (i === ws.length) {
        this.hits++;
        return this.vals[slot];
      }
    }
    const v = this.inner(k);
    this.hashes[slot] = h;
    for (let i = 0; i < ws.length; i++) ek[i] = k[ws[i]!]!;
    this.vals[slot] = v;
    return v;
  }
}

type OffsetTimer = (
  lookup: (a: Uint32Array, o: number) => unknown,
  arena: Uint32Array,
  offs: Int32Array,
  n: number,
) => number;
/** makeTimer for keys given as offsets into one arena (`lookupAt`); a fresh copy per use. */
const makeOffsetTimer = (): OffsetTimer =>
  new Function(
    "now",
    `return function timeAt(lookup, arena, offs, n) {
      const t0 = now();
      let sink = 0;
      const nk = offs.length;
      for (let i = 0, j = 0; i < n; i++) {
        if (lookup(arena, offs[j]) !== undefined) sink++;
        if (++j === nk) j = 0;
      }
      const ms = now() - t0;
      if (sink < 0) throw new Error("unreachable");
      return (n / ms) * 1000;
    };`,
  )(cpuMs) as OffsetTimer;

function heap(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function runWorkload(
  workload: string,
  family: string,
  nFilters: number,
  specs: RuleSpec<number>[],
  keys: Uint32Array[],
  nLookups: number,
  usedWords: readonly number[],
): Row {
  // Build (median insert time; the first lookup publishes the deferred pvector, so it counts).
  const insertTimes: number[] = [];
  let cls = new Classifier<number>();
  for (let r = 0; r < RUNS; r++) {
    cls = undefined as unknown as Classifier<number>;
    gc();
    const t0 = now();
    const c = new Classifier<number>();
    for (const s of specs) c.insert(s);
    c.lookup(keys[0]!);
    insertTimes.push(now() - t0);
    cls = c;
  }
  // Memory: classifier-owned heap growth (rule value/mask arrays belong to the caller).
  cls = undefined as unknown as Classifier<number>;
  const before = heap();
  cls = new Classifier<number>();
  for (const s of specs) cls.insert(s);
  cls.lookup(keys[0]!);
  const bytes = heap() - before;

  // TupleMerge: same rules, same answers.
  const tmTimes: number[] = [];
  let tm = new TupleMergeClassifier<number>();
  for (let r = 0; r < RUNS; r++) {
    tm = undefined as unknown as TupleMergeClassifier<number>;
    gc();
    const t0 = now();
    const c = new TupleMergeClassifier<number>();
    for (const s of specs) c.insert(s);
    c.lookup(keys[0]!);
    tmTimes.push(now() - t0);
    tm = c;
  }
  tm = undefined as unknown as TupleMergeClassifier<number>;
  const tmBefore = heap();
  tm = new TupleMergeClassifier<number>();
  for (const s of specs) tm.insert(s);
  tm.lookup(keys[0]!);
  const tmBytes = heap() - tmBefore;
  const tmStats: LookupStats = { subtables: 0 };

  // Correctness: every key once against the linear scan (with and without wildcards).
  const lin = new LinearClassifier<number>();
  for (const s of specs) lin.insert(s);
  const wc = new Uint32Array(FLOW_WORDS);
  let hits = 0;
  const stats: LookupStats = { subtables: 0 };
  // Every distinct key the timing loops use is checked (keys beyond the first 65,536 repeat).
  const nCheck = Math.min(keys.length, 65536);
  for (let i = 0; i < nCheck; i++) {
    const k = keys[i]!;
    const a = cls.lookup(k, undefined, stats);
    const b = lin.lookup(k);
    wc.fill(0);
    const c = cls.lookup(k, wc);
    const d = tm.lookup(k, undefined, tmStats);
    if (a?.id !== b?.id || c?.id !== a?.id || d?.id !== a?.id)
      throw new Error(
        `${workload}: key ${i}: classifier ${a?.id}/${c?.id}, tuplemerge ${d?.id}, linear ${b?.id}`,
      );
    if (a) hits++;
  }

  const fast: number[] = [];
  const withWc: number[] = [];
  const base: number[] = [];
  const emc: number[] = [];
  const tms: number[] = [];
  const tm0 = tm;
  let emcHitRate = 0;
  const c0 = cls;
  const lookupNoWc = (k: Uint32Array) => c0.lookup(k);
  const lookupWc = (k: Uint32Array) => {
    wc.fill(0);
    return c0.lookup(k, wc);
  };
  // Each measurement is sized to take about TARGET_MS (at most nLookups lookups), after a
  // warm-up run of the same size, so slow configurations do not stretch the whole bench.
  const [tFast, tWc, tLin, tTm, tEmc, tHot] = [
    makeTimer(),
    makeTimer(),
    makeTimer(),
    makeTimer(),
    makeTimer(),
    makeTimer(),
  ];
  const hotKeys = keys.slice(0, 64);
  const hot: number[] = [];
  // The same keys as offsets into their one shared arena (every generator here lays them out
  // in one), for lookupAt and for the key-read floor.
  const arena = new Uint32Array(keys[0]!.buffer);
  if (keys.some((k) => k.buffer !== arena.buffer)) throw new Error(`${workload}: keys not in one arena`);
  const offs = Int32Array.from(keys, (k) => k.byteOffset / 4);
  const hotOffs = offs.slice(0, 64);
  const tAt = makeOffsetTimer();
  const tAtHot = makeOffsetTimer();
  const c1 = cls;
  const oneMask = cls.masks === 1;
  const lookupAt = (a: Uint32Array, o: number) => c1.lookupAt(a, o);
  const readKey = new Function(
    "a",
    "o",
    `return (${usedWords.map((w) => `a[o + ${w}]`).join(" + ")}) === -1 ? undefined : 1;`,
  ) as (a: Uint32Array, o: number) => unknown;
  const tRead = makeOffsetTimer();
  const at: number[] = [];
  const atHot: number[] = [];
  // Packed keys (lookupPacked): in lookup order, and scattered as the full keys are.
  const layout = new KeyLayout(usedWords.slice().sort((a, b) => a - b));
  const ps = layout.size;
  const packed = new Uint32Array(keys.length * ps);
  keys.forEach((k, i) => {
    layout.pack(k, packed, i * ps);
  });
  const packedOffs = Int32Array.from(keys, (_, i) => i * ps);
  const scattered = new Uint32Array((arena.length / FLOW_WORDS) * ps);
  const scatteredOffs = Int32Array.from(offs, (o) => (o / FLOW_WORDS) * ps);
  keys.forEach((k, i) => {
    layout.pack(k, scattered, scatteredOffs[i]!);
  });
  const lookupPacked = (a: Uint32Array, o: number) => c1.lookupPacked(layout, a, o);
  if (oneMask)
    for (let i = 0; i < nCheck; i++)
      if (c1.lookupPacked(layout, packed, packedOffs[i]!) !== c1.lookup(keys[i]!))
        throw new Error(`${workload}: key ${i}: lookupPacked differs from lookup`);
  const tPacked = makeOffsetTimer();
  const tScattered = makeOffsetTimer();
  const pk: number[] = [];
  const pkScattered: number[] = [];
  const reads: number[] = [];
  const size = (t: LookupTimer, f: (k: Uint32Array) => unknown): number => {
    const rate = t(f, keys, 1000);
    return Math.max(1000, Math.min(nLookups, Math.round((rate * TARGET_MS) / 1000)));
  };
  const linLookup = (k: Uint32Array) => lin.lookup(k);
  const tmLookup = (k: Uint32Array) => tm0.lookup(k);
  const nFast = size(tFast, lookupNoWc);
  const nWc = size(tWc, lookupWc);
  const nLin = size(tLin, linLookup);
  const nTm = size(tTm, tmLookup);
  for (let r = 0; r < RUNS; r++) {
    fast.push(tFast(lookupNoWc, keys, nFast));
    hot.push(tHot(lookupNoWc, hotKeys, nFast));
    if (oneMask) {
      at.push(tAt(lookupAt, arena, offs, nFast));
      atHot.push(tAtHot(lookupAt, arena, hotOffs, nFast));
      pk.push(tPacked(lookupPacked, packed, packedOffs, nFast));
      pkScattered.push(tScattered(lookupPacked, scattered, scatteredOffs, nFast));
    }
    reads.push(tRead(readKey, arena, offs, nFast));
    withWc.push(tWc(lookupWc, keys, nWc));
    base.push(tLin(linLookup, keys, nLin));
    tms.push(tTm(tmLookup, keys, nTm));
    const e = new Emc<unknown>(lookupNoWc, usedWords);
    emc.push(tEmc((k) => e.lookup(k), keys, nFast));
    emcHitRate = e.hits / nFast;
  }
  const lps = median(fast);
  const bl = median(base);
  return {
    workload,
    family,
    filters: nFilters,
    rules: cls.size,
    masks: cls.masks,
    lookups: nLookups,
    hitRate: hits / nCheck,
    subtablesPerLookup: stats.subtables / nCheck,
    lookupsPerSec: Math.round(lps),
    lookupsPerSecHotKeys: Math.round(median(hot)),
    lookupsPerSecWc: Math.round(median(withWc)),
    lookupsPerSecArena: oneMask ? Math.round(median(at)) : null,
    lookupsPerSecArenaHotKeys: oneMask ? Math.round(median(atHot)) : null,
    lookupsPerSecPacked: oneMask ? Math.round(median(pk)) : null,
    lookupsPerSecPackedScattered: oneMask ? Math.round(median(pkScattered)) : null,
    keyReadsPerSec: Math.round(median(reads)),
    baselineLookupsPerSec: Math.round(bl),
    speedup: Math.round((lps / bl) * 10) / 10,
    tmLookupsPerSec: Math.round(median(tms)),
    tmTables: tm.masks,
    tmTablesPerLookup: Math.round((tmStats.subtables / nCheck) * 10) / 10,
    tmInsertMs: Math.round(median(tmTimes) * 10) / 10,
    tmBytesPerRule: Math.round(tm.byteEstimate / tm.size),
    tmBytesPerRuleHeap: Math.round(tmBytes / tm.size),
    emcLookupsPerSec: Math.round(median(emc)),
    emcHitRate: Math.round(emcHitRate * 1000) / 1000,
    insertMs: Math.round(median(insertTimes) * 10) / 10,
    bytesPerRule: Math.round(cls.byteEstimate / cls.size),
    bytesPerRuleHeap: Math.round(bytes / cls.size),
    bytesPerFilter: Math.round(cls.byteEstimate / nFilters),
    checked: nCheck,
  };
}

const rows: Row[] = [];
const loadStart = os.loadavg();
const want = (name: string): boolean => filter === undefined || name.includes(filter);
const M = (x: number): string => (x / 1e6).toFixed(2);

for (const fam of ["acl1", "fw1", "ipc1"]) {
  for (const size of ["1k", "10k"]) {
    const name = `${fam}_${size}`;
    if (!want(name)) continue;
    const file = path.join(shared, "data/classbench/neurocuts", name);
    const filters = parseClassBench(readFileSync(file, "utf8"), name);
    const specs = classBenchToRules(filters);
    const trace = classBenchTrace(filters, 20000, 1);
    const keys = arenaKeys(trace.map((h) => headerToKey(h)));
    const { W } = await import("../packages/packet/src/index.js");
    rows.push(
      runWorkload(`classbench ${name}`, "classbench", filters.length, specs, keys, 200_000, [
        W.nw_src,
        W.nw_dst,
        W.nw_proto,
        W.tp_src,
        W.tp_dst,
      ]),
    );
    console.error(`done ${name}`);
  }
}
for (const n of [1000, 10000, 100000]) {
  const name = `ovs ${n / 1000}k`;
  if (!want(name) && !want("ovs")) continue;
  const w = ovsBenchmark(n, 4, 8, 1_000_000);
  // The timed lookups cycle over the first 16,384 draws, which cover the flows as upstream's do.
  const keys = Array.from(w.lookups.subarray(0, 16384), (i) => w.flows[i]!);
  const used: number[] = [];
  const m = new Uint32Array(FLOW_WORDS);
  for (const r of w.rules) for (let i = 0; i < FLOW_WORDS; i++) m[i]! |= r.mask[i]!;
  m.forEach((x, i) => {
    if (x) used.push(i);
  });
  rows.push(runWorkload(`ovstest benchmark ${n} 4 8 1`, "ovs", n, w.rules, keys, 200_000, used));
  console.error(`done ${name}`);
}

// Insert-heavy synthetic table: 100k distinct rules over 8 masks (src/dst prefixes, tp_dst).
if (want("synthetic 100k")) {
  const { W } = await import("../packages/packet/src/index.js");
  const rnd = lcg(7);
  const shapes = [
    [32, 32, true],
    [24, 32, true],
    [32, 24, false],
    [16, 24, true],
    [24, 16, false],
    [32, 0, true],
    [0, 32, true],
    [24, 24, false],
  ] as const;
  const pm = (n: number) => (n === 0 ? 0 : (~0 << (32 - n)) >>> 0);
  const specs: RuleSpec<number>[] = [];
  const keys: Uint32Array[] = [];
  for (let i = 0; i < 100_000; i++) {
    const [sl, dl, port] = shapes[rnd() & 7]!;
    const value = new Uint32Array(FLOW_WORDS);
    const mask = new Uint32Array(FLOW_WORDS);
    mask[W.dl_type] = 0xffff;
    value[W.dl_type] = 0x0800;
    mask[W.nw_src] = pm(sl);
    value[W.nw_src] = (0x0a000000 | (rnd() & 0xffffff)) & pm(sl);
    mask[W.nw_dst] = pm(dl);
    value[W.nw_dst] = (0xac100000 | (rnd() & 0xfffff)) & pm(dl);
    if (port) {
      mask[W.nw_proto] = 0xff;
      value[W.nw_proto] = 6;
      mask[W.tp_dst] = 0xffff;
      value[W.tp_dst] = rnd() & 0x3ff;
    }
    specs.push({ priority: i % 65536, value, mask, payload: i });
    if (i % 5 === 0) {
      const k = new Uint32Array(FLOW_WORDS);
      for (let w = 0; w < FLOW_WORDS; w++) k[w] = (value[w]! | (rnd() & ~mask[w]!)) >>> 0;
      k[W.dl_type] = 0x0800;
      k[W.nw_proto] = 6;
      k[W.tp_dst] = k[W.tp_dst]! & 0xffff;
      keys.push(k);
    }
  }
  rows.push(
    runWorkload(
      "synthetic 100k, 8 masks",
      "synthetic",
      specs.length,
      specs,
      arenaKeys(keys.slice(0, 4000)),
      200_000,
      [W.nw_src, W.nw_dst, W.nw_proto, W.tp_dst],
    ),
  );
  console.error("done synthetic 100k");
}

// ---- Range-native classifiers: RangeClassifier vs the range linear scan, same process ----

interface RangeRow {
  workload: string;
  filters: number;
  partitions: number;
  leaves: number;
  /** Leaf entries per rule (rule copies made by splits). */
  replication: number;
  maxDepth: number;
  hitRate: number;
  lookupsPerSec: number;
  /** The same lookups over the trace's first 64 headers only (structure lines in cache). */
  lookupsPerSecHotKeys: number;
  linearLookupsPerSec: number;
  /** RangeClassifier / range linear scan (the first-match scan over the filters' ranges). */
  speedup: number;
  /** RangeClassifier / the value/mask linear scan over the port-expanded rules (rows above). */
  speedupVsExpandedLinear: number | null;
  /** RangeClassifier / OVS-style TSS on the port-expanded rules (rows above). */
  speedupVsTss: number | null;
  insertMs: number;
  insertsPerSec: number;
  removeAllMs: number;
  bytesPerRule: number;
  bytesPerRuleHeap: number;
  checked: number;
}

type FlatLookup = { lookup(keys: Uint32Array, offset: number): unknown };
type FlatTimer = (cls: FlatLookup, keys: Uint32Array, n: number) => number;
/** A fresh (monomorphic) timing loop over flat 5-field keys; returns lookups/s. */
const makeFlatTimer = (): FlatTimer =>
  new Function(
    "now",
    `return function timeFlat(cls, keys, n) {
      const t0 = now();
      let sink = 0;
      for (let i = 0, o = 0; i < n; i++) {
        if (cls.lookup(keys, o) !== undefined) sink++;
        o += 5;
        if (o === keys.length) o = 0;
      }
      const ms = now() - t0;
      if (sink < 0) throw new Error("unreachable");
      return (n / ms) * 1000;
    };`,
  )(now) as FlatTimer;

function runRange(
  workload: string,
  specs: RangeRuleSpec<number>[],
  keys: Uint32Array,
  tssRow?: Row,
): RangeRow {
  const build = (): RangeClassifier<number> => {
    const c = new RangeClassifier<number>({ fields: CLASSBENCH_FIELDS });
    for (const sp of specs) c.insert(sp);
    return c;
  };
  // Insert and remove-all times (CPU ms, median of RUNS; the first lookup publishes, so it counts).
  const ins: number[] = [];
  const rem: number[] = [];
  for (let r = 0; r < RUNS; r++) {
    gc();
    const t0 = now();
    const c = build();
    c.lookup(keys, 0);
    ins.push(now() - t0);
    const all = c.rules();
    const t1 = now();
    for (const x of all) c.remove(x);
    rem.push(now() - t1);
  }
  const before = heap();
  let rc: RangeClassifier<number> | undefined = build();
  rc.lookup(keys, 0);
  const bytes = heap() - before;
  const lin = new RangeLinearClassifier<number>({ fields: CLASSBENCH_FIELDS });
  for (const sp of specs) lin.insert(sp);
  const nk = keys.length / 5;
  const nCheck = Math.min(nk, 65536);
  let hits = 0;
  for (let i = 0; i < nCheck; i++) {
    const a = rc.lookup(keys, 5 * i);
    const b = lin.lookup(keys, 5 * i);
    if (a?.payload !== b?.payload)
      throw new Error(`${workload}: key ${i}: range classifier ${a?.payload}, linear ${b?.payload}`);
    if (a) hits++;
  }
  const tFast = makeFlatTimer();
  const tLin = makeFlatTimer();
  const size = (t: FlatTimer, c: FlatLookup): number => {
    const rate = t(c, keys, 1000);
    return Math.max(1000, Math.min(2_000_000, Math.round((rate * TARGET_MS) / 1000)));
  };
  const nFast = size(tFast, rc);
  const nLin = size(tLin, lin);
  const fast: number[] = [];
  const base: number[] = [];
  const hot: number[] = [];
  const tHot = makeFlatTimer();
  const hotKeys = keys.slice(0, 5 * 64);
  for (let r = 0; r < RUNS; r++) {
    fast.push(tFast(rc, keys, nFast));
    hot.push(tHot(rc, hotKeys, nFast));
    base.push(tLin(lin, keys, nLin));
  }
  const lps = median(fast);
  const bl = median(base);
  const shape = rc.shape;
  const row: RangeRow = {
    workload,
    filters: specs.length,
    partitions: rc.partitions,
    leaves: shape.leaves,
    replication: Math.round((shape.leafEntries / rc.size) * 100) / 100,
    maxDepth: shape.maxDepth,
    hitRate: hits / nCheck,
    lookupsPerSec: Math.round(lps),
    lookupsPerSecHotKeys: Math.round(median(hot)),
    linearLookupsPerSec: Math.round(bl),
    speedup: Math.round((lps / bl) * 10) / 10,
    speedupVsExpandedLinear: tssRow ? Math.round((lps / tssRow.baselineLookupsPerSec) * 10) / 10 : null,
    speedupVsTss: tssRow ? Math.round((lps / tssRow.lookupsPerSec) * 10) / 10 : null,
    insertMs: Math.round(median(ins) * 10) / 10,
    insertsPerSec: Math.round(specs.length / (median(ins) / 1000)),
    removeAllMs: Math.round(median(rem) * 10) / 10,
    bytesPerRule: Math.round(rc.byteEstimate / rc.size),
    bytesPerRuleHeap: Math.round(bytes / rc.size),
    checked: nCheck,
  };
  rc = undefined;
  return row;
}

/**
 * A 100,000-filter set derived from acl1_10k (ClassBench's 100k sets are not in shared/): copy c
 * of the filter list shifts the first octet of source and destination by 37·c and 53·c (prefix
 * lengths, port ranges and protocols unchanged), so copies overlap as little as the seed's own
 * filters do. Line order is priority across copies.
 */
function scaledAcl(filters: readonly ClassBenchRule[], n: number): ClassBenchRule[] {
  const out: ClassBenchRule[] = [];
  const plm = (len: number): number => (len === 0 ? 0 : (~0 << (32 - len)) >>> 0);
  for (let c = 0; out.length < n; c++)
    for (const f of filters) {
      if (out.length >= n) break;
      const sh = (ip: number, len: number, k: number): number =>
        ((((ip >>> 24) + k * c) & 255) * 2 ** 24 + (ip & 0xffffff)) & plm(len);
      out.push({ ...f, srcIp: sh(f.srcIp, f.srcLen, 37) >>> 0, dstIp: sh(f.dstIp, f.dstLen, 53) >>> 0 });
    }
  return out;
}

const rangeRows: RangeRow[] = [];
for (const fam of ["acl1", "fw1", "ipc1"]) {
  for (const sz of ["1k", "10k"]) {
    const name = `${fam}_${sz}`;
    if (!want(`range ${name}`) && !want(name)) continue;
    const filters = parseClassBench(
      readFileSync(path.join(shared, "data/classbench/neurocuts", name), "utf8"),
      name,
    );
    const keys = headersToRangeKeys(classBenchTrace(filters, 20000, 1));
    const tssRow = rows.find((r) => r.workload === `classbench ${name}`);
    rangeRows.push(runRange(`classbench ${name}`, classBenchToRanges(filters), keys, tssRow));
    console.error(`done range ${name}`);
  }
}
if (want("range acl1_100k")) {
  const seed = parseClassBench(
    readFileSync(path.join(shared, "data/classbench/neurocuts/acl1_10k"), "utf8"),
    "acl1_10k",
  );
  const filters = scaledAcl(seed, 100_000);
  rangeRows.push(
    runRange(
      "acl1_10k ×10 (100k, derived)",
      classBenchToRanges(filters),
      headersToRangeKeys(classBenchTrace(filters, 20000, 1)),
    ),
  );
  console.error("done range acl1_100k");
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);
console.log(
  `${"workload".padEnd(30)} ${pad("rules", 7)} ${pad("masks", 6)} ${pad("sub/lkp", 7)} ${pad("hit%", 5)} ${pad("M lkp/s", 8)} ${pad("hot", 6)} ${pad("arena", 6)} ${pad("a.hot", 6)} ${pad("packed", 6)} ${pad("p.scat", 6)} ${pad("keyrd", 6)} ${pad("+wc", 6)} ${pad("linear", 7)} ${pad("ratio", 7)} ${pad("ins ms", 7)} ${pad("B/rule", 6)} | ${pad("TM tbl", 6)} ${pad("tbl/lkp", 7)} ${pad("TM M/s", 6)} ${pad("TM ins", 6)} ${pad("B/rule", 6)} | ${pad("EMC", 6)} ${pad("hit%", 4)}`,
);
for (const r of rows)
  console.log(
    `${r.workload.padEnd(30)} ${pad(r.rules, 7)} ${pad(r.masks, 6)} ${pad(r.subtablesPerLookup.toFixed(1), 7)} ${pad((r.hitRate * 100).toFixed(0), 5)} ${pad(M(r.lookupsPerSec), 8)} ${pad(M(r.lookupsPerSecHotKeys), 6)} ${pad(r.lookupsPerSecArena === null ? "-" : M(r.lookupsPerSecArena), 6)} ${pad(r.lookupsPerSecArenaHotKeys === null ? "-" : M(r.lookupsPerSecArenaHotKeys), 6)} ${pad(r.lookupsPerSecPacked === null ? "-" : M(r.lookupsPerSecPacked), 6)} ${pad(r.lookupsPerSecPackedScattered === null ? "-" : M(r.lookupsPerSecPackedScattered), 6)} ${pad(M(r.keyReadsPerSec), 6)} ${pad(M(r.lookupsPerSecWc), 6)} ${pad(M(r.baselineLookupsPerSec), 7)} ${pad(`${r.speedup}×`, 7)} ${pad(r.insertMs, 7)} ${pad(r.bytesPerRule, 6)} | ${pad(r.tmTables, 6)} ${pad(r.tmTablesPerLookup.toFixed(1), 7)} ${pad(M(r.tmLookupsPerSec), 6)} ${pad(r.tmInsertMs, 6)} ${pad(r.tmBytesPerRule, 6)} | ${pad(M(r.emcLookupsPerSec), 6)} ${pad((r.emcHitRate * 100).toFixed(0), 4)}`,
  );
console.log(
  "\nRates and times are per CPU-second of this process (process.cpuUsage), medians of 5 runs.\n" +
    "M lkp/s: tuple space search, no wildcard tracking; hot: the same over the first 64 keys only (keys in cache); +wc: with megaflow tracking (staged lookup, tries);\n" +
    "arena / a.hot (one-mask tables): lookupAt(arena, offset) over the same keys without a typed-array view per key, all keys / first 64;\n" +
    "packed / p.scat (one-mask tables): lookupPacked on the keys packed to the masks' words (KeyLayout, OVS's miniflow), in lookup order (a datapath batch) / left at the full keys' random places;\n" +
    "keyrd: reading just the key words the masks use, no table (the floor for random keys that miss the cache);\n" +
    "linear: flat-array linear scan, same process; ratio = TSS / linear; TM: TupleMergeClassifier (same answers);\n" +
    "EMC: 8192-entry exact-match cache in front of TSS (helps repeated headers only). B/rule: structural estimate (typed arrays + records); bytesPerRuleHeap in the JSON is the measured heap growth (noisy).\n" +
    "ovstest C figures (docs/performance.md §2.1): 1k 11.2–12.7 / wc 3.5–4.6, 10k 8.1–9.8 / 2.7–3.6, 100k 4.1–5.4 / 1.8–2.5 M/s.",
);
console.log(
  `load average at start ${loadStart.map((x) => x.toFixed(1)).join(" ")}, at end ${os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(" ")} (${os.cpus().length} CPUs)`,
);
console.log(
  `\n${"range classifier".padEnd(30)} ${pad("filters", 7)} ${pad("parts", 5)} ${pad("leaves", 6)} ${pad("copies", 6)} ${pad("hit%", 5)} ${pad("M lkp/s", 8)} ${pad("hot", 6)} ${pad("linear", 7)} ${pad("ratio", 7)} ${pad("vs exp.lin", 10)} ${pad("vs TSS", 7)} ${pad("ins ms", 7)} ${pad("rm ms", 6)} ${pad("B/rule", 6)} ${pad("heap B", 6)}`,
);
for (const r of rangeRows)
  console.log(
    `${r.workload.padEnd(30)} ${pad(r.filters, 7)} ${pad(r.partitions, 5)} ${pad(r.leaves, 6)} ${pad(r.replication.toFixed(2), 6)} ${pad((r.hitRate * 100).toFixed(0), 5)} ${pad(M(r.lookupsPerSec), 8)} ${pad(M(r.lookupsPerSecHotKeys), 6)} ${pad((r.linearLookupsPerSec / 1e6).toFixed(4), 7)} ${pad(`${r.speedup}×`, 7)} ${pad(r.speedupVsExpandedLinear === null ? "-" : `${r.speedupVsExpandedLinear}×`, 10)} ${pad(r.speedupVsTss === null ? "-" : `${r.speedupVsTss}×`, 7)} ${pad(r.insertMs, 7)} ${pad(r.removeAllMs, 6)} ${pad(r.bytesPerRule, 6)} ${pad(r.bytesPerRuleHeap, 6)}`,
  );
console.log(
  "RangeClassifier: range-native fields (no port expansion); linear = first-match scan over the same ranges (flat typed\n" +
    "array), same process; hot: over the trace's first 64 headers only; ratio = RangeClassifier / that scan; vs exp.lin / vs TSS: against the value/mask linear scan and\n" +
    "the OVS-style TSS on the port-expanded rules above. ins ms: all filters inserted one by one (CPU, median of 5);\n" +
    "rm ms: all removed one by one. B/rule: structural (typed arrays + 48 B per rule record); heap B: measured heap growth.",
);
const m = machine();
console.log(`${m.cpu}, ${m.cores} cores, Node ${m.node}; load average at end ${m.loadAverage.end.join(" ")}`);
writeResults("classifier", { valueMask: rows, range: rangeRows });
