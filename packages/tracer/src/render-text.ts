/**
 * Text for an engineer new to OVN: one line per hop in summary form, nested by layer, with the
 * packet printed under a step wherever it changed; `detailed` adds the native blocks under the
 * steps that have one (ofproto/trace for OpenFlow bridges, ovn-trace for the logical pipeline),
 * as `kubectl ko trace` and `ovnkube-trace -loglevel 2` show the real tools' output.
 */
import { refSummary } from "./brint.js";
import { type TraceDocument, type TraceStep, formatPacket, hostPort } from "./model.js";

export interface TextOptions {
  readonly detailed?: boolean;
}

const MARK: Record<string, string> = { drop: "✗ ", deliver: "✓ " };

export function renderText(doc: TraceDocument, opts: TextOptions = {}): string {
  const out: string[] = [];
  const r = doc.request;
  out.push(
    `ovnsim trace: ${doc.scenario}: ${r.from} → ${r.proto !== "icmp" ? hostPort(r.to, r.port) : r.to} (${r.proto})`,
  );
  out.push("");
  out.push("Forward");
  renderStep(doc.forward, 1, out, opts, true);
  if (doc.reply) {
    out.push("");
    out.push("Reply");
    renderStep(doc.reply, 1, out, opts, true);
  }
  out.push("");
  out.push(...verdictLines(doc));
  if (doc.findings.length > 0) {
    out.push("");
    out.push("Findings");
    for (const f of doc.findings) {
      out.push(`  [${f.severity}] ${f.code}: ${f.message}`);
      out.push(`      fix: ${f.fix}`);
    }
  }
  if (doc.missingLayers.length > 0) {
    out.push("");
    out.push(`Not simulated (package not available): ${doc.missingLayers.join(", ")}`);
  }
  return `${out.join("\n")}\n`;
}

function renderStep(s: TraceStep, depth: number, out: string[], opts: TextOptions, root = false): void {
  const pad = "  ".repeat(depth);
  if (!root) {
    const where = s.device ? `${s.device} ${s.where}` : s.where;
    out.push(`${pad}${MARK[s.outcome ?? ""] ?? ""}[${s.layer}] ${where}: ${s.summary}`);
    if (s.packet) out.push(`${pad}    ${formatPacket(s.packet)}`);
    for (const r of s.logical ?? []) out.push(`${pad}    ↳ ${refSummary(r)}`);
    if (opts.detailed && s.detail) {
      for (const l of s.detail.replace(/\n+$/, "").split("\n")) out.push(`${pad}    │ ${l}`);
    }
  } else if (s.packet) {
    out.push(`${pad}${formatPacket(s.packet)}`);
  }
  for (const c of s.children) renderStep(c, root ? depth : depth + 1, out, opts);
}

export function verdictLines(doc: TraceDocument): string[] {
  const v = doc.verdict;
  const lines: string[] = [];
  if (v.delivered) {
    lines.push(
      `Verdict: DELIVERED to ${v.pod ?? (v.node !== null ? "the host network" : "?")} on ${v.node ?? "?"}`,
    );
  } else {
    lines.push("Verdict: NOT DELIVERED");
    if (v.droppedAt)
      lines.push(`  dropped at [${v.droppedAt.layer}] ${v.droppedAt.where}: ${v.droppedAt.reason}`);
  }
  if (v.announcingNode !== null) lines.push(`  announcing node (MetalLB): ${v.announcingNode}`);
  if (v.backend !== null) {
    lines.push(
      `  backend: ${v.backend}${v.backendLocal === null ? "" : v.backendLocal ? " (local to the receiving node)" : " (REMOTE)"}`,
    );
  }
  if (v.clientIpPreserved !== null)
    lines.push(`  client IP preserved: ${v.clientIpPreserved ? "yes" : "no"}`);
  if (v.replyDelivered !== null) {
    lines.push(
      `  reply: ${v.replyDelivered ? "delivered" : "not delivered"}${v.replySourceIp ? `, source ${v.replySourceIp}` : ""}`,
    );
  }
  return lines;
}
