/**
 * OpenFlow actions as OVS represents them (`struct ofpact`, upstream `lib/ofp-actions.c`,
 * ovs-actions(7)): parsing the `ovs-ofctl` action syntax of add-flow and of every dump-flows
 * format, and printing them back as OVS's `ofpacts_format` does. An action remembers the
 * spelling OVS would keep (its "raw" form): a flow added over OpenFlow 1.0 prints
 * `strip_vlan`/`mod_dl_dst:`, the same flow added over 1.3 prints `pop_vlan`/`set_field:`,
 * and ofproto/trace shows whichever the switch stored.
 */
import {
  type FieldSpec,
  findField,
  parseIp4,
  parseIp4Scan,
  parseIp6,
  parseMac,
  SimError,
} from "@ovnsim/packet";
import { formatSubfield, parseSubfield, type Subfield } from "./fieldio.js";
import {
  type BundleSpec,
  formatMultipath,
  type MultipathSpec,
  parseBundle,
  parseMultipath,
} from "./multipath.js";
import { formatFieldValue, formatPort, parseFieldValue, parseInteger, parsePort } from "./values.js";

/** One `learn` spec (struct ofpact_learn_spec): from a packet field or an immediate. */
export interface LearnSpec {
  readonly type: "match" | "load" | "output";
  readonly dst: Subfield;
  readonly src: Subfield | null;
  readonly imm: bigint;
}

/** NAT parameters of `ct(nat(...))`, OVS `struct ofpact_nat`. */
export interface NatSpec {
  /** Neither, src or dst (bare `nat` = undo/reverse NAT only). */
  readonly kind: "none" | "src" | "dst";
  readonly af: "none" | "ipv4" | "ipv6";
  readonly addrMin: bigint;
  readonly addrMax: bigint;
  readonly portMin: number;
  readonly portMax: number;
  readonly flags: readonly ("persistent" | "hash" | "random")[];
}

export type OfAction =
  | { readonly kind: "output"; readonly port: number; readonly maxLen?: number }
  | { readonly kind: "output_reg"; readonly src: Subfield }
  | {
      readonly kind: "controller";
      readonly maxLen: number;
      readonly text: string;
      /** ofp_packet_in_reason: 0 no_match, 1 action, 2 invalid_ttl, 3 action_set, 4 group, 5 packet_out. */
      readonly reason: number;
      readonly controllerId: number;
      readonly pause: boolean;
      readonly userdata: string | null;
      /** meter_id=: the OpenFlow meter the packet-in goes through (null: none asked). */
      readonly meterId?: number;
    }
  | {
      readonly kind: "learn";
      readonly text: string;
      /** Every field a spec reads from the packet (learn_mask unwildcards them). */
      readonly sources: readonly Subfield[];
      readonly table: number;
      readonly specs: readonly LearnSpec[];
      readonly priority: number;
      readonly idle: number;
      readonly hard: number;
      readonly cookie: bigint;
      readonly sendFlowRem: boolean;
    }
  | { readonly kind: "set_queue"; readonly queue: number }
  | { readonly kind: "pop_queue" }
  | { readonly kind: "enqueue"; readonly port: number; readonly queue: number }
  | { readonly kind: "meter"; readonly id: number }
  | { readonly kind: "sample"; readonly text: string }
  | { readonly kind: "fin_timeout"; readonly text: string }
  | { readonly kind: "write_actions"; readonly actions: readonly OfAction[] }
  | { readonly kind: "clear_actions" }
  | { readonly kind: "stack_push" | "stack_pop"; readonly sf: Subfield }
  | { readonly kind: "check_pkt_larger"; readonly len: number; readonly dst: Subfield }
  | { readonly kind: "multipath"; readonly mp: MultipathSpec }
  | { readonly kind: "bundle"; readonly bundle: BundleSpec }
  | {
      readonly kind: "resubmit";
      readonly port: number | null;
      readonly table: number | null;
      readonly ct: boolean;
    }
  | { readonly kind: "goto_table"; readonly table: number }
  | { readonly kind: "write_metadata"; readonly value: bigint; readonly mask: bigint }
  | {
      readonly kind: "set_field";
      readonly field: FieldSpec;
      readonly value: bigint;
      readonly mask: bigint | null;
      /** `load`: added as NXAST_REG_LOAD and printed as `load:V->F[a..b]`. */
      readonly raw: "set_field" | "load";
      /** The OVS meta-flow name printed after `->` (`eth_dst` for dl_dst, `ip_src` for nw_src…). */
      readonly name: string;
    }
  | { readonly kind: "move"; readonly src: Subfield; readonly dst: Subfield }
  | { readonly kind: "set_eth"; readonly which: "src" | "dst"; readonly mac: number }
  | { readonly kind: "set_ipv4"; readonly which: "src" | "dst"; readonly ip: number }
  | { readonly kind: "set_ip_dscp"; readonly tos: number }
  | { readonly kind: "set_ip_ttl"; readonly ttl: number }
  | { readonly kind: "set_l4"; readonly which: "src" | "dst"; readonly port: number }
  | { readonly kind: "push_vlan"; readonly tpid: number }
  | { readonly kind: "pop_vlan"; readonly raw: "pop_vlan" | "strip_vlan" }
  | { readonly kind: "set_vlan_vid"; readonly vid: number; readonly push: boolean }
  | { readonly kind: "set_vlan_pcp"; readonly pcp: number; readonly push: boolean }
  | { readonly kind: "dec_ttl"; readonly ids: readonly number[] | null }
  | { readonly kind: "group"; readonly id: number }
  | {
      readonly kind: "ct";
      readonly commit: boolean;
      readonly force: boolean;
      readonly table: number | null;
      readonly zone: number | Subfield;
      /** The nested action list: an optional leading `nat` then `exec(...)` actions. */
      readonly actions: readonly OfAction[];
      readonly alg: string | null;
    }
  | { readonly kind: "nat"; readonly nat: NatSpec }
  | { readonly kind: "ct_clear" }
  | { readonly kind: "clone"; readonly actions: readonly OfAction[] }
  | { readonly kind: "note"; readonly hex: string }
  | { readonly kind: "exit" }
  | {
      readonly kind: "conjunction";
      readonly id: number;
      /** 0-based clause index (printed 1-based). */
      readonly clause: number;
      readonly nClauses: number;
    }
  | { readonly kind: "push_mpls" | "pop_mpls"; readonly ethertype: number }
  | { readonly kind: "set_mpls_ttl"; readonly ttl: number }
  | { readonly kind: "dec_mpls_ttl" }
  | { readonly kind: "unsupported"; readonly name: string; readonly text: string };

const UNSUPPORTED = new Set([
  "set_tunnel",
  "set_tunnel64",
  "debug_recirc",
  "debug_slow",
  "encap",
  "decap",
  "mod_nw_ecn",
  "dec_nsh_ttl",
  "output_trunc",
  "delete_field",
]);

/** OVS meta-flow names where they differ from the match_format names the field table uses. */
const MF_NAMES: Record<string, string> = {
  dl_src: "eth_src",
  dl_dst: "eth_dst",
  dl_type: "eth_type",
  nw_src: "ip_src",
  nw_dst: "ip_dst",
  nw_frag: "ip_frag",
};

/** The name OVS prints for a field written as `written` (mf->name). */
export function ovsFieldName(spec: FieldSpec, written: string): string {
  if (written === "vlan_pcp") return written;
  return MF_NAMES[spec.name] ?? spec.name;
}

/** Splits at top-level commas (not inside parentheses). */
export function splitTopLevel(text: string, sep = ","): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "(") depth++;
    else if (c === ")") depth = Math.max(0, depth - 1);
    else if (c === sep && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  out.push(text.slice(start));
  return out.map((s) => s.trim()).filter((s) => s !== "");
}

function splitKeyArg(item: string): { name: string; arg: string | null; paren: boolean } {
  const m = /^([A-Za-z0-9_]+)\s*([:=(])?/.exec(item);
  if (!m) throw new SimError("PARSE_ERROR", `"${item}": cannot parse action`);
  const name = m[1]!;
  const delim = m[2];
  if (delim === undefined) {
    if (item.length !== name.length) throw new SimError("PARSE_ERROR", `"${item}": cannot parse action`);
    return { name, arg: null, paren: false };
  }
  if (delim === "(") {
    if (!item.endsWith(")")) throw new SimError("PARSE_ERROR", `"${item}": unbalanced parentheses`);
    return { name, arg: item.slice(m[0].length, -1), paren: true };
  }
  return { name, arg: item.slice(m[0].length), paren: false };
}

function needArg(name: string, arg: string | null): string {
  if (arg === null || arg === "") throw new SimError("PARSE_ERROR", `${name}: missing argument`);
  return arg;
}

function parseU(text: string, what: string, max: number): number {
  const v = parseInteger(text, what);
  if (v > BigInt(max)) throw new SimError("BAD_VALUE", `${what}: ${text} is out of range (max ${max})`);
  return Number(v);
}

function parseTable(text: string): number {
  return parseU(text, "table", 254);
}

function parseNatAddr(text: string, af: "ipv4" | "ipv6"): bigint {
  return af === "ipv4" ? BigInt(parseIp4Scan(text, "nat")) : parseIp6(text.replace(/^\[|\]$/g, ""), "nat");
}

function parseNat(arg: string | null): NatSpec {
  let kind: NatSpec["kind"] = "none";
  let af: NatSpec["af"] = "none";
  let addrMin = 0n;
  let addrMax = 0n;
  let portMin = 0;
  let portMax = 0;
  const flags: ("persistent" | "hash" | "random")[] = [];
  for (const part of arg === null ? [] : splitTopLevel(arg)) {
    const eq = part.indexOf("=");
    const key = eq < 0 ? part : part.slice(0, eq);
    if (key === "src" || key === "dst") {
      if (kind !== "none") throw new SimError("PARSE_ERROR", "nat: only one of src or dst");
      kind = key;
      if (eq < 0) continue;
      let rest = part.slice(eq + 1);
      // Address range, then optional :port[-port].
      let addrText: string;
      let portText: string | null = null;
      if (rest.startsWith("[")) {
        af = "ipv6";
        const m = /^(\[[^\]]+\](?:-\[[^\]]+\])?)(?::(.*))?$/.exec(rest);
        if (!m) throw new SimError("PARSE_ERROR", `nat: bad address "${rest}"`);
        addrText = m[1]!;
        portText = m[2] ?? null;
      } else if (rest.includes(":") && /^[0-9.-]+:/.test(rest)) {
        af = "ipv4";
        const c = rest.indexOf(":");
        addrText = rest.slice(0, c);
        portText = rest.slice(c + 1);
      } else {
        af = rest.includes(":") ? "ipv6" : "ipv4";
        addrText = rest;
      }
      rest = addrText;
      const dash = af === "ipv6" ? rest.indexOf("]-") + 1 : rest.indexOf("-");
      if (dash > 0) {
        addrMin = parseNatAddr(rest.slice(0, dash), af);
        addrMax = parseNatAddr(rest.slice(dash + 1), af);
      } else {
        addrMin = parseNatAddr(rest, af);
        addrMax = addrMin;
      }
      if (portText !== null) {
        const d = portText.indexOf("-");
        portMin = parseU(d < 0 ? portText : portText.slice(0, d), "nat port", 65535);
        portMax = d < 0 ? portMin : parseU(portText.slice(d + 1), "nat port", 65535);
      }
    } else if (key === "persistent" || key === "hash" || key === "random") {
      flags.push(key);
    } else throw new SimError("PARSE_ERROR", `nat: unknown argument "${part}"`);
  }
  return { kind, af, addrMin, addrMax, portMin, portMax, flags };
}

function parseCt(arg: string | null, ctx: ParseContext): OfAction {
  let commit = false;
  let force = false;
  let table: number | null = null;
  let zone: number | Subfield = 0;
  let alg: string | null = null;
  const actions: OfAction[] = [];
  for (const part of arg === null ? [] : splitTopLevel(arg)) {
    const { name, arg: a } = splitKeyArg(part);
    switch (name) {
      case "commit":
        commit = true;
        break;
      case "force":
        force = true;
        break;
      case "table":
        table = parseTable(needArg("ct table", a));
        break;
      case "zone": {
        const z = needArg("ct zone", a);
        zone = /^(0x)?[0-9a-fA-F]+$/.test(z) ? parseU(z, "ct zone", 0xffff) : parseSubfield(z);
        break;
      }
      case "nat":
        actions.unshift({ kind: "nat", nat: parseNat(a) });
        break;
      case "exec":
        for (const x of parseActions(a ?? "", ctx)) actions.push(x);
        break;
      case "alg":
        alg = needArg("ct alg", a);
        break;
      default:
        throw new SimError("PARSE_ERROR", `ct: unknown argument "${part}"`);
    }
  }
  return { kind: "ct", commit, force, table, zone, actions, alg };
}

const REASONS = ["no_match", "action", "invalid_ttl", "action_set", "group", "packet_out"];

/** `controller`, `controller:N`, `controller(reason=…,max_len=…,id=…,userdata=…,pause,meter_id=…)`. */
function parseController(arg: string | null, paren: boolean): OfAction {
  let maxLen = 65535;
  let reason = 1;
  let controllerId = 0;
  let userdata: string | null = null;
  let pause = false;
  let meterId: number | null = null;
  if (arg !== null && !paren) maxLen = parseU(arg, "controller max_len", 0xffff);
  else if (arg !== null) {
    for (const kv of splitTopLevel(arg)) {
      const eq = kv.indexOf("=");
      const k = eq < 0 ? kv : kv.slice(0, eq);
      const v = eq < 0 ? "" : kv.slice(eq + 1);
      if (k === "reason") {
        reason = REASONS.indexOf(v);
        if (reason < 0) throw new SimError("BAD_VALUE", `controller: unknown reason "${v}"`);
      } else if (k === "max_len") maxLen = parseU(v, "controller max_len", 0xffff);
      else if (k === "id") controllerId = parseU(v, "controller id", 0xffff);
      else if (k === "userdata") {
        const hexText = v.replace(/\./g, "");
        if (!/^([0-9a-fA-F]{2})+$/.test(hexText))
          throw new SimError("BAD_VALUE", `controller: bad userdata "${v}"`);
        userdata = (hexText.toLowerCase().match(/../g) ?? []).join(".");
      } else if (k === "pause" && eq < 0) pause = true;
      else if (k === "meter_id") meterId = parseU(v, "controller meter_id", 0xffffffff);
      else throw new SimError("PARSE_ERROR", `controller: unknown argument "${kv}"`);
    }
  }
  let text: string;
  if (reason === 1 && controllerId === 0 && userdata === null && !pause && meterId === null) {
    text = `CONTROLLER:${maxLen}`;
  } else {
    const parts: string[] = [];
    if (reason !== 1) parts.push(`reason=${REASONS[reason]}`);
    if (maxLen !== 65535) parts.push(`max_len=${maxLen}`);
    if (controllerId !== 0) parts.push(`id=${controllerId}`);
    if (userdata !== null) parts.push(`userdata=${userdata}`);
    if (pause) parts.push("pause");
    if (meterId !== null) parts.push(`meter_id=${meterId}`);
    text = `controller(${parts.join(",")})`;
  }
  return {
    kind: "controller",
    maxLen,
    text,
    reason,
    controllerId,
    pause,
    userdata,
    ...(meterId !== null ? { meterId } : {}),
  };
}

const SAMPLE_KEYS = new Set([
  "probability",
  "collector_set_id",
  "obs_domain_id",
  "obs_point_id",
  "sampling_port",
  "ingress",
  "egress",
]);
const FIN_KEYS = new Set(["idle_timeout", "hard_timeout"]);

function checkKeyValues(item: string, arg: string, keys: ReadonlySet<string>): void {
  for (const kv of splitTopLevel(arg)) {
    const k = kv.split("=")[0]!;
    if (!keys.has(k)) throw new SimError("PARSE_ERROR", `"${item}": unknown argument "${kv}"`);
  }
}

const LEARN_KEYS = new Set([
  "table",
  "idle_timeout",
  "hard_timeout",
  "fin_idle_timeout",
  "fin_hard_timeout",
  "priority",
  "cookie",
  "limit",
  "result_dst",
]);

/** A learn spec source: a subfield (field name, NXM name with `[...]`), or null for an immediate. */
function learnSource(text: string): Subfield | null {
  const t = text.trim();
  if (/^(0x[0-9a-fA-F]+|\d+)$/.test(t) || t.includes(":") || (t.includes(".") && !t.includes("[")))
    return null;
  if (!t.includes("[") && !findField(t)) return null;
  return parseSubfield(t);
}

/**
 * `learn(...)` (upstream lib/learn.c learn_parse): the text is kept as OVS printed it; what the
 * translation needs is the table and the packet fields the specs read.
 */
function parseLearn(item: string, arg: string): OfAction {
  const sources: Subfield[] = [];
  const specs: LearnSpec[] = [];
  let table = 1;
  let priority = 32768;
  let idle = 0;
  let hard = 0;
  let cookie = 0n;
  let sendFlowRem = false;
  const imm = (dst: Subfield, text: string): bigint => {
    const t = text.trim();
    // A whole field takes its own syntax (MAC, IP…); a bit range takes an integer.
    if (dst.ofs === 0 && dst.nBits === dst.field.bits) return parseFieldValue(dst.field, t).value;
    const v = parseInteger(t, "learn immediate");
    if (v >= 1n << BigInt(dst.nBits))
      throw new SimError("BAD_VALUE", `"${item}": ${t} does not fit in ${dst.nBits} bits`);
    return v;
  };
  for (const spec of splitTopLevel(arg)) {
    if (spec === "send_flow_rem") {
      sendFlowRem = true;
      continue;
    }
    if (spec === "delete_learned") continue;
    const load = /^load:(.+)->(.+)$/.exec(spec);
    if (load) {
      const dst = parseSubfield(load[2]!);
      const src = learnSource(load[1]!);
      if (src) {
        if (src.nBits !== dst.nBits)
          throw new SimError("BAD_VALUE", `"${item}": ${spec}: source and destination widths differ`);
        sources.push(src);
        specs.push({ type: "load", dst, src, imm: 0n });
      } else specs.push({ type: "load", dst, src: null, imm: imm(dst, load[1]!) });
      continue;
    }
    const out = /^output:(.+)$/.exec(spec);
    if (out) {
      const src = parseSubfield(out[1]!);
      sources.push(src);
      specs.push({ type: "output", dst: src, src, imm: 0n });
      continue;
    }
    const eq = spec.indexOf("=");
    const key = eq < 0 ? spec : spec.slice(0, eq);
    if (LEARN_KEYS.has(key)) {
      const v = spec.slice(eq + 1);
      if (key === "table") table = parseU(v, "learn table", 254);
      else if (key === "result_dst") parseSubfield(v);
      else if (key === "priority") priority = parseU(v, "learn priority", 65535);
      else if (key === "idle_timeout") idle = parseU(v, "learn idle_timeout", 65535);
      else if (key === "hard_timeout") hard = parseU(v, "learn hard_timeout", 65535);
      else if (key === "cookie") cookie = parseInteger(v, "learn cookie");
      else parseInteger(v, `learn ${key}`);
      continue;
    }
    if (eq < 0) {
      // `FIELD[...]`: match the learned flow on the packet's own value of that field.
      const sf = parseSubfield(spec);
      sources.push(sf);
      specs.push({ type: "match", dst: sf, src: sf, imm: 0n });
      continue;
    }
    const dst = parseSubfield(key);
    const src = learnSource(spec.slice(eq + 1));
    if (src) {
      if (src.nBits !== dst.nBits)
        throw new SimError("BAD_VALUE", `"${item}": ${spec}: source and destination widths differ`);
      sources.push(src);
      specs.push({ type: "match", dst, src, imm: 0n });
    } else specs.push({ type: "match", dst, src: null, imm: imm(dst, spec.slice(eq + 1)) });
  }
  return { kind: "learn", text: item, sources, table, specs, priority, idle, hard, cookie, sendFlowRem };
}

export interface ParseContext {
  /** Port names of the bridge, for `output:eth0`. */
  readonly portByName?: (name: string) => number | undefined;
}

/** `check_pkt_larger(LEN)->DST` (its argument is outside the parentheses). */
function parseOne2(_name: "check_pkt_larger", item: string): OfAction {
  const m = /^check_pkt_larger\s*\(\s*(\d+)\s*\)\s*->\s*(.+)$/i.exec(item);
  if (!m) throw new SimError("PARSE_ERROR", `"${item}": expected check_pkt_larger(LEN)->DST`);
  const dst = parseSubfield(m[2]!);
  if (dst.nBits !== 1) throw new SimError("BAD_VALUE", `"${item}": the destination must be one bit`);
  return { kind: "check_pkt_larger", len: parseU(m[1]!, "check_pkt_larger", 0xffff), dst };
}

function parseOne(item: string, ctx: ParseContext): OfAction | null {
  if (/^\d+$/.test(item)) return { kind: "output", port: parsePort(item) };
  if (/^check_pkt_larger\s*\(/i.test(item)) return parseOne2("check_pkt_larger", item);
  const { name, arg, paren } = splitKeyArg(item);
  const lname = name.toLowerCase();
  switch (lname) {
    case "drop":
      return null;
    case "output": {
      const a = needArg(name, arg);
      if (paren) {
        let port = -1;
        let maxLen: number | undefined;
        for (const kv of splitTopLevel(a)) {
          const [k, v] = kv.split("=");
          if (k === "port") port = parsePort(v ?? "", ctx.portByName);
          else if (k === "max_len") maxLen = parseU(v ?? "", "max_len", 0xffff);
        }
        if (port < 0) throw new SimError("PARSE_ERROR", `output(${a}): missing port`);
        return maxLen === undefined ? { kind: "output", port } : { kind: "output", port, maxLen };
      }
      if (a.includes("[")) return { kind: "output_reg", src: parseSubfield(a) };
      return { kind: "output", port: parsePort(a, ctx.portByName) };
    }
    case "in_port":
    case "local":
    case "normal":
    case "flood":
    case "all":
    case "table":
      if (arg !== null) break;
      return { kind: "output", port: parsePort(name.toUpperCase()) };
    case "controller":
      return parseController(arg, paren);
    case "learn":
      if (!paren) break;
      return parseLearn(item, arg ?? "");
    case "set_queue":
      return { kind: "set_queue", queue: parseU(needArg(name, arg), "set_queue", 0xffffffff) };
    case "pop_queue":
      if (arg !== null) break;
      return { kind: "pop_queue" };
    case "enqueue": {
      const parts = needArg(name, arg).split(paren ? "," : ":");
      if (parts.length !== 2)
        throw new SimError("PARSE_ERROR", `"${item}": enqueue needs a port and a queue`);
      return {
        kind: "enqueue",
        port: parsePort(parts[0]!.trim(), ctx.portByName),
        queue: parseU(parts[1]!.trim(), "enqueue queue", 0xffffffff),
      };
    }
    case "meter":
      return { kind: "meter", id: parseU(needArg(name, arg), "meter", 0xffffffff) };
    case "sample":
    case "fin_timeout":
      if (!paren) break;
      checkKeyValues(item, arg ?? "", lname === "sample" ? SAMPLE_KEYS : FIN_KEYS);
      return { kind: lname, text: item };
    case "multipath":
      if (!paren) break;
      return { kind: "multipath", mp: parseMultipath(arg ?? "") };
    case "bundle":
    case "bundle_load":
      if (!paren) break;
      return { kind: "bundle", bundle: parseBundle(arg ?? "", lname === "bundle_load", ctx.portByName) };
    case "write_actions":
      if (!paren) break;
      return { kind: "write_actions", actions: parseActions(arg ?? "", ctx) };
    case "clear_actions":
      if (arg !== null) break;
      return { kind: "clear_actions" };
    case "push":
    case "pop":
      return { kind: lname === "push" ? "stack_push" : "stack_pop", sf: parseSubfield(needArg(name, arg)) };

    case "resubmit": {
      const a = needArg(name, arg);
      if (!paren) return { kind: "resubmit", port: parsePort(a, ctx.portByName), table: null, ct: false };
      const parts = a.split(",").map((s) => s.trim());
      if (parts.length > 3) throw new SimError("PARSE_ERROR", `resubmit(${a}): too many arguments`);
      const port = parts[0] ? parsePort(parts[0], ctx.portByName) : null;
      const table = parts[1] ? parseU(parts[1], "resubmit table", 254) : null;
      const ct = parts[2] === "ct";
      if (parts[2] !== undefined && !ct)
        throw new SimError("PARSE_ERROR", `resubmit(${a}): bad third argument`);
      if (port === null && table === null) {
        throw new SimError("PARSE_ERROR", `resubmit(${a}): at least one of port and table is required`);
      }
      return { kind: "resubmit", port, table, ct };
    }
    case "goto_table":
      return { kind: "goto_table", table: parseTable(needArg(name, arg)) };
    case "write_metadata": {
      const a = needArg(name, arg);
      const slash = a.indexOf("/");
      const value = parseInteger(slash < 0 ? a : a.slice(0, slash), "write_metadata");
      const mask = slash < 0 ? (1n << 64n) - 1n : parseInteger(a.slice(slash + 1), "write_metadata mask");
      return { kind: "write_metadata", value, mask };
    }
    case "set_field": {
      const a = needArg(name, arg);
      const arrow = a.lastIndexOf("->");
      if (arrow < 0) throw new SimError("PARSE_ERROR", `set_field:${a}: missing "->"`);
      const fname = a.slice(arrow + 2).trim();
      const field = findField(fname);
      if (!field) throw new SimError("UNKNOWN_FIELD", `set_field: unknown field "${fname}"`);
      if (!field.writable) throw new SimError("BAD_VALUE", `set_field: ${field.name} is read-only`);
      const valueText = a.slice(0, arrow).trim();
      if (
        field.prereq === "mpls" &&
        !valueText.includes("/") &&
        parseInteger(valueText, field.name) >> BigInt(field.bits)
      ) {
        // mf_is_value_valid(): the MPLS fields are narrower than their storage.
        throw new SimError(
          "BAD_VALUE",
          `set_field: ${valueText} is not a valid value for field ${field.name}`,
        );
      }
      const parsed = parseFieldValue(field, valueText);
      const { value } = parsed;
      // ovs-ofctl refuses a mask on the MPLS fields, yet `-O OpenFlow15 dump-flows` prints a whole
      // field's load (`load:5->OXM_OF_MPLS_LABEL[]`) as `set_field:5/0xfffff->mpls_label`, which it
      // then cannot read back. A dump is what users capture, so the all-ones mask is taken as that load.
      if (
        field.prereq === "mpls" &&
        valueText.includes("/") &&
        (parsed.mask ?? (1n << BigInt(field.bits)) - 1n) !== (1n << BigInt(field.bits)) - 1n
      ) {
        throw new SimError("BAD_VALUE", `set_field: ${valueText}: invalid mask for field ${field.name}`);
      }
      // OVS's vlan_vid is 2 bytes wide: an explicit /0x1fff is a mask to it (it prints it), not "exact".
      // The MPLS fields' whole-field mask stays: ofproto/trace prints the action as the dump does.
      const mask =
        field.name === "vlan_vid" && valueText.includes("/")
          ? (parsed.mask ?? 0x1fffn)
          : field.prereq === "mpls" && valueText.includes("/")
            ? (1n << BigInt(field.bits)) - 1n
            : parsed.mask;
      if (field.name === "vlan_vid" && (value & 0x1000n) === 0n) {
        // ovs-vswitchd refuses it (OFPBAC_BAD_SET_ARGUMENT): vlan_vid must carry OFPVID_PRESENT.
        throw new SimError(
          "BAD_VALUE",
          `set_field:${a}: vlan_vid needs the present bit 0x1000 (e.g. ${Number(value) | 0x1000} for VID ${value})`,
        );
      }
      return { kind: "set_field", field, value, mask, raw: "set_field", name: ovsFieldName(field, fname) };
    }
    case "load": {
      const a = needArg(name, arg);
      const arrow = a.indexOf("->");
      if (arrow < 0) throw new SimError("PARSE_ERROR", `load:${a}: missing "->"`);
      const dst = parseSubfield(a.slice(arrow + 2));
      if (!dst.field.writable) throw new SimError("BAD_VALUE", `load: ${dst.field.name} is read-only`);
      const v = parseInteger(a.slice(0, arrow), "load");
      if (v >= 1n << BigInt(dst.nBits)) {
        throw new SimError("BAD_VALUE", `load: value ${a.slice(0, arrow)} does not fit in ${dst.nBits} bits`);
      }
      const full = dst.ofs === 0 && dst.nBits === dst.field.bits;
      const mask = full ? null : ((1n << BigInt(dst.nBits)) - 1n) << BigInt(dst.ofs);
      return {
        kind: "set_field",
        field: dst.field,
        value: v << BigInt(dst.ofs),
        mask,
        raw: "load",
        name: ovsFieldName(dst.field, dst.field.name),
      };
    }
    case "move": {
      const a = needArg(name, arg);
      const arrow = a.indexOf("->");
      if (arrow < 0) throw new SimError("PARSE_ERROR", `move:${a}: missing "->"`);
      const src = parseSubfield(a.slice(0, arrow));
      const dst = parseSubfield(a.slice(arrow + 2));
      if (src.nBits !== dst.nBits) {
        throw new SimError("BAD_VALUE", `move:${a}: source and destination widths differ`);
      }
      if (!dst.field.writable) throw new SimError("BAD_VALUE", `move: ${dst.field.name} is read-only`);
      return { kind: "move", src, dst };
    }
    case "mod_dl_src":
    case "mod_dl_dst":
      return {
        kind: "set_eth",
        which: lname.endsWith("src") ? "src" : "dst",
        mac: parseMac(needArg(name, arg)),
      };
    case "mod_nw_src":
    case "mod_nw_dst":
      return {
        kind: "set_ipv4",
        which: lname.endsWith("src") ? "src" : "dst",
        ip: parseIp4(needArg(name, arg)),
      };
    case "mod_nw_tos": {
      const tos = parseU(needArg(name, arg), "mod_nw_tos", 255);
      if (tos & 3) throw new SimError("BAD_VALUE", `mod_nw_tos:${tos}: ECN bits must be zero`);
      return { kind: "set_ip_dscp", tos };
    }
    case "mod_nw_ttl":
      return { kind: "set_ip_ttl", ttl: parseU(needArg(name, arg), "mod_nw_ttl", 255) };
    case "mod_tp_src":
    case "mod_tp_dst":
      return {
        kind: "set_l4",
        which: lname.endsWith("src") ? "src" : "dst",
        port: parseU(needArg(name, arg), name, 65535),
      };
    case "push_vlan":
      return { kind: "push_vlan", tpid: parseU(needArg(name, arg), "push_vlan", 0xffff) };
    case "pop_vlan":
    case "strip_vlan":
      if (arg !== null) break;
      return { kind: "pop_vlan", raw: lname };
    case "mod_vlan_vid":
    case "set_vlan_vid":
      return {
        kind: "set_vlan_vid",
        vid: parseU(needArg(name, arg), name, 4095),
        push: lname === "mod_vlan_vid",
      };
    case "mod_vlan_pcp":
    case "set_vlan_pcp":
      return {
        kind: "set_vlan_pcp",
        pcp: parseU(needArg(name, arg), name, 7),
        push: lname === "mod_vlan_pcp",
      };
    case "dec_ttl":
      if (arg === null) return { kind: "dec_ttl", ids: null };
      return {
        kind: "dec_ttl",
        ids: splitTopLevel(arg).map((s) => parseU(s, "dec_ttl controller id", 0xffff)),
      };
    case "group":
      return { kind: "group", id: parseU(needArg(name, arg), "group", 0xffffffff) };
    case "ct":
      return parseCt(arg, ctx);
    case "ct_clear":
      if (arg !== null) break;
      return { kind: "ct_clear" };
    case "clone":
      return { kind: "clone", actions: parseActions(arg ?? "", ctx) };
    case "note": {
      const a = (arg ?? "").replace(/\./g, "");
      if (!/^([0-9a-fA-F]{2})*$/.test(a)) throw new SimError("BAD_VALUE", `note:${arg}: not hex bytes`);
      return { kind: "note", hex: a.toLowerCase() };
    }
    case "exit":
      if (arg !== null) break;
      return { kind: "exit" };
    case "conjunction": {
      const m = /^\s*((?:0x)?[0-9a-fA-F]+)\s*,\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(arg ?? "");
      if (!m || !paren)
        throw new SimError("PARSE_ERROR", `"${item}": "conjunction" syntax is "conjunction(id,i/n)"`);
      const id = parseU(m[1]!, "conjunction id", 0xffffffff);
      const k = parseU(m[2]!, "conjunction clause", 255);
      const n = parseU(m[3]!, "conjunction clauses", 255);
      if (n < 2) throw new SimError("BAD_VALUE", `"${item}": conjunction must have at least 2 clauses`);
      if (n > 64) throw new SimError("BAD_VALUE", `"${item}": conjunction must have at most 64 clauses`);
      if (k < 1) throw new SimError("BAD_VALUE", `"${item}": clause index must be positive`);
      if (k > n)
        throw new SimError(
          "BAD_VALUE",
          `"${item}": clause index must be less than or equal to number of clauses`,
        );
      return { kind: "conjunction", id, clause: k - 1, nClauses: n };
    }
    case "set_mpls_label":
    case "set_mpls_tc": {
      // OVS turns both into set_field (ofpact_set_field) and prints them so.
      const field = findField(lname.slice(4))!;
      const text = needArg(name, arg);
      const value = parseInteger(text, lname);
      if (value >> BigInt(field.bits) !== 0n) {
        throw new SimError(
          "BAD_VALUE",
          `${lname}: ${text}: not a valid MPLS ${lname === "set_mpls_tc" ? "TC" : "label"}`,
        );
      }
      return { kind: "set_field", field, value, mask: null, raw: "set_field", name: field.name };
    }
    case "set_mpls_ttl":
      return { kind: "set_mpls_ttl", ttl: parseU(needArg(name, arg), "mpls ttl", 255) };
    case "dec_mpls_ttl":
      return { kind: "dec_mpls_ttl" };
    case "push_mpls":
    case "pop_mpls": {
      const t = parseU(needArg(name, arg), `${lname} ethertype`, 0xffff);
      if (lname === "push_mpls" && t !== 0x8847 && t !== 0x8848) {
        throw new SimError("BAD_VALUE", `"${item}": push_mpls needs ethertype 0x8847 or 0x8848`);
      }
      return { kind: lname, ethertype: t };
    }
    default:
      if (UNSUPPORTED.has(lname)) return { kind: "unsupported", name: lname, text: item };
  }
  throw new SimError("UNKNOWN_ACTION", `"${item}": unknown action ${name}`);
}

/**
 * OpenFlow 1.1+ refuses `pop_vlan` unless the match (or an earlier push) guarantees a VLAN, so
 * a rule dumped as `pop_vlan` without one was installed over OpenFlow 1.0 as `strip_vlan` — the
 * spelling ofproto/trace prints for it. Restores that spelling for such rules.
 */
export function of10PopVlan(actions: OfAction[], vlanMatched: boolean): OfAction[] {
  let vlan = vlanMatched;
  let changed = false;
  const out = actions.map((a): OfAction => {
    if (
      a.kind === "push_vlan" ||
      (a.kind === "set_vlan_vid" && a.push) ||
      (a.kind === "set_vlan_pcp" && a.push)
    )
      vlan = true;
    if (a.kind === "pop_vlan" && a.raw === "pop_vlan" && !vlan) {
      changed = true;
      return { kind: "pop_vlan", raw: "strip_vlan" };
    }
    return a;
  });
  return changed ? out : actions;
}

/**
 * A rule that `-O OpenFlow15 dump-flows` prints with `reset_counts` was added over OpenFlow 1.0
 * (plain `ovs-ofctl add-flow`: an OpenFlow 1.0 flow_mod always resets the counters). The switch
 * keeps the actions as the OpenFlow 1.0 (+NXM) encoding decoded them, and ofproto/trace prints
 * those: what set_field_to_legacy_openflow() sends (`mod_dl_dst:`, `mod_nw_src:`, `mod_nw_tos:`,
 * `mod_tp_src:`, `mod_vlan_vid:`, `mod_vlan_pcp:`), otherwise one NXAST_REG_LOAD per contiguous
 * run (`load:`; variable-length fields keep `set_field:`), `strip_vlan`, and `enqueue:P:Q`,
 * which the OpenFlow 1.5 dump spells `set_queue:Q,output:P,pop_queue`. The `push_vlan:0x8100`
 * that the dump puts before a VLAN set stands for OpenFlow 1.0's push-if-needed, which
 * `mod_vlan_vid`/`mod_vlan_pcp` do by themselves. The dump cannot tell `set_tunnel:` from a
 * load to tun_id: both come back as `load:`.
 */
export function of10Actions(actions: readonly OfAction[]): OfAction[] {
  const out: OfAction[] = [];
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!;
    const next = actions[i + 1];
    if (
      a.kind === "push_vlan" &&
      a.tpid === 0x8100 &&
      next?.kind === "set_field" &&
      (next.field.name === "vlan_vid" || next.field.name === "dl_vlan_pcp")
    )
      continue;
    if (a.kind === "set_queue") {
      const o = actions[i + 1];
      const p = actions[i + 2];
      if (o?.kind === "output" && o.maxLen === undefined && p?.kind === "pop_queue") {
        out.push({ kind: "enqueue", port: o.port, queue: a.queue });
        i += 2;
        continue;
      }
    }
    out.push(of10Action(a));
  }
  return out;
}

function of10Action(a: OfAction): OfAction {
  switch (a.kind) {
    case "pop_vlan":
      return { kind: "pop_vlan", raw: "strip_vlan" };
    case "clone":
      return { kind: "clone", actions: of10Actions(a.actions) };
    case "ct":
      return { ...a, actions: of10Actions(a.actions) };
    case "set_field":
      break;
    default:
      return a;
  }
  if (a.raw === "load") return a;
  const full = (1n << BigInt(a.field.bits)) - 1n;
  const whole = a.mask === null || a.mask === full;
  const v = a.value;
  if (whole) {
    switch (a.field.name) {
      case "dl_src":
      case "dl_dst":
        return { kind: "set_eth", which: a.field.name === "dl_src" ? "src" : "dst", mac: Number(v) };
      case "nw_src":
      case "nw_dst":
        return { kind: "set_ipv4", which: a.field.name === "nw_src" ? "src" : "dst", ip: Number(v) };
      case "ip_dscp":
        return { kind: "set_ip_dscp", tos: Number(v) << 2 };
      case "nw_tos":
        return { kind: "set_ip_dscp", tos: Number(v) };
      case "tcp_src":
      case "udp_src":
        return { kind: "set_l4", which: "src", port: Number(v) };
      case "tcp_dst":
      case "udp_dst":
        return { kind: "set_l4", which: "dst", port: Number(v) };
      case "vlan_vid":
        return { kind: "set_vlan_vid", vid: Number(v) & 0xfff, push: true };
      case "dl_vlan_pcp":
        return { kind: "set_vlan_pcp", pcp: Number(v), push: true };
    }
  }
  // NXAST_REG_LOAD2 (printed as set_field) for what NXAST_REG_LOAD cannot carry.
  if (a.field.name.startsWith("tun_metadata")) return a;
  return { ...a, mask: whole ? null : a.mask, raw: "load" };
}

/** Parses an `actions=` list in ovs-ofctl syntax (`drop` or an empty list = no actions). */
export function parseActions(text: string, ctx: ParseContext = {}): OfAction[] {
  const out: OfAction[] = [];
  for (const item of splitTopLevel(text)) {
    const a = parseOne(item, ctx);
    if (a) out.push(a);
  }
  return out;
}

function formatNat(n: NatSpec): string {
  let s = "nat";
  if (n.kind !== "none") {
    s += `(${n.kind}`;
    if (n.af !== "none") {
      const fmt = (v: bigint): string =>
        n.af === "ipv4"
          ? formatFieldValue(findField("nw_src")!, v)
          : n.portMin
            ? `[${formatFieldValue(findField("ipv6_src")!, v)}]`
            : formatFieldValue(findField("ipv6_src")!, v);
      s += `=${fmt(n.addrMin)}`;
      if (n.addrMax !== 0n && n.addrMax !== n.addrMin) s += `-${fmt(n.addrMax)}`;
      if (n.portMin) {
        s += `:${n.portMin}`;
        if (n.portMax && n.portMax !== n.portMin) s += `-${n.portMax}`;
      }
    }
    for (const f of n.flags) s += `,${f}`;
    s += ")";
  }
  return s;
}

function formatLoad(a: { field: FieldSpec; value: bigint; mask: bigint | null }): string {
  // OVS next_load_segment: one `load:` per contiguous run of mask bits.
  const full = (1n << BigInt(a.field.bits)) - 1n;
  const mask = a.mask ?? full;
  const parts: string[] = [];
  let ofs = 0;
  while (ofs < a.field.bits) {
    if (((mask >> BigInt(ofs)) & 1n) === 0n) {
      ofs++;
      continue;
    }
    let end = ofs;
    while (end < a.field.bits && ((mask >> BigInt(end)) & 1n) === 1n) end++;
    const n = end - ofs;
    const v = (a.value >> BigInt(ofs)) & ((1n << BigInt(n)) - 1n);
    parts.push(`load:${hex(v)}->${formatSubfield({ field: a.field, ofs, nBits: n })}`);
    ofs = end;
  }
  return parts.join(",");
}

/** printf("%#x"): "0" for zero. */
const hex = (v: number | bigint): string => (BigInt(v) === 0n ? "0" : `0x${v.toString(16)}`);
const fmtMac = (m: number): string => formatFieldValue(findField("dl_src")!, BigInt(m));
const fmtIp = (ip: number): string => formatFieldValue(findField("nw_src")!, BigInt(ip));

/** OVS `ofpacts_format` for one action. */
export function formatAction(a: OfAction): string {
  switch (a.kind) {
    case "output":
      if (a.maxLen !== undefined && a.port !== 0xfffd)
        return `output(port=${formatPort(a.port)},max_len=${a.maxLen})`;
      return a.port < 0xff00
        ? `output:${a.port}`
        : a.port === 0xfffd
          ? `CONTROLLER:${a.maxLen ?? 65535}`
          : formatPort(a.port);
    case "output_reg":
      return `output:${formatSubfield(a.src)}`;
    case "controller":
      return a.text;
    case "learn":
    case "sample":
    case "fin_timeout":
      return a.text;
    case "set_queue":
      return `set_queue:${a.queue}`;
    case "pop_queue":
      return "pop_queue";
    case "enqueue":
      return `enqueue:${formatPort(a.port)}:${a.queue}`;
    case "meter":
      return `meter:${a.id}`;
    case "write_actions":
      return `write_actions(${a.actions.map(formatAction).join(",")})`;
    case "clear_actions":
      return "clear_actions";
    case "stack_push":
      return `push:${formatSubfield(a.sf)}`;
    case "stack_pop":
      return `pop:${formatSubfield(a.sf)}`;
    case "check_pkt_larger":
      return `check_pkt_larger(${a.len})->${formatSubfield(a.dst)}`;
    case "multipath":
      return formatMultipath(a.mp, formatSubfield(a.mp.dst));
    case "bundle": {
      const b = a.bundle;
      const head = `${b.fields},${b.basis},${b.algorithm},ofport`;
      const members = `members:${b.members.map((m) => formatPort(m)).join(",")}`;
      return b.dst
        ? `bundle_load(${head},${formatSubfield(b.dst)},${members})`
        : `bundle(${head},${members})`;
    }
    case "resubmit":
      if (a.port !== null && a.table === null && !a.ct) return `resubmit:${formatPort(a.port)}`;
      return `resubmit(${a.port === null ? "" : formatPort(a.port)},${a.table === null ? "" : a.table}${a.ct ? ",ct" : ""})`;
    case "goto_table":
      return `goto_table:${a.table}`;
    case "write_metadata":
      return `write_metadata:${hex(a.value)}${a.mask === (1n << 64n) - 1n ? "" : `/${hex(a.mask)}`}`;
    case "set_field":
      if (a.raw === "load") return formatLoad(a);
      // mf_format: a decimal field with a mask prints as decimal/hex.
      if ((a.field.name === "vlan_vid" || a.field.format === "dec") && a.mask !== null)
        return `set_field:${a.value}/0x${a.mask.toString(16)}->${a.name}`;
      return `set_field:${formatFieldValue(a.field, a.value, a.mask)}->${a.name}`;
    case "move":
      return `move:${formatSubfield(a.src)}->${formatSubfield(a.dst)}`;
    case "set_eth":
      return `mod_dl_${a.which}:${fmtMac(a.mac)}`;
    case "set_ipv4":
      return `mod_nw_${a.which}:${fmtIp(a.ip)}`;
    case "set_ip_dscp":
      return `mod_nw_tos:${a.tos}`;
    case "set_ip_ttl":
      return `mod_nw_ttl:${a.ttl}`;
    case "set_l4":
      return `mod_tp_${a.which}:${a.port}`;
    case "push_vlan":
      return `push_vlan:${hex(a.tpid)}`;
    case "pop_vlan":
      return a.raw;
    case "set_vlan_vid":
      return `${a.push ? "mod_vlan_vid" : "set_vlan_vid"}:${a.vid}`;
    case "set_vlan_pcp":
      return `${a.push ? "mod_vlan_pcp" : "set_vlan_pcp"}:${a.pcp}`;
    case "dec_ttl":
      return a.ids === null ? "dec_ttl" : `dec_ttl(${a.ids.join(",")})`;
    case "group":
      return `group:${a.id}`;
    case "ct": {
      let s = "ct(";
      if (a.commit) s += "commit,";
      if (a.force) s += "force,";
      if (a.table !== null) s += `table=${a.table},`;
      if (typeof a.zone !== "number") s += `zone=${formatSubfield(a.zone)},`;
      else if (a.zone) s += `zone=${a.zone},`;
      let rest = a.actions;
      const first = rest[0];
      if (first?.kind === "nat") {
        s += `${formatNat(first.nat)},`;
        rest = rest.slice(1);
      }
      if (rest.length) s += `exec(${formatActions(rest)}),`;
      if (a.alg !== null) s += `alg=${a.alg},`;
      if (s.endsWith(",")) s = s.slice(0, -1);
      return `${s})`;
    }
    case "nat":
      return formatNat(a.nat);
    case "ct_clear":
      return "ct_clear";
    case "clone":
      return `clone(${formatActions(a.actions)})`;
    case "note": {
      const bytes = a.hex.match(/../g) ?? [];
      return `note:${bytes.join(".")}`;
    }
    case "exit":
      return "exit";
    case "conjunction":
      return `conjunction(${a.id},${a.clause + 1}/${a.nClauses})`;
    case "push_mpls":
    case "pop_mpls":
      return `${a.kind}:0x${a.ethertype.toString(16).padStart(4, "0")}`;
    case "set_mpls_ttl":
      return `set_mpls_ttl(${a.ttl})`;
    case "dec_mpls_ttl":
      return "dec_mpls_ttl";
    case "unsupported":
      return a.text;
  }
}

/** OVS `ofpacts_format` for a list: comma-separated, `drop` when empty. */
export function formatActions(actions: readonly OfAction[]): string {
  return actions.length === 0 ? "drop" : actions.map(formatAction).join(",");
}
