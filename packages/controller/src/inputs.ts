/**
 * The two inputs ovn-controller works from, read from text a user can capture: the chassis's
 * Open vSwitch configuration (`scripts/capture-node.sh`: `ovs-vsctl list Interface`, `list
 * Bridge`, the Open_vSwitch external_ids) and the southbound rows it needs beyond what
 * ovn-trace reads (`scripts/capture-sb.sh`: Chassis, Encap, Port_Binding uuids and chassis).
 * Like the real daemon, the model reads the node's configuration, never br-int's flows.
 */
import { parseVsctlShow } from "@ovnsim/openflow";
import { type OvsdbRecord, parseOvsdbList, type SbFiles } from "@ovnsim/ovn";
import { SimError } from "@ovnsim/packet";

export interface NodeInterface {
  readonly name: string;
  /** The bridge whose port this interface is (from ovs-vsctl show); undefined if not shown. */
  readonly bridge?: string;
  readonly type: string;
  /** OpenFlow port number; undefined while OVS has not assigned one (ofport [] or -1). */
  readonly ofport?: number;
  readonly externalIds: ReadonlyMap<string, string>;
  readonly options: ReadonlyMap<string, string>;
  /** bfd_status:forwarding (a tunnel whose BFD session is up); false when absent. */
  readonly bfdForwarding: boolean;
}

export interface NodeBridge {
  readonly name: string;
  readonly externalIds: ReadonlyMap<string, string>;
}

export interface NodeConfig {
  /** Open_vSwitch external_ids: system-id, ovn-bridge-mappings, ovn-encap-type / -ip. */
  readonly externalIds: ReadonlyMap<string, string>;
  readonly interfaces: readonly NodeInterface[];
  readonly bridges: readonly NodeBridge[];
}

export interface SbChassis {
  readonly uuid: string;
  readonly name: string;
  readonly encaps: readonly { readonly type: string; readonly ip: string }[];
}

export interface SbPortRow {
  readonly uuid: string;
  readonly logicalPort: string;
  /** Chassis name (resolved through Chassis when captured, else its uuid). */
  readonly chassis?: string;
  readonly type: string;
  readonly tag?: number;
  readonly options: ReadonlyMap<string, string>;
  /** Its HA_Chassis_Group's members, highest priority first (ha_chassis_get_ordered). */
  readonly haChassis?: readonly { readonly chassis: string; readonly priority: number }[];
}

/** A southbound Meter with its bands (what ovn-controller installs as an OpenFlow meter). */
export interface SbMeter {
  readonly name: string;
  readonly unit: "kbps" | "pktps";
  readonly bands: readonly { readonly action: string; readonly rate: number; readonly burst: number }[];
}

export interface SbLoadBalancer {
  readonly uuid: string;
  readonly name: string;
  readonly protocol: string;
  /** VIP text ("10.0.0.1:80") → backends text ("10.0.0.2:80,…"). */
  readonly vips: ReadonlyMap<string, string>;
  readonly options: ReadonlyMap<string, string>;
}

/** A MAC_Binding (learned) or Static_MAC_Binding row: an IP's MAC behind a logical port. */
export interface SbNeighbor {
  readonly uuid: string;
  readonly logicalPort: string;
  readonly ip: string;
  readonly mac: string;
  /** Static_MAC_Binding rows only: override_dynamic_mac. */
  readonly static?: { readonly override: boolean };
}

export interface SbExtras {
  /** SB_Global options (northd → ovn-controller settings), empty when not captured. */
  readonly sbGlobalOptions: ReadonlyMap<string, string>;
  /** Logical_Flow tags:in_out_port by the first 8 hex digits of the flow's uuid. */
  readonly inOutPort: ReadonlyMap<string, string>;
  readonly loadBalancers: readonly SbLoadBalancer[];
  readonly chassis: readonly SbChassis[];
  readonly ports: ReadonlyMap<string, SbPortRow>;
  /** Multicast_Group uuid by "<datapath uuid>/<name>". */
  readonly mcGroupUuids: ReadonlyMap<string, string>;
  /** MAC_Binding rows, then Static_MAC_Binding rows (tables 66 / 67). */
  readonly neighbors: readonly SbNeighbor[];
  /** Datapath_Binding uuid by tunnel key. */
  readonly datapathUuids: ReadonlyMap<number, string>;
  /** Meter rows by name. */
  readonly meters: ReadonlyMap<string, SbMeter>;
  /** Logical_Flow controller_meter (CoPP) by the first 8 hex digits of the flow's uuid. */
  readonly controllerMeters: ReadonlyMap<string, string>;
}

const str = (r: OvsdbRecord, c: string): string => {
  const v = r.get(c);
  if (!v) return "";
  if (v.kind === "atom") return v.s;
  if (v.kind === "set") return v.xs[0] ?? "";
  return "";
};
const strs = (r: OvsdbRecord, c: string): string[] => {
  const v = r.get(c);
  if (!v) return [];
  if (v.kind === "set") return [...v.xs];
  return v.kind === "atom" && v.s !== "" ? [v.s] : [];
};
const smap = (r: OvsdbRecord, c: string): ReadonlyMap<string, string> => {
  const v = r.get(c);
  return v?.kind === "map" ? v.m : new Map();
};

/** Parses `ovs-vsctl get Open_vSwitch . external_ids` (`{k=v, …}`). */
export function parseExternalIds(
  text: string,
  file = "open-vswitch-external-ids.txt",
): ReadonlyMap<string, string> {
  const t = text.trim();
  if (t === "" || t === "{}") return new Map();
  if (!t.startsWith("{") || !t.endsWith("}"))
    throw new SimError("PARSE_ERROR", `expecting {key=value, …}, got "${t.slice(0, 40)}"`, { file, line: 1 });
  const recs = parseOvsdbList(`external_ids : ${t}\n`, file);
  return smap(recs[0]!, "external_ids");
}

function ofportOf(r: OvsdbRecord): number | undefined {
  const s = str(r, "ofport");
  if (!/^-?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n > 0 && n < 0xff00 ? n : undefined;
}

/** Reads a node bundle (file name → text), as `scripts/capture-node.sh` writes it. */
export function readNodeBundle(files: SbFiles): NodeConfig {
  const ifText = files["interfaces.txt"];
  if (ifText === undefined)
    throw new SimError("UNKNOWN_OBJECT", "node bundle: interfaces.txt (ovs-vsctl list Interface) is missing");
  const bridgeOf = new Map<string, string>();
  const show = files["ovs-vsctl-show.txt"];
  if (show !== undefined)
    for (const b of parseVsctlShow(show, "ovs-vsctl-show.txt"))
      for (const p of b.ports) bridgeOf.set(p.name, b.name);
  const interfaces = parseOvsdbList(ifText, "interfaces.txt").map((r) => {
    const ofport = ofportOf(r);
    const bridge = bridgeOf.get(str(r, "name"));
    return {
      name: str(r, "name"),
      ...(bridge !== undefined ? { bridge } : {}),
      type: str(r, "type"),
      ...(ofport !== undefined ? { ofport } : {}),
      externalIds: smap(r, "external_ids"),
      options: smap(r, "options"),
      bfdForwarding: smap(r, "bfd_status").get("forwarding") === "true",
    };
  });
  const bridges = parseOvsdbList(files["bridges.txt"] ?? "", "bridges.txt").map((r) => ({
    name: str(r, "name"),
    externalIds: smap(r, "external_ids"),
  }));
  const ext = files["open-vswitch-external-ids.txt"];
  return { externalIds: ext === undefined ? new Map() : parseExternalIds(ext), interfaces, bridges };
}

/** Reads the southbound rows ovn-controller needs that ovn-trace's model does not keep. */
export function readSbExtras(files: SbFiles): SbExtras {
  const encaps = new Map<string, { type: string; ip: string }>();
  for (const r of parseOvsdbList(files["encap.txt"] ?? "", "encap.txt"))
    encaps.set(str(r, "_uuid"), { type: str(r, "type"), ip: str(r, "ip") });
  const chassis = parseOvsdbList(files["chassis.txt"] ?? "", "chassis.txt").map((r) => ({
    uuid: str(r, "_uuid"),
    name: str(r, "name"),
    encaps: strs(r, "encaps").flatMap((u) => {
      const e = encaps.get(u);
      return e ? [e] : [];
    }),
  }));
  const chassisName = new Map(chassis.map((c) => [c.uuid, c.name]));
  // HA_Chassis rows name their chassis by uuid (external_ids:chassis-name as a fallback).
  const haChassis = new Map<string, { chassis: string; priority: number }>();
  for (const r of parseOvsdbList(files["ha-chassis.txt"] ?? "", "ha-chassis.txt")) {
    const ch = str(r, "chassis");
    const name = chassisName.get(ch) ?? smap(r, "external_ids").get("chassis-name") ?? ch;
    haChassis.set(str(r, "_uuid"), { chassis: name, priority: Number(str(r, "priority")) || 0 });
  }
  const haGroups = new Map<string, { chassis: string; priority: number }[]>();
  for (const r of parseOvsdbList(files["ha-chassis-group.txt"] ?? "", "ha-chassis-group.txt")) {
    const members = strs(r, "ha_chassis").flatMap((u) => {
      const m = haChassis.get(u);
      return m ? [m] : [];
    });
    // ha_chassis_get_ordered: highest priority first, ties by chassis name.
    members.sort((a, b) => b.priority - a.priority || (a.chassis < b.chassis ? -1 : 1));
    haGroups.set(str(r, "_uuid"), members);
  }
  const ports = new Map<string, SbPortRow>();
  for (const r of parseOvsdbList(files["port-binding.txt"] ?? "", "port-binding.txt")) {
    const ch = str(r, "chassis");
    const tag = str(r, "tag");
    const name = str(r, "logical_port");
    const ha = haGroups.get(str(r, "ha_chassis_group"));
    ports.set(name, {
      uuid: str(r, "_uuid"),
      logicalPort: name,
      ...(ch ? { chassis: chassisName.get(ch) ?? ch } : {}),
      type: str(r, "type"),
      ...(/^\d+$/.test(tag) ? { tag: Number(tag) } : {}),
      options: smap(r, "options"),
      ...(ha ? { haChassis: ha } : {}),
    });
  }
  const mcGroupUuids = new Map<string, string>();
  for (const r of parseOvsdbList(files["multicast-group.txt"] ?? "", "multicast-group.txt"))
    mcGroupUuids.set(`${str(r, "datapath")}/${str(r, "name")}`, str(r, "_uuid"));
  const datapathUuids = new Map<number, string>();
  for (const r of parseOvsdbList(files["datapath-binding.txt"] ?? "", "datapath-binding.txt"))
    datapathUuids.set(Number(str(r, "tunnel_key")), str(r, "_uuid"));
  const loadBalancers = parseOvsdbList(files["load-balancer.txt"] ?? "", "load-balancer.txt").map((r) => ({
    uuid: str(r, "_uuid"),
    name: str(r, "name"),
    protocol: str(r, "protocol") || "tcp",
    vips: smap(r, "vips"),
    options: smap(r, "options"),
  }));
  const inOutPort = new Map<string, string>();
  for (const r of parseOvsdbList(files["logical-flow.txt"] ?? "", "logical-flow.txt")) {
    const port = smap(r, "tags").get("in_out_port");
    if (port !== undefined) inOutPort.set(str(r, "_uuid").slice(0, 8), port);
  }
  const neighbors: SbNeighbor[] = [];
  for (const r of parseOvsdbList(files["mac-binding.txt"] ?? "", "mac-binding.txt"))
    neighbors.push({
      uuid: str(r, "_uuid"),
      logicalPort: str(r, "logical_port"),
      ip: str(r, "ip"),
      mac: str(r, "mac"),
    });
  for (const r of parseOvsdbList(files["static-mac-binding.txt"] ?? "", "static-mac-binding.txt"))
    neighbors.push({
      uuid: str(r, "_uuid"),
      logicalPort: str(r, "logical_port"),
      ip: str(r, "ip"),
      mac: str(r, "mac"),
      static: { override: str(r, "override_dynamic_mac") === "true" },
    });
  const bands = new Map<string, { action: string; rate: number; burst: number }>();
  for (const r of parseOvsdbList(files["meter-band.txt"] ?? "", "meter-band.txt"))
    bands.set(str(r, "_uuid"), {
      action: str(r, "action") || "drop",
      rate: Number(str(r, "rate")) || 0,
      burst: Number(str(r, "burst_size")) || 0,
    });
  const meters = new Map<string, SbMeter>();
  for (const r of parseOvsdbList(files["meter.txt"] ?? "", "meter.txt"))
    meters.set(str(r, "name"), {
      name: str(r, "name"),
      unit: str(r, "unit") === "kbps" ? "kbps" : "pktps",
      bands: strs(r, "bands").flatMap((u) => {
        const b = bands.get(u);
        return b ? [b] : [];
      }),
    });
  const controllerMeters = new Map<string, string>();
  for (const r of parseOvsdbList(files["controller-meter.txt"] ?? "", "controller-meter.txt")) {
    const m = str(r, "controller_meter");
    if (m) controllerMeters.set(str(r, "_uuid").slice(0, 8), m);
  }
  const sbg = parseOvsdbList(files["sb-global.txt"] ?? "", "sb-global.txt")[0];
  const sbGlobalOptions = sbg ? smap(sbg, "options") : new Map<string, string>();
  return {
    chassis,
    ports,
    mcGroupUuids,
    datapathUuids,
    loadBalancers,
    inOutPort,
    sbGlobalOptions,
    neighbors,
    meters,
    controllerMeters,
  };
}

/** The first 32 bits of a row uuid as the cookie ovn-controller gives the flows it derives from it. */
export function uuidCookie(uuid: string): bigint {
  const h = uuid.replace(/^0x/, "").slice(0, 8);
  return /^[0-9a-f]{1,8}$/i.test(h) ? BigInt(`0x${h}`) : 0n;
}
