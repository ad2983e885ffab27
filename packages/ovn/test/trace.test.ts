import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { formatIp4 } from "@ovnsim/packet";
import { parseMicroflow } from "../src/expr/microflow.js";
import type { MFlow } from "../src/expr/symtab.js";
import { readSbBundle } from "../src/sb/model.js";
import { parseOvnTraceArgs } from "../src/trace/args.js";
import { formatCtState, LogicalNetwork, parseCtOption, parseLbDst } from "../src/trace/exec.js";
import { renderTrace, traceToJson } from "../src/trace/render.js";
import { renderDetailed, renderMinimal, renderSummary, type TraceNode } from "../src/trace/tree.js";

const SEED = path.resolve(import.meta.dirname, "golden/trace/seed/sb");
const files: Record<string, string> = {};
for (const f of readdirSync(SEED)) files[f] = readFileSync(path.join(SEED, f), "utf8");
const net = new LogicalNetwork(readSbBundle(files));
const toFlow = (f: MFlow) => ({ ...f, regs: [...f.regs] });
const MF =
  'inport=="localnet-port" && eth.src==00:00:5e:00:53:01 && eth.dst==0a:58:0a:b4:cc:0b && ip4.src==10.180.204.50 && ip4.dst==10.180.204.252 && tcp.src==40000 && tcp.dst==80 && ip.ttl==64';

describe("ovn-trace options", () => {
  it("--ct and --lb-dst values", () => {
    expect(formatCtState(parseCtOption("new"))).toBe("new|trk");
    expect(formatCtState(parseCtOption("est,trk"))).toBe("est|trk");
    expect(formatCtState(parseCtOption("rel|rpl"))).toBe("rel|rpl|trk");
    expect(() => parseCtOption("bogus")).toThrow(/unknown connection tracking state flag/);
    expect(parseLbDst("10.0.0.1:80")).toMatchObject({ family: 4, ip4: 0x0a000001, port: 80 });
    expect(parseLbDst("10.0.0.1")).toMatchObject({ family: 4, port: 0 });
    expect(parseLbDst("[fd00::1]:8080")).toMatchObject({
      family: 6,
      ip6: (0xfd00n << 112n) | 1n,
      port: 8080,
    });
    expect(parseLbDst("fd00::1")).toMatchObject({ family: 6, port: 0 });
    expect(() => parseLbDst("nope")).toThrow(/bad address/);
  });
  it("command line", () => {
    const a = parseOvnTraceArgs(
      ["--sb", "d", "--ct=new", "--ct", "est", "--lb-dst=1.2.3.4:5", "--minimal", "--detailed", "dp", "mf"],
      ["sb"],
    );
    expect(a).toMatchObject({
      modes: ["detailed", "minimal"],
      ct: ["new", "est"],
      lbDst: "1.2.3.4:5",
      datapath: "dp",
      microflow: "mf",
    });
    expect(a.extra.get("sb")).toBe("d");
    expect(parseOvnTraceArgs(["--all", "mf"]).modes).toEqual(["detailed", "summary", "minimal"]);
    expect(() => parseOvnTraceArgs(["--bogus", "mf"])).toThrow(/unknown option --bogus/);
    expect(() => parseOvnTraceArgs([])).toThrow(/non-option arguments/);
  });
});

describe("trace results", () => {
  it("outputs, drops and JSON", () => {
    const ok = net.trace("underlay-subnet", MF, { ct: ["new", "new", "new"], lbDst: "10.180.204.11:80" });
    expect(ok.outputs).toEqual(["pod1"]);
    const drop = net.trace("underlay-subnet", MF, { ct: ["new", "new", "new"], lbDst: "10.180.204.12:80" });
    expect(drop.dropped).toBe(true);
    const j = JSON.parse(JSON.stringify(traceToJson(ok))) as { tree: TraceNode[] };
    expect(j.tree[0]!.kind).toBe("pipeline");
    expect(renderTrace(ok, ["detailed", "summary", "minimal"])).toMatch(
      /# Detailed trace\.\n[\s\S]*# Summary trace\.\n[\s\S]*# Minimal trace\.\n/,
    );
  });
  it("traceFlow and deliveries: the packet as the port receives it", () => {
    const f = parseMicroflow(MF, () => 1);
    const r = net.traceFlow(undefined, "localnet-port", toFlow(f), {
      ct: ["new", "new", "new"],
      lbDst: "10.180.204.11:80",
    });
    expect(renderTrace(r)).toBe(
      renderTrace(net.trace("underlay-subnet", MF, { ct: ["new", "new", "new"], lbDst: "10.180.204.11:80" })),
    );
    expect(r.deliveries.map((d) => [d.port, formatIp4(d.flow.nw_dst), d.flow.tp_dst])).toEqual([
      ["pod1", "10.180.204.11", 80],
    ]);
    expect(() => net.traceFlow(undefined, "nope", toFlow(f))).toThrow(/unknown port/);
  });
  it("deterministic: the same input gives the same text", () => {
    const a = renderTrace(net.trace("underlay-subnet", MF, { ct: ["new"] }), ["detailed"]);
    const b = renderTrace(net.trace("underlay-subnet", MF, { ct: ["new"] }), ["detailed"]);
    expect(a).toBe(b);
  });
  it("typed errors for unknown datapaths, ports and bad microflows", () => {
    expect(() => net.trace("nosuch", MF)).toThrow('unknown datapath "nosuch"');
    expect(() => net.trace(undefined, 'inport == "podx" && ip4')).toThrow(/unknown port "podx"/);
    expect(() => net.trace("underlay-subnet", "ip4.src ==")).toThrow(
      "error parsing flow: Syntax error at end of input expecting constant.",
    );
  });
  it("renders a tree as ovn-trace does", () => {
    const tree: TraceNode[] = [
      {
        kind: "pipeline",
        text: 'ingress(dp="d", inport="a")',
        children: [
          {
            kind: "table",
            text: " 0. s: 1, priority 0, uuid 00000000",
            children: [
              { kind: "modify", text: "eth.dst = 00:00:00:00:00:01", children: [] },
              { kind: "action", text: "next;", children: [] },
              { kind: "transformation", text: "ct_next(ct_state=est|trk)", children: [] },
            ],
          },
        ],
      },
    ];
    expect(renderDetailed(tree)).toBe(
      '\ningress(dp="d", inport="a")\n---------------------------\n 0. s: 1, priority 0, uuid 00000000\n    next;\n\nct_next(ct_state=est|trk)\n-------------------------\n',
    );
    expect(renderSummary(tree)).toBe(
      'ingress(dp="d", inport="a") {\n    next;\n    ct_next(ct_state=est|trk);\n};\n',
    );
    expect(renderMinimal(tree)).toBe("eth.dst = 00:00:00:00:00:01;\nct_next(ct_state=est|trk);\n");
  });
});
