// Same-priority overlapping flows of real ovn-northd 23.03 and the trace through them.
// ovn-trace takes the first matching flow of the highest priority in its IDL's order, i.e. by
// the flows' random uuids: the same NB traced on two runs of northd can name different flows
// (golden/tie-order/<scenario>: config.nbctl loaded into fresh sandboxes; run-a and run-b are
// two runs with the one choice and the other).
// - mcast: northd itself emits, at priority 110 of ls_in/ls_out_pre_lb and ls_out_pre_acl,
//   `eth.mcast` and `nd || …` (next;) next to `ip && inport/outport == "<router or localnet
//   port>"` (next; or in ls_out_pre_lb `ct_clear; next;` when the switch has load balancers and
//   no stateful ACL). A multicast IP packet to the router port matches both: the detailed and
//   summary texts depend on the uuids (4 of 6 runs one way, 2 the other), the outcome (minimal
//   trace) does not.
// - acl: a configuration with two overlapping ACLs at one priority (drop on pg0, allow-related on
//   pg1, the port in both): the outcome itself depends on the uuids (3 of 5 runs delivered, 2
//   dropped) — in the real datapath too, the configuration leaves it undefined.
// What can be decided, ovnsim decides: over a real southbound it follows that southbound's
// order (logical-flow.txt), reproducing either run exactly; from --nbctl there is no uuid order
// to follow, and ovnsim takes its northd's order, which gives one of the texts real ovn-trace
// prints (the --nbctl differential takes the real southbound's order where it has one and also
// reports the score in ovnsim's own order: nbctlOwnTieOrder).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseNbctl } from "../src/nb/nbctl.js";
import { northd } from "../src/northd/compile.js";
import { sbModelFromNb } from "../src/sb/from-nb.js";
import { readSbBundle } from "../src/sb/model.js";
import { LogicalNetwork } from "../src/trace/exec.js";
import { renderTrace } from "../src/trace/render.js";
import { maskSb, minimalSection } from "./trace-differential.js";

const GOLD = path.resolve(import.meta.dirname, "golden/tie-order");

function bundle(scen: string, run: string) {
  const dir = path.join(GOLD, scen, run, "sb");
  const files: Record<string, string> = {};
  for (const f of readdirSync(dir)) files[f] = readFileSync(path.join(dir, f), "utf8");
  return readSbBundle(files);
}
const realText = (scen: string, run: string) => readFileSync(path.join(GOLD, scen, run, "trace.txt"), "utf8");
const ovnsim = (net: LogicalNetwork, mf: string) =>
  renderTrace(net.trace("sw0", mf, { ct: [] }), ["detailed", "summary", "minimal"]);
function fromNbctl(scen: string) {
  const db = parseNbctl(readFileSync(path.join(GOLD, scen, "config.nbctl"), "utf8"), {
    file: "config.nbctl",
  });
  return sbModelFromNb(db, northd(db, "ovn-23.03"));
}

const SCENARIOS = [
  {
    scen: "mcast",
    mf: 'inport == "p1" && eth.src == 0a:00:00:00:00:01 && eth.dst == 01:00:5e:00:00:fb && ip4.src == 10.0.0.2 && ip4.dst == 224.0.0.251 && ip.ttl == 1 && udp.src == 5353 && udp.dst == 5353',
    stage: "ls_out_pre_lb",
    priority: 110,
    tied: { a: "eth.mcast -> next;", b: 'ip && outport == "sw0-lr0" -> ct_clear; next;' },
    outcomeDecided: true,
  },
  {
    scen: "acl",
    mf: 'inport == "p1" && eth.src == 0a:00:00:00:00:01 && eth.dst == 0a:00:00:00:00:02 && ip4.src == 10.0.0.2 && ip4.dst == 10.0.0.3 && ip.ttl == 64 && tcp.src == 5000 && tcp.dst == 80',
    stage: "ls_in_acl",
    priority: 3000,
    tied: {
      a: "reg0[10] == 1 && (inport == @pg0 && ip4) -> ct_commit { ct_mark.blocked = 1; }; /* drop */",
      b: "reg0[8] == 1 && (inport == @pg1 && ip4) -> next;",
    },
    outcomeDecided: false,
  },
] as const;

describe.each(SCENARIOS)(
  "priority ties in real northd 23.03 ($scen): ovn-trace follows the uuid order",
  (sc) => {
    const a = maskSb(realText(sc.scen, "run-a"));
    const b = maskSb(realText(sc.scen, "run-b"));
    const flowLine = (f: { match: string; actions: string }) => `${f.match} -> ${f.actions}`;
    /** The detailed lines of the tied stage and priority. */
    const steps = (t: string) =>
      (t.split("# Summary trace.")[0] ?? t).match(
        new RegExp(`\\d+\\. ${sc.stage}: [^\\n]*priority ${sc.priority},[^\\n]*`, "g"),
      ) ?? [];
    const named = (t: string, tied: string) =>
      steps(t).some((l) => l.includes(`${tied.split(" -> ")[0]}, priority ${sc.priority},`));

    it("two runs of the same configuration trace the same packet through different tied flows", () => {
      expect(a).not.toBe(b);
      // Run b's trace names the flow run a's never names at that step.
      expect(named(a, sc.tied.a)).toBe(true);
      expect(named(b, sc.tied.b)).toBe(true);
      expect(named(a, sc.tied.b)).toBe(false);
      // Both flows are in both southbounds, at the same priority, with different actions.
      for (const run of ["run-a", "run-b"]) {
        const tied = bundle(sc.scen, run)
          .flows.filter((f) => f.datapath === "sw0" && f.stage === sc.stage && f.priority === sc.priority)
          .map(flowLine);
        expect(tied).toEqual(expect.arrayContaining([sc.tied.a, sc.tied.b]));
      }
    });

    it(
      sc.outcomeDecided ? "the outcome is decided: identical minimal traces" : "even the outcome differs",
      () => {
        expect(minimalSection(a) === minimalSection(b)).toBe(sc.outcomeDecided);
      },
    );

    it.each(["run-a", "run-b"])("over the real southbound of %s, ovnsim follows its order exactly", (run) => {
      expect(ovnsim(new LogicalNetwork(bundle(sc.scen, run)), sc.mf)).toBe(realText(sc.scen, run));
    });

    it("from --nbctl ovnsim takes its northd's order: one of the texts the real tool prints", () => {
      const ours = fromNbctl(sc.scen);
      expect(maskSb(ovnsim(new LogicalNetwork(ours), sc.mf))).toBe(a);
      // The tie is real in ovnsim's flows too: the same flows at that priority, in the order it takes.
      const tied = ours.flows
        .filter((f) => f.datapath === "sw0" && f.stage === sc.stage && f.priority === sc.priority)
        .map(flowLine);
      expect(tied.indexOf(sc.tied.a)).toBeGreaterThanOrEqual(0);
      expect(tied.indexOf(sc.tied.a)).toBeLessThan(tied.indexOf(sc.tied.b));
    });
  },
);
