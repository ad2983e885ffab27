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

/** Mutable node used while building a tree. */
export interface MNode {
  kind: TraceNodeKind;
  text: string;
  alwaysIndent?: boolean;
  children: MNode[];
}

/**
 * The trace as the executor records it: one entry per node, in the order the nodes are made,
 * which is the tree's pre-order (a node's children are all made before its next sibling). Each
 * entry is its kind, its parent's index (-1 at the top) and its text; the texts are the
 * executor's cached strings, so recording a step allocates nothing but the log's own growth, and
 * the node tree is built only when it is read (`toTree`).
 */
export class TraceLog {
  /** kind, parent, text for each entry: `data[3*i]`, `data[3*i+1]`, `data[3*i+2]`. */
  private readonly data: (TraceNodeKind | number | string)[];
  private n = 0;
  /** Entries printed as ovn-trace's always_indent (multicast egress copies). */
  private indented: number[] | undefined;

  /**
   * `capacity`: the entries expected (a pipeline's last trace length), so the log is allocated
   * once rather than grown by copying as it fills.
   */
  constructor(capacity = 0) {
    this.data = capacity > 0 ? new Array(capacity * 3) : [];
  }

  get length(): number {
    return this.n;
  }

  /** Appends a node under entry `parent` (-1: at the top); returns its index. */
  add(parent: number, kind: TraceNodeKind, text: string): number {
    const i = this.n++;
    const d = this.data;
    const j = 3 * i;
    d[j] = kind;
    d[j + 1] = parent;
    d[j + 2] = text;
    return i;
  }

  setAlwaysIndent(i: number): void {
    this.indented ??= [];
    this.indented.push(i);
  }

  kind(i: number): TraceNodeKind {
    return this.data[3 * i] as TraceNodeKind;
  }
  parent(i: number): number {
    return this.data[3 * i + 1] as number;
  }
  text(i: number): string {
    return this.data[3 * i + 2] as string;
  }

  /** The node tree (ovn-trace's ovntrace_node tree) the entries describe. */
  toTree(): TraceNode[] {
    const n = this.length;
    const nodes: MNode[] = new Array(n);
    const root: MNode[] = [];
    for (let i = 0; i < n; i++) {
      const node: MNode = { kind: this.kind(i), text: this.text(i), children: [] };
      nodes[i] = node;
      const p = this.parent(i);
      (p < 0 ? root : nodes[p]!.children).push(node);
    }
    if (this.indented) for (const i of this.indented) nodes[i]!.alwaysIndent = true;
    return root;
  }
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
