// Live differential test: records fresh NORMAL traces and aging from the real OVS 3.1 (the
// oracle sandbox) with scripts/record-normal.sh and replays them against @ovnsim/l2. Skips when
// the tools are missing, unless OVNSIM_REQUIRE_ORACLE=1 (CI), where it fails instead.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { replayAging, replayTraces } from "./normal-compare.js";

const root = path.resolve(import.meta.dirname, "../../..");
const shared = process.env.OVNSIM_SHARED ?? path.resolve(root, "../shared");
const haveOvs = spawnSync("sh", ["-c", "command -v ovs-vswitchd && command -v ovs-appctl"]).status === 0;
const required = process.env.OVNSIM_REQUIRE_ORACLE === "1";
const dir = `/tmp/ovnsim-l2-${process.pid}`;
const out = mkdtempSync("/tmp/ovnsim-l2-out-");

describe.skipIf(!haveOvs && !required)("live: NORMAL against the real ovs-vswitchd", () => {
  afterAll(() => {
    spawnSync(path.join(shared, "oracle/oracle-down.sh"), [dir, "--rm"]);
    rmSync(out, { recursive: true, force: true });
  });
  it("records and agrees", () => {
    expect(haveOvs, "ovs-vswitchd/ovs-appctl not installed (OVNSIM_REQUIRE_ORACLE=1)").toBe(true);
    execFileSync(path.join(shared, "oracle/oracle-up.sh"), [dir, "--no-ovn"], { stdio: "ignore" });
    execFileSync(path.join(import.meta.dirname, "../scripts/record-normal.sh"), [
      dir,
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
