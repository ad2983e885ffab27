// The br-int trace differential, shared by scripts/differential-brint.ts and the live tests: one
// random router configuration (router-scenario.ts) built in a real ovn-controller 23.03 sandbox,
// random packets entering br-int the three ways a real node's traffic does — from a local VIF,
// from a Geneve tunnel (tun_id = datapath key, tun_metadata0 = ingress << 16 | egress port key,
// as physical.c encodes them) and from a localnet patch port (tagged when the localnet is) —
// each traced by the real `ovs-appctl ofproto/trace br-int` and by ovnsim's ofproto-trace over
// the bundle `ovnsim ovn-controller --out` writes from the SB and node captures alone.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { loadBundle, renderTrace, traceFlow, tracePortNumbers } from "@ovnsim/openflow";
import { repoRoot, rng, startSandbox } from "@ovnsim/oracle";
import { parseFlow } from "@ovnsim/packet";
import { run } from "../../cli/src/cli.js";
import { normaliseRecirc, odpTree } from "../../openflow/test/harness.js";
import { type Agreement, compareDumps, flowLines, ovnController } from "../src/index.js";
import { loadDir } from "./load.js";
import { generateRouterScenario, type RouterScenario } from "./router-scenario.js";

/** What the packet generator knows of the built configuration beyond the scenario. */
export interface PacketEnv {
  /** br-int's Geneve ports (ofport). */
  readonly tunnels: readonly number[];
  /** br-int's localnet patch ports: ofport and the localnet's VLAN tag (or undefined). */
  readonly localnets: readonly { ofport: number; tag: number | undefined }[];
  /** Datapath tunnel keys and, per datapath, its ports' and multicast groups' tunnel keys. */
  readonly datapaths: readonly {
    key: number;
    ports: readonly { key: number; name: string }[];
    groups: readonly number[];
  }[];
}

/** One traced packet: the ofproto/trace flow and where it entered. */
export interface TracePacket {
  readonly flow: string;
  readonly from: "vif" | "tunnel" | "localnet";
}

const ICMP_KINDS = ["echo", "reply", "unreach"] as const;

/**
 * Random packets: from each local VIF `perVif` packets (ARP, IPv4/IPv6 TCP/UDP/ICMP, ND,
 * broadcast and some fuzzier ones — unknown MACs, spoofed sources, TTL 1, multicast, VLAN-tagged
 * frames, router solicitations, ARP replies), plus as many again from tunnels and localnet
 * patch ports as there are VIFs' worth (when the configuration has them).
 */
export function generatePackets(
  sc: RouterScenario,
  env: PacketEnv,
  seed: number,
  perVif: number,
): TracePacket[] {
  const r = rng(seed ^ 0x2545f491);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: TracePacket[] = [];
  const macs = [...sc.targets.map((t) => t.mac).filter((m) => m !== ""), ...sc.vifs.map((v) => v.mac)];
  const anyMac = (): string =>
    pick([...macs, "ff:ff:ff:ff:ff:ff", "0a:00:00:00:99:99", "01:00:5e:00:00:fb", "33:33:00:00:00:01"]);
  const ip4s = sc.targets.map((t) => t.ip4).filter((x) => x !== "");
  const ip6s = sc.targets.map((t) => t.ip6).filter((x) => x !== "");
  const anyIp4 = (): string =>
    pick([...ip4s, "8.8.8.8", "10.0.0.77", "10.0.0.55", "172.16.0.254", "224.0.0.251"]);
  const anyIp6 = (): string => pick([...ip6s, "fd00::55", "2001:db8::1", "ff02::1"]);
  /** An L3/L4 tail with given addresses. */
  const l4 = (src4: string, dst4: string, src6: string, dst6: string, v6: boolean): string => {
    const sport = 1024 + Math.floor(r() * 60000);
    const dport = pick([80, 443, 22, 8080, 53, 150]);
    const ttl = r() < 0.1 ? 1 : 64;
    if (v6) {
      const l3 = `ipv6_src=${src6},ipv6_dst=${dst6},nw_ttl=${ttl}`;
      switch (pick(["tcp", "udp", "icmp"])) {
        case "tcp":
          return `tcp6,${l3},tcp_src=${sport},tcp_dst=${dport}`;
        case "udp":
          return `udp6,${l3},udp_src=${sport},udp_dst=${dport}`;
        default:
          return `icmp6,${l3},icmpv6_type=${pick([128, 129, 1])},icmpv6_code=0`;
      }
    }
    const l3 = `nw_src=${src4},nw_dst=${dst4},nw_ttl=${ttl}`;
    switch (pick(["tcp", "udp", "icmp", "tcp"])) {
      case "tcp":
        return `tcp,${l3},tcp_src=${sport},tcp_dst=${dport}`;
      case "udp":
        return `udp,${l3},udp_src=${sport},udp_dst=${dport}`;
      default: {
        const k = pick(ICMP_KINDS);
        return `icmp,${l3},icmp_type=${k === "echo" ? 8 : k === "reply" ? 0 : 3},icmp_code=${k === "unreach" ? 1 : 0}`;
      }
    }
  };
  for (const v of sc.vifs) {
    const sw = v.ip4.split(".")[1]!;
    const gwMac = `0a:00:00:00:ff:0${sw}`;
    for (let k = 0; k < perVif; k++) {
      const t = pick(sc.targets.filter((x) => x !== v));
      if (!t) continue;
      const onLink = t.ip4.startsWith(`10.${sw}.0.`) && t.mac !== "";
      const dst = onLink ? t.mac : gwMac;
      const head = `in_port=${v.ofport},dl_src=${v.mac}`;
      const kind = pick([
        "arp",
        "tcp",
        "udp",
        "icmp",
        "tcp",
        "bcast",
        "fuzz",
        "fuzz",
        "arp-reply",
        ...(v.ip6 ? ["icmp6", "nd", "tcp6", "rs", "fuzz6"] : []),
      ]);
      const sport = 1024 + Math.floor(r() * 60000);
      const dport = pick([80, 443, 22, 8080, 53, 150]);
      let flow: string;
      switch (kind) {
        case "arp":
          flow = `${head},dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,arp_spa=${v.ip4},arp_tpa=${r() < 0.8 ? t.ip4 : anyIp4()},arp_sha=${v.mac},arp_tha=00:00:00:00:00:00`;
          break;
        case "arp-reply":
          flow = `${head},dl_dst=${dst},arp,arp_op=2,arp_spa=${v.ip4},arp_tpa=${t.ip4},arp_sha=${v.mac},arp_tha=${dst}`;
          break;
        case "bcast":
          flow = `${head},dl_dst=ff:ff:ff:ff:ff:ff,udp,nw_src=${v.ip4},nw_dst=255.255.255.255,nw_ttl=64,udp_src=${sport},udp_dst=${dport}`;
          break;
        case "icmp":
          flow = `${head},dl_dst=${dst},icmp,nw_src=${v.ip4},nw_dst=${t.ip4},nw_ttl=64,icmp_type=8,icmp_code=0`;
          break;
        case "icmp6":
        case "tcp6": {
          const t6 = t.ip6 || `fd0${sw}::fe`;
          const l3 = `ipv6_src=${v.ip6},ipv6_dst=${t6},nw_ttl=64`;
          const tail =
            kind === "icmp6"
              ? `icmp6,${l3},icmpv6_type=128,icmpv6_code=0`
              : `tcp6,${l3},tcp_src=${sport},tcp_dst=${dport}`;
          flow = `${head},dl_dst=${t.ip6 && onLink ? t.mac : gwMac},${tail}`;
          break;
        }
        case "nd":
          flow = `${head},dl_dst=33:33:ff:00:00:fe,icmp6,ipv6_src=${v.ip6},ipv6_dst=ff02::1:ff00:fe,nw_ttl=255,icmpv6_type=135,icmpv6_code=0,nd_target=${r() < 0.8 ? `fd0${sw}::fe` : anyIp6()},nd_sll=${v.mac}`;
          break;
        case "rs":
          flow = `${head},dl_dst=33:33:00:00:00:02,icmp6,ipv6_src=fe80::1,ipv6_dst=ff02::2,nw_ttl=255,icmpv6_type=133,icmpv6_code=0`;
          break;
        case "fuzz6":
          flow = `in_port=${v.ofport},dl_src=${r() < 0.8 ? v.mac : anyMac()},dl_dst=${anyMac()},${l4("", "", r() < 0.8 ? v.ip6 : anyIp6(), anyIp6(), true)}`;
          break;
        default: {
          // Fuzz: any destination MAC / IP, sometimes a spoofed source or a VLAN tag.
          const vlan = r() < 0.1 ? ",dl_vlan=7" : "";
          flow = `in_port=${v.ofport},dl_src=${r() < 0.85 ? v.mac : anyMac()},dl_dst=${r() < 0.5 ? dst : anyMac()}${vlan},${l4(r() < 0.85 ? v.ip4 : anyIp4(), r() < 0.5 ? t.ip4 || anyIp4() : anyIp4(), "", "", false)}`;
        }
      }
      out.push({ flow, from: "vif" });
    }
  }
  // From the physical network: Geneve tunnels and localnet patch ports.
  const extra = sc.vifs.length * Math.ceil(perVif / 2);
  for (let k = 0; k < extra; k++) {
    const useTunnel = env.tunnels.length > 0 && (env.localnets.length === 0 || r() < 0.5);
    const v6 = ip6s.length > 0 && r() < 0.25;
    const srcMac = pick(["0a:00:00:00:88:01", ...macs]);
    const tail = l4(anyIp4(), anyIp4(), pick([...ip6s, "fd00::99"]), anyIp6(), v6);
    const inner =
      r() < 0.15
        ? `dl_src=${srcMac},dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,arp_spa=${anyIp4()},arp_tpa=${anyIp4()},arp_sha=${srcMac},arp_tha=00:00:00:00:00:00`
        : `dl_src=${srcMac},dl_dst=${anyMac()},${tail}`;
    if (useTunnel) {
      // Mostly towards a local VIF (what a remote chassis sends here), else any port or group.
      const local = env.datapaths.flatMap((d) =>
        d.ports.filter((p) => sc.vifs.some((v) => v.name === p.name)).map((p) => ({ d, p })),
      );
      const aim = r() < 0.6 ? pick(local) : undefined;
      const dp = aim?.d ?? pick(env.datapaths);
      if (!dp) continue;
      const keys = dp.ports.map((p) => p.key);
      const inKey = r() < 0.9 ? pick([...keys, 0]) : 0x7fff;
      const outKey = aim ? aim.p.key : r() < 0.9 ? pick([...keys, ...dp.groups, 0xffff]) : 0x1234;
      const meta = ((inKey ?? 0) << 16) | (outKey ?? 0);
      const vif = aim && sc.vifs.find((v) => v.name === aim.p.name);
      const body = vif && r() < 0.8 ? inner.replace(/dl_dst=[0-9a-f:]+/, `dl_dst=${vif.mac}`) : inner;
      out.push({
        flow: `in_port=${pick(env.tunnels)},tun_id=0x${dp.key.toString(16)},tun_src=192.168.0.2,tun_dst=192.168.0.1,tun_metadata0=0x${(meta >>> 0).toString(16)},${body}`,
        from: "tunnel",
      });
    } else if (env.localnets.length) {
      const ln = pick(env.localnets);
      const vlan =
        ln.tag !== undefined && r() < 0.85 ? `,dl_vlan=${ln.tag}` : r() < 0.1 ? ",dl_vlan=999" : "";
      const [first, ...rest] = inner.split(",");
      out.push({ flow: `in_port=${ln.ofport},${first}${vlan},${rest.join(",")}`, from: "localnet" });
    }
  }
  return out;
}

/**
 * The "Datapath actions:" lines of a trace. Recirculation ids are the daemon's running
 * allocation (ovs-vswitchd hands them out across all earlier traces, and the controller
 * action's continuation carries one too), not a property of the flows, so both sides' ids
 * are replaced by their order of appearance.
 */
export function datapathActions(trace: string): string {
  const ids = new Map<string, number>();
  const norm = (id: string): string => {
    if (!ids.has(id)) ids.set(id, ids.size + 1);
    return `#${ids.get(id)}`;
  };
  return trace
    .split("\n")
    .filter((l) => l.startsWith("Datapath actions:"))
    .map((l) =>
      l
        .replace(/recirc\((0x[0-9a-f]+)\)/g, (_, id: string) => `recirc(${norm(id)})`)
        .replace(/recirc_id=(\d+)/g, (_, id: string) => `recirc_id=${norm(`0x${Number(id).toString(16)}`)}`),
    )
    .join("\n");
}

/** Splits a datapath action list at its top-level commas. */
function topLevel(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const ch of list) {
    if (ch === "(") depth++;
    if (ch === ")") depth--;
    if (ch === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

/**
 * Each "Datapath actions:" line as the multiset of its effects: every action that is not a header
 * rewrite (an output port, ct(), recirc(), userspace(), drop) together with the headers the
 * packet carries at that point (the set() and push_vlan / pop_vlan actions before it). Two
 * lines with the same effects do the same to the packet but for the order of their outputs —
 * the flood order, which OVS takes from its bundle list (pointer-hash order) and ovnsim from
 * port numbers; the header rewrites a different order needs in between are not effects.
 */
export function effectMultiset(text: string): string {
  return text
    .split("\n")
    .map((l) => {
      const state = new Map<string, string>();
      const vlans: string[] = [];
      const effects: string[] = [];
      for (const act of topLevel(l.replace(/^Datapath actions: /, ""))) {
        const set = /^set\((\w+)\((.*)\)\)$/.exec(act);
        if (set) {
          for (const kv of topLevel(set[2]!)) {
            const i = kv.indexOf("=");
            state.set(`${set[1]}.${kv.slice(0, i)}`, kv.slice(i + 1));
          }
        } else if (act.startsWith("push_vlan(")) vlans.push(act);
        else if (act === "pop_vlan") vlans.push("pop");
        else {
          const hdr = [...state].sort().map(([k, v]) => `${k}=${v}`);
          effects.push(`${act}@${[...vlans, ...hdr].join(";")}`);
        }
      }
      return effects.sort().join(" ");
    })
    .join("\n");
}

/** Context a stated difference may look at. */
export interface TraceCase {
  readonly packet: TracePacket;
  /** br-int patch ports to localnet ports (all on the one provider bridge here). */
  readonly localnetPatches: number;
  /** The whole ofproto/trace texts (recirculations included), real and ovnsim's. */
  readonly texts: { readonly real: string; readonly ours: string };
}

/**
 * Differences that are @ovnsim/openflow's or the trace harness's, not the controller model's (the
 * flows agree; the trace of the same flows differs), each with why. A case matching none is
 * a disagreement.
 */
export const KNOWN_TRACE_DIFFERENCES: readonly {
  why: string;
  test(real: string, ours: string, c: TraceCase): boolean;
}[] = [
  {
    why: "flood order: OVS floods a NORMAL bridge's ports in its bundle-list order (pointer hashes), ovnsim in port order; same outputs with the same headers",
    // A flood into localnet patch ports whose br-int pipelines fork ct(table=…) numbers the
    // recirculations, and orders the resumed passes, in the flood order too (seed 1888926483):
    // then the passes are compared as a tree, each recirc() standing for the pass it resumes.
    test: (real, ours, c) =>
      effectMultiset(real) === effectMultiset(ours) ||
      odpTree(normaliseRecirc(c.texts.real)) === odpTree(normaliseRecirc(c.texts.ours)),
  },
  {
    why: "meter ids: the datapath's meter(N) follow the OpenFlow meter ids, which the real daemon numbers in a run-dependent order (see renumbering()); the same actions otherwise",
    test: (real, ours) => {
      const blank = (t: string): string => t.replace(/meter\(\d+\)/g, "meter(#)");
      return real !== ours && blank(real) === blank(ours);
    },
  },
];

/**
 * Flows that differ only in group / meter ids, matched pairwise (real line → ovnsim line of the
 * same text once ids are blanked). The real daemon numbers groups and meters in the order it
 * first translates the flows using them: within the batch of flows of a datapath that became
 * local, the order of an ovsdb-idl index that breaks ties by row address — run-dependent (the
 * same configuration built twice numbers them differently), so no capture can predict it. The
 * renumbering must be one bijection per kind, and each group's buckets / meter's bands must be
 * the same under it; anything else stays a difference.
 */
export function renumbering(
  missing: readonly string[],
  unexpected: readonly string[],
  groups: { real: readonly string[]; ours: readonly string[] },
  meters: { real: readonly string[]; ours: readonly string[] },
): { matched: number; consistent: boolean; problems: string[] } {
  const ID = /(group:|meter_id=|meter:)(\d+)/g;
  const shape = (l: string): string => l.replace(ID, "$1#");
  const ids = (l: string): [string, number][] =>
    [...l.matchAll(ID)].map((m) => [m[1] === "group:" ? "group" : "meter", Number(m[2])]);
  const pool = new Map<string, string[]>();
  for (const l of unexpected) pool.set(shape(l), [...(pool.get(shape(l)) ?? []), l]);
  const fwd = new Map<string, number>();
  const back = new Map<string, number>();
  const problems: string[] = [];
  let matched = 0;
  for (const l of missing) {
    const cands = pool.get(shape(l));
    if (!cands?.length || ids(l).length === 0) continue;
    const o = cands.shift()!;
    matched++;
    const a = ids(l);
    const b = ids(o);
    a.forEach(([kind, r], i) => {
      const m = b[i]![1];
      const f = fwd.get(`${kind}${r}`);
      const g = back.get(`${kind}${m}`);
      if ((f !== undefined && f !== m) || (g !== undefined && g !== r))
        problems.push(`${kind} ${r} → ${m} conflicts with an earlier pairing`);
      fwd.set(`${kind}${r}`, m);
      back.set(`${kind}${m}`, r);
    });
  }
  const byId = (lines: readonly string[], re: RegExp): Map<number, string> =>
    new Map(
      lines.flatMap((l) => {
        const m = re.exec(l);
        return m ? [[Number(m[1]), l.replace(re, "").replace(/\s+/g, " ").trim()] as [number, string]] : [];
      }),
    );
  const rg = byId(groups.real, /^\s*group_id=(\d+),/);
  const og = byId(groups.ours, /^\s*group_id=(\d+),/);
  const rm = byId(meters.real, /^\s*meter=(\d+) /);
  const om = byId(meters.ours, /^\s*meter=(\d+) /);
  for (const [k, m] of fwd) {
    const kind = k.startsWith("group") ? "group" : "meter";
    const r = Number(k.slice(kind.length));
    const [real, ours] = kind === "group" ? [rg.get(r), og.get(m)] : [rm.get(r), om.get(m)];
    if (real !== ours) problems.push(`${kind} ${r} (real) is not ${kind} ${m} (ovnsim): ${real} vs ${ours}`);
  }
  return { matched, consistent: problems.length === 0, problems };
}

/**
 * The chassis-MAC conjunction's second clause (table 0, priority 180, `conjunction(100,2/2)`) is
 * one OpenFlow flow that every localnet port with the same VLAN match wants; ofctrl installs it
 * once, with the cookie of whichever port's desired flow it met first — the history of the
 * daemon's incremental runs, not in any capture. Such a line counts as stated when ovnsim's has
 * the same text but the cookie, and the real cookie is one of those ports' (their clause-1 flows,
 * `priority=180,conj_id=100,…`, carry it).
 */
export function sharedClauseCookies(
  missing: readonly string[],
  unexpected: readonly string[],
  realFlows: readonly string[],
): number {
  const isClause = (l: string): boolean =>
    /priority=180,/.test(l) && l.endsWith("actions=conjunction(100,2/2)");
  const cookie = (l: string): string => /cookie=(0x[0-9a-f]+)/.exec(l)?.[1] ?? "";
  const strip = (l: string): string => l.replace(/cookie=0x[0-9a-f]+,\s*/, "");
  const owners = new Set(realFlows.filter((l) => /priority=180,conj_id=100,/.test(l)).map(cookie));
  const pool = unexpected.filter(isClause).map(strip);
  let n = 0;
  for (const l of missing) {
    if (!isClause(l) || !owners.has(cookie(l))) continue;
    const i = pool.indexOf(strip(l));
    if (i < 0) continue;
    pool.splice(i, 1);
    n++;
  }
  return n;
}

/** One configuration's outcome. */
export interface ConfigResult {
  readonly seed: number;
  readonly flows: Agreement;
  readonly groupsSame: boolean;
  /** br-int's meters (dump-meters) the same up to numbering, like groups. */
  readonly metersSame: boolean;
  /** Flows identical up to group / meter numbering (see renumbering()). */
  readonly renumbered: { matched: number; consistent: boolean; problems: string[] };
  /** Shared conjunction-clause flows identical but for which port's cookie (sharedClauseCookies()). */
  readonly sharedClause: number;
  readonly cases: readonly { packet: TracePacket; real: string; ours: string; verdict: string }[];
}

/** Parses `ovs-ofctl show` port lines: name → ofport. */
function showPorts(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split("\n")) {
    const x = /^\s*(\d+)\(([^)]+)\):/.exec(line);
    if (x) m.set(x[2]!, Number(x[1]));
  }
  return m;
}

/** Runs configuration `seed` in a sandbox under `dir`, compares flows and traces. */
export async function runConfig(seed: number, dir: string, perVif: number): Promise<ConfigResult> {
  mkdirSync(dir, { recursive: true });
  const sc = generateRouterScenario(seed);
  const cap = join(dir, `cap${seed}`);
  const sb = startSandbox({ name: "brdiff", dir: join(dir, "sb"), controller: true });
  let packets: TracePacket[] = [];
  const real: string[] = [];
  try {
    sb.sh(sc.script);
    const scripts = join(repoRoot(), "scripts");
    sb.sh(
      `sleep 0.3; ${scripts}/capture-sb.sh ${cap}/sb >/dev/null; ${scripts}/capture-node.sh ${cap}/node >/dev/null`,
    );
    const ports = showPorts(sb.run("ovs-ofctl", ["-O", "OpenFlow15", "show", "br-int"]));
    const tunnels = [...ports].filter(([n]) => n.startsWith("ovn-")).map(([, o]) => o);
    // `ofctl show` cuts port names to 15 characters: patch ports come from the Interface table.
    const patches = sb
      .run("ovs-vsctl", ["--bare", "--columns=name,ofport", "find", "Interface", "type=patch"])
      .trim()
      .split(/\n\s*\n/)
      .map((row): [string, number] => {
        const [n, o] = row.trim().split("\n");
        return [n ?? "", Number(o)];
      });
    const localnets = patches
      .filter(([n]) => n.startsWith("patch-br-int-to-"))
      .map(([n, ofport]) => {
        const lsp = n.replace(/^patch-br-int-to-/, "");
        const tag = sb
          .run("ovn-nbctl", ["--bare", "--columns=tag", "find", "Logical_Switch_Port", `name=${lsp}`])
          .trim();
        return { ofport, tag: tag ? Number(tag) : undefined };
      });
    const dpRows = sb
      .run("ovn-sbctl", ["--bare", "--columns=_uuid,tunnel_key", "list", "Datapath_Binding"])
      .trim()
      .split(/\n\s*\n/);
    const rows = (table: string, cols: string): string[][] =>
      sb
        .run("ovn-sbctl", ["--bare", `--columns=${cols}`, "list", table])
        .trim()
        .split(/\n\s*\n/)
        .map((x) => x.trim().split("\n"));
    const pbRows = rows("Port_Binding", "datapath,tunnel_key,logical_port");
    const mcRows = rows("Multicast_Group", "datapath,tunnel_key");
    const datapaths = dpRows.map((row) => {
      const [uuid, key] = row.trim().split("\n");
      return {
        key: Number(key),
        ports: pbRows.filter(([d]) => d === uuid).map(([, k, name]) => ({ key: Number(k), name: name! })),
        groups: mcRows.filter(([d]) => d === uuid).map(([, k]) => Number(k)),
      };
    });
    packets = generatePackets(sc, { tunnels, localnets, datapaths }, seed, perVif);
    // ofproto/trace has side effects on NORMAL bridges: br-provider learns MACs from the frames
    // the traces flood through it, and a later trace then unicasts or drops. The captured
    // bundle starts with empty MAC tables, so each real trace starts from flushed ones too.
    const bridges = sb.run("ovs-vsctl", ["list-br"]).trim().split("\n");
    const flush = bridges.map((b) => `ovs-appctl fdb/flush ${b} >/dev/null`).join("; ");
    for (const p of packets) real.push(sb.sh(`${flush}; ovs-appctl ofproto/trace br-int '${p.flow}'`));
  } finally {
    sb.stop();
  }
  const node = loadDir(join(cap, "node"));
  const res = ovnController({ sb: loadDir(join(cap, "sb")), node });
  const flows = compareDumps(flowLines(node["br-int.flows.txt"]!), res.flows);
  const buckets = (gs: readonly string[]) => gs.map((g) => g.replace(/^\s*group_id=\d+,/, "")).sort();
  const realGroups = (node["br-int.groups.txt"] ?? "").split("\n").filter((l) => l.includes("group_id="));
  const groupsSame = JSON.stringify(buckets(res.groups)) === JSON.stringify(buckets(realGroups));
  const meterBodies = (text: string): string[] =>
    text
      .split(/\n(?=meter=)/)
      .filter((m) => m.startsWith("meter="))
      .map((m) =>
        m
          .replace(/^meter=\d+ /, "")
          .replace(/\s+/g, " ")
          .trim(),
      )
      .sort();
  const realMeters = (node["br-int.meters.txt"] ?? "").replace(/^OFPST_METER_CONFIG.*\n/, "");
  const metersSame =
    JSON.stringify(meterBodies(res.meters.join("\n"))) === JSON.stringify(meterBodies(realMeters));
  const meterEntries = (text: string): string[] =>
    text.split(/\n(?=meter=)/).filter((m) => m.startsWith("meter="));
  const renumbered = renumbering(
    flows.missing,
    flows.unexpected,
    { real: realGroups, ours: res.groups },
    { real: meterEntries(realMeters), ours: meterEntries(res.meters.join("\n")) },
  );
  const bundle = join(dir, `bundle${seed}`);
  const quiet = { stdout: () => {}, stderr: () => {} };
  const rc = await run(
    ["ovn-controller", "--sb", join(cap, "sb"), "--node", join(cap, "node"), "--out", bundle],
    quiet,
  );
  if (rc !== 0) throw new Error(`ovnsim ovn-controller --out failed for seed ${seed}`);
  const sw = loadBundle(bundle);
  const portNums = tracePortNumbers(sw.bridge("br-int"));
  const localnetPatches = [...sw.bridge("br-int").ports.values()].filter((x) =>
    x.name.startsWith("patch-br-int-to-"),
  ).length;
  const cases = packets.map((packet, i) => {
    let oursText: string;
    try {
      oursText = renderTrace(traceFlow(sw, "br-int", parseFlow(packet.flow, { ports: portNums }), {}));
    } catch (e) {
      oursText = `error: ${(e as Error).message}`;
    }
    const ours = oursText.startsWith("error: ") ? oursText : datapathActions(oursText);
    const theirs = datapathActions(real[i]!);
    let verdict = "same";
    if (ours !== theirs) {
      const texts = { real: real[i]!, ours: oursText };
      const k = KNOWN_TRACE_DIFFERENCES.find((d) => d.test(theirs, ours, { packet, localnetPatches, texts }));
      verdict = k ? `known: ${k.why}` : "differs";
    }
    return { packet, real: theirs, ours, verdict };
  });
  const sharedClause = sharedClauseCookies(
    flows.missing,
    flows.unexpected,
    flowLines(node["br-int.flows.txt"]!),
  );
  return { seed, flows, groupsSame, metersSame, renumbered, sharedClause, cases };
}
