/**
 * ovnsim as a consumer gets it: build the workspace, `pnpm pack` every public package, and
 * `npm install` the tarballs into a fresh project outside the workspace (third-party
 * dependencies come from the npm registry, through npm's cache when it has them). Used by
 * packages/testing/test/consumer.test.ts (CI) and bench/cli-coldstart.bench.ts.
 */
import { type SpawnSyncReturns, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../", import.meta.url));
const PNPM = ["-y", "pnpm@12.4.2"];

/** The workspace's packages that are published (not `private`), by directory and name. */
export function publicPackages(): { dir: string; name: string }[] {
  return readdirSync(join(ROOT, "packages"))
    .sort()
    .map((d) => ({ dir: join(ROOT, "packages", d), file: join(ROOT, "packages", d, "package.json") }))
    .filter((p) => existsSync(p.file))
    .map((p) => ({
      dir: p.dir,
      pkg: JSON.parse(readFileSync(p.file, "utf8")) as { name: string; private?: boolean },
    }))
    .filter((p) => !p.pkg.private)
    .map((p) => ({ dir: p.dir, name: p.pkg.name }));
}

/**
 * The environment for child tools: without the variables pnpm, npm and vitest set for the
 * current run (a nested npm or vitest would otherwise read them as its own configuration).
 */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(npm_|pnpm_|PNPM_|VITEST|VITE_|NODE_OPTIONS$|NODE_PATH$|TS_NODE|TSX_)/.test(k)) continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: "1", FORCE_COLOR: "0", ...extra };
}

export interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs a command to completion; throws with its output when `check` and it fails. */
export function sh(cmd: string, args: readonly string[], cwd: string, check = true, input?: string): Run {
  const t = performance.now();
  const r: SpawnSyncReturns<string> = spawnSync(cmd, args, {
    cwd,
    env: cleanEnv(),
    encoding: "utf8",
    maxBuffer: 64 << 20,
    ...(input !== undefined ? { input } : {}),
  });
  const out = {
    code: r.status ?? -1,
    stdout: r.stdout ?? "",
    stderr: r.stderr ?? "",
    ms: performance.now() - t,
  };
  if (check && out.code !== 0) {
    throw new Error(
      `${cmd} ${args.join(" ")} (in ${cwd}) exited ${out.code}${r.error ? ` (${r.error.message})` : ""}\n${out.stdout.slice(-4000)}\n${out.stderr.slice(-4000)}`,
    );
  }
  return out;
}

/** `pnpm build` at the root: every package's JavaScript (tsup), then all declarations at once. */
export function buildAll(): Run {
  return sh("npx", [...PNPM, "build"], ROOT);
}

/** Packs every public package into `dest`; returns package name → tarball path. */
export function packAll(dest: string): Map<string, string> {
  mkdirSync(dest, { recursive: true });
  const pkgs = publicPackages();
  const filters = pkgs.flatMap((p) => ["--filter", p.name]);
  sh("npx", [...PNPM, "-r", ...filters, "pack", "--pack-destination", dest], ROOT);
  const out = new Map<string, string>();
  for (const p of pkgs) {
    const version = (JSON.parse(readFileSync(join(p.dir, "package.json"), "utf8")) as { version: string })
      .version;
    const file = join(dest, `${p.name.replace(/^@/, "").replace("/", "-")}-${version}.tgz`);
    if (!existsSync(file)) throw new Error(`pnpm pack made no ${file}`);
    out.set(p.name, file);
  }
  return out;
}

/**
 * The public packages built and packed once for what the workspace holds now: the tarballs go
 * to a directory named by a hash of every package's files (and the build's configuration), so
 * the test files that need tarballs (consumer, tarball-alone), run in parallel workers, share
 * one `pnpm build` instead of racing two builds over the same dist/ directories; a lock
 * directory makes the others wait for the first. Returns package name → tarball path.
 */
export function packedTarballs(): Map<string, string> {
  const dir = join(tmpdir(), `ovnsim-tarballs-${workspaceHash()}`);
  const done = join(dir, "tarballs.json");
  // One lock for every workspace state: two builds must never overlap over the same dist/.
  const lock = join(tmpdir(), "ovnsim-tarballs.lock");
  for (;;) {
    if (existsSync(done)) {
      const m = new Map(JSON.parse(readFileSync(done, "utf8")) as [string, string][]);
      if ([...m.values()].every((f) => existsSync(f))) return m;
      rmSync(done);
    }
    try {
      mkdirSync(lock);
    } catch {
      // Another worker builds: wait; a lock older than 20 minutes is a dead worker's.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 20 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1000);
      continue;
    }
    try {
      if (existsSync(done)) continue;
      // Tarballs of an older workspace state are not needed again.
      for (const e of readdirSync(tmpdir())) {
        if (e.startsWith("ovnsim-tarballs-") && join(tmpdir(), e) !== dir) {
          rmSync(join(tmpdir(), e), { recursive: true, force: true });
        }
      }
      buildAll();
      const m = packAll(join(dir, "tgz"));
      writeFileSync(done, JSON.stringify([...m]));
      return m;
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/** A hash of what a build reads: packages/* (without node_modules, dist) and the root configs. */
function workspaceHash(): string {
  const h = createHash("sha256");
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name === "node_modules" || e.name === "dist" || e.name.startsWith(".")) continue;
      const f = join(d, e.name);
      if (e.isDirectory()) walk(f);
      else if (e.isFile()) h.update(relative(ROOT, f)).update("\0").update(readFileSync(f)).update("\0");
    }
  };
  walk(join(ROOT, "packages"));
  for (const f of [
    "package.json",
    "pnpm-lock.yaml",
    "tsconfig.json",
    "tsconfig.base.json",
    "tsconfig.build.json",
    "scripts/build-types.mjs",
    "scripts/tsup.config.ts",
  ]) {
    const p = join(ROOT, f);
    if (existsSync(p)) h.update(f).update("\0").update(readFileSync(p));
  }
  return h.digest("hex").slice(0, 16);
}

/** The version of a tool installed in the workspace (pinned in the consumer, so npm's cache serves it). */
export function workspaceVersion(name: string): string {
  return (
    JSON.parse(readFileSync(join(ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }
  ).version;
}

/**
 * A fresh npm project in `dir` (which must be outside the workspace) with every tarball, and
 * vitest, fast-check and @types/node as a tool author would add them; `npm install`s it.
 */
export function createConsumer(dir: string, tarballs: ReadonlyMap<string, string>): Run {
  mkdirSync(dir, { recursive: true });
  const pkg = {
    name: "ovnsim-consumer",
    private: true,
    type: "module",
    devDependencies: {
      ...Object.fromEntries([...tarballs].map(([name, file]) => [name, `file:${file}`])),
      vitest: workspaceVersion("vitest"),
      "fast-check": workspaceVersion("fast-check"),
      "@types/node": workspaceVersion("@types/node"),
    },
  };
  writeFileSync(join(dir, "package.json"), `${JSON.stringify(pkg, null, 2)}\n`);
  return sh(
    "npm",
    ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", "--no-package-lock"],
    dir,
  );
}
