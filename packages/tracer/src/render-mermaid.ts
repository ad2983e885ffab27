/**
 * Mermaid pictures of a trace: a flowchart of the path like the seed document's Figure 1
 * (client → VIP → node → underlay0.341 → br-provider → OpenFlow → logical switch → LB DNAT →
 * Pod) built from the hops actually taken, and a sequence diagram of the exchange (ARP, the
 * request, the reply). Labels are escaped for Mermaid (quotes and brackets would end a label).
 */
import { type TraceDocument, type TraceStep, formatPacket } from "./model.js";

/** Text safe inside a quoted Mermaid label. */
export function mermaidLabel(s: string): string {
  return s
    .replace(/;/g, "#59;")
    .replace(/"/g, "#quot;")
    .replace(/[<>]/g, (c) => (c === "<" ? "#lt;" : "#gt;"))
    .replace(/[\n\r]+/g, " ");
}

interface Hop {
  readonly id: string;
  readonly label: string;
  readonly layer: string;
  readonly drop: boolean;
}

/** The top-level hops of a path (direct children of the root and of layer groups). */
function hops(root: TraceStep): Hop[] {
  const out: Hop[] = [];
  let n = 0;
  for (const s of root.children) {
    const where = s.device ? `${s.device}: ${s.where}` : s.where;
    out.push({
      id: `h${n++}`,
      label: `${where}<br/>${s.summary}`,
      layer: s.layer,
      drop: s.outcome === "drop" || hasDrop(s),
    });
  }
  return out;
}

function hasDrop(s: TraceStep): boolean {
  return s.outcome === "drop" || s.children.some(hasDrop);
}

export function renderFlowchart(doc: TraceDocument): string {
  const lines = ["flowchart LR"];
  const fwd = hops(doc.forward);
  for (const h of fwd) lines.push(`  ${h.id}["${mermaidLabel(h.label).replace(/#lt;br\/#gt;/g, "<br/>")}"]`);
  for (let i = 1; i < fwd.length; i++) lines.push(`  ${fwd[i - 1]!.id} --> ${fwd[i]!.id}`);
  const classes = new Set(fwd.map((h) => h.layer));
  for (const c of classes) {
    const ids = fwd.filter((h) => h.layer === c).map((h) => h.id);
    if (ids.length > 0) lines.push(`  class ${ids.join(",")} ${c}`);
  }
  const dropped = fwd.filter((h) => h.drop).map((h) => h.id);
  if (dropped.length > 0) lines.push(`  class ${dropped.join(",")} dropped`);
  lines.push("  classDef physical fill:#eef,stroke:#447");
  lines.push("  classDef metallb fill:#efe,stroke:#474");
  lines.push("  classDef openflow fill:#ffe,stroke:#774");
  lines.push("  classDef ovn fill:#fef,stroke:#747");
  lines.push("  classDef host fill:#eee,stroke:#444");
  lines.push("  classDef dropped fill:#fdd,stroke:#a00,stroke-width:2px");
  return `${lines.join("\n")}\n`;
}

/** Participants in order of first appearance; messages from the hops' devices. */
export function renderSequence(doc: TraceDocument): string {
  const lines = ["sequenceDiagram"];
  const parts: string[] = [];
  const pid = (name: string): string => {
    let i = parts.indexOf(name);
    if (i < 0) {
      parts.push(name);
      i = parts.length - 1;
      lines.push(`  participant P${i} as ${mermaidLabel(name)}`);
    }
    return `P${i}`;
  };
  const walk = (root: TraceStep) => {
    let prev: string | undefined;
    for (const s of root.children) {
      const dev = s.device ?? s.where;
      const id = pid(dev);
      const text = mermaidLabel(s.packet ? `${s.summary} (${formatPacket(s.packet)})` : s.summary).replace(
        /:/g,
        "#58;",
      );
      if (prev !== undefined && prev !== id) lines.push(`  ${prev}->>${id}: ${text}`);
      else lines.push(`  Note over ${id}: ${text}`);
      if (s.outcome === "drop" || hasDrop(s)) lines.push(`  Note over ${id}: dropped`);
      prev = id;
    }
  };
  walk(doc.forward);
  if (doc.reply) walk(doc.reply);
  return `${lines.join("\n")}\n`;
}

/** Both diagrams as Markdown fenced blocks (one diagram per block, as Mermaid requires). */
export function renderMermaid(doc: TraceDocument): string {
  return `\`\`\`mermaid\n${renderFlowchart(doc)}\`\`\`\n\n\`\`\`mermaid\n${renderSequence(doc)}\`\`\`\n`;
}
