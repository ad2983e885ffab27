/**
 * The structured result of an offline `ofproto/trace`, and its rendering as text identical to
 * OVS 3.1's `ovs-appctl ofproto/trace` (ofproto/ofproto-dpif-trace.c). The tree has OVS's own
 * node kinds (`enum oftrace_node_type`: bridge, table, thaw, action, detail, warn, error,
 * bucket), and the renderer applies OVS's indentation rule (`oftrace_node_print_details`), so
 * the JSON form and the text form cannot drift apart.
 *
 * JSON schema (stable, version 1):
 * ```
 * { "version": 1, "bridge": string, "flow": string,
 *   "passes": [ { "recirc": null | { "id": number, "ctState": string, "default": boolean,
 *                                    "nat": null | { "initial": string, "modified": string } },
 *                 "flow": string, "nodes": TraceNode[], "finalFlow": string ("unchanged" when equal),
 *                 "megaflow": string, "datapathActions": string, "error": string | null } ] }
 * TraceNode = { "type": "bridge"|"table"|"thaw"|"action"|"detail"|"warn"|"error"|"bucket",
 *               "text": string, "subs": TraceNode[], "table"?: number, "priority"?: number,
 *               "cookie"?: string, "match"?: string }
 * ```
 */

export type TraceNodeType = "bridge" | "table" | "thaw" | "action" | "detail" | "warn" | "error" | "bucket";

export interface TraceNode {
  readonly type: TraceNodeType;
  readonly text: string;
  readonly subs: TraceNode[];
  /** Table nodes: the table id and the rule (absent for "No match."). */
  readonly table?: number;
  readonly priority?: number;
  readonly cookie?: string;
  readonly match?: string;
}

export interface RecircHeader {
  readonly id: number;
  /** ct_state the pass resumes with, as OVS prints it (`new|trk`). */
  readonly ctState: string;
  /** True when no --ct-next was left and the default trk|new was used. */
  readonly default: boolean;
  readonly nat: { readonly initial: string; readonly modified: string } | null;
}

export interface TracePass {
  readonly recirc: RecircHeader | null;
  readonly flow: string;
  readonly nodes: TraceNode[];
  readonly finalFlow: string;
  readonly megaflow: string;
  readonly datapathActions: string;
  /** "Translation failed (…)" reason, or null. */
  readonly error: string | null;
  /** Why the flow is handled by the userspace slow path (slow_path_reason explanations), if it is. */
  readonly slowPath?: readonly string[];
  /**
   * The packet at the start of the pass and at its end, as flows (not enumerable: not part of
   * the JSON); `flow` and `finalFlow` are their texts. `final` is `start` itself when unchanged.
   * Each is made when first read.
   */
  readonly packets?: {
    /** The pass left the packet as it came (finalFlow "unchanged"), known without making a flow. */
    readonly unchanged?: boolean;
    readonly start: import("@ovnsim/packet").Flow;
    readonly final: import("@ovnsim/packet").Flow;
  };
}

export interface TraceResult {
  readonly version: 1;
  readonly bridge: string;
  readonly flow: string;
  readonly passes: readonly TracePass[];
  /** Stateful mode only (not part of the JSON): the connection table after the trace. */
  readonly conntrack?: import("@ovnsim/conntrack").Conntrack;
  /** Side-effects mode only (not part of the JSON): the rules `learn` added. */
  readonly learned?: readonly import("./model.js").FlowEntry[];
}

const TERMINAL: Record<TraceNodeType, boolean> = {
  action: true,
  detail: true,
  warn: true,
  error: true,
  bucket: true,
  bridge: false,
  table: false,
  thaw: false,
};

function printDetails(out: string[], nodes: readonly TraceNode[], level: number): void {
  nodes.forEach((sub, i) => {
    if (sub.type === "bridge") out.push("\n");
    const more = i !== nodes.length - 1 || TERMINAL[sub.type] ? 1 : 0;
    const pad = " ".repeat((level + more) * 4);
    switch (sub.type) {
      case "detail":
        out.push(`${pad} -> ${sub.text}\n`);
        break;
      case "warn":
        out.push(`${pad} >> ${sub.text}\n`);
        break;
      case "error":
        out.push(`${pad} >>>> ${sub.text} <<<<\n`);
        break;
      case "bridge":
        out.push(`${pad}${sub.text}\n${pad}${"-".repeat(sub.text.length)}\n`);
        break;
      default:
        out.push(`${pad}${sub.text}\n`);
    }
    printDetails(out, sub.subs, level + more + more);
  });
}

/** Renders the trace nodes of one pass as `oftrace_node_print_details` does. */
export function renderNodes(nodes: readonly TraceNode[]): string {
  const out: string[] = [];
  printDetails(out, nodes, 0);
  return out.join("");
}

/** The whole `ovs-appctl ofproto/trace` output (with its final newline, as ovs-appctl prints it). */
export function renderTrace(t: TraceResult): string {
  let s = "";
  for (const p of t.passes) {
    if (p.recirc) {
      s += `\n\n${"=".repeat(79)}\nrecirc(0x${p.recirc.id.toString(16)})`;
      s += p.recirc.default
        ? " - resume conntrack with default ct_state=trk|new (use --ct-next to customize)"
        : ` - resume conntrack with ct_state=${p.recirc.ctState}`;
      s += "\n";
      if (p.recirc.nat) {
        s += `Replacing src/dst IP/ports to simulate NAT:\n Initial flow: ${p.recirc.nat.initial}\n`;
        s += ` Modified flow: ${p.recirc.nat.modified}\n`;
      }
      s += `${"=".repeat(79)}\n\n`;
    }
    s += `Flow: ${p.flow}\n`;
    s += renderNodes(p.nodes);
    s += `\nFinal flow: ${p.finalFlow}\nMegaflow: ${p.megaflow}\nDatapath actions: ${p.datapathActions}`;
    if (p.error !== null) s += `\nTranslation failed (${p.error}), packet is dropped.\n`;
    else if (p.slowPath?.length) {
      s += "\nThis flow is handled by the userspace slow path because it:";
      for (const r of p.slowPath) s += `\n  - ${r}.`;
    }
  }
  return s.endsWith("\n") ? s : `${s}\n`;
}

/** The trace as JSON (the schema above), bigints as strings. */
export function traceToJson(t: TraceResult): string {
  return JSON.stringify(t, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2);
}
