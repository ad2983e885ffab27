// Each public package works from its packed tarball alone: consumer.test.ts installs every
// tarball into one project, where npm hoists them side by side, so a package that imports an
// @ovnsim package (or yaml, immer...) it does not declare still loads there. Here every tarball
// is unpacked into its own isolated node_modules (the layout pnpm gives an installed package),
// holding only the dependencies its package.json declares: the unpacked tarballs of its @ovnsim
// dependencies (themselves isolated the same way) and the workspace's copy of each third-party
// one. Each entry point must then import (ESM) and require (CommonJS), and every module specifier
// its shipped JavaScript and .d.ts files name must be a Node builtin, its own name, or a declared
// dependency.
// Slow: builds and packs the workspace (once for this and consumer.test.ts: packedTarballs).
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  symlinkSync,
} from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { packedTarballs, publicPackages, sh } from "../../../scripts/consumer.js";

const STEP_MS = 600_000;

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  exports: Record<string, unknown>;
}

let work = "";
/** package name → its unpacked tarball (…/<name>/node_modules/<name>). */
const unpacked = new Map<string, string>();
const workspaceDir = new Map(publicPackages().map((p) => [p.name, p.dir]));

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "ovnsim-alone-"));
  for (let d = work; d !== dirname(d); d = dirname(d)) {
    expect(existsSync(join(d, "node_modules")), `${d}/node_modules exists`).toBe(false);
  }
  const tarballs = packedTarballs();
  for (const [name, tgz] of tarballs) {
    const dir = join(work, "store", name.replace("/", "+"), "node_modules", name);
    mkdirSync(dir, { recursive: true });
    sh("tar", ["-xzf", tgz, "-C", dir, "--strip-components=1"], work);
    unpacked.set(name, dir);
  }
  // Only now link the declared dependencies, next to each package (not inside it).
  for (const [name, dir] of unpacked) {
    const pkg = manifest(dir);
    const nm = dirname(name.startsWith("@") ? dirname(dir) : dir);
    for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })) {
      const link = join(nm, dep);
      mkdirSync(dirname(link), { recursive: true });
      const target = unpacked.get(dep) ?? thirdParty(name, dep);
      symlinkSync(target, link, "dir");
    }
  }
}, STEP_MS);

afterAll(() => {
  if (work && !process.env.OVNSIM_KEEP_CONSUMER) rmSync(work, { recursive: true, force: true });
});

function manifest(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, "package.json"), "utf8")) as Manifest;
}

/** The workspace's installed copy of a third-party dependency of `name` (pnpm's real path). */
function thirdParty(name: string, dep: string): string {
  const at = join(workspaceDir.get(name)!, "node_modules", dep);
  if (!existsSync(at))
    throw new Error(`${name} declares ${dep}, which the workspace does not install for it`);
  return realpathSync(at);
}

/** The shipped JavaScript and declarations (a consumer's type-check resolves the latter's imports). */
function shippedFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(c|m)?js$|\.d\.(c|m)?ts$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** The package a module specifier names ("@a/b/c" → "@a/b", "x/y" → "x"). */
const packageOf = (spec: string) =>
  spec
    .split("/")
    .slice(0, spec.startsWith("@") ? 2 : 1)
    .join("/");
const builtins = new Set(builtinModules);

const SPEC_RE = /^(?:node:)?(?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*(?:\/[\w.-]+)*$/;

/** Bare module specifiers in a built file: import/export … from, import(), require(). */
function specifiers(js: string): string[] {
  const out: string[] = [];
  const re = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)(["'])([^"'\n]+)\1/gm;
  for (const m of js.matchAll(re)) {
    const s = m[2]!;
    // minified code has "from" and "require(" inside strings too: keep what is shaped like a
    // package specifier
    if (SPEC_RE.test(s)) out.push(s);
  }
  return out;
}

const names = publicPackages().map((p) => p.name);

describe("each packed tarball, alone with its declared dependencies", () => {
  it.each(names)(
    "%s: shipped JavaScript and declarations name only builtins and declared dependencies",
    (name) => {
      const dir = unpacked.get(name)!;
      const pkg = manifest(dir);
      const declared = new Set([name, ...Object.keys({ ...pkg.dependencies, ...pkg.peerDependencies })]);
      const files = shippedFiles(join(dir, "dist"));
      expect(files.length).toBeGreaterThan(0);
      const undeclared = new Set<string>();
      for (const f of files)
        for (const s of specifiers(readFileSync(f, "utf8"))) {
          const p = packageOf(s.replace(/^node:/, ""));
          if (!s.startsWith("node:") && !builtins.has(p) && !declared.has(p)) undeclared.add(s);
        }
      expect([...undeclared].sort()).toEqual([]);
    },
    STEP_MS,
  );

  it.each(names)(
    "%s: every entry point imports (ESM) and requires (CommonJS)",
    (name) => {
      const dir = unpacked.get(name)!;
      const entries = Object.keys(manifest(dir).exports)
        .filter((k) => !k.includes("*") && !k.endsWith(".json"))
        .map((k) => name + k.slice(1));
      expect(entries).toContain(name);
      // the project dir whose node_modules holds the package and its declared dependencies
      const cwd = dirname(dirname(name.startsWith("@") ? dirname(dir) : dir));
      const esm = `for (const e of ${JSON.stringify(entries)}) { const m = await import(e); if (Object.keys(m).length === 0) throw new Error(e + " exports nothing"); }`;
      const r = sh(process.execPath, ["--input-type=module", "-e", esm], cwd, false);
      expect(r.code, r.stderr.slice(-3000)).toBe(0);
      const cjs = `for (const e of ${JSON.stringify(entries)}) { const m = require(e); if (Object.keys(m).length === 0) throw new Error(e + " exports nothing"); }`;
      const c = sh(process.execPath, ["--input-type=commonjs", "-e", cjs], cwd, false);
      expect(c.code, c.stderr.slice(-3000)).toBe(0);
    },
    STEP_MS,
  );
});
