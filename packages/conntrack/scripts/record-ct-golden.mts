#!/usr/bin/env -S npx tsx --conditions=@ovnsim/source
// Records the ct_state that real Open vSwitch userspace conntrack (the oracle in
// ../shared/oracle, dummy datapath) gives each packet of a few scripted conversations, and
// the connection table afterwards, for test/ct.golden.test.ts.
//
//   npx tsx --conditions=@ovnsim/source packages/conntrack/scripts/record-ct-golden.mts [SANDBOX_DIR]
//
// Bridge br0: packets enter on one of four ports, whose table-0 flow is the ct action under
// test; table 1 has one flow per ct_state value (cookie = the value), so the flow whose
// counter moved tells the packet's ct_state. TCP sequence checking is turned off
// (dpctl/ct-disable-tcp-seq-chk): the injected segments all carry seq 0, and ovnsim does not
// model sequence windows.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startSandbox } from "@ovnsim/oracle";

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2] ?? "/tmp/ovnsim-ct-rec";
const outDir = path.resolve(here, "../test/golden");
const sb = startSandbox({ name: "ct-rec", dir, ovn: false });
const vsctl = (...a) => sb.run("ovs-vsctl", a);
const ofctl = (...a) => sb.run("ovs-ofctl", a);
const appctl = (...a) => sb.run("ovs-appctl", a);

// The ct action per ingress port (the test maps each to Conntrack.process options).
const PORTS = {
  1: "ct(commit,zone=1,nat(dst=10.0.0.11:8080),table=1)",
  2: "ct(zone=1,nat,table=1)",
  3: "ct(zone=2,table=1)",
  4: "ct(commit,zone=2,table=1)",
};

const C = "192.0.2.10";
const VIP = "10.0.0.100";
const B = "10.0.0.11";
const S = "10.0.0.20";
const tcp = (port, src, dst, sport, dport, flags) => ({ port, proto: "tcp", src, dst, sport, dport, flags });
const udp = (port, src, dst, sport, dport) => ({ port, proto: "udp", src, dst, sport, dport });
const icmp = (port, src, dst, type) => ({ port, proto: "icmp", src, dst, type, code: 0 });
const SCENARIOS = {
  "tcp-dnat-lifecycle": [
    tcp(1, C, VIP, 40000, 80, ["syn"]),
    tcp(1, C, VIP, 40000, 80, ["syn"]),
    tcp(2, B, C, 8080, 40000, ["syn", "ack"]),
    tcp(1, C, VIP, 40000, 80, ["ack"]),
    tcp(1, C, VIP, 40000, 80, ["psh", "ack"]),
    tcp(2, B, C, 8080, 40000, ["ack"]),
    tcp(1, C, VIP, 40000, 80, ["fin", "ack"]),
    tcp(2, B, C, 8080, 40000, ["fin", "ack"]),
    tcp(1, C, VIP, 40000, 80, ["ack"]),
    tcp(1, C, VIP, 40000, 80, ["syn"]),
  ],
  "tcp-first-packets": [
    tcp(4, C, S, 41001, 80, ["syn", "ack"]),
    tcp(4, C, S, 41002, 80, ["ack"]),
    tcp(4, C, S, 41003, 80, ["fin"]),
    tcp(4, C, S, 41004, 80, ["rst"]),
    tcp(4, C, S, 41005, 80, ["syn", "fin"]),
    tcp(4, C, S, 41006, 80, []),
    tcp(4, S, C, 80, 41002, ["ack"]),
    tcp(4, S, C, 80, 41004, ["rst", "ack"]),
  ],
  "tcp-rst": [
    tcp(4, C, S, 42000, 443, ["syn"]),
    tcp(4, S, C, 443, 42000, ["rst", "ack"]),
    tcp(4, C, S, 42000, 443, ["ack"]),
    tcp(4, C, S, 42000, 443, ["syn"]),
  ],
  udp: [
    udp(3, C, S, 5000, 53),
    udp(4, C, S, 5000, 53),
    udp(4, C, S, 5000, 53),
    udp(3, C, S, 5000, 53),
    udp(3, S, C, 53, 5000),
    udp(3, C, S, 5000, 53),
    udp(3, S, C, 53, 5001),
  ],
  "udp-dnat": [
    udp(1, C, VIP, 6000, 53),
    udp(2, B, C, 8080, 6000),
    udp(1, C, VIP, 6000, 53),
    udp(2, B, C, 8080, 6001),
  ],
  icmp: [
    icmp(4, C, S, 8),
    icmp(4, C, S, 8),
    icmp(4, S, C, 0),
    icmp(4, C, S, 8),
    icmp(4, S, "192.0.2.99", 0),
    icmp(4, C, S, 13),
    icmp(4, C, S, 3),
  ],
};

const odp = (p) => {
  const l4 =
    p.proto === "tcp"
      ? `tcp(src=${p.sport},dst=${p.dport})${p.flags.length ? `,tcp_flags(${p.flags.join("|")})` : ",tcp_flags(0)"}`
      : p.proto === "udp"
        ? `udp(src=${p.sport},dst=${p.dport})`
        : `icmp(type=${p.type},code=${p.code})`;
  const proto = { tcp: 6, udp: 17, icmp: 1 }[p.proto];
  return `in_port(${p.port}),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(src=${p.src},dst=${p.dst},proto=${proto},tos=0,ttl=64,frag=no),${l4}`;
};

try {
  vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy");
  for (const i of Object.keys(PORTS))
    vsctl("add-port", "br0", `p${i}`, "--", "set", "interface", `p${i}`, "type=dummy", `ofport_request=${i}`);
  for (const [i, action] of Object.entries(PORTS))
    ofctl("add-flow", "br0", `table=0,in_port=${i},ip,actions=${action}`);
  const t1 = [];
  for (let v = 0; v < 256; v++)
    if (v & 0x20) t1.push(`table=1,priority=100,cookie=${v},ct_state=0x${v.toString(16)}/0xff,actions=drop`);
  t1.push("table=1,priority=0,cookie=0x1000,actions=drop");
  writeFileSync(path.join(dir, "t1.txt"), `${t1.join("\n")}\n`);
  ofctl("add-flows", "br0", path.join(dir, "t1.txt"));
  appctl("dpctl/ct-disable-tcp-seq-chk");

  const counts = () => {
    const m = new Map();
    for (const line of ofctl("dump-flows", "br0", "table=1").split("\n")) {
      const c = /cookie=0x([0-9a-f]+).*n_packets=(\d+)/.exec(line);
      if (c) m.set(Number.parseInt(c[1] ?? "0", 16), Number(c[2]));
    }
    return m;
  };
  const results = {};
  for (const [name, steps] of Object.entries(SCENARIOS)) {
    appctl("dpctl/flush-conntrack");
    let before = counts();
    const out = [];
    for (const p of steps) {
      appctl("dpctl/del-flows"); // every packet an upcall, so rule counters move at once
      appctl("netdev-dummy/receive", `p${p.port}`, odp(p));
      const after = counts();
      const moved = [...after].filter(([k, v]) => v !== (before.get(k) ?? 0)).map(([k]) => k);
      out.push({ ...p, odp: odp(p), ct_state: moved.length === 1 ? moved[0] : null });
      before = after;
    }
    const table = appctl("dpctl/dump-conntrack")
      .split("\n")
      .filter((l) => l.trim() !== "")
      .sort();
    results[name] = { steps: out, conntrack: table };
  }
  mkdirSync(outDir, { recursive: true });
  const version = appctl("version").split("\n")[0];
  writeFileSync(
    path.join(outDir, "ct-states.json"),
    `${JSON.stringify({ recordedWith: version, ports: PORTS, scenarios: results }, null, 1)}\n`,
  );
  console.log(
    `recorded ${Object.values(results).reduce((n, r) => n + r.steps.length, 0)} packets with ${version}`,
  );
} finally {
  sb.stop();
}
