// The ovn-trace differential of issue 12: random northbound configurations
// (gen-trace-differential.ts) are loaded into a live real ovn-northd 23.03, the southbound is
// captured with scripts/capture-sb.sh, and random microflows are traced over that SAME
// southbound by the real ovn-trace (--all: detailed, summary and minimal) and by ovnsim.
// Compared: the outcome (the `# Minimal trace.` section: the packet's fate and every header
// change) and the full text. One normalisation only, for ovn-trace's random choices: without
// --lb-dst naming a backend, ovn-trace picks a ct_lb backend at random, so ovnsim is rerun
// with each fixed backend index and a case agrees when one of them gives the real text
// (ECMP `select` is pinned by --select-id in most cases; otherwise the same retry over
// members, the comment of the select line being the one place the texts then differ).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { repoRoot, type Sandbox } from "@ovnsim/oracle";
import { parseNbctl } from "../src/nb/nbctl.js";
import { northd } from "../src/northd/compile.js";
import { sbModelFromNb } from "../src/sb/from-nb.js";
import { readSbBundle, type SbMacBinding } from "../src/sb/model.js";
import { LogicalNetwork } from "../src/trace/exec.js";
import type { LogicalFlow } from "../src/types.js";
import { renderTrace } from "../src/trace/render.js";
import { alignSsetOrder, renumberEcmp } from "./run-dependent.js";
import { type Feature, generateMicroflows, generateNb, type TraceCase } from "./gen-trace-differential.js";

export interface TraceDiffOptions {
  readonly seed: number;
  readonly cases: number;
  readonly perConfig: number;
  readonly features: ReadonlySet<Feature>;
  readonly log?: (line: string) => void;
  /** Keep each configuration's SB bundle under this directory. */
  readonly keep?: string;
  /** Start no new configuration after this many seconds (a time-boxed run reports what it did). */
  readonly budgetSeconds?: number;
}

export interface CaseResult {
  readonly config: number;
  readonly configSeed: number;
  readonly args: readonly string[];
  readonly tags: readonly string[];
  /** Features the real trace went through (router, nat, lb, ecmp, ipv6, …). */
  readonly features: readonly string[];
  readonly outcome: boolean;
  readonly full: boolean;
  readonly firstDiff?: { readonly line: number; readonly real: string; readonly ovnsim: string };
  /**
   * The same case traced over the southbound ovnsim derives itself from the configuration
   * (`ovnsim ovn-trace --nbctl`: ovnsim's northd 23.03 + sbModelFromNb), compared with the
   * real text once flow uuids and northd.c line hints are masked. Absent for configurations
   * with `ovn-sbctl` lines (learned MAC bindings, which an nbctl file cannot hold).
   */
  readonly nbctl?: {
    readonly outcome: boolean;
    readonly full: boolean;
    readonly firstDiff?: { readonly line: number; readonly real: string; readonly ovnsim: string };
  };
  /**
   * The --nbctl path again with priority ties in ovnsim's own order (its northd's), as
   * `ovnsim ovn-trace --nbctl` runs without a real southbound to take the order from.
   */
  readonly nbctlOwnOrder?: {
    readonly outcome: boolean;
    readonly full: boolean;
    readonly firstDiff?: { readonly line: number; readonly real: string; readonly ovnsim: string };
  };
}

export interface Score {
  readonly cases: number;
  readonly outcome: number;
  readonly full: number;
}

export interface TraceDiffReport {
  readonly seed: number;
  readonly features: readonly string[];
  readonly configs: number;
  readonly refusedLines: number;
  /** Cases the real ovn-trace aborted on (not compared). */
  readonly realCrashes: number;
  readonly casesCompared: number;
  readonly overall: Score & { readonly outcomePct: number; readonly fullPct: number };
  readonly byFeature: Record<string, Score>;
  /** The --nbctl path (ovnsim's own northd and southbound), where compared. */
  readonly nbctl: Score & { readonly outcomePct: number; readonly fullPct: number };
  readonly nbctlByFeature: Record<string, Score>;
  /** The --nbctl path with ties in ovnsim's own order (ovn-trace's is the random uuid order). */
  readonly nbctlOwnTieOrder: Score & { readonly outcomePct: number; readonly fullPct: number };
  readonly nbctlOwnTieOrderSignatures: readonly { readonly count: number; readonly signature: string }[];
  readonly nbctlDifferenceSignatures: readonly { readonly count: number; readonly signature: string }[];
  /** Routers whose ECMP group / member ids were renamed to the real ones (run-dependent.ts). */
  readonly nbctlEcmpRenamed: readonly string[];
  /** Routers where no consistent renaming exists (left as they were: their differences count). */
  readonly nbctlEcmpRefused: readonly string[];
  /** Self-originated ARP flows whose MAC set ovnsim printed in another (uuid-decided) order. */
  readonly nbctlSsetOrderAligned: number;
  readonly differenceSignatures: readonly { readonly count: number; readonly signature: string }[];
  readonly results: readonly CaseResult[];
  readonly seconds: number;
}

/** The `# Minimal trace.` section of an --all output (the whole text when there is none). */
export function minimalSection(text: string): string {
  const i = text.indexOf("# Minimal trace.\n");
  return i < 0 ? text : text.slice(i);
}

/**
 * Which features a (real) trace went through, read from its detailed text: a router hop, NAT
 * (a matching unsnat / dnat / undnat / snat flow of a router), a load balancer (ct_lb), ECMP
 * (a `select`), a routing policy other than the default, the redirect to a distributed
 * gateway port (cr-…), an expiring TTL, neighbour resolution (MAC_Binding lookup), a drop by
 * port security, ACL stages; ipv6 from the microflow.
 */
export function traceFeatures(text: string, args: readonly string[]): string[] {
  const out = new Set<string>();
  const det = text.split("# Summary trace.")[0] ?? text;
  if (/ingress\(dp="lr/.test(det)) out.add("router-hop");
  if (
    /\. lr_(in_unsnat|in_dnat|out_undnat|out_snat|out_post_undnat|in_ip_input) \(northd\.c:\d+\): [^\n]*\n\s*(ct_[sd]nat|ip[46]\.(src|dst) =|flags\.force_snat|reg9\[4\]|ct_snat)/.test(
      det,
    )
  )
    out.add("nat");
  if (/ct_lb/.test(det)) out.add("lb");
  // A router's load balancer: its DNAT stage choosing a backend (or dropping / rejecting an
  // empty VIP), or its affinity stages.
  if (
    /\. lr_in_(dnat|lb_aff_check|lb_aff_learn) \(northd\.c:\d+\): [^\n]*\n\s*(flags\.(force|skip)_snat_for_lb = 1; )?(ct_lb|reject|reg9\[6\]|commit_lb_aff)/.test(
      det,
    )
  )
    out.add("router-lb");
  if (/\. (ls|lr)_in_lb_aff_/.test(det)) out.add("lb-affinity");
  if (/select\(/.test(det)) out.add("ecmp");
  if (args.some((a) => a.includes("ip6.") || a.includes("nd."))) out.add("ipv6");
  if (/\. lr_in_policy \(northd\.c:\d+\): (?!1, priority 0,)/.test(det)) out.add("policy");
  if (/"cr-/.test(det)) out.add("gateway-redirect");
  if (/ip\.ttl == \{0, 1\}|ip\.ttl == [01]\b|TTL underflow/.test(det)) out.add("ttl-expiry");
  if (/MAC binding/.test(det)) out.add("neighbour-lookup");
  if (
    /apply_port_sec \(northd\.c:\d+\): reg0\[15\] == 1/.test(det) ||
    /check_port_sec[^\n]*\n\s*drop;/.test(det)
  )
    out.add("port-security-drop");
  if (/\. ls_(in|out)_acl /.test(det)) out.add("acl");
  if (/^error parsing|^\S.*: unknown/m.test(text)) out.add("error");
  return [...out];
}

function applyScript(lines: readonly string[]): string {
  const out: string[] = [];
  for (const line of lines) {
    const q = line.replaceAll("'", "'\\''");
    if (line.startsWith("ovn-sbctl"))
      out.push("ovn-nbctl --wait=sb sync", `${line} >/dev/null || echo 'REFUSED: ${q}'`);
    else out.push(`ovn-nbctl ${line} >/dev/null 2>&1 || echo 'REFUSED: ${q}'`);
  }
  out.push("ovn-nbctl --wait=sb sync");
  return out.join("\n");
}

const sign = (s: string): string =>
  s
    .replace(/[0-9a-f]{8}(?=[,\s)]|$)/g, "U")
    .replace(/\d+/g, "N")
    .slice(0, 140);

/** ovnsim's text for a case, with the backend / select member pinned as given. */
function ovnsimText(net: LogicalNetwork, c: TraceCase, backend?: number, selectId?: number): string {
  const args = c.args;
  const mf = args[args.length - 1] as string;
  const prev = args[args.length - 2];
  const dp = prev !== undefined && !prev.startsWith("--") ? prev : undefined;
  const ct = args.filter((a) => a.startsWith("--ct=")).map((a) => a.slice(5));
  const lb = args.find((a) => a.startsWith("--lb-dst="))?.slice(9);
  const sel = args.find((a) => a.startsWith("--select-id="))?.slice(12);
  try {
    const r = net.trace(dp, mf, {
      ct,
      ...(lb ? { lbDst: lb } : {}),
      ...(backend !== undefined ? { chooseBackend: (b) => backend % b.length } : {}),
      ...(selectId !== undefined ? { selectId } : sel !== undefined ? { selectId: Number(sel) } : {}),
    });
    return renderTrace(r, ["detailed", "summary", "minimal"]);
  } catch (e) {
    // The real ovn-trace prints its errors on stdout and exits 0 (ovnsim's CLI: a typed error).
    return `${(e as Error).message}\n`;
  }
}

/** The real ovn-trace's text for a case (stdout), undefined when it crashed. */
function realText(sb: Sandbox, args: readonly string[]): string | undefined {
  const r = spawnSync("ovn-trace", args, { env: sb.env, encoding: "utf8", maxBuffer: 1 << 26 });
  if (r.status !== 0) return undefined;
  return r.stdout;
}

/**
 * A select line's comment and its underline: unpinned, ovn-trace says "Randomly selected" and
 * ovnsim names its deterministic choice (the datapath's hash); ovnsim pinned to each member in
 * turn prints none. The comment and the underline's length are the only text that differs.
 */
const RANDOM_SELECT = /(select: [^\n]*? = \d+)(?: \/\*[^\n]*?\*\/)?(\n-+(?=\n))?/g;
const normSelect = (t: string): string => t.replace(RANDOM_SELECT, "$1");

/** The generator's `ovn-sbctl create mac_binding …` line as the SB row it creates. */
function learnedMacBinding(line: string): SbMacBinding | undefined {
  const m = /external_ids:name=(\S+?)\) logical_port=(\S+) ip=(\S+) mac='"([0-9a-f:]+)"'$/.exec(line);
  return m ? { datapath: m[1]!, logicalPort: m[2]!, ip: m[3]!, mac: m[4]! } : undefined;
}

/**
 * ovnsim's flows in the order the real southbound lists the same flows: ovn-trace breaks ties
 * between overlapping flows of one priority in its IDL's order, i.e. by the flows' random
 * uuids, which no configuration determines (e.g. ls_out_pre_lb's `eth.mcast` and
 * `ip && outport == "…"` at 110). Flows the real southbound lacks keep their place at the end.
 */
export function inRealTieOrder(ours: readonly LogicalFlow[], real: readonly LogicalFlow[]): LogicalFlow[] {
  const k = (f: LogicalFlow) =>
    `${f.datapath}|${f.pipeline}|${f.table}|${f.priority}|${f.match}|${f.actions}`;
  const order = new Map<string, number>();
  real.forEach((f, i) => {
    if (!order.has(k(f))) order.set(k(f), i);
  });
  return ours
    .map((f, j) => ({ f, i: order.get(k(f)) ?? real.length + j }))
    .sort((a, b) => a.i - b.i)
    .map((x) => x.f);
}

/** What only a real southbound has: flow uuids and northd.c line hints. */
export const maskSb = (s: string): string =>
  s.replace(/ \(northd\.c:\d+\)/g, "").replace(/, uuid [0-9a-f]{8}/g, ", uuid X");

/**
 * One case over one network: identical text (after `mask`), else identical minimal section,
 * retrying ovn-trace's random choices (ct_lb backend, unpinned select member).
 */
function compareCase(
  net: LogicalNetwork,
  tc: TraceCase,
  realRaw: string,
  mask: (s: string) => string,
): Pick<CaseResult, "outcome" | "full" | "firstDiff"> {
  const real = mask(realRaw);
  let first = mask(ovnsimText(net, tc));
  let got = first;
  const hasLbDst = tc.args.some((a) => a.startsWith("--lb-dst="));
  const randomSelect = /Randomly selected/.test(real);
  // A choice whose minimal trace is the real one: the outcome agrees (its text is the one
  // reported when the full text still differs).
  let sameOutcome: string | undefined = minimalSection(got) === minimalSection(real) ? got : undefined;
  // ovn-trace's random choices: a ct_lb backend (without a usable --lb-dst) and an
  // unpinned select member.
  if (got !== real && (/ct_lb/.test(real) || randomSelect)) {
    const tries: [number | undefined, number | undefined][] = [];
    for (const b of /ct_lb/.test(real) ? [undefined, 0, 1, 2] : [undefined])
      for (const s of randomSelect ? [undefined, 1, 2, 3, 4] : [undefined]) tries.push([b, s]);
    const want = randomSelect ? normSelect(real) : real;
    for (const [b, s] of tries) {
      let t = mask(ovnsimText(net, tc, b, s));
      if (randomSelect) t = normSelect(t);
      if (t === want) {
        got = real;
        break;
      }
      if (sameOutcome === undefined && minimalSection(t) === minimalSection(want)) sameOutcome = t;
      if (b === undefined && s === undefined && !hasLbDst) first = t;
    }
  }
  const full = got === real;
  const outcome = full || sameOutcome !== undefined;
  if (full) return { outcome, full };
  const norm = randomSelect ? normSelect : (t: string) => t;
  const a = norm(real).split("\n");
  const b = norm(sameOutcome ?? first).split("\n");
  let i = 0;
  while (i < a.length && a[i] === b[i]) i++;
  return { outcome, full, firstDiff: { line: i + 1, real: a[i] ?? "<end>", ovnsim: b[i] ?? "<end>" } };
}

/** What the real tools produced for one configuration, as `keep` stores it (real.json). */
interface RealRun {
  readonly configSeed: number;
  /** Lines the real ovn-nbctl refused. */
  readonly refused: readonly string[];
  /** The real ovn-trace's stdout per case, null where it aborted. */
  readonly traces: readonly { readonly args: readonly string[]; readonly text: string | null }[];
}

/**
 * Compares every case of one configuration: over the real southbound (`files`, captured) and
 * over the one ovnsim derives from the configuration (the --nbctl path).
 */
function compareConfig(
  c: number,
  configSeed: number,
  features: ReadonlySet<Feature>,
  n: number,
  files: Record<string, string>,
  refusedLines: readonly string[],
  real: (tc: TraceCase) => string | undefined,
  log: (line: string) => void,
  ecmp: { renamed: string[]; refused: string[]; ssetAligned: number },
): { results: CaseResult[]; crashes: number } {
  const gen = generateNb(configSeed, features);
  const realModel = readSbBundle(files);
  const net = new LogicalNetwork(realModel);
  // The --nbctl path: ovnsim's northd and southbound from the same lines.
  let nbNet: LogicalNetwork | undefined;
  let nbOwn: LogicalNetwork | undefined;
  // The learned neighbours the configuration writes with ovn-sbctl are handed to ovnsim
  // as the southbound rows they are (an nbctl file cannot hold them).
  const sbLines = gen.lines.filter((l) => l.startsWith("ovn-sbctl"));
  const macBindings = sbLines.map(learnedMacBinding);
  if (macBindings.every((m) => m !== undefined)) {
    try {
      // Lines the real ovn-nbctl refused are left out, as they left the real NB unchanged.
      const refusedSet = new Set(refusedLines);
      const nbLines = gen.lines.filter((l) => !l.startsWith("ovn-sbctl") && !refusedSet.has(l));
      const db = parseNbctl(nbLines.join("\n"), { file: `config-${c}.nbctl` });
      const model = sbModelFromNb(db, northd(db, "ovn-23.03"));
      // ECMP ids follow real northd's random uuid order: renamed to the real ones where one
      // consistent renaming makes the flows identical (run-dependent.ts), never otherwise.
      const ren = renumberEcmp(model.flows, realModel.flows);
      // The order of NAT external MACs in the self-originated ARP flow follows the NAT rows'
      // uuids where MACs share an hmap bucket: the real order where the sets are equal.
      const sset = alignSsetOrder(ren.flows, realModel.flows);
      ecmp.ssetAligned += sset.aligned;
      ecmp.renamed.push(...ren.renamed.map((x) => `config ${c}: ${x}`));
      ecmp.refused.push(...ren.refused.map((x) => `config ${c}: ${x}`));
      for (const x of ren.refused) log(`  config ${c}: ECMP ids not renamed: ${x}`);
      nbNet = new LogicalNetwork({
        ...model,
        flows: inRealTieOrder(sset.flows, realModel.flows),
        macBindings: macBindings as SbMacBinding[],
      });
      nbOwn = new LogicalNetwork({ ...model, flows: sset.flows, macBindings: macBindings as SbMacBinding[] });
    } catch (e) {
      log(`  config ${c}: ovnsim cannot read the configuration: ${(e as Error).message}`);
    }
  }
  const results: CaseResult[] = [];
  let crashes = 0;
  for (const tc of generateMicroflows(configSeed ^ 0x5bd1e995, gen.topo, n)) {
    const realOut = real(tc);
    if (realOut === undefined) {
      // e.g. an inport of another datapath: ovn-trace aborts (assertion in_key failed).
      crashes++;
      continue;
    }
    const cmp = compareCase(net, tc, realOut, (t) => t);
    const nb = nbNet ? compareCase(nbNet, tc, realOut, maskSb) : undefined;
    const own = nbOwn ? compareCase(nbOwn, tc, realOut, maskSb) : undefined;
    results.push({
      config: c,
      configSeed,
      args: tc.args,
      tags: tc.tags,
      features: traceFeatures(realOut, tc.args),
      ...cmp,
      ...(nb ? { nbctl: nb } : {}),
      ...(own ? { nbctlOwnOrder: own } : {}),
    });
  }
  return { results, crashes };
}

const configSeedOf = (seed: number, c: number) => (seed * 7919 + c * 104729) >>> 0;

/** What a run (or a replay) adds up over its configurations. */
interface Tally {
  readonly t0: number;
  readonly log: (line: string) => void;
  readonly results: CaseResult[];
  readonly ecmp: { renamed: string[]; refused: string[]; ssetAligned: number };
  refused: number;
  realCrashes: number;
  configs: number;
}

const newTally = (opts: TraceDiffOptions): Tally => ({
  t0: performance.now(),
  log: opts.log ?? (() => {}),
  results: [],
  ecmp: { renamed: [], refused: [], ssetAligned: 0 },
  refused: 0,
  realCrashes: 0,
  configs: 0,
});

export function runTraceDifferential(
  opts: TraceDiffOptions,
  start: (name: string) => Sandbox,
): TraceDiffReport {
  const t = newTally(opts);
  const { log, results, ecmp } = t;
  const nConfigs = Math.ceil(opts.cases / opts.perConfig);
  for (let c = 0; c < nConfigs; c++) {
    if (opts.budgetSeconds !== undefined && (performance.now() - t.t0) / 1000 > opts.budgetSeconds) {
      log(`time budget of ${opts.budgetSeconds} s spent: stopping after ${c} configurations`);
      break;
    }
    const configSeed = configSeedOf(opts.seed, c);
    const gen = generateNb(configSeed, opts.features);
    const sb = start("otd");
    try {
      const applied = sb.sh(applyScript(gen.lines));
      const ref = applied.split("\n").filter((l) => l.startsWith("REFUSED"));
      t.refused += ref.length;
      for (const l of ref) log(`  config ${c}: ${l}`);
      const bundle = opts.keep ? path.join(opts.keep, `config-${c}`) : path.join(sb.dir, "sb");
      rmSync(bundle, { recursive: true, force: true });
      mkdirSync(bundle, { recursive: true });
      sb.run(path.join(repoRoot(), "scripts/capture-sb.sh"), [bundle]);
      const files: Record<string, string> = {};
      for (const f of readdirSync(bundle)) files[f] = readFileSync(path.join(bundle, f), "utf8");
      t.configs++;
      const n = Math.min(opts.perConfig, opts.cases - c * opts.perConfig);
      const traces: { args: readonly string[]; text: string | null }[] = [];
      const refusedLines = ref.map((l) => l.slice("REFUSED: ".length));
      const r = compareConfig(
        c,
        configSeed,
        opts.features,
        n,
        files,
        refusedLines,
        (tc) => {
          const text = realText(sb, tc.args);
          traces.push({ args: tc.args, text: text ?? null });
          return text;
        },
        log,
        ecmp,
      );
      results.push(...r.results);
      t.realCrashes += r.crashes;
      if (opts.keep) {
        const run: RealRun = { configSeed, refused: refusedLines, traces };
        writeFileSync(path.join(opts.keep, `config-${c}.real.json`), `${JSON.stringify(run)}\n`);
      }
    } finally {
      sb.stop();
    }
    const done = results.length;
    const f = results.filter((x) => x.full).length;
    log(`config ${c + 1}/${nConfigs} (seed ${configSeed}): ${done} cases, ${f} identical`);
  }
  return report(opts, t);
}

/**
 * The same comparison again from what a run kept (`keep`: each configuration's captured real
 * southbound and the real ovn-trace texts), without the real tools: to measure a change of
 * ovnsim against the very same real outputs.
 */
export function replayTraceDifferential(opts: TraceDiffOptions & { readonly keep: string }): TraceDiffReport {
  const t = newTally(opts);
  const { log, results, ecmp } = t;
  for (let c = 0; existsSync(path.join(opts.keep, `config-${c}.real.json`)); c++) {
    const run = JSON.parse(readFileSync(path.join(opts.keep, `config-${c}.real.json`), "utf8")) as RealRun;
    if (run.configSeed !== configSeedOf(opts.seed, c)) throw new Error(`${opts.keep}: not seed ${opts.seed}`);
    const bundle = path.join(opts.keep, `config-${c}`);
    const files: Record<string, string> = {};
    for (const f of readdirSync(bundle)) files[f] = readFileSync(path.join(bundle, f), "utf8");
    t.refused += run.refused.length;
    t.configs++;
    let i = 0;
    const r = compareConfig(
      c,
      run.configSeed,
      opts.features,
      run.traces.length,
      files,
      run.refused,
      (tc) => {
        const kept = run.traces[i++];
        if (!kept || kept.args.join("\0") !== tc.args.join("\0"))
          throw new Error(`${opts.keep}: config ${c}: the generator no longer draws the kept cases`);
        return kept.text ?? undefined;
      },
      log,
      ecmp,
    );
    results.push(...r.results);
    t.realCrashes += r.crashes;
  }
  return report(opts, t);
}

function report(opts: TraceDiffOptions, t: Tally): TraceDiffReport {
  const { results, ecmp, configs, refused, realCrashes, t0 } = t;
  const score = (rs: readonly Pick<CaseResult, "outcome" | "full">[]): Score => ({
    cases: rs.length,
    outcome: rs.filter((x) => x.outcome).length,
    full: rs.filter((x) => x.full).length,
  });
  const perFeature = (
    rs: readonly CaseResult[],
    pick: (x: CaseResult) => Pick<CaseResult, "outcome" | "full">,
  ) => {
    const out: Record<string, Score> = {};
    const names = new Set(rs.flatMap((x) => [...x.features, ...x.tags.map((t) => `case:${t}`)]));
    for (const n of [...names].sort()) {
      const sel = rs.filter((x) =>
        n.startsWith("case:") ? x.tags.includes(n.slice(5)) : x.features.includes(n),
      );
      out[n] = score(sel.map(pick));
    }
    return out;
  };
  const signatures = (rs: readonly Pick<CaseResult, "full" | "firstDiff">[]) => {
    const sigs = new Map<string, number>();
    for (const x of rs) {
      if (x.full || !x.firstDiff) continue;
      const s = `${sign(x.firstDiff.real)} ≠ ${sign(x.firstDiff.ovnsim)}`;
      sigs.set(s, (sigs.get(s) ?? 0) + 1);
    }
    return [...sigs.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([signature, count]) => ({ count, signature }));
  };
  const withPct = (o: Score) => {
    const pct = (a: number) => Math.round((10000 * a) / Math.max(1, o.cases)) / 100;
    return { ...o, outcomePct: pct(o.outcome), fullPct: pct(o.full) };
  };
  const nbRs = results.filter((x) => x.nbctl);
  const nbOf = (x: CaseResult) => x.nbctl as NonNullable<CaseResult["nbctl"]>;
  return {
    seed: opts.seed,
    features: [...opts.features],
    configs,
    refusedLines: refused,
    realCrashes,
    casesCompared: results.length,
    overall: withPct(score(results)),
    byFeature: perFeature(results, (x) => x),
    nbctl: withPct(score(nbRs.map(nbOf))),
    nbctlByFeature: perFeature(nbRs, nbOf),
    nbctlDifferenceSignatures: signatures(nbRs.map(nbOf)),
    nbctlOwnTieOrder: withPct(score(nbRs.map((x) => x.nbctlOwnOrder ?? nbOf(x)))),
    nbctlOwnTieOrderSignatures: signatures(nbRs.map((x) => x.nbctlOwnOrder ?? nbOf(x))),
    nbctlEcmpRenamed: ecmp.renamed,
    nbctlEcmpRefused: ecmp.refused,
    nbctlSsetOrderAligned: ecmp.ssetAligned,
    differenceSignatures: signatures(results),
    results,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}

export function formatScores(rep: TraceDiffReport): string {
  const pc = (s: Score | undefined, k: "outcome" | "full") =>
    s ? `${((100 * s[k]) / Math.max(1, s.cases)).toFixed(2).padStart(8)}%` : "        -";
  const row = (name: string, s: Score, n?: Score) =>
    `${name.padEnd(24)} ${String(s.cases).padStart(6)} ${pc(s, "outcome")} ${pc(s, "full")}   ${String(n?.cases ?? 0).padStart(6)} ${pc(n, "outcome")} ${pc(n, "full")}`;
  return [
    `${"".padEnd(24)} ${"over the real southbound".padEnd(27)}   --nbctl (ovnsim's northd + southbound)`,
    `${"feature".padEnd(24)} ${"cases".padStart(6)} ${"outcome".padStart(9)} ${"full text".padStart(9)}   ${"cases".padStart(6)} ${"outcome".padStart(9)} ${"full text".padStart(9)}`,
    row("overall", rep.overall, rep.nbctl),
    ...Object.entries(rep.byFeature).map(([k, s]) => row(k, s, rep.nbctlByFeature[k])),
  ].join("\n");
}
