/**
 * Load-balancer endpoint text, parsed the way OVN parses it. ovn-northd reads a Load_Balancer
 * `vips` key and each backend with `ip_address_and_port_from_lb_key()` (`lib/ovn-util.c`),
 * which is OVS's `inet_parse_active()` (`lib/socket-util.c`): "<host>[:<port>]", where an
 * IPv6 host carries a port only inside brackets ("[fd00::1]:80"); more than one colon outside
 * brackets means the whole text is a host ("fd00::1"). Brackets around any host are stripped,
 * so "[10.0.0.1]:80" is accepted, as OVS accepts it. The canonical text is what northd prints
 * back (`ovn_lb_vip_format`): the address in inet_ntop form, IPv6 bracketed only with a port.
 *
 * Departures, on purpose: port 0 (which OVN reads as "no port") and IPv6 scope ids ("%eth0")
 * are rejected with a SimError rather than silently accepted.
 */
import { SimError, formatIp4, formatIp6, parseIp4, parseIp6 } from "@ovnsim/packet";

/** Address family of a VIP or backend. */
export type IpFamily = 4 | 6;

/** One parsed "IP[:port]" endpoint (a VIP or a backend). */
export interface LbEndpoint {
  /** Canonical address text, without brackets ("10.180.204.252", "fd00::1"). */
  readonly ip: string;
  readonly family: IpFamily;
  /** L4 port 1–65535, or undefined when the text has none. */
  readonly port: number | undefined;
  /** IPv4 address as u32 (0 for IPv6). */
  readonly ip4: number;
  /** IPv6 address as 128-bit bigint (0n for IPv4). */
  readonly ip6: bigint;
  /** Canonical text as OVN prints it: "10.180.204.252:80", "[fd00::1]:80", "10.0.0.1". */
  readonly key: string;
}

const MAX_ENDPOINT_TEXT = 256;

/** Splits "<host>[:<port>]" as OVS `inet_parse_tokens__` does (host first). */
function splitHostPort(s: string): { host: string; port: string | undefined } {
  let inBrackets = false;
  let nColons = 0;
  let colon = -1;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === "[") inBrackets = true;
    else if (c === "]") inBrackets = false;
    else if (c === ":" && !inBrackets) {
      nColons++;
      colon = i;
    }
  }
  if (nColons > 1) return { host: s, port: undefined };
  if (colon >= 0) return { host: unbracket(s.slice(0, colon)), port: unbracket(s.slice(colon + 1)) };
  return { host: unbracket(s), port: undefined };
}

function unbracket(s: string): string {
  return s.startsWith("[") && s.endsWith("]") && s.length >= 2 ? s.slice(1, -1) : s;
}

/**
 * Parses one VIP or backend text ("10.180.204.252:80", "[fd00::1]:80", "10.0.0.1", "fd00::1").
 *
 * @param what names the entry in error messages, e.g. `load balancer "lb0" VIP "…"`.
 * @throws SimError BAD_VALUE when the host is not an address or the port is not 1–65535.
 * @example parseLbEndpoint("10.180.204.252:80") // { ip: "10.180.204.252", family: 4, port: 80, … }
 */
export function parseLbEndpoint(text: string, what = "endpoint"): LbEndpoint {
  if (text.length > MAX_ENDPOINT_TEXT) {
    throw new SimError("BAD_VALUE", `${what}: "${text.slice(0, 40)}…" is too long to be an address`);
  }
  const { host, port: portText } = splitHostPort(text);
  let port: number | undefined;
  if (portText !== undefined && portText !== "") {
    if (!/^\d{1,5}$/.test(portText)) {
      throw new SimError("BAD_VALUE", `${what}: port "${portText}" is not a number`);
    }
    port = Number(portText);
    if (port < 1 || port > 65535) {
      throw new SimError("BAD_VALUE", `${what}: port ${port} is outside 1-65535`);
    }
  }
  if (host.includes(":")) {
    if (host.includes("%")) {
      throw new SimError(
        "BAD_VALUE",
        `${what}: "${text}" has an IPv6 scope id, which a load balancer cannot use`,
      );
    }
    let ip6: bigint;
    try {
      ip6 = parseIp6(host, what);
    } catch {
      throw new SimError(
        "BAD_VALUE",
        `${what}: "${text}" is not an IP address (or an IP address and a port)`,
      );
    }
    const ip = formatIp6(ip6);
    return Object.freeze({
      ip,
      family: 6,
      port,
      ip4: 0,
      ip6,
      key: port === undefined ? ip : `[${ip}]:${port}`,
    });
  }
  let ip4: number;
  try {
    ip4 = parseIp4(host, what);
  } catch {
    throw new SimError("BAD_VALUE", `${what}: "${text}" is not an IP address (or an IP address and a port)`);
  }
  const ip = formatIp4(ip4);
  return Object.freeze({ ip, family: 4, port, ip4, ip6: 0n, key: port === undefined ? ip : `${ip}:${port}` });
}

/** Non-throwing twin of {@link parseLbEndpoint}. */
export function isValidLbEndpoint(text: string): boolean {
  try {
    parseLbEndpoint(text);
    return true;
  } catch {
    return false;
  }
}

/** Canonical "IP[:port]" text of an address and optional port, as OVN prints a VIP or backend. */
export function formatLbEndpoint(ip: string, family: IpFamily, port: number | undefined): string {
  if (port === undefined) return ip;
  return family === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}
