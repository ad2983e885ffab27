// Fuzz tests for the kube readers below scenarioFromYaml (covered by fuzz.test.ts): the manifest
// reader over several files (parseManifests, scenarioFromTexts) fed the seed's real manifests,
// mutated line by line, and the address syntaxes of Subnet/IPAddressPool fields. Any input
// gives a result or a SimError, never another exception or a hang (see scripts/fuzz.ts).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, it } from "vitest";
import { mutated, parserInput, resultOrTypedError } from "../../../scripts/fuzz.js";
import {
  parseCidr6,
  parseExcludeIp,
  parseExcludeIp6,
  parseManifests,
  parsePoolAddress,
  scenarioFromTexts,
} from "../src/index.js";

const SEED = join(import.meta.dirname, "../seed/metallb-underlay");
const files = readdirSync(SEED)
  .filter((f) => f.endsWith(".yaml"))
  .sort()
  .map((f) => ({ file: f, text: readFileSync(join(SEED, f), "utf8") }));
const typed = (f: () => unknown) => resultOrTypedError(isSimError, f);

/** The seed's files, one of them mutated (or replaced by arbitrary text). */
const manifests = fc
  .tuple(fc.nat({ max: files.length - 1 }), parserInput(files.map((f) => f.text)))
  .map(([i, text]) => files.map((f, j) => (j === i ? { file: f.file, text } : f)));

describe("kube manifest readers fuzz", () => {
  it("parseManifests: objects or a SimError", () => {
    fc.assert(
      fc.property(manifests, (texts) => typed(() => parseManifests(texts))),
      { numRuns: 300 },
    );
  });
  it("scenarioFromTexts: a scenario or a SimError", () => {
    fc.assert(
      fc.property(manifests, (texts) => typed(() => scenarioFromTexts(texts))),
      { numRuns: 150 },
    );
  });
});

describe("kube address readers fuzz", () => {
  it("parseExcludeIp / parseExcludeIp6 / parsePoolAddress / parseCidr6: a value or a SimError", () => {
    const samples = [
      "10.180.204.1",
      "10.0.0.1..10.0.0.9",
      "10.180.204.250-10.180.204.254",
      "10.180.204.0/24",
      "fd00:10:16::/64",
      "fd00::1",
      "fd00:10:180:204::fa..fd00:10:180:204::fe",
    ];
    const text = fc.oneof(parserInput(samples), mutated(samples, 3));
    fc.assert(
      fc.property(text, (t) => {
        typed(() => parseExcludeIp(t, "excludeIps"));
        typed(() => parseExcludeIp6(t, "excludeIps"));
        typed(() => parsePoolAddress(t, "addresses"));
        typed(() => parseCidr6(t));
      }),
      { numRuns: 500 },
    );
  });
});
