/**
 * ovn-trace benchmark (`pnpm bench ovn-trace`): compiling a captured SB bundle (the seed
 * scenario recorded from real OVN 23.03, 112 logical flows), whole traces per second through
 * ingress and egress (client → VIP with --lb-dst, pod → pod, a flooded ARP), rendering, and raw
 * compiled-match evaluations. Median of 5 runs; printed and written to
 * bench/results/ovn-trace.json; nothing is asserted. (Real ovn-trace: ~31 ms per run, mostly
 * process start and the SB connection; daemon mode ~24 ms — oracle/README.md.)
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import {
  compileExpr,
  LogicalNetwork,
  parseExpr,
  parseMicroflow,
  readSbBundle,
  renderTrace,
} from "../packages/ovn/src/index.js";
import { rate, writeResults } from "./lib.js";

const dir = path.resolve(import.meta.dirname, "../packages/ovn/test/golden/trace/seed/sb");
const files: Record<string, string> = {};
for (const f of readdirSync(dir)) files[f] = readFileSync(path.join(dir, f), "utf8");
const model = readSbBundle(files);
const VIP =
  'inport=="localnet-port" && eth.src==00:00:5e:00:53:01 && eth.dst==0a:58:0a:b4:cc:0b && ip4.src==10.180.204.50 && ip4.dst==10.180.204.252 && tcp.src==40000 && tcp.dst==80 && ip.ttl==64';
const P2P =
  'inport=="pod1" && eth.src==0a:58:0a:b4:cc:0b && eth.dst==0a:58:0a:b4:cc:0c && ip4.src==10.180.204.11 && ip4.dst==10.180.204.12 && tcp.src==1234 && tcp.dst==80 && ip.ttl==64';
const ARP =
  'inport=="localnet-port" && eth.src==00:00:5e:00:53:01 && eth.dst==ff:ff:ff:ff:ff:ff && arp.op==1 && arp.sha==00:00:5e:00:53:01 && arp.spa==10.180.204.50 && arp.tpa==10.180.204.252';

const results = [];
results.push(rate("compile SB bundle (112 lflows: parse + compile)", 50, () => new LogicalNetwork(model)));
const net = new LogicalNetwork(model);
results.push(
  rate("trace client → VIP (--ct=new ×3 --lb-dst), 20 tables", 5000, () =>
    net.trace("underlay-subnet", VIP, { ct: ["new", "new", "new"], lbDst: "10.180.204.11:80" }),
  ),
);
results.push(rate("trace pod → pod", 5000, () => net.trace("underlay-subnet", P2P)));
results.push(
  rate("trace broadcast ARP (flood to 3 egress pipelines)", 5000, () => net.trace("underlay-subnet", ARP)),
);
const r = net.trace("underlay-subnet", VIP, { ct: ["new", "new", "new"], lbDst: "10.180.204.11:80" });
results.push(rate("render --detailed", 20000, () => renderTrace(r, ["detailed"])));
const flow = parseMicroflow(VIP, (n) => (n === "localnet-port" ? 1 : 2));
const pred = compileExpr(parseExpr("reg0[2] == 1 && ip4.dst == 10.180.204.252 && tcp.dst == 80"), {
  lookupPort: () => 1,
  isChassisResident: () => true,
});
results.push(rate("compiled match eval (3 cmps + prereqs)", 1_000_000, () => pred(flow)));
writeResults("ovn-trace", results);
