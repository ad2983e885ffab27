/**
 * Every branch one request can take through the data plane, P4Testgen-style, instead of the one
 * hash choice and the hand-set conntrack state of ovn-trace / ofproto/trace:
 *   - each load-balancer backend: every bucket of the ct_lb_mark(backends=…) actions the path
 *     reaches (OVS's select group hashes the 5-tuple, so a source port that lands on each bucket
 *     is searched for and kept as the branch's witness);
 *   - each member of a router's ECMP select() the path reaches (northd's multi-next-hop reroute
 *     policy of a Kube-OVN centralized subnet with enableEcmp, or an ECMP static route), its
 *     witness a source port the datapath's hash sends there (in-cluster requests run through
 *     the cluster tracer, as `ovnsim trace` runs them);
 *   - each conntrack state the request can meet where it enters OVN: new (first packet),
 *     established (a packet of a connection this node committed), and no entry (a mid-stream
 *     packet the node never saw); for an in-cluster request the cluster tracer carries what the
 *     SYN committed (chassis, zones, DNAT: `clusterConnection`) to the next packet;
 *   - each MetalLB announcer after a failover: every candidate of MetalLB's L2 election (the
 *     nodes an L2Advertisement of the VIP's pool selects, with a running speaker, and with a local
 *     endpoint under externalTrafficPolicy Local, ordered by sha256(node#IP) as the speakers'
 *     ShouldAnnounce orders them) is elected once the candidates before it fail, and the
 *     connection's next packet is traced on it; then every candidate down. In the cluster, a
 *     pod meets the announcer only for a VIP in its own subnet (its ARP); otherwise its switch's
 *     load balancer DNATs the VIP where it enters OVN, and the branch point says "not on the path".
 * Every branch is one concrete trace with its verdict, and the coverage says how many of the
 * alternatives each branch point offers were reached.
 */
import { type Scenario, electAnnouncer } from "@ovnsim/kube";
import { SimError, TCP_FLAG } from "@ovnsim/packet";
import {
  type ClusterConnection,
  type ClusterTraceInput,
  type ClusterWorld,
  type Simulation,
  type TraceDocument,
  type TraceInput,
  buildClusterWorld,
  clusterAnnouncerOnPath,
  clusterConnection,
  createSimulation,
  isClusterPath,
  kubeProxyEndpoints,
  runTrace,
  trace,
  traceCluster,
  walkSteps,
} from "@ovnsim/tracer";
import { lflowsHit, scenarioLflows } from "./diff.js";

export const BRANCHES_SCHEMA = "ovnsim.branches/v1";

/** `ecmp` and `path` come from ovn-nbctl input (nbbranches.ts): a select() member, no branch point. */
export type BranchKind = "backend" | "conntrack" | "announcer" | "ecmp" | "path";

export interface Branch {
  readonly kind: BranchKind;
  /** The alternative taken: a backend "IP:PORT", a ct state, a node. */
  readonly choice: string;
  /** What makes the packet take it (source port, packet, failure). */
  readonly witness: string;
  readonly delivered: boolean;
  /** "delivered to POD on NODE" or "dropped at WHERE: REASON". */
  readonly verdict: string;
}

export interface Coverage {
  readonly kind: BranchKind;
  readonly reached: number;
  readonly total: number;
  /** Alternatives no branch reached (backends no source port hashed to, nodes never elected). */
  readonly missed: readonly string[];
  /** Why the branch point offers no alternative here ("not on the path"). */
  readonly note?: string;
}

export interface BranchesDocument {
  readonly schema: typeof BRANCHES_SCHEMA;
  readonly scenario: string;
  readonly request: {
    readonly from: string;
    readonly to: string;
    readonly port: number;
    readonly proto: string;
  };
  readonly branches: readonly Branch[];
  readonly coverage: readonly Coverage[];
  readonly delivered: number;
  readonly dropped: number;
}

export interface BranchesInput {
  /** The source as `ovnsim trace` takes it: a host name, or `NS/NAME` of a pod. */
  readonly from?: string;
  /** What `from` names when the user said (`client/`, `node/`, `pod/`), as `sourceKind` gives it. */
  readonly fromKind?: "client" | "node" | "pod";
  readonly to?: string;
  readonly port?: number;
  readonly proto?: "tcp" | "udp";
  /** Source ports tried per backend search (default 256, from 40000). */
  readonly searchPorts?: number;
}

function verdictOf(d: TraceDocument): string {
  const v = d.verdict;
  if (v.delivered && v.pod === null) return `delivered to ${v.node ?? "?"}'s host stack (ovn0)`;
  if (v.delivered)
    return `delivered to ${v.pod ?? "?"} on ${v.node ?? "?"}${v.backend ? ` (DNAT ${v.backend})` : ""}`;
  return `dropped at ${v.droppedAt?.layer ?? "?"} ${v.droppedAt?.where ?? "?"}: ${v.droppedAt?.reason ?? "?"}`;
}

/** The backends of every ct_lb_mark(backends=…) action the trace's logical flows reached. */
function backendsReached(s: Scenario, d: TraceDocument): string[] {
  const flows = scenarioLflows(s);
  const out = new Set<string>();
  for (const h of lflowsHit(d)) {
    const f = flows.find(
      (x) =>
        x.datapath === h.datapath && x.stage === h.stage && x.priority === h.priority && x.match === h.match,
    );
    const m = f ? /ct_lb(?:_mark)?\(backends=([^);]*)/.exec(f.actions) : null;
    if (m) for (const b of m[1]!.split(",")) if (b) out.add(b.trim());
  }
  return [...out].sort();
}

/** The text of every OVN step of a trace (ovn-trace's detailed blocks, or the cluster tracer's). */
function ovnDetail(d: TraceDocument): string[] {
  const out: string[] = [];
  for (const root of [d.forward, ...(d.reply ? [d.reply] : [])])
    for (const { step } of walkSteps(root)) if (step.layer === "ovn" && step.detail) out.push(step.detail);
  return out;
}

/** ct_lb_mark(backends=…) actions in the cluster tracer's steps (its blocks name no datapath). */
function clusterBackends(d: TraceDocument): string[] {
  const out = new Set<string>();
  for (const text of ovnDetail(d))
    for (const m of text.matchAll(/ct_lb(?:_mark)?\(backends=([^);]*)/g))
      for (const b of m[1]!.split(",")) if (b) out.add(b.trim());
  return [...out].sort();
}

interface EcmpPoint {
  /** reg8[0..15]: the route or policy the select() belongs to. */
  readonly id: number;
  readonly stage: string;
  /** The select()'s member ids. */
  readonly members: readonly number[];
  /** The member the datapath's hash took, and its next hop (reg0). */
  readonly chosen: { readonly member: number; readonly nexthop: string } | undefined;
}

/**
 * The ECMP branch points a trace crossed: a router's `reg8[16..31] = select(…)` (northd's ECMP
 * static route or multi-next-hop reroute policy), and the lr_in_*_ecmp flow the chosen member
 * matched, whose `reg0` is the next hop.
 */
function ecmpPoints(d: TraceDocument): EcmpPoint[] {
  const out: EcmpPoint[] = [];
  for (const text of ovnDetail(d)) {
    let stage = "";
    let id = 0;
    let pending: { id: number; stage: string; members: number[] } | undefined;
    let ecmp: { id: number; member: number } | undefined;
    for (const line of text.split("\n")) {
      const st = /^[\s│]*\d+\. (l[rs]_(?:in|out)_[a-z0-9_]+)(?: \([^)]*\))?: (.*), priority \d+/.exec(line);
      if (st) {
        stage = st[1]!;
        const m = /reg8\[0\.\.15\] == (\d+) && reg8\[16\.\.31\] == (\d+)/.exec(st[2]!);
        ecmp = stage.endsWith("_ecmp") && m ? { id: Number(m[1]), member: Number(m[2]) } : undefined;
        continue;
      }
      const setId = /^[\s│]*reg8\[0\.\.15\] = (\d+);/.exec(line);
      if (setId) id = Number(setId[1]);
      const sel = /^[\s│]*reg8\[16\.\.31\] = select\(([^)]*)\);/.exec(line);
      if (sel && id > 0) {
        const members = sel[1]!.split(",").map((x) => Number(x.trim().split("=")[0]));
        if (!out.some((p) => p.id === id && p.stage === stage)) pending = { id, stage, members };
      }
      const hop = /^[\s│]*reg0 = ([0-9a-fA-F.:]+);/.exec(line);
      if (hop && ecmp && pending && ecmp.id === pending.id) {
        out.push({ ...pending, chosen: { member: ecmp.member, nexthop: hop[1]! } });
        pending = undefined;
        ecmp = undefined;
      }
    }
    if (pending) out.push({ ...pending, chosen: undefined });
  }
  return out;
}

const hostPort = (ip: string, port: number) => (ip.includes(":") ? `[${ip}]:${port}` : `${ip}:${port}`);

/**
 * The endpoints kube-proxy can pick when the request's path went through it (a node's own
 * connection to a Service's ClusterIP or LoadBalancer address, DNATed in the host): [] otherwise.
 */
function kubeProxyChoices(s: Scenario, doc: TraceDocument, input: ClusterTraceInput) {
  let through = false;
  for (const { step } of walkSteps(doc.forward))
    if (step.where.endsWith("/kube-proxy") && step.outcome !== "drop") through = true;
  if (!through) return [];
  const c = s.cluster?.services.find((x) => x.clusterIps.includes(input.to));
  const svc = c
    ? s.services.find((x) => x.namespace === c.namespace && x.name === c.name)
    : s.services.find((x) => x.vips.includes(input.to));
  if (!svc) return [];
  const port = input.port ?? svc.ports[0]?.port ?? 80;
  return kubeProxyEndpoints(s, svc, input.to, port, input.proto ?? "tcp");
}

/** A next hop as a person knows it: a node's ovn0 (join address) when it is one. */
function hopName(s: Scenario, ip: string): string {
  const n = s.cluster?.nodes.find((x) => x.joinIp === ip || x.joinIp6 === ip);
  return n ? `${ip} (${n.name}'s ovn0)` : ip;
}

export function exploreBranches(s: Scenario, input: BranchesInput = {}): BranchesDocument {
  const proto = input.proto ?? "tcp";
  const base: TraceInput = {
    ...(input.from !== undefined ? { from: input.from } : {}),
    ...(input.to !== undefined ? { to: input.to } : {}),
    ...(input.port !== undefined ? { port: input.port } : {}),
    proto,
  };
  // In-cluster paths (a pod or a node to a ClusterIP, or out through the cluster's gateways) go
  // through the cluster tracer, as `ovnsim trace` takes them; the rest through the seed's.
  const cw =
    input.from !== undefined &&
    input.to !== undefined &&
    isClusterPath(s, input.from, input.to, input.fromKind)
      ? buildClusterWorld(s)
      : undefined;
  const clusterInput: ClusterTraceInput | undefined = cw
    ? {
        from: input.from!,
        ...(input.fromKind === "pod" || input.fromKind === "node" ? { fromKind: input.fromKind } : {}),
        to: input.to!,
        ...(input.port !== undefined ? { port: input.port } : {}),
        proto,
      }
    : undefined;
  const traceAt = (srcPort: number): TraceDocument =>
    cw && clusterInput
      ? traceCluster(cw, { ...clusterInput, srcPort }).doc
      : trace(createSimulation(s), { ...base, srcPort });
  const first = traceAt(40000);
  const request = { ...first.request };
  const branches: Branch[] = [];
  const coverage: Coverage[] = [];
  const reached = (d: TraceDocument) => (cw ? clusterBackends(d) : backendsReached(s, d));

  // Backends and ECMP members: search source ports until every bucket and every select()
  // member reached has a witness (OVS hashes the packet for both).
  const buckets = new Set(reached(first));
  const found = new Map<string, { port: number; doc: TraceDocument }>();
  const members = new Map<string, Set<number>>();
  const hops = new Map<string, { port: number; doc: TraceDocument; nexthop: string }>();
  const pointKey = (p: EcmpPoint) => `${p.stage} ${p.id}`;
  const ecmpLeft = () => [...members].some(([k, ids]) => [...ids].some((i) => !hops.has(`${k}/${i}`)));
  const n = input.searchPorts ?? 256;
  for (let p = 40000; p < 40000 + n; p++) {
    const d = p === 40000 ? first : traceAt(p);
    for (const b of reached(d)) buckets.add(b);
    const chosen = d.verdict.backend;
    if (chosen !== null && !found.has(chosen)) found.set(chosen, { port: p, doc: d });
    for (const pt of ecmpPoints(d)) {
      const k = pointKey(pt);
      const ids = members.get(k) ?? new Set<number>();
      for (const i of pt.members) ids.add(i);
      members.set(k, ids);
      if (pt.chosen && !hops.has(`${k}/${pt.chosen.member}`))
        hops.set(`${k}/${pt.chosen.member}`, { port: p, doc: d, nexthop: pt.chosen.nexthop });
    }
    if (found.size >= buckets.size && !ecmpLeft()) break;
  }
  if (members.size > 0) {
    const all: string[] = [];
    for (const [k, ids] of members) for (const i of [...ids].sort((a, b) => a - b)) all.push(`${k}/${i}`);
    for (const key of all) {
      const h = hops.get(key);
      if (!h) continue;
      const [stage, rest] = key.split(" ") as [string, string];
      branches.push({
        kind: "ecmp",
        choice: `select member ${rest.split("/")[1]} (next hop ${hopName(s, h.nexthop)})`,
        witness: `source port ${h.port} (${stage} ECMP group ${rest.split("/")[0]})`,
        delivered: h.doc.verdict.delivered,
        verdict: verdictOf(h.doc),
      });
    }
    coverage.push({
      kind: "ecmp",
      reached: all.filter((k) => hops.has(k)).length,
      total: all.length,
      missed: all
        .filter((k) => !hops.has(k))
        .map((k) => `select member ${k.split("/")[1]} of ${k.split("/")[0]}`),
    });
  }
  // A node's own connection to a Service: kube-proxy DNATs it in the host before it reaches OVN,
  // picking an endpoint at random per connection (no hash of the packet a source port could
  // steer), so its backends are kube-proxy's choices, each traced with that pick.
  const kp = cw && clusterInput ? kubeProxyChoices(s, first, clusterInput) : [];
  if (kp.length > 0) {
    for (const ep of kp) {
      const doc = traceCluster(cw!, { ...clusterInput!, kubeProxyPick: ep.ip }).doc;
      branches.push({
        kind: "backend",
        choice: hostPort(ep.ip, ep.port),
        witness: `kube-proxy's random pick (iptables -m statistic) takes endpoint ${ep.pod.namespace}/${ep.pod.name}`,
        delivered: doc.verdict.delivered,
        verdict: verdictOf(doc),
      });
    }
    coverage.push({ kind: "backend", reached: kp.length, total: kp.length, missed: [], note: "kube-proxy" });
  } else {
    for (const [b, { port, doc }] of [...found].sort((x, y) => x[0].localeCompare(y[0]))) {
      branches.push({
        kind: "backend",
        choice: b,
        witness: `source port ${port}`,
        delivered: doc.verdict.delivered,
        verdict: verdictOf(doc),
      });
    }
    coverage.push({
      kind: "backend",
      reached: found.size,
      total: buckets.size,
      missed: [...buckets].filter((b) => !found.has(b)).sort(),
    });
  }

  // Conntrack: the state the request meets where it enters OVN (the seed's tracer keeps each
  // node's conntrack; the cluster tracer runs new / est|rpl only).
  if (proto === "tcp" && !cw) {
    const fresh = runTrace(createSimulation(s), { ...base, reply: false });
    branches.push({
      kind: "conntrack",
      choice: "new",
      witness: "first packet (SYN)",
      delivered: fresh.doc.verdict.delivered,
      verdict: verdictOf(fresh.doc),
    });
    const sim = createSimulation(s);
    trace(sim, base);
    const est = runTrace(sim, { ...base, reply: false, tcpFlags: TCP_FLAG.ack });
    branches.push({
      kind: "conntrack",
      choice: est.ct ? est.ct.state : "established",
      witness: "next packet (ACK) after the SYN and its reply",
      delivered: est.doc.verdict.delivered,
      verdict: verdictOf(est.doc),
    });
    const none = runTrace(createSimulation(s), { ...base, reply: false, tcpFlags: TCP_FLAG.ack });
    branches.push({
      kind: "conntrack",
      choice: none.ct ? `${none.ct.state} (no entry)` : "no entry",
      witness: "mid-stream ACK the node never saw",
      delivered: none.doc.verdict.delivered,
      verdict: verdictOf(none.doc),
    });
    coverage.push({ kind: "conntrack", reached: 3, total: 3, missed: [] });
  }
  if (proto === "tcp" && cw && clusterInput) {
    const c = exploreClusterConntrack(cw, clusterInput);
    branches.push(...c.branches);
    coverage.push(c.coverage);
    const a = exploreClusterAnnouncers(cw, clusterInput, c.conn);
    if (a) {
      branches.push(...a.branches);
      coverage.push(a.coverage);
    }
  }

  // MetalLB: each candidate its election could pick, once the candidates before it fail.
  if (proto === "tcp" && !cw && first.verdict.announcingNode !== null) {
    const a = exploreAnnouncers(s, { ...base, to: request.to, port: request.port });
    if (a) {
      branches.push(...a.branches);
      coverage.push(a.coverage);
    }
  }
  const delivered = branches.filter((b) => b.delivered).length;
  return {
    schema: BRANCHES_SCHEMA,
    scenario: s.name,
    request,
    branches,
    coverage,
    delivered,
    dropped: branches.length - delivered,
  };
}

export function renderBranchesText(d: BranchesDocument): string {
  const r = d.request;
  const out = [
    `ovnsim branches: ${d.scenario}: ${r.from} → ${r.to}:${r.port}/${r.proto}: ${d.branches.length} branches, ${d.delivered} delivered, ${d.dropped} dropped`,
    "",
  ];
  for (const k of ["ecmp", "backend", "conntrack", "announcer", "path"] as const) {
    const bs = d.branches.filter((b) => b.kind === k);
    const c = d.coverage.find((x) => x.kind === k);
    if (bs.length === 0 && !c) continue;
    out.push(
      `${k}${c ? ` (coverage ${c.reached}/${c.total}${c.missed.length > 0 ? `, missed ${c.missed.join(", ")}` : ""}${c.note ? `, ${c.note}` : ""})` : ""}:`,
    );
    for (const b of bs) out.push(`  ${b.choice}: ${b.verdict}`, `    witness: ${b.witness}`);
  }
  return `${out.join("\n")}\n`;
}

export function renderBranchesJson(d: BranchesDocument): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

/** Checks a request's protocol for `branches` (ICMP has no backend or TCP state to branch on). */
export function branchesProto(v: string): "tcp" | "udp" {
  if (v !== "tcp" && v !== "udp") throw new SimError("BAD_VALUE", `--proto: "${v}" is not tcp or udp`);
  return v;
}

/**
 * The MetalLB-announcer branches of a TCP request to a LoadBalancer VIP (null for any other
 * request): for each candidate of the election after the first, a fresh simulation runs the
 * connection's SYN and reply on the current announcer, the speakers of every candidate before
 * it stop (MetalLB's memberlist drops them, the rest re-elect: the next by sha256(node#IP)),
 * virtual time runs (gratuitous ARPs), and the connection's next packet (ACK) is traced; the
 * last branch has every candidate's speaker down. Coverage: the candidates the simulation's
 * MetalLB actually elected (the first announcer counts) out of all of them.
 */
export function exploreAnnouncers(
  s: Scenario,
  input: TraceInput & { readonly to: string },
): { branches: Branch[]; coverage: Coverage } | null {
  const svc = s.services.find((x) => x.type === "LoadBalancer" && x.vips.includes(input.to));
  if (!svc || (input.proto ?? "tcp") !== "tcp") return null;
  const candidates = electAnnouncer(s, svc, input.to).candidates.map((c) => c.node);
  if (candidates.length === 0) return null;
  const base = createSimulation(s);
  const vipOf = (sim: Simulation) => sim.metallb?.status().find((x) => x.vip === input.to)?.node ?? null;
  const elected = new Set<string>();
  const first = vipOf(base);
  if (first !== null) elected.add(first);
  const branches: Branch[] = [];
  for (let i = 1; i <= candidates.length; i++) {
    const sim = createSimulation(s, { reuse: base });
    const m = sim.metallb;
    if (!m || !sim.net) return null;
    trace(sim, { ...input, reply: true });
    const down = candidates.slice(0, i);
    for (const n of down) m.setSpeaker(n, false);
    sim.net.advance(6);
    const now = vipOf(sim);
    const r = runTrace(sim, { ...input, reply: false, tcpFlags: TCP_FLAG.ack });
    const choice = i < candidates.length ? candidates[i]! : "(none)";
    if (now !== null && now === choice) elected.add(now);
    const ct = r.ct ? `, ct_state=${r.ct.state} on ${r.ct.node}` : "";
    const elect =
      i < candidates.length
        ? now === choice
          ? `${choice} elected`
          : `${now ?? "no node"} elected, not ${choice}`
        : now === null
          ? "no node left to announce"
          : `${now} still announces`;
    branches.push({
      kind: "announcer",
      choice,
      witness: `speaker${down.length > 1 ? "s" : ""} on ${down.join(", ")} down after the SYN and its reply: ${elect}; the connection's next packet (ACK)${ct}`,
      delivered: r.doc.verdict.delivered,
      verdict: verdictOf(r.doc),
    });
  }
  return {
    branches,
    coverage: {
      kind: "announcer",
      reached: elected.size,
      total: candidates.length,
      missed: candidates.filter((c) => !elected.has(c)),
    },
  };
}

/**
 * The conntrack branches of an in-cluster TCP request, each a cluster trace: `new` (the SYN);
 * the connection's next packet (ACK) carrying what the SYN committed, in which chassis' zones
 * and with which DNAT ({@link clusterConnection}): `ct.est` there, or `new` again when nothing
 * on the path committed it; and a mid-stream ACK on a chassis whose conntrack has no entry
 * (flushed, or the chassis restarted): OVS's conntrack picks a bare ACK up as `new`
 * (`tcp_valid_new`), so the pipeline runs its ct.new flows (ACL evaluation, a fresh ct_lb_mark
 * choice) on a packet that is not a SYN.
 */
export function exploreClusterConntrack(
  cw: ClusterWorld,
  input: ClusterTraceInput,
): { branches: Branch[]; coverage: Coverage; conn: ClusterConnection } {
  const syn = traceCluster(cw, input).doc;
  const conn = clusterConnection(cw, syn);
  const est = traceCluster(cw, { ...input, tcpFlags: TCP_FLAG.ack, conn }).doc;
  const none = traceCluster(cw, { ...input, tcpFlags: TCP_FLAG.ack }).doc;
  const where = conn.committed
    ? `committed in the zones of ${conn.chassis.join(", ")}${conn.backend ? ` (DNAT to ${conn.backend})` : ""}`
    : "nothing on the path committed it";
  const branches: Branch[] = [
    {
      kind: "conntrack",
      choice: "new",
      witness: "first packet (SYN)",
      delivered: syn.verdict.delivered,
      verdict: verdictOf(syn),
    },
    {
      kind: "conntrack",
      choice: conn.committed ? "est" : "new (no entry: nothing committed)",
      witness: `next packet (ACK) after the SYN and its reply: ${where}`,
      delivered: est.verdict.delivered,
      verdict: verdictOf(est),
    },
    {
      kind: "conntrack",
      choice: "new (no entry)",
      witness: "mid-stream ACK the chassis never saw (its conntrack flushed): picked up as new",
      delivered: none.verdict.delivered,
      verdict: verdictOf(none),
    },
  ];
  return { branches, coverage: { kind: "conntrack", reached: 3, total: 3, missed: [] }, conn };
}

/**
 * The MetalLB-announcer branches of an in-cluster TCP request to a LoadBalancer VIP (null for
 * any other request). A pod reaches the announcer only when the VIP sits in its own subnet (the
 * speaker answers its ARP, so the frame goes to that node's MAC): then each candidate of the
 * election after the first is the announcer once those before it fail, its gratuitous ARP
 * updates the pod's neighbour entry, and the connection's next packet (ACK, carrying what the
 * SYN committed) is traced to it. Otherwise the pod sends to its gateway and the switch's load
 * balancer DNATs the VIP where the pod enters OVN (kube-ovn-internals §10): no failover changes
 * the path, and the one branch says so with the connection's next packet.
 */
export function exploreClusterAnnouncers(
  cw: ClusterWorld,
  input: ClusterTraceInput,
  conn: ClusterConnection,
): { branches: Branch[]; coverage: Coverage } | null {
  const s = cw.scenario;
  const svc = s.services.find((x) => x.type === "LoadBalancer" && x.vips.includes(input.to));
  if (!svc || (input.proto ?? "tcp") !== "tcp") return null;
  const on = clusterAnnouncerOnPath(cw, input.from, input.to, input.fromKind);
  const next = (announcer?: string) =>
    traceCluster(cw, {
      ...input,
      tcpFlags: TCP_FLAG.ack,
      conn,
      ...(announcer !== undefined ? { announcer } : {}),
    }).doc;
  if (on === null) {
    const d = next();
    return {
      branches: [
        {
          kind: "announcer",
          choice: "(not on the path)",
          witness: `any failover of ${svc.namespace}/${svc.name}'s announcer after the SYN and its reply: ${input.from} sends ${input.to} to its gateway and the switch's load balancer DNATs it where the packet enters OVN; the connection's next packet (ACK)`,
          delivered: d.verdict.delivered,
          verdict: verdictOf(d),
        },
      ],
      coverage: { kind: "announcer", reached: 1, total: 1, missed: [], note: "not on the path" },
    };
  }
  const candidates = electAnnouncer(s, svc, input.to).candidates.map((c) => c.node);
  const branches: Branch[] = [];
  for (let i = 1; i < candidates.length; i++) {
    const d = next(candidates[i]!);
    branches.push({
      kind: "announcer",
      choice: candidates[i]!,
      witness: `speaker${i > 1 ? "s" : ""} on ${candidates.slice(0, i).join(", ")} down after the SYN and its reply: ${candidates[i]} elected, its gratuitous ARP moves ${input.to} to its MAC in ${input.from}'s neighbour table; the connection's next packet (ACK)`,
      delivered: d.verdict.delivered,
      verdict: verdictOf(d),
    });
  }
  return {
    branches,
    coverage: {
      kind: "announcer",
      reached: candidates.length,
      total: candidates.length,
      missed: [],
      note: `${on} announces first`,
    },
  };
}
