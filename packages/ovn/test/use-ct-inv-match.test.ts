// NB_Global options:use_ct_inv_match=false (Kube-OVN sets it): northd 23.03/24.03 leave ct.inv
// out of the ACL stage's invalid / established / related matches. Checked against the real
// ovn-northd 23.03 by packages/tracer/test/cluster-live.test.ts (Kube-OVN's cluster NB).
import { describe, expect, it } from "vitest";
import { northd, parseNbctl } from "../src/northd/index.js";

const base = [
  "ls-add s",
  'lsp-add s p1 -- lsp-set-addresses p1 "0a:00:00:00:00:01 10.0.0.2"',
  "lb-add lb 10.96.0.1:80 10.0.0.2:8080 tcp",
  "ls-lb-add s lb",
];

describe("use_ct_inv_match", () => {
  for (const profile of ["ovn-23.03", "ovn-24.03"] as const) {
    it(`${profile}: default keeps ct.inv; "false" drops it`, () => {
      const on = northd(parseNbctl(base.join("\n")), profile).flows.filter((f) => f.stage.includes("acl"));
      const off = northd(
        parseNbctl([...base, "set NB_Global . options:use_ct_inv_match=false"].join("\n")),
        profile,
      ).flows.filter((f) => f.stage.includes("acl"));
      expect(on.some((f) => f.match.includes("ct.inv"))).toBe(true);
      expect(off.some((f) => f.match.includes("ct.inv"))).toBe(false);
      expect(off.map((f) => f.match)).toContain("(ct.est && ct.rpl && ct_mark.blocked == 1)");
      expect(on.length).toBe(off.length);
    });
  }
});
