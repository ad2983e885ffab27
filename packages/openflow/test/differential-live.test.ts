// Live differential test of issue 11 against real OVS 3.1 (../shared/oracle): a few hundred
// cases of gen-differential.ts (OVN br-int shapes, Kube-OVN br-provider, random tables, VLAN
// access/trunk ports, patch and tunnel topologies, conntrack chains) from a FRESH seed each run
// (printed; set OVNSIM_SEED to replay one), traced by the real ofproto/trace and by ovnsim on
// the captured bundle. Cases whose action families are all in SUPPORTED must agree (full text,
// flood order aside) unless the difference is stated in stated.ts with its reason. SUPPORTED is
// every family but the open ones; those are scored and printed, not asserted.
// The full-space score over ≥ 5,000 cases is scripts/differential-openflow.ts's job.
import { randomInt } from "node:crypto";
import { liveSeed, oracleGate, startSandbox } from "@ovnsim/oracle";
import { describe, expect, it } from "vitest";
import {
  type CaseResult,
  diffSignature,
  formatTable,
  type RunReport,
  runDifferential,
  score,
  scoreByFamily,
} from "./differential.js";
import { FAMILIES, type Family, generateProgram } from "./gen-differential.js";

const gate = oracleGate("ovs");

/**
 * The families the CI compares: every family of the generator. Each agrees over the fresh
 * 5,000-case runs (bench/results/openflow-differential.json, flood order and the differences
 * stated in stated.ts aside: datapath meter ids, ct(nat) in a group bucket, OpenFlow 1.0
 * set_tunnel, flood order in the text). A family whose open bug is known would be listed in OPEN
 * with it; controller and group-select-hash were (seed 880301: OFPR_GROUP through a patch port,
 * fixed, golden bucket-reason).
 */
const OPEN: ReadonlySet<Family> = new Set<Family>([]);
const SUPPORTED: readonly Family[] = FAMILIES.filter((f) => !OPEN.has(f));

/**
 * A run fails when more than 2% (at least 2) of its checked cases differ: fresh seeds may still
 * find a real bug now and then; every difference is printed with its reproduction either way,
 * so none goes unseen. (The patch-port IN_PORT bounce of seed 619027632 and the conjunctive
 * megaflow of seed 11 are fixed: goldens patch-bounce and conj-megaflow.)
 */
function expectWithinOpenBugs(failures: readonly string[], checked: number): void {
  if (failures.length > 0)
    console.log(
      `${failures.length}/${checked} differing cases (open bugs):\n${failures.slice(0, 8).join("\n")}`,
    );
  expect(failures.length, failures.slice(0, 8).join("\n")).toBeLessThanOrEqual(
    Math.max(2, Math.floor(checked * 0.02)),
  );
}

/** `OVNSIM_SEED` replays a run; otherwise a fresh seed each run (the point of this test). */
const seed = process.env.OVNSIM_SEED !== undefined ? liveSeed() : randomInt(1, 2 ** 31 - 1);
const supported = new Set<Family>(SUPPORTED);

describe.skipIf(gate.skip)(`live differential generator vs ovs-vswitchd (OVS 3.1), seed ${seed}`, () => {
  const run = async (cases: number, restrict: boolean, name: string): Promise<RunReport> => {
    gate.assert();
    return runDifferential(
      { seed, cases, casesPerProgram: 15, programsPerBatch: 40, sandboxName: name },
      (n) => startSandbox({ name: n, ovn: false }),
      (s, id, n) => generateProgram(restrict ? s : s ^ 0x5bd1e995, id, n, restrict ? supported : undefined),
      () => performance.now(),
    );
  };

  const check = (rep: RunReport): { checked: CaseResult[]; failures: string[] } => {
    const checked = rep.results.filter(
      (r) => r.families.every((f) => supported.has(f)) && !r.actual.startsWith("ERROR: bundle load:"),
    );
    const failures = checked
      .filter((r) => !r.full && r.stated === undefined)
      .map(
        (r) =>
          `program ${r.program} (${r.kind}) [${r.families.join(",")}]: ovs-appctl ofproto/trace ${r.case.bridge} '${r.case.flow}'${r.case.ctNext.map((s) => ` --ct-next ${s}`).join("")}\n    ${diffSignature(r)}\n    real:   ${r.firstDiff?.expected}\n    ovnsim: ${r.firstDiff?.actual}`,
      );
    return { checked, failures };
  };

  it("agrees on every case of the supported families (programs drawn from them only)", async () => {
    const rep = await run(225, true, "ofdiffs");
    const { checked, failures } = check(rep);
    console.log(
      `seed ${seed}, supported families only: ${rep.casesCompared} cases (${rep.programs} programs, ${rep.programsDiscarded} refused by ovs-ofctl), ${checked.length} checked, ${rep.seconds.total} s\n${formatTable(scoreByFamily(checked), score(checked))}`,
    );
    expect(rep.casesCompared).toBeGreaterThan(150);
    expectWithinOpenBugs(failures, checked.length);
  }, 120_000);

  it("on the whole space, agrees on the cases that touch only supported families (the rest reported)", async () => {
    const rep = await run(120, false, "ofdiffa");
    const { checked, failures } = check(rep);
    console.log(
      `seed ${seed}, whole space: ${rep.casesCompared} cases, ${checked.length} in supported families\n${formatTable(rep.byFamily, rep.overall)}\nunsupported, top differences:\n${rep.differenceSignatures
        .slice(0, 8)
        .map((d) => `${String(d.count).padStart(4)}  ${d.signature}`)
        .join("\n")}`,
    );
    expectWithinOpenBugs(failures, checked.length);
  }, 120_000);
});
