// Tunnel metadata, TLV maps and meters (issue 11): unit checks and fast-check fuzz tests of
// every new parser (any input gives a result or a SimError, never another exception).
import {
  EMPTY_TUNNEL,
  formatFlow,
  isSimError,
  makeFlow,
  makeTunnel,
  parseFlow,
  parseMatch,
} from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  formatMeter,
  parseMeterSpec,
  parseMeters,
  parseOvsdbRecords,
  parseTlvMap,
  parseTlvMapSpec,
  parseVsctlListPort,
  renderTrace,
  switchFromFlows,
  traceFlow,
} from "../src/index.js";

const total = (f: () => unknown): void => {
  try {
    f();
  } catch (e) {
    if (!isSimError(e)) throw e;
  }
};

describe("tunnel fields", () => {
  it("a flow from a tunnel prints its tunnel as flow_format does", () => {
    const f = parseFlow("in_port=10,tun_id=7,tun_src=192.168.1.2,tun_dst=192.168.1.1,tun_metadata0=0x1234");
    expect(f.tunnel.tun_id).toBe(7n);
    expect(f.tunnel.present).toBe(1n);
    expect(formatFlow(f)).toBe(
      "tun_src=192.168.1.2,tun_dst=192.168.1.1,tun_ipv6_src=::,tun_ipv6_dst=::,tun_gbp_id=0,tun_gbp_flags=0,tun_tos=0,tun_ttl=0,tun_erspan_ver=0,gtpu_flags=0,gtpu_msgtype=0,tun_flags=0,tun_metadata0=0x1234,in_port=10,vlan_tci=0x0000,dl_src=00:00:00:00:00:00,dl_dst=00:00:00:00:00:00,dl_type=0x0000",
    );
    expect(formatFlow(makeFlow({ tunnel: makeTunnel({ tun_id: 5n }) }))).toMatch(/^tun_id=0x5,/);
    expect(makeFlow().tunnel).toBe(EMPTY_TUNNEL);
  });

  it("matches on tun_metadata also require the option present", () => {
    const sw = switchFromFlows(
      "br0",
      "priority=10,tun_metadata0=0,actions=output:2\npriority=0,actions=drop",
      undefined,
      [1],
    );
    const absent = renderTrace(traceFlow(sw, "br0", parseFlow("in_port=1")));
    expect(absent).toContain("Datapath actions: drop");
    const present = renderTrace(traceFlow(sw, "br0", parseFlow("in_port=1,tun_metadata0=0")));
    expect(present).toContain("Datapath actions: 2");
  });

  it("tun_flags matches only the public oam flag", () => {
    expect(() => parseMatch("tun_flags=+df")).toThrow();
    expect(parseMatch("tun_flags=+oam").fields[0]?.mask).toBe(1);
  });

  it("fuzz: tunnel fields in flows and matches", () => {
    const field = fc.constantFrom(
      "tun_id",
      "tun_src",
      "tun_dst",
      "tun_ipv6_src",
      "tun_ipv6_dst",
      "tun_gbp_id",
      "tun_gbp_flags",
      "tun_flags",
      "tun_metadata0",
      "tun_metadata63",
    );
    const value = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.nat().map(String),
      fc.constantFrom("+oam", "-oam", "oam", "::1", "1.2.3.4/8", "0x10/0xf0"),
    );
    fc.assert(
      fc.property(field, value, (k, v) => {
        total(() => parseFlow(`in_port=1,${k}=${v}`));
        total(() => parseMatch(`${k}=${v}`));
      }),
    );
  });
});

describe("TLV maps", () => {
  it("reads add-tlv-map and dump-tlv-map forms", () => {
    expect([
      ...parseTlvMapSpec(
        "{class=0x102,type=0x80,len=4}->tun_metadata0,{class=0xffff,type=1,len=4}->tun_metadata7",
      ).keys(),
    ]).toEqual([0, 7]);
    const dump =
      "NXT_TLV_TABLE_REPLY (xid=0x2):\n max option space=256 max fields=64\n allocated option space=4\n\n mapping table:\n  class  type  length  match field\n ------  ----  ------  --------------\n  0x102  0x80       4  tun_metadata0\n";
    expect(parseTlvMap(dump).get(0)).toEqual({ index: 0, optClass: 0x102, type: 0x80, len: 4 });
    expect(() => parseTlvMapSpec("{class=0x102,type=0x80,len=8}->tun_metadata0")).toThrow(/4-byte/);
  });
  it("fuzz: any text", () => {
    fc.assert(fc.property(fc.string(), (t) => total(() => parseTlvMap(t))));
    const spec = fc
      .tuple(fc.nat(0x1ffff), fc.nat(0x1ff), fc.constantFrom(0, 4, 8, 3, 200), fc.nat(70))
      .map(([c, t, l, i]) => `{class=${c},type=${t},len=${l}}->tun_metadata${i}`);
    fc.assert(
      fc.property(fc.array(spec, { maxLength: 4 }), (xs) => total(() => parseTlvMapSpec(xs.join(",")))),
    );
  });
});

describe("meters", () => {
  it("reads add-meter syntax and prints as dump-meters does", () => {
    const m = parseMeterSpec("meter=2,pktps,burst,stats,bands=type=drop,rate=100,burst_size=10");
    expect(formatMeter(m)).toBe("meter=2 pktps burst stats bands=\ntype=drop rate=100 burst_size=10");
    const r = parseMeterSpec("meter=3,kbps,band=type=dscp_remark,rate=500,prec_level=1,type=drop,rate=2000");
    expect(formatMeter(r)).toBe(
      "meter=3 kbps bands=\ntype=dscp_remark rate=500 prec_level=1\ntype=drop rate=2000",
    );
    expect(() =>
      parseMeters("meter=1 kbps bands=\ntype=drop rate=1\n\nmeter=1 kbps bands=\ntype=drop rate=2\n"),
    ).toThrow(/twice/);
  });
  it("fuzz: any text, and printing round-trips", () => {
    fc.assert(fc.property(fc.string(), (t) => total(() => parseMeters(t))));
    const band = fc.record({
      type: fc.constantFrom("drop", "dscp_remark"),
      rate: fc.nat(),
      burst_size: fc.nat(),
      prec_level: fc.nat(255),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1000 }),
        fc.boolean(),
        fc.boolean(),
        fc.array(band, { maxLength: 3 }),
        (id, burst, stats, bands) => {
          const text = `meter=${id},kbps${burst ? ",burst" : ""}${stats ? ",stats" : ""},bands=${bands
            .map(
              (b) =>
                `type=${b.type},rate=${b.rate}${burst ? `,burst_size=${b.burst_size}` : ""}${b.type === "dscp_remark" ? `,prec_level=${b.prec_level}` : ""}`,
            )
            .join(",")}`;
          const m = parseMeterSpec(text);
          expect(parseMeters(formatMeter(m))[0]).toEqual(m);
        },
      ),
    );
  });
});

describe("ovs-vsctl list records", () => {
  it("Port list: tag, trunks, vlan_mode", () => {
    const ps = parseVsctlListPort(
      'name                : "vif-b"\ntag                 : 20\ntrunks              : []\nvlan_mode           : native-untagged\n\nname : eth0\ntrunks : [10, 20]\nvlan_mode : []\n',
    );
    expect(ps).toEqual([
      { name: "vif-b", tag: 20, vlanMode: "native-untagged" },
      { name: "eth0", trunks: [10, 20] },
    ]);
  });
  it("fuzz: any record text", () => {
    const line = fc.oneof(
      fc.string(),
      fc
        .tuple(fc.constantFrom("name", "tag", "trunks", "vlan_mode", "ofport"), fc.string())
        .map(([k, v]) => `${k} : ${v}`),
      fc.constant(""),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 16 }), (ls) => {
        total(() => parseOvsdbRecords(ls.join("\n")));
        total(() => parseVsctlListPort(ls.join("\n")));
      }),
    );
  });
});
