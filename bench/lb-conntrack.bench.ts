/**
 * Conntrack and load-balancer benchmark (`pnpm bench lb-conntrack`): Conntrack.process for a
 * committed DNAT of a new connection, an established packet in a 10k-connection table, and
 * table growth; OVS select-group choice (hash fields, dp_hash); the whole LB DNAT step.
 * Median of 5 runs; printed and written to bench/results/lb-conntrack.json; nothing is asserted.
 */
import { Conntrack } from "../packages/conntrack/src/index.js";
import {
  emptyLbState,
  lbDnat,
  makeLoadBalancer,
  parseHashFields,
  selectBucket,
} from "../packages/lb/src/index.js";
import { ETH_TYPE, TCP_FLAG, makeFlow, parseIp4 } from "../packages/packet/src/index.js";
import { rate, writeResults } from "./lib.js";

const VIP = parseIp4("10.180.204.252");
const flows = Array.from({ length: 10_000 }, (_, i) =>
  makeFlow({
    dl_type: ETH_TYPE.ip,
    nw_proto: 6,
    nw_src: (0x0b000000 + i) >>> 0,
    nw_dst: VIP,
    tp_src: 1024 + (i % 60000),
    tp_dst: 80,
    tcp_flags: TCP_FLAG.syn,
  }),
);
const acks = flows.map((f) => makeFlow({ ...f, tcp_flags: TCP_FLAG.ack }));
const dnat = { kind: "dnat" as const, ip: parseIp4("10.180.204.11"), port: 80 };
let big = Conntrack.empty();
for (const f of flows) big = big.process(f, { zone: 5, commit: true, nat: dnat }).table;
const empty = Conntrack.empty();
const buckets = Array.from({ length: 8 }, (_, i) => ({ bucketId: i, weight: 100 }));
const hashGroup = {
  method: "hash" as const,
  fields: parseHashFields("ip_src,ip_dst,tcp_src,tcp_dst"),
  buckets,
};
const dpGroup = { method: "dp_hash" as const, buckets };
const lb = makeLoadBalancer({
  name: "lb",
  vips: { "10.180.204.252:80": Array.from({ length: 8 }, (_, i) => `10.180.204.${11 + i}:80`) },
});
const state = emptyLbState();

const results = [
  rate("Conntrack.process: new, commit + DNAT (empty table)", 50_000, (i) => {
    empty.process(flows[i % flows.length] as never, { zone: 5, commit: true, nat: dnat });
  }),
  rate("Conntrack.process: established + nat (10k connections)", 50_000, (i) => {
    big.process(acks[i % acks.length] as never, { zone: 5, nat: {} });
  }),
  rate("Conntrack.process: commit into a growing table", 10_000, (i) => {
    big = big.process(makeFlow({ ...flows[i % flows.length]!, tp_dst: 81 }), {
      zone: 6,
      commit: true,
    }).table;
  }),
  rate("selectBucket: hash fields (4 fields, 8 buckets)", 200_000, (i) => {
    selectBucket(hashGroup, flows[i % flows.length] as never);
  }),
  rate("selectBucket: dp_hash (computed L4 hash, 8 buckets)", 200_000, (i) => {
    selectBucket(dpGroup, flows[i % flows.length] as never);
  }),
  rate("lbDnat: new connection to a VIP (8 backends)", 50_000, (i) => {
    lbDnat(state, flows[i % flows.length] as never, { lb, zone: 5 });
  }),
];
writeResults("lb-conntrack", { results });
