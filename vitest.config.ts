import { defineConfig } from "vitest/config";

// Tests run against src/: the "@ovnsim/source" export condition points every workspace
// package at its src/index.ts, so a clean clone needs no build before `pnpm test`.
export default defineConfig({
  resolve: { conditions: ["@ovnsim/source"] },
  ssr: { resolve: { conditions: ["@ovnsim/source"] } },
  test: {
    include: ["packages/*/src/**/*.test.ts", "packages/*/test/**/*.test.ts", "examples/**/*.test.ts"],
    exclude: ["**/node_modules/**", "**/dist/**"],
    benchmark: { include: ["bench/**/*.bench.ts"] },
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
