#!/usr/bin/env node
// Second half of `pnpm build`: the declarations of every workspace package from one TypeScript
// program (tsconfig.build.json), each packages/<name>/src/<file>.ts written as
// packages/<name>/dist/<file>.d.ts next to the JavaScript tsup made. One program type-checks
// the shared sources once, where a per-package dts build re-checks its dependencies each time.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const root = fileURLToPath(new URL("../", import.meta.url));
const configPath = join(root, "tsconfig.build.json");
const parsed = ts.getParsedCommandLineOfConfigFile(
  configPath,
  {},
  {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => fail([d]),
  },
);
if (!parsed) process.exit(1);
if (parsed.errors.length > 0) fail(parsed.errors);

const outDir = parsed.options.outDir;
const program = ts.createProgram({ rootNames: parsed.fileNames, options: parsed.options });
let written = 0;
const emitted = program.emit(undefined, (file, text) => {
  // <outDir>/<pkg>/src/<path>.d.ts → packages/<pkg>/dist/<path>.d.ts
  const [pkg, src, ...rest] = relative(outDir, file).split(sep);
  if (src !== "src" || rest.length === 0) throw new Error(`unexpected declaration output ${file}`);
  const target = join(root, "packages", pkg, "dist", ...rest);
  mkdirSync(dirname(target), { recursive: true });
  writeFileSync(target, text);
  written++;
});
const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
if (diagnostics.length > 0) fail(diagnostics);
// (emitSkipped is not consulted: with a custom writeFile TypeScript reports it even when every
// file was written, so the count is checked instead.)
if (written !== parsed.fileNames.length) {
  console.error(`build-types: ${written} declaration files for ${parsed.fileNames.length} sources`);
  process.exit(1);
}
console.log(`build-types: ${written} declaration files in packages/*/dist`);

function fail(diags) {
  const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => root, getNewLine: () => "\n" };
  console.error(ts.formatDiagnostics(diags, host));
  process.exit(1);
}
