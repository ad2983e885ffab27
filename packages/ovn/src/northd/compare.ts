/**
 * Compares two sets of logical flows the way the fidelity goal is stated: a real flow is
 * reproduced when ours has one with the same datapath, stage, priority, match and actions.
 * UUIDs (random in real OVN: load_balancer = "…" in trigger_event, lflow uuids) are masked,
 * and by default only logical switch stages are compared (`{ stages: "router" }` or `"all"`
 * selects the router pipelines, which ovnsim generates for the profiles that have them).
 */
import type { LogicalFlow } from "../types.js";

export interface FlowComparison {
  readonly real: number;
  readonly ours: number;
  readonly reproduced: number;
  /** reproduced / real (1 when both are empty). */
  readonly fraction: number;
  readonly missing: readonly LogicalFlow[];
  readonly extra: readonly LogicalFlow[];
}

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Identity of a flow for comparison purposes. */
export function flowKey(f: LogicalFlow): string {
  const m = f.match.replace(UUID_RE, "<uuid>");
  const a = f.actions.replace(UUID_RE, "<uuid>");
  return `${f.datapath}\u0000${f.pipeline}\u0000${f.stage}\u0000${f.table}\u0000${f.priority}\u0000${m}\u0000${a}`;
}

export function compareLflows(
  real: readonly LogicalFlow[],
  ours: readonly LogicalFlow[],
  opts: { readonly stages?: "switch" | "router" | "all" } = {},
): FlowComparison {
  const which = opts.stages ?? "switch";
  const isSwitch = (f: LogicalFlow) =>
    which === "all" || f.stage.startsWith(which === "switch" ? "ls_" : "lr_");
  const r = real.filter(isSwitch);
  const o = ours.filter(isSwitch);
  const pool = new Map<string, number>();
  for (const f of o) pool.set(flowKey(f), (pool.get(flowKey(f)) ?? 0) + 1);
  const missing: LogicalFlow[] = [];
  for (const f of r) {
    const k = flowKey(f);
    const n = pool.get(k) ?? 0;
    if (n > 0) pool.set(k, n - 1);
    else missing.push(f);
  }
  const realPool = new Map<string, number>();
  for (const f of r) realPool.set(flowKey(f), (realPool.get(flowKey(f)) ?? 0) + 1);
  const extra: LogicalFlow[] = [];
  for (const f of o) {
    const k = flowKey(f);
    const n = realPool.get(k) ?? 0;
    if (n > 0) realPool.set(k, n - 1);
    else extra.push(f);
  }
  const reproduced = r.length - missing.length;
  return {
    real: r.length,
    ours: o.length,
    reproduced,
    fraction: r.length === 0 ? 1 : reproduced / r.length,
    missing,
    extra,
  };
}
