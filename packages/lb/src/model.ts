/**
 * The OVN northbound Load_Balancer row (ovn-nb(5)), validated and typed. ovn-northd parses
 * the same row in `lib/lb.c` (`ovn_lb_vip_init`) and `northd/lb.c` (`ovn_northd_lb_init`,
 * `ovn_lb_vip_backends_ip_port_mappings_init`); Kube-OVN fills it (`pkg/ovs/ovn-nb-load_balancer.go`)
 * with `prefer_local_backend`, `ip_port_mappings` "pod.ns:0.0.0.0" and the VIP-node marker
 * `external_ids["kube-ovn.io/local-external-vip/<VIP:port>"] = "node-<node>"`.
 *
 * Where northd logs a warning and skips a bad entry (a backend that is not an address, a
 * backend of another family), this model throws a SimError naming the load balancer and the
 * entry: a simulator should tell the user, not quietly drop a backend.
 */
import { SimError } from "@ovnsim/packet";
import { type IpFamily, type LbEndpoint, parseLbEndpoint } from "./vip.js";

/** An OVSDB string map column. */
export type StrMap = Readonly<Record<string, string>>;

export type LbProtocol = "tcp" | "udp" | "sctp";

/** The values ovn-nb(5) allows in Load_Balancer `selection_fields`. */
export const SELECTION_FIELDS = [
  "eth_src",
  "eth_dst",
  "ip_src",
  "ip_dst",
  "tp_src",
  "tp_dst",
  "ipv6_src",
  "ipv6_dst",
] as const;
export type SelectionField = (typeof SELECTION_FIELDS)[number];

/** Prefix of Kube-OVN's VIP-node marker key in Load_Balancer external_ids (1.15.20+/1.16). */
export const LOCAL_EXTERNAL_VIP_PREFIX = "kube-ovn.io/local-external-vip/";

/** One backend of a VIP, with what ip_port_mappings says about it. */
export interface LbBackend extends LbEndpoint {
  /** Logical switch port that owns the backend (from ip_port_mappings), if mapped. */
  readonly logicalPort: string | undefined;
}

/** One `vips` entry: the VIP and its backends in the order written. */
export interface LbVip {
  /** Canonical VIP text, e.g. "10.180.204.252:80" or "[fd00::1]:80". */
  readonly key: string;
  readonly vip: LbEndpoint;
  readonly backends: readonly LbBackend[];
}

/** One parsed ip_port_mappings entry: backend IP → "lsp:src_ip[:az]" (IPv6: "lsp:[src]"). */
export interface IpPortMapping {
  /** Backend IP, canonical, no brackets. */
  readonly backendIp: string;
  readonly family: IpFamily;
  /** Logical switch port name (Kube-OVN: "pod.namespace"). */
  readonly logicalPort: string;
  /** Health-check source IP (Kube-OVN writes "0.0.0.0"), or undefined when absent. */
  readonly checkIp: string | undefined;
  /** Availability zone of a remote backend (OVN IC), when given. */
  readonly az: string | undefined;
}

/** A validated Load_Balancer row. */
export interface LoadBalancer {
  readonly name: string;
  readonly uuid: string | undefined;
  readonly protocol: LbProtocol;
  /** VIPs in the order of their canonical key (OVSDB maps are sorted by key). */
  readonly vips: readonly LbVip[];
  readonly options: StrMap;
  readonly selectionFields: readonly SelectionField[];
  /** Keyed by canonical backend IP (no brackets). */
  readonly ipPortMappings: Readonly<Record<string, IpPortMapping>>;
  readonly externalIds: StrMap;
}

/**
 * The raw row, shaped like the OVN package's `NbLoadBalancer` (camelCase columns, maps as
 * records, VIP value "B1:P,B2:P" verbatim), with every column but name and vips optional.
 */
export interface RawLoadBalancer {
  readonly name: string;
  readonly uuid?: string | undefined;
  readonly protocol?: string | undefined;
  readonly vips: StrMap;
  readonly options?: StrMap | undefined;
  readonly selectionFields?: readonly string[] | undefined;
  readonly ipPortMappings?: StrMap | undefined;
  readonly externalIds?: StrMap | undefined;
}

/**
 * Parses and validates a Load_Balancer row.
 *
 * @throws SimError, naming the load balancer and the entry:
 *   BAD_VALUE (a VIP or backend that is not an address, a port outside 1–65535, a bad protocol,
 *   selection field, option or ip_port_mappings value), CONFLICT (a backend of another address
 *   family than its VIP, a backend with a port under a VIP without one or the reverse),
 *   DUPLICATE (a backend listed twice under one VIP, two keys for the same VIP),
 *   UNKNOWN_OBJECT (an ip_port_mappings entry for an IP that is no backend of any VIP).
 * @example
 * parseLoadBalancer({ name: "cluster-tcp-loadbalancer",
 *   vips: { "10.180.204.252:80": "10.180.204.11:80,10.180.204.12:80" },
 *   options: { prefer_local_backend: "true" },
 *   ipPortMappings: { "10.180.204.11": "nginx-0.default:0.0.0.0" } })
 */
export function parseLoadBalancer(raw: RawLoadBalancer): LoadBalancer {
  const lbName = raw.name;
  const where = `load balancer "${lbName}"`;
  const protocol = parseProtocol(raw.protocol, where);

  const byKey = new Map<string, LbVip>();
  const mappingsText = raw.ipPortMappings ?? {};
  const mappings = parseIpPortMappings(mappingsText, where);
  const backendIps = new Set<string>();

  for (const [vipText, backendsText] of Object.entries(raw.vips)) {
    const vipWhere = `${where} VIP "${vipText}"`;
    const vip = parseLbEndpoint(vipText, vipWhere);
    if (byKey.has(vip.key)) {
      throw new SimError("DUPLICATE", `${vipWhere}: the same VIP as another key (${vip.key})`);
    }
    const backends: LbBackend[] = [];
    const seen = new Set<string>();
    // strtok_r semantics: empty tokens between commas are skipped.
    for (const token of backendsText.split(",")) {
      const t = token.trim();
      if (t === "") continue;
      const bWhere = `${vipWhere} backend "${t}"`;
      const b = parseLbEndpoint(t, bWhere);
      if (b.family !== vip.family) {
        throw new SimError("CONFLICT", `${bWhere}: IP address family is different from VIP ${vip.ip}`);
      }
      if (vip.port !== undefined && b.port === undefined) {
        throw new SimError(
          "CONFLICT",
          `${bWhere}: should be an IP address and a port number (the VIP has a port)`,
        );
      }
      if (vip.port === undefined && b.port !== undefined) {
        throw new SimError(
          "CONFLICT",
          `${bWhere}: should be an IP address without a port (the VIP has none)`,
        );
      }
      if (seen.has(b.key)) throw new SimError("DUPLICATE", `${bWhere}: backend listed twice`);
      seen.add(b.key);
      backendIps.add(b.ip);
      backends.push(Object.freeze({ ...b, logicalPort: mappings[b.ip]?.logicalPort }));
    }
    byKey.set(vip.key, Object.freeze({ key: vip.key, vip, backends: Object.freeze(backends) }));
  }

  for (const ip of Object.keys(mappings)) {
    if (!backendIps.has(ip)) {
      throw new SimError("UNKNOWN_OBJECT", `${where} ip_port_mappings "${ip}": not a backend of any VIP`);
    }
  }

  const selectionFields = (raw.selectionFields ?? []).map((f) => {
    if (!(SELECTION_FIELDS as readonly string[]).includes(f)) {
      throw new SimError(
        "BAD_VALUE",
        `${where} selection_fields: "${f}" is not one of ${SELECTION_FIELDS.join(", ")}`,
      );
    }
    return f as SelectionField;
  });

  const options = Object.freeze({ ...(raw.options ?? {}) });
  validateOptions(options, where);
  const vips = [...byKey.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return Object.freeze({
    name: lbName,
    uuid: raw.uuid,
    protocol,
    vips: Object.freeze(vips),
    options,
    selectionFields: Object.freeze(selectionFields),
    ipPortMappings: mappings,
    externalIds: Object.freeze({ ...(raw.externalIds ?? {}) }),
  });
}

/** Input of {@link makeLoadBalancer}: like a raw row, but VIPs may list backends as arrays. */
export interface LoadBalancerSpec extends Omit<RawLoadBalancer, "vips"> {
  readonly vips: Readonly<Record<string, string | readonly string[]>>;
}

/**
 * Builds a validated load balancer from a convenient description (tests, examples, the CLI).
 * Same checks and errors as {@link parseLoadBalancer}.
 *
 * @example makeLoadBalancer({ name: "lb0", vips: { "10.96.0.10:53": ["10.244.0.2:53", "10.244.1.3:53"] }, protocol: "udp" })
 */
export function makeLoadBalancer(spec: LoadBalancerSpec): LoadBalancer {
  const vips: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.vips)) vips[k] = typeof v === "string" ? v : v.join(",");
  return parseLoadBalancer({ ...spec, vips });
}

function parseProtocol(p: string | undefined, where: string): LbProtocol {
  if (p === undefined || p === "") return "tcp";
  if (p === "tcp" || p === "udp" || p === "sctp") return p;
  throw new SimError("BAD_VALUE", `${where} protocol: "${p}" is not tcp, udp or sctp`);
}

/**
 * Parses ip_port_mappings: key "IP" or "[IPv6]", value "lsp:src_ip[:az]" or "lsp:[src_ipv6][:az]"
 * (northd/lb.c). Kube-OVN writes "pod.ns:0.0.0.0". A value without ':' is a bare port name
 * (OVN accepts that for distributed LBs without health checks).
 *
 * @throws SimError BAD_VALUE naming the load balancer and the entry.
 */
export function parseIpPortMappings(
  map: StrMap,
  where = "ip_port_mappings",
): Readonly<Record<string, IpPortMapping>> {
  const out: Record<string, IpPortMapping> = {};
  for (const [keyText, value] of Object.entries(map)) {
    const eWhere = `${where} ip_port_mappings "${keyText}"`;
    const m = parseIpPortMapping(keyText, value, eWhere);
    if (out[m.backendIp] !== undefined) {
      throw new SimError("DUPLICATE", `${eWhere}: backend ${m.backendIp} is mapped twice`);
    }
    out[m.backendIp] = m;
  }
  return Object.freeze(out);
}

/** One ip_port_mappings entry; see {@link parseIpPortMappings}. */
export function parseIpPortMapping(
  keyText: string,
  value: string,
  where = "ip_port_mappings",
): IpPortMapping {
  const key = parseLbEndpoint(keyText, where);
  if (key.port !== undefined) {
    throw new SimError("BAD_VALUE", `${where}: the key must be a backend IP without a port`);
  }
  const colon = value.indexOf(":");
  const logicalPort = colon < 0 ? value : value.slice(0, colon);
  if (logicalPort === "" || /\s/.test(logicalPort)) {
    throw new SimError("BAD_VALUE", `${where}: "${value}" does not start with a logical port name`);
  }
  let checkIp: string | undefined;
  let az: string | undefined;
  if (colon >= 0) {
    const rest = value.slice(colon + 1);
    let ipText: string;
    if (rest.startsWith("[")) {
      const end = rest.indexOf("]");
      if (end < 0) throw new SimError("BAD_VALUE", `${where}: "${value}" has a malformed IPv6 address`);
      ipText = rest.slice(1, end);
      const tail = rest.slice(end + 1);
      if (tail.startsWith(":")) az = tail.slice(1);
      else if (tail !== "")
        throw new SimError("BAD_VALUE", `${where}: "${value}" has text after the address`);
    } else {
      const c = rest.indexOf(":");
      ipText = c < 0 ? rest : rest.slice(0, c);
      if (c >= 0) az = rest.slice(c + 1);
    }
    if (az === "") throw new SimError("BAD_VALUE", `${where}: "${value}" has an empty availability zone`);
    const ip = parseLbEndpoint(ipText, `${where} source IP`);
    if (ip.port !== undefined || ipText.includes("[")) {
      throw new SimError("BAD_VALUE", `${where}: "${ipText}" is not an IP address`);
    }
    checkIp = ip.ip;
  }
  return Object.freeze({ backendIp: key.ip, family: key.family, logicalPort, checkIp, az });
}

function validateOptions(options: StrMap, where: string): void {
  const t = options.affinity_timeout;
  if (t !== undefined && !/^\d{1,9}$/.test(t)) {
    throw new SimError("BAD_VALUE", `${where} options:affinity_timeout: "${t}" is not a number of seconds`);
  }
  const nr = options.neighbor_responder;
  if (nr !== undefined && nr !== "reachable" && nr !== "all" && nr !== "none") {
    throw new SimError(
      "BAD_VALUE",
      `${where} options:neighbor_responder: "${nr}" is not reachable, all or none`,
    );
  }
  const h = options.hairpin_snat_ip;
  if (h !== undefined) {
    for (const ip of h.split(/\s+/).filter((s) => s !== "")) {
      parseLbEndpoint(ip, `${where} options:hairpin_snat_ip`);
    }
  }
}

// Typed accessors for the options northd (and Kube-OVN's patched northd) reads. Booleans follow
// OVS smap_get_bool: only "true" is true.

/** `options:prefer_local_backend` (Kube-OVN patch; default false). */
export const preferLocalBackend = (lb: LoadBalancer): boolean => lb.options.prefer_local_backend === "true";
/** `options:reject`: answer with a TCP RST / ICMP unreachable when a VIP has no backends. */
export const rejectWithoutBackends = (lb: LoadBalancer): boolean => lb.options.reject === "true";
/** `options:skip_snat` (router LBs). */
export const skipSnat = (lb: LoadBalancer): boolean => lb.options.skip_snat === "true";
/** `options:affinity_timeout` in seconds; 0 when unset (no session affinity). */
export const affinityTimeout = (lb: LoadBalancer): number => Number(lb.options.affinity_timeout ?? "0");
/** `options:hairpin_snat_ip`: space-separated addresses, [] when unset. */
export const hairpinSnatIps = (lb: LoadBalancer): readonly string[] =>
  (lb.options.hairpin_snat_ip ?? "").split(/\s+/).filter((s) => s !== "");
/** `options:neighbor_responder`: "reachable" (default), "all" or "none". */
export const neighborResponder = (lb: LoadBalancer): "reachable" | "all" | "none" =>
  (lb.options.neighbor_responder as "reachable" | "all" | "none" | undefined) ?? "reachable";

/** Finds a VIP by any spelling of its key ("10.0.0.1:80", "[fd00::1]:80"); undefined if absent. */
export function findVip(lb: LoadBalancer, vipText: string): LbVip | undefined {
  let key: string;
  try {
    key = parseLbEndpoint(vipText).key;
  } catch {
    return undefined;
  }
  return lb.vips.find((v) => v.key === key);
}

/**
 * Kube-OVN's VIP-node marker: the node LSP ("node-<node>") that announces this VIP, read from
 * `external_ids["kube-ovn.io/local-external-vip/<VIP:port>"]`, or undefined without marker.
 */
export function vipNodeLsp(lb: LoadBalancer, vip: LbVip): string | undefined {
  for (const [k, v] of Object.entries(lb.externalIds)) {
    if (!k.startsWith(LOCAL_EXTERNAL_VIP_PREFIX)) continue;
    const text = k.slice(LOCAL_EXTERNAL_VIP_PREFIX.length);
    try {
      if (parseLbEndpoint(text).key === vip.key) return v;
    } catch {
      // A marker whose key is not a VIP is ignored, as northd's smap_get would never find it.
    }
  }
  return undefined;
}

/**
 * The OVS `fields(...)` list OVN derives from `selection_fields` (northd/lb.c): "tp_src" and
 * "tp_dst" become "<proto>_src"/"<proto>_dst"; the rest pass through.
 */
export function ovsSelectionFields(lb: LoadBalancer): readonly string[] {
  return lb.selectionFields.map((f) =>
    f === "tp_src" ? `${lb.protocol}_src` : f === "tp_dst" ? `${lb.protocol}_dst` : f,
  );
}
