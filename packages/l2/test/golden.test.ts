// Checks normalDecide against real OVS 3.1 NORMAL decisions recorded by
// scripts/record-normal.sh (test/golden/normal-traces.txt, normal-aging.txt): the trace lines
// under NORMAL and the set of (port, VLAN stack) outputs read back from "Datapath actions:".
// OVS floods in the order of an internal hash map (pointer hashes, different on every run), so
// outputs are compared as sets.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { replayAging, replayTraces } from "./normal-compare.js";

const text = readFileSync(new URL("./golden/normal-traces.txt", import.meta.url), "utf8");
const aging = readFileSync(new URL("./golden/normal-aging.txt", import.meta.url), "utf8");

describe("NORMAL agrees with recorded OVS 3.1 traces", () => {
  const r = replayTraces(text);
  it("has the cases", () => expect(r.cases.length).toBe(15));
  it.each(r.cases.map((c) => [c.command, c] as const))("%s", (_cmd, c) => {
    expect(c.gotNotes).toEqual(c.expectedNotes);
    expect(c.gotOutputs).toEqual(c.expectedOutputs);
  });
  it("fdb/show matches after the injected frames", () => expect(r.fdbGot).toBe(r.fdbExpected));
});

describe("MAC aging agrees with OVS 3.1 in warped time", () => {
  it("learn at 0 s and 200 s; fdb/show at 299, 300, 400, 500 s", () =>
    expect(replayAging(aging)).toBe(aging));
});
