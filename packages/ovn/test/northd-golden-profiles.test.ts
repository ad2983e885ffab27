// The later profiles against real northd builds: test/golden/northd-<profile>/ holds configs
// recorded with ovn-northd built from that release's source (scripts/build-patched-northd.sh
// for the Kube-OVN ones; then NORTHD_DIR=… NB_SCHEMA=… SB_SCHEMA=… scripts/record-northd.sh).
// ovn-24.03: branch-24.03 @ef8f5c1ac; kube-ovn-1.14: the same + the release-1.14 patches.
// A profile directory without recordings is skipped.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { LogicalFlow } from "../src/types.js";
import {
  PROFILES,
  PROFILE_NAMES,
  compareLflows,
  formatLflowList,
  northd,
  parseLflowList,
  parseNbctl,
} from "../src/northd/index.js";

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), "golden");

for (const profile of PROFILE_NAMES.filter((p) => p !== "ovn-23.03")) {
  const dir = path.join(ROOT, `northd-${profile}`);
  const configs = existsSync(dir)
    ? readdirSync(dir)
        .filter(
          (f) => f.endsWith(".nbctl") && existsSync(path.join(dir, f.replace(/\.nbctl$/, ".lflow-list.txt"))),
        )
        .map((f) => f.slice(0, -".nbctl".length))
        .sort()
    : [];
  describe.skipIf(configs.length === 0)(`northd ${profile} vs a real ${profile} northd`, () => {
    for (const name of configs) {
      it(`${name}: >=95% of real flows reproduced, none extra`, () => {
        const file = path.join(dir, `${name}.nbctl`);
        const ours = northd(parseNbctl(readFileSync(file, "utf8"), { file }), profile);
        const real = parseLflowList(readFileSync(path.join(dir, `${name}.lflow-list.txt`), "utf8"));
        const cmp = compareLflows(real, parseLflowList(formatLflowList(ours)));
        expect(
          cmp.extra.map((f) => `${f.datapath} ${f.stage} ${f.priority} ${f.match} -> ${f.actions}`),
        ).toEqual([]);
        expect(cmp.fraction).toBeGreaterThanOrEqual(0.95);
        // Profiles that generate router pipelines must reproduce every router flow exactly.
        if (PROFILES[profile].routers) {
          const lr = compareLflows(real, parseLflowList(formatLflowList(ours)), { stages: "router" });
          const show = (f: LogicalFlow) =>
            `${f.datapath} ${f.stage} ${f.priority} ${f.match} -> ${f.actions}`;
          expect(lr.extra.map(show)).toEqual([]);
          expect(lr.missing.map(show)).toEqual([]);
        }
      });
    }
  });
}
