#!/usr/bin/env node
// `pnpm bench`: runs every bench/*.bench.ts (or those named on the command line) as a standalone
// tsx script against the packages' sources. Each bench prints its own table and writes
// bench/results/<name>.json. Figures are reported, never asserted.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";

const dir = new URL("../bench/", import.meta.url).pathname;
const wanted = process.argv.slice(2);
const files = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.ts"))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.includes(w)))
  .sort();
let failed = 0;
console.log(
  `${os.cpus()[0]?.model.trim()}, ${os.cpus().length} cores, Node ${process.version}; each bench writes these and its load average into its results file`,
);
for (const f of files) {
  console.log(
    `\n== ${f} (load average ${os
      .loadavg()
      .map((x) => x.toFixed(1))
      .join(" ")})`,
  );
  const r = spawnSync("npx", ["tsx", "--conditions=@ovnsim/source", join(dir, f)], { stdio: "inherit" });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
