/**
 * Loading a scenario from disk the way `kubectl apply -f` walks its arguments: a file, or a
 * directory whose *.yaml / *.yml / *.json files are read in name order (not recursively).
 * The built-in seed scenario lives in examples/metallb-underlay of the repository.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { basename, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SimError } from "@ovnsim/packet";
import { buildScenario } from "./scenario.js";
import type { Scenario } from "./types.js";
import { type ManifestText, parseManifests } from "./yaml.js";

/** The built-in seed scenario's directory (examples/metallb-underlay). */
export function seedScenarioDir(): string {
  const here = fileURLToPath(new URL(".", import.meta.url));
  for (const up of ["../../../examples/metallb-underlay", "../../../../examples/metallb-underlay"]) {
    const d = resolve(here, up);
    if (existsSync(d)) return d;
  }
  throw new SimError("UNKNOWN_OBJECT", "the built-in scenario (examples/metallb-underlay) is not installed");
}

/** Reads files and directories into manifest texts. */
export function readManifestPaths(paths: readonly string[]): ManifestText[] {
  const out: ManifestText[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new SimError("UNKNOWN_OBJECT", `${p}: no such file or directory`);
    const st = statSync(p);
    if (st.isDirectory()) {
      const files = readdirSync(p)
        .filter((f) => /\.(ya?ml|json)$/i.test(f))
        .sort();
      if (files.length === 0) throw new SimError("UNKNOWN_OBJECT", `${p}: no .yaml, .yml or .json file`);
      for (const f of files)
        out.push({ file: displayName(join(p, f)), text: readFileSync(join(p, f), "utf8") });
    } else {
      out.push({ file: displayName(p), text: readFileSync(p, "utf8") });
    }
  }
  return out;
}

function displayName(p: string): string {
  const r = relative(process.cwd(), p);
  return r.startsWith("..") ? basename(p) : r;
}

/** Loads a scenario from paths (none = the built-in seed scenario). */
export function loadScenario(paths: readonly string[] = []): Scenario {
  const texts = readManifestPaths(paths.length > 0 ? paths : [seedScenarioDir()]);
  return scenarioFromTexts(texts);
}

/** Builds a scenario from in-memory manifest texts. */
export function scenarioFromTexts(texts: readonly ManifestText[]): Scenario {
  return buildScenario(
    parseManifests(texts),
    texts.map((t) => t.file),
  );
}

/** Builds a scenario from one YAML string (multi-document). */
export function scenarioFromYaml(text: string, file = "<yaml>"): Scenario {
  return scenarioFromTexts([{ file, text }]);
}
