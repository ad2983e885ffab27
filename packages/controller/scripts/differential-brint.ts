// br-int differential: random router configurations (test/router-scenario.ts) built by the real
// ovn-northd + ovn-controller 23.03 and ovs-vswitchd 3.1 (../shared/oracle), and random packets
// from VIFs, Geneve tunnels and localnet patch ports traced by the real `ofproto/trace br-int`
// and by ovnsim's ofproto-trace over the bundle `ovnsim ovn-controller --out` writes from the
// captures alone. Prints per-configuration figures and every disagreement; writes the totals to
// bench/results/brint-differential.json.
//   tsx --conditions=@ovnsim/source scripts/differential-brint.ts FIRST_SEED COUNT [PER_VIF] [OUT.json]
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "@ovnsim/oracle";
import { runConfig } from "../test/brint-differential.js";

const first = Number(process.argv[2] ?? 1);
const count = Number(process.argv[3] ?? 10);
const perVif = Number(process.argv[4] ?? 8);
const outJson = process.argv[5] ?? join(repoRoot(), "bench/results/brint-differential.json");
const dir = `/tmp/ovnsim-brdiff-${process.pid}`;
let flowsExpected = 0;
let flowsIdentical = 0;
let flowsExtra = 0;
let flowsRenumbered = 0;
let renumberingConsistent = 0;
let groupsSame = 0;
let metersSame = 0;
let cases = 0;
let same = 0;
let differs = 0;
const known = new Map<string, number>();
const byEntry = new Map<string, { cases: number; same: number }>();
try {
  for (let seed = first; seed < first + count; seed++) {
    const res = await runConfig(seed, dir, perVif);
    flowsExpected += res.flows.expected;
    flowsIdentical += res.flows.identical;
    flowsExtra += res.flows.extra;
    flowsRenumbered += res.renumbered.matched;
    if (res.renumbered.consistent) renumberingConsistent++;
    for (const p of res.renumbered.problems) console.log(`  renumbering: ${p}`);
    if (res.groupsSame) groupsSame++;
    if (res.metersSame) metersSame++;
    let s = 0;
    for (const c of res.cases) {
      cases++;
      const e = byEntry.get(c.packet.from) ?? { cases: 0, same: 0 };
      e.cases++;
      byEntry.set(c.packet.from, e);
      if (c.verdict === "differs") {
        differs++;
        console.log(`  ${c.packet.flow}\n    real:   ${c.real}\n    ovnsim: ${c.ours}`);
        continue;
      }
      s++;
      e.same++;
      if (c.verdict === "same") same++;
      else known.set(c.verdict, (known.get(c.verdict) ?? 0) + 1);
    }
    console.log(
      `seed ${seed}: flows ${res.flows.identical}/${res.flows.expected} identical, ${res.flows.extra} extra (${res.renumbered.matched} up to group/meter numbering), groups ${res.groupsSame ? "same" : "differ"}, meters ${res.metersSame ? "same" : "differ"}; traces ${s}/${res.cases.length} agree`,
    );
    for (const l of res.flows.missing) console.log(`- ${l}`);
    for (const l of res.flows.unexpected) console.log(`+ ${l}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const pct = (a: number, b: number): number => Number(((100 * a) / Math.max(b, 1)).toFixed(2));
const result = {
  what: "br-int differential vs real ovn-controller 23.03 / ovs-vswitchd 3.1: flows text-identical (cookies included) and ofproto/trace datapath actions, random router configurations (scripts/differential-brint.ts)",
  seeds: { first, count },
  packetsPerVif: perVif,
  flows: {
    expected: flowsExpected,
    identical: flowsIdentical,
    extra: flowsExtra,
    identicalPct: pct(flowsIdentical, flowsExpected),
    identicalUpToNumbering: flowsIdentical + flowsRenumbered,
    identicalUpToNumberingPct: pct(flowsIdentical + flowsRenumbered, flowsExpected),
    renumberingConsistentConfigs: renumberingConsistent,
  },
  groupsSameConfigs: groupsSame,
  metersSameConfigs: metersSame,
  traces: {
    cases,
    identical: same,
    agreeIncludingStated: cases - differs,
    agreePct: pct(cases - differs, cases),
    identicalPct: pct(same, cases),
    differs,
    stated: Object.fromEntries(known),
    byEntry: Object.fromEntries([...byEntry].map(([k, v]) => [k, { ...v, agreePct: pct(v.same, v.cases) }])),
  },
};
console.log(JSON.stringify(result, null, 2));
writeFileSync(outJson, `${JSON.stringify(result, null, 2)}\n`);
