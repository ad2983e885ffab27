// The built-in seed ships inside @ovnsim/kube (seed/metallb-underlay); the repository's
// examples/metallb-underlay is the copy people read. They must never drift apart
// (`node scripts/sync-seed.mjs` copies examples/ over the package's copy).
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { SEED_LABEL, loadScenario, seedManifests, seedScenarioDir } from "../src/index.js";

const examples = fileURLToPath(new URL("../../../examples/metallb-underlay/", import.meta.url));
const pkgRoot = fileURLToPath(new URL("../", import.meta.url));
const manifests = (dir: string) =>
  readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/i.test(f))
    .sort();

describe("the seed shipped in @ovnsim/kube", () => {
  it("is the package's own seed/metallb-underlay, byte for byte the same as examples/metallb-underlay", () => {
    const dir = seedScenarioDir();
    expect(dir.startsWith(join(pkgRoot, "seed"))).toBe(true);
    expect(manifests(dir)).toEqual(manifests(examples));
    expect(manifests(dir).length).toBeGreaterThan(0);
    for (const f of manifests(examples)) {
      expect(readFileSync(join(dir, f), "utf8"), `${f} differs: run node scripts/sync-seed.mjs`).toBe(
        readFileSync(join(examples, f), "utf8"),
      );
    }
  });
  it("is in the package's published files", () => {
    const pkg = JSON.parse(readFileSync(join(pkgRoot, "package.json"), "utf8")) as { files: string[] };
    expect(pkg.files).toContain("seed");
  });
  it("names its files examples/metallb-underlay/<file> whatever the working directory", () => {
    const texts = seedManifests();
    expect(texts.map((t) => t.file)).toEqual(manifests(examples).map((f) => `${SEED_LABEL}/${f}`));
    const s = loadScenario();
    expect(s.name).toBe("metallb-underlay");
    expect(s.files).toEqual(texts.map((t) => t.file));
  });
});
