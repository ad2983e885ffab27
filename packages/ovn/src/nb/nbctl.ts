/**
 * Reads the `ovn-nbctl` (and the few `ovn-sbctl`) commands people type to build a logical
 * switch, one command line per file line, and applies them to the NB model the way
 * utilities/ovn-nbctl.c and lib/db-ctl-base.c do: `--` chains, --may-exist/--if-exists,
 * lb-add's VIP/backend normalisation, and the generic set/add/remove/clear on columns with
 * OVSDB value syntax (`col:key=value`, `{k=v}`, `[a,b]`, "quoted" atoms). Every mistake is a
 * SimError carrying file:line.
 */
import { type Draft, produce } from "immer";
import { SimError, parseIp4, parseIp6, formatIp6, parseMac, formatMac } from "@ovnsim/packet";
import {
  type Acl,
  type AclDirection,
  type LogicalRouterPort,
  type AclVerdict,
  type LogicalSwitch,
  type NbDatabase,
  type StrMap,
  emptyNb,
  rowUuid,
} from "./model.js";
import { shellWords } from "./shell.js";
import { ROUTER_COMMANDS } from "./nbctl-lr.js";

type Db = Draft<NbDatabase>;

/** One parsed command of a `--` chain: its options (`--may-exist`, `--log`, …) and words. */
export interface NbctlCommand {
  readonly tool: "ovn-nbctl" | "ovn-sbctl";
  readonly options: Readonly<Record<string, string | true>>;
  readonly argv: readonly string[];
}

/** Global options that change nothing in a simulated, synchronous database. */
const IGNORED_GLOBALS =
  /^--(wait|no-wait|timeout|db|no-leader-only|leader-only|no-syslog|print-wait-time|oneline|no-shuffle-remotes|shuffle-remotes|bare|columns|format|data|no-headings|pretty|dry-run|inactivity-probe|log-file|verbose|unixctl)(=.*)?$/;

/** Splits one file line into the chained commands it carries. */
export function parseNbctlLine(line: string): NbctlCommand[] {
  const words = shellWords(line);
  if (words.length === 0) return [];
  let tool: "ovn-nbctl" | "ovn-sbctl" = "ovn-nbctl";
  let i = 0;
  const first = words[0] as string;
  if (/(^|\/)ovn-nbctl$/.test(first)) i = 1;
  else if (/(^|\/)ovn-sbctl$/.test(first)) {
    tool = "ovn-sbctl";
    i = 1;
  }
  const out: NbctlCommand[] = [];
  let options: Record<string, string | true> = {};
  let argv: string[] = [];
  const flush = () => {
    if (argv.length > 0) out.push({ tool, options, argv });
    else if (Object.keys(options).length > 0 && out.length === 0 && !hasOnlyGlobals(options)) {
      throw new SimError("PARSE_ERROR", `options ${Object.keys(options).join(" ")} without a command`);
    }
    options = {};
    argv = [];
  };
  for (; i < words.length; i++) {
    const w = words[i] as string;
    if (w === "--") {
      flush();
      continue;
    }
    if (argv.length === 0 && w.startsWith("-") && w.length > 1) {
      if (IGNORED_GLOBALS.test(w) || /^-v/.test(w)) continue;
      const eq = w.indexOf("=");
      if (eq > 0) options[w.slice(0, eq)] = w.slice(eq + 1);
      else options[w] = true;
      continue;
    }
    argv.push(w);
  }
  flush();
  return out;
}

function hasOnlyGlobals(options: Record<string, string | true>): boolean {
  return Object.keys(options).every((k) => IGNORED_GLOBALS.test(k));
}

/**
 * Applies a whole command file to `base` (default: an empty, initialised NB DB).
 * `file` names the input in error messages.
 */
export function parseNbctl(text: string, opts: { file?: string; base?: NbDatabase } = {}): NbDatabase {
  let db = opts.base ?? emptyNb();
  const lines = text.split("\n");
  let pending = "";
  let startLine = 0;
  for (let n = 0; n < lines.length; n++) {
    let line = lines[n] as string;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (pending === "") startLine = n + 1;
    if (line.endsWith("\\") && !line.endsWith("\\\\")) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    const full = pending + line;
    pending = "";
    try {
      const refs: LineRefs = new Map();
      for (const cmd of parseNbctlLine(full)) db = applyNbctl(db, cmd, refs);
    } catch (e) {
      if (e instanceof SimError) throw e.at(opts.file ?? "<nbctl>", startLine);
      throw e;
    }
  }
  if (pending !== "") {
    try {
      const refs: LineRefs = new Map();
      for (const cmd of parseNbctlLine(pending)) db = applyNbctl(db, cmd, refs);
    } catch (e) {
      if (e instanceof SimError) throw e.at(opts.file ?? "<nbctl>", startLine);
      throw e;
    }
  }
  return db;
}

/** Applies one command (one element of a `--` chain). */
export function applyNbctl(db: NbDatabase, cmd: NbctlCommand, refs: LineRefs = new Map()): NbDatabase {
  const name = cmd.argv[0] as string;
  const args = cmd.argv.slice(1);
  const own = (t: Record<string, Handler>): Handler | undefined =>
    Object.hasOwn(t, name) ? t[name] : undefined;
  const handler = cmd.tool === "ovn-sbctl" ? own(SB_COMMANDS) : (own(NB_COMMANDS) ?? own(SB_ONLY_IN_NB));
  if (handler === undefined) {
    throw new SimError("UNSUPPORTED", `${cmd.tool}: unknown or unmodelled command "${name}"`);
  }
  const [min, max] = handler.arity;
  if (args.length < min || args.length > max) {
    const want =
      min === max ? `${min}` : max === Number.POSITIVE_INFINITY ? `at least ${min}` : `${min} to ${max}`;
    throw new SimError(
      "PARSE_ERROR",
      `'${name}' command requires ${want} argument${min === 1 && max === 1 ? "" : "s"}, got ${args.length}`,
    );
  }
  return produce(db, (d) => {
    handler.run(d, args, cmd.options, refs);
  });
}

interface Handler {
  readonly arity: readonly [number, number];
  run(d: Db, args: readonly string[], opts: Readonly<Record<string, string | true>>, refs: LineRefs): void;
}

const INF = Number.POSITIVE_INFINITY;
const arg = (args: readonly string[], i: number): string => args[i] as string;

function newUuid(d: Db, table: string): string {
  const u = rowUuid(table, d.nextRow);
  d.nextRow += 1;
  return u;
}

function lsFind(d: Db, id: string): Draft<LogicalSwitch> | undefined {
  return d.switches.find((s) => s.name === id || s.uuid === id);
}
function lsGet(d: Db, id: string): Draft<LogicalSwitch> {
  const sw = lsFind(d, id);
  if (!sw) throw new SimError("UNKNOWN_OBJECT", `${id}: switch name not found`);
  return sw;
}
function lspFind(d: Db, id: string) {
  for (const sw of d.switches) {
    const port = sw.ports.find((p) => p.name === id || p.uuid === id);
    if (port) return { sw, port };
  }
  return undefined;
}
function lspGet(d: Db, id: string) {
  const r = lspFind(d, id);
  if (!r) throw new SimError("UNKNOWN_PORT", `${id}: port name not found`);
  return r;
}
function lbFind(d: Db, id: string) {
  return d.loadBalancers.find((l) => l.name === id || l.uuid === id);
}
function lbGet(d: Db, id: string) {
  const lb = lbFind(d, id);
  if (!lb) throw new SimError("UNKNOWN_OBJECT", `${id}: load balancer name not found`);
  return lb;
}
function lrFind(d: Db, id: string) {
  return d.routers.find((r) => r.name === id || r.uuid === id);
}
function lrGet(d: Db, id: string) {
  const r = lrFind(d, id);
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

function parseKeyValues(words: readonly string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const w of words) {
    const eq = w.indexOf("=");
    if (eq <= 0) throw new SimError("PARSE_ERROR", `${what}: "${w}" is not KEY=VALUE`);
    setKey(out, w.slice(0, eq), w.slice(eq + 1));
  }
  return out;
}

/** Own-property write that cannot reach Object.prototype, whatever the key. */
function setKey(map: Record<string, string>, key: string, value: string): void {
  if (key === "__proto__") throw new SimError("BAD_VALUE", `"__proto__" cannot be used as a map key`);
  map[key] = value;
}

/** Parses "IP[:PORT]" / "[IP6]:PORT" as ovn_lb_vip_init does. */
function parseLbAddr(text: string, what: string): { ip: string; v6: boolean; port?: number } {
  let host = text;
  let portText: string | undefined;
  if (text.startsWith("[")) {
    const end = text.indexOf("]");
    if (end < 0) throw new SimError("BAD_VALUE", `${what}: "${text}" has no closing ]`);
    host = text.slice(1, end);
    const rest = text.slice(end + 1);
    if (rest !== "") {
      if (!rest.startsWith(":")) throw new SimError("BAD_VALUE", `${what}: "${text}" is not [IP]:PORT`);
      portText = rest.slice(1);
    }
  } else if (text.indexOf(":") >= 0 && text.indexOf(":") === text.lastIndexOf(":")) {
    host = text.slice(0, text.indexOf(":"));
    portText = text.slice(text.indexOf(":") + 1);
  }
  let ip: string;
  let v6: boolean;
  if (host.includes(":")) {
    ip = formatIp6(parseIp6(host, what));
    v6 = true;
  } else {
    parseIp4(host, what);
    ip = host;
    v6 = false;
  }
  if (portText === undefined) return { ip, v6 };
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) {
    throw new SimError("BAD_VALUE", `${what}: port "${portText}" is not in 1..65535`);
  }
  return { ip, v6, port: Number(portText) };
}

function fmtLbAddr(a: { ip: string; v6: boolean; port?: number }): string {
  if (a.port === undefined) return a.ip;
  return a.v6 ? `[${a.ip}]:${a.port}` : `${a.ip}:${a.port}`;
}

const VERDICTS: readonly AclVerdict[] = [
  "allow",
  "allow-related",
  "allow-stateless",
  "drop",
  "reject",
  "pass",
];

const NB_COMMANDS: Record<string, Handler> = {
  init: { arity: [0, 0], run() {} },
  sync: { arity: [0, 0], run() {} },
  show: { arity: [0, 1], run() {} },
  "ls-add": {
    arity: [0, 1],
    run(d, args, o) {
      const name = args[0] ?? "";
      if (name !== "" && lsFind(d, name)) {
        if (o["--may-exist"]) return;
        throw new SimError("DUPLICATE", `${name}: a switch with this name already exists`);
      }
      d.switches.push({
        name,
        uuid: newUuid(d, "Logical_Switch"),
        ports: [],
        acls: [],
        loadBalancers: [],
        otherConfig: {},
        externalIds: {},
      });
    },
  },
  "ls-del": {
    arity: [1, 1],
    run(d, args, o) {
      const i = d.switches.findIndex((s) => s.name === args[0] || s.uuid === args[0]);
      if (i < 0) {
        if (o["--if-exists"]) return;
        throw new SimError("UNKNOWN_OBJECT", `${arg(args, 0)}: switch name not found`);
      }
      d.switches.splice(i, 1);
    },
  },
  "lsp-add": {
    arity: [2, 4],
    run(d, args, o) {
      const [swName, name, parent, tag] = args as [string, string, string?, string?];
      const sw = lsGet(d, swName);
      const existing = lspFind(d, name);
      if (existing) {
        if (!o["--may-exist"])
          throw new SimError("DUPLICATE", `${name}: a port with this name already exists`);
        if (existing.sw.name !== sw.name) {
          throw new SimError("CONFLICT", `${name}: port already exists but in switch ${existing.sw.name}`);
        }
        return;
      }
      if (args.length === 3) throw new SimError("PARSE_ERROR", "lsp-add: PARENT given without TAG");
      let tagNum: number | undefined;
      if (tag !== undefined) {
        if (!/^\d+$/.test(tag) || Number(tag) > 4095) {
          throw new SimError("BAD_VALUE", `${tag}: invalid tag (must be in range 0 to 4095)`);
        }
        tagNum = Number(tag);
      }
      sw.ports.push({
        name,
        uuid: newUuid(d, "Logical_Switch_Port"),
        type: "",
        addresses: [],
        portSecurity: [],
        ...(parent !== undefined ? { parentName: parent } : {}),
        ...(tagNum !== undefined ? { tagRequest: tagNum } : {}),
        options: {},
        externalIds: {},
      });
    },
  },
  "lsp-del": {
    arity: [1, 1],
    run(d, args, o) {
      const r = lspFind(d, arg(args, 0));
      if (!r) {
        if (o["--if-exists"]) return;
        throw new SimError("UNKNOWN_PORT", `${arg(args, 0)}: port name not found`);
      }
      r.sw.ports.splice(r.sw.ports.indexOf(r.port), 1);
    },
  },
  "lsp-set-type": {
    arity: [2, 2],
    run(d, args) {
      const t = arg(args, 1);
      const known = [
        "",
        "router",
        "localnet",
        "localport",
        "l2gateway",
        "vtep",
        "external",
        "virtual",
        "remote",
      ];
      if (!known.includes(t))
        throw new SimError("BAD_VALUE", `Logical switch port type '${t}' is unrecognized. Not setting type.`);
      lspGet(d, arg(args, 0)).port.type = t;
    },
  },
  "lsp-set-addresses": {
    arity: [1, INF],
    run(d, args) {
      const { port } = lspGet(d, arg(args, 0));
      const addrs = args.slice(1);
      for (const a of addrs) {
        if (a === "unknown" || a === "router" || a === "dynamic") continue;
        const mac = a.split(/\s+/)[0] ?? "";
        if (mac === "dynamic") continue;
        try {
          parseMac(mac);
        } catch {
          throw new SimError(
            "BAD_VALUE",
            `${a}: Invalid address format. See ovn-nb(5). Hint: An Ethernet address must be listed before an IP address, together as a single argument.`,
          );
        }
      }
      port.addresses = addrs;
    },
  },
  "lsp-set-port-security": {
    arity: [1, INF],
    run(d, args) {
      lspGet(d, arg(args, 0)).port.portSecurity = args.slice(1);
    },
  },
  "lsp-set-options": {
    arity: [1, INF],
    run(d, args) {
      lspGet(d, arg(args, 0)).port.options = parseKeyValues(args.slice(1), "lsp-set-options");
    },
  },
  "lsp-set-enabled": {
    arity: [2, 2],
    run(d, args) {
      const s = arg(args, 1);
      if (s !== "enabled" && s !== "disabled")
        throw new SimError("BAD_VALUE", `${s}: state must be "enabled" or "disabled"`);
      lspGet(d, arg(args, 0)).port.enabled = s === "enabled";
    },
  },
  "lsp-set-external-ids": {
    arity: [1, INF],
    run(d, args) {
      lspGet(d, arg(args, 0)).port.externalIds = parseKeyValues(args.slice(1), "lsp-set-external-ids");
    },
  },
  "lb-add": {
    arity: [3, 5],
    run(d, args, o) {
      const [name, vipText, ipsText, proto] = args as [string, string, string, string?];
      if (proto !== undefined && proto !== "tcp" && proto !== "udp" && proto !== "sctp") {
        throw new SimError("BAD_VALUE", `${proto}: protocol must be one of "tcp", "udp",  or "sctp".`);
      }
      const vip = parseLbAddr(vipText, `${vipText}: VIP`);
      const backends: string[] = [];
      for (const tok of ipsText.split(",")) {
        if (tok === "") continue;
        let b: ReturnType<typeof parseLbAddr>;
        try {
          b = parseLbAddr(tok, tok);
        } catch {
          throw new SimError(
            "BAD_VALUE",
            vip.port !== undefined
              ? `${tok}: should be an IP address and a port number with : as a separator.`
              : `${tok}: should be an IP address.`,
          );
        }
        if (b.v6 !== vip.v6)
          throw new SimError("BAD_VALUE", `${tok}: IP address family is different from VIP ${vip.ip}.`);
        if ((vip.port === undefined) !== (b.port === undefined)) {
          throw new SimError(
            "BAD_VALUE",
            vip.port !== undefined
              ? `${tok}: should be an IP address and a port number with : as a separator.`
              : `${tok}: should be an IP address.`,
          );
        }
        backends.push(fmtLbAddr(b));
      }
      if (proto !== undefined && vip.port === undefined) {
        throw new SimError("BAD_VALUE", "Protocol is unnecessary when no port of vip is given.");
      }
      const key = fmtLbAddr(vip);
      const value = backends.join(",");
      const existing = o["--add-duplicate"] ? undefined : lbFind(d, name);
      if (existing) {
        if (Object.hasOwn(existing.vips, key) && !o["--may-exist"]) {
          throw new SimError("DUPLICATE", `${name}: a load balancer with this vip (${key}) already exists`);
        }
        setKey(existing.vips as Record<string, string>, key, value);
        if (proto !== undefined) existing.protocol = proto;
        return;
      }
      const options: Record<string, string> = {};
      if (o["--reject"]) options.reject = "true";
      if (o["--event"]) options.event = "true";
      if (o["--add-route"]) options.add_route = "true";
      const vips: Record<string, string> = {};
      setKey(vips, key, value);
      d.loadBalancers.push({
        name,
        uuid: newUuid(d, "Load_Balancer"),
        protocol: proto ?? "tcp",
        vips,
        options,
        selectionFields: [],
        ipPortMappings: {},
        externalIds: {},
      });
    },
  },
  "lb-del": {
    arity: [1, 2],
    run(d, args, o) {
      const i = d.loadBalancers.findIndex((l) => l.name === args[0] || l.uuid === args[0]);
      if (i < 0) {
        if (o["--if-exists"]) return;
        throw new SimError("UNKNOWN_OBJECT", `${arg(args, 0)}: load balancer name not found`);
      }
      const lb = d.loadBalancers[i];
      if (args[1] !== undefined && lb) {
        const key = fmtLbAddr(parseLbAddr(arg(args, 1), "VIP"));
        if (!Object.hasOwn(lb.vips, key)) {
          if (o["--if-exists"]) return;
          throw new SimError("UNKNOWN_OBJECT", `vip ${key} is not part of the load balancer.`);
        }
        delete (lb.vips as Record<string, string>)[key];
        if (Object.keys(lb.vips).length > 0) return;
      }
      const nameOf = lb?.name;
      d.loadBalancers.splice(i, 1);
      for (const sw of d.switches) sw.loadBalancers = sw.loadBalancers.filter((n) => n !== nameOf);
      for (const r of d.routers) r.loadBalancers = r.loadBalancers.filter((n) => n !== nameOf);
      for (const g of d.loadBalancerGroups) g.loadBalancers = g.loadBalancers.filter((n) => n !== nameOf);
    },
  },
  "ls-lb-add": {
    arity: [2, 2],
    run(d, args, o) {
      const sw = lsGet(d, arg(args, 0));
      const lb = lbGet(d, arg(args, 1));
      if (sw.loadBalancers.includes(lb.name)) {
        if (o["--may-exist"]) return;
        throw new SimError("DUPLICATE", `${lb.name} : a load balancer with this UUID already exists`);
      }
      sw.loadBalancers.push(lb.name);
    },
  },
  "ls-lb-del": {
    arity: [1, 2],
    run(d, args, o) {
      const sw = lsGet(d, arg(args, 0));
      if (args[1] === undefined) {
        sw.loadBalancers = [];
        return;
      }
      const lb = lbFind(d, arg(args, 1));
      const name = lb?.name ?? arg(args, 1);
      if (!sw.loadBalancers.includes(name)) {
        if (o["--if-exists"]) return;
        throw new SimError("UNKNOWN_OBJECT", `load balancer ${name} is not part of any logical switch.`);
      }
      sw.loadBalancers = sw.loadBalancers.filter((n) => n !== name);
    },
  },
  "lr-add": {
    arity: [0, 1],
    run(d, args, o) {
      const name = args[0] ?? "";
      if (name !== "" && lrFind(d, name)) {
        if (o["--may-exist"]) return;
        throw new SimError("DUPLICATE", `${name}: a router with this name already exists`);
      }
      d.routers.push({
        name,
        uuid: newUuid(d, "Logical_Router"),
        ports: [],
        staticRoutes: [],
        policies: [],
        nat: [],
        loadBalancers: [],
        options: {},
        externalIds: {},
      });
    },
  },
  "lr-del": {
    arity: [1, 1],
    run(d, args, o) {
      const i = d.routers.findIndex((r) => r.name === args[0] || r.uuid === args[0]);
      if (i < 0) {
        if (o["--if-exists"]) return;
        throw new SimError("UNKNOWN_OBJECT", `${arg(args, 0)}: router name not found`);
      }
      d.routers.splice(i, 1);
    },
  },
  "lrp-add": {
    arity: [4, INF],
    run(d, args, o) {
      const router = lrGet(d, arg(args, 0));
      const name = arg(args, 1);
      const mac = arg(args, 2);
      // Arguments from the first "COLUMN[:KEY]=VALUE" on are column settings (peer=…).
      let n = args.length - 3;
      for (let i = 3; i < args.length; i++) {
        if (arg(args, i).includes("=")) {
          n = i - 3;
          break;
        }
      }
      const networks = args.slice(3, 3 + n);
      const settings = args.slice(3 + n);
      if (networks.length === 0)
        throw new SimError("PARSE_ERROR", `${name}: router port requires specifying a network`);
      try {
        parseMac(mac);
      } catch {
        throw new SimError("BAD_VALUE", `${name}: invalid mac address ${mac}`);
      }
      const existing = lrpFind(d, name);
      if (existing) {
        if (!o["--may-exist"])
          throw new SimError("DUPLICATE", `${name}: a port with this name already exists`);
        if (existing.router.name !== router.name)
          throw new SimError(
            "CONFLICT",
            `${name}: port already exists but in router ${existing.router.name}`,
          );
        return;
      }
      for (const net of networks) {
        const [ip, plen, ...more] = net.split("/");
        let ok = more.length === 0 && plen !== undefined && /^\d{1,3}$/.test(plen);
        if (ok) {
          try {
            if ((ip ?? "").includes(":")) ok = Number(plen) <= 128 && parseIp6(ip ?? "") !== undefined;
            // ip_parse_cidr scans each octet with %hhu: no range or leading-zero check.
            else ok = Number(plen) <= 32 && /^\d{1,3}(\.\d{1,3}){3}$/.test(ip ?? "");
          } catch {
            ok = false;
          }
        }
        if (!ok) throw new SimError("BAD_VALUE", `${name}: invalid network address: ${net}`);
      }
      const port: Draft<LogicalRouterPort> = {
        name,
        uuid: newUuid(d, "Logical_Router_Port"),
        mac: formatMac(parseMac(mac)),
        networks,
        gatewayChassis: [],
        ipv6RaConfigs: {},
        ipv6Prefix: [],
        options: {},
        externalIds: {},
      };
      router.ports.push(port);
      if (settings.length > 0) dbSet(d, ["Logical_Router_Port", port.uuid, ...settings], {}, "set");
    },
  },
  "lrp-del": {
    arity: [1, 1],
    run(d, args, o) {
      const r = lrpFind(d, arg(args, 0));
      if (!r) {
        if (o["--if-exists"]) return;
        throw new SimError("UNKNOWN_PORT", `${arg(args, 0)}: port name not found`);
      }
      r.router.ports.splice(r.router.ports.indexOf(r.port), 1);
    },
  },
  "acl-add": {
    arity: [5, 5],
    run(d, args, o) {
      const [entity, dir, prio, match, verdict] = args as [string, string, string, string, string];
      const target = aclTarget(d, entity, o["--type"]);
      if (dir !== "from-lport" && dir !== "to-lport") {
        throw new SimError("BAD_VALUE", `${dir}: direction must be "to-lport" or "from-lport"`);
      }
      if (!/^\d+$/.test(prio) || Number(prio) > 32767) {
        throw new SimError("BAD_VALUE", `${prio}: priority must in range 0...32767`);
      }
      if (!(VERDICTS as readonly string[]).includes(verdict)) {
        throw new SimError(
          "BAD_VALUE",
          `${verdict}: action must be one of "allow", "allow-related", "allow-stateless", "drop", "reject" and "pass"`,
        );
      }
      const priority = Number(prio);
      const existing = target.acls.find(
        (a) => a.direction === dir && a.priority === priority && a.match === match,
      );
      if (existing) {
        if (o["--may-exist"]) return;
        throw new SimError("DUPLICATE", `Same ACL already existed on the ls ${entity}.`);
      }
      let label = 0;
      if (o["--label"] !== undefined) {
        if (verdict !== "allow" && verdict !== "allow-related") {
          throw new SimError("BAD_VALUE", 'label can only be set with actions "allow" or "allow-related"');
        }
        const text = String(o["--label"]);
        if (!/^\d+$/.test(text) || Number(text) > 4294967295) {
          throw new SimError("BAD_VALUE", `${text}: label must in range 0...4294967295`);
        }
        label = Number(text);
      }
      const severity = o["--severity"];
      if (
        severity !== undefined &&
        !["alert", "warning", "notice", "info", "debug"].includes(String(severity))
      ) {
        throw new SimError("BAD_VALUE", `bad severity: ${String(severity)}`);
      }
      const options: Record<string, string> = {};
      if (o["--apply-after-lb"] && dir === "from-lport") options["apply-after-lb"] = "true";
      let tier: number | undefined;
      if (o["--tier"] !== undefined) {
        const t = String(o["--tier"]);
        if (!/^\d$/.test(t) || Number(t) > 3)
          throw new SimError("BAD_VALUE", `${t}: tier must be in range 0...3`);
        tier = Number(t);
      }
      const acl: Draft<Acl> = {
        uuid: newUuid(d, "ACL"),
        direction: dir as AclDirection,
        priority,
        match,
        action: verdict as AclVerdict,
        // ovn-nbctl turns logging on for any of --log, --severity, --name, --meter.
        log:
          o["--log"] !== undefined ||
          o["--severity"] !== undefined ||
          o["--name"] !== undefined ||
          o["--meter"] !== undefined,
        ...(typeof o["--name"] === "string" ? { name: o["--name"] } : {}),
        ...(typeof o["--severity"] === "string" ? { severity: o["--severity"] } : {}),
        ...(typeof o["--meter"] === "string" ? { meter: o["--meter"] } : {}),
        label,
        ...(tier !== undefined ? { tier } : {}),
        options,
        externalIds: {},
      };
      target.acls.push(acl);
    },
  },
  "acl-del": {
    arity: [1, 4],
    run(d, args, o) {
      const sw = aclTarget(d, arg(args, 0), o["--type"]);
      if (args.length === 1) {
        sw.acls = [];
        return;
      }
      const dir = arg(args, 1);
      if (args.length === 2) {
        sw.acls = sw.acls.filter((a) => a.direction !== dir);
        return;
      }
      if (args.length !== 4)
        throw new SimError("PARSE_ERROR", "acl-del: cannot specify priority without match");
      const prio = Number(arg(args, 2));
      sw.acls = sw.acls.filter((a) => !(a.direction === dir && a.priority === prio && a.match === args[3]));
    },
  },
  set: { arity: [3, INF], run: (d, args, o, r) => dbSet(d, args, o, "set", false, r) },
  add: { arity: [4, INF], run: (d, args, o, r) => dbSet(d, args, o, "add", false, r) },
  remove: { arity: [4, INF], run: (d, args, o, r) => dbSet(d, args, o, "remove", false, r) },
  clear: { arity: [3, INF], run: (d, args, o, r) => dbSet(d, args, o, "clear", false, r) },
  create: { arity: [1, INF], run: (d, args, o, r) => dbCreate(d, args, o, r) },
  destroy: { arity: [1, INF], run: (d, args, o) => dbDestroy(d, args, o) },
};

Object.assign(NB_COMMANDS, ROUTER_COMMANDS);

/** acl_cmd_get_pg_or_ls: the switch or port group an ACL command names. */
function aclTarget(d: Db, id: string, type: string | true | undefined): { acls: Draft<Acl>[] } {
  const pg = d.portGroups.find((p) => p.name === id || p.uuid === id);
  const ls = lsFind(d, id);
  if (type === undefined) {
    if (pg && ls)
      throw new SimError(
        "CONFLICT",
        `Same name '${id}' exists in both port-groups and logical switches. Specify --type=port-group or switch`,
      );
    if (pg) return pg;
    if (ls) return ls;
    throw new SimError("UNKNOWN_OBJECT", `'${id}' is not found for port-group or switch`);
  }
  if (type === "port-group") {
    if (!pg) throw new SimError("UNKNOWN_OBJECT", `${id}: port group name not found`);
    return pg;
  }
  if (type === "switch") return lsGet(d, id);
  throw new SimError("BAD_VALUE", `Invalid value '${String(type)}' for option --type`);
}

const SB_COMMANDS: Record<string, Handler> = {
  init: { arity: [0, 0], run() {} },
  sync: { arity: [0, 0], run() {} },
  "chassis-add": {
    arity: [3, 3],
    run(d, args, o) {
      const [name, encapType, encapIp] = args as [string, string, string];
      if (d.chassis.some((c) => c.name === name)) {
        if (o["--may-exist"]) return;
        throw new SimError("DUPLICATE", `${name}: chassis with this name already exists`);
      }
      d.chassis.push({
        name,
        uuid: newUuid(d, "Chassis"),
        hostname: "",
        encapType,
        encapIp,
        otherConfig: {},
        externalIds: {},
      });
    },
  },
  "chassis-del": {
    arity: [1, 1],
    run(d, args, o) {
      const i = d.chassis.findIndex((c) => c.name === args[0]);
      if (i < 0) {
        if (o["--if-exists"]) return;
        throw new SimError("UNKNOWN_OBJECT", `${arg(args, 0)}: no chassis named ${arg(args, 0)}`);
      }
      d.chassis.splice(i, 1);
      d.portBindings = d.portBindings.filter((b) => b.chassis !== args[0]);
    },
  },
  "lsp-bind": {
    arity: [2, 2],
    run(d, args, o) {
      const [port, chassis] = args as [string, string];
      if (!lspFind(d, port)) throw new SimError("UNKNOWN_PORT", `${port}: port name not found`);
      if (!d.chassis.some((c) => c.name === chassis)) {
        throw new SimError("UNKNOWN_OBJECT", `${chassis}: no chassis named ${chassis}`);
      }
      const b = d.portBindings.find((x) => x.logicalPort === port);
      if (b) {
        if (o["--may-exist"]) return;
        throw new SimError("DUPLICATE", `lport ${port} already bound to chassis ${b.chassis}`);
      }
      d.portBindings.push({ logicalPort: port, chassis });
    },
  },
  "lsp-unbind": {
    arity: [1, 1],
    run(d, args, o) {
      const i = d.portBindings.findIndex((b) => b.logicalPort === args[0]);
      if (i < 0) {
        if (o["--if-exists"]) return;
        throw new SimError("UNKNOWN_PORT", `${arg(args, 0)}: port is not bound`);
      }
      d.portBindings.splice(i, 1);
    },
  },
  set: { arity: [3, INF], run: (d, args, o) => dbSet(d, args, o, "set", true) },
  add: { arity: [4, INF], run: (d, args, o) => dbSet(d, args, o, "add", true) },
  remove: { arity: [4, INF], run: (d, args, o) => dbSet(d, args, o, "remove", true) },
  clear: { arity: [3, INF], run: (d, args, o) => dbSet(d, args, o, "clear", true) },
};

/** sbctl commands people sometimes put in the same file without the tool name. */
const SB_ONLY_IN_NB: Record<string, Handler> = {
  "chassis-add": SB_COMMANDS["chassis-add"] as Handler,
  "chassis-del": SB_COMMANDS["chassis-del"] as Handler,
  "lsp-bind": SB_COMMANDS["lsp-bind"] as Handler,
  "lsp-unbind": SB_COMMANDS["lsp-unbind"] as Handler,
};

// ---------------------------------------------------------------------------------------------
// Generic database commands (lib/db-ctl-base.c): set / add / remove / clear.

/**
 * Column kinds: scalars, sets and maps of strings; `refset`/`optref` are references to rows of
 * another root table, kept by that row's name; `children` are the rows a parent owns (a
 * router's static routes, a port group's ACLs), given as `@id` of a `--id=@id create` earlier
 * on the same line or as uuids.
 */
type ColKind = "string" | "optstring" | "int" | "bool" | "set" | "map" | "refset" | "optref" | "children";
interface ColSpec {
  readonly field: string;
  readonly kind: ColKind;
  /** Referenced table (refset, optref, children). */
  readonly ref?: string;
}
interface TableSpec {
  readonly name: string;
  readonly sb?: boolean;
  readonly cols: Readonly<Record<string, ColSpec>>;
  rows(d: Db): Record<string, unknown>[];
  /** Root tables: where `create` puts a new row. Others need a parent (via --id=@x). */
  insert?(d: Db, row: Record<string, unknown>): void;
  /** A new row with every column at its default. */
  blank?(): Record<string, unknown>;
  /** Removes a row (`destroy`). */
  destroy?(d: Db, row: Record<string, unknown>): void;
}

const c = (field: string, kind: ColKind, ref?: string): ColSpec => ({ field, kind, ...(ref ? { ref } : {}) });
type AnyRow = Record<string, unknown>;
const asRows = (x: unknown): AnyRow[] => x as AnyRow[];
/** Removes `row` from whichever of the arrays holds it. */
function spliceOut(lists: readonly unknown[][], row: AnyRow): void {
  for (const l of lists) {
    const i = l.findIndex((r) => (r as AnyRow).uuid === row.uuid);
    if (i >= 0) l.splice(i, 1);
  }
}
const COMMON = { external_ids: c("externalIds", "map") };

const TABLES: readonly TableSpec[] = [
  {
    name: "NB_Global",
    cols: { options: c("options", "map"), ...COMMON },
    rows: (d) => [d.nbGlobal as unknown as Record<string, unknown>],
  },
  {
    name: "Logical_Switch",
    cols: {
      name: c("name", "string"),
      other_config: c("otherConfig", "map"),
      load_balancer: c("loadBalancers", "refset", "Load_Balancer"),
      load_balancer_group: c("loadBalancerGroups", "refset", "Load_Balancer_Group"),
      acls: c("acls", "children", "ACL"),
      ...COMMON,
    },
    rows: (d) => d.switches as unknown as Record<string, unknown>[],
  },
  {
    name: "Logical_Switch_Port",
    cols: {
      name: c("name", "string"),
      type: c("type", "string"),
      addresses: c("addresses", "set"),
      port_security: c("portSecurity", "set"),
      tag: c("tag", "int"),
      tag_request: c("tagRequest", "int"),
      parent_name: c("parentName", "optstring"),
      options: c("options", "map"),
      enabled: c("enabled", "bool"),
      ...COMMON,
    },
    rows: (d) => d.switches.flatMap((s) => s.ports) as unknown as Record<string, unknown>[],
  },
  {
    name: "Load_Balancer",
    cols: {
      name: c("name", "string"),
      protocol: c("protocol", "optstring"),
      vips: c("vips", "map"),
      options: c("options", "map"),
      selection_fields: c("selectionFields", "set"),
      ip_port_mappings: c("ipPortMappings", "map"),
      ...COMMON,
    },
    rows: (d) => d.loadBalancers as unknown as Record<string, unknown>[],
    insert: (d, row) => void d.loadBalancers.push(row as never),
    blank: () => ({
      name: "",
      vips: {},
      options: {},
      selectionFields: [],
      ipPortMappings: {},
      externalIds: {},
    }),
  },
  {
    name: "ACL",
    cols: {
      name: c("name", "optstring"),
      direction: c("direction", "string"),
      priority: c("priority", "int"),
      match: c("match", "string"),
      action: c("action", "string"),
      log: c("log", "bool"),
      severity: c("severity", "optstring"),
      label: c("label", "int"),
      meter: c("meter", "optstring"),
      tier: c("tier", "int"),
      options: c("options", "map"),
      ...COMMON,
    },
    rows: (d) => asRows([...d.switches.flatMap((s) => s.acls), ...d.portGroups.flatMap((p) => p.acls)]),
    blank: () => ({
      direction: "",
      priority: 0,
      match: "",
      action: "",
      log: false,
      label: 0,
      options: {},
      externalIds: {},
    }),
    destroy: (d, row) =>
      spliceOut([...d.switches.map((s) => s.acls), ...d.portGroups.map((p) => p.acls)], row),
  },
  {
    name: "Logical_Router",
    cols: {
      name: c("name", "string"),
      options: c("options", "map"),
      load_balancer: c("loadBalancers", "refset", "Load_Balancer"),
      load_balancer_group: c("loadBalancerGroups", "refset", "Load_Balancer_Group"),
      enabled: c("enabled", "bool"),
      static_routes: c("staticRoutes", "children", "Logical_Router_Static_Route"),
      policies: c("policies", "children", "Logical_Router_Policy"),
      nat: c("nat", "children", "NAT"),
      ...COMMON,
    },
    rows: (d) => asRows(d.routers),
    insert: (d, row) => void d.routers.push(row as never),
    blank: () => ({
      name: "",
      ports: [],
      staticRoutes: [],
      policies: [],
      nat: [],
      loadBalancers: [],
      options: {},
      externalIds: {},
    }),
    destroy: (d, row) => spliceOut([d.routers], row),
  },
  {
    name: "Logical_Router_Port",
    cols: {
      name: c("name", "string"),
      mac: c("mac", "string"),
      networks: c("networks", "set"),
      peer: c("peer", "optstring"),
      options: c("options", "map"),
      enabled: c("enabled", "bool"),
      gateway_chassis: c("gatewayChassis", "children", "Gateway_Chassis"),
      ha_chassis_group: c("haChassisGroup", "optref", "HA_Chassis_Group"),
      ipv6_ra_configs: c("ipv6RaConfigs", "map"),
      ipv6_prefix: c("ipv6Prefix", "set"),
      ...COMMON,
    },
    rows: (d) => d.routers.flatMap((r) => r.ports) as unknown as Record<string, unknown>[],
  },
  {
    name: "Logical_Router_Static_Route",
    cols: {
      ip_prefix: c("ipPrefix", "string"),
      nexthop: c("nexthop", "string"),
      output_port: c("outputPort", "optstring"),
      policy: c("policy", "optstring"),
      route_table: c("routeTable", "string"),
      options: c("options", "map"),
      ...COMMON,
    },
    rows: (d) => asRows(d.routers.flatMap((r) => r.staticRoutes)),
    blank: () => ({ ipPrefix: "", nexthop: "", routeTable: "", options: {}, externalIds: {} }),
    destroy: (d, row) =>
      spliceOut(
        d.routers.map((r) => r.staticRoutes),
        row,
      ),
  },
  {
    name: "Logical_Router_Policy",
    cols: {
      priority: c("priority", "int"),
      match: c("match", "string"),
      action: c("action", "string"),
      nexthop: c("nexthop", "optstring"),
      nexthops: c("nexthops", "set"),
      options: c("options", "map"),
      ...COMMON,
    },
    rows: (d) => asRows(d.routers.flatMap((r) => r.policies)),
    blank: () => ({ priority: 0, match: "", action: "", nexthops: [], options: {}, externalIds: {} }),
    destroy: (d, row) =>
      spliceOut(
        d.routers.map((r) => r.policies),
        row,
      ),
  },
  {
    name: "NAT",
    cols: {
      type: c("type", "string"),
      external_ip: c("externalIp", "string"),
      logical_ip: c("logicalIp", "string"),
      external_mac: c("externalMac", "optstring"),
      logical_port: c("logicalPort", "optstring"),
      external_port_range: c("externalPortRange", "string"),
      allowed_ext_ips: c("allowedExtIps", "optref", "Address_Set"),
      exempted_ext_ips: c("exemptedExtIps", "optref", "Address_Set"),
      gateway_port: c("gatewayPort", "optref", "Logical_Router_Port"),
      options: c("options", "map"),
      ...COMMON,
    },
    rows: (d) => asRows(d.routers.flatMap((r) => r.nat)),
    blank: () => ({
      type: "",
      externalIp: "",
      logicalIp: "",
      externalPortRange: "",
      options: {},
      externalIds: {},
    }),
    destroy: (d, row) =>
      spliceOut(
        d.routers.map((r) => r.nat),
        row,
      ),
  },
  {
    name: "Port_Group",
    cols: {
      name: c("name", "string"),
      ports: c("ports", "refset", "Logical_Switch_Port"),
      acls: c("acls", "children", "ACL"),
      ...COMMON,
    },
    rows: (d) => asRows(d.portGroups),
    insert: (d, row) => void d.portGroups.push(row as never),
    blank: () => ({ name: "", ports: [], acls: [], externalIds: {} }),
    destroy: (d, row) => spliceOut([d.portGroups], row),
  },
  {
    name: "Address_Set",
    cols: { name: c("name", "string"), addresses: c("addresses", "set"), ...COMMON },
    rows: (d) => asRows(d.addressSets),
    insert: (d, row) => void d.addressSets.push(row as never),
    blank: () => ({ name: "", addresses: [], externalIds: {} }),
    destroy: (d, row) => spliceOut([d.addressSets], row),
  },
  {
    name: "Load_Balancer_Group",
    cols: { name: c("name", "string"), load_balancer: c("loadBalancers", "refset", "Load_Balancer") },
    rows: (d) => asRows(d.loadBalancerGroups),
    insert: (d, row) => void d.loadBalancerGroups.push(row as never),
    blank: () => ({ name: "", loadBalancers: [] }),
    destroy: (d, row) => {
      spliceOut([d.loadBalancerGroups], row);
      for (const x of [...d.switches, ...d.routers])
        if (x.loadBalancerGroups) x.loadBalancerGroups = x.loadBalancerGroups.filter((n) => n !== row.name);
    },
  },
  {
    name: "Meter",
    cols: { name: c("name", "string"), unit: c("unit", "string"), fair: c("fair", "bool"), ...COMMON },
    rows: (d) => asRows(d.meters),
    destroy: (d, row) => spliceOut([d.meters], row),
  },
  {
    name: "Static_MAC_Binding",
    cols: {
      logical_port: c("logicalPort", "string"),
      ip: c("ip", "string"),
      mac: c("mac", "string"),
      override_dynamic_mac: c("overrideDynamicMac", "bool"),
    },
    rows: (d) => asRows(d.staticMacBindings),
    insert: (d, row) => void d.staticMacBindings.push(row as never),
    blank: () => ({ logicalPort: "", ip: "", mac: "", overrideDynamicMac: false }),
    destroy: (d, row) => spliceOut([d.staticMacBindings], row),
  },
  {
    name: "Gateway_Chassis",
    cols: {
      name: c("name", "string"),
      chassis_name: c("chassisName", "string"),
      priority: c("priority", "int"),
      options: c("options", "map"),
      ...COMMON,
    },
    rows: (d) => asRows(d.routers.flatMap((r) => r.ports.flatMap((p) => p.gatewayChassis))),
    blank: () => ({ name: "", chassisName: "", priority: 0, options: {}, externalIds: {} }),
    destroy: (d, row) =>
      spliceOut(
        d.routers.flatMap((r) => r.ports.map((p) => p.gatewayChassis)),
        row,
      ),
  },
  {
    name: "HA_Chassis_Group",
    cols: { name: c("name", "string"), ha_chassis: c("haChassis", "children", "HA_Chassis"), ...COMMON },
    rows: (d) => asRows(d.haChassisGroups),
    insert: (d, row) => void d.haChassisGroups.push(row as never),
    blank: () => ({ name: "", haChassis: [], externalIds: {} }),
    destroy: (d, row) => spliceOut([d.haChassisGroups], row),
  },
  {
    name: "HA_Chassis",
    cols: { chassis_name: c("chassisName", "string"), priority: c("priority", "int") },
    rows: (d) => asRows(d.haChassisGroups.flatMap((g) => g.haChassis)),
    blank: () => ({ chassisName: "", priority: 0 }),
    destroy: (d, row) =>
      spliceOut(
        d.haChassisGroups.map((g) => g.haChassis),
        row,
      ),
  },
  {
    name: "Chassis",
    sb: true,
    cols: {
      name: c("name", "string"),
      hostname: c("hostname", "string"),
      other_config: c("otherConfig", "map"),
      ...COMMON,
    },
    rows: (d) => d.chassis as unknown as Record<string, unknown>[],
  },
];

function findTable(name: string, sb: boolean): TableSpec {
  const want = name.toLowerCase().replace(/-/g, "_");
  const pool = TABLES.filter((t) => !!t.sb === sb);
  const exact = pool.find((t) => t.name.toLowerCase() === want);
  if (exact) return exact;
  const pre = pool.filter((t) => t.name.toLowerCase().startsWith(want));
  if (pre.length === 1 && pre[0]) return pre[0];
  throw new SimError(
    pre.length > 1 ? "PARSE_ERROR" : "UNSUPPORTED",
    pre.length > 1 ? `"${name}" matches multiple table names` : `unknown or unmodelled table "${name}"`,
  );
}

function findRow(t: TableSpec, d: Db, id: string): Record<string, unknown> {
  const rows = t.rows(d);
  if (t.name === "NB_Global") {
    if (id === "." || rows.length === 1) return rows[0] as Record<string, unknown>;
  }
  const hits = rows.filter(
    (r) => r.uuid === id || (typeof r.name === "string" && r.name === id && id !== ""),
  );
  if (hits.length === 0) throw new SimError("UNKNOWN_OBJECT", `no row "${id}" in table ${t.name}`);
  if (hits.length > 1) throw new SimError("CONFLICT", `multiple rows in ${t.name} match "${id}"`);
  return hits[0] as Record<string, unknown>;
}

const DELIMS = ":=, []{}!<>";

/** One OVSDB token: a "JSON string" or a run of non-delimiter characters (ovsdb_token_parse). */
function takeToken(s: string, pos: number): { text: string; end: number } {
  if (s[pos] === '"') {
    let out = "";
    let i = pos + 1;
    for (;;) {
      if (i >= s.length) throw new SimError("PARSE_ERROR", `${s}: missing quote at end of quoted string`);
      const ch = s[i] as string;
      if (ch === '"') break;
      if (ch === "\\") {
        const nx = s[i + 1];
        if (nx === undefined) throw new SimError("PARSE_ERROR", `${s}: incomplete escape`);
        const map: Record<string, string> = {
          n: "\n",
          t: "\t",
          r: "\r",
          b: "\b",
          f: "\f",
          '"': '"',
          "\\": "\\",
          "/": "/",
        };
        if (nx === "u") {
          const hex = s.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new SimError("PARSE_ERROR", `${s}: bad \\u escape`);
          out += String.fromCharCode(Number.parseInt(hex, 16));
          i += 6;
          continue;
        }
        const m = map[nx];
        if (m === undefined) throw new SimError("PARSE_ERROR", `${s}: bad escape \\${nx}`);
        out += m;
        i += 2;
        continue;
      }
      out += ch;
      i++;
    }
    return { text: out, end: i + 1 };
  }
  let i = pos;
  while (i < s.length && !DELIMS.includes(s[i] as string)) i++;
  return { text: s.slice(pos, i), end: i };
}

function skipWs(s: string, pos: number): number {
  let i = pos;
  while (i < s.length && (s[i] === " " || s[i] === "\t")) i++;
  return i;
}

/** An atom that is a whole value string: a quoted string, or the literal text. */
function wholeAtom(s: string): string {
  if (s.startsWith('"')) {
    const t = takeToken(s, 0);
    if (skipWs(s, t.end) !== s.length)
      throw new SimError("PARSE_ERROR", `${s}: trailing garbage after quoted string`);
    return t.text;
  }
  return s;
}

/** ovsdb_datum_from_string: "[a, b]", "{k=v, …}", "a,b" or a single atom. */
function parseDatum(s: string, isMap: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  let i = skipWs(s, 0);
  let close: string | undefined;
  if (s[i] === "[" || s[i] === "{") {
    close = s[i] === "[" ? "]" : "}";
    i++;
  }
  for (;;) {
    i = skipWs(s, i);
    if (i >= s.length) {
      if (close) throw new SimError("PARSE_ERROR", `${s}: missing "${close}" at end of data`);
      break;
    }
    if (close && s[i] === close) {
      i++;
      break;
    }
    const k = takeToken(s, i);
    if (k.end === i) throw new SimError("PARSE_ERROR", `${s}: syntax error at "${s.slice(i)}"`);
    i = skipWs(s, k.end);
    let v = "";
    if (isMap) {
      if (s[i] !== "=") throw new SimError("PARSE_ERROR", `${s}: missing "=" in map data`);
      const vt = takeToken(s, skipWs(s, i + 1));
      v = vt.text;
      i = skipWs(s, vt.end);
    }
    out.push([k.text, v]);
    if (s[i] === ",") i++;
  }
  if (skipWs(s, i) !== s.length) throw new SimError("PARSE_ERROR", `${s}: trailing garbage`);
  return out;
}

function toScalar(kind: ColKind, text: string, col: string): unknown {
  switch (kind) {
    case "int":
      if (!/^-?\d+$/.test(text)) throw new SimError("BAD_VALUE", `${col}: "${text}" is not a valid integer`);
      return Number(text);
    case "bool":
      if (text !== "true" && text !== "false")
        throw new SimError("BAD_VALUE", `${col}: "${text}" is not a valid boolean`);
      return text === "true";
    default:
      return text;
  }
}

/** Rows created with `--id=@name create …` earlier on the same command line. */
export type LineRefs = Map<string, { readonly table: string; readonly row: AnyRow }>;

/** OVSDB enum constraints of the modelled columns (ovn-nb.ovsschema). */
const ENUMS: Readonly<Record<string, readonly string[]>> = {
  "ACL.action": ["allow", "allow-related", "allow-stateless", "drop", "reject", "pass"],
  "ACL.direction": ["from-lport", "to-lport"],
  "ACL.severity": ["alert", "warning", "notice", "info", "debug"],
  "NAT.type": ["dnat", "snat", "dnat_and_snat"],
  "Logical_Router_Policy.action": ["allow", "drop", "reroute"],
  "Logical_Router_Static_Route.policy": ["src-ip", "dst-ip"],
  "Meter.unit": ["kbps", "pktps"],
};

function checkEnum(t: TableSpec, colName: string, value: unknown): void {
  const allowed = ENUMS[`${t.name}.${colName}`];
  if (allowed && typeof value === "string" && !allowed.includes(value)) {
    throw new SimError(
      "BAD_VALUE",
      `constraint violation: ${value} is not one of the allowed values ([${allowed.join(", ")}])`,
    );
  }
}

function colOf(t: TableSpec, name: string): ColSpec {
  const spec = t.cols[name];
  if (!spec || !Object.hasOwn(t.cols, name)) {
    throw new SimError(
      "UNSUPPORTED",
      `${t.name} does not contain a column whose name matches "${name}" (or it is not modelled)`,
    );
  }
  return spec;
}

/** `COL[:KEY]=VALUE` settings, as `set` and `create` take them. */
function setColumns(d: Db, t: TableSpec, row: AnyRow, settings: readonly string[], refs: LineRefs): void {
  for (const w of settings) {
    const ct = takeToken(w, 0);
    const col = colOf(t, ct.text);
    let i = ct.end;
    let key: string | undefined;
    if (w[i] === ":") {
      const kt = takeToken(w, i + 1);
      key = kt.text;
      i = kt.end;
    }
    if (w[i] !== "=") throw new SimError("PARSE_ERROR", `${w}: missing "=" (expected COLUMN[:KEY]=VALUE)`);
    const value = w.slice(i + 1);
    if (key !== undefined) {
      if (col.kind !== "map")
        throw new SimError("BAD_VALUE", `cannot specify key to set for non-map column ${ct.text}`);
      const m = { ...(row[col.field] as StrMap) };
      setKey(m, key, wholeAtom(value));
      row[col.field] = m;
      continue;
    }
    const v = datumValue(d, col, value, ct.text, refs);
    checkEnum(t, ct.text, v);
    row[col.field] = v;
  }
}

function dbSet(
  d: Db,
  args: readonly string[],
  opts: Readonly<Record<string, string | true>>,
  op: "set" | "add" | "remove" | "clear",
  sb = false,
  refs: LineRefs = new Map(),
): void {
  const t = findTable(arg(args, 0), sb);
  let row: Record<string, unknown>;
  try {
    row = findRow(t, d, arg(args, 1));
  } catch (e) {
    if (opts["--if-exists"]) return;
    throw e;
  }
  const rest = args.slice(2);
  if (op === "clear") {
    for (const name of rest) {
      const col = colOf(t, name);
      if (col.kind === "map") row[col.field] = {};
      else if (col.kind === "set" || col.kind === "refset" || col.kind === "children") row[col.field] = [];
      else if (col.kind === "optstring" || col.kind === "int" || col.kind === "bool" || col.kind === "optref")
        delete row[col.field];
      else
        throw new SimError(
          "BAD_VALUE",
          `"clear" operation cannot be applied to column ${name} of table ${t.name}, which is not allowed to be empty`,
        );
    }
    return;
  }
  if (op === "set") {
    setColumns(d, t, row, rest, refs);
    return;
  }
  const name = arg(rest, 0);
  const col = colOf(t, name);
  const values = rest.slice(1);
  if (col.kind === "map") {
    const m: Record<string, string> = { ...(row[col.field] as StrMap) };
    for (const v of values) {
      const isPair = v.includes("=");
      for (const [k, val] of isPair ? parseDatum(v, true) : parseDatum(v, false)) {
        if (op === "add") {
          if (!Object.hasOwn(m, k)) setKey(m, k, val);
        } else if (!isPair || m[k] === val) {
          delete m[k];
        }
      }
    }
    row[col.field] = m;
    return;
  }
  if (col.kind === "children") {
    let cur = [...(row[col.field] as AnyRow[])];
    for (const v of values) {
      for (const [k] of parseDatum(v, false)) {
        const child = childRow(d, col, k, refs, op === "remove");
        if (op === "add") {
          if (!cur.some((x) => x.uuid === child.uuid)) cur.push(child);
        } else cur = cur.filter((x) => x.uuid !== child.uuid);
      }
    }
    row[col.field] = cur;
    return;
  }
  if (col.kind === "set" || col.kind === "refset") {
    let cur = [...((row[col.field] as string[] | undefined) ?? [])];
    for (const v of values) {
      for (const [k] of parseDatum(v, false)) {
        const item = col.kind === "refset" ? refName(d, col, k, refs) : k;
        if (op === "add") {
          if (!cur.includes(item)) cur.push(item);
        } else cur = cur.filter((x) => x !== item);
      }
    }
    row[col.field] = cur;
    return;
  }
  throw new SimError("BAD_VALUE", `"${op}" operation cannot be applied to scalar column ${name}`);
}

/** `[--id=@name] create TABLE COL=VALUE…` (db-ctl-base cmd_create). */
function dbCreate(
  d: Db,
  args: readonly string[],
  opts: Readonly<Record<string, string | true>>,
  refs: LineRefs,
): void {
  const t = findTable(arg(args, 0), false);
  if (!t.blank) throw new SimError("UNSUPPORTED", `create: rows of table ${t.name} are not modelled`);
  const id = opts["--id"];
  if (id !== undefined && (typeof id !== "string" || !/^@\w+$/.test(id)))
    throw new SimError("PARSE_ERROR", `--id=${String(id)}: row id "${String(id)}" does not begin with "@"`);
  const row: AnyRow = { ...t.blank(), uuid: newUuid(d, t.name) };
  setColumns(d, t, row, args.slice(1), refs);
  if (typeof id === "string") {
    if (refs.has(id)) throw new SimError("DUPLICATE", `row id "${id}" specified on "--id" is already used`);
    refs.set(id, { table: t.name, row });
  }
  // Rows of non-root tables live only while a parent references them (OVSDB garbage collection).
  if (t.insert) t.insert(d, row);
}

/** `destroy TABLE ROW…` (db-ctl-base cmd_destroy). */
function dbDestroy(d: Db, args: readonly string[], opts: Readonly<Record<string, string | true>>): void {
  const t = findTable(arg(args, 0), false);
  if (!t.destroy) throw new SimError("UNSUPPORTED", `destroy: rows of table ${t.name} are not modelled`);
  for (const id of args.slice(1)) {
    let row: AnyRow;
    try {
      row = findRow(t, d, id);
    } catch (e) {
      if (opts["--if-exists"]) continue;
      throw e;
    }
    t.destroy(d, row);
  }
}

function childRow(d: Db, col: ColSpec, id: string, refs: LineRefs, removing: boolean): AnyRow {
  const table = col.ref as string;
  if (id.startsWith("@")) {
    const r = refs.get(id);
    if (!r)
      throw new SimError(
        "UNKNOWN_OBJECT",
        `row id "${id}" is referenced but never created (e.g. with "-- --id=${id} create ...")`,
      );
    if (r.table !== table)
      throw new SimError("BAD_VALUE", `row id "${id}" is a ${r.table} row, not ${table}`);
    return r.row;
  }
  const t = findTable(table, false);
  const hit = t.rows(d).find((r) => r.uuid === id);
  if (!hit) {
    if (removing) return { uuid: id };
    throw new SimError("UNKNOWN_OBJECT", `no row "${id}" in table ${table}`);
  }
  return hit;
}

/** A reference to a row of another root table, stored as that row's name. */
function refName(d: Db, col: ColSpec, id: string, refs: LineRefs): string {
  const table = col.ref ?? "Load_Balancer";
  if (id.startsWith("@")) {
    const r = refs.get(id);
    if (r?.table === table && typeof r.row.name === "string") return r.row.name;
  }
  // A reference value is a row's UUID (or a `--id=@name` of the same line), never its name:
  // the real ovn-nbctl refuses names here ("…" is not a valid UUID).
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id))
    throw new SimError("BAD_VALUE", `"${id}" is not a valid UUID`);
  const t = findTable(table, false);
  const hit = t.rows(d).find((r) => r.uuid === id);
  if (!hit || typeof hit.name !== "string")
    throw new SimError("UNKNOWN_OBJECT", `no row "${id}" in table ${table}`);
  return hit.name;
}

function datumValue(
  d: Db,
  col: ColSpec,
  value: string,
  colName: string,
  refs: LineRefs = new Map(),
): unknown {
  switch (col.kind) {
    case "map": {
      const m: Record<string, string> = {};
      for (const [k, v] of parseDatum(value, true)) setKey(m, k, v);
      return m;
    }
    case "set":
      return parseDatum(value, false).map(([k]) => k);
    case "refset":
      return parseDatum(value, false).map(([k]) => refName(d, col, k, refs));
    case "children":
      return parseDatum(value, false).map(([k]) => childRow(d, col, k, refs, false));
    case "optref": {
      const items = parseDatum(value, false);
      if (items.length > 1)
        throw new SimError("BAD_VALUE", `${colName}: expected at most one value, got "${value}"`);
      if (items.length === 0) return undefined;
      return refName(d, col, (items[0] as [string, string])[0], refs);
    }
    default: {
      const items = parseDatum(value, false);
      if (items.length !== 1)
        throw new SimError("BAD_VALUE", `${colName}: expected exactly one value, got "${value}"`);
      return toScalar(col.kind, (items[0] as [string, string])[0], colName);
    }
  }
}
