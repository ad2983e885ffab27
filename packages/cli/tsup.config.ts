import { defineConfig } from "tsup";
import { packageConfig } from "../../scripts/tsup.config.ts";

export default defineConfig([
  // The library (`import { run } from "@ovnsim/cli"`): its @ovnsim/* dependencies stay imports.
  { ...packageConfig(["src/cli.ts"]), clean: false },
  // The `ovnsim` binary: one minified file with every dependency inside (read from the workspace
  // sources), so a cold start parses one file instead of resolving and compiling ~150 modules.
  // Command modules stay lazily initialised. The seed's manifests are read from the installed
  // @ovnsim/kube package.
  {
    entry: { main: "src/main.ts" },
    format: ["esm"],
    platform: "node",
    target: "node20",
    dts: false,
    clean: false,
    sourcemap: false,
    minify: true,
    splitting: false,
    noExternal: [/.*/],
    esbuildOptions(o) {
      o.conditions = ["@ovnsim/source"];
      o.legalComments = "none";
    },
    // yaml and ip-address are CommonJS: their require() calls need a real require in ESM.
    banner: {
      js: 'import { createRequire as __ovnsimRequire } from "node:module";\nconst require = __ovnsimRequire(import.meta.url);',
    },
  },
]);
