import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadScenario } from "@ovnsim/kube";
import { makeFlow, parseIp4, parseMac } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import {
  type TraceDocument,
  buildNodeOvs,
  buildOvn,
  renderFlowchart,
  renderMermaid,
  renderSequence,
  renderText,
  runBridge,
  runLogical,
  traceScenario,
  writePcap,
} from "../src/index.js";

const s = loadScenario();
const syn = makeFlow({
  dl_src: parseMac("52:54:00:ff:00:01"),
  dl_dst: parseMac("52:54:00:0a:00:03"),
  vlans: [{ tpid: 0x8100, pcp: 0, vid: 341 }],
  dl_type: 0x0800,
  nw_src: parseIp4("192.0.2.10"),
  nw_dst: parseIp4("10.180.204.252"),
  nw_proto: 6,
  nw_ttl: 63,
  tp_src: 40000,
  tp_dst: 80,
  tcp_flags: 2,
});

describe("br-provider → br-int → OVN on the announcing node (no physical network)", () => {
  it("the cookie-0x1000 flow steals the VIP into OVN; br-int strips VLAN 341", () => {
    const o = buildNodeOvs(s, "node3");
    const r = runBridge(o, "br-provider", "underlay0", syn);
    expect(r.rules.map((x) => [x.bridge, x.table, x.priority])).toEqual([
      ["br-provider", 0, 10000],
      ["br-int", 0, 150],
    ]);
    expect(r.toOvn?.vlans).toEqual([]);
    expect(r.toOvn?.dl_dst).toBe(parseMac("00:00:00:01:00:01"));
    expect(r.toOvn?.metadata).toBe(1n);
    expect(r.toOvn?.regs[14]).toBe(1);
  });
  it("the logical switch on node3's chassis DNATs to the local backend and outputs to its pod", () => {
    const w = buildOvn(s);
    const o = buildNodeOvs(s, "node3");
    const f = runBridge(o, "br-provider", "underlay0", syn).toOvn!;
    const lr = runLogical(
      w,
      "node3",
      "localnet.underlay-subnet",
      { ...f, metadata: 0n, regs: new Array(16).fill(0) },
      ["new", "new", "new", "new"],
    );
    expect(lr.backend).toEqual({ ip: "10.180.204.4", port: 80 });
    expect(lr.outputs.map((x) => x.port)).toEqual(["deploy-169402624-2.default"]);
    expect(lr.outputs[0]!.flow.dl_dst).toBe(parseMac("00:00:00:b4:cc:04"));
    expect(lr.stages.some((x) => x.stage === "ls_in_lb" && x.priority === 140)).toBe(true);
  });
  it("on node1's chassis the same packet picks node1's backend (prefer-local)", () => {
    const w = buildOvn(s);
    const o = buildNodeOvs(s, "node1");
    const f = runBridge(o, "br-provider", "underlay0", { ...syn, dl_dst: parseMac("52:54:00:0a:00:01") })
      .toOvn!;
    const lr = runLogical(
      w,
      "node1",
      "localnet.underlay-subnet",
      { ...f, metadata: 0n, regs: new Array(16).fill(0) },
      ["new", "new"],
    );
    expect(lr.backend?.ip).toBe("10.180.204.2");
  });
});

describe("renderers", () => {
  const doc: TraceDocument = traceScenario(s);
  it("text has the verdict", () => {
    expect(renderText(doc)).toMatch(/^Verdict: /m);
  });
  it("Mermaid flowchart and sequence diagram are well formed", () => {
    const fc = renderFlowchart(doc);
    expect(fc.split("\n")[0]).toBe("flowchart LR");
    for (const l of fc.split("\n").slice(1).filter(Boolean)) {
      expect(l).toMatch(/^ {2}(h\d+\["[^"]*"\]|h\d+ --> h\d+|class [h\d,]+ \w+|classDef \w+ .+)$/);
    }
    const sq = renderSequence(doc);
    expect(sq.split("\n")[0]).toBe("sequenceDiagram");
    for (const l of sq.split("\n").slice(1).filter(Boolean)) {
      expect(l).toMatch(/^ {2}(participant P\d+ as [^\n]+|P\d+->>P\d+: [^:]+|Note over P\d+: [^:]+)$/);
    }
    expect(renderMermaid(doc)).toContain("```mermaid\nsequenceDiagram");
  });
  it("pcap is readable by tshark (when installed)", () => {
    const frames = [syn, { ...syn, vlans: [] }];
    const bytes = writePcap(frames);
    expect(bytes.length).toBe(24 + 2 * 16 + 60 + 60);
    let tshark = true;
    try {
      execFileSync("tshark", ["--version"], { stdio: "ignore" });
    } catch {
      tshark = false;
    }
    if (!tshark) return;
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-pcap-"));
    const file = join(dir, "t.pcap");
    writeFileSync(file, bytes);
    const out = execFileSync(
      "tshark",
      [
        "-r",
        file,
        "-T",
        "fields",
        "-e",
        "vlan.id",
        "-e",
        "ip.dst",
        "-e",
        "tcp.dstport",
        "-e",
        "ip.checksum.status",
        "-e",
        "tcp.checksum.status",
        "-o",
        "ip.check_checksum:TRUE",
        "-o",
        "tcp.check_checksum:TRUE",
      ],
      {
        encoding: "utf8",
      },
    );
    // checksum status 1 = good
    expect(out.trim().split("\n")).toEqual(["341\t10.180.204.252\t80\t1\t1", "\t10.180.204.252\t80\t1\t1"]);
  });
});
