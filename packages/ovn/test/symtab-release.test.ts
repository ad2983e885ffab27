// One symbol table per release (lib/logical-fields.c ovn_init_symtab, lib/actions.c): 23.03
// refuses what 24.03/25.03 added with its own "expecting field name", while 25.03's northd
// output (persist-established, ACL observation and ACL ids in ct_mark/ct_label, ct_nw_dst())
// parses and runs under the 25.03 table.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseActions } from "../src/actions/parse.js";
import { parseExpr } from "../src/expr/parse.js";
import { SYMTAB, symtabFor } from "../src/expr/symtab.js";
import { parseNbctl } from "../src/nb/nbctl.js";
import { northd } from "../src/northd/compile.js";
import { sbModelFromNb } from "../src/sb/from-nb.js";
import { LogicalNetwork } from "../src/trace/exec.js";
import { renderTrace } from "../src/trace/render.js";

const refused = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return (e as Error).message;
  }
  return "accepted";
};

describe("symbol table per release", () => {
  it("each release names only its own logical flags (23.03.1: five; 24.03 and 25.03 add theirs)", () => {
    const named: Record<number, string[]> = {
      23: ["loopback", "force_snat_for_dnat", "force_snat_for_lb", "skip_snat_for_lb", "use_snat_zone"],
      24: ["localnet", "tunnel_rx", "icmp_snat", "from_ctrl", "network_id"],
      25: ["unsnat_new", "unsnat_not_tracked"],
    };
    for (const ovn of [23, 24, 25]) {
      const symtab = symtabFor(ovn);
      for (const [since, flags] of Object.entries(named))
        for (const f of flags) {
          const r = refused(() => parseExpr(`flags.${f} == 1`, { symtab }));
          if (Number(since) <= ovn) expect(r, `${ovn}: flags.${f}`).toBe("accepted");
          else expect(r, `${ovn}: flags.${f}`).toMatch(`Syntax error at \`flags.${f}' expecting field name.`);
        }
      // Not in any of these releases (25.09 added igmp_loopback).
      expect(refused(() => parseExpr("flags.igmp_loopback == 1", { symtab }))).not.toBe("accepted");
    }
    expect(symtabFor(24).get("flags.localnet")).toMatchObject({ ofs: 15, width: 1 });
    expect(symtabFor(25).get("flags.network_id")).toMatchObject({ ofs: 28, width: 4 });
  });

  it("23.03 refuses 24.03/25.03's fields and functions as its ovn-trace does", () => {
    expect(SYMTAB).toBe(symtabFor(23));
    for (const f of [
      "ct_mark.obs_stage",
      "ct_mark.allow_established",
      "ct_label.acl_id",
      "ct_label.obs_point_id",
    ])
      expect(refused(() => parseExpr(`${f} == 1`))).toMatch(`Syntax error at \`${f}' expecting field name.`);
    expect(refused(() => parseActions("reg1 = ct_nw_dst(); next;"))).toMatch(
      "Syntax error at `ct_nw_dst' expecting field name.",
    );
  });

  it("24.03 has ct_nw_dst()/ct_ip6_dst()/ct_tp_dst() but not 24.09's ct_mark bits", () => {
    const t = symtabFor(24);
    for (const fn of ["ct_nw_dst", "ct_tp_dst"])
      expect(parseActions(`reg1 = ${fn}();`, { symtab: t })[0]).toMatchObject({ t: "result", fn });
    expect(refused(() => parseExpr("ct_mark.allow_established == 1", { symtab: t }))).toMatch(
      "expecting field name",
    );
    expect(t.get("ct_label.blocked")?.ofs).toBe(0);
  });

  it("25.03 places the new bits as include/ovn/logical-fields.h does, and drops ct_label's copies", () => {
    const t = symtabFor(25);
    const at = (n: string) => [t.get(n)?.base?.mf, t.get(n)?.ofs, t.get(n)?.width];
    expect(at("ct_mark.obs_stage")).toEqual(["ct_mark", 4, 2]);
    expect(at("ct_mark.allow_established")).toEqual(["ct_mark", 6, 1]);
    expect(at("ct_mark.obs_collector_id")).toEqual(["ct_mark", 16, 8]);
    expect(at("ct_label.obs_point_id")).toEqual(["ct_label", 96, 32]);
    expect(at("ct_label.obs_unused")).toEqual(["ct_label", 0, 96]);
    expect(at("ct_label.acl_id")).toEqual(["ct_label", 80, 16]);
    for (const gone of ["ct_label.blocked", "ct_label.natted", "ct_label.ecmp_reply_port"])
      expect(refused(() => parseExpr(`${gone} == 1`, { symtab: t }))).toMatch("expecting field name");
    expect(parseExpr("ct.est && ct_mark.allow_established == 1", { symtab: t })).toBeTruthy();
  });

  it("ovn-trace: 25.03's northd output parses under 25.03 (23.03 leaves those lflows out) and executes", () => {
    const text = readFileSync(path.join(import.meta.dirname, "trace-kube-ovn-seed.nbctl"), "utf8");
    const db = parseNbctl(text, { file: "seed.nbctl" });
    const sb = sbModelFromNb(db, northd(db, "kube-ovn-1.15"));
    const old = new LogicalNetwork(sb, "node1").unparsedFlows().map((u) => u.flow.stage);
    expect(old).toContain("ls_in_stateful");
    expect(old).toContain("ls_in_lb");
    const net = new LogicalNetwork(sb, "node1", { ovn: 25 });
    expect(net.unparsedFlows()).toEqual([]);
    const r = net.trace(
      "underlay-subnet",
      'inport == "nginx-0.default" && eth.src == 0a:58:0a:b4:cc:0b && eth.dst == 0a:58:0a:b4:cc:0c && ip4.src == 10.180.204.11 && ip4.dst == 10.180.204.12 && ip.ttl == 64 && tcp && tcp.src == 40000 && tcp.dst == 80',
      { ct: ["new"] },
    );
    const out = renderTrace(r, ["detailed"]);
    expect(out).toContain("ct_mark.allow_established = reg0[20]");
    expect(out).toContain('output to "nginx-1.default"');
  });
});
