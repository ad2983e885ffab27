/**
 * br-int benchmark (`pnpm bench brint`, or `npx tsx --conditions=@ovnsim/source bench/brint.bench.ts`).
 *
 * The OpenFlow tables of one node in a 100-pod Kube-OVN cluster (4 nodes, subnets ovn-default
 * and app, join, router ovn-cluster, 10 NetworkPolicies, 20 ClusterIP services), computed the way
 * a real node gets them: NB state → ovnsim's northd (ovn-23.03 profile) → southbound captures →
 * `@ovnsim/controller` (ovn-controller 23.03) → br-int loaded into the `@ovnsim/openflow` model.
 * Two sources of NB state, each measured (`BRINT_WORLDS=kube,nbctl` by default):
 * - `kube`: the cluster as Kubernetes manifests (bench/brint-kube.ts) read by `@ovnsim/kube`
 *   (IPAM, endpoints, NetworkPolicies → port groups / address sets / ACLs) and its
 *   `deriveClusterNbctl`, the path `ovnsim trace` takes for a cluster scenario;
 * - `nbctl`: bench/brint-world.ts's hand-written ovn-nbctl script of a similar cluster.
 *
 * Measured (CPU time of this process, medians of 5 runs, bench/lib.ts):
 * - per table: lookups/s of `OfTable.lookup` (conjunctions included) with and without megaflow
 *   (wildcard) tracking, over keys made from the table's own rules (each rule's match value:
 *   a key that hits that rule or a higher-priority one), cycled;
 * - end to end: packets/s of `traceFlow` in stateful mode (ofproto/trace's translation with a
 *   connection table carried across packets, each a new connection) for five packet kinds from
 *   a local pod: structured records only (no text is rendered: the Flow/Megaflow texts are made
 *   when read), and the same with the ofproto/trace text rendered (`renderTrace`) for comparison.
 * Also the one-time costs (northd, controller, loading br-int). Written to
 * bench/results/brint.json; nothing asserted.
 */
import { Conntrack } from "../packages/conntrack/src/index.js";
import { ovnController } from "../packages/controller/src/index.js";
import { buildSwitch, renderTrace, traceFlow } from "../packages/openflow/src/index.js";
import { FLOW_WORDS, type Flow, makeFlow, parseIp4, parseMac } from "../packages/packet/src/index.js";
import { kubeCluster } from "./brint-kube.js";
import { type Cluster, clusterCaptures, clusterNbctl, DEFAULT_SHAPE, type Pod } from "./brint-world.js";
import { cpuMs, type LookupTimer, machine, makeTimer, median, MIN_RUNS, writeResults } from "./lib.js";

const NODE = "node1";
const TARGET_MS = Number(process.env.BENCH_TARGET_MS ?? 100);
const WORLDS = (process.env.BRINT_WORLDS ?? "kube,nbctl")
  .split(",")
  .filter((w) => w === "kube" || w === "nbctl");

interface TableRow {
  table: number;
  flows: number;
  masks: number;
  keys: number;
  hitRate: number;
  lookupsPerSec: number;
  lookupsPerSecWc: number;
}
interface E2eRow {
  packet: string;
  passes: number;
  datapathActions: string;
  /** traceFlow's structured records only (no text rendered). */
  packetsPerSec: number;
  /** The same, with the ofproto/trace text rendered for each packet. */
  packetsPerSecWithText: number;
}

/** Everything measured on one world (one NB source). */
function measure(world: string, cluster: Cluster) {
  let t = cpuMs();
  const cap = clusterCaptures(cluster, NODE);
  const northdMs = cpuMs() - t;
  t = cpuMs();
  const out = ovnController({ sb: cap.sb, node: cap.node });
  const controllerMs = cpuMs() - t;
  t = cpuMs();
  const sw = buildSwitch({
    vsctlShow: cap.node["ovs-vsctl-show.txt"]!,
    interfaces: cap.node["interfaces.txt"]!,
    bridges: new Map([["br-int", { flows: out.flows.join("\n"), groups: out.groups.join("\n") }]]),
  });
  const loadMs = cpuMs() - t;
  const br = sw.bridge("br-int");

  const skippedBy = new Map<string, number>();
  for (const s of out.skipped) {
    const r = s.reason.replace(/`[^']*'/g, "`…'");
    skippedBy.set(r, (skippedBy.get(r) ?? 0) + 1);
  }

  // ---- per table -----------------------------------------------------------------------------
  const tableRows: TableRow[] = [];
  const wc = new Uint32Array(FLOW_WORDS);
  for (let id = 0; id < 255; id++) {
    const tab = br.table(id);
    if (!tab) continue;
    const rules = tab.rules();
    if (rules.length === 0) continue;
    // One arena for the table's keys (a datapath batch holds its packets together).
    const arena = new Uint32Array(rules.length * FLOW_WORDS);
    const keys = rules.map((r, i) => {
      const k = arena.subarray(i * FLOW_WORDS, (i + 1) * FLOW_WORDS);
      k.set(r.words.value);
      return k;
    });
    let hits = 0;
    for (const k of keys) if (tab.lookup(k) !== undefined) hits++;
    const noWc = (k: Uint32Array) => tab.lookup(k);
    const withWc = (k: Uint32Array) => {
      wc.fill(0);
      return tab.lookup(k, wc);
    };
    const [t1, t2] = [makeTimer(), makeTimer()];
    const size = (tm: LookupTimer, f: (k: Uint32Array) => unknown): number =>
      Math.max(1000, Math.min(2_000_000, Math.round((tm(f, keys, 2000) * TARGET_MS) / 1000)));
    const n1 = size(t1, noWc);
    const n2 = size(t2, withWc);
    const a: number[] = [];
    const b: number[] = [];
    for (let r = 0; r < MIN_RUNS; r++) {
      a.push(t1(noWc, keys, n1));
      b.push(t2(withWc, keys, n2));
    }
    tableRows.push({
      table: id,
      flows: tab.rules().length,
      masks: tab.masks,
      keys: keys.length,
      hitRate: Math.round((hits / keys.length) * 1000) / 1000,
      lookupsPerSec: Math.round(median(a)),
      lookupsPerSecWc: Math.round(median(b)),
    });
  }

  // ---- end to end ----------------------------------------------------------------------------
  // Namespace k's policy admits namespace k + 1 on tcp 8080: each case picks a local source pod
  // and a destination its namespace may reach (or, for the drop case, the port it may not).
  const nsOf = (name: string): number => Number(/\.ns(\d+)$/.exec(name)![1]);
  const P = DEFAULT_SHAPE.policies;
  const admits = (src: Pod, dst: Pod): boolean => nsOf(dst.name) === (nsOf(src.name) + P - 1) % P;
  const local = cluster.pods.filter((p) => p.node === NODE);
  const pick = (ok: (src: Pod, dst: Pod) => boolean): { src: Pod; dst: Pod } => {
    for (const src of local)
      for (const dst of cluster.pods) if (dst !== src && ok(src, dst)) return { src, dst };
    throw new Error(`${world}: no pod pair for a case`);
  };
  // The router port's MAC on each subnet (`lrp-add ovn-cluster ovn-cluster-<subnet> <mac> …`).
  const routerMac = new Map(
    [...cluster.nbctl.matchAll(/lrp-add ovn-cluster ovn-cluster-(\S+) (\S+)/g)].map((m) => [m[1]!, m[2]!]),
  );
  const pkt = (src: Pod, dstIp: string, dstMac: string, dport: number, sport: number): Flow =>
    makeFlow({
      in_port: cap.ofports.get(src.name)!,
      dl_src: parseMac(src.mac),
      dl_dst: parseMac(dstMac),
      dl_type: 0x0800,
      nw_src: parseIp4(src.ip),
      nw_dst: parseIp4(dstIp),
      nw_proto: 6,
      nw_ttl: 64,
      tp_src: sport,
      tp_dst: dport,
      tcp_flags: 2,
    });
  const sameNode = pick((s, d) => d.node === NODE && d.subnet === s.subnet && admits(s, d));
  const remote = pick((s, d) => d.node !== NODE && d.subnet === s.subnet && admits(s, d));
  const otherSubnet = pick((s, d) => d.subnet !== s.subnet && admits(s, d));
  const vip = cluster.vips.find((v) => v.port === 80)!;
  // A client that is not one of the service's backends (no hairpin).
  const svcSrc = local.find((p) => !vip.backends.includes(p))!;
  const viaRouter = (s: Pod): string => routerMac.get(s.subnet)!;
  const cases: { name: string; flow: (sport: number) => Flow }[] = [
    {
      name: "pod → pod, same node",
      flow: (sp) => pkt(sameNode.src, sameNode.dst.ip, sameNode.dst.mac, 8080, sp),
    },
    {
      name: "pod → pod, other node (Geneve)",
      flow: (sp) => pkt(remote.src, remote.dst.ip, remote.dst.mac, 8080, sp),
    },
    {
      name: "pod → pod, other subnet (router)",
      flow: (sp) => pkt(otherSubnet.src, otherSubnet.dst.ip, viaRouter(otherSubnet.src), 8080, sp),
    },
    {
      name: "pod → ClusterIP service (LB)",
      flow: (sp) => pkt(svcSrc, vip.ip, viaRouter(svcSrc), vip.port, sp),
    },
    {
      name: "pod → pod, port the policy drops",
      flow: (sp) => pkt(sameNode.src, sameNode.dst.ip, sameNode.dst.mac, 9090, sp),
    },
  ];
  const e2e: E2eRow[] = [];
  // Stateful (conntrack carried from packet to packet, each packet a new connection: a new
  // source port), as the tracer runs br-int.
  let ct = Conntrack.empty();
  let sport = 1024;
  const run = (f: Flow) => {
    const r = traceFlow(sw, "br-int", f, { conntrack: ct });
    ct = r.conntrack ?? ct;
    return r;
  };
  let textChars = 0;
  const runText = (f: Flow) => {
    const r = run(f);
    textChars += renderTrace(r).length;
    return r;
  };
  const rate = (fn: (f: Flow) => unknown, c: (typeof cases)[number]): number => {
    const n = 200;
    const rates: number[] = [];
    for (let i = 0; i < 20; i++) fn(c.flow(sport++ & 0xffff || 1));
    for (let r = 0; r < MIN_RUNS; r++) {
      ct = Conntrack.empty();
      const flows = Array.from({ length: n }, () => c.flow(sport++ & 0xffff || 1));
      const t0 = cpuMs();
      for (let i = 0; i < n; i++) fn(flows[i]!);
      rates.push((n / (cpuMs() - t0)) * 1000);
    }
    return Math.round(median(rates));
  };
  for (const c of cases) {
    ct = Conntrack.empty();
    const first = run(c.flow(sport++));
    const packetsPerSec = rate(run, c);
    const packetsPerSecWithText = rate(runText, c);
    e2e.push({
      packet: c.name,
      passes: first.passes.length,
      datapathActions: first.passes.map((p) => p.datapathActions).join(" | "),
      packetsPerSec,
      packetsPerSecWithText,
    });
  }
  if (textChars === 0) throw new Error("no trace text rendered");

  // ---- report --------------------------------------------------------------------------------
  const totalFlows = out.flows.length;
  console.log(
    `\n[${world}] br-int of ${NODE}: ${cluster.pods.length} pods on ${cluster.nodes.length} nodes (${cap.ofports.size} local), ${DEFAULT_SHAPE.policies} NetworkPolicies, ${cluster.vips.length} services`,
  );
  console.log(
    `  ${cap.lflows} logical flows → ${totalFlows} OpenFlow flows in ${tableRows.length} tables, ${out.groups.length} groups; ${out.skipped.length} lflows the controller model skipped`,
  );
  for (const [r, k] of [...skippedBy].sort((x, y) => y[1] - x[1])) console.log(`    ${k} × ${r}`);
  console.log(
    `  one-time: northd + captures ${northdMs.toFixed(0)} ms, controller ${controllerMs.toFixed(0)} ms, load br-int ${loadMs.toFixed(0)} ms (CPU)`,
  );
  const pad = (s: string | number, n: number): string => String(s).padStart(n);
  console.log(
    `\n${"table".padEnd(6)} ${pad("flows", 6)} ${pad("masks", 6)} ${pad("hit%", 5)} ${pad("M lkp/s", 8)} ${pad("+wc", 6)}`,
  );
  for (const r of tableRows)
    console.log(
      `${String(r.table).padEnd(6)} ${pad(r.flows, 6)} ${pad(r.masks, 6)} ${pad((r.hitRate * 100).toFixed(0), 5)} ${pad((r.lookupsPerSec / 1e6).toFixed(2), 8)} ${pad((r.lookupsPerSecWc / 1e6).toFixed(2), 6)}`,
    );
  console.log(
    "\nend to end through br-int (traceFlow, stateful: records only / with the ofproto/trace text)",
  );
  for (const r of e2e)
    console.log(
      `  ${r.packet.padEnd(36)} ${pad(r.packetsPerSec.toLocaleString("en-US"), 7)} / ${pad(r.packetsPerSecWithText.toLocaleString("en-US"), 7)} packets/s  passes ${r.passes}  actions ${r.datapathActions}`,
    );
  return {
    shape: DEFAULT_SHAPE,
    node: NODE,
    pods: cluster.pods.length,
    services: cluster.vips.length,
    localPods: cap.ofports.size,
    logicalFlows: cap.lflows,
    openflowFlows: totalFlows,
    groups: out.groups.length,
    skippedLflows: out.skipped.length,
    skippedReasons: Object.fromEntries(skippedBy),
    northdAndCapturesMs: Math.round(northdMs),
    controllerMs: Math.round(controllerMs),
    loadBrIntMs: Math.round(loadMs),
    tables: tableRows,
    endToEnd: e2e,
  };
}

const worlds: Record<string, ReturnType<typeof measure>> = {};
for (const w of WORLDS)
  worlds[w] = measure(w, w === "kube" ? kubeCluster(DEFAULT_SHAPE) : clusterNbctl(DEFAULT_SHAPE));
const m = machine();
console.log(
  `\n${m.cpu}, ${m.cores} cores, Node ${m.node}; load average at end ${m.loadAverage.end.join(" ")}`,
);
writeResults("brint", { worlds });
