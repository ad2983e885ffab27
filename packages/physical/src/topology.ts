/**
 * The physical network as data: hosts (external clients, Kubernetes nodes, routers) with their
 * Linux interfaces (NICs, VLAN sub-interfaces such as `underlay0.341`, OVS bridge internal
 * ports such as `br-provider`), L2 switches with access/trunk ports, and the cables between
 * ports. `compileTopology` checks it the way a careful operator would (every link end exists
 * and is used once, VLAN ids are 1–4094, no MAC on two devices) and throws a SimError that
 * names the object otherwise.
 *
 * Switch ports use the port model of `@ovnsim/l2` (OVS `vlan_mode`/`tag`/`trunks`), which is
 * also how a physical switch behaves: `access` = one untagged VLAN, `trunk` = tagged VLANs,
 * `native-untagged` = a trunk whose native VLAN travels untagged.
 */
import { type L2PortConfig, resolvePort, type VlanMode } from "@ovnsim/l2";
import { formatMac, parseMac, SimError } from "@ovnsim/packet";
import { type IfaceAddr, type IpAddr, parseIfaceCidr, parseIp } from "./addr.js";

export interface NicSpec {
  readonly name: string;
  /** MAC; a VLAN sub-interface inherits its parent's, a bridge internal port may say `macFrom`. */
  readonly mac?: string;
  /** Take the MAC of another interface of the same host (Kube-OVN pins br-<provider> to the NIC MAC). */
  readonly macFrom?: string;
  /** Addresses with prefix length: "10.180.204.10/24", "fd00:10:180:204::10/64". */
  readonly addresses?: readonly string[];
  /** VLAN sub-interface: parent interface and VLAN id (1–4094). */
  readonly parent?: string;
  readonly vid?: number;
  /** Interface flags (default up, broadcast, ARP on). */
  readonly up?: boolean;
  readonly broadcast?: boolean;
  readonly noarp?: boolean;
  /** An IPv6 link-local address (fe80::/64 EUI-64 of the MAC) is configured. Default: true. */
  readonly linkLocal6?: boolean;
}

export interface RouteSpec {
  /** "default" or a CIDR. */
  readonly dst: string;
  readonly via?: string;
  readonly dev?: string;
}

/** An OVS bridge on a host (e.g. Kube-OVN's br-provider): enslaved interfaces and its internal port. */
export interface HostBridgeSpec {
  /** Bridge name = its internal interface's name, which must be one of the host's nics. */
  readonly name: string;
  /** Enslaved host interfaces, with their OVS port VLAN config. */
  readonly ports: readonly {
    readonly name: string;
    readonly vlanMode?: VlanMode;
    readonly tag?: number;
    readonly trunks?: readonly number[];
  }[];
  /** Extra OVS ports that lead into OVS (e.g. `patch-localnet.underlay-subnet-to-br-int`). */
  readonly ovsPorts?: readonly string[];
}

export interface HostSpec {
  readonly name: string;
  readonly role?: "client" | "node" | "router";
  readonly nics: readonly NicSpec[];
  readonly routes?: readonly RouteSpec[];
  /** net.ipv4.ip_forward / net.ipv6.conf.all.forwarding (default: true for role router). */
  readonly forwarding?: boolean;
  /** net.ipv4.conf.*.arp_accept (default false: unsolicited ARP creates no entry). */
  readonly arpAccept?: boolean;
  /** Neighbour `locktime`, seconds (Linux default 1 s). */
  readonly locktime?: number;
  readonly bridges?: readonly HostBridgeSpec[];
}

export interface SwitchPortSpec {
  readonly name: string;
  readonly vlanMode?: VlanMode;
  readonly tag?: number;
  readonly trunks?: readonly number[];
}

export interface SwitchSpec {
  readonly name: string;
  readonly ports: readonly SwitchPortSpec[];
  /** MAC aging, seconds (default 300). */
  readonly macAgingTime?: number;
}

/** A cable between two ports, each "device:port" (a switch port or a host's physical NIC). */
export interface LinkSpec {
  readonly a: string;
  readonly b: string;
}

export interface TopologySpec {
  readonly hosts: readonly HostSpec[];
  readonly switches: readonly SwitchSpec[];
  readonly links: readonly LinkSpec[];
}

export interface Nic {
  readonly host: string;
  readonly name: string;
  readonly mac: number;
  readonly addresses: readonly IfaceAddr[];
  readonly parent: string | undefined;
  readonly vid: number | undefined;
  readonly up: boolean;
  readonly broadcast: boolean;
  readonly noarp: boolean;
  /** The OVS bridge this interface is a port of (Linux `master` = ovs-system). */
  readonly master: string | undefined;
  /** This interface is the internal port of that bridge. */
  readonly internalOf: string | undefined;
  readonly linkLocal6: bigint | undefined;
}

export interface Route {
  readonly dst: IfaceAddr;
  readonly via: IpAddr | undefined;
  readonly dev: string | undefined;
}

export interface Host {
  readonly name: string;
  readonly role: "client" | "node" | "router";
  readonly nics: ReadonlyMap<string, Nic>;
  readonly routes: readonly Route[];
  readonly forwarding: boolean;
  readonly arpAccept: boolean;
  readonly locktime: number;
  readonly bridges: readonly HostBridgeSpec[];
}

export interface Switch {
  readonly name: string;
  /** L2 port configs; OpenFlow-style numbers 1..n in declaration order. */
  readonly ports: readonly L2PortConfig[];
  readonly portByName: ReadonlyMap<string, L2PortConfig>;
  readonly macAgingTime: number;
}

export interface Topology {
  readonly hosts: ReadonlyMap<string, Host>;
  readonly switches: ReadonlyMap<string, Switch>;
  /** "dev:port" → "dev:port" for both directions. */
  readonly links: ReadonlyMap<string, string>;
}

function vlanId(v: unknown, where: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 1 || v > 4094) {
    throw new SimError("BAD_VALUE", `${where}: VLAN id ${String(v)} is outside 1-4094`);
  }
  return v;
}

/** fe80::/64 with the modified EUI-64 interface id of `mac` (RFC 4291 appendix A). */
export function linkLocalOf(mac: number): bigint {
  const m = BigInt(mac);
  const hi = (m >> 24n) ^ 0x020000n; // flip the universal/local bit of the first octet
  const lo = m & 0xffffffn;
  const iid = (hi << 40n) | (0xfffen << 24n) | lo;
  return (0xfe80n << 112n) | iid;
}

/** Validates and resolves a topology. Throws SimError naming the offending object. */
export function compileTopology(spec: TopologySpec): Topology {
  const hosts = new Map<string, Host>();
  const switches = new Map<string, Switch>();
  const macOwner = new Map<number, string>();
  const devNames = new Set<string>();
  const claim = (name: string, what: string) => {
    if (typeof name !== "string" || name === "" || name.includes(":")) {
      throw new SimError("BAD_VALUE", `${what} name "${String(name)}" is empty or contains ":"`);
    }
    if (devNames.has(name)) throw new SimError("DUPLICATE", `device ${name} is defined twice`);
    devNames.add(name);
  };

  for (const hs of spec.hosts) {
    claim(hs.name, "host");
    const specs = new Map<string, NicSpec>();
    for (const n of hs.nics) {
      if (specs.has(n.name))
        throw new SimError("DUPLICATE", `host ${hs.name}: interface ${n.name} is defined twice`);
      specs.set(n.name, n);
    }
    const bridgeOf = new Map<string, string>();
    const internal = new Map<string, string>();
    for (const b of hs.bridges ?? []) {
      if (!specs.has(b.name)) {
        throw new SimError(
          "UNKNOWN_OBJECT",
          `host ${hs.name}: bridge ${b.name} has no internal interface ${b.name} among the nics`,
        );
      }
      internal.set(b.name, b.name);
      for (const p of b.ports) {
        if (!specs.has(p.name)) {
          throw new SimError(
            "UNKNOWN_PORT",
            `host ${hs.name}: bridge ${b.name} port ${p.name} is not an interface of the host`,
          );
        }
        if (bridgeOf.has(p.name))
          throw new SimError("CONFLICT", `host ${hs.name}: interface ${p.name} is a port of two bridges`);
        bridgeOf.set(p.name, b.name);
        resolvePort({ port: 1, name: `${hs.name}/${b.name}/${p.name}`, ...optionalVlan(p) });
      }
    }
    const nics = new Map<string, Nic>();
    const resolving = new Set<string>();
    const resolve = (name: string): Nic => {
      const done = nics.get(name);
      if (done) return done;
      const n = specs.get(name);
      if (!n) throw new SimError("UNKNOWN_OBJECT", `host ${hs.name}: interface ${name} does not exist`);
      if (resolving.has(name))
        throw new SimError("CONFLICT", `host ${hs.name}: interface ${name} is its own parent`);
      resolving.add(name);
      const where = `host ${hs.name} interface ${name}`;
      let mac: number;
      if (n.mac !== undefined) mac = parseMac(n.mac, `${where} mac`);
      else if (n.macFrom !== undefined) mac = resolve(n.macFrom).mac;
      else if (n.parent !== undefined) mac = resolve(n.parent).mac;
      else throw new SimError("BAD_VALUE", `${where}: no mac`);
      let vid: number | undefined;
      if (n.parent !== undefined) {
        resolve(n.parent);
        vid = vlanId(n.vid, where);
      } else if (n.vid !== undefined) {
        throw new SimError("BAD_VALUE", `${where}: vid without parent`);
      }
      const addresses = (n.addresses ?? []).map((a) => parseIfaceCidr(a, `${where} address`));
      const nic: Nic = {
        host: hs.name,
        name,
        mac,
        addresses,
        parent: n.parent,
        vid,
        up: n.up ?? true,
        broadcast: n.broadcast ?? true,
        noarp: n.noarp ?? false,
        master: bridgeOf.get(name),
        internalOf: internal.get(name),
        linkLocal6: (n.linkLocal6 ?? true) ? linkLocalOf(mac) : undefined,
      };
      nics.set(name, nic);
      return nic;
    };
    for (const n of hs.nics) resolve(n.name);
    for (const nic of nics.values()) {
      const other = macOwner.get(nic.mac);
      if (other !== undefined && other !== hs.name) {
        throw new SimError(
          "DUPLICATE",
          `MAC ${formatMac(nic.mac)} is used by two devices: ${other} and ${hs.name} (interface ${nic.name})`,
        );
      }
      macOwner.set(nic.mac, hs.name);
    }
    const routes: Route[] = (hs.routes ?? []).map((r, i) => {
      const where = `host ${hs.name} route ${i + 1}`;
      const via = r.via !== undefined ? parseIp(r.via, `${where} via`) : undefined;
      const dst =
        r.dst === "default"
          ? { ip: { family: via?.family ?? 4, v: 0n } as IpAddr, plen: 0 }
          : parseIfaceCidr(r.dst, `${where} dst`);
      if (r.dev !== undefined && !nics.has(r.dev)) {
        throw new SimError("UNKNOWN_OBJECT", `${where}: device ${r.dev} does not exist`);
      }
      if (via === undefined && r.dev === undefined)
        throw new SimError("BAD_VALUE", `${where}: needs via or dev`);
      return { dst, via, dev: r.dev };
    });
    const role = hs.role ?? "client";
    hosts.set(hs.name, {
      name: hs.name,
      role,
      nics,
      routes,
      forwarding: hs.forwarding ?? role === "router",
      arpAccept: hs.arpAccept ?? false,
      locktime: hs.locktime ?? 1,
      bridges: hs.bridges ?? [],
    });
  }

  for (const ss of spec.switches) {
    claim(ss.name, "switch");
    const ports: L2PortConfig[] = [];
    const byName = new Map<string, L2PortConfig>();
    ss.ports.forEach((p, i) => {
      const where = `switch ${ss.name} port ${p.name}`;
      if (byName.has(p.name))
        throw new SimError("DUPLICATE", `switch ${ss.name}: port ${p.name} is defined twice`);
      if (p.tag !== undefined) vlanId(p.tag, where);
      for (const t of p.trunks ?? []) vlanId(t, where);
      const cfg: L2PortConfig = { port: i + 1, name: p.name, ...optionalVlan(p) };
      resolvePort(cfg);
      ports.push(cfg);
      byName.set(p.name, cfg);
    });
    switches.set(ss.name, { name: ss.name, ports, portByName: byName, macAgingTime: ss.macAgingTime ?? 300 });
  }

  const links = new Map<string, string>();
  const checkEnd = (end: string, link: string): string => {
    const colon = typeof end === "string" ? end.indexOf(":") : -1;
    if (colon < 0) throw new SimError("PARSE_ERROR", `link ${link}: "${String(end)}" is not device:port`);
    const dev = end.slice(0, colon);
    const port = end.slice(colon + 1);
    const sw = switches.get(dev);
    if (sw) {
      if (!sw.portByName.has(port))
        throw new SimError("UNKNOWN_PORT", `link ${link}: switch ${dev} has no port ${port}`);
      return end;
    }
    const h = hosts.get(dev);
    if (!h) throw new SimError("UNKNOWN_OBJECT", `link ${link}: no device ${dev}`);
    const nic = h.nics.get(port);
    if (!nic) throw new SimError("UNKNOWN_PORT", `link ${link}: host ${dev} has no interface ${port}`);
    if (nic.parent !== undefined || nic.internalOf !== undefined) {
      throw new SimError("CONFLICT", `link ${link}: ${dev}:${port} is not a physical interface`);
    }
    return end;
  };
  for (const l of spec.links) {
    const name = `${String(l.a)} - ${String(l.b)}`;
    const a = checkEnd(l.a, name);
    const b = checkEnd(l.b, name);
    if (a === b) throw new SimError("CONFLICT", `link ${name}: both ends are the same port`);
    for (const e of [a, b]) {
      if (links.has(e))
        throw new SimError("CONFLICT", `link ${name}: ${e} is already cabled to ${links.get(e)}`);
    }
    links.set(a, b);
    links.set(b, a);
  }
  return { hosts, switches, links };
}

function optionalVlan(p: {
  readonly vlanMode?: VlanMode;
  readonly tag?: number;
  readonly trunks?: readonly number[];
}): Partial<L2PortConfig> {
  return {
    ...(p.vlanMode !== undefined ? { vlanMode: p.vlanMode } : {}),
    ...(p.tag !== undefined ? { tag: p.tag } : {}),
    ...(p.trunks !== undefined ? { trunks: p.trunks } : {}),
  };
}
