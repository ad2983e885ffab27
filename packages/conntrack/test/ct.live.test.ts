// Live differential test against real OVS 3.1 userspace conntrack (../shared/oracle): random
// TCP/UDP/ICMP conversations (random directions and TCP flags, DNAT in zone 1 or plain commit /
// no commit in zone 2) injected into the dummy datapath; each packet's ct_state (read from
// which `ct_state=V/0xff` flow counted it) is compared with Conntrack.process. TCP sequence
// checks are off in the oracle (the model has none). CI sets OVNSIM_REQUIRE_ORACLE=1.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { liveSeed, oracleGate, rng, type Sandbox, startSandbox } from "@ovnsim/oracle";
import { ETH_TYPE, type Flow, IP_PROTO, TCP_FLAG, formatIp4, makeFlow, parseIp4 } from "@ovnsim/packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Conntrack, type CtOptions, formatCtState } from "../src/index.js";

const gate = oracleGate("ovs");
const SEED = liveSeed();

const BACKEND = parseIp4("10.0.0.11");
const PORTS: Record<number, { action: string; opts: CtOptions }> = {
  1: {
    action: "ct(commit,zone=1,nat(dst=10.0.0.11:8080),table=1)",
    opts: { zone: 1, commit: true, nat: { kind: "dnat", ip: BACKEND, port: 8080 } },
  },
  2: { action: "ct(zone=1,nat,table=1)", opts: { zone: 1, nat: {} } },
  3: { action: "ct(zone=2,table=1)", opts: { zone: 2 } },
  4: { action: "ct(commit,zone=2,table=1)", opts: { zone: 2, commit: true } },
};
const FLAG_SETS: { names: string[]; bits: number }[] = [
  { names: ["syn"], bits: TCP_FLAG.syn },
  { names: ["syn", "ack"], bits: TCP_FLAG.syn | TCP_FLAG.ack },
  { names: ["ack"], bits: TCP_FLAG.ack },
  { names: ["psh", "ack"], bits: TCP_FLAG.psh | TCP_FLAG.ack },
  { names: ["fin", "ack"], bits: TCP_FLAG.fin | TCP_FLAG.ack },
  { names: ["rst"], bits: TCP_FLAG.rst },
  { names: ["rst", "ack"], bits: TCP_FLAG.rst | TCP_FLAG.ack },
  { names: ["fin"], bits: TCP_FLAG.fin },
  { names: ["syn", "rst"], bits: TCP_FLAG.syn | TCP_FLAG.rst },
];

describe.skipIf(gate.skip)(`conntrack, live vs real OVS userspace conntrack (seed ${SEED})`, () => {
  let sb: Sandbox | undefined;
  const run = (cmd: string, ...args: string[]): string => {
    if (!sb) throw new Error("the oracle sandbox did not start");
    return sb.run(cmd, args);
  };

  beforeAll(() => {
    gate.assert();
    sb = startSandbox({ name: "ct", ovn: false });
    run("ovs-vsctl", "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy");
    for (const [i, p] of Object.entries(PORTS)) {
      run(
        "ovs-vsctl",
        "add-port",
        "br0",
        `p${i}`,
        "--",
        "set",
        "interface",
        `p${i}`,
        "type=dummy",
        `ofport_request=${i}`,
      );
      run("ovs-ofctl", "add-flow", "br0", `table=0,in_port=${i},ip,actions=${p.action}`);
    }
    const t1: string[] = [];
    for (let v = 0; v < 256; v++)
      if (v & 0x20)
        t1.push(`table=1,priority=100,cookie=${v},ct_state=0x${v.toString(16)}/0xff,actions=drop`);
    writeFileSync(join(sb.dir, "t1.txt"), `${t1.join("\n")}\n`);
    run("ovs-ofctl", "add-flows", "br0", join(sb.dir, "t1.txt"));
    run("ovs-appctl", "dpctl/ct-disable-tcp-seq-chk");
  }, 60_000);

  afterAll(() => sb?.stop());

  it("ct_state of random conversations equals OVS's", () => {
    const r = rng(SEED);
    const int = (n: number) => Math.floor(r() * n);
    const counts = () => {
      const m = new Map<number, number>();
      for (const line of run("ovs-ofctl", "dump-flows", "br0", "table=1").split("\n")) {
        const c = /cookie=0x([0-9a-f]+).*n_packets=(\d+)/.exec(line);
        if (c) m.set(Number.parseInt(c[1] ?? "0", 16), Number(c[2]));
      }
      return m;
    };
    const bad: string[] = [];
    let table = Conntrack.empty();
    let before = counts();
    for (let conv = 0; conv < 8; conv++) {
      const dnat = conv % 2 === 0;
      const udp = conv === 2 || conv === 7;
      const icmp = conv === 3 || conv === 6;
      const client = (0xc0000200 + 1 + int(250)) >>> 0;
      const server = dnat ? parseIp4("10.0.0.100") : parseIp4("10.0.0.20");
      const cport = 10000 + int(50000);
      const sport = dnat ? 80 : 1 + int(1023);
      const log: string[] = [];
      for (let i = 0; i < 8; i++) {
        const fromClient = i === 0 || r() < 0.6;
        const port = (
          dnat ? (fromClient ? 1 : 2) : fromClient ? [3, 4, 4][int(3)] : [3, 4][int(2)]
        ) as number;
        const fl = FLAG_SETS[i === 0 && r() < 0.7 ? 0 : int(FLAG_SETS.length)] as (typeof FLAG_SETS)[number];
        const src = fromClient ? client : dnat ? BACKEND : server;
        const dst = fromClient ? server : client;
        const sp = fromClient ? cport : dnat ? 8080 : sport;
        const dp = fromClient ? sport : cport;
        const proto = icmp ? IP_PROTO.icmp : udp ? IP_PROTO.udp : IP_PROTO.tcp;
        const icmpType = [8, 0, 8, 0, 13, 14, 3, 11][int(8)] as number;
        const flow: Flow = makeFlow({
          in_port: port,
          dl_type: ETH_TYPE.ip,
          nw_proto: proto,
          nw_src: src,
          nw_dst: dst,
          nw_ttl: 64,
          tp_src: icmp ? icmpType : sp,
          tp_dst: icmp ? 0 : dp,
          tcp_flags: udp || icmp ? 0 : fl.bits,
        });
        const l4 = icmp
          ? `icmp(type=${icmpType},code=0)`
          : udp
            ? `udp(src=${sp},dst=${dp})`
            : `tcp(src=${sp},dst=${dp}),tcp_flags(${fl.names.join("|")})`;
        const odp = `in_port(${port}),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(src=${formatIp4(src)},dst=${formatIp4(dst)},proto=${proto},tos=0,ttl=64,frag=no),${l4}`;
        run("ovs-appctl", "dpctl/del-flows");
        run("ovs-appctl", "netdev-dummy/receive", `p${port}`, odp);
        const after = counts();
        const moved = [...after].filter(([k, v]) => v !== (before.get(k) ?? 0)).map(([k]) => k);
        before = after;
        const res = table.process(flow, { ...(PORTS[port]?.opts as CtOptions), now: conv * 10 + i * 0.01 });
        table = res.table;
        const line = `${odp}: ours ${formatCtState(res.flow.ct_state)}, OVS ${moved.map(formatCtState).join(",")}`;
        log.push(line);
        if (moved.length !== 1 || moved[0] !== res.flow.ct_state)
          bad.push(`${line}\n  after:\n  ${log.join("\n  ")}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
