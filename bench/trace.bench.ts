/**
 * End-to-end trace benchmark (`pnpm bench trace`, or
 * `npx tsx --conditions=@ovnsim/source bench/trace.bench.ts`).
 *
 * The full two-way seed trace (client → VIP → Pod and the reply) in-process, on one simulation
 * (state carried between traces, each with a new source port, as a stream of connections), and
 * the one-time cost of building a simulation from the manifests. Target: ≤ 50 µs per two-way
 * trace. Where the real tools are installed, the same run times one `ovn-trace` (the seed's
 * localnet → VIP microflow against a real NB/SB from the derived `ovn-nbctl` commands) and one
 * `ovs-appctl ofproto/trace` (br-provider with Kube-OVN's VIP flow and NORMAL, in a sandbox)
 * and prints the ratio. Median of 5 runs; figures printed and written to
 * bench/results/trace.json; nothing asserted.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { deriveNbctl, deriveNodeDataplane, loadScenario } from "../packages/kube/src/index.js";
import { createSimulation, trace } from "../packages/tracer/src/index.js";

const root = path.resolve(import.meta.dirname, "..");
const shared = process.env.OVNSIM_SHARED ?? path.resolve(root, "../shared");
const now = (): number => Number(process.hrtime.bigint()) / 1e6; // ms
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const scenario = loadScenario();
const builds: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = now();
  createSimulation(scenario);
  builds.push(now() - t0);
}
const sim = createSimulation(scenario);
const first = trace(sim, { srcPort: 1024 });
const N = 200;
const runs: number[] = [];
let port = 2000;
for (let r = 0; r < 5; r++) {
  const t0 = now();
  for (let i = 0; i < N; i++) trace(sim, { srcPort: port++ });
  runs.push(((now() - t0) * 1000) / N);
}
const usPerTrace = median(runs);
const row = {
  delivered: first.verdict.delivered,
  droppedAt: first.verdict.droppedAt,
  buildSimulationMs: Number(median(builds).toFixed(2)),
  usPerTwoWayTrace: Number(usPerTrace.toFixed(1)),
  tracesPerSec: Math.round(1e6 / usPerTrace),
  targetUs: 50,
  realOvnTraceMs: null as number | null,
  realOfprotoTraceMs: null as number | null,
  ratio: null as number | null,
  machine: `${os.cpus()[0]?.model ?? "?"} x${os.cpus().length}, node ${process.version}`,
};

// ---- the real tools, once each ---------------------------------------------------------------
const have = (cmd: string) => spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0;
if (have("ovn-trace") && have("ovs-appctl") && existsSync(path.join(shared, "oracle/oracle-up.sh"))) {
  const dir = `/tmp/ovnsim-bench-${process.pid}`;
  try {
    execFileSync(path.join(shared, "oracle/oracle-up.sh"), [dir], { stdio: "ignore" });
    const env = { ...process.env } as Record<string, string>;
    const envText = execFileSync("sh", ["-c", `. ${dir}/env.sh && env`], { encoding: "utf8" });
    for (const l of envText.split("\n")) {
      const i = l.indexOf("=");
      if (i > 0 && /^(OVS_|OVN_)/.test(l)) env[l.slice(0, i)] = l.slice(i + 1);
    }
    const sh = (cmd: string) => execFileSync("sh", ["-c", cmd], { env, encoding: "utf8" });
    // OVN: the derived NB (chassis-add/lsp-bind go to the SB, as the real tools take them).
    const script = deriveNbctl(scenario)
      .filter((l) => l.startsWith("ovn-nbctl") || l.startsWith("ovn-sbctl"))
      .map((l) => l.replace(/^ovn-nbctl /, "ovn-nbctl --no-wait "))
      .join("\n");
    sh(script);
    sh("ovn-nbctl --wait=sb sync");
    const micro =
      'inport == "localnet.underlay-subnet" && eth.src == 52:54:00:ff:00:01 && eth.dst == 00:00:00:01:00:01 && ip4.src == 192.0.2.10 && ip4.dst == 10.180.204.252 && ip.ttl == 63 && tcp.src == 40000 && tcp.dst == 80 && tcp.flags == 2';
    const t1: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = now();
      sh(`ovn-trace --ct=new --ct=new underlay-subnet '${micro}' >/dev/null`);
      t1.push(now() - t0);
    }
    row.realOvnTraceMs = Number(median(t1).toFixed(1));
    // OVS: node3's br-provider as kube-ovn-cni programs it.
    const br = deriveNodeDataplane(scenario, "node3").bridges.find((b) => b.name === "br-provider")!;
    sh(
      "ovs-vsctl add-br br-provider -- set bridge br-provider datapath_type=dummy -- add-port br-provider underlay0 -- set interface underlay0 type=dummy ofport_request=1 -- add-port br-provider p2 -- set interface p2 type=dummy ofport_request=2",
    );
    sh(
      `ovs-ofctl del-flows br-provider && printf '%s\\n' ${br.flows.map((f) => `'${f}'`).join(" ")} | ovs-ofctl add-flows br-provider -`,
    );
    const t2: number[] = [];
    for (let i = 0; i < 3; i++) {
      const t0 = now();
      sh(
        "ovs-appctl ofproto/trace br-provider in_port=1,dl_vlan=341,tcp,dl_src=52:54:00:ff:00:01,dl_dst=52:54:00:0a:00:03,nw_src=192.0.2.10,nw_dst=10.180.204.252,tp_src=40000,tp_dst=80 >/dev/null",
      );
      t2.push(now() - t0);
    }
    row.realOfprotoTraceMs = Number(median(t2).toFixed(1));
    row.ratio = Number((((row.realOvnTraceMs + row.realOfprotoTraceMs) * 1000) / usPerTrace).toFixed(0));
  } catch (e) {
    console.error(`real tools: ${(e as Error).message.split("\n")[0]}`);
  } finally {
    spawnSync(path.join(shared, "oracle/oracle-down.sh"), [dir, "--rm"], { stdio: "ignore" });
  }
}

console.log("seed scenario, full two-way trace (client → VIP → Pod, reply → client), in-process");
console.log(
  `  delivered:                ${row.delivered}${row.droppedAt ? ` (dropped at ${row.droppedAt.layer} ${row.droppedAt.where})` : ""}`,
);
console.log(`  build simulation:         ${row.buildSimulationMs} ms (once per scenario)`);
console.log(
  `  per two-way trace:        ${row.usPerTwoWayTrace} µs  (${row.tracesPerSec} traces/s; target ≤ ${row.targetUs} µs)`,
);
if (row.realOvnTraceMs !== null) {
  console.log(`  real ovn-trace (1 call):  ${row.realOvnTraceMs} ms`);
  console.log(`  real ofproto/trace:       ${row.realOfprotoTraceMs} ms`);
  console.log(`  ratio (real one-way, two calls) / (ovnsim two-way): ${row.ratio}×`);
} else {
  console.log("  real tools: not installed (ratio not measured)");
}
mkdirSync(path.join(root, "bench/results"), { recursive: true });
writeFileSync(path.join(root, "bench/results/trace.json"), `${JSON.stringify(row, null, 2)}\n`);
