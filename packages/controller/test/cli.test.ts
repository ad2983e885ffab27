// `ovnsim ovn-controller`: dump-flows text from captures, --compare against the node's own dump,
// and --out as a bundle that `ovnsim ofproto-trace --bundle` reads (br-provider → patch → br-int).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { run } from "../../cli/src/cli.js";
import { GOLDEN } from "./load.js";

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, {
    stdout: (s) => {
      out += s;
    },
    stderr: (s) => {
      err += s;
    },
  });
  return { code, out, err };
}

describe("ovnsim ovn-controller", () => {
  const sb = join(GOLDEN, "seed", "sb");
  const node = join(GOLDEN, "seed", "node");

  it("prints br-int's flows; --compare reports 270/270 against the real dump", async () => {
    const r = await cli(["ovn-controller", "--sb", sb, "--node", node]);
    expect(r.code).toBe(0);
    expect(r.out.split("\n").filter((l) => l.includes("actions=")).length).toBe(270);
    const c = await cli(["ovn-controller", "--sb", sb, "--node", node, "--compare"]);
    expect(c.code).toBe(0);
    expect(c.out).toContain("total: 270/270 identical, 0 extra");
  });

  it("--out writes a bundle ofproto-trace follows from br-provider into ovnsim's br-int", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-ctl-cli-"));
    expect((await cli(["ovn-controller", "--sb", sb, "--node", node, "--out", dir])).code).toBe(0);
    expect(readFileSync(join(dir, "br-int.groups.txt"), "utf8")).toContain("group_id=1,type=select");
    const flow =
      "in_port=1,dl_vlan=341,dl_src=00:00:5e:00:53:01,dl_dst=0a:58:0a:b4:cc:0b,tcp,nw_src=10.180.204.50,nw_dst=10.180.204.252,nw_ttl=64,tp_src=40000,tp_dst=80";
    const t = await cli(["ofproto-trace", "--bundle", dir, "br-provider", flow]);
    expect(t.out).toContain('bridge("br-int")');
    // The real br-int stops at the same place: the LB's dp_hash group recirculates.
    expect(t.out).toContain("Datapath actions: hash(l4(0)),recirc(0x");
    rmSync(dir, { recursive: true, force: true });
  });

  it("a missing directory is a usage error, not a crash", async () => {
    const r = await cli(["ovn-controller", "--sb", "/nonexistent", "--node", node]);
    expect(r.code).toBe(2);
    expect(r.err).toBe(
      "ovnsim ovn-controller: cannot read /nonexistent: no such file or directory (ENOENT)\n",
    );
  });
});
