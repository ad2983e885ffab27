// IPv4 addresses as OVS's flow syntax reads them (ip_parse_masked → ovs_scan "%hhu.%hhu.%hhu.%hhu"):
// leading zeros and out-of-range octets are accepted in matches, set_field values and nat(),
// while mod_nw_src/mod_nw_dst use inet_pton and refuse them. Expectations recorded from
// `ovs-ofctl parse-flow 'ip,nw_dst=X,actions=drop'` and `ovs-appctl ofproto/trace` of OVS 3.1.
import { isSimError, parseFlow, parseIp4Scan } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatActions,
  formatFlowEntry,
  parseActions,
  parseFlowLine,
  renderTrace,
  switchFromFlows,
  traceFlow,
} from "../src/index.js";

/** What ovs-ofctl 3.1 printed for `ip,nw_dst=<left>`; undefined: "invalid IP address". */
const RECORDED: readonly (readonly [string, string | undefined])[] = [
  ["010.0.0.0001", "10.0.0.1"],
  ["10.0.0.300", "10.0.0.44"],
  ["10.0.0.1234", "10.0.0.210"],
  ["10.0.0.-1", "10.0.0.255"],
  ["10.0.0.1/024", "10.0.0.0/24"],
  ["10.0.0.1/0255.255.255.0", "10.0.0.0/24"],
  ["10.0.0.1/255.255.255.0256", "10.0.0.0/24"],
  ["10.0.0.1/255.0.255.0", "10.0.0.0/255.0.255.0"],
  ["10.0.0", undefined],
  ["10.0.0.1.5", undefined],
  ["10.0.0.1x", undefined],
  ["4294967295", undefined],
  ["1.2.3.4/1.2.3.4x", undefined],
  ["0x0a.0.0.1", undefined],
];

describe("IPv4 in OVS flow syntax (ovs_scan, not inet_pton)", () => {
  for (const [text, want] of RECORDED) {
    it(`ip,nw_dst=${text} → ${want ?? "refused"}`, () => {
      const line = ` priority=5,ip,nw_dst=${text} actions=drop`;
      if (want === undefined) {
        expect(() => parseFlowLine(line)).toThrow(/IPv4|IP address/);
      } else {
        expect(formatFlowEntry(parseFlowLine(line))).toContain(`nw_dst=${want} `);
      }
    });
  }

  it("set_field and nat() read them the same way; mod_nw_dst refuses them (inet_pton)", () => {
    // ovs-ofctl: set_field:010.0.0.1->nw_dst prints as mod_nw_dst:10.0.0.1; mod_nw_dst:010.0.0.1
    // is "could not convert to IP address".
    expect(formatActions(parseActions("set_field:010.0.0.1->nw_dst"))).toBe("set_field:10.0.0.1->ip_dst");
    expect(formatActions(parseActions("ct(commit,nat(dst=010.0.0.1))"))).toBe("ct(commit,nat(dst=10.0.0.1))");
    expect(() => parseActions("mod_nw_dst:010.0.0.1")).toThrow();
    expect(() => parseActions("mod_nw_src:10.0.0.300")).toThrow();
  });

  it("ofproto/trace reads the packet's addresses the same way", () => {
    // OVS 3.1: `ofproto/trace br0 in_port=1,ip,nw_src=010.0.0.01,nw_dst=10.0.0.1` prints
    // "Flow: ip,in_port=1,...,nw_src=10.0.0.1,nw_dst=10.0.0.1,...".
    const sw = switchFromFlows("br0", "priority=0,actions=drop", undefined, [1]);
    const flow = parseFlow("in_port=1,ip,nw_src=010.0.0.01,nw_dst=10.0.0.1");
    expect(renderTrace(traceFlow(sw, "br0", flow))).toContain("nw_src=10.0.0.1,nw_dst=10.0.0.1,");
  });

  it("any text is an address or a typed error (fuzz)", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 40 }), fc.stringMatching(/^[-+0-9.]{0,24}$/)), (t) => {
        try {
          const v = parseIp4Scan(t);
          expect(v >>> 0).toBe(v);
        } catch (e) {
          expect(isSimError(e)).toBe(true);
        }
      }),
      { numRuns: 500 },
    );
  });
});
