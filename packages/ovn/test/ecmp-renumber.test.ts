// Why and how the --nbctl ovn-trace differential renames ECMP ids (run-dependent.ts), on goldens
// recorded from live ovn-northd 23.03 / ovn-trace (golden/ecmp-ids: config.nbctl loaded into
// two fresh sandboxes; sb/ and the *-select-N.txt traces are from the first, `ovn-trace --all
// --select-id=N`; other-run.lflow-list.txt is the second run's southbound).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseNbctl } from "../src/nb/nbctl.js";
import { northd } from "../src/northd/compile.js";
import { sbModelFromNb } from "../src/sb/from-nb.js";
import { parseLflowList } from "../src/sb/lflow-list.js";
import { readSbBundle } from "../src/sb/model.js";
import { LogicalNetwork } from "../src/trace/exec.js";
import { renderTrace } from "../src/trace/render.js";
import type { LogicalFlow } from "../src/types.js";
import { renumberEcmp } from "./run-dependent.js";
import { inRealTieOrder, maskSb } from "./trace-differential.js";

const DIR = path.resolve(import.meta.dirname, "golden/ecmp-ids");
const files: Record<string, string> = {};
for (const f of readdirSync(path.join(DIR, "sb"))) files[f] = readFileSync(path.join(DIR, "sb", f), "utf8");
const real = readSbBundle(files);
const other = parseLflowList(readFileSync(path.join(DIR, "other-run.lflow-list.txt"), "utf8")).flows;
const db = parseNbctl(readFileSync(path.join(DIR, "config.nbctl"), "utf8"), { file: "config.nbctl" });
const ours = sbModelFromNb(db, northd(db, "ovn-23.03"));

const MF =
  'inport == "p1" && eth.src == 0a:00:00:00:00:01 && eth.dst == 00:00:00:00:01:01 && ip4.src == 10.0.0.2 && ip.ttl == 64 && udp.src == 5000 && udp.dst == 53';
/** The recorded traces: through the 4-member route group and the 2-member policy group. */
const CASES = [
  ...[1, 2, 3, 4].map((s) => ({ file: `route-select-${s}.txt`, s, dst: "192.168.0.9" })),
  ...[1, 2].map((s) => ({ file: `policy-select-${s}.txt`, s, dst: "198.51.101.9" })),
];

const ecmpFlows = (fs: readonly LogicalFlow[]) =>
  fs
    .filter((f) => /reg8\[0\.\.15\] (= [1-9]|== [1-9])/.test(`${f.match} ${f.actions}`))
    .map((f) => `${f.datapath} ${f.stage} ${f.priority} ${f.match} -> ${f.actions}`)
    .sort();

function traceText(flows: readonly LogicalFlow[], selectId: number, dst: string): string {
  const net = new LogicalNetwork({ ...ours, flows: inRealTieOrder(flows, real.flows) });
  const r = net.trace("sw0", `${MF} && ip4.dst == ${dst}`, { ct: [], selectId });
  return maskSb(renderTrace(r, ["detailed", "summary", "minimal"]));
}
const realText = (file: string) => maskSb(readFileSync(path.join(DIR, file), "utf8"));

describe("ECMP ids of real northd follow the routes' random uuid order", () => {
  it("two runs of the same configuration number the groups and members differently", () => {
    expect(ecmpFlows(other)).not.toEqual(ecmpFlows(real.flows));
    // …and only the numbering differs: one consistent renaming makes them identical.
    const ren = renumberEcmp(other, real.flows);
    expect(ren.refused).toEqual([]);
    expect(ren.renamed.length).toBeGreaterThan(0);
    expect(ecmpFlows(ren.flows)).toEqual(ecmpFlows(real.flows));
  });

  it("ovnsim's numbering differs from this run's; renamed, its ECMP flows are the real ones", () => {
    expect(ecmpFlows(ours.flows)).not.toEqual(ecmpFlows(real.flows));
    const ren = renumberEcmp(ours.flows, real.flows);
    expect(ren.refused).toEqual([]);
    expect(ren.renamed).toEqual(["lr0 lr_in_ip_routing", "lr0 lr_in_policy"]);
    expect(ecmpFlows(ren.flows)).toEqual(ecmpFlows(real.flows));
    // Nothing but ECMP ids is rewritten.
    const changed = ren.flows.filter((f, i) => f !== ours.flows[i]);
    expect(changed.every((f) => /^lr_in_(ip_routing|policy)(_ecmp)?$/.test(f.stage))).toBe(true);
  });

  it.each(CASES)(
    "renamed, ovnsim traces $file as the real ovn-trace (uuids, hints masked)",
    ({ file, s, dst }) => {
      const ren = renumberEcmp(ours.flows, real.flows);
      expect(traceText(ren.flows, s, dst)).toBe(realText(file));
    },
  );

  it("without the renaming, --select-id picks other next hops than the real run", () => {
    const differing = CASES.filter(({ file, s, dst }) => traceText(ours.flows, s, dst) !== realText(file));
    expect(differing.length).toBeGreaterThan(0);
  });
});

describe("the renaming never hides a real difference", () => {
  /** The real flows with one change that is not a renumbering. */
  const mutate = (from: string, to: string): LogicalFlow[] =>
    real.flows.map((f) => (f.actions.includes(from) ? { ...f, actions: f.actions.replace(from, to) } : f));

  it("a member with another next hop: nothing renamed, and the trace through it differs", () => {
    const altered = mutate("reg0 = 172.16.0.241;", "reg0 = 172.16.0.249;");
    const ren = renumberEcmp(ours.flows, altered);
    expect(ren.refused).toEqual(["lr0 lr_in_ip_routing: group 1 has no real counterpart"]);
    // The policy groups are unaffected and still renamed.
    expect(ren.renamed).toEqual(["lr0 lr_in_policy"]);
    // The real member 2 of the 4-member group goes to .241 (golden); the altered real one to .249.
    expect(realText("route-select-2.txt")).toContain("reg0 = 172.16.0.241;");
    const net = (flows: readonly LogicalFlow[]) => new LogicalNetwork({ ...ours, flows: [...flows] });
    const pick = (n: LogicalNetwork) =>
      maskSb(
        renderTrace(n.trace("sw0", `${MF} && ip4.dst == 192.168.0.9`, { ct: [], selectId: 2 }), ["minimal"]),
      );
    expect(pick(net(ren.flows))).not.toBe(pick(net(altered)));
  });

  it("a head flow with another action: refused", () => {
    const altered = real.flows.map((f) =>
      f.stage === "lr_in_policy" && /select/.test(f.actions) && f.priority === 101
        ? { ...f, actions: f.actions.replace("reg8[0..15]", "flags.loopback = 1; reg8[0..15]") }
        : f,
    );
    const ren = renumberEcmp(ours.flows, altered);
    expect(ren.refused.map((x) => x.split(":")[0])).toEqual(["lr0 lr_in_policy"]);
    expect(ecmpFlows(ren.flows).filter((x) => x.includes("lr_in_policy"))).toEqual(
      ecmpFlows(ours.flows).filter((x) => x.includes("lr_in_policy")),
    );
  });

  it("a member moved to another group (not a bijection): refused", () => {
    // Real member 4 of route group 2 moved into group 1 as a 3rd member.
    const altered = real.flows.map((f) =>
      f.stage === "lr_in_ip_routing_ecmp" && f.match === "reg8[0..15] == 2 && reg8[16..31] == 4"
        ? { ...f, match: "reg8[0..15] == 1 && reg8[16..31] == 3" }
        : f,
    );
    const ren = renumberEcmp(ours.flows, altered);
    expect(ren.refused.map((x) => x.split(":")[0])).toEqual(["lr0 lr_in_ip_routing"]);
  });

  it("a router missing from the real southbound: refused, left as it was", () => {
    const ren = renumberEcmp(
      ours.flows,
      real.flows.filter((f) => f.datapath !== "lr0"),
    );
    expect(ren.renamed).toEqual([]);
    expect(ren.flows).toEqual(ours.flows);
  });
});
