// Live differential test: records fresh NORMAL traces and aging from the real OVS 3.1 (the
// oracle sandbox) with scripts/record-normal.sh and replays them against @ovnsim/l2. Skips when
// the tools are missing, unless OVNSIM_REQUIRE_ORACLE=1 (CI), where it fails instead.
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { oracleGate, type Sandbox, startSandbox } from "@ovnsim/oracle";
import { afterAll, describe, expect, it } from "vitest";
import { replayAging, replayTraces } from "./normal-compare.js";

const gate = oracleGate("ovs");
const out = mkdtempSync("/tmp/ovnsim-l2-out-");

describe.skipIf(gate.skip)("live: NORMAL against the real ovs-vswitchd", () => {
  let sb: Sandbox | undefined;
  afterAll(() => {
    sb?.stop();
    rmSync(out, { recursive: true, force: true });
  });
  it("records and agrees", () => {
    gate.assert();
    sb = startSandbox({ name: "l2", ovn: false });
    sb.run(path.join(import.meta.dirname, "../scripts/record-normal.sh"), [
      sb.dir,
      path.join(out, "normal-traces.txt"),
    ]);
    const r = replayTraces(readFileSync(path.join(out, "normal-traces.txt"), "utf8"));
    expect(r.cases.length).toBe(15);
    for (const c of r.cases) {
      expect(c.gotNotes, c.command).toEqual(c.expectedNotes);
      expect(c.gotOutputs, c.command).toEqual(c.expectedOutputs);
    }
    expect(r.fdbGot).toBe(r.fdbExpected);
    const aging = readFileSync(path.join(out, "normal-aging.txt"), "utf8");
    expect(replayAging(aging)).toBe(aging);
  }, 60_000);
});
