// Records the OpenFlow differential score of issue 11: ≥ 5,000 fresh random cases
// (test/gen-differential.ts) traced by the real OVS 3.1 ofproto/trace and by ovnsim, scored
// per action family, with minimal reproductions of differing cases.
//   npx tsx --conditions=@ovnsim/source packages/openflow/scripts/differential-openflow.ts \
//     --cases 5000 --seed 1 --out bench/results/openflow-differential.json [--repro 12]
// Needs the real tools (../shared/oracle); OVNSIM_SHARED points at shared/.
import { writeFileSync } from "node:fs";
import { startSandbox } from "@ovnsim/oracle";
import { runDifferential } from "../test/differential.js";
import { generateProgram } from "../test/gen-differential.js";
import { formatTable } from "../test/differential.js";

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const cases = Number(arg("cases", "5000"));
const seed = Number(arg("seed", process.env.OVNSIM_SEED ?? "1"));
const out = arg("out", "");
const repro = Number(arg("repro", "12"));
const full = process.argv.includes("--all-cases");

const report = await runDifferential(
  { seed, cases, reproductions: repro, casesPerProgram: 16, log: (l) => console.error(l) },
  (name) => startSandbox({ name, ovn: false }),
  generateProgram,
  () => performance.now(),
);

console.log(
  `seed ${seed}: ${report.casesCompared} cases compared (${report.programs} programs, ${report.programsDiscarded} discarded: the real ovs-ofctl refused a bridge; ${report.refusedLines} flow/group lines refused and dropped; ${report.realTraceErrors} packets the real trace refused), ${report.seconds.total} s`,
);
console.log(formatTable(report.byFamily, report.overall));
console.log("\nby program kind:");
console.log(formatTable(report.byKind, report.overall).split("\n").slice(1).join("\n"));
console.log("\nstated differences (test/stated.ts), counted as agreeing:");
for (const [why, n] of Object.entries(report.statedDifferences))
  console.log(`${String(n).padStart(5)}  ${why}`);
console.log("\ntop differences (first differing line, real ≠ ovnsim):");
for (const d of report.differenceSignatures.slice(0, 15))
  console.log(`${String(d.count).padStart(5)}  ${d.signature}`);
if (out) {
  const { results, ...rest } = report;
  const differing = results.filter((r) => !r.full && r.stated === undefined);
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        what: "ovnsim ofproto/trace vs real OVS 3.1 on random programs and packets (packages/openflow/test/gen-differential.ts)",
        flood:
          "dp/full 'flood order aside' compare the packets that leave (port + headers) as a multiset; 'strict' compares the text as printed",
        stated:
          "dp/full count a case that differs only in a way test/stated.ts states (with its reason) as agreeing; dpRaw/fullRaw do not; statedDifferences counts them by reason",
        ...rest,
        differingCases: differing.slice(0, 40).map((r) => ({
          program: r.program,
          kind: r.kind,
          families: r.families,
          trace: `${r.case.bridge} ${r.case.flow}${r.case.ctNext.map((s) => ` --ct-next ${s}`).join("")}`,
          firstDiff: r.firstDiff,
        })),
        ...(full ? { results } : {}),
      },
      null,
      1,
    )}\n`,
  );
  console.log(`\nwritten ${out}`);
}
