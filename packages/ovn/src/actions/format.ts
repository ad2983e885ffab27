/**
 * Action text in OVN's canonical form (upstream `lib/actions.c` `ovnacts_format`,
 * `lib/expr.c` `expr_field_format`/`expr_constant_format`), the form ovn-trace prints.
 */
import type { NumFormat } from "../expr/lexer.js";
import type { FieldRef } from "../expr/parse.js";
import { type Action, type LbBackend, parseBackend } from "./parse.js";

export function formatField(f: FieldRef): string {
  if (f.sym.kind === "string" || (f.lo === 0 && f.nbits === f.sym.width)) return f.sym.name;
  return f.nbits === 1 ? `${f.sym.name}[${f.lo}]` : `${f.sym.name}[${f.lo}..${f.lo + f.nbits - 1}]`;
}

export function formatIp4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** RFC 5952 text of a 128-bit IPv6 address (inet_ntop). */
export function formatIp6(v: bigint): string {
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((v >> BigInt(16 * i)) & 0xffffn));
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${formatIp4(g[6]! * 65536 + g[7]!)}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] === 0) {
      let j = i;
      while (j < 8 && g[j] === 0) j++;
      if (j - i > bestLen && j - i >= 2) {
        bestStart = i;
        bestLen = j - i;
      }
      i = j;
    } else i++;
  }
  const hex = (xs: number[]): string => xs.map((x) => x.toString(16)).join(":");
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

export function formatMac(v: number | bigint): string {
  const n = BigInt(v);
  const out: string[] = [];
  for (let i = 5; i >= 0; i--)
    out.push(
      Number((n >> BigInt(8 * i)) & 0xffn)
        .toString(16)
        .padStart(2, "0"),
    );
  return out.join(":");
}

function plenOf(mask: bigint, width: number): number | undefined {
  const s = mask.toString(2).padStart(width, "0");
  const p = s.indexOf("0");
  const plen = p < 0 ? width : p;
  return /^1*0*$/.test(s) ? plen : undefined;
}

/** A constant as OVN prints it (`expr_constant_format`), by the format it was written in. */
export function formatConstant(value: bigint, format: NumFormat, mask?: bigint): string {
  switch (format) {
    case "decimal":
      return mask === undefined ? value.toString() : `${value}/0x${mask.toString(16)}`;
    case "hex":
      return mask === undefined
        ? `0x${value.toString(16)}`
        : `0x${value.toString(16)}/0x${mask.toString(16)}`;
    case "ipv4": {
      const s = formatIp4(Number(value));
      if (mask === undefined) return s;
      const p = plenOf(mask, 32);
      return p !== undefined ? `${s}/${p}` : `${s}/${formatIp4(Number(mask))}`;
    }
    case "ipv6": {
      const s = formatIp6(value);
      if (mask === undefined) return s;
      const p = plenOf(mask, 128);
      return p !== undefined ? `${s}/${p}` : `${s}/${formatIp6(mask)}`;
    }
    case "mac":
      return mask === undefined ? formatMac(value) : `${formatMac(value)}/${formatMac(mask)}`;
  }
}

function formatBackend(b: LbBackend): string {
  if (b.family === 4) return b.port ? `${formatIp4(b.ip4)}:${b.port}` : formatIp4(b.ip4);
  return b.port ? `[${formatIp6(b.ip6)}]:${b.port}` : formatIp6(b.ip6);
}

/** Formats one action; `cur` gives the table and pipeline it belongs to (for `next`). */
export function formatAction(a: Action, cur: { table: number; pipeline: "ingress" | "egress" }): string {
  switch (a.t) {
    case "next": {
      const pipeline = a.pipeline ?? cur.pipeline;
      const table = a.table ?? cur.table + 1;
      if (pipeline !== cur.pipeline) return `next(pipeline=${pipeline}, table=${table});`;
      if (table !== cur.table + 1) return `next(${table});`;
      return "next;";
    }
    case "output":
      return "output;";
    case "load":
      return `${formatField(a.dst)} = ${formatConstant(a.value, a.format, a.mask)};`;
    case "load_str":
      return `${formatField(a.dst)} = ${JSON.stringify(a.s)};`;
    case "move":
      return `${formatField(a.dst)} = ${formatField(a.src)};`;
    case "exchange":
      return `${formatField(a.a)} <-> ${formatField(a.b)};`;
    case "dec_ttl":
      return "ip.ttl--;";
    case "result": {
      // ovnacts_format prints every select() member with its weight (default 100).
      if (a.fn === "select") {
        const ms = a.args.split(",").map((x) => /^\s*(\d+)\s*(?:=\s*(\d+)\s*)?$/.exec(x));
        if (ms.every((m) => m !== null))
          return `${formatField(a.dst)} = select(${ms.map((m) => `${m![1]}=${m![2] ?? 100}`).join(", ")});`;
      }
      return `${formatField(a.dst)} = ${a.fn}(${a.args});`;
    }
    case "ct_next":
      return "ct_next;";
    case "ct_commit":
      return a.nested.length ? `ct_commit { ${formatActions(a.nested, cur)} };` : "ct_commit;";
    case "ct_lb": {
      let s = a.mark ? "ct_lb_mark" : "ct_lb";
      if (a.backends.length) {
        s += `(backends=${a.backends.map(formatBackend).join(",")}`;
        if (a.hashFields !== undefined) s += `; hash_fields="${a.hashFields}"`;
        if (a.flag) s += `; ${a.flag}`;
        s += ")";
      }
      return `${s};`;
    }
    case "ct_nat":
      return a.args !== undefined ? `${a.kind}(${a.args});` : `${a.kind};`;
    case "ct_commit_nat":
      return "ct_commit_nat;";
    case "ct_clear":
      return "ct_clear;";
    case "ct_snat_to_vip":
      return "ct_snat_to_vip;";
    case "nest":
      return `${a.kind} { ${formatActions(a.nested, cur)} };`;
    case "other":
      if (a.name === "log") return formatLog(a.text);
      if (a.name === "commit_lb_aff") return formatCommitLbAff(a.text) ?? `${a.text};`;
      return `${a.text};`;
  }
}

/** Formats an action list as `ovnacts_format` does ("drop;" when empty). */
export function formatActions(
  as: readonly Action[],
  cur: { table: number; pipeline: "ingress" | "egress" },
): string {
  if (as.length === 0) return "drop;";
  return as.map((a) => formatAction(a, cur)).join(" ");
}

/** log(...) in format_LOG's order: name, verdict, severity, meter. */
function formatLog(text: string): string {
  const m = (k: string): string | undefined =>
    new RegExp(`${k}\\s*=\\s*("(?:[^"\\\\]|\\\\.)*"|[A-Za-z0-9_.-]+)`).exec(text)?.[1];
  const name = m("name");
  const meter = m("meter");
  let s = "log(";
  if (name !== undefined) s += `name=${name.startsWith('"') ? name : `"${name}"`}, `;
  s += `verdict=${m("verdict") ?? "allow"}, severity=${m("severity") ?? "info"}`;
  if (meter !== undefined) s += `, meter=${meter.startsWith('"') ? meter : `"${meter}"`}`;
  return `${s});`;
}

/**
 * commit_lb_aff(...) as format_COMMIT_LB_AFF prints it: an IPv6 VIP and backend always in
 * brackets (northd writes a port-less IPv6 VIP bare), a port only when set, proto only when given.
 */
function formatCommitLbAff(text: string): string | undefined {
  const str = (k: string): string | undefined => new RegExp(`\\b${k}\\s*=\\s*"([^"]*)"`).exec(text)?.[1];
  const id = (k: string): string | undefined => new RegExp(`\\b${k}\\s*=\\s*([A-Za-z0-9_]+)`).exec(text)?.[1];
  const vipText = str("vip");
  const backendText = str("backend");
  const timeout = id("timeout");
  if (vipText === undefined || backendText === undefined || timeout === undefined) return undefined;
  const vip = parseBackend(vipText);
  const backend = parseBackend(backendText);
  if (!vip || !backend || vip.family !== backend.family) return undefined;
  const addr = (b: LbBackend): string =>
    `${b.family === 4 ? formatIp4(b.ip4) : `[${formatIp6(b.ip6)}]`}${b.port ? `:${b.port}` : ""}`;
  const proto = id("proto");
  return `commit_lb_aff(vip = "${addr(vip)}", backend = "${addr(backend)}"${proto !== undefined ? `, proto = ${proto}` : ""}, timeout = ${Number(timeout)});`;
}
