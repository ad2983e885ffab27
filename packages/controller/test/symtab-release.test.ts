// OVN 24.09 moved the ACL bookkeeping into conntrack (persist-established, ACL observation,
// ACL ids) and 24.03 added the ct_nw_dst()/ct_ip6_dst()/ct_tp_dst() loads: each release's
// ovn-controller accepts only its own symbols. Kube-OVN 1.15's northd (25.03) writes them into
// ls_in/out_stateful and ls_in_lb; before the per-release symbol table those lflows were skipped.
import { parseActions, symtabFor } from "@ovnsim/ovn";
import { describe, expect, it } from "vitest";
import { encodeActions, OFTABLE_LAYOUTS } from "../src/index.js";

const env = (release: "24.03" | "25.03") => ({
  pipeline: "ingress" as const,
  table: 21,
  isSwitch: true,
  portKey: () => 1,
  groupId: () => 1,
  tables: OFTABLE_LAYOUTS[release],
});

describe("25.03's conntrack symbols in br-int", () => {
  it("ct_commit of the ACL bits writes ct_mark 4–6 / 16–23 and ct_label 80–127 as logical-fields.c places them", () => {
    const a = parseActions(
      "ct_commit { ct_mark.blocked = 0; ct_mark.allow_established = reg0[20]; ct_mark.obs_stage = reg8[19..20]; ct_mark.obs_collector_id = reg8[8..15]; ct_label.obs_point_id = reg9; ct_label.acl_id = reg2[16..31]; }; next;",
      { symtab: symtabFor(25) },
    );
    const of = encodeActions(a, env("25.03")).join(",");
    expect(of).toContain("move:NXM_NX_XXREG0[116]->NXM_NX_CT_MARK[6]");
    // reg8–9 are pkt_reg4's halves, reg0–3 xxreg0's, in OVN's symbol table as in OVS's printing.
    expect(of).toContain("move:OXM_OF_PKT_REG4[51..52]->NXM_NX_CT_MARK[4..5]");
    expect(of).toContain("move:OXM_OF_PKT_REG4[40..47]->NXM_NX_CT_MARK[16..23]");
    expect(of).toContain("move:OXM_OF_PKT_REG4[0..31]->NXM_NX_CT_LABEL[96..127]");
    expect(of).toContain("move:NXM_NX_XXREG0[48..63]->NXM_NX_CT_LABEL[80..95]");
  });

  it("ct_nw_dst() / ct_tp_dst() / ct_ip6_dst(): clear, look up (tables 81–83), move (encode_result_action___)", () => {
    const v4 = encodeActions(
      parseActions("reg1 = ct_nw_dst(); reg2[0..15] = ct_tp_dst(); next;", { symtab: symtabFor(25) }),
      env("25.03"),
    );
    expect(v4.slice(0, 6)).toEqual([
      "set_field:0->reg4",
      "resubmit(,81)",
      "move:NXM_NX_REG4[]->NXM_NX_XXREG0[64..95]",
      "set_field:0/0xffff->reg2",
      "resubmit(,83)",
      "move:NXM_NX_REG2[0..15]->NXM_NX_XXREG0[32..47]",
    ]);
    // 24.03 loads into REG_ORIG_DIP_IPV4 (reg1).
    const v24 = encodeActions(parseActions("reg4 = ct_nw_dst();", { symtab: symtabFor(24) }), env("24.03"));
    expect(v24).toEqual(["set_field:0->reg1", "resubmit(,81)", "move:NXM_NX_REG1[]->NXM_NX_XXREG1[96..127]"]);
    const v6 = encodeActions(parseActions("xxreg1 = ct_ip6_dst();", { symtab: symtabFor(25) }), env("25.03"));
    expect(v6.at(-2)).toBe("resubmit(,82)");
  });
});
