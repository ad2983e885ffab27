// `ovnsim ovn-controller`: dump-flows text from captures, --compare against the node's own dump,
// and --out as a bundle that `ovnsim ofproto-trace --bundle` reads (br-provider → patch → br-int).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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

  it("--profile picks the release's table layout; an unknown one is a usage error", async () => {
    const r23 = await cli(["ovn-controller", "--sb", sb, "--node", node, "--profile", "23.03"]);
    const r25 = await cli(["ovn-controller", "--sb", sb, "--node", node, "--profile", "kube-ovn-1.15"]);
    expect(r25.code).toBe(0);
    const tables = (t: string) => new Set([...t.matchAll(/ table=(\d+),/g)].map((m) => Number(m[1])));
    // 23.03: output 37–41, egress from 42; 25.03: output 40–44, egress from 45.
    expect(tables(r23.out).has(41)).toBe(true);
    expect(r25.out).toContain(" table=44, priority=0 actions=");
    expect(r25.out).toMatch(/ table=40, priority=0 actions=resubmit\(,42\)/);
    expect(r23.out).toMatch(/ table=37, priority=0 actions=resubmit\(,39\)/);
    // Same flows renumbered, plus 24.03+'s physical.c loads of conntrack's original destination.
    expect(r25.out.split("\n").length).toBe(r23.out.split("\n").length + 3);
    expect(r25.out).toContain(
      " table=81, priority=100,ct_state=+est+trk,ip actions=move:NXM_NX_CT_NW_DST[]->NXM_NX_REG4[]",
    );
    expect(r23.out).not.toContain(" table=81,");
    const bad = await cli(["ovn-controller", "--sb", sb, "--node", node, "--profile", "26.03"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/unknown ovn-controller release or profile "26.03"/);
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

  it("--out keeps the meters; the HA bundle skips tunnels whose BFD is down (no LIVE), as OVS does", async () => {
    const g = join(GOLDEN, "meters-ha");
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-ctl-cli-"));
    const args = ["ovn-controller", "--sb", join(g, "sb"), "--node", join(g, "node"), "--out", dir];
    expect((await cli(args)).code).toBe(0);
    const meters = readFileSync(join(dir, "br-int.meters.txt"), "utf8");
    expect(meters).toBe(readFileSync(join(g, "node", "br-int.meters.txt"), "utf8"));
    // Table 39 sends to the unclaimed cr-lr0-ext over an active-backup bundle of the tunnels to
    // hv2 and hv3, which `ofctl show` prints without LIVE (BFD never comes up in the oracle): OVS
    // then outputs nowhere (member_enabled_cb; the live differential saw the real trace stop
    // there). The same action alone on br-int, traced with the members dead, then one LIVE:
    const real = readFileSync(join(g, "node", "br-int.flows.txt"), "utf8");
    expect(real).toContain("bundle(eth_src,0,active_backup,ofport,members:1,2)");
    writeFileSync(
      join(dir, "br-int.flows.txt"),
      " cookie=0x0, priority=0 actions=bundle(eth_src,0,active_backup,ofport,members:1,2)\n",
    );
    const flow =
      "in_port=10,dl_src=0a:00:00:00:00:01,dl_dst=0a:00:00:00:ff:00,udp,nw_src=10.0.0.1,nw_dst=172.16.0.9";
    const dead = await cli(["ofproto-trace", "--bundle", dir, "br-int", flow]);
    expect(dead.out).toContain("Datapath actions: drop");
    const ports = readFileSync(join(dir, "br-int.ports.txt"), "utf8");
    writeFileSync(
      join(dir, "br-int.ports.txt"),
      ports.replace(/(2\(ovn-hv3-0\)[^\n]*\n[^\n]*\n\s*state:\s*)0/, "$1LIVE"),
    );
    const live = await cli(["ofproto-trace", "--bundle", dir, "br-int", flow]);
    expect(live.out).not.toContain("Datapath actions: drop");
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
