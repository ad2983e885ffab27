// kube-ovn-1.14 against a real Kube-OVN-patched northd: configs under
// test/golden/northd-kube-ovn-1.14/ were recorded with ovn-northd built from OVN 24.03
// @ef8f5c1ac plus the release-1.14 patches (scripts/build-patched-northd.sh, then
// NORTHD_DIR=… NB_SCHEMA=… SB_SCHEMA=… scripts/record-northd.sh). Configs without a recording
// are skipped.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { compareLflows, formatLflowList, northd, parseLflowList, parseNbctl } from "../src/northd/index.js";

const GOLD = path.join(path.dirname(fileURLToPath(import.meta.url)), "golden", "northd-kube-ovn-1.14");
const configs = existsSync(GOLD)
  ? readdirSync(GOLD)
      .filter(
        (f) => f.endsWith(".nbctl") && existsSync(path.join(GOLD, f.replace(/\.nbctl$/, ".lflow-list.txt"))),
      )
      .map((f) => f.slice(0, -".nbctl".length))
      .sort()
  : [];

describe.skipIf(configs.length === 0)("northd kube-ovn-1.14 vs the patched 24.03 northd", () => {
  for (const name of configs) {
    it(`${name}: >=95% of real flows reproduced, none extra`, () => {
      const file = path.join(GOLD, `${name}.nbctl`);
      const ours = northd(parseNbctl(readFileSync(file, "utf8"), { file }), "kube-ovn-1.14");
      const real = parseLflowList(readFileSync(path.join(GOLD, `${name}.lflow-list.txt`), "utf8"));
      const cmp = compareLflows(real, parseLflowList(formatLflowList(ours)));
      expect(
        cmp.extra.map((f) => `${f.datapath} ${f.stage} ${f.priority} ${f.match} -> ${f.actions}`),
      ).toEqual([]);
      expect(cmp.fraction).toBeGreaterThanOrEqual(0.95);
    });
  }
});
