// The seed trace as a capture: one named interface per place, a comment per frame, the VLAN tag
// as on each wire, both directions; read back by us and by the real tshark.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@ovnsim/cli";
import { loadScenario } from "@ovnsim/kube";
import { decodeFrame, readPcap, readPcapng } from "@ovnsim/packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { tsharkFields, tsharkGate } from "../../packet/test/tshark.js";
import {
  type WireFrame,
  captureWorld,
  createSimulation,
  placeOf,
  runTrace,
  traceCapture,
  writePcap,
  writeTracePcapng,
} from "../src/index.js";

const POD = "pod default/deploy-169402624-2 eth0";
function seedCapture() {
  const sim = createSimulation(loadScenario([]));
  const { frames } = runTrace(sim, {});
  return { frames, world: captureWorld(sim), capture: traceCapture(frames, captureWorld(sim)) };
}

describe("trace capture (pcapng)", () => {
  const { frames, world, capture } = seedCapture();
  const names = capture.interfaces.map((i) => i.name);
  const at = (name: string) => capture.packets.filter((p) => capture.interfaces[p.interface]!.name === name);

  it("names each place as a person would, once", () => {
    expect(new Set(names).size).toBe(names.length);
    for (const n of [
      "client/eth0",
      "tor/p-client",
      "gw/eth0",
      "gw/eth1",
      "tor/p-gw-eth0",
      "tor/p-gw-eth1",
      "tor/p-node3",
      "node3/br-provider/underlay0",
      "node3/br-provider/patch-localnet.underlay-subnet-to-br-int",
      "node3/br-int/patch-br-int-to-localnet.underlay-subnet",
      POD,
    ])
      expect(names).toContain(n);
    expect(capture.interfaces.find((i) => i.name === POD)?.description).toMatch(
      /^veth \w+_h on node3 \(br-int port\)$/,
    );
    const desc = (n: string) => capture.interfaces.find((i) => i.name === n)?.description;
    expect(desc("tor/p-node3")).toBe("tor p-node3, cabled to node3:underlay0");
    expect(desc("node3/br-provider/underlay0")).toBe(
      "port underlay0 of OVS bridge br-provider on node3, cabled to tor:p-node3",
    );
    expect(desc("gw/eth0")).toBe("gw eth0, cabled to tor:p-gw-eth0");
    // No raw layer ids left ("tor:p-node3", "node3/<veth>").
    for (const n of names) expect(n).not.toMatch(/^[^/ ]+:|_h$/);
  });

  it("comments every frame with its direction and the step that put it there", () => {
    for (const p of capture.packets) expect(p.comment).toMatch(/^(forward|reply): \S/);
    const comments = capture.packets.map((p) => p.comment ?? "");
    expect(comments.some((c) => /^forward: br-provider: in_port underlay0 .*cookie 0x1000/.test(c))).toBe(
      true,
    );
    expect(
      comments.some((c) => /^forward: .*OVN ls_in_lb \(table \d+\) priority \d+.*br-int table 65/.test(c)),
    ).toBe(true);
    expect(comments.some((c) => /^reply: .*br-int table 65 priority \d+: mod_vlan_vid:341/.test(c))).toBe(
      true,
    );
    expect(
      comments.some((c) =>
        /^forward: tor: out of p-node3 \(VLAN 341 tagged\) towards node3:underlay0$/.test(c),
      ),
    ).toBe(true);
  });

  it("follows the SYN over every cable end: client, ToR, router, ToR, node, patch, Pod", () => {
    const syn = capture.packets.filter((p) => {
      const f = decodeFrame(p.bytes).flow;
      return f.nw_proto === 6 && f.tcp_flags === 0x02;
    });
    expect(syn.map((p) => capture.interfaces[p.interface]!.name)).toEqual([
      "client/eth0",
      "tor/p-client",
      "tor/p-gw-eth1",
      "gw/eth1",
      "gw/eth0",
      "tor/p-gw-eth0",
      "tor/p-node3",
      "node3/br-provider/underlay0",
      "node3/br-provider/patch-localnet.underlay-subnet-to-br-int",
      POD,
    ]);
    expect(syn.map((p) => p.direction)).toEqual([
      "outbound",
      "inbound",
      "outbound",
      "inbound",
      "outbound",
      "inbound",
      "outbound",
      "inbound",
      "outbound",
      "inbound",
    ]);
  });

  it("keeps the VLAN tag as it was on each wire, in both directions", () => {
    const vlanOf = (b: Uint8Array) => decodeFrame(b, { vlanLimit: 2 }).flow.vlans.map((v) => v.vid);
    const tcp = (name: string) => at(name).filter((p) => decodeFrame(p.bytes).flow.nw_proto === 6);
    expect(tcp("tor/p-node3").map((p) => [p.comment?.split(":")[0], vlanOf(p.bytes)])).toEqual([
      ["forward", [341]],
      ["reply", [341]],
    ]);
    for (const n of [
      "client/eth0",
      "tor/p-client",
      "tor/p-gw-eth1",
      "gw/eth1",
      "gw/eth0",
      "tor/p-gw-eth0",
      POD,
    ])
      for (const p of tcp(n)) expect(vlanOf(p.bytes)).toEqual([]);
    expect(tcp(POD).map((p) => p.comment?.split(":")[0])).toEqual(["forward", "reply"]);
  });

  it("has fixed TCP numbers (the SYN-ACK acknowledges the SYN) and virtual timestamps, the same bytes each run", () => {
    const tcp = capture.packets.map((p) => decodeFrame(p.bytes)).filter((p) => p.flow.nw_proto === 6);
    const synAck = tcp.find((p) => p.flow.tcp_flags === 0x12)!;
    expect([tcp[0]!.tcpSeq, synAck.tcpSeq, synAck.tcpAck]).toEqual([1000, 5000, 1001]);
    expect(capture.packets.map((p) => p.timeUs)).toEqual(capture.packets.map((_, i) => i));
    const again = seedCapture();
    expect(writeTracePcapng(again.frames, again.world)).toEqual(writeTracePcapng(frames, world));
    expect(readPcapng(writeTracePcapng(frames, world))[0]!.packets.length).toBe(capture.packets.length);
  });

  it("classic pcap stays available: one record per hop, no names", () => {
    const r = readPcap(writePcap(frames));
    expect(r.records.length).toBe(frames.length);
    expect(r.records.map((x) => x.timeUs)).toEqual(frames.map((_, i) => BigInt(i)));
  });

  it("placeOf: raw layer ids to names", () => {
    const w = (link: string, kind: string, note?: string): WireFrame =>
      ({ link, kind, flow: frames[0]!.flow, ...(note ? { note } : {}) }) as WireFrame;
    expect(placeOf(w("tor:p-node3", "switch"), world).name).toBe("tor/p-node3");
    expect(placeOf(w("node3/underlay0", "wire"), world).name).toBe("node3/br-provider/underlay0");
    expect(
      placeOf(w("node3/br-provider", "bridge", "node3/br-provider: in_port underlay0 -> drop"), world).name,
    ).toBe("node3/br-provider/underlay0");
    expect(placeOf(w("node1/br-provider:patch-x", "exit"), world).name).toBe("node1/br-provider/patch-x");
    expect(placeOf(w("client/eth0", "wire"), world).name).toBe("client/eth0");
  });
});

const gate = tsharkGate();
describe.skipIf(gate.skip)("the real tshark reads `ovnsim trace --pcap seed.pcapng`", () => {
  let dir = "";
  let file = "";
  beforeAll(async () => {
    gate.assert();
    dir = mkdtempSync(join(tmpdir(), "ovnsim-tpcap-"));
    file = join(dir, "seed.pcapng");
    const code = await run(["trace", "--pcap", file], { stdout: () => {}, stderr: () => {} });
    expect(code).toBe(0);
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("one named interface per hop and a comment per frame", () => {
    const rows = tsharkFields(file, ["frame.interface_name", "frame.comment", "vlan.id", "eth.type"]);
    const mine = readPcapng(readFileSync(file))[0]!;
    expect(rows.length).toBe(mine.packets.length);
    expect(rows.map((r) => r[0])).toEqual(mine.packets.map((p) => mine.interfaces[p.interface]!.name));
    for (const r of rows) expect(r[1]).toMatch(/^(forward|reply): /);
    expect(new Set(rows.map((r) => r[0]))).toContain(POD);
    expect(rows.filter((r) => r[0] === "tor/p-node3" && r[1]!.startsWith("reply")).map((r) => r[2])).toEqual([
      "341",
    ]);
  });

  it("TCP analysis: only later copies of a segment seen at an earlier hop are flagged, and why", () => {
    const f = ["frame.number", "frame.interface_name", "ip.src", "ip.dst", "tcp.srcport", "tcp.dstport"];
    const rows = tsharkFields(
      file,
      [...f, "tcp.seq_raw", "tcp.flags", "tcp.analysis.flags", "_ws.expert.message"],
      ["-Y", "tcp"],
    );
    const seen = new Set<string>();
    for (const r of rows) {
      const key = r.slice(2, 8).join(" ");
      const copy = seen.has(key);
      seen.add(key);
      // tshark 4.0 keys a TCP conversation on addresses and ports only, not the interface: a
      // segment seen again at the next hop is a "retransmission" to it, as in a mergecap of
      // several taps. Every first sighting is clean; every flag is on such a copy.
      if (r[8] !== "") {
        expect(copy, `frame ${r[0]} on ${r[1]}: ${r[9]}`).toBe(true);
        expect(r[9]).toMatch(/retransmission/);
      }
    }
    const flagged = rows.filter((r) => r[8] !== "").length;
    expect(flagged).toBeGreaterThan(0);
    // With sequence analysis off (the one preference that ties copies to TCP's notion of a resend)
    // nothing is flagged at all.
    const off = tsharkFields(
      file,
      ["tcp.analysis.flags"],
      ["-o", "tcp.analyze_sequence_numbers:FALSE", "-Y", "tcp"],
    );
    expect(off.filter((r) => r[0] !== "").length).toBe(0);
  });

  it("one interface exported on its own (what a capture at that place would be) has no retransmission", () => {
    for (const name of ["client/eth0", "tor/p-node3", POD]) {
      const out = join(dir, "one.pcapng");
      execFileSync("tshark", ["-r", file, "-Y", `frame.interface_name == "${name}"`, "-w", out], {
        stdio: "ignore",
      });
      const rows = tsharkFields(
        out,
        ["frame.interface_name", "tcp.analysis.flags", "frame.comment"],
        ["-Y", "tcp"],
      );
      expect(rows.length).toBeGreaterThanOrEqual(2);
      for (const r of rows) expect([r[0], r[1]]).toEqual([name, ""]);
    }
  });
});

describe("ovnsim trace --pcap formats", () => {
  it("pcapng by default, classic pcap for .pcap or --pcap-format pcap", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-fmt-"));
    try {
      const go = (args: string[]) => run(["trace", ...args], { stdout: () => {}, stderr: () => {} });
      expect(await go(["--pcap", join(dir, "a.pcapng")])).toBe(0);
      expect(await go(["--pcap", join(dir, "b.cap")])).toBe(0);
      expect(await go(["--pcap", join(dir, "c.pcap")])).toBe(0);
      expect(await go(["--pcap", join(dir, "d.cap"), "--pcap-format", "pcap"])).toBe(0);
      expect(await go(["--pcap", join(dir, "e.pcap"), "--pcap-format=pcapng"])).toBe(0);
      expect(await go(["--pcap-format", "pcap"])).toBe(2);
      expect(await go(["--pcap", join(dir, "f"), "--pcap-format", "erf"])).toBe(2);
      const magic = (n: string) => readFileSync(join(dir, n)).readUInt32LE(0).toString(16);
      expect(["a.pcapng", "b.cap", "c.pcap", "d.cap", "e.pcap"].map(magic)).toEqual([
        "a0d0d0a",
        "a0d0d0a",
        "a1b2c3d4",
        "a1b2c3d4",
        "a0d0d0a",
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
