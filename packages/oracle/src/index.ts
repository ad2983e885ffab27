// Test support for live differential tests: the real OVS 3.1 / OVN 23.03 "oracle" sandboxes of
// ../shared/oracle (oracle-up.sh / oracle-down.sh). Finds shared/, says whether the real tools
// are installed, turns their absence into a skip or (with OVNSIM_REQUIRE_ORACLE=1, as CI sets)
// a clear failure, and runs commands inside a sandbox with its OVS_* / OVN_* environment.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";

/** The repository root (this file is packages/oracle/src/index.ts). */
export function repoRoot(): string {
  return path.resolve(import.meta.dirname, "../../..");
}

/** The project brief's shared/ directory: `$OVNSIM_SHARED`, else `<repo>/../shared`. */
export function sharedDir(): string {
  return process.env.OVNSIM_SHARED ?? path.resolve(repoRoot(), "../shared");
}

/** A script of shared/oracle (`oracle-up.sh`, `ovn-scenario.sh`, …). */
export function oracleScript(name: string): string {
  return path.join(sharedDir(), "oracle", name);
}

/** What a live test needs: OVS (ovs-vswitchd…), OVN central (northd, nbctl, ovn-trace…), ovn-controller. */
export type OracleKind = "ovs" | "ovn" | "controller";

const TOOLS: Readonly<Record<OracleKind, readonly string[]>> = {
  ovs: ["ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-appctl", "ovs-ofctl"],
  ovn: ["ovsdb-server", "ovn-northd", "ovn-nbctl", "ovn-sbctl", "ovn-trace"],
  controller: ["ovn-controller"],
};

const found = new Map<string, boolean>();
function onPath(cmd: string): boolean {
  let ok = found.get(cmd);
  if (ok === undefined) {
    ok = spawnSync("sh", ["-c", 'command -v "$1"', "_", cmd], { stdio: "ignore" }).status === 0;
    found.set(cmd, ok);
  }
  return ok;
}

/** The real tools a kind needs (`controller` implies OVS and OVN). */
export function oracleTools(...kinds: readonly OracleKind[]): readonly string[] {
  const all: readonly OracleKind[] = kinds.includes("controller") ? [...kinds, "ovs", "ovn"] : kinds;
  return [...new Set(all.flatMap((k) => TOOLS[k]))];
}

/** What is missing for these kinds: tools not on PATH, and shared/oracle/oracle-up.sh. */
export function oracleMissing(...kinds: readonly OracleKind[]): readonly string[] {
  const missing = oracleTools(...kinds).filter((t) => !onPath(t));
  if (!existsSync(oracleScript("oracle-up.sh"))) missing.push(oracleScript("oracle-up.sh"));
  return missing;
}

export function oracleAvailable(...kinds: readonly OracleKind[]): boolean {
  return oracleMissing(...kinds).length === 0;
}

export interface OracleGate {
  /** The tools and shared/oracle are there. */
  readonly available: boolean;
  /** OVNSIM_REQUIRE_ORACLE=1: a missing oracle is a failure, not a skip. */
  readonly required: boolean;
  /** For `describe.skipIf(gate.skip)`: missing and not required. */
  readonly skip: boolean;
  readonly missing: readonly string[];
  /** Throws (in beforeAll or a test) with what is missing, unless available. */
  assert(): void;
}

/**
 * Whether a live test file runs: `describe.skipIf(gate.skip)(…)` and `gate.assert()` in its
 * beforeAll, so that under OVNSIM_REQUIRE_ORACLE=1 missing tools FAIL the file.
 */
export function oracleGate(...kinds: readonly OracleKind[]): OracleGate {
  const missing = oracleMissing(...kinds);
  const available = missing.length === 0;
  const required = process.env.OVNSIM_REQUIRE_ORACLE === "1";
  return {
    available,
    required,
    skip: !available && !required,
    missing,
    assert() {
      if (!available)
        throw new Error(
          `the real ${kinds.join("/")} oracle is missing (${missing.join(", ")})${required ? " and OVNSIM_REQUIRE_ORACLE=1" : ""}; shared dir: ${sharedDir()}`,
        );
    },
  };
}

export interface ToolGate {
  readonly available: boolean;
  /** For `describe.skipIf(gate.skip)`: missing and not required. */
  readonly skip: boolean;
  /** Throws (in beforeAll) when the tool is missing, so a required run fails rather than skips. */
  assert(): void;
}

/**
 * The same gate for one command-line tool the tests look through (tshark for captures, chromium
 * for the HTML report): skipped when missing, a failure under OVNSIM_REQUIRE_ORACLE=1 (CI).
 */
export function toolGate(command: string, debianPackage: string = command): ToolGate {
  const available = spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
  const required = process.env.OVNSIM_REQUIRE_ORACLE === "1";
  return {
    available,
    skip: !available && !required,
    assert() {
      if (!available)
        throw new Error(
          `${command} is missing${required ? " and OVNSIM_REQUIRE_ORACLE=1" : ""} (apt-get install ${debianPackage})`,
        );
    },
  };
}

export interface SandboxOptions {
  /** Short tag in the directory name: /tmp/ovnsim-<name>-<pid>. */
  readonly name: string;
  /** An explicit directory instead (recording scripts take one); < 80 characters. */
  readonly dir?: string;
  /** Start ovsdb-server + ovs-vswitchd (dummy datapath). Default true. */
  readonly ovs?: boolean;
  /** Start the NB/SB databases and ovn-northd. Default true. */
  readonly ovn?: boolean;
  /** Also ovn-controller as chassis hv1 with br-int and br-provider. Default false. */
  readonly controller?: boolean;
}

export interface Sandbox {
  /** The sandbox directory (sockets, logs, env.sh). */
  readonly dir: string;
  /** process.env plus the sandbox's OVS_* / OVN_* variables (from DIR/env.sh). */
  readonly env: Readonly<Record<string, string>>;
  /** Runs a command in the sandbox; returns its stdout (throws on a non-zero exit). */
  run(cmd: string, args?: readonly string[], input?: string): string;
  /** Runs a bash script (`set -e`) in the sandbox; returns its stdout. */
  sh(script: string, input?: string): string;
  /** oracle-down.sh DIR --rm; safe to call twice or after a failed start. */
  stop(): void;
}

const MAX_BUFFER = 1 << 28;

/** Parses oracle-up.sh's env.sh (`export A=x B=y` lines). */
export function parseEnvSh(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^\s*export\s+(.*)$/.exec(line);
    if (!m) continue;
    for (const w of (m[1] ?? "").trim().split(/\s+/)) {
      const i = w.indexOf("=");
      if (i > 0) out[w.slice(0, i)] = w.slice(i + 1);
    }
  }
  return out;
}

/**
 * Starts a fresh oracle sandbox in /tmp/ovnsim-<name>-<pid> or `dir` (a sandbox left there is
 * stopped and removed first).
 * Call `stop()` in afterAll. Throws with oracle-up.sh's stderr if it fails.
 */
export function startSandbox(opts: SandboxOptions): Sandbox {
  const dir = opts.dir ?? `/tmp/ovnsim-${opts.name}-${process.pid}`;
  const flags = [
    ...(opts.ovn === false ? ["--no-ovn"] : []),
    ...(opts.ovs === false ? ["--no-ovs"] : []),
    ...(opts.controller ? ["--controller"] : []),
  ];
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    if (existsSync(dir)) spawnSync(oracleScript("oracle-down.sh"), [dir, "--rm"], { stdio: "ignore" });
  };
  if (existsSync(dir)) spawnSync(oracleScript("oracle-down.sh"), [dir, "--rm"], { stdio: "ignore" });
  rmSync(dir, { recursive: true, force: true });
  const up = spawnSync(oracleScript("oracle-up.sh"), [dir, ...flags], { encoding: "utf8" });
  if (up.status !== 0) {
    stop();
    throw new Error(
      `oracle-up.sh ${dir} ${flags.join(" ")} failed (${up.error?.message ?? `exit ${up.status}`}): ${up.stderr ?? ""}`,
    );
  }
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, parseEnvSh(readFileSync(path.join(dir, "env.sh"), "utf8")));
  const run = (cmd: string, args: readonly string[] = [], input?: string): string =>
    execFileSync(cmd, args, {
      env,
      encoding: "utf8",
      maxBuffer: MAX_BUFFER,
      stdio: ["pipe", "pipe", "pipe"],
      ...(input !== undefined ? { input } : {}),
    });
  return {
    dir,
    env,
    run,
    sh: (script, input) => run("bash", ["-c", `set -e\n${script}`], input),
    stop,
  };
}

/** The seed of generated live cases: `$OVNSIM_SEED`, else 20261126 (same seed → same cases). */
export function liveSeed(): number {
  return Number(process.env.OVNSIM_SEED ?? 20261126);
}

/** Small deterministic PRNG (mulberry32) in [0, 1) for generated differential cases. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
