#!/usr/bin/env node
// `pnpm bench`: runs every bench/*.bench.ts (or those named on the command line) as a standalone
// tsx script against the packages' sources, one after the other, in one run. Each bench prints
// its own table and writes bench/results/<name>.json with the run id (this run's start time,
// passed as OVNSIM_BENCH_RUN), the machine, the Node version and its load average (bench/lib.ts
// writeResults). At the end the runner lists every results file and whether this run wrote it,
// so stale figures cannot pass for fresh ones. Figures are reported, never asserted.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";

const dir = new URL("../bench/", import.meta.url).pathname;
const resultsDir = join(dir, "results");
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
/** Results files that no bench writes, and what does. */
const NOT_BENCHES = {
  "openflow-differential.json": "packages/openflow/scripts/differential-openflow.ts (needs the real tools)",
  "ovn-trace-differential.json": "packages/ovn/scripts/differential-ovn-trace.ts (needs the real tools)",
  "brint-differential.json": "packages/controller/scripts/differential-brint.ts (needs the real tools)",
  "brint-differential-130.json":
    "packages/controller/scripts/differential-brint.ts, 130-pod run (needs the real tools)",
  "brint-differential-700.json":
    "packages/controller/scripts/differential-brint.ts, seeds 700-729 (needs the real tools)",
  "brint-differential-900.json":
    "packages/controller/scripts/differential-brint.ts, seeds 900-915 (needs the real tools)",
};
const run = new Date().toISOString();
const load = () =>
  os
    .loadavg()
    .map((x) => x.toFixed(1))
    .join(" ");
console.log(
  `run ${run}: ${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, Node ${process.version}, load average ${load()}; each bench writes these and its own load average into its results file`,
);
const failed = [];
for (const f of files) {
  console.log(`\n== ${f} (load average ${load()})`);
  const r = spawnSync("npx", ["tsx", "--conditions=@ovnsim/source", join(dir, f)], {
    stdio: "inherit",
    env: { ...process.env, OVNSIM_BENCH_RUN: run },
  });
  if (r.status !== 0) failed.push(f);
}
console.log(`\n== results (run ${run}, load average at end ${load()})`);
let stale = 0;
// Every bench that ran must have written bench/results/<bench name>.json in this run, with the
// machine, the Node version and the load average (bench/lib.ts writeResults).
for (const f of files) {
  const name = f.replace(/\.bench\.ts$/, ".json");
  let j = null;
  try {
    j = JSON.parse(readFileSync(join(resultsDir, name), "utf8"));
  } catch {}
  const m = j?.machine;
  if (j?.run !== run || !m?.node || !m?.cpu || !Array.isArray(m?.loadAverage?.start)) {
    console.log(`  ${f} did not write ${name} with run, machine, Node version and load average`);
    stale++;
  }
}
for (const name of readdirSync(resultsDir)
  .filter((n) => n.endsWith(".json"))
  .sort()) {
  let fileRun = null;
  try {
    fileRun = JSON.parse(readFileSync(join(resultsDir, name), "utf8")).run ?? null;
  } catch {
    fileRun = "unreadable";
  }
  const fresh = fileRun === run;
  const note = fresh
    ? "written by this run"
    : name in NOT_BENCHES
      ? `not a bench: ${NOT_BENCHES[name]}`
      : `STALE (run ${fileRun ?? "unknown"})`;
  if (!fresh && !(name in NOT_BENCHES) && wanted.length === 0) stale++;
  console.log(`  ${name.padEnd(30)} ${note}`);
}
if (failed.length) console.log(`failed: ${failed.join(", ")}`);
process.exit(failed.length || stale ? 1 : 0);
