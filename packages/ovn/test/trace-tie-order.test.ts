// Same-priority overlapping flows of real ovn-northd 23.03 and the trace through them. northd
// emits, at priority 110 of ls_in/ls_out_pre_lb and ls_out_pre_acl, `eth.mcast` and `nd || …`
// (next;) next to `ip && inport/outport == "<router or localnet port>"` (next; — or in
// ls_out_pre_lb `ct_clear; next;` when the switch has load balancers and no stateful ACL). A
// multicast IP packet to such a port matches both. ovn-trace takes the first of the tied flows
// in its IDL's order, i.e. by the flows' random uuids: the same NB traced on two runs of northd
// names different flows (golden/tie-order: config.nbctl loaded into fresh sandboxes; run-a and
// run-b are two of six runs, the one choice and the other). Only the detailed and summary text
// depend on it; the outcome (the minimal trace) is the same either way. What can be decided,
// ovnsim decides: over a real southbound it follows that southbound's order (logical-flow.txt),
// reproducing either run exactly; from --nbctl there is no uuid order to follow, and ovnsim
// takes its northd's order — one of the texts real ovn-trace prints, with the outcome of both.
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

const DIR = path.resolve(import.meta.dirname, "golden/tie-order");
const MF =
  'inport == "p1" && eth.src == 0a:00:00:00:00:01 && eth.dst == 01:00:5e:00:00:fb && ip4.src == 10.0.0.2 && ip4.dst == 224.0.0.251 && ip.ttl == 1 && udp.src == 5353 && udp.dst == 5353';

function bundle(run: string) {
  const files: Record<string, string> = {};
  for (const f of readdirSync(path.join(DIR, run, "sb")))
    files[f] = readFileSync(path.join(DIR, run, "sb", f), "utf8");
  return readSbBundle(files);
}
const realText = (run: string) => readFileSync(path.join(DIR, run, "mcast4.txt"), "utf8");
const trace = (net: LogicalNetwork) =>
  renderTrace(net.trace("sw0", MF, { ct: [] }), ["detailed", "summary", "minimal"]);
const db = parseNbctl(readFileSync(path.join(DIR, "config.nbctl"), "utf8"), { file: "config.nbctl" });
const ours = sbModelFromNb(db, northd(db, "ovn-23.03"));
const TIED = /ls_out_pre_lb[^\n]*priority 110/;

describe("priority ties in real northd 23.03: the trace follows the random uuid order", () => {
  const a = maskSb(realText("run-a"));
  const b = maskSb(realText("run-b"));

  it("two runs of the same configuration trace the same packet through different tied flows", () => {
    expect(a).not.toBe(b);
    expect(a.match(/\d+\. ls_out_pre_lb: [^\n]*/g)).toContain(
      "1. ls_out_pre_lb: eth.mcast, priority 110, uuid X",
    );
    expect(b.match(/\d+\. ls_out_pre_lb: [^\n]*/g)).toContain(
      '1. ls_out_pre_lb: ip && outport == "sw0-lr0", priority 110, uuid X',
    );
    // Both flows are in both southbounds, at the same priority, with different actions.
    for (const run of ["run-a", "run-b"]) {
      const tied = bundle(run)
        .flows.filter((f) => f.datapath === "sw0" && f.stage === "ls_out_pre_lb" && f.priority === 110)
        .map((f) => `${f.match} -> ${f.actions}`);
      expect(tied).toEqual(
        expect.arrayContaining(["eth.mcast -> next;", 'ip && outport == "sw0-lr0" -> ct_clear; next;']),
      );
    }
  });

  it("the outcome is decided: the minimal traces are identical", () => {
    expect(minimalSection(a)).toBe(minimalSection(b));
    // …and only the tied flow's lines differ (its match, and the ct_clear it runs).
    const la = a.split("\n");
    const lb = b.split("\n");
    const onlyA = la.filter((l) => !lb.includes(l));
    const onlyB = lb.filter((l) => !la.includes(l));
    expect(onlyA.every((l) => TIED.test(l))).toBe(true);
    expect(onlyB.every((l) => TIED.test(l) || l.trim() === "ct_clear;")).toBe(true);
  });

  it.each(["run-a", "run-b"])("over the real southbound of %s, ovnsim follows its order exactly", (run) => {
    expect(trace(new LogicalNetwork(bundle(run)))).toBe(realText(run));
  });

  it("from --nbctl ovnsim takes its northd's order: one of the real texts, the outcome of both", () => {
    const text = maskSb(trace(new LogicalNetwork(ours)));
    expect(text).toBe(a);
    expect(minimalSection(text)).toBe(minimalSection(b));
    // The tie is real in ovnsim's flows too: the same two flows at 110, in the order it takes.
    const tied = ours.flows
      .filter((f) => f.datapath === "sw0" && f.stage === "ls_out_pre_lb" && f.priority === 110)
      .map((f) => f.match);
    expect(tied.indexOf("eth.mcast")).toBeLessThan(tied.indexOf('ip && outport == "sw0-lr0"'));
  });
});
