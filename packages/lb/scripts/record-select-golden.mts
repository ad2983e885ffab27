#!/usr/bin/env -S npx tsx --conditions=@ovnsim/source
// Records how real Open vSwitch (the oracle in ../shared/oracle) chooses select-group buckets,
// so test/select.golden.test.ts can pin @ovnsim/lb's hash to it.
//
//   npx tsx --conditions=@ovnsim/source packages/lb/scripts/record-select-golden.mts [SANDBOX_DIR]
//
// Starts its own sandbox (default /tmp/ovnsim-lb-rec), creates groups with
// `ovs-ofctl -O OpenFlow15 add-group`, and
//   - traces flows with `ovs-appctl ofproto/trace` (hash fields, default method: per-bucket
//     scores and the chosen bucket; dp_hash with an explicit dp_hash: the chosen bucket),
//   - injects real packets with `netdev-dummy/receive` through dp_hash groups and reads which
//     bucket's counter moved (`dump-group-stats`): the datapath's own dp_hash.
// Writes test/golden/select-groups.json (parsed) and test/golden/select-traces.txt (raw).
// Flows are generated from a fixed seed, so reruns give the same fixture.
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startSandbox } from "@ovnsim/oracle";

const here = path.dirname(fileURLToPath(import.meta.url));
const dir = process.argv[2] ?? "/tmp/ovnsim-lb-rec";
const outDir = path.resolve(here, "../test/golden");

const sb = startSandbox({ name: "lb-rec", dir, ovn: false });
const vsctl = (...a) => sb.run("ovs-vsctl", a);
const ofctl = (...a) => sb.run("ovs-ofctl", a);
const appctl = (...a) => sb.run("ovs-appctl", a);

// Deterministic generator (LCG), no Math.random.
let seed = 0x5eed1234;
const rnd = (n) => {
  seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
  return (seed >>> 8) % n;
};
const ip4 = () => `${10 + rnd(200)}.${rnd(256)}.${rnd(256)}.${1 + rnd(254)}`;
const ip6 = () => `fd00:${rnd(65536).toString(16)}::${(1 + rnd(65535)).toString(16)}`;
const mac = () =>
  ["02", ...Array.from({ length: 5 }, () => rnd(256).toString(16).padStart(2, "0"))].join(":");
const port = () => 1 + rnd(65535);

try {
  vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy");
  for (let i = 1; i <= 9; i++)
    vsctl("add-port", "br0", `p${i}`, "--", "set", "interface", `p${i}`, "type=dummy", `ofport_request=${i}`);
  vsctl("add-port", "br0", "out", "--", "set", "interface", "out", "type=dummy", "ofport_request=20");

  const bucketsText = (bs) =>
    bs.map((b) => `bucket=bucket_id=${b.bucketId},weight=${b.weight},actions=output:20`).join(",");
  const groups = [
    {
      id: 1,
      method: "hash",
      fields: "ip_src,tcp_src",
      param: 0,
      buckets: [0, 1, 2].map((i) => ({ bucketId: i, weight: 100 })),
    },
    {
      id: 2,
      method: "hash",
      fields: "ip_src,ip_dst,tcp_src,tcp_dst",
      param: 7,
      buckets: [
        { bucketId: 5, weight: 50 },
        { bucketId: 9, weight: 100 },
        { bucketId: 2, weight: 150 },
        { bucketId: 100, weight: 10 },
      ],
    },
    {
      id: 3,
      method: "hash",
      fields: "eth_src,ipv6_src,udp_dst",
      param: 0,
      buckets: [0, 1, 2, 3, 4].map((i) => ({ bucketId: i, weight: 100 })),
    },
    {
      id: 4,
      method: "hash",
      fields: "ip_src=255.255.255.0,tcp_dst",
      param: 0,
      buckets: [0, 1].map((i) => ({ bucketId: i, weight: 100 })),
    },
    { id: 5, method: "dp_hash", buckets: [0, 1, 2].map((i) => ({ bucketId: i, weight: 100 })) },
    {
      id: 6,
      method: "dp_hash",
      buckets: [
        { bucketId: 3, weight: 10 },
        { bucketId: 7, weight: 30 },
        { bucketId: 1, weight: 60 },
      ],
    },
    {
      id: 7,
      method: "dp_hash",
      buckets: Array.from({ length: 40 }, (_, i) => ({ bucketId: i, weight: 100 })),
    },
    // No selection method, too many slots for dp_hash: OVS's default method (symmetric L4 hash).
    {
      id: 8,
      method: "",
      buckets: [
        { bucketId: 0, weight: 1 },
        { bucketId: 1, weight: 1000 },
        { bucketId: 2, weight: 500 },
      ],
    },
    // No selection method, few slots: dp_hash with the datapath's sym_l4 hash.
    { id: 9, method: "", buckets: [0, 1, 2, 3, 4].map((i) => ({ bucketId: i, weight: 100 })) },
  ];
  for (const g of groups) {
    const sel =
      g.method === "hash"
        ? `selection_method=hash,${g.param ? `selection_method_param=${g.param},` : ""}fields(${g.fields}),`
        : g.method === "dp_hash"
          ? "selection_method=dp_hash,"
          : "";
    ofctl(
      "-O",
      "OpenFlow15",
      "add-group",
      "br0",
      `group_id=${g.id},type=select,${sel}${bucketsText(g.buckets)}`,
    );
    ofctl("-O", "OpenFlow15", "add-flow", "br0", `in_port=${g.id},actions=group:${g.id}`);
  }

  const traces = [];
  const raw = [];
  const trace = (group, flow, fields) => {
    const text = appctl("ofproto/trace", "br0", flow);
    if (!(group === 7 && raw.length > 120)) raw.push(`$ ovs-appctl ofproto/trace br0 ${flow}\n${text}`);
    const scores = [...text.matchAll(/-> bucket (\d+): score (\d+)/g)].map((m) => ({
      bucketId: Number(m[1]),
      score: Number(m[2]),
    }));
    const used = /-> using bucket (\d+)/.exec(text);
    traces.push({ group, flow, fields, scores, chosen: used ? Number(used[1]) : null });
  };

  // Hash-field groups: 20 + 20 + 16 + 12 flows.
  for (let i = 0; i < 20; i++) {
    const f = { in_port: 1, proto: "tcp", nw_src: ip4(), nw_dst: ip4(), tp_src: port(), tp_dst: port() };
    trace(
      1,
      `in_port=1,tcp,nw_src=${f.nw_src},nw_dst=${f.nw_dst},tcp_src=${f.tp_src},tcp_dst=${f.tp_dst}`,
      f,
    );
  }
  for (let i = 0; i < 20; i++) {
    const proto = i % 4 === 3 ? "udp" : "tcp";
    const f = { in_port: 2, proto, nw_src: ip4(), nw_dst: ip4(), tp_src: port(), tp_dst: port() };
    trace(
      2,
      `in_port=2,${proto},nw_src=${f.nw_src},nw_dst=${f.nw_dst},${proto}_src=${f.tp_src},${proto}_dst=${f.tp_dst}`,
      f,
    );
  }
  for (let i = 0; i < 16; i++) {
    const v6 = i % 2 === 0;
    const f = v6
      ? {
          in_port: 3,
          proto: "udp6",
          dl_src: mac(),
          ipv6_src: ip6(),
          ipv6_dst: ip6(),
          tp_src: port(),
          tp_dst: port(),
        }
      : {
          in_port: 3,
          proto: "udp",
          dl_src: mac(),
          nw_src: ip4(),
          nw_dst: ip4(),
          tp_src: port(),
          tp_dst: port(),
        };
    const l3 = v6 ? `ipv6_src=${f.ipv6_src},ipv6_dst=${f.ipv6_dst}` : `nw_src=${f.nw_src},nw_dst=${f.nw_dst}`;
    trace(3, `in_port=3,dl_src=${f.dl_src},${f.proto},${l3},udp_src=${f.tp_src},udp_dst=${f.tp_dst}`, f);
  }
  for (let i = 0; i < 12; i++) {
    const f = {
      in_port: 4,
      proto: "tcp",
      nw_src: ip4(),
      nw_dst: ip4(),
      tp_src: port(),
      tp_dst: [80, 443, 8080][i % 3],
    };
    trace(
      4,
      `in_port=4,tcp,nw_src=${f.nw_src},nw_dst=${f.nw_dst},tcp_src=${f.tp_src},tcp_dst=${f.tp_dst}`,
      f,
    );
  }
  // Default method: 12 flows (tcp, udp, ipv6 tcp).
  for (let i = 0; i < 12; i++) {
    const kind = ["tcp", "udp", "tcp6"][i % 3];
    const f =
      kind === "tcp6"
        ? {
            in_port: 8,
            proto: kind,
            dl_src: mac(),
            dl_dst: mac(),
            ipv6_src: ip6(),
            ipv6_dst: ip6(),
            tp_src: port(),
            tp_dst: port(),
          }
        : {
            in_port: 8,
            proto: kind,
            dl_src: mac(),
            dl_dst: mac(),
            nw_src: ip4(),
            nw_dst: ip4(),
            tp_src: port(),
            tp_dst: port(),
          };
    const l3 =
      kind === "tcp6"
        ? `ipv6_src=${f.ipv6_src},ipv6_dst=${f.ipv6_dst}`
        : `nw_src=${f.nw_src},nw_dst=${f.nw_dst}`;
    const p = kind === "udp" ? "udp" : "tcp";
    trace(
      8,
      `in_port=8,dl_src=${f.dl_src},dl_dst=${f.dl_dst},${kind},${l3},${p}_src=${f.tp_src},${p}_dst=${f.tp_dst}`,
      f,
    );
  }
  // dp_hash groups with an explicit dp_hash: the slot map.
  for (const g of [5, 6, 7]) {
    const n = g === 7 ? 256 : 16;
    for (let h = 1; h <= n; h++) {
      trace(
        g,
        `in_port=${g},dp_hash=0x${h.toString(16)},tcp,nw_src=1.1.1.1,nw_dst=2.2.2.2,tcp_src=1,tcp_dst=2`,
        { in_port: g, dp_hash: h },
      );
    }
  }

  // Real packets through dp_hash groups: which bucket counted each packet.
  const injected = [];
  const bucketCounts = (g) => {
    const text = ofctl("-O", "OpenFlow15", "dump-group-stats", "br0", `group_id=${g}`);
    return [...text.matchAll(/bucket(\d+):packet_count=(\d+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
  };
  for (const g of [5, 6, 7, 9]) {
    let before = bucketCounts(g);
    for (let i = 0; i < 24; i++) {
      const proto = i % 4 === 3 ? "udp" : "tcp";
      const f = { in_port: g, proto, nw_src: ip4(), nw_dst: ip4(), tp_src: port(), tp_dst: port() };
      const l4 =
        proto === "tcp"
          ? `tcp(src=${f.tp_src},dst=${f.tp_dst}),tcp_flags(syn)`
          : `udp(src=${f.tp_src},dst=${f.tp_dst})`;
      const pkt = `in_port(${g}),eth(src=00:00:5e:00:53:01,dst=00:00:5e:00:53:ff),eth_type(0x0800),ipv4(src=${f.nw_src},dst=${f.nw_dst},proto=${proto === "tcp" ? 6 : 17},tos=0,ttl=64,frag=no),${l4}`;
      // Stats of megaflow hits reach the group only when revalidators run; with the
      // datapath flows deleted first, every packet is an upcall and is counted at once.
      appctl("dpctl/del-flows");
      appctl("netdev-dummy/receive", `p${g}`, pkt);
      const after = bucketCounts(g);
      const moved = after
        .filter(([b, c]) => c !== (before.find(([bb]) => bb === b)?.[1] ?? 0))
        .map(([b]) => b);
      injected.push({ group: g, packet: pkt, fields: f, bucket: moved.length === 1 ? moved[0] : null });
      before = after;
    }
  }

  mkdirSync(outDir, { recursive: true });
  const version = appctl("version").split("\n")[0];
  writeFileSync(
    path.join(outDir, "select-groups.json"),
    `${JSON.stringify({ recordedWith: version, groups, traces, injected }, null, 1)}\n`,
  );
  writeFileSync(path.join(outDir, "select-traces.txt"), raw.join("\n"));
  console.log(`recorded ${traces.length} traces and ${injected.length} injected packets with ${version}`);
} finally {
  sb.stop();
}
