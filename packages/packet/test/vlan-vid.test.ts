// vlan_vid is its own field (OXM, 13 bits with OFPVID_PRESENT), dl_vlan the 12-bit OF1.0 one;
// printed forms as OVS 3.1's ovs-ofctl dump-flows shows them.
import { describe, expect, it } from "vitest";
import { findField, formatMatch, parseMatch } from "../src/index.js";

describe("vlan_vid", () => {
  it("is a separate 13-bit maskable field in the vlan_tci bits", () => {
    const vv = findField("vlan_vid");
    expect(vv?.name).toBe("vlan_vid");
    expect(vv?.bits).toBe(13);
    expect(vv?.maskable).toBe(true);
    expect(findField("dl_vlan")?.bits).toBe(12);
    expect(findField("OXM_OF_VLAN_VID")?.name).toBe("dl_vlan"); // load/move: 12 bits, as OVS
  });
  it("parses and prints matches as OVS does", () => {
    expect(formatMatch(parseMatch("vlan_vid=0x1000/0x1000"))).toBe("vlan_tci=0x1000/0x1000");
    expect(formatMatch(parseMatch("vlan_vid=4100"))).toBe("dl_vlan=4");
    expect(formatMatch(parseMatch("vlan_vid=5"))).toBe("vlan_tci=0x0005/0x1fff");
    expect(formatMatch(parseMatch("vlan_vid=0"))).toBe("vlan_tci=0x0000/0x1fff");
    expect(formatMatch(parseMatch("vlan_vid=0x1004/0xfff"))).toBe("vlan_tci=0x0004/0x0fff");
    expect(() => parseMatch("vlan_vid=0x2000")).toThrow();
  });
});
