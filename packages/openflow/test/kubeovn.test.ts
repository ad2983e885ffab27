// The seed's br-provider program (Kube-OVN enableExternalLBAddress, kube-ovn-internals.md §1.1):
// cookie 0x1000 priority 10000 VIP flow + NORMAL on br-provider, patched into br-int.
import { join } from "node:path";
import { parseFlow } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import { loadBundle, renderTrace, traceFlow } from "../src/index.js";
import { normaliseRecirc, readCases } from "./harness.js";

const EXAMPLE = join(import.meta.dirname, "..", "examples", "kubeovn-br-provider");
const VIP_FLOW =
  "in_port=1,dl_vlan=341,dl_src=00:00:5e:00:53:01,dl_dst=00:00:5e:00:53:ff,tcp,nw_src=192.0.2.10,nw_dst=10.180.204.252,nw_ttl=64,tp_src=40000,tp_dst=80";

describe("Kube-OVN br-provider VIP flow", () => {
  const sw = loadBundle(EXAMPLE);
  it("steals VIP:80 into OVN through the patch port, into br-int", () => {
    const t = traceFlow(sw, "br-provider", parseFlow(VIP_FLOW));
    const pass = t.passes[0]!;
    const [br] = pass.nodes;
    expect(br?.text).toBe('bridge("br-provider")');
    const table0 = br!.subs[0]!;
    expect(table0.cookie).toBe("0x1000");
    expect(table0.priority).toBe(10000);
    const intoBrInt = table0.subs.find((n) => n.type === "bridge");
    expect(intoBrInt?.text).toBe('bridge("br-int")');
    expect(pass.datapathActions).toBe("set(eth(dst=00:00:00:01:00:01)),pop_vlan,10");
  });
  it("matches real OVS 3.1 for every recorded case (flooding ones: all but the datapath port order)", () => {
    for (const c of readCases(join(import.meta.dirname, "golden"), "kubeovn-seed")) {
      // NORMAL floods in OVS's internal bundle order (heap-pointer hash), which no capture shows.
      const strip = (s: string): string =>
        c.expected.includes("flooding") ? s.replace(/^Datapath actions: .*$/m, "") : s;
      const ctNext: number[] = [];
      const out = renderTrace(traceFlow(sw, c.args[0]!, parseFlow(c.args[1]!), { ctNext }));
      expect(strip(normaliseRecirc(out))).toBe(strip(normaliseRecirc(c.expected)));
    }
  });
  it("other traffic keeps NORMAL", () => {
    const t = traceFlow(sw, "br-provider", parseFlow(VIP_FLOW.replace("tp_dst=80", "tp_dst=443")));
    expect(t.passes[0]!.nodes[0]!.subs[0]!.subs[0]!.text).toBe("NORMAL");
  });
});
