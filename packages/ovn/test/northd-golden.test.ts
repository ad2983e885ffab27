// Fidelity against the real ovn-northd 23.03: every config under test/golden/northd/ was
// applied to the oracle by scripts/record-northd.sh; ovnsim's ovn-23.03 output must reproduce
// at least 95% of the real logical-switch flows exactly and add nothing.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compareLflows, formatLflowList, northd, parseLflowList, parseNbctl } from "../src/northd/index.js";

const GOLD = path.join(path.dirname(fileURLToPath(import.meta.url)), "golden", "northd");
const configs = readdirSync(GOLD)
  .filter((f) => f.endsWith(".nbctl"))
  .map((f) => f.slice(0, -".nbctl".length))
  .sort();

describe("northd ovn-23.03 vs real ovn-northd 23.03.1 goldens", () => {
  const summary: string[] = [];
  for (const name of configs) {
    it(`${name}: >=95% of real flows reproduced, none extra`, () => {
      const file = path.join(GOLD, `${name}.nbctl`);
      const db = parseNbctl(readFileSync(file, "utf8"), { file });
      const ours = northd(db, "ovn-23.03");
      const real = parseLflowList(readFileSync(path.join(GOLD, `${name}.lflow-list.txt`), "utf8"));
      const cmp = compareLflows(real, parseLflowList(formatLflowList(ours)));
      summary.push(
        `${name}: ${cmp.reproduced}/${cmp.real} (${(cmp.fraction * 100).toFixed(1)}%), extra ${cmp.extra.length}`,
      );
      expect(cmp.real).toBeGreaterThan(0);
      expect(cmp.extra.map((f) => `${f.stage} ${f.priority} ${f.match} -> ${f.actions}`)).toEqual([]);
      expect(cmp.fraction).toBeGreaterThanOrEqual(0.95);
    });
  }
  it("prints the per-config agreement", () => {
    console.log(`northd golden agreement:\n  ${summary.join("\n  ")}`);
  });
});

describe("lflow-list text", () => {
  it("prints the seed scenario byte for byte as ovn-sbctl (datapath uuid aside)", () => {
    const file = path.join(GOLD, "seed.nbctl");
    const ours = formatLflowList(northd(parseNbctl(readFileSync(file, "utf8")), "ovn-23.03"));
    const real = readFileSync(path.join(GOLD, "seed.lflow-list.txt"), "utf8");
    const mask = (t: string) => t.replace(/\([0-9a-f-]{36}\)/g, "(<uuid>)");
    expect(mask(ours)).toBe(mask(real));
  });
  it("round-trips through parseLflowList", () => {
    const file = path.join(GOLD, "acls.nbctl");
    const r = northd(parseNbctl(readFileSync(file, "utf8")), "ovn-23.03");
    const back = parseLflowList(formatLflowList(r));
    expect(back.map((f) => [f.stage, f.priority, f.match, f.actions])).toEqual(
      r.flows.map((f) => [f.stage, f.priority, f.match, f.actions]),
    );
  });
});
