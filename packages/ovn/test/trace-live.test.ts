// Live differential test for ovn-trace: the four golden configurations are loaded into one
// fresh oracle sandbox (real ovn-northd 23.03), the SB bundle is captured with
// scripts/capture-sb.sh, and freshly generated microflows (random ports, MACs, addresses,
// protocols, --ct sequences and --lb-dst, and on the routed scenario's switches packets to a
// router port's MAC for addresses behind the routers) are traced by real ovn-trace (--all) and
// by ovnsim.
// ovn-trace's random ct_lb backend is matched by trying each fixed backend choice.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { oracleGate, repoRoot, rng, type Sandbox, startSandbox } from "@ovnsim/oracle";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readSbBundle, type SbModel } from "../src/sb/model.js";
import { map, parseOvsdbList } from "../src/sb/ovsdb.js";
import { LogicalNetwork } from "../src/trace/exec.js";
import { renderTrace } from "../src/trace/render.js";

const HERE = import.meta.dirname;
const gate = oracleGate("ovn");
const SCEN = ["seed", "acls", "ports", "router", "ipv6", "lb-options", "pg-as", "routed"].map((s) =>
  path.join(HERE, "golden/trace", s, "config.nbctl"),
);
const N = Number(process.env.OVNSIM_TRACE_LIVE_N ?? 80);

interface Port {
  readonly name: string;
  readonly dp: string;
  readonly type: string;
  readonly mac?: string;
  readonly ip?: string;
  readonly ip6?: string;
}

/** Generated cases: ovn-trace argument lists. */
function generate(seed: number, model: SbModel, sbFiles: Record<string, string>): string[][] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const hex = (): string =>
    Math.floor(r() * 256)
      .toString(16)
      .padStart(2, "0");
  const switches = new Set(
    parseOvsdbList(sbFiles["datapath-binding.txt"]!)
      .filter((d) => map(d, "external_ids").has("logical-switch"))
      .map((d) => map(d, "external_ids").get("name")!),
  );
  const ports: Port[] = model.ports
    .filter((p) => switches.has(p.datapath))
    .map((p) => {
      const words = (p.mac.find((m) => /^[0-9a-f]{2}:/.test(m)) ?? "").split(/\s+/);
      const v4 = words.slice(1).find((w) => !w.includes(":"));
      const v6 = words.slice(1).find((w) => w.includes(":"));
      return {
        name: p.name,
        dp: p.datapath,
        type: p.type,
        ...(words[0] ? { mac: words[0] } : {}),
        ...(v4 ? { ip: v4 } : {}),
        ...(v6 ? { ip6: v6 } : {}),
      };
    });
  const lbs = parseOvsdbList(sbFiles["load-balancer.txt"] ?? "").flatMap((r0) => [
    ...map(r0, "vips").entries(),
  ]);
  const cts = [
    [],
    ["new"],
    ["new", "new"],
    ["new", "new", "new"],
    ["est,trk"],
    ["est,trk", "est,trk"],
    ["new", "est,trk"],
    ["rel,trk"],
    ["inv,trk"],
    ["est,rpl,trk"],
  ];
  // Router port MACs per switch (the SB mac column of each switch port's router peer).
  const byName = new Map(model.ports.map((q) => [q.name, q]));
  const routerMacs = new Map<string, string[]>();
  for (const q of model.ports) {
    if (!switches.has(q.datapath) || q.type === "" || q.type === "localnet") continue;
    const peer = byName.get(q.options.get("peer") ?? "");
    const mac = peer?.mac[0]?.split(/\s+/)[0];
    if (!mac || !/^[0-9a-f]{2}:/.test(mac)) continue;
    routerMacs.set(q.datapath, [...(routerMacs.get(q.datapath) ?? []), mac]);
  }
  // Routed cases are drawn on the switches of the routed scenario only, so the earlier
  // scenarios' generated cases (and their recorded agreement) stay as they were.
  const routedDp = (dp: string) => ["frontend", "backend", "join", "ext"].includes(dp);
  const cases: string[][] = [];
  for (let i = 0; i < N; i++) {
    const p = pick(ports.filter((q) => q.type !== "patch"));
    const peers = ports.filter((q) => q.dp === p.dp && q !== p);
    const dst = pick(peers);
    const srcMac = p.mac && r() < 0.85 ? p.mac : `00:00:5e:00:53:${hex()}`;
    const subnet = (p.ip ?? dst.ip ?? "10.180.204.1").split(".").slice(0, 3).join(".");
    const srcIp = p.ip && r() < 0.85 ? p.ip : `${subnet}.${50 + Math.floor(r() * 100)}`;
    const vip = lbs.length && r() < 0.35 ? pick(lbs) : undefined;
    let dstIp = vip
      ? vip[0].split(":")[0]!
      : dst.ip && r() < 0.8
        ? dst.ip
        : `${subnet}.${150 + Math.floor(r() * 100)}`;
    const dstMacRoll = r();
    let dstMac =
      dstMacRoll < 0.6 && dst.mac
        ? dst.mac
        : dstMacRoll < 0.75
          ? "ff:ff:ff:ff:ff:ff"
          : `0a:00:00:00:${hex()}:${hex()}`;
    // Routed: to the MAC of a router port on this switch, for an address behind the router.
    const gw = routerMacs.get(p.dp);
    let routedIp: string | undefined;
    if (gw && routedDp(p.dp) && r() < 0.5) {
      dstMac = pick(gw);
      const far = ports.filter((q) => q.dp !== p.dp && q.ip);
      routedIp =
        far.length && r() < 0.7 ? pick(far).ip : pick(["8.8.8.8", "10.9.9.9", "172.16.0.1", "100.64.0.2"]);
    }
    if (routedIp !== undefined) dstIp = routedIp;
    const kind = pick(["tcp", "tcp", "udp", "icmp", "arp"] as const);
    let mf = `inport == "${p.name}" && eth.src == ${srcMac} && eth.dst == ${dstMac} && `;
    const v6peer = p.ip6 ?? dst.ip6;
    if (v6peer && r() < 0.5) {
      // IPv6: to the peer, a v6 VIP or a random host of the /64; TCP/UDP or a neighbour solicitation.
      const vip6 = lbs.filter((l) => l[0].startsWith("["));
      const v = vip6.length && r() < 0.4 ? pick(vip6) : undefined;
      const pfx = v6peer.slice(0, v6peer.lastIndexOf(":") + 1);
      const src6 = p.ip6 && r() < 0.85 ? p.ip6 : `${pfx}${(0x50 + Math.floor(r() * 40)).toString(16)}`;
      const dst6 = v
        ? v[0].slice(1, v[0].indexOf("]"))
        : (dst.ip6 ?? `${pfx}${(0x90 + Math.floor(r() * 40)).toString(16)}`);
      if (r() < 0.25) {
        mf += `ip6.src == ${src6} && ip6.dst == ff02::1:ff00:${dst6.slice(dst6.lastIndexOf(":") + 1)} && icmp6.type == 135 && icmp6.code == 0 && ip.ttl == 255 && nd.target == ${dst6} && nd.sll == ${srcMac}`;
      } else {
        const l4 = pick(["tcp", "udp"] as const);
        const dport = v ? Number(v[0].slice(v[0].lastIndexOf(":") + 1)) : pick([80, 53]);
        mf += `ip6.src == ${src6} && ip6.dst == ${dst6} && ip.ttl == 64 && ${l4}.src == ${1024 + Math.floor(r() * 60000)} && ${l4}.dst == ${dport}`;
      }
      const args = pick(cts).map((c) => `--ct=${c}`);
      if (v?.[1] && r() < 0.6) args.push(`--lb-dst=${pick(v[1].split(","))}`);
      args.push("--all", p.dp, mf);
      cases.push(args);
      continue;
    }
    if (kind === "arp") {
      mf += `arp.op == 1 && arp.sha == ${srcMac} && arp.spa == ${srcIp} && arp.tpa == ${dstIp}`;
    } else {
      mf += `ip4.src == ${srcIp} && ip4.dst == ${dstIp} && ip.ttl == ${pick([64, 1, 255])} && `;
      const dport = vip ? Number(vip[0].split(":")[1] ?? 80) : pick([80, 22, 53, 5432, 8080]);
      if (kind === "icmp") mf += `icmp4.type == ${pick([8, 0, 3])} && icmp4.code == 0`;
      else mf += `${kind}.src == ${1024 + Math.floor(r() * 60000)} && ${kind}.dst == ${dport}`;
    }
    const args = pick(cts).map((c) => `--ct=${c}`);
    if (vip?.[1] && r() < 0.6) args.push(`--lb-dst=${pick(vip[1].split(","))}`);
    args.push("--all");
    if (r() < 0.8) args.push(p.dp);
    args.push(mf);
    cases.push(args);
  }
  return cases;
}

describe.skipIf(gate.skip)("ovn-trace live differential (real OVN 23.03)", () => {
  const files: Record<string, string> = {};
  let sb: Sandbox | undefined;
  const run = (cmd: string, args: readonly string[]): string => {
    if (!sb) throw new Error("the oracle sandbox did not start");
    return sb.run(cmd, args);
  };
  beforeAll(() => {
    gate.assert();
    sb = startSandbox({ name: "ot", ovs: false });
    const bundle = path.join(sb.dir, "sb");
    const lines = SCEN.flatMap((f) => readFileSync(f, "utf8").split("\n")).filter(
      (l) => l.trim() && !l.startsWith("#"),
    );
    const script = `${lines.map((l) => (l.startsWith("ovn-") ? l : `ovn-nbctl ${l}`)).join("\n")}\novn-nbctl --wait=sb sync\n`;
    run("bash", ["-e", "-c", script]);
    run(path.join(repoRoot(), "scripts/capture-sb.sh"), [bundle]);
    for (const f of readdirSync(bundle)) files[f] = readFileSync(path.join(bundle, f), "utf8");
  }, 60_000);
  afterAll(() => sb?.stop());

  it(`${N} generated microflows trace identically (text, --all modes)`, () => {
    const model = readSbBundle(files);
    const net = new LogicalNetwork(model);
    const seed = Number(process.env.OVNSIM_SEED ?? 20261126);
    const cases = generate(seed, model, files);
    let same = 0;
    let parseErrors = 0;
    const bad: string[] = [];
    for (const args of cases) {
      const real = run("ovn-trace", args);
      if (real.startsWith("error parsing flow")) parseErrors++;
      const mf = args[args.length - 1]!;
      const dp =
        args.length >= 2 && !args[args.length - 2]!.startsWith("--") ? args[args.length - 2] : undefined;
      const ct = args.filter((a) => a.startsWith("--ct=")).map((a) => a.slice(5));
      const lb = args.find((a) => a.startsWith("--lb-dst="))?.slice(9);
      let ok = false;
      let first = "";
      for (const k of [undefined, 0, 1, 2]) {
        let got: string;
        try {
          const r = net.trace(dp, mf, {
            ct,
            ...(lb ? { lbDst: lb } : {}),
            ...(k !== undefined ? { chooseBackend: (b) => k % b.length } : {}),
          });
          got = renderTrace(r, ["detailed", "summary", "minimal"]);
        } catch (e) {
          got = `${(e as Error).message}\n`;
        }
        if (k === undefined) first = got;
        if (got === real) {
          ok = true;
          break;
        }
      }
      if (ok) same++;
      else if (bad.length < 3)
        bad.push(`ovn-trace ${args.map((a) => `'${a}'`).join(" ")}\n--- real\n${real}\n--- ovnsim\n${first}`);
    }
    const v6 = cases.filter((a) => a[a.length - 1]!.includes("ip6.")).length;
    const lrpMacs = model.ports
      .filter((q) => q.type === "patch" || q.type === "l3gateway")
      .map((q) => q.mac[0]?.split(/\s+/)[0] ?? "")
      .filter((m) => /^[0-9a-f]{2}:/.test(m));
    const routed = cases.filter((a) =>
      lrpMacs.some((m) => a[a.length - 1]!.includes(`eth.dst == ${m}`)),
    ).length;
    console.log(
      `ovn-trace live: ${same}/${cases.length} generated traces identical (seed ${seed}; ${v6} IPv6, ${routed} to a router port, ${parseErrors} rejected microflows)`,
    );
    expect(bad).toEqual([]);
  }, 120_000);
});
