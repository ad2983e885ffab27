// Fuzz tests for the ovn readers not covered by expr/actions/sb/nbctl tests: northd's reader of
// `ovn-sbctl lflow-list` goldens, single ovn-nbctl lines, and ovn-trace's --ct and lb
// destination options. Samples are real goldens, mutated. Any input gives a result or a
// SimError, never another exception or a hang (see scripts/fuzz.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, it } from "vitest";
import { parserInput, resultOrTypedError } from "../../../scripts/fuzz.js";
import { parseCtOption, parseLbDst, parseLflowList, parseNbctlLine } from "../src/index.js";

const GOLDEN = join(import.meta.dirname, "golden");
const typed = (f: () => unknown) => resultOrTypedError(isSimError, f);
const RUNS = { numRuns: 300 };

describe("ovn readers fuzz", () => {
  it("northd parseLflowList (lflow-list golden): flows or a SimError", () => {
    // windows of 40 lines keep each run small while covering headers, flows and their order
    const lines = readFileSync(join(GOLDEN, "northd-ovn-25.03/seed.lflow-list.txt"), "utf8").split("\n");
    const samples = [0, 1, 2, 3, 4, 5].map((k) => lines.slice(k * 37, k * 37 + 40).join("\n"));
    fc.assert(
      fc.property(parserInput(samples), (t) => typed(() => parseLflowList(t))),
      RUNS,
    );
  });
  it("parseNbctlLine (ovn-nbctl commands): commands or a SimError", () => {
    const samples = readFileSync(join(GOLDEN, "northd-ovn-25.03/seed.nbctl"), "utf8")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .slice(0, 60);
    fc.assert(
      fc.property(parserInput(samples), (t) => typed(() => parseNbctlLine(t))),
      RUNS,
    );
  });
  it("parseCtOption (ovn-trace --ct): ct_state bits or a SimError", () => {
    const samples = ["new", "est", "trk,est", "rel|rpl", "est+rpl", "inv", "snat,dnat"];
    fc.assert(
      fc.property(parserInput(samples), (t) => typed(() => parseCtOption(t))),
      RUNS,
    );
  });
  it("parseLbDst (ct_lb destinations): a backend or a SimError", () => {
    const samples = ["10.16.0.5:8080", "10.16.0.5", "[fd00::5]:80", "[fd00::5]", "192.0.2.1:65535"];
    fc.assert(
      fc.property(parserInput(samples), (t) => typed(() => parseLbDst(t))),
      RUNS,
    );
  });
});
