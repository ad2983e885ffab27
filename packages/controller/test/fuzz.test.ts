// Parser robustness: any text gives a result or a SimError, never another exception.
import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { join } from "node:path";
import { parseActions } from "@ovnsim/ovn";
import {
  encodeActions,
  OFTABLE_LAYOUTS,
  ovnController,
  pipelineRoom,
  tableLayout,
  parseExternalIds,
  readNodeBundle,
  readSbExtras,
} from "../src/index.js";
import { GOLDEN, loadDir } from "./load.js";

/** An encodeActions environment for the fuzz tests (one port, group and meter). */
const actionEnv = (isSwitch: boolean) => ({
  pipeline: "ingress" as const,
  table: 3,
  isSwitch,
  portKey: () => 1,
  groupId: () => 1,
  meterId: () => 1,
});
const ok = (f: () => unknown): void => {
  try {
    f();
  } catch (e) {
    expect(isSimError(e), String(e)).toBe(true);
  }
};
const texty = fc.oneof(
  fc.string(),
  fc
    .array(
      fc.constantFrom(
        "name : a\n",
        "ofport : 3\n",
        'external_ids : {iface-id=p1, "x"="y"}\n',
        "\n",
        "{",
        "}",
        "=",
        ",",
        '"',
        "[1, 2]\n",
        "type : patch\n",
      ),
      { maxLength: 20 },
    )
    .map((xs) => xs.join("")),
);

describe("capture parsers (fuzz)", () => {
  it("parseExternalIds", () => fc.assert(fc.property(texty, (t) => ok(() => parseExternalIds(t)))));
  it("readNodeBundle", () =>
    fc.assert(
      fc.property(texty, texty, texty, (a, b, c) =>
        ok(() => readNodeBundle({ "interfaces.txt": a, "bridges.txt": b, "ovs-vsctl-show.txt": c })),
      ),
    ));
  it("readSbExtras", () =>
    fc.assert(
      fc.property(texty, texty, texty, (a, b, c) =>
        ok(() =>
          readSbExtras({ "chassis.txt": a, "encap.txt": b, "port-binding.txt": c, "load-balancer.txt": a }),
        ),
      ),
    ));
  it("readSbExtras: MAC_Binding / Static_MAC_Binding", () =>
    fc.assert(
      fc.property(texty, texty, (a, b) =>
        ok(() => readSbExtras({ "mac-binding.txt": a, "static-mac-binding.txt": b })),
      ),
    ));
  it("MAC bindings with arbitrary ip / mac text (tables 66 / 67)", () => {
    const sb = loadDir(join(GOLDEN, "router", "sb"));
    const node = loadDir(join(GOLDEN, "router", "node"));
    const addr = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc.ipV4(),
      fc.ipV6(),
      fc.constantFrom("0a:00:00:00:55:55", "::", "1::2::3", "fd00::55", "256.1.1.1", "0a:00:00:00:55"),
    );
    fc.assert(
      fc.property(addr, addr, (ip, mac) => {
        const row = `_uuid : 6f1c1d4e-0000-4000-8000-000000000001\nip : "${ip.replaceAll('"', "")}"\nlogical_port : lr0-ls0\nmac : "${mac.replaceAll('"', "")}"\n`;
        ok(() => ovnController({ sb: { ...sb, "mac-binding.txt": row }, node }));
      }),
      { numRuns: 30 },
    );
  }, 300_000); // 30 whole-model runs: minutes on a loaded 2-core machine
  it("MAC-binding actions with arbitrary arguments", () => {
    const arg = fc.constantFrom(
      "inport",
      "outport",
      "reg0",
      "xxreg0",
      "arp.spa",
      "arp.sha",
      "eth.src",
      "ip6.src",
      "nd.sll",
      "reg9[2]",
      "xreg0[0..47]",
      "1",
      "",
      "ip4",
      "tcp.dst",
    );
    const fn = fc.constantFrom("get_arp", "get_nd", "put_arp", "put_nd");
    const res = fc.constantFrom("lookup_arp", "lookup_nd", "lookup_arp_ip", "lookup_nd_ip");
    const env = actionEnv(false);
    fc.assert(
      fc.property(fn, res, fc.array(arg, { maxLength: 4 }), (f, r, args) =>
        ok(() => {
          encodeActions(parseActions(`${f}(${args.join(", ")}); next;`), env);
          encodeActions(parseActions(`reg9[2] = ${r}(${args.join(", ")}); next;`), env);
        }),
      ),
    );
  });
  it("readSbExtras: Meter / Meter_Band / controller_meter / HA_Chassis(_Group)", () =>
    fc.assert(
      fc.property(texty, texty, texty, (a, b, c) =>
        ok(() =>
          readSbExtras({
            "meter.txt": a,
            "meter-band.txt": b,
            "controller-meter.txt": c,
            "ha-chassis-group.txt": b,
            "ha-chassis.txt": a,
            "port-binding.txt": c,
          }),
        ),
      ),
    ));
  it("log() and set_meter() with arbitrary arguments", () => {
    const word = fc.oneof(
      fc.string({ maxLength: 12 }),
      fc.constantFrom(
        'name="a b"',
        "severity=info",
        "severity=nope",
        "verdict=drop",
        'meter="m1"',
        '"',
        "=",
        ",",
        "1000",
        "-5",
        "1e3",
      ),
    );
    const env = { ...actionEnv(true), ctrlMeter: 2 };
    fc.assert(
      fc.property(fc.constantFrom("log", "set_meter"), fc.array(word, { maxLength: 4 }), (f, args) =>
        ok(() => {
          let acts: ReturnType<typeof parseActions>;
          try {
            acts = parseActions(`${f}(${args.join(", ")}); next;`);
          } catch (e) {
            if (isSimError(e)) return;
            throw e;
          }
          encodeActions(acts, env);
        }),
      ),
    );
  });
  it("ovnController on arbitrary captures", () =>
    fc.assert(
      fc.property(texty, texty, (a, b) =>
        ok(() =>
          ovnController({
            sb: { "lflow-list.txt": a, "port-binding.txt": b },
            node: { "interfaces.txt": b },
            chassis: "hv1",
          }),
        ),
      ),
      { numRuns: 100 },
    ));
});

describe("tableLayout (--profile)", () => {
  it("any name gives a layout or a BAD_VALUE SimError; every layout leaves room for both pipelines", () =>
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.constantFrom("23.03", "24.03", "25.03", "kube-ovn-1.14", "kube-ovn-1.15", "ovn-25.03"),
        ),
        (name) => {
          try {
            const t = tableLayout(name);
            expect(OFTABLE_LAYOUTS[t.release]).toBe(t);
            const room = pipelineRoom(t);
            expect(room.ingress).toBeGreaterThanOrEqual(29);
            expect(room.egress).toBeGreaterThanOrEqual(19);
            expect(t.LOG_EGRESS_PIPELINE).toBe(t.CHECK_LOOPBACK + 1);
          } catch (e) {
            if (!isSimError(e) || e.code !== "BAD_VALUE") throw e;
          }
        },
      ),
      { numRuns: 300 },
    ));
  it("lflow.h's numbers: 23.03 output 37, egress 42; 25.03 output 40, egress 45", () => {
    expect(tableLayout("kube-ovn-1.14")).toBe(OFTABLE_LAYOUTS["24.03"]);
    expect(tableLayout("kube-ovn-1.15").OUTPUT_LARGE_PKT_DETECT).toBe(40);
    expect(tableLayout("25.03").LOG_EGRESS_PIPELINE).toBe(45);
    expect(tableLayout("23.03").OUTPUT_LARGE_PKT_DETECT).toBe(37);
    expect(tableLayout("23.03").LOG_EGRESS_PIPELINE).toBe(42);
  });
});
