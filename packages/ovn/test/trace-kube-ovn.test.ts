// The seed scenario's logical part under the Kube-OVN profiles, traced on a chassis:
// localnet → pre_lb → pre_stateful → ls_in_lb 140 (prefer-local, is_chassis_resident) →
// l2_lkup 55 (ls_dnat_mod_dl_dst) → egress → pod; and with ls_ct_skip_dst_lport_ips=true the
// VIP is never DNATed (pre_lb 105), so the packet dies at the pod's port security, as on a real
// Kube-OVN cluster. Uses ovnsim's northd (the patched flows no real 23.03 northd emits).
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseNbctl } from "../src/nb/nbctl.js";
import { northd } from "../src/northd/compile.js";
import { sbModelFromNb } from "../src/sb/from-nb.js";
import { LogicalNetwork } from "../src/trace/exec.js";
import { renderTrace } from "../src/trace/render.js";

const CONFIG = readFileSync(path.resolve(import.meta.dirname, "trace-kube-ovn-seed.nbctl"), "utf8");
const MF =
  'inport=="localnet.underlay-subnet" && eth.src==00:00:5e:00:53:01 && eth.dst==0a:58:0a:b4:cc:0b && ip4.src==10.180.204.50 && ip4.dst==10.180.204.252 && tcp.src==40000 && tcp.dst==80 && ip.ttl==64';
const CT = ["new", "new", "new"];

function network(profile: "kube-ovn-1.14" | "kube-ovn-1.15", chassis: string, skip = false): LogicalNetwork {
  const text = skip
    ? CONFIG.replace("ls_ct_skip_dst_lport_ips=false", "ls_ct_skip_dst_lport_ips=true")
    : CONFIG;
  const db = parseNbctl(text, { file: "trace-kube-ovn-seed.nbctl" });
  return new LogicalNetwork(sbModelFromNb(db, northd(db, profile)), chassis);
}

describe.each(["kube-ovn-1.14", "kube-ovn-1.15"] as const)("seed under %s", (profile) => {
  it("on the VIP/backend node: ls_in_lb 140 → local backend → l2_lkup 55 → pod", () => {
    for (const k of [0, 1]) {
      const r = network(profile, "node1").trace("underlay-subnet", MF, { ct: CT, chooseBackend: () => k });
      const text = renderTrace(r);
      expect(text).toMatch(
        /ls_in_lb: ct\.new && ip4\.dst == 10\.180\.204\.252 && tcp\.dst == 80 && is_chassis_resident\("[^"]+"\), priority 140/,
      );
      expect(text).toMatch(/ls_in_l2_lkup: reg0\[2\] != 0 && ip4\.dst == 10\.180\.204\.1[12], priority 55/);
      expect(r.outputs).toEqual([k === 0 ? "nginx-0.default" : "nginx-1.default"]);
    }
  });
  it("with ls_ct_skip_dst_lport_ips=true there is no DNAT and the pod's port security drops the packet", () => {
    const r = network(profile, "node1", true).trace("underlay-subnet", MF, { ct: CT });
    const text = renderTrace(r);
    expect(text).toContain("ls_in_pre_lb: ip4 && ip4.dst == 10.180.204.0/24, priority 105");
    expect(text).not.toMatch(/ct_lb(_mark)?\(backends/);
    expect(text).toContain("reg0[15] = check_out_port_sec();");
    expect(r.dropped).toBe(true);
  });
});

describe("prefer-local on the other chassis", () => {
  it("1.14: node2's own backend", () => {
    const r = network("kube-ovn-1.14", "node2").trace("underlay-subnet", MF, { ct: CT });
    expect(renderTrace(r)).toContain("ct_lb(backends=10.180.204.13:80);");
    expect(r.outputs).toEqual(["nginx-2.default"]);
  });
  it("1.15: only the VIP node balances; elsewhere the 139 flow blocks the generic 120 flow", () => {
    const r = network("kube-ovn-1.15", "node2").trace("underlay-subnet", MF, { ct: CT });
    expect(renderTrace(r)).toContain("tcp.dst == 80, priority 139");
    expect(r.dropped).toBe(true);
  });
});
