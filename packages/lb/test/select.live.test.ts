// Live differential test against real OVS 3.1 (../shared/oracle): random select groups (hash
// fields, params, weights, bucket ids; dp_hash; no method), random flows traced with
// `ovs-appctl ofproto/trace` and random packets injected into the dummy datapath, compared
// with selectBucket. CI sets OVNSIM_REQUIRE_ORACLE=1, which makes missing tools a failure.
import { liveSeed, oracleGate, rng, type Sandbox, startSandbox } from "@ovnsim/oracle";
import { ETH_TYPE, type Flow, IP_PROTO, formatIp4, makeFlow } from "@ovnsim/packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SelectBucket, type SelectGroup, parseHashFields, selectBucket } from "../src/index.js";

const gate = oracleGate("ovs");
const SEED = liveSeed();

describe.skipIf(gate.skip)(`select groups, live vs real OVS (seed ${SEED})`, () => {
  let sb: Sandbox | undefined;
  const run = (cmd: string, ...args: string[]): string => {
    if (!sb) throw new Error("the oracle sandbox did not start");
    return sb.run(cmd, args);
  };
  const r = rng(SEED);
  const int = (n: number) => Math.floor(r() * n);
  const groups: { id: number; text: string; group: SelectGroup }[] = [];

  beforeAll(() => {
    gate.assert();
    sb = startSandbox({ name: "lb", ovn: false });
    run("ovs-vsctl", "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy");
    for (let i = 1; i <= 4; i++)
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
    run(
      "ovs-vsctl",
      "add-port",
      "br0",
      "out",
      "--",
      "set",
      "interface",
      "out",
      "type=dummy",
      "ofport_request=20",
    );
    const FIELD_SETS = [
      "ip_src",
      "ip_dst,tcp_dst",
      "ip_src,ip_dst,tcp_src,tcp_dst",
      "ip_proto,udp_src,tcp_src",
      "eth_dst,ip_src=255.255.0.0",
    ];
    for (let id = 1; id <= 4; id++) {
      const n = 2 + int(6);
      const buckets: SelectBucket[] = Array.from({ length: n }, (_, i) => ({
        bucketId: i * (1 + int(3)) + int(2),
        weight: id === 3 ? 100 : 1 + int(200),
      }));
      const uniq = buckets.filter((b, i) => buckets.findIndex((x) => x.bucketId === b.bucketId) === i);
      const fields = FIELD_SETS[int(FIELD_SETS.length)] as string;
      const param = id === 2 ? BigInt(int(1000)) : 0n;
      const method = id <= 2 ? "hash" : id === 3 ? "dp_hash" : "";
      const sel =
        method === "hash"
          ? `selection_method=hash,${param ? `selection_method_param=${param},` : ""}fields(${fields}),`
          : method === "dp_hash"
            ? "selection_method=dp_hash,"
            : "";
      const text = `group_id=${id},type=select,${sel}${uniq.map((b) => `bucket=bucket_id=${b.bucketId},weight=${b.weight},actions=output:20`).join(",")}`;
      run("ovs-ofctl", "-O", "OpenFlow15", "add-group", "br0", text);
      run("ovs-ofctl", "-O", "OpenFlow15", "add-flow", "br0", `in_port=${id},actions=group:${id}`);
      groups.push({
        id,
        text,
        group: {
          method: method as SelectGroup["method"],
          buckets: uniq,
          param,
          ...(method === "hash" ? { fields: parseHashFields(fields) } : {}),
        },
      });
    }
  }, 60_000);

  afterAll(() => sb?.stop());

  const randomFlow = (inPort: number): { flow: Flow; text: string; odp: string } => {
    const proto = [IP_PROTO.tcp, IP_PROTO.udp][int(2)] as number;
    const name = proto === IP_PROTO.tcp ? "tcp" : "udp";
    const src = (0x0a000000 + int(0xffffff)) >>> 0;
    const dst = (0xc0000000 + int(0xffffff)) >>> 0;
    const sp = 1 + int(65535);
    const dp = 1 + int(65535);
    const mac = 0x020000000000 + int(0xffffff);
    const macText = `02:00:00:${[16, 8, 0].map((s) => ((mac >> s) & 0xff).toString(16).padStart(2, "0")).join(":")}`;
    const flow = makeFlow({
      in_port: inPort,
      dl_type: ETH_TYPE.ip,
      dl_dst: mac,
      nw_proto: proto,
      nw_src: src,
      nw_dst: dst,
      tp_src: sp,
      tp_dst: dp,
      nw_ttl: 64,
    });
    const text = `in_port=${inPort},dl_dst=${macText},${name},nw_src=${formatIp4(src)},nw_dst=${formatIp4(dst)},nw_ttl=64,${name}_src=${sp},${name}_dst=${dp}`;
    const odp = `in_port(${inPort}),eth(src=00:00:00:00:00:01,dst=${macText}),eth_type(0x0800),ipv4(src=${formatIp4(src)},dst=${formatIp4(dst)},proto=${proto},tos=0,ttl=64,frag=no),${name}(src=${sp},dst=${dp})`;
    return { flow, text, odp };
  };

  it("ofproto/trace bucket scores and choices of hash groups", () => {
    const bad: string[] = [];
    for (const g of groups.filter((x) => x.group.method === "hash")) {
      for (let i = 0; i < 15; i++) {
        const { flow, text } = randomFlow(g.id);
        const out = run("ovs-appctl", "ofproto/trace", "br0", text);
        const scores = [...out.matchAll(/-> bucket (\d+): score (\d+)/g)]
          .map((m) => `${m[1]}:${m[2]}`)
          .join(" ");
        const used = /-> using bucket (\d+)/.exec(out)?.[1];
        const c = selectBucket(g.group, flow);
        const ours = c.scores.map((s) => `${s.bucketId}:${s.score}`).join(" ");
        if (ours !== scores || String(c.bucketId) !== used)
          bad.push(`${g.text} | ${text}: ours ${ours} → ${c.bucketId}; OVS ${scores} → ${used}`);
      }
    }
    expect(bad).toEqual([]);
  });

  it("real packets through dp_hash and no-method groups land in the same bucket", () => {
    const counts = (id: number) =>
      [
        ...run("ovs-ofctl", "-O", "OpenFlow15", "dump-group-stats", "br0", `group_id=${id}`).matchAll(
          /bucket(\d+):packet_count=(\d+)/g,
        ),
      ].map((m) => Number(m[2]));
    const bad: string[] = [];
    for (const g of groups.filter((x) => x.group.method !== "hash")) {
      let before = counts(g.id);
      for (let i = 0; i < 10; i++) {
        const { flow, odp } = randomFlow(g.id);
        run("ovs-appctl", "dpctl/del-flows");
        run("ovs-appctl", "netdev-dummy/receive", `p${g.id}`, odp);
        const after = counts(g.id);
        const moved = after.flatMap((c, j) => (c !== before[j] ? [j] : []));
        before = after;
        const c = selectBucket(g.group, flow);
        if (moved.length !== 1 || moved[0] !== c.index)
          bad.push(`${g.text} | ${odp}: ours ${c.index}, OVS ${moved.join(",")}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
