// Prints ovnsim's per-table agreement with a recorded golden: tsx compare-golden.ts DIR
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { compareDumps, flowLines, ovnController } from "../src/index.js";
const dir = process.argv[2]!;
const load = (d: string) =>
  Object.fromEntries(readdirSync(d).map((f) => [f, readFileSync(join(d, f), "utf8")]));
const node = load(join(dir, "node"));
const out = ovnController({ sb: load(join(dir, "sb")), node });
const a = compareDumps(flowLines(node["br-int.flows.txt"]!), out.flows);
for (const t of a.tables) console.log(`table ${t.table}: ${t.identical}/${t.expected} extra ${t.extra}`);
console.log(`total ${a.identical}/${a.expected} extra ${a.extra}`);
if (process.argv[3]) {
  for (const l of a.missing) console.log(`- ${l}`);
  for (const l of a.unexpected) console.log(`+ ${l}`);
  for (const s of out.skipped) console.log(`skipped ${s.lflow}: ${s.reason}`);
}
