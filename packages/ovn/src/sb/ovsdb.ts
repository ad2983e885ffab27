/**
 * Reader for the record format `ovn-sbctl list TABLE` prints (ovsdb's `list` command, one
 * `column : value` line per column, records separated by blank lines). Values are atoms
 * (bare or "quoted" strings, integers, uuids, booleans), sets `[a, b]` and maps `{k=v}`.
 * Any subset of columns may be present; the caller asks for what it needs.
 */
import { SimError } from "@ovnsim/packet";

export type OvsdbValue =
  | { readonly kind: "atom"; readonly s: string }
  | { readonly kind: "set"; readonly xs: readonly string[] }
  | { readonly kind: "map"; readonly m: ReadonlyMap<string, string> };

export type OvsdbRecord = ReadonlyMap<string, OvsdbValue>;

/** Parses the whole output of `ovn-sbctl list TABLE`. Throws SimError(PARSE_ERROR) with file:line. */
export function parseOvsdbList(text: string, file?: string): OvsdbRecord[] {
  const out: OvsdbRecord[] = [];
  let cur: Map<string, OvsdbValue> | undefined;
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, "");
    if (line.trim() === "") {
      if (cur) out.push(cur);
      cur = undefined;
      continue;
    }
    const colon = line.indexOf(":");
    if (colon < 0) {
      throw new SimError("PARSE_ERROR", `expecting "column : value", got "${line.slice(0, 60)}"`, {
        ...(file !== undefined ? { file } : {}),
        line: i + 1,
      });
    }
    const col = line.slice(0, colon).trim();
    const raw = line.slice(colon + 1).trim();
    try {
      cur ??= new Map();
      cur.set(col, parseValue(raw));
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      throw new SimError("PARSE_ERROR", `column ${col}: ${msg}`, {
        ...(file !== undefined ? { file } : {}),
        line: i + 1,
      });
    }
  }
  if (cur) out.push(cur);
  return out;
}

/** Parses one value as `ovs-vsctl`/`ovn-sbctl list` print it. */
export function parseValue(raw: string): OvsdbValue {
  const s = raw.trim();
  if (s.startsWith("[")) {
    if (!s.endsWith("]")) throw new Error(`unterminated set "${s.slice(0, 40)}"`);
    return { kind: "set", xs: splitTop(s.slice(1, -1), ",").map((x) => unquote(x.trim())) };
  }
  if (s.startsWith("{")) {
    if (!s.endsWith("}")) throw new Error(`unterminated map "${s.slice(0, 40)}"`);
    const m = new Map<string, string>();
    for (const kv of splitTop(s.slice(1, -1), ",")) {
      const parts = splitTop(kv.trim(), "=");
      if (parts.length < 2) throw new Error(`map entry "${kv.trim().slice(0, 40)}" has no "="`);
      m.set(unquote(parts[0]!.trim()), unquote(parts.slice(1).join("=").trim()));
    }
    return { kind: "map", m };
  }
  return { kind: "atom", s: unquote(s) };
}

/** Splits at `sep` outside double quotes; empty input gives no parts. */
function splitTop(s: string, sep: string): string[] {
  if (s.trim() === "") return [];
  const out: string[] = [];
  let cur = "";
  let inq = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (inq) {
      cur += c;
      if (c === "\\" && i + 1 < s.length) {
        cur += s[++i]!;
      } else if (c === '"') inq = false;
    } else if (c === '"') {
      inq = true;
      cur += c;
    } else if (c === sep && sep === "=" && out.length > 0) {
      cur += c;
    } else if (c === sep) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (inq) throw new Error("unterminated quoted string");
  out.push(cur);
  return out;
}

function unquote(s: string): string {
  if (!s.startsWith('"')) return s;
  if (!s.endsWith('"') || s.length < 2) throw new Error(`bad quoted string ${s.slice(0, 40)}`);
  let out = "";
  for (let i = 1; i < s.length - 1; i++) {
    const c = s[i]!;
    if (c === "\\" && i + 1 < s.length - 1) {
      const e = s[++i]!;
      out += e === "n" ? "\n" : e === "t" ? "\t" : e === "r" ? "\r" : e;
    } else out += c;
  }
  return out;
}

/** A column as a single string ("" when missing or an empty set). */
export function atom(r: OvsdbRecord, col: string): string {
  const v = r.get(col);
  if (!v) return "";
  if (v.kind === "atom") return v.s;
  if (v.kind === "set") return v.xs[0] ?? "";
  return "";
}
/** A column as a list of strings (an atom is a one-element list). */
export function set(r: OvsdbRecord, col: string): string[] {
  const v = r.get(col);
  if (!v) return [];
  if (v.kind === "set") return [...v.xs];
  if (v.kind === "atom") return v.s === "" ? [] : [v.s];
  return [];
}
/** A column as a map (empty when missing). */
export function map(r: OvsdbRecord, col: string): ReadonlyMap<string, string> {
  const v = r.get(col);
  return v?.kind === "map" ? v.m : new Map();
}
