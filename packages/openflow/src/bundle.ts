/**
 * A node's OVS state from the text users can capture with standard commands (see
 * scripts/capture-bundle.sh): `ovs-vsctl show`, `ovs-ofctl -O OpenFlow15 show BR`,
 * `dump-flows`, `dump-groups`, and optionally `ovs-appctl dpif/show` (datapath port
 * numbers). Each reader is a pure function of text; `loadBundle` reads a directory.
 */
import { readFileSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { MacTable, type VlanMode } from "@ovnsim/l2";
import { parseMac, SimError } from "@ovnsim/packet";
import { Bridge, type OfPort, OFPP_LOCAL, parseFlows, parseGroups, Switch } from "./model.js";

export interface VsctlPort {
  readonly name: string;
  readonly type: string;
  readonly peer?: string;
  readonly tag?: number;
  readonly trunks?: readonly number[];
  readonly vlanMode?: VlanMode;
  readonly ofportRequest?: number;
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
  } | null = null;
  const flush = (): void => {
    if (port && bridges.length) bridges[bridges.length - 1]!.ports.push(port);
    port = null;
  };
  text.split("\n").forEach((raw, i) => {
    const line = raw.trimEnd();
    const br = /^\s*Bridge\s+"?([^"]+)"?$/.exec(line);
    const pt = /^\s*Port\s+"?([^"]+)"?$/.exec(line);
    if (br) {
      flush();
      bridges.push({ name: br[1]!, ports: [] });
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
      port = { name: pt[1]!, type: "" };
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
      const peer = /(?:^|,\s*)peer="?([^",}]+)"?/.exec(options[1]!);
      if (peer) port.peer = peer[1]!;
    }
  });
  flush();
  return bridges;
}

export interface OfctlPort {
  readonly ofport: number;
  /** Name as printed (OpenFlow truncates to 15 characters). */
  readonly name: string;
  readonly mac: number;
}

/** Reads `ovs-ofctl [-O OpenFlow15] show BR`: ` 1(eth0): addr:aa:55:…`, ` LOCAL(br): addr:…`. */
export function parseOfctlShow(text: string): OfctlPort[] {
  const out: OfctlPort[] = [];
  for (const line of text.split("\n")) {
    const m = /^\s*(\d+|LOCAL)\((.*)\): addr:([0-9a-fA-F:]{17})/.exec(line);
    if (!m) continue;
    out.push({ ofport: m[1] === "LOCAL" ? OFPP_LOCAL : Number(m[1]), name: m[2]!, mac: parseMac(m[3]!) });
  }
  return out;
}

/** Reads `ovs-appctl dpif/show`: bridge → port name → {ofport, dpPort}. */
export function parseDpifShow(
  text: string,
): Map<string, Map<string, { ofport: number; dpPort: number | null }>> {
  const out = new Map<string, Map<string, { ofport: number; dpPort: number | null }>>();
  let cur: Map<string, { ofport: number; dpPort: number | null }> | null = null;
  for (const line of text.split("\n")) {
    const br = /^ {2}(\S+):\s*$/.exec(line);
    const pt = /^ {4}(\S+) (\d+)\/(\d+|none):/.exec(line);
    if (br) {
      cur = new Map();
      out.set(br[1]!, cur);
    } else if (cur && pt) {
      cur.set(pt[1]!, { ofport: Number(pt[2]), dpPort: pt[3] === "none" ? null : Number(pt[3]) });
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
    { readonly ports?: string; readonly flows?: string; readonly groups?: string; readonly fdb?: string }
  >;
  readonly dpifShow?: string;
}

/** Builds the switch from bundle texts. Ports get ofport numbers from `ovs-ofctl show`. */
export function buildSwitch(files: BundleFiles, dir = ""): Switch {
  const sw = new Switch();
  const vs = parseVsctlShow(files.vsctlShow, join(dir, "ovs-vsctl-show.txt"));
  const dpif = files.dpifShow ? parseDpifShow(files.dpifShow) : undefined;
  for (const vb of vs) {
    const b = new Bridge(vb.name);
    const texts = files.bridges.get(vb.name) ?? {};
    const ofPorts = texts.ports ? parseOfctlShow(texts.ports) : [];
    const dp = dpif?.get(vb.name);
    for (const vp of vb.ports) {
      const isLocal = vp.name === vb.name;
      const fromOfctl = ofPorts.find((p) =>
        isLocal
          ? p.ofport === OFPP_LOCAL
          : p.ofport !== OFPP_LOCAL &&
            (p.name === vp.name || (p.name.length >= 15 && vp.name.startsWith(p.name))),
      );
      const fromDp = dp?.get(vp.name);
      const ofport = isLocal ? OFPP_LOCAL : (fromOfctl?.ofport ?? fromDp?.ofport);
      if (ofport === undefined) continue; // no OpenFlow number known: cannot be referenced
      const port: OfPort = {
        ofport,
        name: vp.name,
        mac: fromOfctl?.mac ?? 0,
        type: isLocal ? "internal" : vp.type || "system",
        ...(vp.peer !== undefined ? { peer: vp.peer } : {}),
        ...(fromDp && fromDp.dpPort !== null ? { dpPort: fromDp.dpPort } : {}),
        ...(vp.tag !== undefined ? { tag: vp.tag } : {}),
        ...(vp.trunks !== undefined ? { trunks: vp.trunks } : {}),
        ...(vp.vlanMode !== undefined ? { vlanMode: vp.vlanMode } : {}),
      };
      b.addPort(port);
    }
    if (!b.ports.has(OFPP_LOCAL)) b.addPort({ ofport: OFPP_LOCAL, name: vb.name, mac: 0, type: "internal" });
    const names = new Map<string, number>();
    for (const p of b.ports.values()) names.set(p.name, p.ofport);
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
  const bridges = new Map<string, { ports?: string; flows?: string; groups?: string; fdb?: string }>();
  for (const vb of parseVsctlShow(vsctlShow)) {
    const ports = read(join(dir, `${vb.name}.ports.txt`));
    const flows = read(join(dir, `${vb.name}.flows.txt`));
    const groups = read(join(dir, `${vb.name}.groups.txt`));
    const fdb = read(join(dir, `${vb.name}.fdb.txt`));
    bridges.set(vb.name, {
      ...(fdb !== undefined ? { fdb } : {}),
      ...(ports !== undefined ? { ports } : {}),
      ...(flows !== undefined ? { flows } : {}),
      ...(groups !== undefined ? { groups } : {}),
    });
  }
  void readdirSync;
  const dpifShow = read(join(dir, "dpif-show.txt"));
  return buildSwitch({ vsctlShow, bridges, ...(dpifShow !== undefined ? { dpifShow } : {}) }, dir);
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
