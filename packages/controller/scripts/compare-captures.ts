// Re-compares saved live captures (DIR/capN/{sb,node}, as router-sweep.ts leaves them) with
// ovnsim's br-int, without a sandbox:  tsx compare-captures.ts DIR [v]
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { compareDumps, flowLines, ovnController } from "../src/index.js";
import { loadDir } from "../test/load.js";

const dir = process.argv[2]!;
let expected = 0;
let identical = 0;
let extra = 0;
for (const c of readdirSync(dir).filter((d) => d.startsWith("cap"))) {
  const node = loadDir(join(dir, c, "node"));
  const res = ovnController({ sb: loadDir(join(dir, c, "sb")), node });
  const cmp = compareDumps(flowLines(node["br-int.flows.txt"]!), res.flows);
  expected += cmp.expected;
  identical += cmp.identical;
  extra += cmp.extra;
  console.log(
    `${c}: ${cmp.identical}/${cmp.expected} identical, ${cmp.extra} extra, ${res.skipped.length} skipped`,
  );
  if (process.argv[3]) {
    for (const l of cmp.missing) console.log(`- ${l}`);
    for (const l of cmp.unexpected) console.log(`+ ${l}`);
    for (const s of res.skipped) console.log(`skipped ${s.lflow}: ${s.reason}`);
  }
}
console.log(
  `total ${identical}/${expected} identical (${((100 * identical) / expected).toFixed(2)}%), ${extra} extra`,
);
