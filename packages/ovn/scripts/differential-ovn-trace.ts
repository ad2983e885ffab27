// Records the ovn-trace differential score of issue 12: random NB configurations with
// routers, NAT, load balancers, ECMP, policies, ACLs and IPv6 (test/gen-trace-differential.ts)
// in live real ovn-northd 23.03; random microflows traced over the captured southbound by the
// real ovn-trace and by ovnsim; outcome (minimal section) and full --all text compared.
//   npx tsx --conditions=@ovnsim/source packages/ovn/scripts/differential-ovn-trace.ts \
//     --cases 2000 --seed 1 --out bench/results/ovn-trace-differential.json \
//     [--per-config 25] [--features default|all|+router-lb|router,nat,…] [--keep DIR] [--all-cases]
//     [--budget-s SECONDS]  (start no configuration after that: a time-boxed run)
//     [--replay DIR]  (no real tools: compare again against what a --keep DIR run stored, e.g.
//                      after a change of ovnsim; same --seed and --features as that run)
// Needs the real tools (../shared/oracle); OVNSIM_SHARED points at shared/.
import { writeFileSync } from "node:fs";
import { startSandbox } from "@ovnsim/oracle";
import { parseFeatures } from "../test/gen-trace-differential.js";
import { formatScores, replayTraceDifferential, runTraceDifferential } from "../test/trace-differential.js";

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const cases = Number(arg("cases", "2000"));
const seed = Number(arg("seed", process.env.OVNSIM_SEED ?? "1"));
const out = arg("out", "");
const keep = arg("keep", "");
const perConfig = Number(arg("per-config", "25"));
const features = parseFeatures(arg("features", "default"));
const all = process.argv.includes("--all-cases");
const budget = arg("budget-s", "");
const replay = arg("replay", "");

const opts = {
  seed,
  cases,
  perConfig,
  features,
  log: (l: string) => console.error(l),
  ...(keep ? { keep } : {}),
  ...(budget ? { budgetSeconds: Number(budget) } : {}),
};
const rep = replay
  ? replayTraceDifferential({ ...opts, keep: replay })
  : runTraceDifferential(opts, (name) => startSandbox({ name, ovs: false }));
console.log(
  `seed ${seed}: ${rep.casesCompared} cases over ${rep.configs} configurations (features ${rep.features.join(",")}; ${rep.refusedLines} config lines the real ovn-nbctl refused; ${rep.realCrashes} cases the real ovn-trace aborted on, not compared), ${rep.seconds} s`,
);
console.log(formatScores(rep));
console.log("\ntop differences (first differing line, real ≠ ovnsim):");
for (const d of rep.differenceSignatures.slice(0, 15))
  console.log(`${String(d.count).padStart(5)}  ${d.signature}`);
console.log(
  `\n--nbctl ECMP ids renamed to the real ones on ${rep.nbctlEcmpRenamed.length} router stage pairs; no consistent renaming on ${rep.nbctlEcmpRefused.length}${rep.nbctlEcmpRefused.length ? `: ${rep.nbctlEcmpRefused.join("; ")}` : ""}; MAC sets of self-originated ARP flows put in the real order on ${rep.nbctlSsetOrderAligned} flows`,
);
console.log("\ntop differences of the --nbctl path (first differing line, real ≠ ovnsim):");
for (const d of rep.nbctlDifferenceSignatures.slice(0, 15))
  console.log(`${String(d.count).padStart(5)}  ${d.signature}`);
const own = rep.nbctlOwnTieOrder;
console.log(
  `\n--nbctl with priority ties in ovnsim's own order (not the real southbound's): ${own.outcome}/${own.cases} outcome (${own.outcomePct}%), ${own.full}/${own.cases} full text (${own.fullPct}%); top differences:`,
);
for (const d of rep.nbctlOwnTieOrderSignatures.slice(0, 15))
  console.log(`${String(d.count).padStart(5)}  ${d.signature}`);
if (out) {
  const { results, ...rest } = rep;
  const differing = results.filter((r) => !r.full);
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        what: "ovnsim ovn-trace vs real ovn-trace 23.03 over the same southbound (live ovn-northd 23.03) on random NB configurations and microflows (packages/ovn/test/gen-trace-differential.ts)",
        compared:
          "outcome = the '# Minimal trace.' section (fate and header changes); full = the whole --all text (detailed, summary, minimal). Normalisation: ovn-trace's random ct_lb backend (no --lb-dst naming one) and unpinned select member are matched by rerunning ovnsim with each fixed choice. nbctl = the same cases over the southbound ovnsim derives itself from the configuration (ovnsim's northd 23.03 + sbModelFromNb, the `ovn-trace --nbctl` path), flow uuids and northd.c hints masked; what real northd leaves to its random NB row uuids taken from the real southbound, only where ovnsim's flows are equal up to it (test/run-dependent.ts): ECMP group / member ids (one consistent renaming per router, nbctlEcmpRenamed / nbctlEcmpRefused), the order of NAT MACs sharing an hmap bucket in ls_in_l2_lkup 75 (nbctlSsetOrderAligned), and priority ties between overlapping flows (ovn-trace breaks them by uuid order). nbctlOwnTieOrder = the --nbctl path with ties in ovnsim's own northd order instead",
        ...(replay
          ? {
              replay:
                "compared again, without the real tools, against the real ovn-trace texts and southbounds this seed's run kept (--keep); `seconds` is the replay's",
            }
          : {}),
        ...rest,
        nbctlDifferingCases: results
          .filter((r) => r.nbctl && !r.nbctl.full)
          .slice(0, 40)
          .map((r) => ({
            configSeed: r.configSeed,
            trace: r.args.map((a) => `'${a}'`).join(" "),
            nbctl: r.nbctl,
          })),
        differingCases: differing.slice(0, 60).map((r) => ({
          configSeed: r.configSeed,
          trace: r.args.map((a) => `'${a}'`).join(" "),
          features: r.features,
          outcome: r.outcome,
          firstDiff: r.firstDiff,
        })),
        ...(all ? { results } : {}),
      },
      null,
      1,
    )}\n`,
  );
  console.log(`\nwritten ${out}`);
}
