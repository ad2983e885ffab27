// Shared tsup settings: every package builds its entries to ESM JavaScript. Declarations are not
// made here (tsup's per-package dts re-checks every dependency's sources: minutes on 2 cores):
// `pnpm build` emits them for all packages at once with scripts/build-types.mjs.
import type { Options } from "tsup";

export function packageConfig(entry: string[] = ["src/index.ts"]): Options {
  return { entry, format: ["esm"], dts: false, clean: true, sourcemap: true, target: "es2022" };
}
