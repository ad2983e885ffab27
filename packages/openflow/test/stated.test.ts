// The differences test/stated.ts keeps on purpose, each pinned on traces recorded from real
// OVS 3.1 (scripts/record-action-goldens.sh with OVNSIM_GOLDEN_OUT=packages/openflow/test/stated):
// ovnsim must differ there in exactly the stated way, and agree on every other case of the
// scenario. When ovnsim learns to agree, the test fails: drop the stated difference then.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compareCase } from "./differential.js";
import type { GenProgram } from "./gen-differential.js";
import { loadScenario, readCases, runOvnsim } from "./harness.js";
import { STATED_DIFFERENCES } from "./stated.js";

const DIR = join(import.meta.dirname, "stated");

/** Per scenario: the stated reason its differing cases must carry, and how many differ. */
const EXPECT: Record<string, { readonly why: RegExp; readonly differing: number }> = {
  // br1's meters are datapath meters 1 and 2 (br0's took 0); ovnsim ranks br1's own: 0 and 1.
  "stated-meter-ids": { why: /datapath meter ids/, differing: 3 },
  // Two buckets' ct(nat) share a recirc id: OVS prints the last bucket's NAT, then none.
  "stated-bucket-nat": { why: /ct\(nat\) in a group bucket/, differing: 1 },
  // set_tunnel:5 and set_tunnel64 added over OpenFlow 1.0 dump as set_field:…->tun_id, like the
  // load: next to them; ovnsim prints the load: spelling for all three.
  "stated-set-tunnel": { why: /OpenFlow 1\.0 set_tunnel/, differing: 2 },
  // A NORMAL flood reaching patch0 and patch2 (both to br1): this run of OVS traced patch0's
  // peer first, ovnsim goes in port order (patch2 is 8, patch0 is 9); br1's ct(nat) bucket then
  // printed an un-NATed "Modified flow:" (the released copy) and resumed un-NATed.
  "stated-flood-bucket-nat": {
    why: /^both at once: a flood's peer-bridge order and ct\(nat\)/,
    differing: 2,
  },
  // A NORMAL flood reaching patch0, patch2 and patch4 (all to br1), each peer forking a
  // ct(table=5): this run of OVS flooded LOCAL, patch0, p1, patch4, patch2, ovnsim goes in port
  // order (p1, patch4 = 7, patch2 = 8, patch0 = 9, LOCAL), so the recirc ids and the order of the
  // resumed passes differ too (live-router seed 1888926483). The ARP case floods alike but no
  // peer forks.
  "stated-flood-recirc": { why: /^flood order with recirculations/, differing: 2 },
};

const prog = { id: 0, kind: "stated", bridges: [], cookieFamilies: new Map() } as unknown as GenProgram;

describe("stated differences from OVS 3.1 (test/stated.ts), on recorded traces", () => {
  const scenarios = readdirSync(DIR).filter((s) => !s.includes("."));
  it("every recorded scenario is expected, every expectation recorded", () => {
    expect(scenarios.sort()).toEqual(Object.keys(EXPECT).sort());
  });
  for (const s of scenarios) {
    it(s, () => {
      const sw = loadScenario(DIR, s);
      const want = EXPECT[s]!;
      let differing = 0;
      for (const c of readCases(DIR, s)) {
        const [bridge, flow, ...rest] = c.args;
        const ctNext = rest.filter((_, i) => rest[i - 1] === "--ct-next");
        const r = compareCase(
          prog,
          { bridge: bridge!, flow: flow!, ctNext },
          c.expected,
          runOvnsim(sw, c.args),
        );
        if (r.full) continue;
        differing++;
        expect(r.stated, `${c.args.join(" ")}: ${r.firstDiff?.expected} ≠ ${r.firstDiff?.actual}`).toMatch(
          want.why,
        );
      }
      expect(differing).toBe(want.differing);
    });
  }
  it("each stated difference says why", () => {
    for (const d of STATED_DIFFERENCES) expect(d.why.length).toBeGreaterThan(20);
  });
});
