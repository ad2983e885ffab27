/**
 * L2 and physical-network benchmark (`pnpm bench l2-physical`): NORMAL decisions per second
 * (@ovnsim/l2 normalDecide: a learned unicast forward and a broadcast flood on a 48-port bridge,
 * with learning), MAC-table learn+lookup, and whole physical actions on the seed scenario
 * (client → VIP through the gateway router with cached neighbours; a gateway ARP exchange for
 * the VIP; a MetalLB failover with its gratuitous ARPs). Median of 5 runs; printed and written to
 * bench/results/l2-physical.json; nothing is asserted.
 */
import { type L2PortConfig, MacTable, normalDecide } from "../packages/l2/src/index.js";
import { MetalLB, PhysicalNetwork, seedScenario } from "../packages/physical/src/index.js";
import { rate, writeResults } from "./lib.js";

const ports: L2PortConfig[] = Array.from({ length: 48 }, (_, i) =>
  i === 0
    ? { port: 1, name: "uplink", trunks: [10, 20, 341] }
    : { port: i + 1, name: `p${i + 1}`, tag: [10, 20, 341][i % 3] },
);
const table = new MacTable();
const A = 0x020000000001;
const B = 0x020000000002;
normalDecide(ports, table, 1, [341], B, 0xffffffffffff, 0);
const results = [
  rate("normalDecide: learned unicast forward (access → trunk)", 200_000, () => {
    normalDecide(ports, table, 3, [], A, B, 1);
  }),
  rate("normalDecide: broadcast flood, 48 ports", 100_000, () => {
    normalDecide(ports, table, 3, [], A, 0xffffffffffff, 1);
  }),
  rate("MacTable: learn + lookup, 4096 MACs", 200_000, (i) => {
    const mac = 0x020000000000 + (i & 4095);
    table.learn(341, mac, (i % 47) + 2, i / 1000);
    table.lookup(341, mac, i / 1000);
  }),
];
const s = seedScenario({ profile: "code" });
const net = new PhysicalNetwork(s.topology);
const m = new MetalLB(net, s.metallb, [s.service]);
m.reconcile();
net.advance(6);
net.send("client", { dst: "10.180.204.252", tpSrc: 40000, tpDst: 80 });
results.push(
  rate("physical: client → VIP via router, neighbours cached", 5_000, () => {
    net.send("client", { dst: "10.180.204.252", tpSrc: 40000, tpDst: 80 });
  }),
);
results.push(
  rate("physical: seed scenario + MetalLB failover with GARPs", 200, () => {
    const n2 = new PhysicalNetwork(s.topology);
    const m2 = new MetalLB(n2, s.metallb, [s.service]);
    m2.reconcile();
    n2.advance(6);
    n2.resolve("gw", "10.180.204.252");
    m2.setNodeUp(m2.status()[0]?.node ?? "node1", false);
    n2.advance(6);
  }),
);
writeResults("l2-physical", { results });
