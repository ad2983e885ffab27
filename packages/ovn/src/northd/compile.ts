/**
 * The northd entry point: NB database + release profile → the southbound Logical_Flow rows of
 * every logical switch, sorted the way `ovn-sbctl lflow-list` sorts them (datapath name,
 * pipeline, table, priority descending, match, actions), and printed in its exact layout.
 * Logical router pipelines are generated for profiles whose router stages are checked
 * (Profile.routers).
 */
import type { LogicalFlow } from "../types.js";
import type { NbDatabase } from "../nb/model.js";
import { rowUuid } from "../nb/model.js";
import { type Profile, type ProfileName, PROFILES } from "./profiles.js";
import { type ChassisFeatures, buildSwitchFlows, prepareSwitch } from "./switch.js";
import { SinkSet, buildRouterFlows, buildSwitchArpResolve, prepareRouter } from "./router.js";

export interface NorthdOptions {
  /**
   * Chassis features. By default they are derived as northd does: all on when there is no
   * chassis (the oracle without ovn-controller), otherwise the AND over every chassis'
   * other_config (`ct-no-masked-label`, `ovn-ct-lb-related`); `ovn-sbctl chassis-add` alone
   * advertises none, so northd falls back to ct_lb / ct_label.blocked.
   */
  readonly features?: Partial<ChassisFeatures>;
}

export interface NorthdResult {
  readonly profile: ProfileName;
  readonly features: ChassisFeatures;
  readonly datapaths: readonly { readonly name: string; readonly uuid: string }[];
  readonly flows: readonly LogicalFlow[];
}

/** What northd's build_chassis_features concludes from the SB Chassis table. */
export function chassisFeatures(db: NbDatabase): ChassisFeatures {
  let ctNoMaskedLabel = true;
  let ctLbRelated = true;
  for (const ch of db.chassis) {
    if (ch.otherConfig["is-remote"] === "true") continue;
    if (ch.otherConfig["ct-no-masked-label"] !== "true") ctNoMaskedLabel = false;
    if (ch.otherConfig["ovn-ct-lb-related"] !== "true") ctLbRelated = false;
  }
  return { ctNoMaskedLabel, ctLbRelated };
}

/** Deterministic SB Datapath_Binding uuid of a switch. */
export function datapathUuid(name: string, nbUuid: string): string {
  let n = 0;
  for (const ch of `${name}/${nbUuid}`) n = (Math.imul(n, 31) + ch.charCodeAt(0)) >>> 0;
  return rowUuid("Datapath_Binding", n);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** lflow-list order (ovn-sbctl sbctl_lflow_cmp). */
export function compareFlows(a: LogicalFlow, b: LogicalFlow): number {
  return (
    cmp(a.datapath, b.datapath) ||
    (a.pipeline === b.pipeline ? 0 : a.pipeline === "ingress" ? -1 : 1) ||
    a.table - b.table ||
    b.priority - a.priority ||
    cmp(a.match, b.match) ||
    cmp(a.actions, b.actions)
  );
}

/** Runs northd for one profile. */
export function northd(
  db: NbDatabase,
  profile: ProfileName | Profile,
  opts: NorthdOptions = {},
): NorthdResult {
  const p = typeof profile === "string" ? PROFILES[profile] : profile;
  const features = { ...chassisFeatures(db), ...opts.features };
  const flows: LogicalFlow[] = [];
  const datapaths: { name: string; uuid: string }[] = [];
  for (const sw of db.switches) {
    const od = prepareSwitch(db, sw);
    datapaths.push({ name: sw.name, uuid: datapathUuid(sw.name, sw.uuid) });
    flows.push(...buildSwitchFlows({ db, profile: p, features }, od));
  }
  if (p.routers) {
    const ctx = { db, profile: p, features };
    const sinks = new SinkSet(ctx);
    const routers = db.routers.filter((r) => r.enabled !== false).map((r) => prepareRouter(db, r));
    for (const od of routers) {
      datapaths.push({ name: od.lr.name, uuid: datapathUuid(od.lr.name, od.lr.uuid) });
      buildRouterFlows(ctx, od, sinks);
    }
    buildSwitchArpResolve(db, routers, sinks);
    flows.push(...sinks.flows());
  }
  flows.sort(compareFlows);
  datapaths.sort((a, b) => cmp(a.name, b.name) || cmp(a.uuid, b.uuid));
  const withUuid = flows.map((f, i) => ({ ...f, uuid: flowUuid(f, i) }));
  return { profile: p.name, features, datapaths, flows: withUuid };
}

function flowUuid(f: LogicalFlow, i: number): string {
  let h = 0x811c9dc5;
  const text = `${f.datapath}|${f.pipeline}|${f.table}|${f.priority}|${f.match}|${f.actions}`;
  for (let k = 0; k < text.length; k++) {
    h ^= text.charCodeAt(k);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  void i;
  return h.toString(16).padStart(8, "0");
}

/** Prints flows exactly as `ovn-sbctl lflow-list` does (one header per datapath+pipeline). */
export function formatLflowList(
  result: Pick<NorthdResult, "flows" | "datapaths">,
  opts: { uuid?: boolean } = {},
): string {
  const out: string[] = [];
  let prev: string | undefined;
  const uuidOf = new Map(result.datapaths.map((d) => [d.name, d.uuid]));
  for (const f of result.flows) {
    const head = `${f.datapath}\u0000${f.pipeline}`;
    if (head !== prev) {
      out.push(
        `Datapath: "${f.datapath}" (${uuidOf.get(f.datapath) ?? "00000000-0000-0000-0000-000000000000"})  Pipeline: ${f.pipeline}`,
      );
      prev = head;
    }
    const table = `${f.table}`.padEnd(2);
    const stage = f.stage.padEnd(19);
    const prio = `${f.priority}`.padEnd(5);
    const u = opts.uuid && f.uuid ? `uuid=0x${f.uuid}, ` : "";
    out.push(`  ${u}table=${table}(${stage}), priority=${prio}, match=(${f.match}), action=(${f.actions})`);
  }
  return out.length > 0 ? `${out.join("\n")}\n` : "";
}

const LINE_RE =
  /^ {2}(?:uuid=0x([0-9a-f]+), )?table=(\d+) *\(([^)]*?) *\), priority=(\d+) *, match=\((.*)\), action=\((.*)\)$/;
const HEAD_RE = /^Datapath: (?:"(.*?)"(?: aka "(.*?)")?)? ?\(([0-9a-f-]+)\) {2}Pipeline: (ingress|egress)$/;

/** Reads `ovn-sbctl lflow-list` output back into records (for goldens and comparisons). */
export function parseLflowList(text: string): LogicalFlow[] {
  const flows: LogicalFlow[] = [];
  let datapath = "";
  let pipeline: "ingress" | "egress" = "ingress";
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const h = HEAD_RE.exec(line);
    if (h) {
      datapath = h[1] ?? h[3] ?? "";
      pipeline = h[4] as "ingress" | "egress";
      continue;
    }
    const m = LINE_RE.exec(line);
    if (!m) continue;
    flows.push({
      datapath,
      pipeline,
      table: Number(m[2]),
      stage: m[3] as string,
      priority: Number(m[4]),
      match: m[5] as string,
      actions: m[6] as string,
      ...(m[1] !== undefined ? { uuid: m[1].slice(0, 8) } : {}),
    });
  }
  return flows;
}
