/**
 * OVS bridges as ovs-vswitchd holds them (ofproto `struct ofproto`/`ofport`/`oftable`/`group`):
 * ports with their OpenFlow and datapath numbers, MACs, types (system, internal, patch and
 * its peer), the VLAN configuration NORMAL uses, 255 flow tables each on one tuple-space
 * classifier, and groups. Also the text parsers for what users have: `ovs-ofctl add-flow`
 * lines and every `dump-flows` format (OpenFlow 1.0/1.3/1.5, with or without stats), and
 * `dump-groups`, with OVS's printing back (`ofputil_flow_stats_format`).
 */
import { DEFAULT_FLOW_TRIES } from "@ovnsim/classifier";

/**
 * ovs-vswitchd's default Flow_Table `prefixes`: ip_dst and ip_src only (ofproto.c
 * default_prefix_fields[2]); IPv6 addresses get no prefix trie unless configured.
 */
const OFPROTO_TRIES = DEFAULT_FLOW_TRIES.filter((t) => t.name === "nw_dst" || t.name === "nw_src");
import type { MacTable, VlanMode } from "@ovnsim/l2";
import { canonicalHashField, compileHashFields, type HashFields } from "@ovnsim/lb";
import {
  type FieldSpec,
  findField,
  formatMatch,
  type Match,
  type MatchWords,
  matchToWords,
  parseMatch,
  SimError,
  W,
} from "@ovnsim/packet";
import {
  formatActions,
  type OfAction,
  of10Actions,
  of10PopVlan,
  parseActions,
  splitTopLevel,
} from "./actions.js";
import { OfTable, verifyConjunctions } from "./conjunction.js";
import type { Meter } from "./meter.js";
import { unquotePortName } from "./portnames.js";
import type { TlvMapping } from "./tlv.js";
import { parseFieldValue, parseInteger } from "./values.js";

export const OFPP_LOCAL = 0xfffe;
export const N_TABLES = 255;

export interface OfPort {
  readonly ofport: number;
  readonly name: string;
  /** 48-bit MAC (0 when unknown). */
  readonly mac: number;
  /** Interface type: "" / "system", "internal", "patch", "dummy", "geneve", … */
  readonly type: string;
  /** Patch ports: the peer interface name (in another bridge). */
  readonly peer?: string;
  /** Datapath port number (`dpif/show`); undefined = print the OpenFlow number. */
  readonly dpPort?: number;
  readonly tag?: number;
  readonly trunks?: readonly number[];
  readonly vlanMode?: VlanMode;
  /** Interface options (tunnels: remote_ip, local_ip, key, dst_port, ...). */
  readonly options?: Readonly<Record<string, string>>;
  /**
   * false when `ovs-ofctl show` prints the port's state without LIVE (ofport may_enable off,
   * e.g. a tunnel whose BFD session is down): bundle() and watch_port skip it.
   */
  readonly live?: boolean;
}

/** One OpenFlow rule (ofproto `struct rule`). */
export interface FlowEntry {
  readonly table: number;
  readonly priority: number;
  readonly cookie: bigint;
  readonly match: Match;
  readonly words: MatchWords;
  readonly actions: readonly OfAction[];
  /** `conj_id=N`: hit only through a completed conjunction (see conjunction.ts). */
  readonly conjId?: number;
  readonly file?: string;
  readonly line?: number;
}

export interface Bucket {
  readonly id: number;
  readonly weight: number;
  readonly watchPort?: number;
  readonly watchGroup?: number;
  readonly actions: readonly OfAction[];
}

export interface Group {
  readonly id: number;
  readonly type: "all" | "select" | "indirect" | "ff";
  /** Select method: OVS picks dp_hash when none is configured (what `-O OpenFlow13` gives). */
  readonly method: "default" | "hash" | "dp_hash";
  readonly methodParam: bigint;
  readonly fields: readonly { readonly field: FieldSpec; readonly mask: bigint | null }[];
  readonly buckets: readonly Bucket[];
}

/** One bridge: ports, tables, groups. */
export class Bridge {
  readonly name: string;
  readonly ports = new Map<number, OfPort>();
  readonly groups = new Map<number, Group>();
  /** Geneve TLV map (tun_metadata index → option), `ovs-ofctl add-tlv-map`. */
  tlvMap: ReadonlyMap<number, TlvMapping> = new Map();
  /** Meters by id (`ovs-ofctl add-meter`, dump-meters). */
  readonly meters = new Map<number, Meter>();
  /** `meters` is the bridge's whole meter table (a dump-meters was read), not just what is known. */
  metersKnown = false;
  private readonly tables: (OfTable | undefined)[] = [];
  private nFlows = 0;
  /**
   * Counts the changes made through addPort/addFlow/addGroup: a translation remembered for a
   * megaflow (xlate.ts's cache) is valid only while the bridges it saw are as they were. The
   * TLV map and meters are left out: only tunnel output and meter actions read them, and the
   * cache never keeps a translation with either.
   */
  private changes = 0;

  get version(): number {
    return this.changes;
  }

  constructor(name: string) {
    this.name = name;
  }

  addPort(p: OfPort): void {
    if (this.ports.has(p.ofport))
      throw new SimError("DUPLICATE", `bridge ${this.name}: port ${p.ofport} given twice`);
    this.ports.set(p.ofport, p);
    this.changes++;
  }

  portByName(name: string): OfPort | undefined {
    for (const p of this.ports.values()) if (p.name === name) return p;
    return undefined;
  }

  table(id: number): OfTable | undefined {
    return this.tables[id];
  }

  /** Adds a rule; a rule with the same match and priority replaces the old one (OFPFC_ADD). */
  addFlow(e: FlowEntry): void {
    let t = this.tables[e.table];
    if (!t) {
      t = new OfTable({ tries: OFPROTO_TRIES });
      this.tables[e.table] = t;
    }
    if (t.add(e)) this.nFlows++;
    this.changes++;
    this.meterIdsUsed = undefined;
  }

  addGroup(g: Group): void {
    this.groups.set(g.id, g);
    this.changes++;
    this.meterIdsUsed = undefined;
  }

  /** Datapath meter ids by OpenFlow meter id, when known (e.g. from a dump-meters capture). */
  readonly meterDpIds = new Map<number, number>();

  /**
   * The datapath meter behind OpenFlow meter `id`. Unless given in `meterDpIds`, meters are
   * taken to have been added in id order (the userspace datapath numbers them from 0 as they
   * come), among the meter ids the bridge's rules use.
   */
  meterDpId(id: number): number | undefined {
    const known = this.meterDpIds.get(id);
    if (known !== undefined) return known;
    // A captured dump-meters says which meters exist: a rule naming another one (a controller
    // action's meter_id=, which ovs-vswitchd does not check) has no datapath meter.
    if (this.metersKnown && !this.meters.has(id)) return undefined;
    if (!this.meterIdsUsed) {
      const used = new Set<number>();
      const scan = (acts: readonly OfAction[]): void => {
        for (const a of acts) {
          if (a.kind === "meter") used.add(a.id);
          else if (a.kind === "controller" && a.meterId !== undefined) used.add(a.meterId);
          else if (a.kind === "clone" || a.kind === "write_actions") scan(a.actions);
        }
      };
      for (const f of this.flows()) scan(f.actions);
      for (const g of this.groups.values()) for (const b of g.buckets) scan(b.actions);
      this.meterIdsUsed = [...used].sort((x, y) => x - y);
    }
    const rank = this.meterIdsUsed.indexOf(id);
    return rank >= 0 ? rank : this.meterIdsUsed.filter((m) => m < id).length;
  }

  /** Meter ids the rules use, sorted (memoised; reset when rules or groups change). */
  private meterIdsUsed: number[] | undefined;

  get flowCount(): number {
    return this.nFlows;
  }

  /** Every rule, by table then priority (descending), as dump-flows orders them. */
  flows(): FlowEntry[] {
    const out: FlowEntry[] = [];
    this.tables.forEach((cls) => {
      if (!cls) return;
      const rules = cls.rules();
      rules.sort((a, b) => b.priority - a.priority);
      out.push(...rules);
    });
    return out;
  }
}

/** Every bridge of one ovs-vswitchd, for patch ports. */
export class Switch {
  readonly bridges = new Map<string, Bridge>();
  /** MAC learning tables per bridge (from `fdb/show` captures); absent = empty. */
  readonly macTables = new Map<string, MacTable>();

  bridge(name: string): Bridge {
    const b = this.bridges.get(name);
    if (!b) throw new SimError("UNKNOWN_OBJECT", `${name}: unknown bridge`);
    return b;
  }

  addBridge(b: Bridge): void {
    this.bridges.set(b.name, b);
  }

  /** The bridge and port at the other end of a patch port. */
  peerOf(port: OfPort): { bridge: Bridge; port: OfPort } | undefined {
    if (port.peer === undefined) return undefined;
    for (const b of this.bridges.values()) {
      const p = b.portByName(port.peer);
      if (p && p.type === "patch") return { bridge: b, port: p };
    }
    return undefined;
  }

  /**
   * Checks what ovs-vswitchd would have refused: every patch port has a peer (OVS logs and
   * ignores such a port; we refuse it) and every group an action names exists (OVS rejects the
   * flow mod with OFPBAC_BAD_OUT_GROUP).
   */
  validate(): void {
    for (const b of this.bridges.values()) {
      const check = (acts: readonly OfAction[], where: { file?: string; line?: number }): void => {
        for (const a of acts) {
          if (a.kind === "group" && !b.groups.has(a.id)) {
            throw new SimError("UNKNOWN_OBJECT", `bridge ${b.name}: group ${a.id} does not exist`, where);
          }
          if (a.kind === "clone" || a.kind === "ct") check(a.actions, where);
        }
      };
      for (const f of b.flows()) {
        check(f.actions, {
          ...(f.file !== undefined ? { file: f.file } : {}),
          ...(f.line !== undefined ? { line: f.line } : {}),
        });
      }
      for (const g of b.groups.values()) for (const k of g.buckets) check(k.actions, {});
    }
    for (const b of this.bridges.values()) {
      for (const p of b.ports.values()) {
        if (p.type === "patch" && !this.peerOf(p)) {
          throw new SimError(
            "UNKNOWN_PORT",
            `bridge ${b.name}: patch port ${p.name} has no peer${p.peer ? ` (peer=${p.peer} not found)` : ""}`,
          );
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Flow text

const FLOW_META = new Set([
  "duration",
  "n_packets",
  "n_bytes",
  "idle_age",
  "hard_age",
  "idle_timeout",
  "hard_timeout",
  "importance",
  "send_flow_rem",
  "check_overlap",
  "reset_counts",
  "no_packet_counts",
  "no_byte_counts",
  "out_port",
  "out_group",
  "flags",
]);

const ACTIONS_RE = /(^|[\s,])actions=/;

export interface ParseFlowLineOptions {
  readonly file?: string;
  readonly line?: number;
  /** Port names of the bridge (for in_port=NAME, output:NAME). */
  readonly ports?: ReadonlyMap<string, number>;
}

/**
 * Parses one flow in add-flow syntax (`table=0,priority=100,in_port=1,actions=...`) or as any
 * dump-flows prints it (` cookie=0x0, duration=0.1s, table=0, n_packets=0, ... actions=...`).
 */
export function parseFlowLine(text: string, opts: ParseFlowLineOptions = {}): FlowEntry {
  const where = {
    ...(opts.file !== undefined ? { file: opts.file } : {}),
    ...(opts.line !== undefined ? { line: opts.line } : {}),
  };
  try {
    const m = ACTIONS_RE.exec(text);
    if (!m) throw new SimError("PARSE_ERROR", `"${text.trim()}": missing actions=`);
    const left = text.slice(0, m.index).trim().replace(/,$/, "");
    const right = text.slice(m.index + m[0].length).trim();
    let table = 0;
    let priority = 32768;
    let cookie = 0n;
    let conjId: number | undefined;
    let of10 = false;
    const match = parseMatch(left, {
      ...(opts.ports ? { ports: opts.ports } : {}),
      extra: (key, value) => {
        if (key === "table") {
          const t = Number(parseInteger(value, "table"));
          if (t > 254) throw new SimError("BAD_VALUE", `table=${value}: out of range`);
          table = t;
        } else if (key === "priority") {
          const p = Number(parseInteger(value, "priority"));
          if (p > 65535) throw new SimError("BAD_VALUE", `priority=${value}: out of range`);
          priority = p;
        } else if (key === "cookie") {
          cookie = parseInteger(value.split("/")[0] ?? "", "cookie");
        } else if (key === "conj_id") {
          const c = parseInteger(value, "conj_id");
          if (c > 0xffffffffn) throw new SimError("BAD_VALUE", `conj_id=${value}: out of range`);
          conjId = Number(c);
        } else if (key === "reset_counts") of10 = true;
        else return FLOW_META.has(key);
        return true;
      },
    });
    const portMap = opts.ports;
    const words = matchToWords(match);
    const vlanMatched = (words.mask[W.vlan0]! & words.value[W.vlan0]! & 0x1000) !== 0;
    const parsed = parseActions(right, portMap ? { portByName: (n) => portMap.get(n) } : {});
    const actions = of10 ? of10Actions(parsed) : of10PopVlan(parsed, vlanMatched);
    verifyConjunctions(actions);
    return {
      table,
      priority,
      cookie,
      match,
      words,
      actions,
      ...(conjId !== undefined ? { conjId } : {}),
      ...where,
    };
  } catch (e) {
    if (e instanceof SimError) throw e.at(opts.file, opts.line);
    throw e;
  }
}

const SKIP_LINE = /^\s*$|^\s*#|^\$ |^(OFPST|NXST|OFPT|OFPST_FLOW|OFPST_GROUP)\S*\s.*reply|^\S+ reply \(/;

/** Parses a whole dump-flows output or add-flows file: one rule per line, headers skipped. */
export function parseFlows(text: string, opts: Omit<ParseFlowLineOptions, "line"> = {}): FlowEntry[] {
  const out: FlowEntry[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (SKIP_LINE.test(line)) return;
    out.push(parseFlowLine(line, { ...opts, line: i + 1 }));
  });
  return out;
}

/** A rule as `ovs-ofctl dump-flows --no-stats` prints it (OF1.3+ action names as stored). */
export function formatFlowEntry(e: FlowEntry): string {
  let s = " ";
  if (e.cookie) s += `cookie=0x${e.cookie.toString(16)}, `;
  if (e.table) s += `table=${e.table}, `;
  s += withConjId(formatMatch(e.match, { priority: e.priority }), e.conjId);
  if (!s.endsWith(" ")) s += " ";
  return `${s}actions=${formatActions(e.actions)}`;
}

/**
 * match_format() prints conj_id after priority, pkt_mark, recirc_id and dp_hash, before the
 * rest; ovnsim keeps conj_id outside the match, so it is put in its place here.
 */
export function withConjId(matchText: string, conjId: number | undefined): string {
  if (conjId === undefined) return matchText;
  const parts = matchText === "" ? [] : matchText.split(",");
  let i = 0;
  while (i < parts.length && /^(priority|pkt_mark|recirc_id|dp_hash)=/.test(parts[i]!)) i++;
  parts.splice(i, 0, `conj_id=${conjId}`);
  return parts.join(",");
}

// ---------------------------------------------------------------------------------------------
// Group text

const GROUP_TYPES: Record<string, Group["type"]> = {
  all: "all",
  select: "select",
  indirect: "indirect",
  ff: "ff",
  fast_failover: "ff",
};

function parseBucket(
  text: string,
  index: number,
  ctx: { portByName?: (n: string) => number | undefined },
): Bucket {
  const a = ACTIONS_RE.exec(text);
  const head = a ? text.slice(0, a.index) : text;
  const actionsText = a ? text.slice(a.index + a[0].length) : "";
  let id = index;
  let weight = 1;
  let watchPort: number | undefined;
  let watchGroup: number | undefined;
  const actionItems: string[] = [];
  for (const item of splitTopLevel(head)) {
    const m = /^(bucket_id|weight|watch_port|watch_group)[:=](.*)$/.exec(item);
    if (!m) {
      actionItems.push(item);
      continue;
    }
    const v = m[2]!;
    if (m[1] === "bucket_id") id = Number(parseInteger(v, "bucket_id"));
    else if (m[1] === "weight") weight = Number(parseInteger(v, "weight"));
    else if (m[1] === "watch_port")
      // `ovs-ofctl --names` prints the port's (possibly quoted) name.
      watchPort = /^\d+$/.test(v) ? Number(v) : (ctx.portByName?.(unquotePortName(v) ?? v) ?? -1);
    else watchGroup = Number(parseInteger(v, "watch_group"));
  }
  const actions = parseActions([...actionItems, actionsText].filter((s) => s !== "").join(","), ctx);
  return {
    id,
    weight,
    ...(watchPort !== undefined ? { watchPort } : {}),
    ...(watchGroup !== undefined ? { watchGroup } : {}),
    actions,
  };
}

/** The canonical name @ovnsim/lb's select-group hashing knows a field by ("" if it cannot hash it). */
export function lbFieldName(spec: FieldSpec): string {
  for (const n of [spec.name, ...spec.aliases]) {
    const c = canonicalHashField(n);
    if (c) return c;
  }
  return "";
}

const HASH_FIELDS = new WeakMap<Group, HashFields>();

/**
 * A group's `fields(...)` and `selection_method_param`, compiled for @ovnsim/lb's
 * `hashFieldsBasis` (meta-flow order, masks as bytes); memoised on the immutable group.
 *
 * @throws SimError UNSUPPORTED for a field the select-group hashing does not model.
 */
export function groupHashFields(g: Group): HashFields {
  let hf = HASH_FIELDS.get(g);
  if (!hf) {
    hf = compileHashFields(
      g.fields.map(({ field, mask }) => {
        const name = lbFieldName(field);
        if (!name)
          throw new SimError(
            "UNSUPPORTED",
            `fields(...): hashing ${field.name} in a select group is not modelled`,
          );
        return mask === null ? { name } : { name, mask };
      }),
      g.methodParam,
    );
    HASH_FIELDS.set(g, hf);
  }
  return hf;
}

/** Parses one `dump-groups`/`add-group` line. */
export function parseGroupLine(text: string, opts: ParseFlowLineOptions = {}): Group {
  try {
    const ctxPorts = opts.ports;
    const ctx = ctxPorts ? { portByName: (n: string) => ctxPorts.get(n) } : {};
    const parts = text.trim().split(/,bucket=|^bucket=/);
    const head = parts[0] ?? "";
    let id = -1;
    let type: Group["type"] | undefined;
    let method: Group["method"] = "default";
    let methodParam = 0n;
    const fields: { field: FieldSpec; mask: bigint | null }[] = [];
    for (const item of splitTopLevel(head)) {
      const eq = /^([a-z_]+)(?:[=:](.*))?$/s.exec(item);
      // dump-groups prints one hashed field as `fields=ip_dst` and several as `fields(a,b)`.
      const fm = /^fields\((.*)\)$/.exec(item) ?? /^fields=(.+)$/.exec(item);
      if (fm) {
        for (const f of splitTopLevel(fm[1]!)) {
          const [name, maskText] = f.split("=");
          const spec = findField(name ?? "");
          if (!spec) throw new SimError("UNKNOWN_FIELD", `fields(${fm[1]}): unknown field "${name}"`);
          fields.push({
            field: spec,
            mask: maskText === undefined ? null : parseFieldValue(spec, maskText).value,
          });
        }
        continue;
      }
      if (!eq) throw new SimError("PARSE_ERROR", `"${item}": cannot parse group property`);
      const key = eq[1]!;
      const v = eq[2] ?? "";
      if (key === "group_id") id = Number(parseInteger(v, "group_id"));
      else if (key === "type") {
        type = GROUP_TYPES[v];
        if (!type) throw new SimError("BAD_VALUE", `type=${v}: unknown group type`);
      } else if (key === "selection_method") {
        if (v !== "hash" && v !== "dp_hash")
          throw new SimError("BAD_VALUE", `selection_method=${v}: unknown`);
        method = v;
      } else if (key === "selection_method_param") methodParam = parseInteger(v, "selection_method_param");
      else if (key === "bucket") continue;
      else throw new SimError("PARSE_ERROR", `"${item}": unknown group property`);
    }
    if (id < 0) throw new SimError("PARSE_ERROR", `"${text.trim()}": missing group_id`);
    if (!type) throw new SimError("PARSE_ERROR", `"${text.trim()}": missing type`);
    const buckets = parts.slice(1).map((b, i) => parseBucket(b, i, ctx));
    const group: Group = { id, type, method, methodParam, fields, buckets };
    if (fields.length > 0) groupHashFields(group);
    return group;
  } catch (e) {
    if (e instanceof SimError) throw e.at(opts.file, opts.line);
    throw e;
  }
}

/** Parses a whole dump-groups output. */
export function parseGroups(text: string, opts: Omit<ParseFlowLineOptions, "line"> = {}): Group[] {
  const out: Group[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/\r$/, "");
    if (SKIP_LINE.test(line)) return;
    out.push(parseGroupLine(line, { ...opts, line: i + 1 }));
  });
  return out;
}
