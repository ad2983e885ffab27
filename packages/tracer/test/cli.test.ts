// `ovnsim trace` and `ovnsim doctor` in-process: output formats and exit codes.
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@ovnsim/cli";
import { describe, expect, it } from "vitest";
import { edited } from "./helpers.js";

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

describe("ovnsim trace", () => {
  it("with no files traces the seed: exit 0, verdict in text, progress on stderr only", async () => {
    const r = await cli(["trace"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Verdict: DELIVERED to default/deploy-169402624-2 on node3");
    expect(r.out).toContain("client IP preserved: yes");
    expect(r.out).toContain("reply: delivered, source 10.180.204.252");
    expect(r.err).toMatch(/^ovnsim trace: scenario metallb-underlay/);
  });
  it("--format json is ovnsim.trace/v1; --detailed adds the native blocks; --pcap writes frames", async () => {
    const j = JSON.parse((await cli(["trace", "--format", "json"])).out);
    expect(j.schema).toBe("ovnsim.trace/v1");
    const d = await cli(["trace", "--detailed"]);
    expect(d.out).toContain('│ bridge("br-provider")');
    expect(d.out).toContain('│ ingress(dp="underlay-subnet", inport="localnet.underlay-subnet")');
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-cli-"));
    const p = await cli(["trace", "--pcap", join(dir, "t.pcap"), "--format=mermaid"]);
    expect(p.out).toContain("flowchart LR");
    expect(readFileSync(join(dir, "t.pcap")).readUInt32LE(0)).toBe(0xa1b2c3d4);
  });
  it("exit 1 when not delivered, 2 on bad input", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-cli-"));
    for (const t of edited(["--ls-ct-skip-dst-lport-ips=false", "--ls-ct-skip-dst-lport-ips=true"])) {
      writeFileSync(join(dir, t.file.split("/").pop()!), t.text);
    }
    const r = await cli(["trace", dir]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("NOT DELIVERED");
    expect(r.out).toContain("LS_CT_SKIP_DST_LPORT_IPS");
    expect((await cli(["trace", "--to", "1.2.3"])).code).toBe(2);
    expect((await cli(["trace", "/nonexistent"])).code).toBe(2);
    expect((await cli(["trace", "--proto", "sctp"])).code).toBe(2);
  });
});

describe("ovnsim doctor", () => {
  it("lists findings with codes; exit 1 on an error finding", async () => {
    const ok = await cli(["doctor"]);
    expect(ok.code).toBe(0);
    expect(ok.out).toContain("POOL_NOT_EXCLUDED");
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-doc-"));
    for (const t of edited(["enableExternalLBAddress: true", "enableExternalLBAddress: false"])) {
      writeFileSync(join(dir, t.file.split("/").pop()!), t.text);
    }
    const bad = await cli(["doctor", dir, "--format", "json"]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.out).findings.map((f: { code: string }) => f.code)).toContain(
      "EXTERNAL_LB_ADDRESS_DISABLED",
    );
  });
});

describe("trace argument parser fuzz", () => {
  it("any argument vector parses or is a SimError", async () => {
    const fc = (await import("fast-check")).default;
    const { parseTraceArgs } = await import("../../cli/src/commands/trace.js");
    const { isSimError } = await import("@ovnsim/packet");
    const word = fc.oneof(
      fc.constantFrom(
        "--from",
        "--to",
        "--proto",
        "--format",
        "--detailed",
        "--pcap",
        "--pcap-format",
        "pcapng",
        "tcp",
        "json",
        "10.0.0.1:80",
        "--to=1.2.3.4",
      ),
      fc.string({ maxLength: 12 }),
    );
    fc.assert(
      fc.property(fc.array(word, { maxLength: 8 }), (args) => {
        try {
          parseTraceArgs(args);
        } catch (e) {
          if (!isSimError(e)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});

describe("ovnsim trace --datapath openflow and --sb/--node", () => {
  const G = join(import.meta.dirname, "golden/remote");
  it("--datapath openflow: same verdict, br-int rules with their logical flows", async () => {
    const r = await cli(["trace", "--datapath", "openflow"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Verdict: DELIVERED to default/deploy-169402624-2 on node3");
    expect(r.out).toContain("backend: 10.180.204.4:80 (local to the receiving node)");
    expect(r.out).toMatch(
      /\[openflow\] br-int table 21: priority 140 cookie 0x[0-9a-f]+: group:1\n\s+↳ ls_in_lb/,
    );
    expect((await cli(["trace", "--datapath", "ovs"])).code).toBe(2);
  });
  it("--sb DIR --node DIR --node DIR FLOW: annotated ofproto/trace, across Geneve", async () => {
    const flow = readFileSync(join(G, "flows.txt"), "utf8").split("\n")[0]!;
    const r = await cli([
      "trace",
      "--sb",
      join(G, "sb"),
      "--node",
      join(G, "node"),
      "--node",
      join(G, "node-hv2"),
      flow,
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# chassis hv1: ofproto\/trace br-int icmp,in_port=24,/);
    expect(r.out).toContain(
      "# Geneve from hv1 (127.0.0.1 → 192.168.0.2): tun_id=0x2, tun_metadata0=0x10002, in_port ovn-hv1-0",
    );
    expect(r.out).toContain("  * Logical flow: table=");
    expect(r.out.trimEnd().split("\n").pop()).toBe("Datapath actions: 25");
    expect((await cli(["trace", "--sb", join(G, "sb"), flow])).code).toBe(2);
    expect((await cli(["trace", "--sb", join(G, "sb"), "--node", join(G, "node")])).code).toBe(2);
  });
});
