#!/usr/bin/env node
// Copies the human-facing seed scenario (examples/metallb-underlay/*.yaml) into @ovnsim/kube's
// package data (packages/kube/seed/metallb-underlay/), which is what `loadScenario()` reads and
// what the published package ships. packages/kube/test/seed.test.ts fails while the two differ.
import { copyFileSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const from = fileURLToPath(new URL("../examples/metallb-underlay/", import.meta.url));
const to = fileURLToPath(new URL("../packages/kube/seed/metallb-underlay/", import.meta.url));
const manifests = (dir) => readdirSync(dir).filter((f) => /\.(ya?ml|json)$/i.test(f));
mkdirSync(to, { recursive: true });
for (const f of manifests(to)) rmSync(join(to, f));
for (const f of manifests(from)) copyFileSync(join(from, f), join(to, f));
console.log(
  `synced ${manifests(to).length} manifests: examples/metallb-underlay → packages/kube/seed/metallb-underlay`,
);
