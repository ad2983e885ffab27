// Replays test/golden/linux-arp.txt, recorded from the real Linux kernel ARP code by
// scripts/record-linux-arp.py (a netns + veth, raw frames, `ip neigh show` after each), against
// the host model: same frames at the same virtual times → same neighbour cache.
import { readFileSync } from "node:fs";
import { formatMac, parseMac } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import { arpFrame, formatIp, PhysicalNetwork, parseIp } from "../src/index.js";

const text = readFileSync(new URL("./golden/linux-arp.txt", import.meta.url), "utf8");
const steps: { line: string; at: number; fields: Record<string, string>; expected: string[] }[] = [];
for (const line of text.split("\n")) {
  const m = /^(\d+\.\d) (.*): (op=.*)$/.exec(line);
  if (m) {
    const fields = Object.fromEntries((m[3] ?? "").split(" ").map((kv) => kv.split("=") as [string, string]));
    steps.push({ line, at: Number(m[1]), fields, expected: [] });
  } else if (line.startsWith("  ")) steps.at(-1)?.expected.push(line.trim());
}

describe("Linux ARP neighbour rules agree with the real kernel", () => {
  const net = new PhysicalNetwork({
    hosts: [
      { name: "ns", nics: [{ name: "va", mac: "02:00:00:00:00:01", addresses: ["10.99.0.1/24"] }] },
      { name: "peer", nics: [{ name: "vb", mac: "02:00:00:00:00:ff" }] },
    ],
    switches: [],
    links: [{ a: "ns:va", b: "peer:vb" }],
  });
  it("has steps", () => expect(steps.length).toBeGreaterThanOrEqual(10));
  for (const s of steps) {
    it(s.line, () => {
      net.advanceTo(s.at);
      const f = s.fields;
      net.inject(
        "peer",
        "vb",
        arpFrame({
          op: Number(f.op) as 1 | 2,
          dlSrc: parseMac(f.sha ?? ""),
          dlDst: parseMac(f.dst ?? ""),
          sha: parseMac(f.sha ?? ""),
          spa: parseIp(f.spa ?? ""),
          tha: parseMac(f.tha ?? ""),
          tpa: parseIp(f.tpa ?? ""),
        }),
      );
      const got = net
        .neighbours("ns")
        .filter((n) => n.mac !== undefined)
        .map((n) => `${formatIp(n.ip)} lladdr ${formatMac(n.mac ?? 0)}`)
        .sort();
      expect(got).toEqual(s.expected);
    });
  }
});
