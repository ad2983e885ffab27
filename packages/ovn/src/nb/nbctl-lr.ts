/**
 * The ovn-nbctl commands for logical routers and the tables around them (utilities/ovn-nbctl.c,
 * branch-23.03): lr-route-add/-del, lr-policy-add/-del, lr-nat-add/-del, lr-lb-add/-del,
 * lrp-set-gateway-chassis, lrp-set-options/-enabled, ha-chassis-group-*, pg-add/-set-ports/-del,
 * meter-add and static-mac-binding-add. Values are normalised and checked as ovn-nbctl does
 * (prefixes masked, "/32" dropped, leading-zero octets refused), with its error texts, so a
 * file the real tool refuses is refused here too.
 */
import type { Draft } from "immer";
import { SimError, formatIp4, formatIp6, parseIp4, parseIp6, parseMac } from "@ovnsim/packet";
import type { LogicalRouter, NbDatabase, Nat } from "./model.js";
import { rowUuid } from "./model.js";

type Db = Draft<NbDatabase>;
type Opts = Readonly<Record<string, string | true>>;

/** One command: argument count range and what it does to the draft database. */
export interface Handler {
  readonly arity: readonly [number, number];
  run(d: Db, args: readonly string[], opts: Opts): void;
}

const INF = Number.POSITIVE_INFINITY;

function newUuid(d: Db, table: string): string {
  const u = rowUuid(table, d.nextRow);
  d.nextRow += 1;
  return u;
}

function lrGet(d: Db, id: string): Draft<LogicalRouter> {
  const r = d.routers.find((x) => x.name === id || x.uuid === id);
  if (!r) throw new SimError("UNKNOWN_OBJECT", `${id}: router name not found`);
  return r;
}

function lrpFind(d: Db, id: string) {
  for (const router of d.routers) {
    const port = router.ports.find((p) => p.name === id || p.uuid === id);
    if (port) return { router, port };
  }
  return undefined;
}

function lrpGet(d: Db, id: string) {
  const r = lrpFind(d, id);
  if (!r) throw new SimError("UNKNOWN_PORT", `${id}: port name not found`);
  return r;
}

function lspExists(d: Db, id: string): boolean {
  return d.switches.some((s) => s.ports.some((p) => p.name === id || p.uuid === id));
}

function setKey(map: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__") throw new SimError("BAD_VALUE", `"__proto__" cannot be used as a map key`);
  map[key] = value;
}

/** inet_pton(AF_INET): four decimal octets without leading zeros. */
function ip4(text: string): number | undefined {
  if (!/^(0|[1-9]\d{0,2})(\.(0|[1-9]\d{0,2})){3}$/.test(text)) return undefined;
  try {
    return parseIp4(text);
  } catch {
    return undefined;
  }
}

function ip6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  try {
    return parseIp6(text);
  } catch {
    return undefined;
  }
}

/** normalize_ipv4_addr_str. */
export function normIp4Addr(text: string): string | undefined {
  const v = ip4(text);
  return v === undefined ? undefined : formatIp4(v);
}

/** normalize_ipv6_addr_str. */
export function normIp6Addr(text: string): string | undefined {
  const v = ip6(text);
  return v === undefined ? undefined : formatIp6(v);
}

/** normalize_ipv4_prefix_str: "a.b.c.d[/len]" → masked network, "/32" dropped. */
export function normIp4Prefix(text: string): string | undefined {
  const [a, len, ...rest] = text.split("/");
  if (rest.length > 0 || a === undefined) return undefined;
  const v = ip4(a);
  if (v === undefined) return undefined;
  if (len === undefined) return formatIp4(v);
  if (!/^\d{1,2}$/.test(len) || Number(len) > 32) return undefined;
  const n = Number(len);
  if (n === 32) return formatIp4(v);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return `${formatIp4((v & mask) >>> 0)}/${n}`;
}

/** normalize_ipv6_prefix_str. */
export function normIp6Prefix(text: string): string | undefined {
  const [a, len, ...rest] = text.split("/");
  if (rest.length > 0 || a === undefined) return undefined;
  const v = ip6(a);
  if (v === undefined) return undefined;
  if (len === undefined) return formatIp6(v);
  if (!/^\d{1,3}$/.test(len) || Number(len) > 128) return undefined;
  const n = Number(len);
  if (n === 128) return formatIp6(v);
  const mask = n === 0 ? 0n : ((1n << BigInt(n)) - 1n) << BigInt(128 - n);
  return `${formatIp6(v & mask)}/${n}`;
}

function normPrefix(text: string): string | undefined {
  return normIp4Prefix(text) ?? normIp6Prefix(text);
}

function parsePriority(text: string): number {
  if (!/^-?\d+$/.test(text) || Number(text) < 0 || Number(text) > 32767) {
    throw new SimError("BAD_VALUE", `${text}: priority must in range 0...32767`);
  }
  return Number(text);
}

function lrpNetworksContain(networks: readonly string[], ip: string): boolean {
  const v4 = ip4(ip);
  const v6 = v4 === undefined ? ip6(ip) : undefined;
  for (const n of networks) {
    const [a, len] = n.split("/");
    if (a === undefined || len === undefined) continue;
    const plen = Number(len);
    if (v4 !== undefined) {
      const b = ip4(a);
      if (b === undefined || plen > 32) continue;
      const mask = plen === 0 ? 0 : (0xffffffff << (32 - plen)) >>> 0;
      if (((b ^ v4) & mask) >>> 0 === 0) return true;
    } else if (v6 !== undefined) {
      const b = ip6(a);
      if (b === undefined || plen > 128) continue;
      const mask = plen === 0 ? 0n : ((1n << BigInt(plen)) - 1n) << BigInt(128 - plen);
      if (((b ^ v6) & mask) === 0n) return true;
    }
  }
  return false;
}

function isDgp(p: { gatewayChassis: readonly unknown[]; haChassisGroup?: string }): boolean {
  return p.gatewayChassis.length > 0 || p.haChassisGroup !== undefined;
}

/** is_valid_port_range: "PORT" or "LO-HI" in 1..65535. */
function validPortRange(text: string): boolean {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) return false;
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  return lo >= 1 && lo <= 65535 && hi >= 1 && hi <= 65535 && lo <= hi;
}

export const ROUTER_COMMANDS: Record<string, Handler> = {
  "lr-route-add": {
    arity: [3, 4],
    run(d, args, o) {
      const lr = lrGet(d, args[0] as string);
      const policy = o["--policy"];
      if (policy !== undefined && policy !== "src-ip" && policy !== "dst-ip") {
        throw new SimError("BAD_VALUE", `bad policy: ${policy === true ? "" : policy}`);
      }
      const isSrc = policy === "src-ip";
      const routeTable = typeof o["--route-table"] === "string" ? o["--route-table"] : "";
      const pText = args[1] as string;
      let prefix = normIp4Prefix(pText);
      const v6 = prefix === undefined;
      prefix ??= normIp6Prefix(pText);
      if (prefix === undefined) throw new SimError("BAD_VALUE", `bad prefix argument: ${pText}`);
      const nhText = args[2] as string;
      const discard = nhText === "discard";
      let nexthop: string;
      let outPort: string | undefined;
      if (discard) nexthop = "discard";
      else {
        const nh = v6 ? normIp6Addr(nhText) : normIp4Addr(nhText);
        if (nh === undefined) {
          const p = lrpFind(d, nhText);
          if (!p) throw new SimError("BAD_VALUE", `bad ${v6 ? "IPv6" : "IPv4"} nexthop argument: ${nhText}`);
          outPort = p.port.name;
          nexthop = "";
        } else nexthop = nh;
      }
      if (args[3] !== undefined) outPort = lrpGet(d, args[3]).port.name;
      if (o["--bfd"] !== undefined)
        throw new SimError("UNSUPPORTED", "lr-route-add: --bfd (BFD table) is not modelled");
      const mayExist = o["--may-exist"] !== undefined;
      const symmetric = o["--ecmp-symmetric-reply"] !== undefined;
      const ecmp = o["--ecmp"] !== undefined || symmetric;
      const find = (nh: string, ecmpCmp: boolean) =>
        lr.staticRoutes.find(
          (r) =>
            r.routeTable === routeTable &&
            (r.policy === "src-ip") === isSrc &&
            normPrefix(r.ipPrefix) === prefix &&
            (!ecmpCmp || r.nexthop === nh),
        );
      const route = find(nexthop, ecmp);
      if (discard) {
        if (ecmp) throw new SimError("BAD_VALUE", "ecmp is not valid for discard routes.");
        if (outPort !== undefined)
          throw new SimError("BAD_VALUE", "outport is not valid for discard routes.");
      }
      if (!ecmp) {
        if (route && route.externalIds["ic-learned-route"] === undefined) {
          if (!mayExist) {
            throw new SimError(
              "DUPLICATE",
              `duplicate prefix: ${prefix} (policy: ${isSrc ? "src-ip" : "dst-ip"}). Use option --ecmp to allow this for ECMP routing.`,
            );
          }
          route.ipPrefix = prefix;
          route.nexthop = nexthop;
          if (outPort !== undefined) route.outputPort = outPort;
          if (typeof policy === "string") route.policy = policy;
          return;
        }
      } else if (route) {
        if (!mayExist) throw new SimError("DUPLICATE", "duplicate nexthop for the same ECMP route");
        return;
      }
      if (find("discard", true))
        throw new SimError("CONFLICT", "discard nexthop for the same ECMP route exists.");
      lr.staticRoutes.push({
        uuid: newUuid(d, "Logical_Router_Static_Route"),
        ipPrefix: prefix,
        nexthop,
        ...(outPort !== undefined ? { outputPort: outPort } : {}),
        ...(typeof policy === "string" ? { policy } : {}),
        routeTable,
        options: symmetric ? { ecmp_symmetric_reply: "true" } : {},
        externalIds: {},
      });
    },
  },
  "lr-route-del": {
    arity: [1, 4],
    run(d, args, o) {
      const lr = lrGet(d, args[0] as string);
      const policy = o["--policy"];
      if (policy !== undefined && policy !== "src-ip" && policy !== "dst-ip")
        throw new SimError("BAD_VALUE", `bad policy: ${policy === true ? "" : policy}`);
      const routeTable = typeof o["--route-table"] === "string" ? o["--route-table"] : undefined;
      let prefix: string | undefined;
      if (args[1] !== undefined) {
        prefix = normPrefix(args[1]);
        if (prefix === undefined) throw new SimError("BAD_VALUE", `bad prefix argument: ${args[1]}`);
      }
      let nexthop: string | undefined;
      if (args[2] !== undefined) {
        nexthop = args[2] === "discard" ? "discard" : (normIp4Addr(args[2]) ?? normIp6Addr(args[2]));
        if (nexthop === undefined) throw new SimError("BAD_VALUE", `bad nexthop argument: ${args[2]}`);
      }
      const port = args[3];
      const before = lr.staticRoutes.length;
      lr.staticRoutes = lr.staticRoutes.filter(
        (r) =>
          !(
            (routeTable === undefined || r.routeTable === routeTable) &&
            (policy === undefined || (r.policy ?? "dst-ip") === policy) &&
            (prefix === undefined || normPrefix(r.ipPrefix) === prefix) &&
            (nexthop === undefined || r.nexthop === nexthop) &&
            (port === undefined || r.outputPort === port)
          ),
      );
      if (lr.staticRoutes.length === before && prefix !== undefined && o["--if-exists"] === undefined) {
        throw new SimError(
          "UNKNOWN_OBJECT",
          `no matching route: policy '${policy ?? "any"}', prefix '${args[1]}'`,
        );
      }
    },
  },
  "lr-policy-add": {
    arity: [4, INF],
    run(d, args, o) {
      const lr = lrGet(d, args[0] as string);
      const priority = parsePriority(args[1] as string);
      const match = args[2] as string;
      const action = args[3] as string;
      if (action !== "allow" && action !== "drop" && action !== "reroute") {
        throw new SimError("BAD_VALUE", `${action}: action must be one of "allow", "drop", and "reroute"`);
      }
      const reroute = action === "reroute";
      if (reroute && args.length < 5)
        throw new SimError("PARSE_ERROR", "Nexthop is required when action is reroute.");
      if (lr.policies.some((p) => p.priority === priority && p.match === match)) {
        if (o["--may-exist"] !== undefined) return;
        throw new SimError(
          "DUPLICATE",
          `Same routing policy already existed on the logical router ${args[0]}.`,
        );
      }
      const nexthops: string[] = [];
      if (reroute) {
        let family: 4 | 6 | undefined;
        for (const tok of (args[4] as string).split(",")) {
          if (tok === "") continue;
          const v4 = normIp4Addr(tok);
          const nh = v4 ?? normIp6Addr(tok);
          if (nh === undefined) throw new SimError("BAD_VALUE", `bad next hop argument: ${args[4]}`);
          const f = v4 !== undefined ? 4 : 6;
          family ??= f;
          if (f !== family)
            throw new SimError(
              "BAD_VALUE",
              `bad next hops argument, not in the same addr family : ${args[4]}`,
            );
          nexthops.push(nh);
        }
      }
      const options: Record<string, string> = {};
      for (const w of args.slice(reroute ? 5 : 4)) {
        const eq = w.indexOf("=");
        const key = eq < 0 ? w : w.slice(0, eq);
        const value = eq < 0 ? "" : w.slice(eq + 1);
        if (value === "") throw new SimError("BAD_VALUE", `No value specified for the option : ${key}`);
        setKey(options, key, value);
      }
      lr.policies.push({
        uuid: newUuid(d, "Logical_Router_Policy"),
        priority,
        match,
        action,
        // An OVSDB set of strings: stored (and read back by northd) in sorted order.
        nexthops: [...new Set(nexthops)].sort(),
        options,
        externalIds: {},
      });
    },
  },
  "lr-policy-del": {
    arity: [1, 3],
    run(d, args, o) {
      const lr = lrGet(d, args[0] as string);
      if (args[1] === undefined) {
        lr.policies = [];
        return;
      }
      const byUuid = lr.policies.findIndex((p) => p.uuid === args[1]);
      if (byUuid >= 0) {
        lr.policies.splice(byUuid, 1);
        return;
      }
      const priority = parsePriority(args[1]);
      const before = lr.policies.length;
      lr.policies = lr.policies.filter(
        (p) => !(p.priority === priority && (args[2] === undefined || p.match === args[2])),
      );
      if (lr.policies.length === before && args[2] !== undefined && o["--if-exists"] === undefined) {
        throw new SimError("UNKNOWN_OBJECT", `Logical router policy uuid is not found.`);
      }
    },
  },
  "lr-nat-add": {
    arity: [4, 7],
    run(d, args, o) {
      const lr = lrGet(d, args[0] as string);
      const type = args[1] as string;
      if (type !== "dnat" && type !== "snat" && type !== "dnat_and_snat") {
        throw new SimError("BAD_VALUE", `${type}: type must be one of "dnat", "snat" and "dnat_and_snat".`);
      }
      const extText = args[2] as string;
      let ext = normIp4Addr(extText);
      const v6 = ext === undefined;
      ext ??= normIp6Addr(extText);
      if (ext === undefined) throw new SimError("BAD_VALUE", `${extText}: Not a valid IPv4 or IPv6 address.`);
      const logText = args[3] as string;
      const fam = v6 ? "IPv6" : "IPv4";
      const logical =
        type === "snat"
          ? v6
            ? normIp6Prefix(logText)
            : normIp4Prefix(logText)
          : v6
            ? normIp6Addr(logText)
            : normIp4Addr(logText);
      if (logical === undefined) {
        throw new SimError(
          "BAD_VALUE",
          type === "snat"
            ? `${logText}: should be an ${fam} address or network.`
            : `${logText}: Not a valid ${fam} address.`,
        );
      }
      const portrange = o["--portrange"] !== undefined;
      let logicalPort: string | undefined;
      let externalMac: string | undefined;
      let range = "";
      if (args.length === 5) {
        if (!portrange)
          throw new SimError("PARSE_ERROR", "lr-nat-add with logical_port must also specify external_mac.");
        range = args[4] as string;
        if (!validPortRange(range)) throw new SimError("BAD_VALUE", `invalid port range ${range}.`);
      } else if (args.length >= 6) {
        if (type !== "dnat_and_snat") {
          throw new SimError(
            "BAD_VALUE",
            `logical_port and external_mac are only valid when type is "dnat_and_snat".`,
          );
        }
        if (args.length === 6 && portrange)
          throw new SimError("PARSE_ERROR", "lr-nat-add with logical_port must also specify external_mac.");
        logicalPort = args[4] as string;
        if (!lspExists(d, logicalPort))
          throw new SimError("UNKNOWN_PORT", `${logicalPort}: port name not found`);
        externalMac = args[5] as string;
        try {
          parseMac(externalMac);
        } catch {
          throw new SimError("BAD_VALUE", `invalid mac address ${externalMac}.`);
        }
        if (args[6] !== undefined) {
          range = args[6];
          if (!validPortRange(range)) throw new SimError("BAD_VALUE", `invalid port range ${range}.`);
        }
      }
      const mayExist = o["--may-exist"] !== undefined;
      const stateless = o["--stateless"] !== undefined;
      if (type !== "dnat_and_snat" && stateless)
        throw new SimError("BAD_VALUE", "stateless is not applicable to dnat or snat types");
      const isSnat = type === "snat";
      if (isSnat && o["--add-route"] !== undefined)
        throw new SimError("BAD_VALUE", "routes cannot be added for snat types.");
      const gwName = o["--gateway-port"];
      let dgw: string | undefined;
      const nDgw = lr.ports.filter(isDgp).length;
      if (typeof gwName === "string") {
        const p = lrpGet(d, gwName);
        if (!lr.ports.some((x) => x.name === p.port.name))
          throw new SimError("CONFLICT", `${gwName} is not a router port of logical router: ${args[0]}.`);
        if (!isDgp(p.port))
          throw new SimError("CONFLICT", `${gwName} is not a distributed gateway router port.`);
        dgw = p.port.name;
      } else {
        for (const p of lr.ports) if (isDgp(p) && lrpNetworksContain(p.networks, ext)) dgw = p.name;
        if (nDgw > 1 && dgw === undefined) {
          throw new SimError(
            "CONFLICT",
            `logical router: ${args[0]} has multiple distributed gateway ports and gateway_port can not be determined from external IP of NAT rule.`,
          );
        }
      }
      const dgwNets = lr.ports.find((p) => p.name === dgw)?.networks ?? [];
      for (const nat of lr.nat) {
        const oldExt = normPrefix(nat.externalIp);
        const oldLog = normPrefix(nat.logicalIp);
        if (oldExt === undefined || oldLog === undefined) continue;
        if (
          nat.type === type &&
          (nDgw <= 1 ||
            (nat.gatewayPort !== undefined && nat.gatewayPort === dgw) ||
            (nat.gatewayPort === undefined && lrpNetworksContain(dgwNets, oldExt)))
        ) {
          if ((isSnat ? logical : ext) === (isSnat ? oldLog : oldExt)) {
            if ((isSnat ? ext : logical) === (isSnat ? oldExt : oldLog)) {
              if (mayExist) {
                const n = nat as Draft<Nat>;
                if (logicalPort !== undefined) n.logicalPort = logicalPort;
                else delete n.logicalPort;
                if (externalMac !== undefined) n.externalMac = externalMac;
                else delete n.externalMac;
                return;
              }
              throw new SimError(
                "DUPLICATE",
                `${ext}, ${logical}: a NAT with this external_ip and logical_ip already exists`,
              );
            }
            throw new SimError(
              "DUPLICATE",
              `a NAT with this type (${type}), ${isSnat ? "logical_ip" : "external_ip"} (${isSnat ? logical : ext}) already exists`,
            );
          }
        }
        if ((type === "dnat_and_snat" || nat.type === "dnat_and_snat") && oldExt === ext) {
          if (nat.options.stateless === "true" || stateless) {
            if (mayExist) return;
            throw new SimError(
              "CONFLICT",
              `${ext}, ${logical}: External ip cannot be shared across stateless and stateful NATs`,
            );
          }
        }
      }
      const options: Record<string, string> = { stateless: stateless ? "true" : "false" };
      if (o["--add-route"] !== undefined) options.add_route = "true";
      lr.nat.push({
        uuid: newUuid(d, "NAT"),
        type,
        externalIp: ext,
        logicalIp: logical,
        ...(externalMac !== undefined ? { externalMac } : {}),
        ...(logicalPort !== undefined ? { logicalPort } : {}),
        externalPortRange: range,
        ...(dgw !== undefined && nDgw > 1 ? { gatewayPort: dgw } : {}),
        options,
        externalIds: {},
      });
    },
  },
  "lr-nat-del": {
    arity: [1, 4],
    run(d, args) {
      const lr = lrGet(d, args[0] as string);
      if (args[1] === undefined) {
        lr.nat = [];
        return;
      }
      const type = args[1];
      if (type !== "dnat" && type !== "snat" && type !== "dnat_and_snat")
        throw new SimError("BAD_VALUE", `${type}: type must be one of "dnat", "snat" and "dnat_and_snat".`);
      if (args[2] === undefined) {
        lr.nat = lr.nat.filter((n) => n.type !== type);
        return;
      }
      const ip = normPrefix(args[2]);
      if (ip === undefined) throw new SimError("BAD_VALUE", `${args[2]}: Invalid IP address or CIDR`);
      const i = lr.nat.findIndex(
        (n) => n.type === type && normPrefix(type === "snat" ? n.logicalIp : n.externalIp) === ip,
      );
      // ovn-nbctl deletes nothing and succeeds when no NAT matches.
      if (i < 0) return;
      lr.nat.splice(i, 1);
    },
  },
  "lr-lb-add": {
    arity: [2, 2],
    run(d, args, o) {
      const lr = lrGet(d, args[0] as string);
      const lb = d.loadBalancers.find((l) => l.name === args[1] || l.uuid === args[1]);
      if (!lb) throw new SimError("UNKNOWN_OBJECT", `${args[1]}: load balancer name not found`);
      if (lr.loadBalancers.includes(lb.name)) {
        if (o["--may-exist"] !== undefined) return;
        throw new SimError("DUPLICATE", `${lb.uuid} : a load balancer with this UUID already exists`);
      }
      lr.loadBalancers.push(lb.name);
    },
  },
  "lr-lb-del": {
    arity: [1, 2],
    run(d, args, o) {
      const lr = lrGet(d, args[0] as string);
      if (args[1] === undefined) {
        lr.loadBalancers = [];
        return;
      }
      const lb = d.loadBalancers.find((l) => l.name === args[1] || l.uuid === args[1]);
      if (!lb) throw new SimError("UNKNOWN_OBJECT", `${args[1]}: load balancer name not found`);
      if (!lr.loadBalancers.includes(lb.name)) {
        if (o["--if-exists"] !== undefined) return;
        throw new SimError("UNKNOWN_OBJECT", `load balancer ${lb.name} is not part of any logical router.`);
      }
      lr.loadBalancers = lr.loadBalancers.filter((n) => n !== lb.name);
    },
  },
  "lrp-set-gateway-chassis": {
    arity: [2, 3],
    run(d, args) {
      const { port } = lrpGet(d, args[0] as string);
      const chassis = args[1] as string;
      const priority = args[2] === undefined ? 0 : parsePriority(args[2]);
      const name = `${port.name}-${chassis}`;
      const gc = port.gatewayChassis.find((g) => g.name === name);
      if (gc) {
        gc.priority = priority;
        return;
      }
      port.gatewayChassis.push({
        uuid: newUuid(d, "Gateway_Chassis"),
        name,
        chassisName: chassis,
        priority,
        options: {},
        externalIds: {},
      });
    },
  },
  "lrp-del-gateway-chassis": {
    arity: [2, 2],
    run(d, args) {
      const { port } = lrpGet(d, args[0] as string);
      const i = port.gatewayChassis.findIndex((g) => g.chassisName === args[1]);
      if (i < 0)
        throw new SimError("UNKNOWN_OBJECT", `chassis ${args[1]} is not added to logical port ${args[0]}`);
      port.gatewayChassis.splice(i, 1);
    },
  },
  "lrp-set-options": {
    arity: [1, INF],
    run(d, args) {
      const { port } = lrpGet(d, args[0] as string);
      const m: Record<string, string> = {};
      for (const w of args.slice(1)) {
        const eq = w.indexOf("=");
        if (eq <= 0) throw new SimError("PARSE_ERROR", `lrp-set-options: "${w}" is not KEY=VALUE`);
        setKey(m, w.slice(0, eq), w.slice(eq + 1));
      }
      port.options = m;
    },
  },
  "lrp-set-enabled": {
    arity: [2, 2],
    run(d, args) {
      const s = args[1];
      if (s !== "enabled" && s !== "disabled")
        throw new SimError("BAD_VALUE", `${s}: state must be "enabled" or "disabled"`);
      lrpGet(d, args[0] as string).port.enabled = s === "enabled";
    },
  },
  "lrp-set-redirect-type": {
    arity: [2, 2],
    run(d, args) {
      const { port } = lrpGet(d, args[0] as string);
      const t = args[1] as string;
      if (t.toLowerCase() !== "bridged" && t.toLowerCase() !== "overlay")
        throw new SimError("BAD_VALUE", `Invalid redirect type: ${t}`);
      port.options = { ...port.options, "redirect-type": t };
    },
  },
  "ha-chassis-group-add": {
    arity: [1, 1],
    run(d, args) {
      const name = args[0] as string;
      if (d.haChassisGroups.some((g) => g.name === name))
        throw new SimError("DUPLICATE", `ha_chassis_group ${name} already exists`);
      d.haChassisGroups.push({ uuid: newUuid(d, "HA_Chassis_Group"), name, haChassis: [], externalIds: {} });
    },
  },
  "ha-chassis-group-add-chassis": {
    arity: [3, 3],
    run(d, args) {
      const g = d.haChassisGroups.find((x) => x.name === args[0] || x.uuid === args[0]);
      if (!g) throw new SimError("UNKNOWN_OBJECT", `${args[0]}: ha_chassi_group ${args[0]} not found`);
      const priority = parsePriority(args[2] as string);
      const c = g.haChassis.find((x) => x.chassisName === args[1]);
      if (c) c.priority = priority;
      else g.haChassis.push({ uuid: newUuid(d, "HA_Chassis"), chassisName: args[1] as string, priority });
    },
  },
  "pg-add": {
    arity: [1, INF],
    run(d, args, o) {
      const name = args[0] as string;
      if (d.portGroups.some((p) => p.name === name)) {
        if (o["--may-exist"] !== undefined) return;
        throw new SimError("DUPLICATE", `Port group ${name} already exists`);
      }
      const ports = pgPorts(d, args.slice(1));
      d.portGroups.push({ uuid: newUuid(d, "Port_Group"), name, ports, acls: [], externalIds: {} });
    },
  },
  "pg-set-ports": {
    arity: [2, INF],
    run(d, args) {
      const pg = d.portGroups.find((p) => p.name === args[0] || p.uuid === args[0]);
      if (!pg) throw new SimError("UNKNOWN_OBJECT", `${args[0]}: port group name not found`);
      pg.ports = pgPorts(d, args.slice(1));
    },
  },
  "pg-del": {
    arity: [1, 1],
    run(d, args) {
      const i = d.portGroups.findIndex((p) => p.name === args[0] || p.uuid === args[0]);
      if (i < 0) throw new SimError("UNKNOWN_OBJECT", `${args[0]}: port group name not found`);
      d.portGroups.splice(i, 1);
    },
  },
  "meter-add": {
    arity: [4, 5],
    run(d, args, o) {
      const [name, action, rate, unit, burst] = args as [string, string, string, string, string?];
      if (d.meters.some((m) => m.name === name)) {
        if (o["--may-exist"] !== undefined) return;
        throw new SimError("DUPLICATE", `meter with name "${name}" already exists`);
      }
      if (name.startsWith("__"))
        throw new SimError("BAD_VALUE", `meter names that begin with "__" are reserved`);
      if (action !== "drop") throw new SimError("BAD_VALUE", `action must be "drop"`);
      if (!/^\d+$/.test(rate) || Number(rate) < 1 || Number(rate) > 4294967295)
        throw new SimError("BAD_VALUE", "rate must be in the range 1...4294967295");
      if (unit !== "kbps" && unit !== "pktps")
        throw new SimError("BAD_VALUE", `unit must be "kbps" or "pktps"`);
      let burstSize = 0;
      if (burst !== undefined) {
        if (!/^\d+$/.test(burst) || Number(burst) > 4294967295)
          throw new SimError("BAD_VALUE", "burst must be in the range 0...4294967295");
        burstSize = Number(burst);
      }
      d.meters.push({
        uuid: newUuid(d, "Meter"),
        name,
        unit,
        bands: [{ action: "drop", rate: Number(rate), burstSize }],
        ...(o["--fair"] !== undefined ? { fair: true } : {}),
        externalIds: {},
      });
    },
  },
  "static-mac-binding-add": {
    arity: [3, 3],
    run(d, args, o) {
      const [lp, ipText, mac] = args as [string, string, string];
      const { port } = lrpGet(d, lp);
      const ip = normIp4Addr(ipText) ?? normIp6Addr(ipText);
      if (ip === undefined) throw new SimError("BAD_VALUE", `${ipText}: Not a valid IPv4 or IPv6 address.`);
      try {
        parseMac(mac);
      } catch {
        throw new SimError("BAD_VALUE", `invalid mac address ${mac}.`);
      }
      const old = d.staticMacBindings.find((s) => s.logicalPort === port.name && s.ip === ip);
      if (old) {
        if (o["--may-exist"] !== undefined) {
          old.mac = mac;
          return;
        }
        throw new SimError(
          "DUPLICATE",
          `${lp}, ${ipText}: a Static_MAC_Binding with this logical_port and ip already exists`,
        );
      }
      d.staticMacBindings.push({
        uuid: newUuid(d, "Static_MAC_Binding"),
        logicalPort: port.name,
        ip,
        mac,
        overrideDynamicMac: false,
      });
    },
  },
  "static-mac-binding-del": {
    arity: [2, 2],
    run(d, args, o) {
      const ip = normIp4Addr(args[1] as string) ?? normIp6Addr(args[1] as string);
      const i = d.staticMacBindings.findIndex((s) => s.logicalPort === args[0] && s.ip === ip);
      if (i < 0) {
        if (o["--if-exists"] !== undefined) return;
        throw new SimError("UNKNOWN_OBJECT", `no matching static mac binding for ${args[0]} ${args[1]}`);
      }
      d.staticMacBindings.splice(i, 1);
    },
  },
};

/** set_ports_on_pg: each port must be an existing switch port; stored by name. */
function pgPorts(d: Db, ids: readonly string[]): string[] {
  const out: string[] = [];
  for (const id of ids) {
    let name: string | undefined;
    for (const sw of d.switches) {
      const p = sw.ports.find((x) => x.name === id || x.uuid === id);
      if (p) name = p.name;
    }
    if (name === undefined) throw new SimError("UNKNOWN_PORT", `${id}: switch port name not found`);
    if (!out.includes(name)) out.push(name);
  }
  return out;
}
