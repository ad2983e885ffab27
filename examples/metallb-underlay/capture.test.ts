// Example: the seed trace as a capture file (`ovnsim trace --pcap seed.pcapng`) and what tshark
// shows of it. seed.pcapng and capture.md here are that file and that listing; this test checks
// they are still what ovnsim writes and tshark reads. After an intended change, rewrite them with
//   OVNSIM_UPDATE_EXAMPLES=1 npx vitest run examples/metallb-underlay/capture.test.ts
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@ovnsim/cli";
import { describe, expect, it } from "vitest";
import { tsharkGate } from "../../packages/packet/test/tshark.js";

const here = import.meta.dirname;
const update = process.env.OVNSIM_UPDATE_EXAMPLES === "1";
const LISTING = [
  "-T",
  "fields",
  "-E",
  "header=y",
  "-e",
  "frame.number",
  "-e",
  "frame.interface_name",
  "-e",
  "vlan.id",
  "-e",
  "_ws.col.Info",
];
const COMMENTS = ["-T", "fields", "-E", "header=y", "-e", "frame.number", "-e", "frame.comment"];

async function writeSeed(dir: string): Promise<string> {
  const file = join(dir, "seed.pcapng");
  const code = await run(["trace", "--pcap", file], { stdout: () => {}, stderr: () => {} });
  expect(code).toBe(0);
  return file;
}

function markdown(listing: string, comments: string): string {
  return `# The seed trace as a capture

\`ovnsim trace --pcap seed.pcapng\` writes every place the client's SYN, the ARP exchanges before
it and the Pod's SYN-ACK were seen as one pcapng interface, named as you would name the capture
point, and puts the trace step that put the frame there in the frame's comment. [seed.pcapng](seed.pcapng)
is that file for this folder's scenario. Frame *n* is at *n* µs after the epoch (virtual time).
A \`--pcap\` path ending in \`.pcap\` (or \`--pcap-format pcap\`) writes classic libpcap instead:
one unnamed interface, no comments.

Why "TCP Retransmission": tshark keys a TCP conversation on addresses and ports, not on the
interface, so the same segment seen at the next hop looks like a resend to it, as in any merge of
captures from several taps. Add \`-o tcp.analyze_sequence_numbers:FALSE\`, or look at one place on
its own: \`tshark -r seed.pcapng -Y 'frame.interface_name == "tor/p-node3"' -w p-node3.pcapng\`.

\`\`\`
$ tshark -r seed.pcapng ${LISTING.join(" ")}
${listing}\`\`\`

The comments (\`frame.comment\`; Wireshark: Packet comments):

\`\`\`
$ tshark -r seed.pcapng ${COMMENTS.join(" ")}
${comments}\`\`\`
`;
}

describe("the seed capture in examples/metallb-underlay", () => {
  it("seed.pcapng is what `ovnsim trace --pcap` writes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-ex-"));
    try {
      const bytes = readFileSync(await writeSeed(dir));
      if (update) writeFileSync(join(here, "seed.pcapng"), bytes);
      expect(existsSync(join(here, "seed.pcapng"))).toBe(true);
      expect(Buffer.compare(readFileSync(join(here, "seed.pcapng")), bytes)).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const gate = tsharkGate();
  it.skipIf(gate.skip)("capture.md shows what tshark lists of it", () => {
    gate.assert();
    const file = join(here, "seed.pcapng");
    const tshark = (args: string[]) =>
      execFileSync("tshark", ["-r", file, ...args], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      });
    const md = markdown(tshark(LISTING), tshark(COMMENTS));
    if (update) writeFileSync(join(here, "capture.md"), md);
    expect(readFileSync(join(here, "capture.md"), "utf8")).toBe(md);
  });
});
