/**
 * Reader and writer for `ovn-sbctl lflow-list` output, the text people capture from a real
 * cluster: a `Datapath: "name" (uuid)  Pipeline: ingress|egress` header, then one
 * `table=N (stage), priority=P, match=(…), action=(…)` line per logical flow, optionally
 * prefixed by `uuid=0x…,` (`--uuid`). Produces the shared `LogicalFlow` records.
 */
import { SimError } from "@ovnsim/packet";
import type { LogicalFlow, Pipeline } from "../types.js";

const HEADER = /^Datapath: "((?:[^"\\]|\\.)*)" \(([0-9a-f-]+)\)\s+Pipeline: (ingress|egress)\s*$/;
const FLOW =
  /^\s*(?:uuid=0x([0-9a-f]+),\s*)?table=\s*(\d+)\s*\(\s*([A-Za-z0-9_]*)\s*\)\s*,\s*priority=\s*(\d+)\s*,\s*match=\((.*)\), action=\((.*)\)\s*$/;

/** Datapaths named in the listing: name → uuid. */
export interface LflowListing {
  readonly flows: LogicalFlow[];
  readonly datapaths: ReadonlyMap<string, string>;
}

/** Parses `ovn-sbctl [--uuid] lflow-list` output. Throws SimError(PARSE_ERROR) with file:line. */
export function parseLflowList(text: string, file?: string): LflowListing {
  const flows: LogicalFlow[] = [];
  const datapaths = new Map<string, string>();
  let dp: string | undefined;
  let pipeline: Pipeline | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line.trim() === "") continue;
    const where = { ...(file !== undefined ? { file } : {}), line: i + 1 };
    const h = HEADER.exec(line);
    if (h) {
      dp = h[1]!.replace(/\\(.)/g, "$1");
      pipeline = h[3] as Pipeline;
      datapaths.set(dp, h[2]!);
      continue;
    }
    const m = FLOW.exec(line);
    if (!m) throw new SimError("PARSE_ERROR", `not an lflow-list line: "${line.slice(0, 80)}"`, where);
    if (dp === undefined || pipeline === undefined) {
      throw new SimError("PARSE_ERROR", "logical flow before any Datapath: header", where);
    }
    flows.push({
      datapath: dp,
      pipeline,
      table: Number(m[2]),
      stage: m[3]!,
      priority: Number(m[4]),
      match: m[5]!,
      actions: m[6]!,
      ...(m[1] !== undefined ? { uuid: m[1].padStart(8, "0").slice(0, 8) } : {}),
    });
  }
  return { flows, datapaths };
}

/**
 * Prints flows as `ovn-sbctl lflow-list` does: per datapath and pipeline, sorted by table,
 * then priority (descending), then match and actions. `uuids` adds the `uuid=0x…,` prefix.
 */
export function formatLflowList(
  flows: readonly LogicalFlow[],
  datapathUuids: ReadonlyMap<string, string> = new Map(),
  opts: { readonly uuids?: boolean } = {},
): string {
  const groups = new Map<string, LogicalFlow[]>();
  for (const f of flows) {
    const k = `${f.datapath}\u0000${f.pipeline}`;
    const g = groups.get(k);
    if (g) g.push(f);
    else groups.set(k, [f]);
  }
  const keys = [...groups.keys()].sort((a, b) => {
    const [da, pa] = a.split("\u0000") as [string, string];
    const [db, pb] = b.split("\u0000") as [string, string];
    if (da !== db) return da < db ? -1 : 1;
    return pa === pb ? 0 : pa === "ingress" ? -1 : 1;
  });
  let out = "";
  for (const k of keys) {
    const g = groups.get(k)!;
    const f0 = g[0]!;
    out += `Datapath: "${f0.datapath}" (${datapathUuids.get(f0.datapath) ?? "00000000-0000-0000-0000-000000000000"})  Pipeline: ${f0.pipeline}\n`;
    const sorted = [...g].sort(
      (a, b) =>
        a.table - b.table ||
        b.priority - a.priority ||
        (a.match < b.match ? -1 : a.match > b.match ? 1 : 0) ||
        (a.actions < b.actions ? -1 : a.actions > b.actions ? 1 : 0),
    );
    for (const f of sorted) {
      const uuid = opts.uuids && f.uuid ? `uuid=0x${f.uuid}, ` : "";
      out += `  ${uuid}table=${String(f.table).padEnd(2)}(${f.stage.padEnd(19)}), priority=${String(f.priority).padEnd(5)}, match=(${f.match}), action=(${f.actions})\n`;
    }
  }
  return out;
}
