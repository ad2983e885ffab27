// Chassis-aware tracing of Kube-OVN's patched flows as they appear in a captured SB bundle:
// the seed bundle recorded from real OVN 23.03 plus the flows Kube-OVN's northd patches add
// (prefer_local_backend ls_in_lb 140 per chassis, ls_dnat_mod_dl_dst ls_in_l2_lkup 55, and
// ls_ct_skip_dst_lport_ips ls_in_pre_lb 105), with pods bound to chassis node1/node2.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { readSbBundle } from "../src/sb/model.js";
import { LogicalNetwork } from "../src/trace/exec.js";
import { renderTrace } from "../src/trace/render.js";

const SEED = path.resolve(import.meta.dirname, "golden/trace/seed/sb");
const VIP_FLOW =
  'inport=="localnet-port" && eth.src==00:00:5e:00:53:01 && eth.dst==0a:58:0a:b4:cc:0b && ip4.src==10.180.204.50 && ip4.dst==10.180.204.252 && tcp.src==40000 && tcp.dst==80 && ip.ttl==64';

function patchedBundle(opts: { skipDstLportIps: boolean }): Record<string, string> {
  const files: Record<string, string> = {};
  for (const f of readdirSync(SEED)) files[f] = readFileSync(path.join(SEED, f), "utf8");
  const lines = files["lflow-list.txt"]!.split("\n");
  const add = (afterRe: RegExp, line: string): void => {
    const i = lines.findIndex((l) => afterRe.test(l));
    lines.splice(i, 0, line);
  };
  // prefer_local_backend (release-1.14 form): one 140 flow per chassis with backends.
  add(
    /ls_in_lb\s*\), priority=120/,
    '  uuid=0xaaaa0001, table=12(ls_in_lb           ), priority=140  , match=(ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80 && is_chassis_resident("pod1")), action=(reg1 = 10.180.204.252; reg2[0..15] = 80; ct_lb_mark(backends=10.180.204.11:80,10.180.204.12:80);)',
  );
  add(
    /ls_in_lb\s*\), priority=120/,
    '  uuid=0xaaaa0002, table=12(ls_in_lb           ), priority=140  , match=(ct.new && ip4.dst == 10.180.204.252 && tcp.dst == 80 && is_chassis_resident("pod3")), action=(reg1 = 10.180.204.252; reg2[0..15] = 80; ct_lb_mark(backends=10.180.204.13:80);)',
  );
  // ls_dnat_mod_dl_dst: l2_lkup 55 per single-address VIF.
  ["0b", "0c", "0d"].forEach((m, i) => {
    add(
      /ls_in_l2_lkup\s*\), priority=50/,
      `  uuid=0xbbbb000${i}, table=25(ls_in_l2_lkup      ), priority=55   , match=(reg0[2] != 0 && ip4.dst == 10.180.204.1${i + 1}), action=(eth.dst = 0a:58:0a:b4:cc:${m}; outport = "pod${i + 1}"; output;)`,
    );
  });
  if (opts.skipDstLportIps) {
    add(
      /ls_in_pre_lb\s*\), priority=100/,
      "  uuid=0xcccc0001, table=5 (ls_in_pre_lb       ), priority=105  , match=(ip4 && ip4.dst == 10.180.204.0/24), action=(next;)",
    );
  }
  files["lflow-list.txt"] = lines.join("\n");
  files["chassis.txt"] =
    "_uuid               : 11111111-0000-0000-0000-000000000001\nname                : node1\nhostname            : node1\n\n_uuid               : 11111111-0000-0000-0000-000000000002\nname                : node2\nhostname            : node2\n";
  const chassisOf: Record<string, string> = {
    pod1: "11111111-0000-0000-0000-000000000001",
    pod2: "11111111-0000-0000-0000-000000000001",
    pod3: "11111111-0000-0000-0000-000000000002",
  };
  files["port-binding.txt"] = files["port-binding.txt"]!.split("\n\n")
    .map((rec) => {
      const name = /logical_port\s*:\s*(\S+)/.exec(rec)?.[1];
      const ch = name ? chassisOf[name] : undefined;
      return ch ? rec.replace(/^chassis\s*: \[\]/m, `chassis             : ${ch}`) : rec;
    })
    .join("\n\n");
  delete files["logical-flow.txt"]; // keep the lflow-list order for the added flows
  return files;
}

describe("chassis-aware trace of Kube-OVN's patched flows", () => {
  const net = (chassis?: string, skip = false): LogicalNetwork =>
    new LogicalNetwork(readSbBundle(patchedBundle({ skipDstLportIps: skip })), chassis);

  it("on node2 the 140 flow picks node2's local backend and l2_lkup 55 delivers it to pod3", () => {
    const r = net("node2").trace("underlay-subnet", VIP_FLOW, { ct: ["new", "new", "new"] });
    const text = renderTrace(r);
    if (process.env.DBG) console.log(text);
    expect(text).toContain('is_chassis_resident("pod3"), priority 140');
    expect(text).toContain("ct_lb_mark(backends=10.180.204.13:80);");
    expect(text).toContain("priority 55");
    expect(r.outputs).toEqual(["pod3"]);
  });

  it("on node1 only node1's backends are candidates, and the packet is not dropped", () => {
    for (const k of [0, 1]) {
      const r = net("node1").trace("underlay-subnet", VIP_FLOW, {
        ct: ["new", "new", "new"],
        chooseBackend: () => k,
      });
      expect(renderTrace(r)).toContain('is_chassis_resident("pod1"), priority 140');
      expect(r.outputs).toEqual([k === 0 ? "pod1" : "pod2"]);
    }
  });

  it("the chassis can also be given per trace", () => {
    const r = net().trace("underlay-subnet", VIP_FLOW, { ct: ["new", "new", "new"], chassis: "node2" });
    expect(r.outputs).toEqual(["pod3"]);
  });
  it("a chassis without local backends falls back to the generic 120 flow", () => {
    const r = net("node3").trace("underlay-subnet", VIP_FLOW, { ct: ["new", "new", "new"] });
    expect(renderTrace(r)).toContain("tcp.dst == 80, priority 120");
  });

  it("without --chassis every port is resident (ovn-trace): the first 140 flow wins", () => {
    const r = net().trace("underlay-subnet", VIP_FLOW, { ct: ["new", "new", "new"] });
    expect(renderTrace(r)).toContain("priority 140");
  });

  it("with ls_ct_skip_dst_lport_ips=true the VIP is never DNATed and pod1's port security drops it", () => {
    const r = net("node2", true).trace("underlay-subnet", VIP_FLOW, { ct: ["new", "new", "new"] });
    const text = renderTrace(r);
    expect(text).toContain("ls_in_pre_lb: ip4 && ip4.dst == 10.180.204.0/24, priority 105");
    expect(text).not.toContain("ct_lb_mark(backends");
    expect(r.outputs).toEqual([]);
    expect(r.dropped).toBe(true);
  });
});
