// Live sweep: random router configurations (test/router-scenario.ts) built in a real
// ovn-controller 23.03 sandbox, captured, and compared with ovnsim's br-int flow by flow.
//   tsx --conditions=@ovnsim/source scripts/router-sweep.ts FIRST_SEED COUNT [OUTDIR]
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, startSandbox } from "@ovnsim/oracle";
import { compareDumps, flowLines, ovnController } from "../src/index.js";
import { loadDir } from "../test/load.js";
import { generateRouterScenario } from "../test/router-scenario.js";

const first = Number(process.argv[2] ?? 1);
const count = Number(process.argv[3] ?? 10);
const out = process.argv[4] ?? `/tmp/ovnsim-sweep-${process.pid}`;
let expected = 0;
let identical = 0;
let extra = 0;
for (let seed = first; seed < first + count; seed++) {
  const cap = join(out, `cap${seed}`);
  mkdirSync(cap, { recursive: true });
  const sb = startSandbox({ name: "sweep", dir: join(out, "sb"), controller: true });
  try {
    sb.sh(generateRouterScenario(seed).script);
    const scripts = join(repoRoot(), "scripts");
    sb.sh(
      `sleep 0.3; ${scripts}/capture-sb.sh ${cap}/sb >/dev/null; ${scripts}/capture-node.sh ${cap}/node >/dev/null`,
    );
  } finally {
    sb.stop();
  }
  const node = loadDir(join(cap, "node"));
  const res = ovnController({ sb: loadDir(join(cap, "sb")), node });
  const cmp = compareDumps(flowLines(node["br-int.flows.txt"]!), res.flows);
  expected += cmp.expected;
  identical += cmp.identical;
  extra += cmp.extra;
  const groups = (node["br-int.groups.txt"] ?? "").split("\n").filter((l) => l.includes("group_id="));
  const gOk = JSON.stringify([...res.groups].sort()) === JSON.stringify(groups.sort());
  console.log(
    `seed ${seed}: ${cmp.identical}/${cmp.expected} identical, ${cmp.extra} extra, groups ${gOk ? "same" : "differ"}, ${res.skipped.length} skipped`,
  );
  for (const l of cmp.missing) console.log(`- ${l}`);
  for (const l of cmp.unexpected) console.log(`+ ${l}`);
  for (const s of res.skipped) console.log(`skipped ${s.lflow}: ${s.reason}`);
}
console.log(
  `total ${identical}/${expected} identical (${((100 * identical) / expected).toFixed(2)}%), ${extra} extra`,
);
