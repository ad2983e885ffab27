/**
 * Cold start of the installed `ovnsim` command (`pnpm bench cli-coldstart`, or
 * `npx tsx --conditions=@ovnsim/source bench/cli-coldstart.bench.ts [PROJECT]`).
 *
 * Builds and packs every package and npm-installs the tarballs into a fresh project
 * (scripts/consumer.ts; or reuses PROJECT / $OVNSIM_CONSUMER_DIR, a project made that way), then
 * times one full `ovnsim trace --format json` of the built-in seed, a new process each run:
 * wall and CPU (user + sys, from bash's `time`) as the installed binary, through `npx`, and
 * through the unbundled library (`import { run } from "@ovnsim/cli"`), against one real
 * `ovn-trace` call (the seed's localnet → VIP microflow against a real NB/SB built from the
 * derived ovn-nbctl commands) where OVN is installed. Medians of 7 runs after one warm-up; also
 * the packed size of every tarball. Printed and written to bench/results/cli-coldstart.json;
 * nothing asserted.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { deriveNbctl, loadScenario } from "../packages/kube/src/index.js";
import { oracleAvailable, type Sandbox, startSandbox } from "../packages/oracle/src/index.js";
import { buildAll, cleanEnv, createConsumer, packAll } from "../scripts/consumer.js";
import { median, writeResults } from "./lib.js";

const RUNS = 7;

interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

/** Median wall and CPU of a shell command run RUNS times (after one warm-up), via bash's `time`. */
function timeShell(script: string, cwd: string, env: NodeJS.ProcessEnv): Timing {
  const one = (): Timing => {
    const r = spawnSync("bash", ["-c", `TIMEFORMAT='%R %U %S'; time ( ${script} >/dev/null 2>&1 )`], {
      cwd,
      env,
      encoding: "utf8",
    });
    const m = /([\d.]+) ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
    if (r.status !== 0 || !m) throw new Error(`${script}: exit ${r.status}: ${r.stderr}`);
    return { wallMs: Number(m[1]) * 1000, cpuMs: (Number(m[2]) + Number(m[3])) * 1000 };
  };
  one();
  const xs = Array.from({ length: RUNS }, one);
  return { wallMs: median(xs.map((x) => x.wallMs)), cpuMs: median(xs.map((x) => x.cpuMs)) };
}

const round = (t: Timing) => ({ wallMs: Math.round(t.wallMs), cpuMs: Math.round(t.cpuMs) });

let project = process.argv[2] ?? process.env.OVNSIM_CONSUMER_DIR;
let scratch: string | undefined;
const sizes: Record<string, number> = {};
if (!project || !existsSync(join(project, "node_modules", ".bin", "ovnsim"))) {
  scratch = mkdtempSync(join(os.tmpdir(), "ovnsim-coldstart-"));
  console.log(`building, packing and installing into ${scratch} …`);
  buildAll();
  const tarballs = packAll(join(scratch, "tarballs"));
  for (const [name, file] of tarballs) sizes[name] = statSync(file).size;
  project = join(scratch, "project");
  createConsumer(project, tarballs);
} else {
  // A project made by the consumer test (OVNSIM_KEEP_CONSUMER=1) has its tarballs beside it.
  const dir = join(project, "..", "tarballs");
  if (existsSync(dir))
    for (const f of readdirSync(dir).sort())
      sizes[`@${f.replace(/-\d+\.\d+\.\d+\.tgz$/, "").replace("-", "/")}`] = statSync(join(dir, f)).size;
}

const env = cleanEnv();
const bin = join(project, "node_modules", ".bin", "ovnsim");
const row = {
  installed: round(timeShell(`${bin} trace --format json`, project, env)),
  npx: round(timeShell("npx --no-install ovnsim trace --format json", project, env)),
  library: round(
    timeShell(
      `node --input-type=module -e 'import { run } from "@ovnsim/cli"; process.exitCode = await run(["trace", "--format", "json"], { stdout: (s) => process.stdout.write(s), stderr: (s) => process.stderr.write(s) });'`,
      project,
      env,
    ),
  ),
  nodeAlone: round(timeShell("node -e 0", project, env)),
  realOvnTrace: null as { wallMs: number; cpuMs: number } | null,
  packedBytes: sizes,
  runs: RUNS,
  machine: `${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, node ${process.version}, load ${os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ")}`,
};

if (oracleAvailable("ovn")) {
  let sb: Sandbox | undefined;
  try {
    sb = startSandbox({ name: "coldstart", ovs: false });
    const script = deriveNbctl(loadScenario())
      .filter((l) => l.startsWith("ovn-nbctl") || l.startsWith("ovn-sbctl"))
      .map((l) => l.replace(/^ovn-nbctl /, "ovn-nbctl --no-wait "))
      .join("\n");
    sb.sh(script);
    sb.sh("ovn-nbctl --wait=sb sync");
    const micro =
      'inport == "localnet.underlay-subnet" && eth.src == 52:54:00:ff:00:01 && eth.dst == 00:00:00:01:00:01 && ip4.src == 192.0.2.10 && ip4.dst == 10.180.204.252 && ip.ttl == 63 && tcp.src == 40000 && tcp.dst == 80 && tcp.flags == 2';
    row.realOvnTrace = round(
      timeShell(`ovn-trace --ct=new --ct=new underlay-subnet '${micro}'`, project, { ...sb.env }),
    );
  } catch (e) {
    console.error(`real ovn-trace: ${(e as Error).message.split("\n")[0]}`);
  } finally {
    sb?.stop();
  }
}
if (scratch) rmSync(scratch, { recursive: true, force: true });

const fmt = (t: Timing) => `${String(t.wallMs).padStart(5)} ms wall ${String(t.cpuMs).padStart(5)} ms CPU`;
console.log(`ovnsim trace --format json of the built-in seed, a new process each (median of ${RUNS})`);
console.log(`  installed binary (node_modules/.bin/ovnsim):  ${fmt(row.installed)}`);
console.log(`  npx ovnsim (adds npx's own start):            ${fmt(row.npx)}`);
console.log(`  unbundled library (import { run }):           ${fmt(row.library)}`);
console.log(`  node -e 0 (Node's own start):                 ${fmt(row.nodeAlone)}`);
if (row.realOvnTrace) console.log(`  real ovn-trace, one call (one logical hop):   ${fmt(row.realOvnTrace)}`);
else console.log("  real ovn-trace: not installed");
if (Object.keys(sizes).length > 0) {
  console.log("packed tarballs (bytes):");
  for (const [n, b] of Object.entries(sizes)) console.log(`  ${n.padEnd(20)} ${String(b).padStart(8)}`);
}
console.log(`  ${row.machine}`);
writeResults("cli-coldstart", row);
