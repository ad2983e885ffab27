/**
 * A node's OVS state from the text users can capture with standard commands (see
 * scripts/capture-bundle.sh): `ovs-vsctl show`, `ovs-vsctl list Interface` (full names and
 * OpenFlow numbers), `ovs-ofctl -O OpenFlow15 show BR`, `dump-flows`, `dump-groups`, and
 * optionally `ovs-appctl dpif/show` (datapath port numbers). Each reader is a pure function of
 * text; `loadBundle` reads a directory.
 *
 * Port numbers come from the sources that carry full names (Interface list, then dpif/show);
 * `ovs-ofctl show` truncates names to 15 bytes, so it only cross-checks them — and is used
 * alone only where its truncated name designates one port unambiguously.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MacTable, type VlanMode } from "@ovnsim/l2";
import { parseMac, SimError } from "@ovnsim/packet";
import { Bridge, type OfPort, OFPP_LOCAL, parseFlows, parseGroups, Switch } from "./model.js";
import { ofTruncatedName, parsablePortNames } from "./portnames.js";
import { parseMeters } from "./meter.js";
import { parseTlvMap } from "./tlv.js";
import { TUNNEL_TYPES, tunnelConfig } from "./tunnel.js";

/** The bundle file holding `ovs-vsctl list Interface`. */
export const INTERFACES_FILE = "ovs-vsctl-list-interface.txt";
/** The bundle file holding `ovs-vsctl list Port`. */
export const PORTS_FILE = "ovs-vsctl-list-port.txt";

export interface VsctlPort {
  readonly name: string;
  readonly type: string;
  readonly peer?: string;
  readonly tag?: number;
  readonly trunks?: readonly number[];
  readonly vlanMode?: VlanMode;
  readonly ofportRequest?: number;
  /** Interface `options` as `ovs-vsctl show` prints them (tunnels: remote_ip, key, ...). */
  readonly options?: Readonly<Record<string, string>>;
}

export interface VsctlBridge {
  readonly name: string;
  readonly ports: readonly VsctlPort[];
}

/** Reads `ovs-vsctl show`: bridges, their ports' interface type, patch peer, tag and trunks. */
export function parseVsctlShow(text: string, file?: string): VsctlBridge[] {
  const bridges: { name: string; ports: VsctlPort[] }[] = [];
  let port: {
    name: string;
    type: string;
    peer?: string;
    tag?: number;
    trunks?: number[];
    vlanMode?: VlanMode;
    options?: Record<string, string>;
  } | null = null;
  const flush = (): void => {
    if (port && bridges.length) bridges[bridges.length - 1]!.ports.push(port);
    port = null;
  };
  text.split("\n").forEach((raw, i) => {
    const line = raw.trimEnd();
    const br = /^\s*Bridge\s+(\S.*)$/.exec(line);
    const pt = /^\s*Port\s+(\S.*)$/.exec(line);
    if (br) {
      flush();
      bridges.push({ name: ovsdbString(br[1]!), ports: [] });
      return;
    }
    if (pt) {
      flush();
      if (!bridges.length) {
        throw new SimError("PARSE_ERROR", "Port before any Bridge", {
          ...(file ? { file } : {}),
          line: i + 1,
        });
      }
      port = { name: ovsdbString(pt[1]!), type: "" };
      return;
    }
    if (!port) return;
    const tag = /^\s*tag:\s*(\d+)$/.exec(line);
    const trunks = /^\s*trunks:\s*\[([\d,\s]*)\]$/.exec(line);
    const mode = /^\s*vlan_mode:\s*(\S+)$/.exec(line);
    const type = /^\s*type:\s*(\S+)$/.exec(line);
    const options = /^\s*options:\s*\{(.*)\}$/.exec(line);
    if (tag) port.tag = Number(tag[1]);
    else if (trunks)
      port.trunks = trunks[1]!
        .split(",")
        .filter((s) => s.trim() !== "")
        .map((s) => Number(s.trim()));
    else if (mode) port.vlanMode = mode[1] as VlanMode;
    else if (type) port.type = type[1]!;
    else if (options) {
      port.options = parseOvsdbMap(options[1]!);
      const peer = port.options.peer;
      if (peer !== undefined) port.peer = peer;
    }
  });
  flush();
  return bridges;
}

/** An OVSDB string as ovs-vsctl prints it: bare, or double-quoted with C/JSON escapes. */
function ovsdbString(text: string): string {
  const t = text.trim();
  if (t.length >= 2 && t.startsWith('"') && t.endsWith('"')) {
    try {
      const v: unknown = JSON.parse(t);
      if (typeof v === "string") return v;
    } catch {
      // not JSON: keep the inner text as printed
    }
    return t.slice(1, -1);
  }
  return t;
}

/** Splits at commas outside double quotes. */
function splitOutsideQuotes(text: string): string[] {
  const out: string[] = [];
  let cur = "";
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\\" && q && i + 1 < text.length) {
      cur += c + text[++i]!;
      continue;
    }
    if (c === '"') q = !q;
    if (c === "," && !q) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x !== "");
}

/** An OVSDB map as ovs-vsctl prints it, without its braces: `key=flow, remote_ip="192.0.2.1"`. */
export function parseOvsdbMap(inner: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of splitOutsideQuotes(inner)) {
    const eq = item.indexOf("=");
    if (eq <= 0) continue;
    out[ovsdbString(item.slice(0, eq))] = ovsdbString(item.slice(eq + 1));
  }
  return out;
}

export interface VsctlInterface {
  readonly name: string;
  /** OpenFlow port number; undefined when not assigned (`[]`) or failed (-1). */
  readonly ofport?: number;
  readonly type?: string;
  readonly mac?: number;
  readonly options?: Readonly<Record<string, string>>;
}

/**
 * The records of an `ovs-vsctl list TABLE` in its default `column : value` form, whole or
 * with any `--columns=` selection (records separated by blank lines).
 */
export function parseOvsdbRecords(text: string, file?: string): Map<string, string>[] {
  const out: Map<string, string>[] = [];
  let rec: Map<string, string> | null = null;
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (line.trim() === "") {
      rec = null;
      return;
    }
    const m = /^([a-z_]+)\s*:\s?(.*)$/.exec(line);
    if (!m) {
      throw new SimError("PARSE_ERROR", `"${line.slice(0, 60)}": not a "column : value" line`, {
        ...(file ? { file } : {}),
        line: i + 1,
      });
    }
    if (!rec) {
      rec = new Map();
      rec.set("", String(i + 1)); // where the record starts, for errors
      out.push(rec);
    }
    rec.set(m[1]!, m[2]!);
  });
  return out;
}

function recordName(rec: Map<string, string>, what: string, file?: string): string {
  const name = rec.get("name");
  if (name === undefined) {
    throw new SimError("PARSE_ERROR", `${what} record without a name column`, {
      ...(file ? { file } : {}),
      line: Number(rec.get("")),
    });
  }
  return ovsdbString(name);
}

/**
 * Reads `ovs-vsctl list Interface` (see parseOvsdbRecords). Interface names are unique in the
 * database, so the list needs no bridge to be read.
 */
export function parseVsctlListInterface(text: string, file?: string): VsctlInterface[] {
  return parseOvsdbRecords(text, file).map((rec) => {
    const iface: {
      name: string;
      ofport?: number;
      type?: string;
      mac?: number;
      options?: Record<string, string>;
    } = { name: recordName(rec, "Interface", file) };
    const of = rec.get("ofport");
    if (of !== undefined && /^\d+$/.test(of.trim()) && Number(of) > 0 && Number(of) <= 0xffff)
      iface.ofport = Number(of);
    const type = rec.get("type");
    if (type !== undefined) iface.type = ovsdbString(type);
    const mac = rec.get("mac_in_use");
    if (mac !== undefined && /^"?[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}"?$/.test(mac.trim()))
      iface.mac = parseMac(ovsdbString(mac));
    const opts = rec.get("options");
    if (opts !== undefined && /^\{.*\}$/.test(opts.trim()))
      iface.options = parseOvsdbMap(opts.trim().slice(1, -1));
    return iface;
  });
}

export interface VsctlPortRecord {
  readonly name: string;
  readonly tag?: number;
  readonly trunks?: readonly number[];
  readonly vlanMode?: VlanMode;
}

const VLAN_MODES: ReadonlySet<string> = new Set([
  "access",
  "trunk",
  "native-tagged",
  "native-untagged",
  "dot1q-tunnel",
]);

/**
 * Reads `ovs-vsctl list Port` (name, tag, trunks, vlan_mode): `ovs-vsctl show` prints tag and
 * trunks but never vlan_mode, which NORMAL needs.
 */
export function parseVsctlListPort(text: string, file?: string): VsctlPortRecord[] {
  return parseOvsdbRecords(text, file).map((rec) => {
    const name = recordName(rec, "Port", file);
    const p: { name: string; tag?: number; trunks?: number[]; vlanMode?: VlanMode } = { name };
    const tag = rec.get("tag")?.trim();
    if (tag !== undefined && /^\d{1,4}$/.test(tag) && Number(tag) < 4096) p.tag = Number(tag);
    const trunks = /^\[([\d,\s]*)\]$/.exec(rec.get("trunks")?.trim() ?? "");
    if (trunks && trunks[1]!.trim() !== "")
      p.trunks = trunks[1]!.split(",").map((x) => Number(x.trim()) & 0xfff);
    const mode = ovsdbString(rec.get("vlan_mode") ?? "[]");
    if (VLAN_MODES.has(mode)) p.vlanMode = mode as VlanMode;
    return p;
  });
}

export interface OfctlPort {
  readonly ofport: number;
  /** Name as printed (OpenFlow truncates to 15 characters). */
  readonly name: string;
  readonly mac: number;
  /**
   * false when an OpenFlow 1.4+ `show` (the first version with OFPPS_LIVE) prints the port's
   * `state:` without LIVE; otherwise absent.
   */
  readonly live?: false;
}

/** Reads `ovs-ofctl [-O OpenFlow15] show BR`: ` 1(eth0): addr:aa:55:…`, ` LOCAL(br): addr:…`. */
export function parseOfctlShow(text: string): OfctlPort[] {
  const out: OfctlPort[] = [];
  const version = /^OFPT_FEATURES_REPLY \(OF1\.(\d)\)/m.exec(text);
  const hasLive = version !== null && Number(version[1]) >= 4;
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+|LOCAL)\((.*)\): addr:([0-9a-fA-F:]{17})\s*$/.exec(line);
    const st = /^\s+state:\s*(.*)$/.exec(line);
    if (st && hasLive && out.length && !/\bLIVE\b/.test(st[1]!))
      out[out.length - 1] = { ...out[out.length - 1]!, live: false };
    if (!m) continue;
    out.push({ ofport: m[1] === "LOCAL" ? OFPP_LOCAL : Number(m[1]), name: m[2]!, mac: parseMac(m[3]!) });
  }
  return out;
}

export interface DpifPort {
  readonly ofport: number;
  readonly dpPort: number | null;
  /** The netdev type the datapath reports (`dummy`, `geneve`, `patch`, ...), when printed. */
  readonly type?: string;
  /** What follows the type (`key=flow, remote_ip=…` for a real tunnel vport), when printed. */
  readonly config?: string;
}

/** Reads `ovs-appctl dpif/show`: bridge → port name → {ofport, dpPort, type}. */
export function parseDpifShow(text: string): Map<string, Map<string, DpifPort>> {
  const out = new Map<string, Map<string, DpifPort>>();
  let cur: Map<string, DpifPort> | null = null;
  for (const line of text.split("\n")) {
    const br = /^ {2}(\S+):\s*$/.exec(line);
    const pt = /^ {4}(\S+) (\d+)\/(\d+|none):(?:\s*\(([^:)]+)(?::\s*(.*))?\))?/.exec(line);
    if (br) {
      cur = new Map();
      out.set(br[1]!, cur);
    } else if (cur && pt) {
      cur.set(pt[1]!, {
        ofport: Number(pt[2]),
        dpPort: pt[3] === "none" ? null : Number(pt[3]),
        ...(pt[4] !== undefined ? { type: pt[4].trim() } : {}),
        ...(pt[5] !== undefined ? { config: pt[5].trim() } : {}),
      });
    }
  }
  return out;
}

/**
 * Reads `ovs-appctl fdb/show BRIDGE` into a MAC table (entries learned at time 0, static ones
 * static), so NORMAL forwards to learned ports as on the captured node.
 */
export function parseFdbShow(text: string): MacTable {
  const t = new MacTable();
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+|LOCAL)\s+(\d+)\s+([0-9a-fA-F:]{17})\s+(\d+|static)\s*$/.exec(line);
    if (!m) continue;
    const port = m[1] === "LOCAL" ? OFPP_LOCAL : Number(m[1]);
    if (m[4] === "static") t.addStatic(Number(m[2]), parseMac(m[3]!), port);
    else t.learn(Number(m[2]), parseMac(m[3]!), port, 0);
  }
  return t;
}

export interface BundleFiles {
  readonly vsctlShow: string;
  /** Per bridge: `ovs-ofctl show` text (optional), flows, groups (optional). */
  readonly bridges: ReadonlyMap<
    string,
    {
      readonly ports?: string;
      readonly flows?: string;
      readonly groups?: string;
      readonly fdb?: string;
      /** `ovs-ofctl dump-tlv-map BR` (or add-tlv-map lines). */
      readonly tlv?: string;
      /** `ovs-ofctl -O OpenFlow15 dump-meters BR` (or add-meter lines). */
      readonly meters?: string;
    }
  >;
  readonly dpifShow?: string;
  /** `ovs-vsctl list Interface` (full names and ofports). */
  readonly interfaces?: string;
  /** `ovs-vsctl list Port` (vlan_mode, which `ovs-vsctl show` does not print). */
  readonly portList?: string;
}

/**
 * The OpenFlow number of each port of `vb`: from the Interface list or dpif/show (full names),
 * cross-checked against `ovs-ofctl show`; from `ovs-ofctl show` alone only where a (possibly
 * truncated) name designates one port. Ports with no known number are left out (nothing can
 * reference them).
 */
function resolveOfports(
  vb: VsctlBridge,
  ifaces: ReadonlyMap<string, VsctlInterface>,
  dp: ReadonlyMap<string, DpifPort> | undefined,
  ofPorts: readonly OfctlPort[],
  where: string,
): Map<string, number> {
  const out = new Map<string, number>();
  const byNumber = new Map(ofPorts.map((p) => [p.ofport, p] as const));
  const pending: VsctlPort[] = [];
  for (const vp of vb.ports) {
    if (vp.name === vb.name) {
      out.set(vp.name, OFPP_LOCAL);
      continue;
    }
    const n = ifaces.get(vp.name)?.ofport ?? dp?.get(vp.name)?.ofport;
    if (n === undefined) {
      pending.push(vp);
      continue;
    }
    const shown = byNumber.get(n);
    if (ofPorts.length > 0 && shown?.name !== ofTruncatedName(vp.name)) {
      throw new SimError(
        "CONFLICT",
        `${where}: bridge ${vb.name}: port ${vp.name} has ofport ${n}, but ovs-ofctl show ${shown ? `names port ${n} "${shown.name}"` : `has no port ${n}`}`,
      );
    }
    out.set(vp.name, n);
  }
  const taken = new Set(out.values());
  for (const vp of pending) {
    const short = ofTruncatedName(vp.name);
    const cands = ofPorts.filter((p) => p.ofport !== OFPP_LOCAL && !taken.has(p.ofport) && p.name === short);
    const rivals = pending.filter((q) => ofTruncatedName(q.name) === short);
    if (cands.length === 1 && rivals.length === 1) {
      out.set(vp.name, cands[0]!.ofport);
      taken.add(cands[0]!.ofport);
    } else if (cands.length > 1 || rivals.length > 1) {
      throw new SimError(
        "CONFLICT",
        `${where}: bridge ${vb.name}: ${rivals.map((q) => q.name).join(", ")} all show as "${short}" in ovs-ofctl show (OpenFlow truncates port names to 15 bytes); add ovs-vsctl list Interface (scripts/capture-bundle.sh captures it) to tell them apart by ofport`,
      );
    }
  }
  return out;
}

/** Builds the switch from bundle texts. Port numbers: see `resolveOfports`. */
export function buildSwitch(files: BundleFiles, dir = ""): Switch {
  const sw = new Switch();
  const vs = parseVsctlShow(files.vsctlShow, join(dir, "ovs-vsctl-show.txt"));
  const dpif = files.dpifShow ? parseDpifShow(files.dpifShow) : undefined;
  const ifaces = new Map<string, VsctlInterface>();
  if (files.interfaces !== undefined) {
    for (const i of parseVsctlListInterface(files.interfaces, join(dir, INTERFACES_FILE)))
      ifaces.set(i.name, i);
  }
  const portRecs = new Map<string, VsctlPortRecord>();
  if (files.portList !== undefined) {
    for (const p of parseVsctlListPort(files.portList, join(dir, PORTS_FILE))) portRecs.set(p.name, p);
  }
  for (const vb0 of vs) {
    // The Port list, when captured, completes what `ovs-vsctl show` printed.
    const vb: VsctlBridge = {
      name: vb0.name,
      ports: vb0.ports.map((p) => {
        const r = portRecs.get(p.name);
        if (!r) return p;
        return {
          ...p,
          ...(r.tag !== undefined ? { tag: r.tag } : {}),
          ...(r.trunks !== undefined ? { trunks: r.trunks } : {}),
          ...(r.vlanMode !== undefined ? { vlanMode: r.vlanMode } : {}),
        };
      }),
    };
    const b = new Bridge(vb.name);
    const texts = files.bridges.get(vb.name) ?? {};
    const ofPorts = texts.ports ? parseOfctlShow(texts.ports) : [];
    const dp = dpif?.get(vb.name);
    const numbers = resolveOfports(vb, ifaces, dp, ofPorts, dir || "bundle");
    for (const vp of vb.ports) {
      const ofport = numbers.get(vp.name);
      if (ofport === undefined) continue; // no OpenFlow number known: cannot be referenced
      const isLocal = ofport === OFPP_LOCAL;
      const fromOfctl = ofPorts.find((p) => p.ofport === ofport);
      const fromDp = dp?.get(vp.name);
      const iface = ifaces.get(vp.name);
      const options = vp.options ?? iface?.options;
      let type = isLocal ? "internal" : vp.type || iface?.type || "system";
      // ovs-vswitchd --enable-dummy=override makes every netdev a dummy one, tunnels too:
      // dpif/show then names the type without the tunnel configuration a real vport shows.
      if (TUNNEL_TYPES.has(type) && fromDp?.type !== undefined && (fromDp.type !== type || !fromDp.config))
        type = fromDp.type === type ? "dummy" : fromDp.type;
      const port: OfPort = {
        ofport,
        name: vp.name,
        mac: fromOfctl?.mac ?? iface?.mac ?? 0,
        type,
        ...(vp.peer !== undefined ? { peer: vp.peer } : {}),
        ...(fromDp && fromDp.dpPort !== null ? { dpPort: fromDp.dpPort } : {}),
        ...(vp.tag !== undefined ? { tag: vp.tag } : {}),
        ...(vp.trunks !== undefined ? { trunks: vp.trunks } : {}),
        ...(vp.vlanMode !== undefined ? { vlanMode: vp.vlanMode } : {}),
        ...(options !== undefined && Object.keys(options).length ? { options } : {}),
        ...(fromOfctl?.live === false ? { live: false } : {}),
      };
      if (TUNNEL_TYPES.has(type)) tunnelConfig(port); // refuse bad tunnel options at load time
      b.addPort(port);
    }
    if (texts.tlv !== undefined) {
      try {
        b.tlvMap = parseTlvMap(texts.tlv);
      } catch (e) {
        if (e instanceof SimError) throw e.at(join(dir, `${vb.name}.tlv.txt`), undefined);
        throw e;
      }
    }
    if (texts.meters !== undefined) {
      try {
        for (const m of parseMeters(texts.meters)) b.meters.set(m.id, m);
        b.metersKnown = true;
      } catch (e) {
        if (e instanceof SimError) throw e.at(join(dir, `${vb.name}.meters.txt`), e.line);
        throw e;
      }
    }
    if (!b.ports.has(OFPP_LOCAL)) b.addPort({ ofport: OFPP_LOCAL, name: vb.name, mac: 0, type: "internal" });
    const names = parsablePortNames(b);
    const flowFile = join(dir, `${vb.name}.flows.txt`);
    if (texts.flows !== undefined) {
      for (const f of parseFlows(texts.flows, { file: flowFile, ports: names })) b.addFlow(f);
    } else {
      // A new bridge starts with one flow: priority=0 actions=NORMAL.
      for (const f of parseFlows("priority=0,actions=NORMAL")) b.addFlow(f);
    }
    if (texts.fdb !== undefined) sw.macTables.set(vb.name, parseFdbShow(texts.fdb));
    if (texts.groups !== undefined) {
      for (const g of parseGroups(texts.groups, { file: join(dir, `${vb.name}.groups.txt`), ports: names }))
        b.addGroup(g);
    }
    sw.addBridge(b);
  }
  sw.validate();
  return sw;
}

const read = (p: string): string | undefined => (existsSync(p) ? readFileSync(p, "utf8") : undefined);

/** Loads a bundle directory (see the module comment for the file names). */
export function loadBundle(dir: string): Switch {
  const vsctlShow = read(join(dir, "ovs-vsctl-show.txt"));
  if (vsctlShow === undefined) {
    throw new SimError("UNKNOWN_OBJECT", `${dir}: no ovs-vsctl-show.txt (is this a bundle directory?)`);
  }
  const bridges = new Map<
    string,
    { ports?: string; flows?: string; groups?: string; fdb?: string; tlv?: string; meters?: string }
  >();
  for (const vb of parseVsctlShow(vsctlShow)) {
    const ports = read(join(dir, `${vb.name}.ports.txt`));
    const flows = read(join(dir, `${vb.name}.flows.txt`));
    const groups = read(join(dir, `${vb.name}.groups.txt`));
    const fdb = read(join(dir, `${vb.name}.fdb.txt`));
    const tlv = read(join(dir, `${vb.name}.tlv.txt`));
    const meters = read(join(dir, `${vb.name}.meters.txt`));
    bridges.set(vb.name, {
      ...(meters !== undefined ? { meters } : {}),
      ...(tlv !== undefined ? { tlv } : {}),
      ...(fdb !== undefined ? { fdb } : {}),
      ...(ports !== undefined ? { ports } : {}),
      ...(flows !== undefined ? { flows } : {}),
      ...(groups !== undefined ? { groups } : {}),
    });
  }
  const dpifShow = read(join(dir, "dpif-show.txt"));
  const interfaces = read(join(dir, INTERFACES_FILE));
  const portList = read(join(dir, PORTS_FILE));
  return buildSwitch(
    {
      vsctlShow,
      bridges,
      ...(portList !== undefined ? { portList } : {}),
      ...(dpifShow !== undefined ? { dpifShow } : {}),
      ...(interfaces !== undefined ? { interfaces } : {}),
    },
    dir,
  );
}

/**
 * A switch from a lone flows file (no topology): one bridge whose ports are every port number
 * the flows and the traced in_port mention, plus LOCAL. Datapath numbers are the OpenFlow ones.
 */
export function switchFromFlows(
  bridgeName: string,
  flowsText: string,
  groupsText?: string,
  extraPorts: readonly number[] = [],
): Switch {
  const sw = new Switch();
  const b = new Bridge(bridgeName);
  const flows = parseFlows(flowsText, { file: "flows" });
  const ports = new Set<number>(extraPorts);
  const scan = (acts: readonly import("./actions.js").OfAction[]): void => {
    for (const a of acts) {
      if (a.kind === "output" && a.port < 0xff00) ports.add(a.port);
      if (a.kind === "resubmit" && a.port !== null && a.port < 0xff00) ports.add(a.port);
      if (a.kind === "clone" || a.kind === "ct") scan(a.actions);
    }
  };
  const groups = groupsText !== undefined ? parseGroups(groupsText, { file: "groups" }) : [];
  for (const f of flows) {
    for (const fm of f.match.fields) if (fm.field.name === "in_port") ports.add(Number(fm.value));
    scan(f.actions);
  }
  for (const g of groups) for (const bk of g.buckets) scan(bk.actions);
  ports.delete(OFPP_LOCAL);
  for (const p of [...ports].sort((x, y) => x - y))
    b.addPort({ ofport: p, name: `p${p}`, mac: 0, type: "system" });
  b.addPort({ ofport: OFPP_LOCAL, name: bridgeName, mac: 0, type: "internal" });
  for (const f of flows) b.addFlow(f);
  for (const g of groups) b.addGroup(g);
  sw.addBridge(b);
  sw.validate();
  return sw;
}
