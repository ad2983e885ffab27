// `ovnsim ofproto-trace` end to end (in-process): text, JSON, exit codes.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../cli/src/cli.js";
import { readCases } from "./harness.js";

const EXAMPLE = join(import.meta.dirname, "..", "examples", "kubeovn-br-provider");
const FLOW = "in_port=1,dl_vlan=341,tcp,nw_src=192.0.2.10,nw_dst=10.180.204.252,tp_src=40000,tp_dst=80";

async function cli(args: string[]): Promise<{ rc: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const rc = await run(args, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { rc, out, err };
}

describe("ovnsim ofproto-trace", () => {
  it("prints the ofproto/trace text", async () => {
    const r = await cli(["ofproto-trace", "--bundle", EXAMPLE, "br-provider", FLOW]);
    expect(r.rc).toBe(0);
    expect(r.out).toContain('bridge("br-int")');
    expect(r.out).toMatch(/Datapath actions: set\(eth\(dst=00:00:00:01:00:01\)\),pop_vlan,10\n$/);
  });
  it("accepts port names and --json", async () => {
    const r = await cli([
      "ofproto-trace",
      "--json",
      "--bundle",
      EXAMPLE,
      "br-provider",
      FLOW.replace("in_port=1", "in_port=underlay0"),
    ]);
    expect(r.rc).toBe(0);
    expect(JSON.parse(r.out).passes[0].datapathActions).toBe("set(eth(dst=00:00:00:01:00:01)),pop_vlan,10");
  });
  it("--names on a node with long, colliding port names (issue 18) prints what ofproto/trace --names does", async () => {
    const dir = join(import.meta.dirname, "golden", "portnames");
    const c = readCases(dir, "").find((x) => x.args[0] === "--names" && x.args[1] === "br-provider")!;
    const r = await cli(["ofproto-trace", "--bundle", join(dir, "bundle"), ...c.args]);
    expect(r.rc).toBe(0);
    expect(r.out).toBe(c.expected);
  });
  it("exit 0 for a dropped packet, 2 for bad input", async () => {
    expect((await cli(["ofproto-trace", "--bundle", EXAMPLE, "br-int", "in_port=11,ip"])).rc).toBe(0);
    const bad = await cli(["ofproto-trace", "--bundle", EXAMPLE, "br-provider", "in_port=1,udp,tp_dst=53"]);
    expect(bad.rc).toBe(2);
    expect(bad.err).toMatch(/prerequisites/);
    expect((await cli(["ofproto-trace", "--bundle", EXAMPLE, "br-nope", FLOW])).rc).toBe(2);
    expect((await cli(["ofproto-trace", "br-provider", FLOW])).rc).toBe(2);
  });
});
