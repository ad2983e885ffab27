/**
 * ovn-trace's text output: the `# <microflow>` line, then the trace tree rendered
 * `--detailed`, `--summary` or `--minimal` (several modes print `# Detailed trace.` headers,
 * as ovn-trace does), or the JSON form of the same result.
 */
import { formatFlow } from "@ovnsim/packet";
import type { TraceResult } from "./exec.js";
import { renderDetailed, renderMinimal, renderSummary } from "./tree.js";

export type TraceMode = "detailed" | "summary" | "minimal";

/** Renders a trace exactly as ovn-trace 23.03 prints it. */
export function renderTrace(r: TraceResult, modes: readonly TraceMode[] = ["detailed"]): string {
  const ms = modes.length ? modes : (["detailed"] as const);
  const multiple = new Set(ms).size > 1;
  let out = `# ${r.flow}\n`;
  if (ms.includes("detailed")) {
    if (multiple) out += "# Detailed trace.\n";
    out += renderDetailed(r.tree);
  }
  if (ms.includes("summary")) {
    if (multiple) out += "# Summary trace.\n";
    out += renderSummary(r.tree);
  }
  if (ms.includes("minimal")) {
    if (multiple) out += "# Minimal trace.\n";
    out += renderMinimal(r.tree);
  }
  return out;
}

/** The trace as plain JSON-able data. */
export function traceToJson(r: TraceResult): unknown {
  return {
    flow: r.flow,
    outputs: r.outputs,
    dropped: r.dropped,
    deliveries: r.deliveries.map((d) => ({ port: d.port, flow: formatFlow(d.flow) })),
    tree: r.tree,
  };
}
