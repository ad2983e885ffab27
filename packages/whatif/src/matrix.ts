/**
 * The reachability matrix: every source the end-to-end tracer can send from (external clients,
 * pods on every node, nodes) × every destination (pods on the ports their Services target, each
 * LoadBalancer VIP and each ClusterIP on each Service port), each pair traced concretely by
 * @ovnsim/tracer — one fresh simulation per pair, so a row never depends on what an earlier row
 * left in an ARP cache or a conntrack table, and equals `ovnsim trace --from F --to T` of that
 * pair (an in-cluster path, as `ovnsim trace` does, through Kube-OVN's cluster topology). A denied pair keeps
 * the tracer's drop point and names the object behind it (Service, pod, logical flow, device).
 */
import type { Scenario } from "@ovnsim/kube";
import { SimError } from "@ovnsim/packet";
import {
  type ClusterWorld,
  type DropPoint,
  type Simulation,
  type TraceDocument,
  type Verdict,
  buildClusterWorld,
  createSimulation,
  isClusterPath,
  trace,
  traceCluster,
} from "@ovnsim/tracer";

export const MATRIX_SCHEMA = "ovnsim.matrix/v1";

export type SourceKind = "client" | "pod" | "node";
export type DestinationKind = "pod" | "vip" | "clusterip";

export interface MatrixSource {
  readonly kind: SourceKind;
  /** `client/NAME`, `pod/NS/NAME`, `node/NAME`. */
  readonly id: string;
  /** The name the tracer's `from` takes. */
  readonly traceFrom: string;
}

export interface MatrixDestination {
  readonly kind: DestinationKind;
  /** `IP:PORT/PROTO` (or `IP/icmp`). */
  readonly id: string;
  readonly ip: string;
  readonly port: number;
  readonly proto: "tcp" | "udp" | "icmp";
  /** The Kubernetes object it belongs to: `pod/NS/NAME` or `svc/NS/NAME`. */
  readonly object: string;
}

export interface MatrixRow {
  readonly from: string;
  readonly to: string;
  /** The object the destination belongs to (`svc/default/nginx-lb`, `pod/default/x`). */
  readonly toObject: string;
  readonly delivered: boolean;
  /** Where the request ended when not delivered (the tracer's drop point), else null. */
  readonly droppedAt: DropPoint | null;
  /** The object behind the drop: a logical flow, a device, a Service… (null when delivered). */
  readonly object: string | null;
  readonly pod: string | null;
  readonly node: string | null;
  readonly backend: string | null;
  readonly clientIpPreserved: boolean | null;
  readonly replyDelivered: boolean | null;
}

export interface MatrixDocument {
  readonly schema: typeof MATRIX_SCHEMA;
  readonly scenario: string;
  readonly release: string;
  readonly sources: readonly string[];
  readonly destinations: readonly string[];
  readonly rows: readonly MatrixRow[];
  readonly delivered: number;
  readonly denied: number;
}

/** Every source the tracer can send from, in scenario order: clients, then pods, then nodes. */
export function matrixSources(s: Scenario): MatrixSource[] {
  return [
    ...s.physical.clients.map((c) => ({
      kind: "client" as const,
      id: `client/${c.name}`,
      traceFrom: c.name,
    })),
    ...s.pods.map((p) => ({
      kind: "pod" as const,
      id: `pod/${p.namespace}/${p.name}`,
      traceFrom: `${p.namespace}/${p.name}`,
    })),
    ...s.nodes.map((n) => ({ kind: "node" as const, id: `node/${n.name}`, traceFrom: n.name })),
  ];
}

function l4(proto: string): "tcp" | "udp" | null {
  return proto === "tcp" || proto === "udp" ? proto : null;
}

/**
 * Every destination: each pod on each port a Service targets on it (ICMP when none does), then
 * each LoadBalancer VIP (IPv4) on each Service port, then (cluster manifests) each Service's
 * IPv4 ClusterIP on each Service port. SCTP ports are left out: the tracer's requests are TCP,
 * UDP or ICMP.
 */
export function matrixDestinations(s: Scenario): MatrixDestination[] {
  const out: MatrixDestination[] = [];
  for (const p of s.pods) {
    const ports = new Map<string, { port: number; proto: "tcp" | "udp" }>();
    for (const svc of s.services) {
      if (!svc.endpoints.includes(p.lsp)) continue;
      for (const sp of svc.ports) {
        const proto = l4(sp.protocol);
        if (proto) ports.set(`${sp.targetPort}/${proto}`, { port: sp.targetPort, proto });
      }
    }
    const object = `pod/${p.namespace}/${p.name}`;
    if (ports.size === 0)
      out.push({ kind: "pod", id: `${p.ip}/icmp`, ip: p.ip, port: 0, proto: "icmp", object });
    for (const [k, v] of [...ports].sort((a, b) => a[1].port - b[1].port || a[0].localeCompare(b[0])))
      out.push({ kind: "pod", id: `${p.ip}:${k}`, ip: p.ip, port: v.port, proto: v.proto, object });
  }
  for (const svc of s.services) {
    for (const vip of svc.vips) {
      if (vip.includes(":")) continue;
      for (const sp of svc.ports) {
        const proto = l4(sp.protocol);
        if (!proto) continue;
        out.push({
          kind: "vip",
          id: `${vip}:${sp.port}/${proto}`,
          ip: vip,
          port: sp.port,
          proto,
          object: `svc/${svc.namespace}/${svc.name}`,
        });
      }
    }
  }
  for (const cs of s.cluster?.services ?? []) {
    const svc = s.services.find((x) => x.namespace === cs.namespace && x.name === cs.name);
    const ip = cs.clusterIps.find((x) => !x.includes(":"));
    if (!svc || ip === undefined) continue;
    for (const sp of svc.ports) {
      const proto = l4(sp.protocol);
      if (!proto) continue;
      out.push({
        kind: "clusterip",
        id: `${ip}:${sp.port}/${proto}`,
        ip,
        port: sp.port,
        proto,
        object: `svc/${svc.namespace}/${svc.name}`,
      });
    }
  }
  return out;
}

/** The object behind a drop, from the drop point's layer and the destination. */
export function dropObject(s: Scenario, d: DropPoint, dst: MatrixDestination): string {
  // ovn-trace names the flow it stopped at: "(27. ls_in_l2_lkup: MATCH, priority 55, uuid …)".
  const lf = /\((\d+)\. (l[sr]_(?:in|out)_[a-z0-9_]+): (.*), priority (\d+), uuid ([0-9a-f]+)\)/.exec(
    d.reason,
  );
  if (lf) return `lflow ${lf[2]} priority ${lf[4]} (${lf[3]}) for ${dst.object}`;
  if (d.layer === "ovn" || d.layer === "lb" || d.layer === "conntrack") {
    const sub = s.subnets.find((x) => s.pods.some((p) => p.ip === dst.ip && p.subnet === x.name));
    return `${d.layer === "ovn" ? "logical switch" : d.layer} ${sub ? `subnet/${sub.name}` : d.where} for ${dst.object}`;
  }
  if (d.layer === "openflow") return `OVS ${d.where}`;
  const dev = d.where.split(" ")[0] ?? d.where;
  const kind = s.physical.routers.some((r) => r.name === dev)
    ? "router"
    : s.nodes.some((n) => n.name === dev)
      ? "node"
      : s.physical.clients.some((c) => c.name === dev)
        ? "client"
        : "device";
  return `${kind}/${dev}`;
}

/**
 * The compiled side of a scenario (northd's flows, each chassis' compiled pipelines, each node's
 * OpenFlow bridges) holds no per-packet state — conntrack, ARP caches, MAC tables and MetalLB
 * live in the rest of the simulation — so pairs share it (the tracer's `createSimulation(s,
 * { reuse })`); everything stateful is fresh for each pair.
 */
const BASES = new WeakMap<Scenario, Simulation>();
/** The compiled cluster topology (northd's flows over Kube-OVN's NB rows), stateless as well. */
const CLUSTERS = new WeakMap<Scenario, ClusterWorld>();

/**
 * One pair, traced in a fresh simulation: the document `ovnsim trace` prints for it — through
 * the cluster topology when `ovnsim trace` would take that path (pod or node → ClusterIP, pod
 * on a routed subnet → anything the cluster routes).
 */
export function tracePair(s: Scenario, src: MatrixSource, dst: MatrixDestination): TraceDocument {
  if (isClusterPath(s, src.traceFrom, dst.ip, src.kind)) {
    let w = CLUSTERS.get(s);
    if (w === undefined) {
      w = buildClusterWorld(s);
      CLUSTERS.set(s, w);
    }
    const fromKind = src.kind === "node" ? "node" : "pod";
    return traceCluster(w, { from: src.traceFrom, fromKind, to: dst.ip, port: dst.port, proto: dst.proto })
      .doc;
  }
  const base = BASES.get(s);
  const sim = createSimulation(s, base !== undefined ? { reuse: base } : {});
  if (base === undefined) BASES.set(s, sim);
  return trace(sim, { from: src.traceFrom, to: dst.ip, port: dst.port, proto: dst.proto });
}

export function rowOf(s: Scenario, src: MatrixSource, dst: MatrixDestination, v: Verdict): MatrixRow {
  return {
    from: src.id,
    to: dst.id,
    toObject: dst.object,
    delivered: v.delivered,
    droppedAt: v.droppedAt,
    object: v.droppedAt ? dropObject(s, v.droppedAt, dst) : null,
    pod: v.pod,
    node: v.node,
    backend: v.backend,
    clientIpPreserved: v.clientIpPreserved,
    replyDelivered: v.replyDelivered,
  };
}

export interface MatrixOptions {
  /** Keep only sources whose id or trace name is one of these. */
  readonly from?: readonly string[];
  /** Keep only destinations whose id, IP or object is one of these. */
  readonly to?: readonly string[];
  /** Called with each pair's trace document (the CLI's --traces, the consistency test). */
  readonly onTrace?: (row: MatrixRow, doc: TraceDocument) => void;
}

function pick<T extends { id: string }>(
  all: readonly T[],
  want: readonly string[] | undefined,
  what: string,
  alt: (x: T) => string[],
): T[] {
  if (!want) return [...all];
  const out = all.filter((x) => want.includes(x.id) || alt(x).some((a) => want.includes(a)));
  const unknown = want.filter((w) => !all.some((x) => x.id === w || alt(x).includes(w)));
  if (unknown.length > 0)
    throw new SimError(
      "UNKNOWN_OBJECT",
      `${what}: no ${what === "--from" ? "source" : "destination"} ${unknown.join(", ")} (have: ${all.map((x) => x.id).join(", ")})`,
    );
  return out;
}

/**
 * The matrix. A pod is not a destination of itself (the kernel answers its own IP before the
 * packet reaches OVN, so the data path has nothing to say about that pair).
 */
export function buildMatrix(s: Scenario, opts: MatrixOptions = {}): MatrixDocument {
  const sources = pick(matrixSources(s), opts.from, "--from", (x) => [x.traceFrom]);
  const dests = pick(matrixDestinations(s), opts.to, "--to", (x) => [x.ip, x.object]);
  const rows: MatrixRow[] = [];
  for (const src of sources) {
    for (const dst of dests) {
      if (src.kind === "pod" && dst.kind === "pod" && dst.object === src.id) continue;
      const doc = tracePair(s, src, dst);
      const row = rowOf(s, src, dst, doc.verdict);
      opts.onTrace?.(row, doc);
      rows.push(row);
    }
  }
  const delivered = rows.filter((r) => r.delivered).length;
  return {
    schema: MATRIX_SCHEMA,
    scenario: s.name,
    release: s.controller.version ?? s.controller.release,
    sources: sources.map((x) => x.id),
    destinations: dests.map((x) => x.id),
    rows,
    delivered,
    denied: rows.length - delivered,
  };
}

/** One line per pair: verdict, then where and why for a denied pair. */
export function renderMatrixText(m: MatrixDocument): string {
  const lines = [
    `ovnsim matrix: ${m.scenario} (Kube-OVN ${m.release}): ${m.sources.length} sources × ${m.destinations.length} destinations, ${m.rows.length} pairs: ${m.delivered} delivered, ${m.denied} denied`,
    "",
  ];
  const w = Math.max(4, ...m.rows.map((r) => r.from.length));
  const t = Math.max(2, ...m.rows.map((r) => r.to.length));
  for (const r of m.rows) {
    const head = `${r.from.padEnd(w)}  ${r.to.padEnd(t)}  `;
    if (r.delivered) {
      lines.push(
        `${head}DELIVERED to ${r.pod ?? "?"} on ${r.node ?? "?"}${r.backend ? ` (DNAT ${r.backend})` : ""}${r.replyDelivered === false ? "; reply lost" : ""}`,
      );
    } else {
      lines.push(
        `${head}DENIED at ${r.droppedAt?.layer ?? "?"} ${r.droppedAt?.where ?? "?"}: ${r.droppedAt?.reason ?? "?"}`,
      );
      lines.push(`${" ".repeat(w + t + 4)}object: ${r.object ?? "?"}`);
    }
  }
  return `${lines.join("\n")}\n`;
}

const CSV_COLUMNS = [
  "from",
  "to",
  "toObject",
  "delivered",
  "pod",
  "node",
  "backend",
  "clientIpPreserved",
  "replyDelivered",
  "droppedLayer",
  "droppedAt",
  "reason",
  "object",
] as const;

function csvCell(v: string | number | boolean | null): string {
  if (v === null) return "";
  const t = String(v);
  return /[",\n\r]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t;
}

/** RFC 4180 CSV, one row per pair, header first. */
export function renderMatrixCsv(m: MatrixDocument): string {
  const out = [CSV_COLUMNS.join(",")];
  for (const r of m.rows) {
    out.push(
      [
        r.from,
        r.to,
        r.toObject,
        r.delivered,
        r.pod,
        r.node,
        r.backend,
        r.clientIpPreserved,
        r.replyDelivered,
        r.droppedAt?.layer ?? null,
        r.droppedAt?.where ?? null,
        r.droppedAt?.reason ?? null,
        r.object,
      ]
        .map(csvCell)
        .join(","),
    );
  }
  return `${out.join("\r\n")}\r\n`;
}

export function renderMatrixJson(m: MatrixDocument): string {
  return `${JSON.stringify(m, null, 2)}\n`;
}
