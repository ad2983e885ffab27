import { readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Tests run against src/: every workspace package `@ovnsim/<name>` is aliased to its
// src/index.ts (the same file its "@ovnsim/source" export condition names), so a clean clone
// needs no build before `pnpm test`, and examples/ and bench/ resolve packages too.
const packagesDir = fileURLToPath(new URL("./packages/", import.meta.url));
const alias = readdirSync(packagesDir).map((name) => ({
  find: new RegExp(`^@ovnsim/${name}$`),
  replacement: `${packagesDir}${name}/src/${name === "cli" ? "cli" : "index"}.ts`,
}));

// CI asks for a JSON report beside the usual output (to print a plain "N passed, N failed").
const jsonReport = process.env.OVNSIM_VITEST_JSON;

export default defineConfig({
  resolve: { alias },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "examples/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    ...(jsonReport ? { reporters: ["default", "json"], outputFile: { json: jsonReport } } : {}),
  },
});
