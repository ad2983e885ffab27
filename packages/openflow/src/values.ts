/**
 * Field values as `set_field:VALUE->FIELD` and `load:` write them, and as OVS's `mf_format`
 * prints them back (decimal, hex, MAC, IPv4/IPv6, ct_state flags, ports). A thin layer over
 * the packet package's address helpers; match parsing itself lives in @ovnsim/packet.
 */
import {
  CS,
  type FieldSpec,
  formatIp4,
  formatIp6,
  formatMac,
  maskToPlen4,
  maskToPlen6,
  OFPP,
  parseIp4Scan,
  parseIp6,
  parseMac,
  SimError,
  TCP_FLAG,
} from "@ovnsim/packet";

const full = (spec: FieldSpec): bigint => (1n << BigInt(spec.bits)) - 1n;

/** Reserved OpenFlow port names, as `ofputil_port_from_string` accepts and prints them. */
export const PORT_NAMES: ReadonlyMap<string, number> = new Map([
  ["IN_PORT", OFPP.IN_PORT],
  ["TABLE", OFPP.TABLE],
  ["NORMAL", OFPP.NORMAL],
  ["FLOOD", OFPP.FLOOD],
  ["ALL", OFPP.ALL],
  ["CONTROLLER", OFPP.CONTROLLER],
  ["LOCAL", OFPP.LOCAL],
  ["NONE", OFPP.NONE],
  ["ANY", OFPP.NONE],
]);

/**
 * OVS `ofputil_format_port`: a number, or the reserved name. 0xffff prints as ANY (OVS reads NONE
 * too, but names it ANY: `set_field:ANY->in_port` in ovn-controller's dumps).
 */
export function formatPort(port: number): string {
  for (const [name, n] of PORT_NAMES) if (n === port && name !== "NONE") return name;
  return String(port);
}

/** OVS `ofputil_port_from_string` for numbers and reserved names; names of real ports via `lookup`. */
export function parsePort(text: string, lookup?: (name: string) => number | undefined): number {
  const t = text.trim();
  const reserved = PORT_NAMES.get(t.toUpperCase());
  if (reserved !== undefined) return reserved;
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n > 0xffff) throw new SimError("BAD_VALUE", `port "${t}" is out of range`);
    return n;
  }
  const byName = lookup?.(t.replace(/^"|"$/g, ""));
  if (byName !== undefined) return byName;
  throw new SimError("UNKNOWN_PORT", `"${t}" is not a port number or known port name`);
}

/** Parses an integer in OVS syntax (decimal or 0x hex), as a bigint. */
export function parseInteger(text: string, what: string): bigint {
  const t = text.trim();
  if (/^0x[0-9a-fA-F]+$/.test(t)) return BigInt(t);
  if (/^\d+$/.test(t)) return BigInt(t);
  throw new SimError("BAD_VALUE", `${what}: "${text}" is not a number`);
}

function parseFlags(text: string, names: Record<string, number>, what: string): bigint {
  let v = 0;
  for (const part of text.split(/[|+]/)) {
    if (part === "") continue;
    const bit = names[part];
    if (bit === undefined) throw new SimError("BAD_VALUE", `${what}: unknown flag "${part}"`);
    v |= bit;
  }
  return BigInt(v);
}

function parseOne(spec: FieldSpec, text: string): bigint {
  switch (spec.format) {
    case "mac":
      return BigInt(parseMac(text, spec.name));
    case "ipv4":
      // set_field values are read as matches are (ip_parse_masked): "010.0.0.1" is 10.0.0.1.
      return BigInt(parseIp4Scan(text, spec.name));
    case "ipv6":
      return parseIp6(text, spec.name);
    case "ct_state":
      return /^0x|^\d/.test(text) ? parseInteger(text, spec.name) : parseFlags(text, CS, spec.name);
    case "tcp_flags":
      return /^0x|^\d/.test(text) ? parseInteger(text, spec.name) : parseFlags(text, TCP_FLAG, spec.name);
    case "port":
      return BigInt(parsePort(text));
    case "frag":
      throw new SimError("BAD_VALUE", `${spec.name} cannot be set`);
    default:
      return parseInteger(text, spec.name);
  }
}

/** `VALUE` or `VALUE/MASK` for `spec` (set_field syntax). Mask null = exact. */
export function parseFieldValue(spec: FieldSpec, text: string): { value: bigint; mask: bigint | null } {
  const slash = text.indexOf("/");
  let value: bigint;
  let mask: bigint | null = null;
  if (slash < 0) value = parseOne(spec, text);
  else {
    value = parseOne(spec, text.slice(0, slash));
    const m = text.slice(slash + 1);
    if (spec.format === "ipv4" && /^\d{1,2}$/.test(m)) {
      const plen = Number(m);
      mask = plen === 0 ? 0n : ((1n << 32n) - 1n) ^ ((1n << BigInt(32 - plen)) - 1n);
    } else if (spec.format === "ipv6" && /^\d{1,3}$/.test(m)) {
      const plen = Number(m);
      mask = plen === 0 ? 0n : ((1n << 128n) - 1n) ^ ((1n << BigInt(128 - plen)) - 1n);
    } else mask = parseOne(spec, m);
  }
  if (value > full(spec) || (mask !== null && mask > full(spec))) {
    throw new SimError("BAD_VALUE", `${spec.name}: "${text}" does not fit in ${spec.bits} bits`);
  }
  if (mask !== null && (value & ~mask) !== 0n) {
    throw new SimError("BAD_MASK", `${spec.name}: "${text}" has value bits outside its mask`);
  }
  if (mask === full(spec)) mask = null;
  return { value, mask };
}

function formatFlags(v: number, names: Record<string, number>): string {
  const out: string[] = [];
  for (const [n, bit] of Object.entries(names)) if (v & bit) out.push(n);
  return out.join("|");
}

/** printf("%#x"): "0" for zero, as OVS prints it. */
const hex = (v: bigint): string => (v === 0n ? "0" : `0x${v.toString(16)}`);

/** OVS `mf_format` for one value (and mask, when not exact). */
export function formatFieldValue(spec: FieldSpec, value: bigint, mask: bigint | null = null): string {
  const exact = mask === null || mask === full(spec);
  switch (spec.format) {
    case "mac":
      return exact ? formatMac(Number(value)) : `${formatMac(Number(value))}/${formatMac(Number(mask))}`;
    case "ipv4": {
      if (exact) return formatIp4(Number(value));
      const plen = maskToPlen4(Number(mask));
      return plen >= 0
        ? `${formatIp4(Number(value))}/${plen}`
        : `${formatIp4(Number(value))}/${formatIp4(Number(mask))}`;
    }
    case "ipv6": {
      if (exact) return formatIp6(value);
      const plen = maskToPlen6(mask!);
      return plen >= 0 ? `${formatIp6(value)}/${plen}` : `${formatIp6(value)}/${formatIp6(mask!)}`;
    }
    case "ct_state":
      return formatFlags(Number(value), CS);
    case "tcp_flags":
      return formatFlags(Number(value), TCP_FLAG);
    case "port":
      return formatPort(Number(value));
    case "dec":
      return exact ? value.toString() : `${hex(value)}/${hex(mask!)}`;
    default:
      return exact ? hex(value) : `${hex(value)}/${hex(mask!)}`;
  }
}
