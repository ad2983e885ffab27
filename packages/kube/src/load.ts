/**
 * Loading a scenario from disk the way `kubectl apply -f` walks its arguments: a file, or a
 * directory whose *.yaml / *.yml / *.json files are read in name order (not recursively).
 * The built-in seed scenario is package data: a copy of the repository's
 * examples/metallb-underlay under this package's seed/ (a test keeps the two identical), found
 * from this module's own URL, so it loads from src/ in the workspace and from dist/ once
 * installed, and nothing is read outside the installed package.
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { SimError } from "@ovnsim/packet";
import { buildScenario } from "./scenario.js";
import type { Scenario } from "./types.js";
import { type ManifestText, parseManifests } from "./yaml.js";

/**
 * The name the seed's files carry in messages and findings (`SEED_LABEL/10-underlay-network.yaml`),
 * the same wherever the package is installed and whatever the working directory.
 */
export const SEED_LABEL = "examples/metallb-underlay";

/**
 * The built-in seed scenario's directory inside this package (`seed/metallb-underlay`). Both
 * src/ and dist/ sit one level below the package root. Code bundled elsewhere (the `ovnsim`
 * binary) finds it through the installed `@ovnsim/kube` package instead.
 */
export function seedScenarioDir(): string {
  const here = fileURLToPath(new URL("../seed/metallb-underlay/", import.meta.url));
  if (existsSync(here)) return here;
  let installed: string | undefined;
  try {
    const pkg = createRequire(import.meta.url).resolve("@ovnsim/kube/package.json");
    installed = join(dirname(pkg), "seed", "metallb-underlay");
  } catch {
    // not resolvable from here: reported below
  }
  if (installed !== undefined && existsSync(installed)) return installed;
  throw new SimError(
    "UNKNOWN_OBJECT",
    `the built-in scenario (${SEED_LABEL}) is not installed: neither ${here} nor the seed/ folder of an installed @ovnsim/kube exists`,
  );
}

/** The seed's manifests, named `examples/metallb-underlay/<file>` whatever the working directory. */
export function seedManifests(): ManifestText[] {
  const dir = seedScenarioDir();
  return manifestFiles(dir).map((f) => ({
    file: `${SEED_LABEL}/${f}`,
    text: readFileSync(join(dir, f), "utf8"),
  }));
}

function manifestFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.(ya?ml|json)$/i.test(f))
    .sort();
}

/** Reads files and directories into manifest texts. */
export function readManifestPaths(paths: readonly string[]): ManifestText[] {
  const out: ManifestText[] = [];
  for (const p of paths) {
    if (!existsSync(p)) throw new SimError("UNKNOWN_OBJECT", `${p}: no such file or directory`);
    const st = statSync(p);
    if (st.isDirectory()) {
      const files = manifestFiles(p);
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

/**
 * Loads a scenario from paths (none = the built-in seed scenario). Without a `Scenario` object
 * in the manifests, one directory names it (`examples/cluster-u2o` → "cluster-u2o").
 */
export function loadScenario(paths: readonly string[] = []): Scenario {
  if (paths.length === 0) return scenarioFromTexts(seedManifests());
  const dir = paths.length === 1 && statSync(paths[0]!, { throwIfNoEntry: false })?.isDirectory();
  const name = dir ? basename(resolve(paths[0]!)) : undefined;
  return scenarioFromTexts(readManifestPaths(paths), name);
}

/** Builds a scenario from in-memory manifest texts (`name` when they hold no `Scenario`). */
export function scenarioFromTexts(texts: readonly ManifestText[], name?: string): Scenario {
  return buildScenario(
    parseManifests(texts),
    texts.map((t) => t.file),
    name,
  );
}

/** Builds a scenario from one YAML string (multi-document). */
export function scenarioFromYaml(text: string, file = "<yaml>"): Scenario {
  return scenarioFromTexts([{ file, text }]);
}
