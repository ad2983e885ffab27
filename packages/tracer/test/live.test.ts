/**
 * Live differential test against the real tools (OVS 3.1, OVN 23.03, in a userspace sandbox):
 * - the NB commands @ovnsim/kube derives are accepted by the real ovn-nbctl/ovn-sbctl and give
 *   the same rows (LB vips, prefer_local_backend, ip_port_mappings, the VIP-node marker,
 *   localnet tag/ipv4_network);
 * - node3's br-provider and br-int as derived (ports, patch ports, kube-ovn-cni's VIP flow,
 *   the localnet entry) load into the real ovs-vswitchd, and the real `ofproto/trace` of the
 *   client's SYN agrees with ovnsim's on the rules hit, bridges crossed and datapath actions.
 */
import { deriveNbctl, deriveNodeDataplane, scenarioFromTexts } from "@ovnsim/kube";
import { oracleGate, type Sandbox, startSandbox } from "@ovnsim/oracle";
import { makeFlow, parseIp4, parseMac } from "@ovnsim/packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildNodeOvs, runBridge } from "../src/index.js";
import { edited, seedTexts } from "./helpers.js";

const gate = oracleGate("ovs", "ovn");
let sb: Sandbox | undefined;
const sh = (cmd: string): string => {
  if (!sb) throw new Error("the oracle sandbox did not start");
  return sb.run("sh", ["-c", cmd]);
};
/** An OVSDB atom as ovn-nbctl prints it, without the quotes it adds only when needed. */
const atom = (cmd: string): string =>
  sh(cmd)
    .trim()
    .replace(/^"(.*)"$/, "$1");

describe.skipIf(gate.skip)("live: derived state in the real OVS/OVN", () => {
  beforeAll(() => {
    gate.assert();
    sb = startSandbox({ name: "tracer" });
  });
  afterAll(() => sb?.stop());

  it("ovn-nbctl accepts the derived NB (1.15 marker variant) and stores the same rows", () => {
    const s = scenarioFromTexts(
      edited(["kube-ovn:v1.14.5", "kube-ovn:v1.15.20"], ['version: "0.13.7"', 'version: "0.14.9"']),
    );
    const lines = deriveNbctl(s).filter((l) => /^ovn-(nb|sb)ctl /.test(l));
    sh(lines.map((l) => l.replace(/^ovn-nbctl /, "ovn-nbctl --no-wait ")).join("\n"));
    const lb = "cluster-tcp-loadbalancer";
    expect(sh(`ovn-nbctl get Load_Balancer ${lb} vips`).trim()).toBe(
      '{"10.180.204.252:80"="10.180.204.2:80,10.180.204.3:80,10.180.204.4:80"}',
    );
    expect(atom(`ovn-nbctl get Load_Balancer ${lb} options:prefer_local_backend`)).toBe("true");
    expect(atom(`ovn-nbctl get Load_Balancer ${lb} ip_port_mappings:10.180.204.4`)).toBe(
      "deploy-169402624-2.default:0.0.0.0",
    );
    expect(
      atom(
        `ovn-nbctl get Load_Balancer ${lb} 'external_ids:"kube-ovn.io/local-external-vip/10.180.204.252:80"'`,
      ),
    ).toBe("node-node3");
    expect(atom("ovn-nbctl get Logical_Switch_Port localnet.underlay-subnet tag")).toBe("341");
    expect(atom("ovn-nbctl get NB_Global . options:ls_ct_skip_dst_lport_ips")).toBe("false");
    expect(atom("ovn-sbctl get Chassis node3 other_config:ovn-ct-lb-related")).toBe("true");
  });

  it("ofproto/trace of the client's SYN through node3's br-provider → br-int agrees", () => {
    const s = scenarioFromTexts(seedTexts());
    const dp = deriveNodeDataplane(s, "node3");
    for (const b of dp.bridges) {
      const cmds = [`ovs-vsctl add-br ${b.name} -- set bridge ${b.name} datapath_type=dummy`];
      for (const p of b.ports) {
        if (p.ofport === 0xfffe) {
          if (p.tag !== undefined) cmds.push(`ovs-vsctl set port ${b.name} tag=${p.tag}`);
          continue;
        }
        const type = p.type === "patch" ? `type=patch options:peer=${p.peer}` : "type=dummy";
        const vlan = p.trunks?.length ? ` -- set port ${p.name} trunks=${p.trunks.join(",")}` : "";
        cmds.push(
          `ovs-vsctl add-port ${b.name} ${p.name} -- set interface ${p.name} ${type} ofport_request=${p.ofport}${vlan}`,
        );
      }
      cmds.push(`ovs-ofctl del-flows ${b.name}`);
      for (const f of b.flows) cmds.push(`ovs-ofctl add-flow ${b.name} '${f}'`);
      sh(cmds.join(" && "));
    }
    const flowText =
      "in_port=1,dl_vlan=341,dl_src=52:54:00:ff:00:01,dl_dst=52:54:00:0a:00:03,tcp,nw_src=192.0.2.10,nw_dst=10.180.204.252,nw_ttl=63,tp_src=40000,tp_dst=80,tcp_flags=syn";
    const real = sh(`ovs-appctl ofproto/trace br-provider '${flowText}'`);
    const ours = runBridge(
      buildNodeOvs(s, "node3"),
      "br-provider",
      "underlay0",
      makeFlow({
        dl_src: parseMac("52:54:00:ff:00:01"),
        dl_dst: parseMac("52:54:00:0a:00:03"),
        vlans: [{ tpid: 0x8100, pcp: 0, vid: 341 }],
        dl_type: 0x0800,
        nw_src: parseIp4("192.0.2.10"),
        nw_dst: parseIp4("10.180.204.252"),
        nw_proto: 6,
        nw_ttl: 63,
        tp_src: 40000,
        tp_dst: 80,
        tcp_flags: 2,
      }),
    );
    const pick = (t: string, re: RegExp) => (re.exec(t)?.[1] ?? "").trim();
    const bridges = (t: string) => [...t.matchAll(/^bridge\("([^"]+)"\)$/gm)].map((m) => m[1]);
    const rules = (t: string) =>
      [...t.matchAll(/^ {0,2}(\d+)\. (.*), priority (\d+)/gm)].map((m) => `${m[1]}:${m[3]}`);
    expect(bridges(ours.text)).toEqual(bridges(real));
    expect(rules(ours.text)).toEqual(rules(real));
    expect(pick(ours.text, /^Datapath actions: (.*)$/m)).toBe(pick(real, /^Datapath actions: (.*)$/m));
  });
});
