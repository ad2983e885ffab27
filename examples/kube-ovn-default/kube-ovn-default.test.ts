// Example: Kube-OVN's default topology (config.nbctl) traced pod → pod across subnets, pod →
// node and underlay (U2O) → node, with ovnsim's northd (ovn-23.03) and ovn-trace; each trace
// must read as real ovn-trace 23.03 printed it over real ovn-northd (recorded beside this file
// by packages/ovn/scripts/record-trace.sh; flow uuids and source hints masked).
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import {
  LogicalNetwork,
  northd,
  parseNbctl,
  parseOvnTraceArgs,
  readSbBundle,
  renderTrace,
  sbModelFromNb,
} from "@ovnsim/ovn";
import { describe, expect, it } from "vitest";

const HERE = import.meta.dirname;
const db = parseNbctl(readFileSync(path.join(HERE, "config.nbctl"), "utf8"), { file: "config.nbctl" });
const fromNb = new LogicalNetwork(sbModelFromNb(db, northd(db, "ovn-23.03")));
const sbDir = path.join(HERE, "sb");
const fromSb = new LogicalNetwork(
  readSbBundle(
    Object.fromEntries(readdirSync(sbDir).map((f) => [f, readFileSync(path.join(sbDir, f), "utf8")])),
  ),
);
const mask = (s: string): string =>
  s.replace(/ \(northd\.c:\d+\)/g, "").replace(/, uuid [0-9a-f]{8}/g, ", uuid X");

function args(header: string): string[] {
  const out: string[] = [];
  const re = /'((?:[^']|'\\'')*)'/g;
  for (let m = re.exec(header); m; m = re.exec(header)) out.push((m[1] as string).replaceAll("'\\''", "'"));
  return out;
}

function trace(net: LogicalNetwork, file: string): { got: string; expected: string } {
  const [header, ...rest] = readFileSync(path.join(HERE, file), "utf8").split("\n");
  const a = parseOvnTraceArgs(args(header as string));
  const r = net.trace(a.datapath, a.microflow, {
    ct: a.ct,
    ...(a.lbDst !== undefined ? { lbDst: a.lbDst } : {}),
  });
  return { got: mask(renderTrace(r, a.modes)), expected: mask(rest.join("\n")) };
}

const files = readdirSync(HERE).filter((f) => /\.(detailed|summary|minimal)\.txt$/.test(f));

describe("Kube-OVN default topology (ovn-cluster, join, ovn-default, app, U2O underlay)", () => {
  it.each(files)("%s: ovnsim northd + ovn-trace print what the real ones print", (f) => {
    const { got, expected } = trace(fromNb, f);
    expect(got).toBe(expected);
  });
  it.each(files)("%s: ovnsim ovn-trace over the real southbound agrees too", (f) => {
    const { got, expected } = trace(fromSb, f);
    expect(got).toBe(expected);
  });
  it("pod → pod across subnets: policy 31000 allows, the router resolves the pod's MAC statically", () => {
    const { got } = trace(fromNb, "pod-to-pod.detailed.txt");
    expect(got).toContain("lr_in_policy: ip4.dst == 10.17.0.0/16, priority 31000");
    expect(got).toContain('lr_in_arp_resolve: outport == "ovn-cluster-app" && reg0 == 10.17.0.10');
    expect(got).toContain('outport="nginx-5f8c9d7b4-k7p2q.default"');
  });
  it("kube-ovn #4786/#3257: U2O policy 31000 on u2o_exclude_ip sends underlay → node traffic to the physical gateway", () => {
    const { got } = trace(fromNb, "u2o-to-node.detailed.txt");
    expect(got).toContain(
      "ip4.dst == $underlay.u2o_exclude_ip.ip4 && ip4.src == 10.180.204.0/24, priority 31000",
    );
    expect(got).toContain("reg0 = 10.180.204.1;");
    expect(got).not.toContain('outport="node-kube-ovn-control-plane"');
    // while an overlay pod reaches the same node through its join port (policy 30000)
    const pod = trace(fromNb, "pod-to-node.detailed.txt").got;
    expect(pod).toContain("lr_in_policy: ip4.dst == 172.18.0.2, priority 30000");
    expect(pod).toContain('outport="node-kube-ovn-control-plane"');
  });
});
