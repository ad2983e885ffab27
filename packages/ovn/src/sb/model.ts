/**
 * The southbound view ovn-trace works from (upstream `utilities/ovn-trace.c` read_db):
 * datapaths, logical ports with their tunnel keys, types, port security and chassis, multicast
 * groups, address sets, port groups and load-balancer VIPs, plus the logical flows. It is
 * read from a captured bundle (`scripts/capture-sb.sh`) or built from northd's output; what
 * an optional table would say is derived when it is missing, as northd would have written it.
 */
import { SimError } from "@ovnsim/packet";
import { parseBackend } from "../actions/parse.js";
import type { LogicalFlow } from "../types.js";
import { parseLflowList } from "./lflow-list.js";
import { atom, map, type OvsdbRecord, parseOvsdbList, set } from "./ovsdb.js";

export interface SbDatapath {
  readonly name: string;
  readonly uuid: string;
  readonly tunnelKey: number;
}

export interface SbPort {
  readonly name: string;
  readonly datapath: string;
  readonly type: string;
  readonly tunnelKey: number;
  /** Port_Binding.mac entries ("MAC IP…", "unknown", "router"). */
  readonly mac: readonly string[];
  readonly portSecurity: readonly string[];
  readonly options: ReadonlyMap<string, string>;
  /** Name (or uuid, when no Chassis table was captured) of the chassis the port is bound to. */
  readonly chassis?: string;
}

export interface SbMcGroup {
  readonly datapath: string;
  readonly name: string;
  readonly tunnelKey: number;
  readonly ports: readonly string[];
}

export interface SbVip {
  readonly family: 4 | 6;
  readonly ip4: number;
  readonly ip6: bigint;
  readonly port: number;
  readonly text: string;
}

export interface SbMacBinding {
  readonly datapath: string;
  readonly logicalPort: string;
  /** Address text as stored ("10.0.0.1", "fd00::1"). */
  readonly ip: string;
  readonly mac: string;
}

export interface SbFdb {
  readonly dpKey: number;
  readonly portKey: number;
  readonly mac: string;
}

export interface SbModel {
  readonly flows: readonly LogicalFlow[];
  readonly datapaths: readonly SbDatapath[];
  readonly ports: readonly SbPort[];
  readonly mcGroups: readonly SbMcGroup[];
  readonly addressSets: ReadonlyMap<string, readonly string[]>;
  readonly portGroups: ReadonlyMap<string, readonly string[]>;
  readonly vips: readonly SbVip[];
  /** SB MAC_Binding rows (get_arp/lookup_arp find them); none on a fresh SB. */
  readonly macBindings?: readonly SbMacBinding[];
  /** SB FDB rows (get_fdb/lookup_fdb find them); none on a fresh SB. */
  readonly fdbs?: readonly SbFdb[];
  /** Which optional tables were derived rather than read. */
  readonly derived: readonly string[];
}

/** The text files of a southbound bundle, by file name (see `scripts/capture-sb.sh`). */
export type SbFiles = Readonly<Record<string, string | undefined>>;

/** Multicast group tunnel keys as ovn-northd assigns them (northd.c OVN_MCAST_*). */
export const MC_KEYS = {
  _MC_flood: 32768,
  _MC_unknown: 32769,
  _MC_mrouter_flood: 32770,
  _MC_static: 32771,
  _MC_flood_l2: 32772,
} as const;

/** Multicast groups northd would write for a switch's ports (when no capture is given). */
export function deriveMcGroups(datapaths: readonly SbDatapath[], ports: readonly SbPort[]): SbMcGroup[] {
  const out: SbMcGroup[] = [];
  for (const dp of datapaths) {
    const mine = ports.filter((p) => p.datapath === dp.name);
    const groups: [keyof typeof MC_KEYS, SbPort[]][] = [
      ["_MC_flood", mine],
      ["_MC_unknown", mine.filter((p) => p.mac.some((m) => m.trim() === "unknown"))],
      // Router ports stay out of flood_l2 whatever their binding type (l3gateway when the
      // peer is a gateway router).
      [
        "_MC_flood_l2",
        mine.filter((p) => p.type !== "patch" && p.type !== "router" && p.type !== "l3gateway"),
      ],
    ];
    for (const [name, ps] of groups) {
      if (ps.length === 0) continue;
      out.push({ datapath: dp.name, name, tunnelKey: MC_KEYS[name], ports: ps.map((p) => p.name) });
    }
  }
  return out;
}

/** LB VIPs as ovn-trace's get_lb_vip_data sees them, derived from ls_in_lb ct_lb flows. */
export function deriveVips(flows: readonly LogicalFlow[]): SbVip[] {
  const seen = new Map<string, SbVip>();
  for (const f of flows) {
    if (!/ct_lb(_mark)?\(backends=/.test(f.actions)) continue;
    const ip = /ip[46]\.dst == ([0-9a-fA-F:.]+)/.exec(f.match);
    if (!ip) continue;
    const port = /(?:tcp|udp|sctp)\.dst == (\d+)/.exec(f.match);
    const text = ip[1]!.includes(":") ? `[${ip[1]}]:${port?.[1] ?? 0}` : `${ip[1]}:${port?.[1] ?? 0}`;
    const be = parseBackend(text);
    if (be) seen.set(text, { ...be, text: port ? text : ip[1]! });
  }
  return [...seen.values()];
}

function recordsOf(files: SbFiles, name: string): OvsdbRecord[] | undefined {
  const text = files[name];
  return text === undefined ? undefined : parseOvsdbList(text, name);
}

function int(r: OvsdbRecord, col: string, file: string): number {
  const s = atom(r, col);
  if (!/^\d+$/.test(s)) throw new SimError("PARSE_ERROR", `${file}: column ${col} "${s}" is not an integer`);
  return Number(s);
}

/**
 * Reads a southbound bundle: `lflow-list.txt` and `port-binding.txt` (required),
 * `datapath-binding.txt` (required when more than one datapath), and the optional
 * `multicast-group.txt`, `chassis.txt`, `address-set.txt`, `port-group.txt`,
 * `load-balancer.txt`, `logical-flow.txt` (source hints and tie order), `mac-binding.txt`, `fdb.txt`.
 */
export function readSbBundle(files: SbFiles): SbModel {
  const lflowText = files["lflow-list.txt"];
  if (lflowText === undefined) throw new SimError("UNKNOWN_OBJECT", "SB bundle: lflow-list.txt is missing");
  const listing = parseLflowList(lflowText, "lflow-list.txt");
  const derived: string[] = [];

  // Datapaths.
  const dpRecs = recordsOf(files, "datapath-binding.txt");
  const datapaths: SbDatapath[] = [];
  const dpByUuid = new Map<string, SbDatapath>();
  if (dpRecs) {
    for (const r of dpRecs) {
      const ids = map(r, "external_ids");
      const uuid = atom(r, "_uuid");
      const name = ids.get("name2") ?? ids.get("name") ?? uuid;
      const dp = { name, uuid, tunnelKey: int(r, "tunnel_key", "datapath-binding.txt") };
      datapaths.push(dp);
      dpByUuid.set(uuid, dp);
    }
  } else {
    derived.push("datapath-binding");
    let k = 1;
    for (const [name, uuid] of listing.datapaths) {
      const dp = { name, uuid, tunnelKey: k++ };
      datapaths.push(dp);
      dpByUuid.set(uuid, dp);
    }
  }

  // Chassis names.
  const chRecs = recordsOf(files, "chassis.txt");
  const chassisName = new Map<string, string>();
  if (chRecs)
    for (const r of chRecs) chassisName.set(atom(r, "_uuid"), atom(r, "name") || atom(r, "hostname"));
  else derived.push("chassis");

  // Ports.
  const pbRecs = recordsOf(files, "port-binding.txt");
  if (!pbRecs) throw new SimError("UNKNOWN_OBJECT", "SB bundle: port-binding.txt is missing");
  const ports: SbPort[] = [];
  const portByUuid = new Map<string, SbPort>();
  for (const r of pbRecs) {
    const dpUuid = atom(r, "datapath");
    const dp = dpByUuid.get(dpUuid) ?? (datapaths.length === 1 ? datapaths[0] : undefined);
    if (!dp)
      throw new SimError(
        "UNKNOWN_OBJECT",
        `port-binding.txt: datapath ${dpUuid} of port ${atom(r, "logical_port")} is unknown`,
      );
    const ch = atom(r, "chassis");
    const port: SbPort = {
      name: atom(r, "logical_port"),
      datapath: dp.name,
      type: atom(r, "type"),
      tunnelKey: int(r, "tunnel_key", "port-binding.txt"),
      mac: set(r, "mac"),
      portSecurity: set(r, "port_security"),
      options: map(r, "options"),
      ...(ch ? { chassis: chassisName.get(ch) ?? ch } : {}),
    };
    ports.push(port);
    portByUuid.set(atom(r, "_uuid"), port);
  }

  // Multicast groups.
  const mcRecs = recordsOf(files, "multicast-group.txt");
  let mcGroups: SbMcGroup[];
  if (mcRecs) {
    mcGroups = mcRecs.map((r) => ({
      datapath: dpByUuid.get(atom(r, "datapath"))?.name ?? datapaths[0]?.name ?? "",
      name: atom(r, "name"),
      tunnelKey: int(r, "tunnel_key", "multicast-group.txt"),
      ports: set(r, "ports")
        .map((u) => portByUuid.get(u)?.name ?? u)
        .sort(),
    }));
  } else {
    derived.push("multicast-group");
    mcGroups = deriveMcGroups(datapaths, ports);
  }

  const named = (file: string, col: string): Map<string, readonly string[]> => {
    const recs = recordsOf(files, file);
    const m = new Map<string, readonly string[]>();
    if (!recs) derived.push(file.replace(/\.txt$/, ""));
    for (const r of recs ?? []) m.set(atom(r, "name"), set(r, col));
    return m;
  };
  const addressSets = named("address-set.txt", "addresses");
  const portGroups = named("port-group.txt", "ports");

  const lbRecs = recordsOf(files, "load-balancer.txt");
  let vips: SbVip[];
  if (lbRecs) {
    vips = [];
    for (const r of lbRecs) {
      for (const k of map(r, "vips").keys()) {
        const be = parseBackend(k);
        if (be) vips.push({ ...be, text: k });
      }
    }
  } else {
    derived.push("load-balancer");
    vips = deriveVips(listing.flows);
  }

  const mbRecs = recordsOf(files, "mac-binding.txt");
  const macBindings: SbMacBinding[] = (mbRecs ?? []).map((r) => ({
    datapath: dpByUuid.get(atom(r, "datapath"))?.name ?? datapaths[0]?.name ?? "",
    logicalPort: atom(r, "logical_port"),
    ip: atom(r, "ip"),
    mac: atom(r, "mac"),
  }));
  const fdbRecs = recordsOf(files, "fdb.txt");
  const fdbs: SbFdb[] = (fdbRecs ?? []).map((r) => ({
    dpKey: int(r, "dp_key", "fdb.txt"),
    portKey: int(r, "port_key", "fdb.txt"),
    mac: atom(r, "mac"),
  }));

  // Source hints (northd.c:NNNN) from `ovn-sbctl list Logical_Flow`, joined by uuid.
  let flows = listing.flows;
  const lfRecs = recordsOf(files, "logical-flow.txt");
  if (lfRecs) {
    const hints = new Map<string, { source?: string; uuid: string }>();
    for (const r of lfRecs) {
      const uuid = atom(r, "_uuid");
      const src = map(r, "external_ids").get("source");
      hints.set(uuid.slice(0, 8), { uuid, ...(src ? { source: src } : {}) });
    }
    flows = flows.map((f) => {
      const h = f.uuid ? hints.get(f.uuid) : undefined;
      return h?.source ? { ...f, hint: h.source } : f;
    });
    // ovn-trace breaks priority ties by the order its IDL iterates the table, which is the
    // order `ovn-sbctl list Logical_Flow` prints: keep the flows in that order.
    const order = new Map<string, number>();
    let i = 0;
    for (const k of hints.keys()) order.set(k, i++);
    flows = flows
      .map((f, j) => ({ f, k: (f.uuid !== undefined ? order.get(f.uuid) : undefined) ?? i + j }))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.f);
  }
  return { flows, datapaths, ports, mcGroups, addressSets, portGroups, vips, macBindings, fdbs, derived };
}
