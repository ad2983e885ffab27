/**
 * OpenFlow port names as OVS handles them (lib/ofp-port.c `ofputil_port_map`, lib/namemap.c).
 *
 * Two name spaces meet here. A port's real name is its netdev name (`ovs-vsctl show`, `ovs-vsctl
 * list Interface`, `dpif/show`, `ofproto/trace --names`). OpenFlow's port description carries
 * at most 15 bytes of it (OFP_MAX_PORT_NAME_LEN, NUL included), so `ovs-ofctl show` and
 * `ovs-ofctl --names dump-flows` print truncated names — and where two truncated names collide
 * (Kube-OVN's `patch-localnet.<subnet>-to-br-int`, ovn-controller's `patch-br-int-to-<net>`),
 * the port map marks the name a duplicate and prints the number instead. Names are printed
 * bare when they are a letter followed by letters and digits, JSON-quoted otherwise.
 */
import { formatAction, type OfAction } from "./actions.js";
import type { Bridge } from "./model.js";
import { formatPort } from "./values.js";

/** OFP_MAX_PORT_NAME_LEN - 1: bytes of a port name that OpenFlow carries. */
export const OFP_PORT_NAME_BYTES = 15;

/** A name as an OpenFlow port description holds it (ovs_strlcpy into 16 bytes). */
export function ofTruncatedName(name: string): string {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length <= OFP_PORT_NAME_BYTES) return name;
  // Cut on bytes, as C does; a split multi-byte character decodes as U+FFFD.
  return new TextDecoder().decode(bytes.subarray(0, OFP_PORT_NAME_BYTES));
}

/** namemap `name_needs_quotes`: anything but a letter followed by letters/digits is quoted. */
export function nameNeedsQuotes(name: string): boolean {
  return !/^[A-Za-z][A-Za-z0-9]*$/.test(name);
}

/** namemap_put_name: the name bare, or as a JSON string (json_string_escape). */
export function quotePortName(name: string): string {
  return nameNeedsQuotes(name) ? JSON.stringify(name) : name;
}

/** A possibly quoted port name as `ovs-ofctl --names` prints it, unquoted (undefined if malformed). */
export function unquotePortName(text: string): string | undefined {
  if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
    try {
      const v: unknown = JSON.parse(text);
      return typeof v === "string" ? v : undefined;
    } catch {
      return undefined;
    }
  }
  return text;
}

/**
 * ofputil_port_map for printing: number → name, except names given to two numbers (both
 * print as numbers, as `ofputil_port_map_get_name` returns NULL for a duplicate).
 */
export function printablePortNames(entries: Iterable<readonly [number, string]>): Map<number, string> {
  const byName = new Map<string, number[]>();
  for (const [n, name] of entries) {
    const l = byName.get(name);
    if (l) l.push(n);
    else byName.set(name, [n]);
  }
  const out = new Map<number, string>();
  for (const [name, nums] of byName) if (nums.length === 1) out.set(nums[0]!, name);
  return out;
}

/** The map `ofproto/trace --names` uses for a bridge: full netdev names by OpenFlow number. */
export function tracePortNames(b: Bridge): Map<number, string> {
  return printablePortNames([...b.ports.values()].map((p) => [p.ofport, p.name] as const));
}

/** The names `ofproto/trace` accepts in its flow (`in_port=NAME`): full netdev names. */
export function tracePortNumbers(b: Bridge): Map<string, number> {
  const out = new Map<string, number>([["LOCAL", 0xfffe]]);
  for (const p of b.ports.values()) out.set(p.name, p.ofport);
  return out;
}

/**
 * Names a flow text of `b` may use for its ports: full names, and the truncated names
 * `ovs-ofctl --names` prints (only those that do not collide: colliding ones print as numbers).
 */
export function parsablePortNames(b: Bridge): Map<string, number> {
  const out = new Map<string, number>();
  const truncated = printablePortNames(
    [...b.ports.values()].map((p) => [p.ofport, ofTruncatedName(p.name)] as const),
  );
  for (const [n, name] of truncated) out.set(name, n);
  for (const p of b.ports.values()) out.set(p.name, p.ofport);
  return out;
}

/** ofputil_format_port with a port map: reserved names, then the (quoted) name, then the number. */
export function formatPortNamed(port: number, names?: ReadonlyMap<number, string>): string {
  if (port >= 0xff00) return formatPort(port);
  const n = names?.get(port);
  return n === undefined ? String(port) : quotePortName(n);
}

/** An action as `ofpacts_format` prints it with a port map (only port-bearing actions change). */
export function formatActionNamed(a: OfAction, names?: ReadonlyMap<number, string>): string {
  if (!names || names.size === 0) return formatAction(a);
  switch (a.kind) {
    case "output":
      if (a.port < 0xff00) return `output:${formatPortNamed(a.port, names)}`;
      return formatAction(a);
    case "resubmit": {
      if (a.port === null || a.port >= 0xff00) return formatAction(a);
      const p = formatPortNamed(a.port, names);
      if (a.table === null && !a.ct) return `resubmit:${p}`;
      return `resubmit(${p},${a.table === null ? "" : a.table}${a.ct ? ",ct" : ""})`;
    }
    default:
      return formatAction(a);
  }
}
