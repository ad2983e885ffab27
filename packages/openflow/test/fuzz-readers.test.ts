// Fuzz tests for the openflow readers not covered by syntax/portnames/tunnel-meter tests: the
// `ovs-ofctl dump-groups`, `ovs-appctl fdb/show` and `dump-tlv-map` captures (real goldens,
// mutated), subfields (`NXM_NX_REG0[0..15]`) and ct_state text. Any input gives a result or a
// SimError, never another exception or a hang (see scripts/fuzz.ts).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, it } from "vitest";
import { parserInput, resultOrTypedError } from "../../../scripts/fuzz.js";
import { parseCtState, parseFdbShow, parseGroups, parseSubfield, parseTlvMapDump } from "../src/index.js";

const GOLDEN = join(import.meta.dirname, "golden");
const read = (...files: string[]) => files.map((f) => readFileSync(join(GOLDEN, f), "utf8"));
const typed = (f: () => unknown) => resultOrTypedError(isSimError, f);
const RUNS = { numRuns: 400 };

describe("openflow capture readers fuzz", () => {
  it("parseGroups (dump-groups): groups or a SimError", () => {
    const samples = read("groups-all/bundle/br0.groups.txt", "groups/bundle/br0.groups.txt");
    fc.assert(
      fc.property(parserInput(samples), fc.boolean(), (t, names) =>
        typed(() => parseGroups(t, names ? { ports: new Map([["eth1", 1]]) } : {})),
      ),
      RUNS,
    );
  });
  it("parseFdbShow (fdb/show): a MAC table or a SimError", () => {
    const samples = read("rewrite/bundle/br0.fdb.txt", "ovn-controller/bundle/br-provider.fdb.txt");
    fc.assert(
      fc.property(parserInput(samples), (t) => typed(() => parseFdbShow(t))),
      RUNS,
    );
  });
  it("parseTlvMapDump (dump-tlv-map): mappings or a SimError", () => {
    const samples = read("tunnels/bundle/br-int.tlv.txt", "recirc-share/bundle/br0.tlv.txt");
    fc.assert(
      fc.property(parserInput(samples), (t) => typed(() => parseTlvMapDump(t))),
      RUNS,
    );
  });
});

describe("openflow value readers fuzz", () => {
  it("parseSubfield: a subfield or a SimError", () => {
    const samples = [
      "NXM_NX_REG0[0..15]",
      "reg0[]",
      "NXM_OF_ETH_DST[]",
      "reg13[0..15]",
      "tun_metadata0[0..31]",
      "ct_label[96..127]",
      "metadata",
      "xxreg0[64..127]",
      "OXM_OF_METADATA[0..63]",
    ];
    fc.assert(
      fc.property(parserInput(samples), (t) => typed(() => parseSubfield(t))),
      RUNS,
    );
  });
  it("parseCtState: bits or a SimError", () => {
    const samples = ["+trk+est", "-new+trk", "trk,est,rpl", "+trk+inv", "new|rel", "+snat+dnat", "0x21"];
    fc.assert(
      fc.property(parserInput(samples), (t) => typed(() => parseCtState(t))),
      RUNS,
    );
  });
});
