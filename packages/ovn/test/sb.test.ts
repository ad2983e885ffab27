import { readFileSync } from "node:fs";
import path from "node:path";
import fc from "fast-check";
import { sharedDir } from "@ovnsim/oracle";
import { isSimError } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import { formatLflowList, parseLflowList } from "../src/sb/lflow-list.js";
import { deriveMcGroups, readSbBundle } from "../src/sb/model.js";
import { atom, map, parseOvsdbList, set } from "../src/sb/ovsdb.js";

const SEED = path.resolve(import.meta.dirname, "golden/trace/seed/sb");
const read = (f: string): string => readFileSync(path.join(SEED, f), "utf8");

describe("ovn-sbctl list records", () => {
  it("reads atoms, sets and maps with quoting", () => {
    const [r] = parseOvsdbList(
      [
        "_uuid               : 1b271eac-f6d8-4376-bb42-36c95822f472",
        'external_ids        : {lb_id="3e65", "k=v"="a,b"}',
        'mac                 : ["0a:58:0a:b4:cc:0d 10.180.204.13", unknown]',
        'vips                : {"10.180.204.252:80"="10.180.204.11:80,10.180.204.12:80"}',
        'type                : ""',
        "tunnel_key          : 4",
        "chassis             : []",
      ].join("\n"),
    );
    expect(atom(r!, "_uuid")).toBe("1b271eac-f6d8-4376-bb42-36c95822f472");
    expect(map(r!, "external_ids").get("k=v")).toBe("a,b");
    expect(set(r!, "mac")).toEqual(["0a:58:0a:b4:cc:0d 10.180.204.13", "unknown"]);
    expect([...map(r!, "vips").values()]).toEqual(["10.180.204.11:80,10.180.204.12:80"]);
    expect(atom(r!, "type")).toBe("");
    expect(atom(r!, "chassis")).toBe("");
  });
  it("points at the bad line", () => {
    expect(() => parseOvsdbList("_uuid : x\nnonsense\n", "pb.txt")).toThrow(/pb.txt:2/);
  });
});

describe("lflow-list", () => {
  it("reads a captured listing with uuids and prints it back", () => {
    const text = read("lflow-list.txt");
    const l = parseLflowList(text);
    expect(l.flows.length).toBe(112);
    expect(l.flows[0]).toMatchObject({
      datapath: "underlay-subnet",
      pipeline: "ingress",
      table: 0,
      stage: "ls_in_check_port_sec",
      priority: 100,
      match: "eth.src[40]",
      actions: "drop;",
    });
    expect(l.flows[0]!.uuid).toMatch(/^[0-9a-f]{8}$/);
    expect(formatLflowList(l.flows, l.datapaths, { uuids: true })).toBe(text);
    const shared = readFileSync(path.join(sharedDir(), "oracle/samples/ovn-lflow-list.txt"), "utf8");
    const s = parseLflowList(shared);
    expect(formatLflowList(s.flows, s.datapaths)).toBe(shared);
  });
  it("points at the bad line", () => {
    expect(() =>
      parseLflowList(
        'Datapath: "x" (0-0)  Pipeline: ingress\n  table=0 (s), priority=1, match=(1)\n',
        "l.txt",
      ),
    ).toThrow(/l.txt:2/);
  });
});

describe("SB bundle", () => {
  it("reads the seed bundle and derives what optional files would say", () => {
    const files: Record<string, string> = {};
    for (const f of ["lflow-list.txt", "port-binding.txt", "datapath-binding.txt", "multicast-group.txt"])
      files[f] = read(f);
    const m = readSbBundle(files);
    expect(m.ports.map((p) => [p.name, p.tunnelKey]).sort()).toEqual([
      ["localnet-port", 1],
      ["pod1", 2],
      ["pod2", 3],
      ["pod3", 4],
    ]);
    expect(m.vips.map((v) => v.text)).toEqual(["10.180.204.252:80"]);
    const derived = deriveMcGroups(m.datapaths, m.ports);
    for (const g of m.mcGroups) {
      const d = derived.find((x) => x.name === g.name)!;
      expect([d.tunnelKey, [...d.ports].sort()]).toEqual([g.tunnelKey, [...g.ports].sort()]);
    }
    expect(m.derived).toContain("chassis");
  });
});

describe("SB parser fuzz", () => {
  it("any text gives records or a SimError", () => {
    const line = fc.oneof(
      fc.string({ maxLength: 30 }),
      fc.constantFrom("_uuid : a", 'x : {a="b", c=d}', "y : [1, 2]", 'z : "q\\"', "", "w : {", 'v : ["a'),
    );
    fc.assert(
      fc.property(fc.array(line, { maxLength: 8 }), (ls) => {
        const t = ls.join("\n");
        for (const f of [
          () => parseOvsdbList(t),
          () => parseLflowList(t),
          () => readSbBundle({ "lflow-list.txt": t, "port-binding.txt": t }),
        ]) {
          try {
            f();
          } catch (e) {
            if (!isSimError(e)) throw e;
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
