/**
 * What-if benchmark (`pnpm bench whatif`, or
 * `npx tsx --conditions=@ovnsim/source bench/whatif.bench.ts`).
 *
 * Symbolic reachability (`reach`) from every pod of the seed and from one pod of a generated
 * 100-pod cluster (the seed topology with 4 nodes and a 100-replica Deployment, from
 * @ovnsim/testing's scenarioYaml): classes found, time, witnesses confirmed — through the
 * logical pipelines (`reach`) and through the chassis's OpenFlow bridges (`reach --datapath
 * openflow`), for the 100-pod cluster under Kube-OVN v1.15.20 (br-int in OVN 25.03's table
 * layout) and under v1.14.5 (the seed's release; 24.03's layout). Then the matrix:
 * per-pair cost of a fresh simulation (northd and the OVS bridges rebuilt for every pair, as the
 * matrix did) against the shared compiled parts (`createSimulation(s, reuse)`), and one whole
 * matrix of each scenario. Wall-clock and CPU milliseconds; the machine's load average is in the
 * results file (bench/results/whatif.json). Nothing asserted.
 */
import { loadScenario, scenarioFromYaml } from "../packages/kube/src/index.js";
import type { Scenario } from "../packages/kube/src/index.js";
import { scenarioYaml } from "../packages/testing/src/index.js";
import { createSimulation, trace } from "../packages/tracer/src/index.js";
import {
  buildMatrix,
  matrixDestinations,
  matrixSources,
  reach,
  reachOpenflow,
} from "../packages/whatif/src/index.js";
import { cpuMs, now, writeResults } from "./lib.js";

function timed<T>(fn: () => T): { value: T; ms: number; cpu: number } {
  const t = now();
  const c = cpuMs();
  const value = fn();
  return { value, ms: Math.round(now() - t), cpu: Math.round(cpuMs() - c) };
}

interface ReachDoc {
  readonly classes: readonly { readonly exact?: boolean }[];
  readonly delivered: number;
  readonly dropped: number;
  readonly confirmed: number;
}

/** Classes and time of a reach from each of the first `pods` pods (logical or OpenFlow). */
function reachFigures(
  s: Scenario,
  pods: number,
  run: (s: Scenario, from: string) => ReachDoc = (x, f) => reach(x, { from: f }).doc,
) {
  return s.pods.slice(0, pods).map((p) => {
    const r = timed(() => run(s, p.lsp));
    return {
      from: `${p.namespace}/${p.name}`,
      classes: r.value.classes.length,
      delivered: r.value.delivered,
      dropped: r.value.dropped,
      confirmed: r.value.confirmed,
      ...(r.value.classes.every((c) => c.exact === undefined)
        ? {}
        : { exact: r.value.classes.filter((c) => c.exact).length }),
      ms: r.ms,
      cpuMs: r.cpu,
    };
  });
}

const openflow = (s: Scenario, from: string): ReachDoc => reachOpenflow(s, { from }).doc;

/** Per-pair milliseconds over `n` pairs: a fresh simulation each, or the shared compiled parts. */
function perPair(s: Scenario, n: number) {
  const srcs = matrixSources(s);
  const dsts = matrixDestinations(s);
  const pairs = Array.from(
    { length: n },
    (_, i) => [srcs[i % srcs.length]!, dsts[(i * 7) % dsts.length]!] as const,
  );
  const run = (reuse: boolean) => {
    const base = reuse ? createSimulation(s) : undefined;
    return timed(() => {
      for (const [a, b] of pairs) {
        const sim = createSimulation(s, base !== undefined ? { reuse: base } : {});
        trace(sim, { from: a.traceFrom, to: b.ip, port: b.port, proto: b.proto });
      }
    });
  };
  const fresh = run(false);
  const shared = run(true);
  return {
    pairs: n,
    freshMsPerPair: Number((fresh.ms / n).toFixed(1)),
    sharedMsPerPair: Number((shared.ms / n).toFixed(1)),
    freshCpuMsPerPair: Number((fresh.cpu / n).toFixed(1)),
    sharedCpuMsPerPair: Number((shared.cpu / n).toFixed(1)),
  };
}

function matrixFigures(s: Scenario) {
  const m = timed(() => buildMatrix(s));
  return {
    sources: m.value.sources.length,
    destinations: m.value.destinations.length,
    pairs: m.value.rows.length,
    delivered: m.value.delivered,
    denied: m.value.denied,
    ms: m.ms,
    cpuMs: m.cpu,
    msPerPair: Number((m.ms / Math.max(1, m.value.rows.length)).toFixed(1)),
  };
}

const seed = loadScenario();
const bigSpec = {
  nodes: 4,
  replicas: 100,
  etpLocal: false,
  preferLocal: true,
  ctSkip: false,
  dnatModDlDst: true,
  externalLb: true,
  release: "v1.15.20" as "v1.14.5" | "v1.15.20",
  vlan: 341,
};
const big = scenarioFromYaml(scenarioYaml(bigSpec));
const big114 = scenarioFromYaml(scenarioYaml({ ...bigSpec, release: "v1.14.5" as const }));

const seedReach = reachFigures(seed, seed.pods.length);
console.log("seed reach", seedReach);
const bigReach = reachFigures(big, 1);
console.log("100-pod reach", bigReach);
const bigOfReach = reachFigures(big, 1, openflow);
console.log("100-pod reach --datapath openflow", bigOfReach);
const seedOfReach = reachFigures(seed, seed.pods.length, openflow);
console.log("seed reach --datapath openflow", seedOfReach);
const big114Reach = reachFigures(big114, 1);
console.log("100-pod (v1.14.5) reach", big114Reach);
const big114OfReach = reachFigures(big114, 1, openflow);
console.log("100-pod (v1.14.5) reach --datapath openflow", big114OfReach);
const seedPairs = perPair(seed, 25);
console.log("seed per pair", seedPairs);
const bigPairs = perPair(big, 20);
console.log("100-pod per pair", bigPairs);
const seedMatrix = matrixFigures(seed);
console.log("seed matrix", seedMatrix);
const bigMatrix = matrixFigures(big);
console.log("100-pod matrix", bigMatrix);

const file = writeResults("whatif", {
  seed: {
    pods: seed.pods.length,
    reach: seedReach,
    reachOpenflow: seedOfReach,
    perPair: seedPairs,
    matrix: seedMatrix,
  },
  cluster100: {
    pods: big.pods.length,
    nodes: big.nodes.length,
    reach: bigReach,
    reachOpenflow: bigOfReach,
    perPair: bigPairs,
    matrix: bigMatrix,
  },
  cluster100v114: {
    pods: big114.pods.length,
    nodes: big114.nodes.length,
    release: "v1.14.5",
    reach: big114Reach,
    reachOpenflow: big114OfReach,
  },
});
console.log(`wrote ${file}`);
