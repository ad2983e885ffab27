// Stateful ct(): the conntrack table of @ovnsim/conntrack decides ct_state and NAT per pass
// (an ovnsim extension of ofproto/trace, which always assumes trk|new or --ct-next).
import { join } from "node:path";
import { Conntrack } from "@ovnsim/conntrack";
import { parseFlow } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import { loadBundle, renderTrace, traceFlow, traceToJson } from "../src/index.js";

const sw = loadBundle(join(import.meta.dirname, "golden", "ct", "bundle"));
const SYN =
  "in_port=4,dl_src=00:00:00:00:01:01,dl_dst=00:00:00:00:02:02,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,tp_src=1234,tp_dst=80,tcp_flags=syn";

describe("stateful conntrack mode", () => {
  it("commits with DNAT, then sees the connection again", () => {
    const t1 = traceFlow(sw, "br0", parseFlow(SYN), { conntrack: Conntrack.empty() });
    const p1 = t1.passes[1]!;
    expect(p1.recirc?.ctState).toBe("new|trk|dnat");
    expect(p1.flow).toContain("nw_dst=10.9.0.1");
    expect(p1.flow).toContain("tp_dst=8080");
    expect(p1.recirc?.nat?.modified).toBe("nw_src=10.0.0.1,tp_src=1234,nw_dst=10.9.0.1,tp_dst=8080");
    expect(t1.conntrack?.size()).toBe(1);
    expect(traceToJson(t1)).not.toContain('conntrack"');
    const t2 = traceFlow(sw, "br0", parseFlow(SYN.replace("tcp_flags=syn", "tcp_flags=ack")), {
      conntrack: t1.conntrack!,
    });
    expect(t2.passes[1]!.recirc?.ctState).not.toContain("new");
    expect(renderTrace(t2)).toContain("Datapath actions:");
  });
  it("--ct-next still wins over the table", () => {
    const t = traceFlow(sw, "br0", parseFlow(SYN), { conntrack: Conntrack.empty(), ctNext: [0x20 | 0x10] });
    expect(t.passes[1]!.recirc?.ctState).toBe("inv|trk");
  });
});
