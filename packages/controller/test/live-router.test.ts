// Live differentials on random router configurations (test/router-scenario.ts), against the
// real ovn-northd + ovn-controller 23.03 and ovs-vswitchd 3.1 of ../shared/oracle:
//  1. br-int's flows: ovnsim's (from the SB and node captures alone) vs the real dump, text for
//     text, cookies included;
//  2. ofproto/trace: random packets from the local VIFs, the Geneve tunnel and the localnet
//     patch ports (test/brint-differential.ts), traced by ovnsim's ofproto-trace over the bundle
//     `ovnsim ovn-controller --out` writes and by `ovs-appctl ofproto/trace br-int` over the
//     real br-int: the datapath actions must agree (flood order aside, KNOWN_TRACE_DIFFERENCES).
// A fresh seed each run (printed; OVNSIM_SEED replays one), two configurations per run.
import { randomInt } from "node:crypto";
import { rmSync } from "node:fs";
import { liveSeed, oracleGate } from "@ovnsim/oracle";
import { afterAll, describe, expect, it } from "vitest";
import { runConfig } from "./brint-differential.js";

const gate = oracleGate("ovn", "ovs", "controller");
const DIR = `/tmp/ovnsim-ctlr-${process.pid}`;
const seed = process.env.OVNSIM_SEED !== undefined ? liveSeed() : randomInt(1, 2 ** 31 - 1);

describe.skipIf(gate.skip)(`ovn-controller with routers vs the real one (seed ${seed})`, () => {
  afterAll(() => {
    if (process.env.OVNSIM_KEEP !== "1") rmSync(DIR, { recursive: true, force: true });
  });
  // OVNSIM_ROUTER_CONFIGS=N runs N configurations (2 by default), OVNSIM_ROUTER_PACKETS=K
  // traces K packets per local VIF (4 by default) and half as many again from the network.
  const configs = Number(process.env.OVNSIM_ROUTER_CONFIGS ?? 2);
  const perVif = Number(process.env.OVNSIM_ROUTER_PACKETS ?? 4);
  for (const s of Array.from({ length: configs }, (_, i) => seed + i)) {
    it(`configuration ${s}: ≥ 99% of br-int flows identical, ofproto/trace datapath actions agree`, async () => {
      gate.assert();
      const res = await runConfig(s, DIR, perVif);
      // 1. Flows.
      const cmp = res.flows;
      // Group and meter ids are the real daemon's run-dependent numbering (renumbering() in
      // brint-differential.ts says why): a flow differing only in them, under one consistent
      // renumbering that maps each group / meter to an identical one, counts as identical.
      // Likewise the cookie of the conjunction clause several localnet ports share
      // (sharedClauseCookies() says why).
      const rn = res.renumbered;
      const stated = rn.matched + res.sharedClause;
      const pct = (100 * (cmp.identical + stated)) / cmp.expected;
      console.log(
        `configuration ${s}: ${cmp.identical}/${cmp.expected} flows text-identical, ${rn.matched} more up to group/meter numbering, ${res.sharedClause} up to a shared clause's cookie (${pct.toFixed(2)}%), ${cmp.extra} extra`,
      );
      for (const l of cmp.missing) console.log(`- ${l}`);
      for (const l of cmp.unexpected) console.log(`+ ${l}`);
      for (const p of rn.problems) console.log(`renumbering: ${p}`);
      expect(rn.consistent).toBe(true);
      expect(pct).toBeGreaterThanOrEqual(99);
      expect(cmp.extra - stated).toBeLessThanOrEqual(cmp.expected / 100);
      // Same groups up to numbering (ids follow the order flows appeared in, see README).
      expect(res.groupsSame).toBe(true);
      expect(res.metersSame).toBe(true);
      // 2. Traces.
      const known = new Map<string, number>();
      const diffs: string[] = [];
      let same = 0;
      for (const c of res.cases) {
        if (c.verdict === "same") same++;
        else if (c.verdict === "differs")
          diffs.push(`${c.packet.flow}\n    real:   ${c.real}\n    ovnsim: ${c.ours}`);
        else known.set(c.verdict, (known.get(c.verdict) ?? 0) + 1);
      }
      console.log(
        `configuration ${s}: ofproto/trace datapath actions ${same}/${res.cases.length} identical, ${diffs.length} unexplained`,
      );
      for (const [why, n] of known) console.log(`  ${n} × ${why}`);
      for (const d of diffs) console.log(`  ${d}`);
      expect(diffs).toEqual([]);
    }, 420_000);
  }
});
