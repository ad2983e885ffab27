/**
 * The trace tree ovn-trace builds (upstream `utilities/ovn-trace.c` `struct ovntrace_node`)
 * and its three renderings: `--detailed` (the default), `--summary` and `--minimal`. The same
 * tree is the JSON output. Node kinds keep ovn-trace's names: pipeline, table,
 * transformation, output, modify, action, error.
 */

export type TraceNodeKind =
  | "pipeline"
  | "table"
  | "transformation"
  | "output"
  | "modify"
  | "action"
  | "error";

export interface TraceNode {
  readonly kind: TraceNodeKind;
  readonly text: string;
  /** ovn-trace's always_indent (multicast egress copies). */
  readonly alwaysIndent?: boolean;
  readonly children: readonly TraceNode[];
}

/** Mutable node used while tracing. */
export interface MNode {
  kind: TraceNodeKind;
  text: string;
  alwaysIndent?: boolean;
  children: MNode[];
}

export function append(list: MNode[], kind: TraceNodeKind, text: string): MNode {
  const n: MNode = { kind, text, children: [] };
  list.push(n);
  return n;
}

/** ovn-trace's "terminal" test: these kinds are printed one level deeper in detailed mode. */
const indentKinds = new Set<TraceNodeKind>(["output", "modify", "action", "error"]);

/** `--detailed` (ovntrace_node_print_details). */
export function renderDetailed(nodes: readonly TraceNode[], level = 0): string {
  let out = "";
  nodes.forEach((sub, i) => {
    if (sub.kind === "modify") return;
    const more = i !== nodes.length - 1 || sub.alwaysIndent === true || indentKinds.has(sub.kind);
    const title = sub.kind === "pipeline" || sub.kind === "transformation";
    const ind = " ".repeat((level + (more ? 1 : 0)) * 4);
    if (title) out += "\n";
    out += `${ind}${sub.text}\n`;
    if (title) out += `${ind}${"-".repeat(sub.text.length)}\n`;
    out += renderDetailed(sub.children, level + (more ? 2 : 0));
  });
  return out;
}

/** Replaces nodes of the given kinds by their children (ovntrace_node_prune_summary/hard). */
function prune(nodes: readonly TraceNode[], kinds: ReadonlySet<TraceNodeKind>): TraceNode[] {
  const out: TraceNode[] = [];
  for (const n of nodes) {
    const children = prune(n.children, kinds);
    if (kinds.has(n.kind)) out.push(...children);
    else out.push({ ...n, children });
  }
  return out;
}

function printSummary(nodes: readonly TraceNode[], level: number): string {
  let out = "";
  for (const sub of nodes) {
    if (sub.kind === "action" && sub.text.startsWith("next(")) continue;
    out += " ".repeat(level * 4) + sub.text;
    if (sub.children.length) {
      out += " {\n";
      out += printSummary(sub.children, level + 1);
      out += `${" ".repeat(level * 4)}}`;
    }
    if (sub.kind !== "action") out += ";";
    out += "\n";
  }
  return out;
}

/** `--summary`. */
export function renderSummary(nodes: readonly TraceNode[]): string {
  return printSummary(prune(nodes, new Set(["modify", "table"])), 0);
}

/** `--minimal`. */
export function renderMinimal(nodes: readonly TraceNode[]): string {
  return printSummary(prune(nodes, new Set(["action", "pipeline", "table", "output"])), 0);
}
