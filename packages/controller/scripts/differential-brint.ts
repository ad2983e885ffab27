// br-int differential: random router configurations (test/router-scenario.ts) built by the real
// ovn-northd + ovn-controller 23.03 and ovs-vswitchd 3.1 (../shared/oracle), and random packets
// from VIFs, Geneve tunnels and localnet patch ports traced by the real `ofproto/trace br-int`
// and by ovnsim's ofproto-trace over the bundle `ovnsim ovn-controller --out` writes from the
// captures alone. Prints per-configuration figures and every disagreement; writes the totals and
// the per-configuration figures to bench/results/brint-differential.json.
//   tsx --conditions=@ovnsim/source scripts/differential-brint.ts FIRST_SEED COUNT [PER_VIF] [OUT.json]
//   tsx --conditions=@ovnsim/source scripts/differential-brint.ts merge OUT.json IN.json…
// (merge: the totals over the configurations of several runs, e.g. of parallel seed ranges)
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "@ovnsim/oracle";
import { runConfig } from "../test/brint-differential.js";

/** One configuration's figures, as the results file keeps them. */
interface ConfigFigures {
  seed: number;
  perVif: number;
  flows: { expected: number; identical: number; extra: number; renumbered: number; sharedClause: number };
  groupsSame: boolean;
  metersSame: boolean;
  renumberingConsistent: boolean;
  traces: {
    cases: number;
    same: number;
    differs: number;
    stated: Record<string, number>;
    byEntry: Record<string, { cases: number; same: number }>;
  };
}

const pct = (a: number, b: number): number => Number(((100 * a) / Math.max(b, 1)).toFixed(2));

function totals(configs: readonly ConfigFigures[]) {
  const sum = (f: (c: ConfigFigures) => number): number => configs.reduce((a, c) => a + f(c), 0);
  const expected = sum((c) => c.flows.expected);
  const identical = sum((c) => c.flows.identical);
  const renumbered = sum((c) => c.flows.renumbered);
  const shared = sum((c) => c.flows.sharedClause);
  const cases = sum((c) => c.traces.cases);
  const same = sum((c) => c.traces.same);
  const differs = sum((c) => c.traces.differs);
  const stated: Record<string, number> = {};
  const byEntry: Record<string, { cases: number; same: number; agreePct?: number }> = {};
  for (const c of configs) {
    for (const [k, n] of Object.entries(c.traces.stated)) stated[k] = (stated[k] ?? 0) + n;
    for (const [k, v] of Object.entries(c.traces.byEntry)) {
      const e = byEntry[k] ?? { cases: 0, same: 0 };
      e.cases += v.cases;
      e.same += v.same;
      byEntry[k] = e;
    }
  }
  for (const e of Object.values(byEntry)) e.agreePct = pct(e.same, e.cases);
  return {
    what: "br-int differential vs real ovn-controller 23.03 / ovs-vswitchd 3.1: flows text-identical (cookies included) and ofproto/trace datapath actions, random router configurations (scripts/differential-brint.ts)",
    seeds: configs.map((c) => c.seed),
    packetsPerVif: [...new Set(configs.map((c) => c.perVif))],
    flows: {
      expected,
      identical,
      extra: sum((c) => c.flows.extra),
      identicalPct: pct(identical, expected),
      renumbered,
      sharedClauseCookie: shared,
      identicalOrStated: identical + renumbered + shared,
      identicalOrStatedPct: pct(identical + renumbered + shared, expected),
      renumberingConsistentConfigs: configs.filter((c) => c.renumberingConsistent).length,
    },
    groupsSameConfigs: configs.filter((c) => c.groupsSame).length,
    metersSameConfigs: configs.filter((c) => c.metersSame).length,
    traces: {
      cases,
      identical: same - sum((c) => Object.values(c.traces.stated).reduce((a, b) => a + b, 0)),
      agreeIncludingStated: same,
      agreePct: pct(same, cases),
      differs,
      stated,
      byEntry,
    },
    configs,
  };
}

function write(outJson: string, configs: readonly ConfigFigures[]): void {
  const result = totals(configs);
  const { configs: _, ...head } = result;
  console.log(JSON.stringify(head, null, 2));
  writeFileSync(outJson, `${JSON.stringify(result, null, 2)}\n`);
}

if (process.argv[2] === "merge") {
  const [outJson, ...inputs] = process.argv.slice(3);
  const configs = inputs.flatMap(
    (f) => (JSON.parse(readFileSync(f, "utf8")) as { configs: ConfigFigures[] }).configs,
  );
  write(outJson!, configs);
} else {
  const first = Number(process.argv[2] ?? 1);
  const count = Number(process.argv[3] ?? 10);
  const perVif = Number(process.argv[4] ?? 8);
  const outJson = process.argv[5] ?? join(repoRoot(), "bench/results/brint-differential.json");
  const dir = `/tmp/ovnsim-brdiff-${process.pid}`;
  const configs: ConfigFigures[] = [];
  try {
    for (let seed = first; seed < first + count; seed++) {
      const res = await runConfig(seed, dir, perVif);
      const fig: ConfigFigures = {
        seed,
        perVif,
        flows: {
          expected: res.flows.expected,
          identical: res.flows.identical,
          extra: res.flows.extra,
          renumbered: res.renumbered.matched,
          sharedClause: res.sharedClause,
        },
        groupsSame: res.groupsSame,
        metersSame: res.metersSame,
        renumberingConsistent: res.renumbered.consistent,
        traces: { cases: res.cases.length, same: 0, differs: 0, stated: {}, byEntry: {} },
      };
      const t = fig.traces;
      for (const c of res.cases) {
        const e = t.byEntry[c.packet.from] ?? { cases: 0, same: 0 };
        e.cases++;
        t.byEntry[c.packet.from] = e;
        if (c.verdict === "differs") {
          t.differs++;
          console.log(`  ${c.packet.flow}\n    real:   ${c.real}\n    ovnsim: ${c.ours}`);
          continue;
        }
        t.same++;
        e.same++;
        if (c.verdict !== "same") t.stated[c.verdict] = (t.stated[c.verdict] ?? 0) + 1;
      }
      configs.push(fig);
      console.log(
        `seed ${seed}: flows ${res.flows.identical}/${res.flows.expected} identical, ${res.flows.extra} extra (${res.renumbered.matched} up to group/meter numbering, ${res.sharedClause} up to a shared clause's cookie), groups ${res.groupsSame ? "same" : "differ"}, meters ${res.metersSame ? "same" : "differ"}; traces ${t.same}/${t.cases} agree`,
      );
      for (const p of res.renumbered.problems) console.log(`  renumbering: ${p}`);
      for (const l of res.flows.missing) console.log(`- ${l}`);
      for (const l of res.flows.unexpected) console.log(`+ ${l}`);
      // Written after each configuration: a long run stopped early keeps what it measured.
      writeFileSync(outJson, `${JSON.stringify(totals(configs), null, 2)}\n`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  write(outJson, configs);
}
