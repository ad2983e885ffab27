// Goldens recorded from the real ovn-controller 23.03.1 (scripts/record-golden.sh): the SB and
// node captures go in, and br-int's flows must come out text-identical, cookies included.
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compareDumps, flowLines, ovnController } from "../src/index.js";
import { GOLDEN, loadDir } from "./load.js";

function run(name: string) {
  const node = loadDir(join(GOLDEN, name, "node"));
  const out = ovnController({ sb: loadDir(join(GOLDEN, name, "sb")), node });
  const cmp = compareDumps(flowLines(node["br-int.flows.txt"]!), out.flows);
  return { node, out, cmp };
}

describe("br-int flows vs the real ovn-controller 23.03", () => {
  it("seed (localnet tag 341, 3 VIFs, TCP LB): every flow and the LB group identical", () => {
    const { node, out, cmp } = run("seed");
    expect(cmp.missing).toEqual([]);
    expect(cmp.unexpected).toEqual([]);
    expect(cmp.identical).toBe(270);
    expect(out.skipped).toEqual([]);
    const groups = node["br-int.groups.txt"]!.split("\n").filter((l) => l.includes("group_id="));
    expect(out.groups).toEqual(groups);
  });

  it("acl (port group + address sets → conjunctions, ranges, untagged localnet, IPv6 nd_na)", () => {
    const { out, cmp } = run("acl");
    expect(cmp.unexpected).toEqual([]);
    expect(cmp.missing).toEqual([]);
    expect(out.skipped).toEqual([]);
    expect(cmp.identical).toBe(365);
    // nd_na { … } travels as OpenFlow 1.5 bytes in controller(userdata=00.00.00.03.…).
    expect(out.flows.filter((l) => l.includes("controller(userdata=00.00.00.03.")).length).toBe(6);
    // Conjunction ids are OVN's: hash_int(lflow uuid[0], datapath uuid[0]).
    expect(out.flows.filter((l) => l.includes("conj_id=")).length).toBe(4);
  });

  it("remote (hv2 over Geneve: via the localnet on ls1, via the tunnel on ls2): identical", () => {
    const { out, cmp } = run("remote");
    expect(cmp.missing).toEqual([]);
    expect(cmp.unexpected).toEqual([]);
    expect(cmp.identical).toBe(285);
    expect(out.skipped).toEqual([]);
  });

  it("router (distributed router with a gateway port here, NAT, LB, IPv6; gateway router gr0; MAC bindings): identical", () => {
    const { node, out, cmp } = run("router");
    expect(cmp.missing).toEqual([]);
    expect(cmp.unexpected).toEqual([]);
    expect(cmp.identical).toBe(933);
    expect(out.skipped).toEqual([]);
    const groups = node["br-int.groups.txt"]!.split("\n").filter((l) => l.includes("group_id="));
    expect(out.groups).toEqual(groups);
    // A logical patch port re-enters the peer's ingress pipeline in a clone (table 65).
    expect(out.flows.filter((l) => l.includes("table=65") && l.includes("clone(ct_clear")).length).toBe(8);
    // The chassisredirect port hosted here becomes its distributed port (table 40).
    expect(
      out.flows.some((l) =>
        /table=40, priority=100,reg15=0x4,metadata=0x5 actions=set_field:0x3->reg15/.test(l),
      ),
    ).toBe(true);
    // Learned and static MAC bindings (priority 100 / 50) fill tables 66 and 67.
    expect(out.flows.filter((l) => /table=6[67],/.test(l)).length).toBe(6);
  });

  it("meters-ha (ACL log meter, CoPP, an HA chassis group of three, a ct_nw_dst ACL): identical", () => {
    const { node, out, cmp } = run("meters-ha");
    expect(cmp.missing).toEqual([]);
    expect(cmp.unexpected).toEqual([]);
    expect(cmp.identical).toBe(518);
    // The meter: one id for m1, its unit, burst and band as dump-meters prints them.
    const real = node["br-int.meters.txt"]!.replace(/^OFPST_METER_CONFIG.*\n/, "").trim();
    expect(out.meters.join("\n\n")).toBe(real);
    // log(severity=warning, name="ssh", meter="m1") → opcode 7, allow (0), warning (4), "ssh".
    expect(
      out.flows.some((l) =>
        l.includes("controller(userdata=00.00.00.07.00.00.00.00.00.04.73.73.68,meter_id=1)"),
      ),
    ).toBe(true);
    // CoPP: put_arp's controller action carries the router's meter.
    expect(out.flows.some((l) => l.includes("controller(userdata=00.00.00.01.00.00.00.00,meter_id=1)"))).toBe(
      true,
    );
    // Nobody claims cr-lr0-ext: an active-backup bundle to hv2 (30) then hv3 (10), hv1 skipped.
    expect(
      out.flows.filter((l) => l.includes("bundle(eth_src,0,active_backup,ofport,members:1,2)")).length,
    ).toBe(1);
    // ct_nw_dst is no 23.03 match field: both ACL flows are skipped, as the real daemon does.
    expect(out.skipped.map((s) => s.reason)).toEqual([
      "Syntax error at `ct_nw_dst' expecting field name.",
      "Syntax error at `ct_nw_dst' expecting field name.",
    ]);
  });

  it("ipv6 (an IPv4 and an IPv6 LB VIP, ACLs on $as6 / $pg1_ip6, reject ACLs): identical", () => {
    const { node, out, cmp } = run("ipv6");
    expect(cmp.missing).toEqual([]);
    expect(cmp.unexpected).toEqual([]);
    expect(cmp.identical).toBe(290);
    expect(out.skipped).toEqual([]);
    // dump-groups prints in the datapath's hash order: the same groups, ids included.
    const groups = node["br-int.groups.txt"]!.split("\n").filter((l) => l.includes("group_id="));
    expect([...out.groups].sort()).toEqual([...groups].sort());
    // The IPv6 VIP's hairpin flows: the VIP in xxreg1 (printed as reg4–reg7), per backend.
    const hairpin6 = out.flows.filter((l) => /table=(68|70),/.test(l) && l.includes("tcp6"));
    expect(hairpin6.length).toBe(3);
    expect(hairpin6.every((l) => l.includes("reg4=0xfd000000,reg5=0,reg6=0,reg7=0x90009"))).toBe(true);
    expect(out.flows.some((l) => l.includes("nat(src=fd00::9:9)"))).toBe(true);
  });

  it("reject (ACL reject with log / meter / CoPP on a stateful switch): identical, ct(commit) lost after log()", () => {
    const { out, cmp } = run("reject");
    expect(cmp.missing).toEqual([]);
    expect(cmp.unexpected).toEqual([]);
    expect(cmp.identical).toBe(423);
    // 23.03's encode_CT_COMMIT_V2 bug: `log(…); ct_commit {…}; reg0 = 0; reject {…}` installs
    // the log's controller() and then the reject, without the ct(commit) (5 flows: 1 + 4 for
    // the port group's two ports, IPv4 and IPv6); without log() the ct(commit) is there.
    const rejects = out.flows.filter((l) => l.includes("controller(userdata=00.00.00.16."));
    // The stateful branch (reg0[10], "after ct_commit") of each reject ACL.
    const stateful = rejects.filter((l) => l.includes("reg0=0x400/0x400"));
    const logged = stateful.filter((l) => l.includes("controller(userdata=00.00.00.07."));
    expect(logged.length).toBe(5);
    expect(logged.every((l) => !l.includes("ct(commit"))).toBe(true);
    const plain = stateful.filter((l) => !l.includes("00.00.00.07."));
    expect(plain.length).toBeGreaterThan(0);
    expect(plain.every((l) => l.includes("ct(commit"))).toBe(true);
    // Fixed upstream (7b4395969; 24.03.3, 25.03): with a later release's profile it stays.
    const fixed = ovnController({
      sb: loadDir(join(GOLDEN, "reject", "sb")),
      node: loadDir(join(GOLDEN, "reject", "node")),
      profile: "25.03",
    }).flows.filter((l) => l.includes("reg0=0x400/0x400") && l.includes("controller(userdata=00.00.00.07."));
    expect(fixed.length).toBe(5);
    expect(fixed.every((l) => l.includes("ct(commit,zone=NXM_NX_REG13[0..15],nat(src)"))).toBe(true);
  });

  it("is deterministic: the same captures give the same text", () => {
    expect(run("acl").out.flows).toEqual(run("acl").out.flows);
  });
});
