// An external client to an underlay pod's own address: the physical router ARPs for the pod on
// VLAN 341, the request enters br-provider → localnet → the logical switch, which (ls_in_arp_rsp
// skips requests from a localnet port) floods it to the pod, and the pod answers. ovnsim's
// ovn-trace of both ARP packets must print what the real ovn-trace 23.03 printed over the seed's
// NB (golden/underlay-arp), and the end-to-end trace must then reach the pod and come back.
import { readFileSync } from "node:fs";
import path from "node:path";
import { deriveClusterNbctl, loadScenario } from "@ovnsim/kube";
import { LogicalNetwork, northd, parseNbctl, renderTrace, sbModelFromNb } from "@ovnsim/ovn";
import { describe, expect, it } from "vitest";
import { traceScenario } from "../src/index.js";

const GOLDEN = path.resolve(import.meta.dirname, "golden/underlay-arp");
const mask = (s: string): string =>
  s
    .replace(/ \(northd\.c:\d+\)/g, "")
    .replace(/, uuid [0-9a-f]{8}/g, ", uuid X")
    .trimEnd();

describe("the router's ARP for an underlay pod, answered by the pod through OVN", () => {
  const s = loadScenario();
  const db = parseNbctl(deriveClusterNbctl(s).lines.join("\n"), { file: "seed" });
  const net = new LogicalNetwork(sbModelFromNb(db, northd(db, "ovn-23.03")));

  it("ovn-trace of the request from the localnet port = the real ovn-trace 23.03", () => {
    const r = net.trace(
      "underlay-subnet",
      'inport == "localnet.underlay-subnet" && eth.src == 52:54:00:ff:00:01 && eth.dst == ff:ff:ff:ff:ff:ff && arp.op == 1 && arp.sha == 52:54:00:ff:00:01 && arp.spa == 10.180.204.1 && arp.tha == 00:00:00:00:00:00 && arp.tpa == 10.180.204.2',
    );
    const real = readFileSync(path.join(GOLDEN, "arp-request-from-localnet.txt"), "utf8");
    expect(mask(renderTrace(r, ["detailed"]))).toBe(mask(real));
    expect(r.outputs).toContain("deploy-169402624-0.default");
    expect(r.outputs).not.toContain("localnet.underlay-subnet");
  });

  it("ovn-trace of the pod's reply = the real ovn-trace 23.03 (out of the localnet port)", () => {
    const r = net.trace(
      "underlay-subnet",
      'inport == "deploy-169402624-0.default" && eth.src == 00:00:00:b4:cc:02 && eth.dst == 52:54:00:ff:00:01 && arp.op == 2 && arp.sha == 00:00:00:b4:cc:02 && arp.spa == 10.180.204.2 && arp.tha == 52:54:00:ff:00:01 && arp.tpa == 10.180.204.1',
    );
    const real = readFileSync(path.join(GOLDEN, "arp-reply-from-pod.txt"), "utf8");
    expect(mask(renderTrace(r, ["detailed"]))).toBe(mask(real));
    expect(r.outputs).toEqual(["localnet.underlay-subnet"]);
  });

  it.each([
    ["10.180.204.2", "default/deploy-169402624-0", "node1", "00:00:00:b4:cc:02"],
    ["10.180.204.3", "default/deploy-169402624-1", "node2", "00:00:00:b4:cc:03"],
    ["10.180.204.4", "default/deploy-169402624-2", "node3", "00:00:00:b4:cc:04"],
  ])(
    "client → %s:80: the pod on its node answers the ARP, gets the SYN and its reply reaches the client",
    (ip, pod, node, mac) => {
      const doc = traceScenario(s, { from: "client", to: ip, port: 80 });
      expect(doc.verdict).toMatchObject({
        delivered: true,
        pod,
        node,
        clientIpPreserved: true,
        replyDelivered: true,
        replySourceIp: ip,
      });
      const text = JSON.stringify(doc.forward);
      // Only the node that holds the pod answers, through its patch port, with the pod's MAC.
      const answers = [...text.matchAll(/answers ARP: [0-9.]+ is-at [0-9a-f:]+/g)].map((m) => m[0]);
      expect(answers).toEqual([`answers ARP: ${ip} is-at ${mac}`]);
      const steps: { device?: string; where: string; summary: string }[] = [];
      const walk = (x: { device?: string; where: string; summary: string; children: readonly unknown[] }) => {
        steps.push(x);
        for (const c of x.children) walk(c as typeof x);
      };
      walk(doc.forward);
      expect(steps.filter((x) => x.summary.includes("answers ARP:")).map((x) => [x.device, x.where])).toEqual(
        [[node, "br-provider:patch-localnet.underlay-subnet-to-br-int"]],
      );
    },
  );

  it("an address no pod holds stays unanswered (nothing in OVN answers for it)", () => {
    const doc = traceScenario(s, { from: "client", to: "10.180.204.99", port: 80 });
    expect(doc.verdict.delivered).toBe(false);
    expect(doc.verdict.droppedAt?.reason).toContain("10.180.204.99 did not answer");
  });
});
