// Differential programs made of what real OVN nodes run: the br-int flows and groups a real
// ovn-controller (OVN 23.03) installed in the captures of the goldens (ovn-controller,
// ovn-acl-conj, ovn-controller-dphash: logical switches and routers, load balancers, ACLs with
// port groups and address sets as conjunctive matches), with the provider bridge behind its
// localnet patch port. The captured dump lines are turned back into add-flow lines (statistics
// dropped, cookies renumbered so traces name the action families), and packets are drawn from
// the MAC and IP addresses those flows hold, entering on the VIFs and on the patch port.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Family, GenBridge, GenCase, GenPort } from "./gen-differential.js";

const GOLDEN = join(import.meta.dirname, "golden");
const SCENARIOS = ["ovn-controller", "ovn-acl-conj", "ovn-controller-dphash"] as const;

interface Capture {
  readonly flows: readonly string[];
  readonly groups: readonly string[];
  readonly ports: readonly { readonly ofport: number; readonly name: string }[];
  readonly providerFlows: readonly string[];
  readonly macs: readonly string[];
  readonly ips: readonly string[];
}

const STATS = /\b(duration|n_packets|n_bytes|idle_age|hard_age)=[^,\s]*,?\s*/g;

/** A `dump-flows` line as an `add-flows` line (cookie kept for now). */
function addFlowLine(dump: string): string | null {
  const t = dump.trim();
  if (!t.startsWith("cookie=")) return null;
  return t
    .replace(STATS, "")
    .replace(/\breset_counts\s*/, "")
    .replace(/,?\s+actions=/, ",actions=")
    .replace(/,\s+/g, ",");
}

function readCapture(scenario: string): Capture {
  const dir = join(GOLDEN, scenario, "bundle");
  const read = (f: string): string => readFileSync(join(dir, f), "utf8");
  const flows = read("br-int.flows.txt")
    .split("\n")
    .map(addFlowLine)
    .filter((l): l is string => l !== null);
  let groups: string[] = [];
  try {
    groups = read("br-int.groups.txt")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l.startsWith("group_id="));
  } catch {
    groups = [];
  }
  const ports = [...read("br-int.ports.txt").matchAll(/^ (\d+)\(([^)]+)\):/gm)].map((m) => ({
    ofport: Number(m[1]),
    name: m[2]!,
  }));
  const providerFlows = read("br-provider.flows.txt")
    .split("\n")
    .map(addFlowLine)
    .filter((l): l is string => l !== null);
  const text = flows.join("\n");
  const macs = [...new Set(text.match(/\b[0-9a-f]{2}(:[0-9a-f]{2}){5}\b/g) ?? [])].filter(
    (m) =>
      m !== "00:00:00:00:00:00" &&
      !m.startsWith("01:00:00") &&
      !m.startsWith("fe:ff") &&
      !m.startsWith("ff:ff:ff:ff:ff:f"),
  );
  // Dotted quads without leading zeros (a note's or userdata's hex bytes are not addresses).
  const octet = "(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
  const ipRe = new RegExp(`(?<![\\w.])${octet}(?:\\.${octet}){3}(?![\\w.])`, "g");
  const ips = [...new Set(text.match(ipRe) ?? [])].filter((ip) => !ip.startsWith("255.") && ip !== "0.0.0.0");
  return { flows, groups, ports, providerFlows, macs, ips };
}

let cache: Capture[] | undefined;
const captures = (): Capture[] => {
  cache ??= SCENARIOS.map(readCapture);
  return cache;
};

/** The action families a real flow's actions (and match) exercise, for the per-family table. */
export function realFamilies(line: string, groupTypes: ReadonlyMap<number, Family>): Family[] {
  const i = line.indexOf(",actions=");
  const m = i < 0 ? line : line.slice(0, i);
  const a = i < 0 ? "" : line.slice(i + 9);
  const out = new Set<Family>();
  const add = (re: RegExp, f: Family, s = a): void => {
    if (re.test(s)) out.add(f);
  };
  add(/conjunction\(/, "conjunction");
  add(/conj_id=/, "conjunction", m);
  add(/\bct\(/, "ct");
  add(/\bnat\b/, "ct-nat");
  add(/exec\(/, "ct-exec");
  add(/ct_clear/, "ct_clear");
  add(/resubmit/, "resubmit");
  add(/set_field:|load:/, "set-field");
  add(/move:/, "move");
  add(/learn\(/, "learn");
  add(/controller\(|CONTROLLER/, "controller");
  add(/check_pkt_larger/, "check_pkt_larger");
  add(/output:|\bIN_PORT\b|in_port\b/, "output");
  add(/NORMAL/, "normal");
  add(/clone\(/, "clone");
  add(/note:/, "note");
  add(/dec_ttl/, "dec_ttl");
  add(/push_vlan|pop_vlan|strip_vlan|mod_vlan/, "vlan");
  add(/meter:/, "meter");
  add(/sample\(/, "sample");
  add(/\bexit\b/, "exit");
  add(/->(tun_id|tun_dst|tun_metadata\d+)|TUN_/, "tunnel-set");
  add(/xxreg|xreg/, "reg-xxreg");
  for (const g of a.matchAll(/group:(\d+)/g)) out.add(groupTypes.get(Number(g[1])) ?? "group-all");
  if (out.size === 0) out.add("drop");
  return [...out];
}

function groupFamily(line: string): Family {
  if (/type=all/.test(line)) return "group-all";
  if (/type=indirect/.test(line)) return "group-indirect";
  if (/type=ff|type=fast_failover/.test(line)) return "group-ff";
  if (/selection_method=dp_hash/.test(line)) return "group-select-dp_hash";
  if (/selection_method=hash,fields\(/.test(line)) return "group-select-hash";
  if (/selection_method=hash,fields=/.test(line)) return "group-select-hash-1field";
  return "group-select-default";
}

/** The draws the program generator shares with this module. */
export interface RealPick {
  of<T>(a: readonly T[]): T;
  chance(p: number): boolean;
}

/**
 * One program: a real br-int (`<pre>o`) and its provider bridge (`<pre>q`) behind the localnet
 * patch port, with `nCases` packets. `cookie` hands out the renumbered cookies.
 */
export function ovnRealProgram(
  p: RealPick,
  pre: string,
  nCases: number,
  cookie: (fam: readonly Family[]) => number,
): { bridges: GenBridge[]; cases: GenCase[] } {
  const cap = p.of(captures());
  const bi = `${pre}o`;
  const bp = `${pre}q`;
  const groupTypes = new Map<number, Family>();
  for (const g of cap.groups) groupTypes.set(Number(/^group_id=(\d+)/.exec(g)?.[1]), groupFamily(g));
  const flows = cap.flows.map((l) =>
    l.replace(/^cookie=0x[0-9a-f]+/, `cookie=0x${cookie(realFamilies(l, groupTypes)).toString(16)}`),
  );
  const iports: GenPort[] = cap.ports
    .filter((pt) => pt.ofport < 0xff00)
    .map((pt) =>
      pt.name.startsWith("patch-")
        ? { name: `${bi}-pl`, ofport: pt.ofport, type: "patch" as const, peer: `${bp}-pi` }
        : { name: `${bi}v${pt.ofport}`, ofport: pt.ofport, type: "dummy" as const },
    );
  const patchOfport = iports.find((x) => x.type === "patch")?.ofport ?? 1;
  const pports: GenPort[] = [
    { name: `${bp}-eth`, ofport: 1, type: "dummy", ...(p.chance(0.5) ? { trunks: [341] } : {}) },
    { name: `${bp}-pi`, ofport: 2, type: "patch", peer: `${bi}-pl` },
  ];
  const pflows = cap.providerFlows.map((l) =>
    l.replace(/^cookie=0x[0-9a-f]+/, `cookie=0x${cookie(["normal"]).toString(16)}`),
  );
  const tlv = flows.some((l) => /tun_metadata/.test(l));
  const bridges: GenBridge[] = [
    {
      name: bi,
      ports: iports,
      flows,
      groups: cap.groups,
      meters: [],
      ...(tlv ? { tlvMap: "{class=0x102,type=0x80,len=4}->tun_metadata0" } : {}),
    },
    { name: bp, ports: pports, flows: pflows, groups: [], meters: [] },
  ];
  const cases: GenCase[] = [];
  const ip6 = ["fd00::1", "fd00::2", "fe80::1", "2001:db8::5"];
  for (let i = 0; i < nCases; i++) {
    const fromProvider = p.chance(0.2);
    const port = fromProvider
      ? pports[0]!
      : p.of(iports.filter((x) => x.ofport !== patchOfport || p.chance(0.3)));
    const parts = [`in_port=${port.ofport}`];
    if (fromProvider && port.trunks && p.chance(0.7)) parts.push("dl_vlan=341");
    else if (!fromProvider && port.type === "patch" && p.chance(0.5)) parts.push("dl_vlan=341");
    parts.push(`dl_src=${p.of(cap.macs)}`, `dl_dst=${p.chance(0.15) ? "ff:ff:ff:ff:ff:ff" : p.of(cap.macs)}`);
    const ipPart = (): string =>
      `nw_src=${p.of(cap.ips)},nw_dst=${p.of(cap.ips)},nw_ttl=${p.of([64, 64, 1])}`;
    const l4 = p.of(["tcp", "tcp", "udp", "icmp", "arp", "arp", "ip", "ipv6", "tcp6"]);
    if (l4 === "tcp")
      parts.push(`tcp,${ipPart()},tp_src=${p.of([40000, 1024])},tp_dst=${p.of([80, 22, 443, 8080])}`);
    else if (l4 === "udp")
      parts.push(`udp,${ipPart()},udp_src=${p.of([5353, 68])},udp_dst=${p.of([53, 67, 80])}`);
    else if (l4 === "icmp") parts.push(`icmp,${ipPart()},icmp_type=8,icmp_code=0`);
    else if (l4 === "ip") parts.push(`ip,${ipPart()}`);
    else if (l4 === "arp")
      parts.push(
        `arp,arp_spa=${p.of(cap.ips)},arp_tpa=${p.of(cap.ips)},arp_op=${p.of([1, 2])},arp_sha=${p.of(cap.macs)}`,
      );
    else if (l4 === "ipv6") parts.push(`ipv6,ipv6_src=${p.of(ip6)},ipv6_dst=${p.of(ip6)},nw_ttl=64`);
    else parts.push(`tcp6,ipv6_src=${p.of(ip6)},ipv6_dst=${p.of(ip6)},nw_ttl=64,tp_dst=80`);
    const ct =
      /tcp|udp|icmp|ip/.test(l4) && p.chance(0.6)
        ? [
            p.of(["trk,new", "trk,est", "trk,est,rpl", "trk,new,dnat"]),
            p.of(["trk,new", "trk,est"]),
            "trk,est",
          ]
        : [];
    cases.push({ bridge: fromProvider ? bp : bi, flow: parts.join(","), ctNext: ct });
  }
  return { bridges, cases };
}
