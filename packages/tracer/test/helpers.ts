import { type ManifestText, readManifestPaths, scenarioFromTexts, seedScenarioDir } from "@ovnsim/kube";
import { makeFlow } from "@ovnsim/packet";
import { PhysicalNetwork } from "@ovnsim/physical";
import { type TraceDocument, type TraceInput, traceScenario } from "../src/index.js";

export const seedTexts = (): ManifestText[] => readManifestPaths([seedScenarioDir()]);

/** The seed manifests with replacements applied (each must hit some file). */
export function edited(...edits: [string | RegExp, string][]): ManifestText[] {
  let texts = seedTexts();
  for (const [from, to] of edits) {
    let hit = false;
    texts = texts.map((t) => {
      const n = t.text.replace(from, to);
      if (n !== t.text) hit = true;
      return { ...t, text: n };
    });
    if (!hit) throw new Error(`no manifest contains ${from}`);
  }
  return texts;
}

export function traceTexts(texts: ManifestText[], input: TraceInput = {}): TraceDocument {
  return traceScenario(scenarioFromTexts(texts), input);
}

/**
 * Whether @ovnsim/physical sends a frame from a VLAN sub-interface of an OVS bridge's internal
 * port into that bridge (how MetalLB's ARP reply leaves `br-provider.341`). Until it does, the
 * end-to-end tests that need MetalLB's answer cannot pass, and are skipped with this reason.
 */
export function physicalVlanOnBridgeWorks(): boolean {
  const net = new PhysicalNetwork({
    hosts: [
      {
        name: "h",
        nics: [
          { name: "eth0", mac: "02:00:00:00:00:01" },
          { name: "br0", macFrom: "eth0" },
          { name: "br0.5", parent: "br0", vid: 5 },
        ],
        bridges: [{ name: "br0", ports: [{ name: "eth0" }] }],
      },
      { name: "peer", nics: [{ name: "eth0", mac: "02:00:00:00:00:02" }] },
    ],
    switches: [],
    links: [{ a: "h:eth0", b: "peer:eth0" }],
  });
  const t = net.inject(
    "h",
    "br0.5",
    makeFlow({ dl_src: 0x020000000001, dl_dst: 0xffffffffffff, dl_type: 0x0806, nw_proto: 1 }),
  );
  return !t.events.some((e) => e.kind === "drop" && /no cable/.test(e.text));
}

export const PHYSICAL_GAP =
  "@ovnsim/physical transmits a frame from a VLAN sub-interface of a bridge internal port (br-provider.341) straight to the wire ('no cable') instead of into the bridge (network.ts hostTransmit passes fromBridge=true for the parent)";
