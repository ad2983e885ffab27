/**
 * Shared plumbing of the bench/*.bench.ts scripts (`pnpm bench`): a monotonic clock, the median
 * of at least 5 timed runs (after a warm-up), ops/s rows printed as a table, and
 * bench/results/<name>.json. Figures are reported, never asserted.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/** Load average (1, 5, 15 min) when this bench process started. */
const LOAD_AT_START = os.loadavg();

/** Runs per figure; a median of fewer than 5 is too noisy on the 2-core CI box. */
export const MIN_RUNS = 5;

/** Monotonic milliseconds. */
export const now = (): number => Number(process.hrtime.bigint()) / 1e6;

/**
 * Milliseconds of CPU time used by this process (user + system). On a shared 2-core box the
 * wall-clock rate of a single-threaded loop swings with the other jobs; its CPU time much less.
 */
export const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Where a figure was measured: written at the top of every results file. */
export function machine(): {
  cpu: string;
  cores: number;
  memGiB: number;
  node: string;
  platform: string;
  loadAverage: { start: number[]; end: number[] };
} {
  const cpus = os.cpus();
  const r2 = (x: number): number => Math.round(x * 100) / 100;
  return {
    cpu: cpus[0]?.model.trim() ?? "unknown",
    cores: cpus.length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
    loadAverage: { start: LOAD_AT_START.map(r2), end: os.loadavg().map(r2) },
  };
}

/** The median (upper median for an even count); 0 for no samples. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? 0;
}

/** Median wall time of `fn` in ms over max(runs, 5) runs. */
export function medianMs(fn: () => void, runs = MIN_RUNS): number {
  const ms: number[] = [];
  for (let r = 0; r < Math.max(runs, MIN_RUNS); r++) {
    const t = now();
    fn();
    ms.push(now() - t);
  }
  return median(ms);
}

export interface Rate {
  readonly name: string;
  readonly opsPerSec: number;
}

/** One printed row: name, then ops/s right-aligned. */
export function formatRate(r: Rate): string {
  return `${r.name.padEnd(58)} ${r.opsPerSec.toLocaleString("en-US").padStart(12)} ops/s`;
}

/** Prints rows as a table (with a header when given). */
export function printTable(rows: readonly Rate[], title?: string): void {
  if (title) console.log(title);
  for (const r of rows) console.log(formatRate(r));
}

/**
 * Operations per second of `fn(i)` for i < n: a warm-up of min(n, 2000) calls, then the median
 * of max(runs, 5) runs of n calls. Prints its row as soon as it is measured.
 */
export function rate(name: string, n: number, fn: (i: number) => void, runs = MIN_RUNS): Rate {
  for (let i = 0; i < Math.min(n, 2000); i++) fn(i);
  const rates: number[] = [];
  for (let r = 0; r < Math.max(runs, MIN_RUNS); r++) {
    const t = now();
    for (let i = 0; i < n; i++) fn(i);
    rates.push(n / ((now() - t) / 1000));
  }
  const row = { name, opsPerSec: Math.round(median(rates)) };
  console.log(formatRate(row));
  return row;
}

/**
 * The `pnpm bench` run this process belongs to (scripts/run-benches.mjs sets it to the run's
 * start time for every bench it spawns), so files written by one run can be told from stale
 * ones; null for a bench started by hand.
 */
export const BENCH_RUN: string | null = process.env.OVNSIM_BENCH_RUN ?? null;

/**
 * Writes bench/results/<name>.json (2-space JSON, trailing newline) as `{ run, machine, results }`:
 * the `pnpm bench` run, the CPU model, cores, Node version and the load average at the start and
 * end of the bench, then the bench's own data. Returns its path.
 */
export function writeResults(name: string, data: unknown): string {
  const dir = path.resolve(import.meta.dirname, "results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ run: BENCH_RUN, machine: machine(), results: data }, null, 2)}\n`);
  return file;
}

export type LookupTimer = (lookup: (k: Uint32Array) => unknown, keys: Uint32Array[], n: number) => number;
/**
 * A fresh timing loop (lookups over `keys`, cycled, for `n` lookups; returns lookups/s). Each
 * classifier gets its own copy, compiled separately, so its call site stays monomorphic and V8
 * inlines the lookup as a caller's loop would; one shared loop would time a megamorphic call.
 * `clock` is CPU time by default (the machines are shared).
 */
export const makeTimer = (clock: () => number = cpuMs): LookupTimer =>
  new Function(
    "now",
    `return function timeLookups(lookup, keys, n) {
      const t0 = now();
      let sink = 0;
      const nk = keys.length;
      for (let i = 0, j = 0; i < n; i++) {
        if (lookup(keys[j]) !== undefined) sink++;
        if (++j === nk) j = 0;
      }
      const ms = now() - t0;
      if (sink < 0) throw new Error("unreachable");
      return (n / ms) * 1000;
    };`,
  )(clock) as LookupTimer;
