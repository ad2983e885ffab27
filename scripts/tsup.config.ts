// Shared tsup settings: every package builds src/index.ts to ESM with declarations.
import type { Options } from "tsup";

export function packageConfig(entry: string[] = ["src/index.ts"]): Options {
  return { entry, format: ["esm"], dts: true, clean: true, sourcemap: true, target: "es2022" };
}
