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
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { repoRoot, type Sandbox } from "@ovnsim/oracle";
import { readSbBundle } from "../src/sb/model.js";
import { LogicalNetwork } from "../src/trace/exec.js";
import { renderTrace } from "../src/trace/render.js";
import { type Feature, generateMicroflows, generateNb, type TraceCase } from "./gen-trace-differential.js";

export interface TraceDiffOptions {
  readonly seed: number;
  readonly cases: number;
  readonly perConfig: number;
  readonly features: ReadonlySet<Feature>;
  readonly log?: (line: string) => void;
  /** Keep each configuration's SB bundle under this directory. */
  readonly keep?: string;
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

export function runTraceDifferential(
  opts: TraceDiffOptions,
  start: (name: string) => Sandbox,
): TraceDiffReport {
  const t0 = performance.now();
  const log = opts.log ?? (() => {});
  const results: CaseResult[] = [];
  let refused = 0;
  let realCrashes = 0;
  let configs = 0;
  const nConfigs = Math.ceil(opts.cases / opts.perConfig);
  for (let c = 0; c < nConfigs; c++) {
    const configSeed = (opts.seed * 7919 + c * 104729) >>> 0;
    const gen = generateNb(configSeed, opts.features);
    const sb = start("otd");
    let net: LogicalNetwork;
    try {
      const applied = sb.sh(applyScript(gen.lines));
      const ref = applied.split("\n").filter((l) => l.startsWith("REFUSED"));
      refused += ref.length;
      for (const l of ref) log(`  config ${c}: ${l}`);
      const bundle = opts.keep ? path.join(opts.keep, `config-${c}`) : path.join(sb.dir, "sb");
      rmSync(bundle, { recursive: true, force: true });
      mkdirSync(bundle, { recursive: true });
      sb.run(path.join(repoRoot(), "scripts/capture-sb.sh"), [bundle]);
      const files: Record<string, string> = {};
      for (const f of readdirSync(bundle)) files[f] = readFileSync(path.join(bundle, f), "utf8");
      net = new LogicalNetwork(readSbBundle(files));
      configs++;
      const n = Math.min(opts.perConfig, opts.cases - c * opts.perConfig);
      for (const tc of generateMicroflows(configSeed ^ 0x5bd1e995, gen.topo, n)) {
        const real = realText(sb, tc.args);
        if (real === undefined) {
          // e.g. an inport of another datapath: ovn-trace aborts (assertion in_key failed).
          realCrashes++;
          continue;
        }
        let first = ovnsimText(net, tc);
        let got = first;
        const hasLbDst = tc.args.some((a) => a.startsWith("--lb-dst="));
        const randomSelect = /Randomly selected/.test(real);
        // ovn-trace's random choices: a ct_lb backend (without a usable --lb-dst) and an
        // unpinned select member.
        if (got !== real && (/ct_lb/.test(real) || randomSelect)) {
          const tries: [number | undefined, number | undefined][] = [];
          for (const b of /ct_lb/.test(real) ? [undefined, 0, 1, 2] : [undefined])
            for (const s of randomSelect ? [undefined, 1, 2, 3, 4] : [undefined]) tries.push([b, s]);
          for (const [b, s] of tries) {
            let t = ovnsimText(net, tc, b, s);
            if (randomSelect) t = normSelect(t);
            if (t === (randomSelect ? normSelect(real) : real)) {
              got = real;
              break;
            }
            if (b === undefined && s === undefined && !hasLbDst) first = t;
          }
        }
        const full = got === real;
        const outcome = full || minimalSection(got) === minimalSection(real);
        let firstDiff: CaseResult["firstDiff"];
        if (!full) {
          const a = real.split("\n");
          const b = first.split("\n");
          let i = 0;
          while (i < a.length && a[i] === b[i]) i++;
          firstDiff = { line: i + 1, real: a[i] ?? "<end>", ovnsim: b[i] ?? "<end>" };
        }
        results.push({
          config: c,
          configSeed,
          args: tc.args,
          tags: tc.tags,
          features: traceFeatures(real, tc.args),
          outcome,
          full,
          ...(firstDiff ? { firstDiff } : {}),
        });
      }
    } finally {
      sb.stop();
    }
    const done = results.length;
    const f = results.filter((x) => x.full).length;
    log(`config ${c + 1}/${nConfigs} (seed ${configSeed}): ${done} cases, ${f} identical`);
  }
  const score = (rs: readonly CaseResult[]): Score => ({
    cases: rs.length,
    outcome: rs.filter((x) => x.outcome).length,
    full: rs.filter((x) => x.full).length,
  });
  const byFeature: Record<string, Score> = {};
  const names = new Set(results.flatMap((x) => [...x.features, ...x.tags.map((t) => `case:${t}`)]));
  for (const n of [...names].sort()) {
    byFeature[n] = score(
      results.filter((x) => (n.startsWith("case:") ? x.tags.includes(n.slice(5)) : x.features.includes(n))),
    );
  }
  const sigs = new Map<string, number>();
  for (const x of results) {
    if (x.full || !x.firstDiff) continue;
    const s = `${sign(x.firstDiff.real)} ≠ ${sign(x.firstDiff.ovnsim)}`;
    sigs.set(s, (sigs.get(s) ?? 0) + 1);
  }
  const o = score(results);
  const pct = (a: number) => Math.round((10000 * a) / Math.max(1, o.cases)) / 100;
  return {
    seed: opts.seed,
    features: [...opts.features],
    configs,
    refusedLines: refused,
    realCrashes,
    casesCompared: results.length,
    overall: { ...o, outcomePct: pct(o.outcome), fullPct: pct(o.full) },
    byFeature,
    differenceSignatures: [...sigs.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([signature, count]) => ({ count, signature })),
    results,
    seconds: Math.round((performance.now() - t0) / 100) / 10,
  };
}

export function formatScores(rep: TraceDiffReport): string {
  const row = (name: string, s: Score) =>
    `${name.padEnd(24)} ${String(s.cases).padStart(6)} ${((100 * s.outcome) / Math.max(1, s.cases)).toFixed(2).padStart(8)}% ${((100 * s.full) / Math.max(1, s.cases)).toFixed(2).padStart(8)}%`;
  return [
    `${"feature".padEnd(24)} ${"cases".padStart(6)} ${"outcome".padStart(9)} ${"full text".padStart(9)}`,
    row("overall", rep.overall),
    ...Object.entries(rep.byFeature).map(([k, s]) => row(k, s)),
  ].join("\n");
}
