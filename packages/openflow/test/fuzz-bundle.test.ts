// Fuzz test of the bundle reader (buildSwitch, what loadBundle feeds): a real capture bundle
// (ovs-vsctl show, list Interface, dpif/show, per bridge ofctl show, dump-flows, dump-groups,
// fdb/show, dump-tlv-map) with one file cut, garbled or replaced must give a switch or a
// SimError, never another exception or a hang (see scripts/fuzz.ts).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, it } from "vitest";
import { parserInput, resultOrTypedError } from "../../../scripts/fuzz.js";
import { type BundleFiles, INTERFACES_FILE, PORTS_FILE, buildSwitch } from "../src/index.js";

const GOLDEN = join(import.meta.dirname, "golden");
const BUNDLES = ["tunnels", "groups-all", "ovn-controller"];
const KINDS = ["ports", "flows", "groups", "fdb", "tlv", "meters"] as const;

/** A bundle directory as file name → text. */
const load = (name: string): Record<string, string> => {
  const dir = join(GOLDEN, name, "bundle");
  return Object.fromEntries(readdirSync(dir).map((f) => [f, readFileSync(join(dir, f), "utf8")]));
};

/** The BundleFiles loadBundle would build from these files. */
function bundleFiles(files: Record<string, string>): BundleFiles {
  const bridges = new Map<string, Record<string, string>>();
  for (const [f, text] of Object.entries(files)) {
    const m = /^(.+)\.([a-z]+)\.txt$/.exec(f);
    if (!m || !(KINDS as readonly string[]).includes(m[2]!)) continue;
    const b = bridges.get(m[1]!) ?? {};
    b[m[2]!] = text;
    bridges.set(m[1]!, b);
  }
  const opt = (k: string, f: string) => (files[f] !== undefined ? { [k]: files[f] } : {});
  return {
    vsctlShow: files["ovs-vsctl-show.txt"] ?? "",
    bridges,
    ...opt("dpifShow", "dpif-show.txt"),
    ...opt("interfaces", INTERFACES_FILE),
    ...opt("portList", PORTS_FILE),
  };
}

const bundles = BUNDLES.map(load);
const oneMutated = fc
  .constantFrom(...bundles.flatMap((b) => Object.keys(b).map((f) => [b, f] as const)))
  .chain(([b, f]) => parserInput([b[f]!]).map((text) => ({ ...b, [f]: text })));

describe("buildSwitch over mutated real bundles (fuzz)", () => {
  it("a switch or a SimError", () => {
    fc.assert(
      fc.property(oneMutated, (files) =>
        resultOrTypedError(isSimError, () => buildSwitch(bundleFiles(files))),
      ),
      { numRuns: 150 },
    );
  });
});
