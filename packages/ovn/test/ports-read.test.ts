// TraceResult.portsRead is a promise: where a port's bit is clear, a packet that differs only in
// that port takes the same logical flows and actions and reaches the same ports, changed the
// same way. Checked over every recorded case of the golden scenarios (ACLs, load balancers with
// one and several backends, routers, hairpin options, IPv6, ND), each traced again with other
// source and destination ports, and the bits set where the outcome can tell the ports apart.
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseNbctl } from "../src/nb/nbctl.js";
import { northd } from "../src/northd/compile.js";
import { sbModelFromNb } from "../src/sb/from-nb.js";
import { parseOvnTraceArgs } from "../src/trace/args.js";
import { LogicalNetwork, type TraceResult } from "../src/trace/exec.js";
import { READ_TP_DST, READ_TP_SRC } from "../src/trace/index.js";

const GOLD = path.resolve(import.meta.dirname, "golden/trace");
const scenarios = readdirSync(GOLD).filter((d) => statSync(path.join(GOLD, d)).isDirectory());

function headerArgs(line: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^']|'\\'')*)'/g;
  for (let m = re.exec(line); m; m = re.exec(line)) out.push(m[1]!.replaceAll("'\\''", "'"));
  return out;
}

/** What the run decided, without the ports themselves: flows hit, actions, outputs, deliveries. */
function decisions(r: TraceResult, src: boolean, dst: boolean): string {
  const lines: string[] = [];
  for (let i = 0; i < r.log.length; i++) {
    const kind = r.log.kind(i);
    // LOG actions print the packet; its ports are the packet's, not a decision.
    if (kind === "transformation" && r.log.text(i).startsWith("LOG:")) continue;
    lines.push(`${r.log.parent(i)} ${kind} ${r.log.text(i)}`);
  }
  const delivered = r.deliveries.map((d) => {
    const f = { ...d.flow, regs: [...d.flow.regs] } as Record<string, unknown>;
    if (src) f.tp_src = "*";
    if (dst) f.tp_dst = "*";
    return `${d.port} ${JSON.stringify(f, (_k, v) => (typeof v === "bigint" ? v.toString() : v))}`;
  });
  return [...lines, ...r.outputs, ...delivered].join("\n");
}

const PORT = /\b(tcp|udp|sctp)\.(src|dst)\s*==\s*(\d+)/g;
const withPorts = (micro: string, src: number, dst: number): string =>
  micro.replace(PORT, (_m, p: string, dir: string) => `${p}.${dir} == ${dir === "src" ? src : dst}`);

describe.each(scenarios)("portsRead over the recorded cases of %s", (scen) => {
  it("a clear bit means the other port values decide the same", () => {
    const dir = path.join(GOLD, scen);
    let db: ReturnType<typeof parseNbctl>;
    try {
      db = parseNbctl(readFileSync(path.join(dir, "config.nbctl"), "utf8"), { file: "config.nbctl" });
    } catch {
      return; // a configuration the NB reader does not take (trace-nbctl.test.ts says which)
    }
    const net = new LogicalNetwork(sbModelFromNb(db, northd(db, "ovn-23.03")));
    const files = readdirSync(dir).filter((f) => f.endsWith(".detailed.txt"));
    let checked = 0;
    for (const f of files) {
      const header = readFileSync(path.join(dir, f), "utf8").split("\n")[0]!;
      const args = parseOvnTraceArgs(headerArgs(header));
      if (!PORT.test(args.microflow)) continue;
      PORT.lastIndex = 0;
      const opts = { ct: args.ct, ...(args.lbDst !== undefined ? { lbDst: args.lbDst } : {}) };
      const run = (src: number, dst: number) => {
        try {
          return net.trace(args.datapath, withPorts(args.microflow, src, dst), opts);
        } catch {
          return undefined;
        }
      };
      const base = run(40000, 80);
      if (!base) continue;
      const srcFree = (base.portsRead & READ_TP_SRC) === 0;
      const dstFree = (base.portsRead & READ_TP_DST) === 0;
      for (const [s, d] of [
        [40001, 80],
        [1024, 80],
        [40000, 8080],
        [53, 443],
        [68, 67],
      ] as const) {
        if ((s !== 40000 && !srcFree) || (d !== 80 && !dstFree)) continue;
        const other = run(s, d)!;
        expect(decisions(other, srcFree, dstFree), `${scen}/${f} with ports ${s}→${d}`).toBe(
          decisions(base, srcFree, dstFree),
        );
        expect(other.portsRead, `${scen}/${f}`).toBe(base.portsRead);
        checked++;
      }
    }
    if (scen === "seed" || scen === "acls" || scen === "lb-options") expect(checked).toBeGreaterThan(0);
  });
});

describe("portsRead on the seed's load balancer (three backends, no chassis)", () => {
  const db = parseNbctl(readFileSync(path.join(GOLD, "seed", "config.nbctl"), "utf8"), { file: "seed" });
  const net = new LogicalNetwork(sbModelFromNb(db, northd(db, "ovn-23.03")));
  const micro =
    'inport=="localnet-port" && eth.src==00:00:5e:00:53:01 && eth.dst==0a:58:0a:b4:cc:0b && ip4.src==192.0.2.10 && ip4.dst==10.180.204.252 && ip.ttl==64 && tcp.src==40000 && tcp.dst==80';
  it("choosing among the backends hashes both ports", () => {
    const r = net.trace("underlay-subnet", micro, { ct: ["new", "new"] });
    expect(r.portsRead).toBe(READ_TP_SRC | READ_TP_DST);
  });
  it("a pinned backend (--lb-dst) leaves the source port out; the VIP's flows still read tcp.dst", () => {
    const r = net.trace("underlay-subnet", micro, { ct: ["new", "new"], lbDst: "10.180.204.11:80" });
    expect(r.portsRead).toBe(READ_TP_DST);
    const other = net.trace("underlay-subnet", micro.replace("tcp.src==40000", "tcp.src==1234"), {
      ct: ["new", "new"],
      lbDst: "10.180.204.11:80",
    });
    expect(decisions(other, true, false)).toBe(decisions(r, true, false));
  });
  it("a packet to another address reads neither port", () => {
    const r = net.trace("underlay-subnet", micro.replace("10.180.204.252", "10.180.204.11"), {
      ct: ["new", "new"],
    });
    expect(r.portsRead).toBe(0);
  });
});
