// Replays test/golden/linux-nd.txt, recorded from the real Linux kernel's neighbour discovery
// by scripts/record-linux-nd.py, against the host model.
import { readFileSync } from "node:fs";
import { formatMac, parseMac } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import { formatIp, naFrame, nsFrame, PhysicalNetwork, parseIp } from "../src/index.js";

const text = readFileSync(new URL("./golden/linux-nd.txt", import.meta.url), "utf8");
const steps: { line: string; f: Record<string, string>; expected: string[] }[] = [];
for (const line of text.split("\n")) {
  const m = /^([^#][^:]*): (type=.*)$/.exec(line);
  if (m)
    steps.push({
      line,
      f: Object.fromEntries((m[2] ?? "").split(" ").map((kv) => kv.split("=") as [string, string])),
      expected: [],
    });
  else if (line.startsWith("  ")) steps.at(-1)?.expected.push(line.trim());
}
const ETH_DST: Record<string, string> = {
  "ff02::1:ff00:1": "33:33:ff:00:00:01",
  "ff02::1": "33:33:00:00:00:01",
  "fd99::1": "02:00:00:00:00:01",
};

describe("IPv6 neighbour discovery agrees with the real kernel", () => {
  const net = new PhysicalNetwork({
    hosts: [
      { name: "ns", nics: [{ name: "va", mac: "02:00:00:00:00:01", addresses: ["fd99::1/64"] }] },
      { name: "peer", nics: [{ name: "vb", mac: "02:00:00:00:00:ff", linkLocal6: false }] },
    ],
    switches: [],
    links: [{ a: "ns:va", b: "peer:vb" }],
  });
  it("has steps", () => expect(steps.length).toBeGreaterThanOrEqual(6));
  for (const s of steps) {
    it(s.line, () => {
      const f = s.f;
      const lladdr = parseMac(f.lladdr ?? "");
      const src = parseIp(f.src ?? "").v;
      const dst = parseIp(f.dst ?? "").v;
      const target = parseIp(f.target ?? "").v;
      const dlDst = parseMac(ETH_DST[f.dst ?? ""] ?? "");
      const frame =
        f.type === "135"
          ? nsFrame({ dlSrc: lladdr, src, target, dst, dlDst })
          : naFrame({ dlSrc: lladdr, dlDst, src, dst, target, tll: lladdr, flags: Number(f.flags) });
      net.inject("peer", "vb", frame);
      const got = net
        .neighbours("ns")
        .filter((n) => n.mac !== undefined)
        .map((n) => `${formatIp(n.ip)} lladdr ${formatMac(n.mac ?? 0)}`)
        .sort();
      expect(got).toEqual(s.expected);
    });
  }
});
