/**
 * The OVN logical-flow action language (upstream `lib/actions.c` `ovnacts_parse`, ovn-sb(5)
 * "Actions"): text → a typed list of actions, and back to text the way `ovnacts_format`
 * prints them (ovn-trace shows actions in that canonical form, not verbatim). Actions a
 * logical switch pipeline never runs on this model's configurations (DHCP, DNS, controller
 * events, logging, meters) are kept as opaque `other` actions that do nothing when executed.
 */
import { SimError } from "@ovnsim/packet";
import { Cursor, type NumFormat, plainError, tokenize } from "../expr/lexer.js";
import { type FieldRef, parseFieldAt } from "../expr/parse.js";
import type { Pipeline } from "../types.js";
import type { Symtab } from "../expr/symtab.js";

/** One ct_lb backend; `ip` is a u32 for IPv4 and a bigint for IPv6. */
export interface LbBackend {
  readonly family: 4 | 6;
  readonly ip4: number;
  readonly ip6: bigint;
  readonly port: number;
}

export type ResultFn =
  | "check_in_port_sec"
  | "check_out_port_sec"
  | "chk_lb_hairpin"
  | "chk_lb_hairpin_reply"
  | "lookup_fdb"
  | "get_fdb"
  | "lookup_arp"
  | "lookup_nd"
  | "lookup_arp_ip"
  | "lookup_nd_ip"
  | "dns_lookup"
  | "chk_lb_aff"
  | "chk_ecmp_nh"
  | "chk_ecmp_nh_mac"
  | "check_pkt_larger"
  | "put_dhcp_opts"
  | "put_dhcpv6_opts"
  | "put_nd_ra_opts"
  | "select"
  | "ct_nw_dst"
  | "ct_ip6_dst"
  | "ct_tp_dst";

export type NestKind =
  | "arp"
  | "nd_na"
  | "nd_na_router"
  | "nd_ns"
  | "clone"
  | "icmp4"
  | "icmp4_error"
  | "icmp6"
  | "icmp6_error"
  | "tcp_reset"
  | "sctp_abort"
  | "reject"
  | "igmp"
  | "trigger_event";

export type Action =
  | { readonly t: "next"; readonly pipeline?: Pipeline; readonly table?: number }
  | { readonly t: "output" }
  | {
      readonly t: "load";
      readonly dst: FieldRef;
      readonly value: bigint;
      readonly mask?: bigint;
      readonly format: NumFormat;
    }
  | { readonly t: "load_str"; readonly dst: FieldRef; readonly s: string }
  | { readonly t: "move"; readonly dst: FieldRef; readonly src: FieldRef }
  | { readonly t: "exchange"; readonly a: FieldRef; readonly b: FieldRef }
  | { readonly t: "dec_ttl" }
  | { readonly t: "result"; readonly fn: ResultFn; readonly dst: FieldRef; readonly args: string }
  | { readonly t: "ct_next" }
  | { readonly t: "ct_commit"; readonly nested: readonly Action[]; readonly braces: boolean }
  | {
      readonly t: "ct_lb";
      readonly mark: boolean;
      readonly backends: readonly LbBackend[];
      readonly hashFields?: string;
      readonly flag?: "skip_snat" | "force_snat";
    }
  | {
      readonly t: "ct_nat";
      readonly kind: "ct_dnat" | "ct_snat" | "ct_dnat_in_czone" | "ct_snat_in_czone";
      readonly ip?: LbBackend;
      readonly args?: string;
    }
  | { readonly t: "ct_commit_nat" }
  | { readonly t: "ct_clear" }
  | { readonly t: "ct_snat_to_vip" }
  | { readonly t: "nest"; readonly kind: NestKind; readonly nested: readonly Action[] }
  | { readonly t: "other"; readonly name: string; readonly text: string };

const NEST_KINDS: ReadonlySet<string> = new Set<NestKind>([
  "arp",
  "nd_na",
  "nd_na_router",
  "nd_ns",
  "clone",
  "icmp4",
  "icmp4_error",
  "icmp6",
  "icmp6_error",
  "tcp_reset",
  "sctp_abort",
  "reject",
  "igmp",
]);
const RESULT_FNS: ReadonlySet<string> = new Set<ResultFn>([
  "check_in_port_sec",
  "check_out_port_sec",
  "chk_lb_hairpin",
  "chk_lb_hairpin_reply",
  "lookup_fdb",
  "get_fdb",
  "lookup_arp",
  "lookup_nd",
  "lookup_arp_ip",
  "lookup_nd_ip",
  "dns_lookup",
  "chk_lb_aff",
  "chk_ecmp_nh",
  "chk_ecmp_nh_mac",
  "check_pkt_larger",
  "put_dhcp_opts",
  "put_dhcpv6_opts",
  "put_nd_ra_opts",
  "select",
]);
/** 24.03's conntrack original-destination loads (lib/actions.c OVNACT_CT_ORIG_*), unknown to 23.03. */
const CT_ORIG_FNS: ReadonlySet<string> = new Set<ResultFn>(["ct_nw_dst", "ct_ip6_dst", "ct_tp_dst"]);

class ActionParser {
  constructor(readonly c: Cursor) {}

  /** Actions up to `}` (nested) or end of input. */
  parseList(nested: boolean): Action[] {
    const out: Action[] = [];
    const c = this.c;
    for (;;) {
      if (nested ? c.isPunct("}") : c.tok.t === "end") break;
      if (c.tok.t === "end") throw c.error("expecting `}'");
      if (c.match(";")) continue;
      const a = this.parseAction();
      if (a) out.push(a);
      if (nested && c.isPunct("}")) break;
      if (!c.match(";")) throw c.error("expecting `;'");
    }
    return out;
  }

  private parseAction(): Action | undefined {
    const c = this.c;
    const t = c.tok;
    if (t.t !== "id") throw c.error("expecting action");
    const la = c.peek();
    const laIs = (p: string): boolean => la.t === "punct" && la.s === p;
    // Assignments: field = …, field <-> …, ip.ttl--
    if (laIs("=") || laIs("<->") || laIs("[") || (laIs("-") && t.s === "ip.ttl")) {
      return this.parseAssignment();
    }
    const name = t.s;
    switch (name) {
      case "drop":
        c.next();
        return undefined;
      case "output":
        c.next();
        return { t: "output" };
      case "next":
        c.next();
        return this.parseNext();
      case "ct_next":
        c.next();
        return { t: "ct_next" };
      case "ct_clear":
        c.next();
        return { t: "ct_clear" };
      case "ct_commit_nat":
        c.next();
        return { t: "ct_commit_nat" };
      case "ct_snat_to_vip":
        c.next();
        return { t: "ct_snat_to_vip" };
      case "ct_commit": {
        c.next();
        if (c.match("{")) {
          const nested = this.parseList(true);
          c.force("}");
          return { t: "ct_commit", nested, braces: true };
        }
        if (c.isPunct("(")) return { t: "other", name, text: `ct_commit${this.skipParens()}` };
        return { t: "ct_commit", nested: [], braces: false };
      }
      case "ct_lb":
      case "ct_lb_mark":
        c.next();
        return this.parseCtLb(name === "ct_lb_mark");
      case "ct_dnat":
      case "ct_snat":
      case "ct_dnat_in_czone":
      case "ct_snat_in_czone": {
        c.next();
        if (!c.isPunct("(")) return { t: "ct_nat", kind: name };
        const args = this.skipParens();
        const inner = args.slice(1, -1).trim();
        const ip = parseBackend(inner.split(/[,\s]/)[0] ?? "");
        return { t: "ct_nat", kind: name, ...(ip ? { ip } : {}), args: inner };
      }
      default:
        break;
    }
    if (NEST_KINDS.has(name) && laIs("{")) {
      c.next();
      c.next();
      const nested = this.parseList(true);
      c.force("}");
      return { t: "nest", kind: name as NestKind, nested };
    }
    // Anything else: name, name(args…), name { … } — kept opaque.
    const start = t.start;
    c.next();
    if (c.isPunct("(")) this.skipParens();
    if (c.isPunct("{")) this.skipBraces();
    const end = c.toks[c.pos - 1]!.end;
    return { t: "other", name, text: c.src.slice(start, end) };
  }

  private parseNext(): Action {
    const c = this.c;
    if (!c.match("(")) return { t: "next" };
    let pipeline: Pipeline | undefined;
    let table: number | undefined;
    const tok = c.tok;
    if (tok.t === "int") {
      table = Number(tok.value);
      c.next();
    } else {
      for (;;) {
        if (c.matchId("pipeline")) {
          c.force("=");
          if (c.matchId("ingress")) pipeline = "ingress";
          else if (c.matchId("egress")) pipeline = "egress";
          else throw c.error("expecting `ingress' or `egress'");
        } else if (c.matchId("table")) {
          c.force("=");
          const n = c.tok;
          if (n.t !== "int") throw c.error("expecting table number");
          table = Number(n.value);
          c.next();
        } else throw c.error("expecting `pipeline' or `table'");
        if (!c.match(",")) break;
      }
    }
    c.force(")");
    return { t: "next", ...(pipeline ? { pipeline } : {}), ...(table !== undefined ? { table } : {}) };
  }

  private parseAssignment(): Action {
    const c = this.c;
    const dst = parseFieldAt(c);
    if (dst.sym.name === "ip.ttl" && c.isPunct("-")) {
      c.next();
      c.force("-");
      return { t: "dec_ttl" };
    }
    if (c.match("<->")) {
      const b = parseFieldAt(c);
      checkAssign(dst, b);
      return { t: "exchange", a: dst, b };
    }
    c.force("=");
    const t = c.tok;
    if (t.t === "id") {
      const la = c.peek();
      if (la.t === "punct" && la.s === "(") {
        const known = RESULT_FNS.has(t.s) || (CT_ORIG_FNS.has(t.s) && (c.symtab?.ovn ?? 23) >= 24);
        if (!known) throw c.error("expecting field name");
        c.next();
        const args = this.skipParens();
        return { t: "result", fn: t.s as ResultFn, dst, args: args.slice(1, -1) };
      }
      const src = parseFieldAt(c);
      checkAssign(dst, src);
      return { t: "move", dst, src };
    }
    if (t.t === "str") {
      if (dst.sym.kind !== "string")
        throw plainError(`Cannot use numeric field ${dst.sym.name} where string field is required.`);
      c.next();
      return { t: "load_str", dst, s: t.s };
    }
    if (t.t === "int") {
      if (dst.sym.kind === "string")
        throw plainError(`Cannot use string field ${dst.sym.name} where numeric field is required.`);
      if (dst.sym.kind === "predicate")
        throw plainError(`Predicate symbol ${dst.sym.name} used where lvalue required.`);
      if (!dst.sym.rw) throw plainError(`Field ${dst.sym.name} is not modifiable.`);
      const width =
        t.format === "ipv4" ? 32 : t.format === "ipv6" ? 128 : t.format === "mac" ? 48 : bitLen(t.value);
      if (width > dst.nbits)
        throw plainError(
          `${width}-bit constant is not compatible with ${dst.nbits}-bit field ${dst.sym.name}.`,
        );
      c.next();
      return {
        t: "load",
        dst,
        value: t.value,
        format: t.format,
        ...(t.mask !== undefined ? { mask: t.mask } : {}),
      };
    }
    throw c.error("expecting field or constant");
  }

  private parseCtLb(mark: boolean): Action {
    const c = this.c;
    if (!c.isPunct("(")) return { t: "ct_lb", mark, backends: [] };
    const text = this.skipParens().slice(1, -1);
    const backends: LbBackend[] = [];
    let hashFields: string | undefined;
    let flag: "skip_snat" | "force_snat" | undefined;
    for (const part of text.split(";")) {
      const p = part.trim();
      if (p === "") continue;
      if (p.startsWith("backends=")) {
        for (const b of p.slice("backends=".length).split(",")) {
          const be = parseBackend(b.trim());
          if (!be) throw plainError(`Syntax error: bad ct_lb backend "${b.trim()}".`);
          backends.push(be);
        }
      } else if (p.startsWith("hash_fields=")) {
        hashFields = p.slice("hash_fields=".length).replace(/^"|"$/g, "");
      } else if (p === "skip_snat" || p === "force_snat") flag = p;
      else {
        // OVN ≤ 20.x style: ct_lb(ip:port,…)
        for (const b of p.split(",")) {
          const be = parseBackend(b.trim());
          if (!be) throw plainError(`Syntax error: bad ct_lb argument "${p}".`);
          backends.push(be);
        }
      }
    }
    return {
      t: "ct_lb",
      mark,
      backends,
      ...(hashFields !== undefined ? { hashFields } : {}),
      ...(flag ? { flag } : {}),
    };
  }

  /** Skips a balanced `( … )` group and returns its source text. */
  private skipParens(): string {
    return this.skipGroup("(", ")");
  }
  private skipBraces(): string {
    return this.skipGroup("{", "}");
  }
  private skipGroup(open: "(" | "{", close: ")" | "}"): string {
    const c = this.c;
    const start = c.tok.start;
    c.force(open);
    let depth = 1;
    while (depth > 0) {
      const t = c.tok;
      if (t.t === "end") throw c.error(`expecting \`${close}'`);
      if (t.t === "punct" && t.s === open) depth++;
      if (t.t === "punct" && t.s === close) depth--;
      c.next();
    }
    return c.src.slice(start, c.toks[c.pos - 1]!.end);
  }
}

function bitLen(v: bigint): number {
  return v === 0n ? 0 : v.toString(2).length;
}

function checkAssign(a: FieldRef, b: FieldRef): void {
  if ((a.sym.kind === "string") !== (b.sym.kind === "string")) {
    throw plainError(
      `Can't assign ${b.sym.kind === "string" ? "string" : "integer"} field (${b.sym.name}) to ${a.sym.kind === "string" ? "string" : "integer"} field (${a.sym.name}).`,
    );
  }
  if (a.sym.kind !== "string" && a.nbits !== b.nbits) {
    throw plainError(`Can't assign ${b.nbits}-bit value to ${a.nbits}-bit destination.`);
  }
  for (const f of [a, b]) {
    if (f.sym.kind === "predicate")
      throw plainError(`Predicate symbol ${f.sym.name} used where lvalue required.`);
  }
}

/** "10.0.0.1:80", "10.0.0.1", "[fd00::1]:80", "fd00::1" → backend. */
export function parseBackend(text: string): LbBackend | undefined {
  const m4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d{1,5}))?$/.exec(text);
  if (m4) {
    const parts = m4[1]!.split(".").map(Number);
    if (parts.some((x) => x > 255)) return undefined;
    const port = m4[2] !== undefined ? Number(m4[2]) : 0;
    if (port > 65535) return undefined;
    return {
      family: 4,
      ip4: ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0,
      ip6: 0n,
      port,
    };
  }
  const m6 =
    /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(text) ?? /^([0-9a-fA-F:.]*:[0-9a-fA-F:.]*)$/.exec(text);
  if (m6) {
    const toks = tokenize(m6[1]!);
    const t = toks[0];
    if (t?.t !== "int" || t.format !== "ipv6") return undefined;
    const port = m6[2] !== undefined ? Number(m6[2]) : 0;
    return { family: 6, ip4: 0, ip6: t.value, port };
  }
  return undefined;
}

/** Parses an action string. Throws SimError(PARSE_ERROR) with OVN-style messages. */
export function parseActions(src: string, opts: { readonly symtab?: Symtab } = {}): Action[] {
  try {
    const c = new Cursor(src, tokenize(src));
    c.symtab = opts.symtab;
    return new ActionParser(c).parseList(false);
  } catch (e) {
    if (e instanceof SimError) throw e;
    throw new SimError("PARSE_ERROR", String(e));
  }
}
