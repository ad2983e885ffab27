/**
 * The southbound data that northd produces and ovn-trace consumes, as plain records. Both
 * halves of the package meet here: `northd/` builds these from the northbound model, `sb/`
 * reads them from an `ovn-sbctl` capture, and `trace/` executes them.
 */

/** Which logical pipeline a flow belongs to (ovn-sb(5) Logical_Flow `pipeline`). */
export type Pipeline = "ingress" | "egress";

/** One row of the southbound Logical_Flow table, as `ovn-sbctl lflow-list` shows it. */
export interface LogicalFlow {
  /** Name of the logical datapath (the Logical_Switch or Logical_Router name). */
  readonly datapath: string;
  readonly pipeline: Pipeline;
  /** Logical table number within the pipeline (differs per OVN release). */
  readonly table: number;
  /** Stage name, e.g. "ls_in_lb". */
  readonly stage: string;
  readonly priority: number;
  /** Match in the OVN expression language, verbatim. */
  readonly match: string;
  /** Actions in the OVN action language, verbatim. */
  readonly actions: string;
  /** Short uuid as lflow-list prints it (8 hex digits), when known. */
  readonly uuid?: string;
  /** Source location hint ovn-trace prints, e.g. "northd.c:7558", when known. */
  readonly hint?: string;
}
