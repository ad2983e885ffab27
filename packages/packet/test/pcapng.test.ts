// pcapng: our own round trip and a fuzz of the reader always; the real tshark reading what we
// write (interface names, descriptions, comments, direction, packet id, timestamps).
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type PcapngCapture,
  arpRequest,
  encodeFrame,
  isPcapng,
  isSimError,
  readPcapng,
  tcpSyn,
  writePcap,
  writePcapng,
} from "../src/index.js";
import { tsharkFields, tsharkGate } from "./tshark.js";

const syn = encodeFrame(tcpSyn({ src: "192.0.2.10:40000", dst: "10.180.204.252:80", vlan: 341 }));
const arp = encodeFrame(arpRequest({ sha: "00:00:5e:00:53:01", spa: "192.0.2.10", tpa: "192.0.2.1" }));

const capture: PcapngCapture = {
  application: "ovnsim test",
  comment: "two places",
  interfaces: [
    { name: "tor/p-node3", description: "ToR port towards node3" },
    { name: "node3/br-provider/underlay0" },
  ],
  packets: [
    { interface: 0, bytes: arp, timeUs: 0, comment: "flooded in VLAN 341", direction: "outbound" },
    { interface: 1, bytes: syn, timeUs: 1, comment: "br-provider table 0 priority 10000", packetId: 7 },
    { interface: 1, bytes: syn.subarray(0, 17), timeUs: 1_000_002 },
  ],
};

describe("pcapng writer and reader", () => {
  const file = writePcapng(capture);

  it("reads back what it writes, byte for byte the same each time", () => {
    expect(isPcapng(file)).toBe(true);
    expect(isPcapng(writePcap([syn]))).toBe(false);
    expect(file.length % 4).toBe(0);
    const [s, ...more] = readPcapng(file);
    expect(more).toEqual([]);
    expect(s!.littleEndian).toBe(true);
    expect(s!.application).toBe("ovnsim test");
    expect(s!.comments).toEqual(["two places"]);
    expect(s!.interfaces.map((i) => [i.name, i.description, i.linktype, i.unitsPerSecond])).toEqual([
      ["tor/p-node3", "ToR port towards node3", 1, 1000000n],
      ["node3/br-provider/underlay0", undefined, 1, 1000000n],
    ]);
    expect(s!.packets.map((p) => [p.interface, p.timeUs, p.comments, p.direction, p.packetId])).toEqual([
      [0, 0n, ["flooded in VLAN 341"], "outbound", undefined],
      [1, 1n, ["br-provider table 0 priority 10000"], undefined, 7n],
      [1, 1_000_002n, [], undefined, undefined],
    ]);
    expect(s!.packets[1]!.bytes).toEqual(syn);
    expect(s!.packets[2]!.bytes.length).toBe(17);
    expect(writePcapng(capture)).toEqual(file);
  });

  it("reads a big-endian section and skips blocks it does not know", () => {
    // SHB (BE) + a Name Resolution Block (type 4, skipped) + IDB with if_tsresol 9 (ns) + EPB.
    const be = (words: number[]) => {
      const b = new Uint8Array(words.length * 4);
      const dv = new DataView(b.buffer);
      for (const [i, w] of words.entries()) dv.setUint32(i * 4, w >>> 0, false);
      return b;
    };
    const shb = be([0x0a0d0d0a, 28, 0x1a2b3c4d, 0x00010000, 0xffffffff, 0xffffffff, 28]);
    const nrb = be([4, 16, 0, 16]);
    const idb = be([1, 32, 0x00010000, 65535, 0x00090001, 0x09000000, 0, 32]);
    const epb = be([6, 36, 0, 0, 1_500_000_000, 4, 4, 0xdeadbeef, 36]);
    const s = readPcapng(Uint8Array.from([...shb, ...nrb, ...idb, ...epb]));
    expect(s[0]!.littleEndian).toBe(false);
    expect(s[0]!.interfaces[0]!.unitsPerSecond).toBe(1_000_000_000n);
    expect(s[0]!.packets[0]!.timeUs).toBe(1_500_000n);
    expect([...s[0]!.packets[0]!.bytes]).toEqual([0xde, 0xad, 0xbe, 0xef]);
  });

  it("refuses what is not pcapng, and packets on interfaces that do not exist", () => {
    expect(() => readPcapng(writePcap([syn]))).toThrowError(/not a pcapng file/);
    expect(() => readPcapng(file.subarray(0, file.length - 4))).toThrowError(/pcapng/);
    expect(() =>
      writePcapng({ interfaces: [], packets: [{ interface: 0, bytes: syn, timeUs: 0 }] }),
    ).toThrowError(/interface 0/);
  });

  it("fuzz: any bytes, or a valid file with bytes changed or cut, read or give a SimError", () => {
    const check = (b: Uint8Array) => {
      try {
        readPcapng(b);
      } catch (e) {
        if (!isSimError(e)) throw e;
      }
    };
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => check(b)),
      { numRuns: 500 },
    );
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(file.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        fc.nat(file.length),
        (edits, cut) => {
          const b = file.slice(0, Math.max(cut, 1));
          for (const [at, v] of edits) if (at < b.length) b[at] = v;
          check(b);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("fuzz: whatever the writer is given round-trips through the reader", () => {
    const iface = fc.record({
      name: fc.string({ maxLength: 40 }),
      description: fc.option(fc.string(), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.array(iface, { minLength: 1, maxLength: 4 }),
        fc.array(
          fc.record({
            i: fc.nat(),
            bytes: fc.uint8Array({ maxLength: 80 }),
            timeUs: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
            comment: fc.option(fc.string({ maxLength: 60 }), { nil: undefined }),
          }),
          { maxLength: 6 },
        ),
        (ifs, pks) => {
          const c: PcapngCapture = {
            interfaces: ifs.map((x) => ({
              name: x.name,
              ...(x.description !== undefined ? { description: x.description } : {}),
            })),
            packets: pks.map((p) => ({
              interface: p.i % ifs.length,
              bytes: p.bytes,
              timeUs: p.timeUs,
              ...(p.comment !== undefined ? { comment: p.comment } : {}),
            })),
          };
          const [s] = readPcapng(writePcapng(c));
          expect(s!.interfaces.map((x) => x.name)).toEqual(ifs.map((x) => x.name));
          expect(s!.packets.map((p) => [p.interface, p.timestamp, [...p.bytes], p.comments])).toEqual(
            c.packets.map((p) => [
              p.interface,
              BigInt(p.timeUs),
              [...p.bytes],
              p.comment !== undefined ? [p.comment] : [],
            ]),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});

const gate = tsharkGate();
describe.skipIf(gate.skip)("the real tshark reads our pcapng", () => {
  let dir = "";
  beforeAll(() => {
    gate.assert();
    dir = mkdtempSync(path.join(tmpdir(), "ovnsim-pcapng-"));
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("interface names and descriptions, comments, direction, packet id, VLAN, µs timestamps", () => {
    const f = path.join(dir, "t.pcapng");
    writeFileSync(f, writePcapng(capture));
    const rows = tsharkFields(f, [
      "frame.interface_name",
      "frame.interface_description",
      "frame.comment",
      "frame.p2p_dir",
      "frame.packet_id",
      "vlan.id",
      "frame.time_epoch",
    ]);
    expect(rows).toEqual([
      ["tor/p-node3", "ToR port towards node3", "flooded in VLAN 341", "0", "", "", "0.000000000"],
      [
        "node3/br-provider/underlay0",
        "",
        "br-provider table 0 priority 10000",
        "",
        "7",
        "341",
        "0.000001000",
      ],
      ["node3/br-provider/underlay0", "", "", "", "", "341", "1.000002000"],
    ]);
  });
});
