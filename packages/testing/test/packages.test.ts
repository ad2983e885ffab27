// Every public package's package.json and docs are publishable as they stand (no build needed):
// what pnpm publishes (publishConfig) exposes the same entry points as the workspace, without
// the "@ovnsim/source" condition; each has a README with its stability, a CHANGELOG, engines.
// consumer.test.ts then proves the packed result installs and runs.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { publicPackages } from "../../../scripts/consumer.js";

type Exports = Record<string, unknown>;
interface Pkg {
  name: string;
  version: string;
  description?: string;
  license?: string;
  engines?: { node?: string };
  files?: string[];
  exports: Exports;
  publishConfig?: { access?: string; exports?: Exports; main?: string; types?: string };
}

const pkgs = publicPackages().map((p) => ({
  ...p,
  pkg: JSON.parse(readFileSync(join(p.dir, "package.json"), "utf8")) as Pkg,
}));

describe("public packages' manifests", () => {
  it("are all versioned together", () => {
    expect(new Set(pkgs.map((p) => p.pkg.version)).size).toBe(1);
    expect(pkgs.length).toBeGreaterThanOrEqual(12);
  });
  it.each(pkgs.map((p) => [p.name, p] as const))("%s publishes what the workspace exports", (_, p) => {
    const dev = Object.keys(p.pkg.exports).filter((k) => p.pkg.exports[k] !== null);
    const pub = p.pkg.publishConfig?.exports;
    expect(pub, "publishConfig.exports").toBeDefined();
    expect(Object.keys(pub!).sort()).toEqual(dev.sort());
    expect(JSON.stringify(pub)).not.toContain("@ovnsim/source");
    expect(JSON.stringify(pub)).not.toMatch(/\.\/src\//);
    const dot = pub!["."] as Record<string, string>;
    expect(Object.keys(dot)[0], "types first").toBe("types");
    expect(dot.types).toMatch(/^\.\/dist\/.*\.d\.ts$/);
    expect(dot.default).toMatch(/^\.\/dist\/.*\.js$/);
    expect(p.pkg.publishConfig).toMatchObject({ access: "public", main: dot.default, types: dot.types });
    // the dev "." entry resolves to the same dist files once built
    const devDot = p.pkg.exports["."] as Record<string, string>;
    expect({ types: devDot.types, default: devDot.default }).toEqual({
      types: dot.types,
      default: dot.default,
    });
  });
  it.each(pkgs.map((p) => [p.name, p] as const))("%s has its metadata and docs", (_, p) => {
    expect(p.pkg.description?.length ?? 0).toBeGreaterThan(10);
    expect(p.pkg.license).toBe("Apache-2.0");
    expect(p.pkg.engines?.node).toBe(">=20.19");
    expect(p.pkg.files).toEqual(expect.arrayContaining(["dist", "CHANGELOG.md"]));
    expect(readFileSync(join(p.dir, "README.md"), "utf8")).toContain("## Stability");
    expect(existsSync(join(p.dir, "CHANGELOG.md"))).toBe(true);
  });
});
