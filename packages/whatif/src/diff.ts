/**
 * The diff of two configurations before one replaces the other: the logical flows northd
 * compiles on each side (added / removed per stage, as `ovn-sbctl lflow-list` of the two
 * southbound databases would differ), the doctor's findings, and every pair of the reachability
 * matrix whose verdict changes — each with its reason: where the path now ends, and which of the
 * added or removed logical flows the changed path actually hit (read from the ovn-trace of the
 * pair on each side). Tables are not part of a flow's identity here: releases renumber stages
 * (OVN 24.03 → 25.03), and a renumbered flow is not a changed one.
 *
 * Below the logical flows, the br-int OpenFlow flows of each chassis, as `ovs-ofctl dump-flows
 * br-int` on each node would differ: @ovnsim/controller's ovn-controller computes them from each
 * side's southbound database and the node's configuration, and each added or removed flow names
 * the logical flow behind its cookie (as ovn-detrace would). A flow's identity is its dump line
 * without the cookie (the cookie is the lflow's uuid, which says nothing about what the flow does).
 */
import { type Scenario, diagnose } from "@ovnsim/kube";
import {
  type LogicalFlow,
  type NbDatabase,
  type ProfileName,
  getProfile,
  northd,
  parseNbctl,
} from "@ovnsim/ovn";
import { SimError } from "@ovnsim/packet";
import { formatFlowEntry } from "@ovnsim/openflow";
import {
  type TraceDocument,
  type TraceStep,
  buildOvn,
  createSimulation,
  refSummary,
  walkSteps,
} from "@ovnsim/tracer";
import { type MatrixDocument, type MatrixRow, buildMatrix } from "./matrix.js";

export const DIFF_SCHEMA = "ovnsim.diff/v1";

/** A logical flow as the diff shows it (no uuid: real ones are random). */
export interface DiffFlow {
  readonly datapath: string;
  readonly pipeline: string;
  readonly table: number;
  readonly stage: string;
  readonly priority: number;
  readonly match: string;
  readonly actions: string;
}

export interface VerdictChange {
  readonly from: string;
  readonly to: string;
  readonly before: string;
  readonly after: string;
  /** Why, one fact a line: where the path ends now, the changed flows it hit, the findings. */
  readonly why: readonly string[];
}

/** One br-int OpenFlow flow of a chassis, as dump-flows prints it, with the OVN row behind it. */
export interface BrIntFlow {
  /** The dump-flows line without its cookie ("table=21, priority=140,ct_state=…,ip,… actions=…"). */
  readonly flow: string;
  readonly cookie: string;
  /** The logical flow (or Port_Binding / Multicast_Group) behind the cookie, as ovn-detrace names it. */
  readonly lflow: string | null;
}

/** The br-int flows one chassis gains and loses. */
export interface BrIntChange {
  readonly chassis: string;
  readonly added: readonly BrIntFlow[];
  readonly removed: readonly BrIntFlow[];
  /**
   * Flows only renumbered: the same logical flow (or the same cookie-less physical flow) with the
   * same text up to its table numbers, as when two releases' ovn-controllers lay br-int's tables
   * out differently (24.03's egress pipeline starts at table 42, 25.03's at 45). Counted, not
   * listed in `added` / `removed`.
   */
  readonly moved: number;
}

export interface DiffDocument {
  readonly schema: typeof DIFF_SCHEMA;
  readonly a: string;
  readonly b: string;
  readonly lflows: { readonly added: readonly DiffFlow[]; readonly removed: readonly DiffFlow[] };
  /** Per chassis, the br-int flows added / removed (scenario sides only; unchanged chassis left out). */
  readonly brInt: readonly BrIntChange[];
  /** Doctor finding codes that appear / disappear (scenario sides only). */
  readonly findings: { readonly added: readonly string[]; readonly removed: readonly string[] };
  readonly verdicts: readonly VerdictChange[];
  /** Pairs compared (0 for two ovn-nbctl files: no scenario to trace). */
  readonly pairs: number;
  readonly changed: boolean;
}

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

function view(f: LogicalFlow): DiffFlow {
  return {
    datapath: f.datapath,
    pipeline: f.pipeline,
    table: f.table,
    stage: f.stage,
    priority: f.priority,
    match: f.match.replace(UUID_RE, "<uuid>"),
    actions: f.actions.replace(UUID_RE, "<uuid>"),
  };
}

function key(f: DiffFlow): string {
  return `${f.datapath}\u0000${f.pipeline}\u0000${f.stage}\u0000${f.priority}\u0000${f.match}\u0000${f.actions}`;
}

function order(a: DiffFlow, b: DiffFlow): number {
  return (
    a.datapath.localeCompare(b.datapath) ||
    (a.pipeline === b.pipeline ? 0 : a.pipeline === "ingress" ? -1 : 1) ||
    a.table - b.table ||
    b.priority - a.priority ||
    a.match.localeCompare(b.match) ||
    a.actions.localeCompare(b.actions)
  );
}

/** Multiset difference of two flow tables (a flow present twice on one side counts twice). */
export function diffLflows(
  before: readonly LogicalFlow[],
  after: readonly LogicalFlow[],
): { added: DiffFlow[]; removed: DiffFlow[] } {
  const d = multisetDiff(before.map(view), after.map(view), key);
  return { added: d.added.sort(order), removed: d.removed.sort(order) };
}

/** Each chassis's br-int flows as ovn-controller programs them for a scenario, with their OVN rows. */
export function scenarioBrInt(s: Scenario): Map<string, BrIntFlow[]> {
  const sim = createSimulation(s, { datapath: "openflow" });
  const out = new Map<string, BrIntFlow[]>();
  for (const n of s.nodes) {
    const br = sim.ovs.get(n.name)?.sw.bridges.get("br-int");
    if (!br) continue;
    out.set(
      n.name,
      br.flows().map((f) => {
        const cookie = `0x${f.cookie.toString(16)}`;
        const refs = f.cookie ? (sim.brInt?.detrace.lookup(f.cookie) ?? []) : [];
        return {
          flow: formatFlowEntry({ ...f, cookie: 0n }).trim(),
          cookie,
          lflow: refs.length > 0 ? refs.map(refSummary).join("; ") : null,
        };
      }),
    );
  }
  return out;
}

/** Multiset difference of two lists keyed by `k`, in the order of each side. */
function multisetDiff<T>(
  before: readonly T[],
  after: readonly T[],
  k: (x: T) => string,
): { added: T[]; removed: T[] } {
  const count = (xs: readonly T[]) => {
    const m = new Map<string, number>();
    for (const x of xs) m.set(k(x), (m.get(k(x)) ?? 0) + 1);
    return m;
  };
  const minus = (xs: readonly T[], other: Map<string, number>) => {
    const left = new Map(other);
    const out: T[] = [];
    for (const x of xs) {
      const n = left.get(k(x)) ?? 0;
      if (n > 0) left.set(k(x), n - 1);
      else out.push(x);
    }
    return out;
  };
  return { added: minus(after, count(before)), removed: minus(before, count(after)) };
}

/** The br-int flows each chassis gains and loses between two scenarios (chassis in either side). */
export function diffBrInt(a: Scenario, b: Scenario): BrIntChange[] {
  const fa = scenarioBrInt(a);
  const fb = scenarioBrInt(b);
  const names = [...new Set([...fa.keys(), ...fb.keys()])].sort();
  const out: BrIntChange[] = [];
  for (const chassis of names) {
    const d = multisetDiff(fa.get(chassis) ?? [], fb.get(chassis) ?? [], (x) => x.flow);
    // What is left once renumbered tables are set aside is what really changed.
    const r = multisetDiff(d.removed, d.added, renumberKey);
    const moved = d.removed.length - r.removed.length;
    if (r.added.length + r.removed.length + moved > 0)
      out.push({ chassis, added: r.added, removed: r.removed, moved });
  }
  return out;
}

/**
 * A br-int flow's identity across table layouts and stage lists: its logical flow and its text,
 * both without table numbers.
 */
function renumberKey(f: BrIntFlow): string {
  const lflow = (f.lflow ?? "").replace(/\b(ingress|egress) table \d+/g, "$1 table T");
  return `${lflow}\n${f.flow.replace(/\b(table=|goto_table:)\d+|\bresubmit\(([^,()]*),\d+/g, (_m, a, b) => (a !== undefined ? `${a}T` : `resubmit(${b},T`))}`;
}

/** The logical flows ovnsim's northd compiles for a scenario (what the tracer runs). */
export function scenarioLflows(s: Scenario): readonly LogicalFlow[] {
  return buildOvn(s).sb.flows;
}

/** The logical flows of an ovn-nbctl command file under a northd profile. */
export function nbctlLflows(text: string, file: string, profile: string): readonly LogicalFlow[] {
  const p = getProfile(profile);
  if (!p) throw new SimError("BAD_VALUE", `--profile: "${profile}" is not a northd profile`);
  const db: NbDatabase = parseNbctl(text, { file });
  return northd(db, p).flows;
}

function verdictText(r: MatrixRow): string {
  if (r.delivered)
    return `delivered to ${r.pod ?? "?"} on ${r.node ?? "?"}${r.backend ? ` (DNAT ${r.backend})` : ""}${r.clientIpPreserved === false ? ", client IP not kept" : ""}${r.replyDelivered === false ? ", reply lost" : ""}`;
  return `dropped at ${r.droppedAt?.layer ?? "?"} ${r.droppedAt?.where ?? "?"}: ${r.droppedAt?.reason ?? "?"}`;
}

interface Hit {
  readonly datapath: string;
  readonly stage: string;
  readonly priority: number;
  readonly match: string;
}

/** The logical flows a trace matched, from its ovn-trace blocks ("N. ls_in_lb (northd.c:…): MATCH, priority P, uuid U"). */
export function lflowsHit(doc: TraceDocument): Hit[] {
  const out: Hit[] = [];
  const roots: TraceStep[] = [doc.forward, ...(doc.reply ? [doc.reply] : [])];
  for (const root of roots) {
    for (const { step } of walkSteps(root)) {
      if (step.layer !== "ovn" || step.detail === undefined) continue;
      let dp = "";
      for (const line of step.detail.split("\n")) {
        const h = /(?:ingress|egress)\(dp="([^"]+)"/.exec(line);
        if (h) dp = h[1]!;
        const m =
          /^\s*\d+\. (l[sr]_(?:in|out)_[a-z0-9_]+)(?: \([^)]*\))?: (.*), priority (\d+), uuid [0-9a-f]+$/.exec(
            line,
          );
        if (m) out.push({ datapath: dp, stage: m[1]!, priority: Number(m[3]), match: m[2]! });
      }
    }
  }
  return out;
}

function hits(h: readonly Hit[], f: DiffFlow): boolean {
  return h.some(
    (x) =>
      x.datapath === f.datapath && x.stage === f.stage && x.priority === f.priority && x.match === f.match,
  );
}

function flowLine(f: DiffFlow): string {
  return `${f.stage} priority ${f.priority} match (${f.match}) actions (${f.actions})`;
}

/**
 * Two verdicts are the same when they differ only in what a release renumbers: the logical
 * table number ovn-trace prints ("28. ls_in_l2_unknown" vs "29. …") and the lflow uuid.
 */
function sameVerdict(a: MatrixRow, b: MatrixRow): boolean {
  const norm = (r: MatrixRow) =>
    verdictText(r)
      .replace(/\(\d+\. /g, "(")
      .replace(/uuid [0-9a-f]+/g, "uuid");
  return norm(a) === norm(b);
}

const MAX_HITS = 4;
/** br-int flows printed per chassis and sign in the text form (JSON has every one). */
const MAX_BRINT_LINES = 12;

export interface DiffSide {
  readonly label: string;
  readonly scenario: Scenario;
}

/** The whole diff of two scenarios: lflows, findings, and every changed verdict with its reason. */
export function diffScenarios(a: DiffSide, b: DiffSide): DiffDocument {
  const lflows = diffLflows(scenarioLflows(a.scenario), scenarioLflows(b.scenario));
  const brInt = diffBrInt(a.scenario, b.scenario);
  const fa = new Set(diagnose(a.scenario).map((f) => f.code));
  const fb = new Set(diagnose(b.scenario).map((f) => f.code));
  const findings = {
    added: [...fb].filter((c) => !fa.has(c)).sort(),
    removed: [...fa].filter((c) => !fb.has(c)).sort(),
  };
  const docsA = new Map<string, TraceDocument>();
  const docsB = new Map<string, TraceDocument>();
  const ma: MatrixDocument = buildMatrix(a.scenario, {
    onTrace: (r, d) => docsA.set(`${r.from} ${r.to}`, d),
  });
  const mb: MatrixDocument = buildMatrix(b.scenario, {
    onTrace: (r, d) => docsB.set(`${r.from} ${r.to}`, d),
  });
  const rowsA = new Map(ma.rows.map((r) => [`${r.from} ${r.to}`, r]));
  const verdicts: VerdictChange[] = [];
  const seen = new Set<string>();
  for (const rb of mb.rows) {
    const k = `${rb.from} ${rb.to}`;
    seen.add(k);
    const ra = rowsA.get(k);
    if (!ra) {
      verdicts.push({
        from: rb.from,
        to: rb.to,
        before: "(no such pair)",
        after: verdictText(rb),
        why: [`the pair exists only in ${b.label}`],
      });
      continue;
    }
    if (sameVerdict(ra, rb)) continue;
    const why: string[] = [];
    if (!rb.delivered && rb.droppedAt)
      why.push(`${b.label}: ends at ${rb.droppedAt.where} (${rb.object ?? rb.droppedAt.layer})`);
    if (!ra.delivered && ra.droppedAt)
      why.push(`${a.label}: ended at ${ra.droppedAt.where} (${ra.object ?? ra.droppedAt.layer})`);
    const hb = lflowsHit(docsB.get(k)!);
    const ha = lflowsHit(docsA.get(k)!);
    // The changed flows the two paths met, the load-balancing stages first (they decide most
    // verdicts of this data path); at most MAX_HITS of each, the rest counted.
    const lbFirst = (x: DiffFlow, y: DiffFlow) =>
      Number(!/_lb$|_lb_/.test(x.stage)) - Number(!/_lb$|_lb_/.test(y.stage));
    const met = (fs: readonly DiffFlow[], h: readonly Hit[], what: string) => {
      const m = fs.filter((f) => hits(h, f)).sort(lbFirst);
      for (const f of m.slice(0, MAX_HITS)) why.push(`${what} ${flowLine(f)}`);
      if (m.length > MAX_HITS) why.push(`${what}: ${m.length - MAX_HITS} more`);
    };
    met(lflows.added, hb, "hits added lflow");
    met(lflows.removed, ha, "no longer hits removed lflow");
    for (const c of findings.added) why.push(`doctor: ${c} appears`);
    for (const c of findings.removed) why.push(`doctor: ${c} disappears`);
    if (why.length === 0)
      why.push("same logical flows hit; the difference is outside OVN (physical network, MetalLB, OVS)");
    verdicts.push({ from: rb.from, to: rb.to, before: verdictText(ra), after: verdictText(rb), why });
  }
  for (const ra of ma.rows) {
    if (seen.has(`${ra.from} ${ra.to}`)) continue;
    verdicts.push({
      from: ra.from,
      to: ra.to,
      before: verdictText(ra),
      after: "(no such pair)",
      why: [`the pair exists only in ${a.label}`],
    });
  }
  const changed =
    lflows.added.length +
      lflows.removed.length +
      brInt.length +
      findings.added.length +
      findings.removed.length +
      verdicts.length >
    0;
  return {
    schema: DIFF_SCHEMA,
    a: a.label,
    b: b.label,
    lflows,
    brInt,
    findings,
    verdicts,
    pairs: mb.rows.length,
    changed,
  };
}

/** The diff of two ovn-nbctl files (logical flows only: there is no scenario to trace). */
export function diffNbctl(
  a: { label: string; text: string; profile: ProfileName | string },
  b: { label: string; text: string; profile: ProfileName | string },
): DiffDocument {
  const lflows = diffLflows(nbctlLflows(a.text, a.label, a.profile), nbctlLflows(b.text, b.label, b.profile));
  return {
    schema: DIFF_SCHEMA,
    a: a.label,
    b: b.label,
    lflows,
    brInt: [],
    findings: { added: [], removed: [] },
    verdicts: [],
    pairs: 0,
    changed: lflows.added.length + lflows.removed.length > 0,
  };
}

/** Text: flows per stage (+ added, - removed), then findings, then verdict changes with reasons. */
export function renderDiffText(d: DiffDocument): string {
  const out = [`ovnsim diff: ${d.a} → ${d.b}`];
  const stages = new Map<string, { add: DiffFlow[]; rem: DiffFlow[] }>();
  const at = (f: DiffFlow) => {
    const k = `${f.datapath} ${f.pipeline} ${f.stage}`;
    let e = stages.get(k);
    if (!e) {
      e = { add: [], rem: [] };
      stages.set(k, e);
    }
    return e;
  };
  for (const f of d.lflows.removed) at(f).rem.push(f);
  for (const f of d.lflows.added) at(f).add.push(f);
  out.push("", `logical flows: ${d.lflows.added.length} added, ${d.lflows.removed.length} removed`);
  for (const k of [...stages.keys()].sort()) {
    const e = stages.get(k)!;
    out.push(`  ${k}: +${e.add.length} -${e.rem.length}`);
    for (const f of e.rem)
      out.push(`    - table=${f.table} priority=${f.priority} match=(${f.match}) action=(${f.actions})`);
    for (const f of e.add)
      out.push(`    + table=${f.table} priority=${f.priority} match=(${f.match}) action=(${f.actions})`);
  }
  if (d.brInt.length > 0) {
    out.push("", "br-int flows per chassis (ovn-controller):");
    for (const c of d.brInt) {
      out.push(
        `  ${c.chassis}: +${c.added.length} -${c.removed.length}${c.moved > 0 ? ` (${c.moved} more only renumbered by the release's table layout)` : ""}`,
      );
      const show = (sign: string, fs: readonly BrIntFlow[]) => {
        for (const f of fs.slice(0, MAX_BRINT_LINES)) {
          out.push(`    ${sign} ${f.flow}`);
          if (f.lflow) out.push(`        from ${f.lflow}`);
        }
        if (fs.length > MAX_BRINT_LINES)
          out.push(`    ${sign} … ${fs.length - MAX_BRINT_LINES} more (--format json has them all)`);
      };
      show("-", c.removed);
      show("+", c.added);
    }
  }
  if (d.findings.added.length + d.findings.removed.length > 0) {
    out.push("", "doctor findings:");
    for (const c of d.findings.removed) out.push(`  - ${c}`);
    for (const c of d.findings.added) out.push(`  + ${c}`);
  }
  if (d.pairs > 0) {
    out.push("", `verdicts: ${d.verdicts.length} of ${d.pairs} pairs change`);
    for (const v of d.verdicts) {
      out.push(`  ${v.from} → ${v.to}`, `    before: ${v.before}`, `    after:  ${v.after}`);
      for (const w of v.why) out.push(`    why: ${w}`);
    }
  }
  out.push("", d.changed ? "something changes" : "nothing changes");
  return `${out.join("\n")}\n`;
}

export function renderDiffJson(d: DiffDocument): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}
