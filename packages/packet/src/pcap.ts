/**
 * Classic libpcap files (LINKTYPE_ETHERNET, microsecond timestamps), the format tcpdump,
 * tshark, Wireshark and OVS's own `ovs-pcap`/`tx_pcap` use. Timestamps come from the
 * simulation's virtual clock, never the wall clock, so the same run writes the same bytes.
 */
import { SimError } from "./errors.js";

export interface PcapRecord {
  readonly bytes: Uint8Array;
  /** Virtual time in microseconds since the epoch of the run (default: the record's index). */
  readonly timeUs?: number | bigint;
}

export const LINKTYPE_ETHERNET = 1;

/** Writes frames as a classic little-endian pcap file. */
export function writePcap(records: readonly (Uint8Array | PcapRecord)[], snaplen = 262144): Uint8Array {
  let size = 24;
  for (const r of records) size += 16 + Math.min(snaplen, (r instanceof Uint8Array ? r : r.bytes).length);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setInt32(8, 0, true);
  dv.setUint32(12, 0, true);
  dv.setUint32(16, snaplen, true);
  dv.setUint32(20, LINKTYPE_ETHERNET, true);
  let at = 24;
  records.forEach((r, i) => {
    const bytes = r instanceof Uint8Array ? r : r.bytes;
    const t = BigInt(r instanceof Uint8Array || r.timeUs === undefined ? i : r.timeUs);
    const incl = Math.min(snaplen, bytes.length);
    dv.setUint32(at, Number(t / 1000000n), true);
    dv.setUint32(at + 4, Number(t % 1000000n), true);
    dv.setUint32(at + 8, incl, true);
    dv.setUint32(at + 12, bytes.length, true);
    out.set(bytes.subarray(0, incl), at + 16);
    at += 16 + incl;
  });
  return out;
}

export interface PcapFile {
  readonly linktype: number;
  readonly records: readonly {
    readonly bytes: Uint8Array;
    readonly timeUs: bigint;
    readonly origLen: number;
  }[];
}

/** Reads a classic pcap file (either byte order, micro- or nanosecond magic). */
export function readPcap(file: Uint8Array): PcapFile {
  if (file.length < 24) throw new SimError("BAD_PACKET", "pcap: file shorter than its 24-byte header");
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const magicLe = dv.getUint32(0, true);
  let le: boolean;
  let nano = false;
  if (magicLe === 0xa1b2c3d4 || magicLe === 0xa1b23c4d) {
    le = true;
    nano = magicLe === 0xa1b23c4d;
  } else if (dv.getUint32(0, false) === 0xa1b2c3d4 || dv.getUint32(0, false) === 0xa1b23c4d) {
    le = false;
    nano = dv.getUint32(0, false) === 0xa1b23c4d;
  } else throw new SimError("BAD_PACKET", "pcap: not a classic pcap file (bad magic)");
  const linktype = dv.getUint32(20, le);
  const records: { bytes: Uint8Array; timeUs: bigint; origLen: number }[] = [];
  let at = 24;
  while (at < file.length) {
    if (at + 16 > file.length)
      throw new SimError("BAD_PACKET", `pcap: record header truncated at byte ${at}`);
    const sec = BigInt(dv.getUint32(at, le));
    const frac = BigInt(dv.getUint32(at + 4, le));
    const incl = dv.getUint32(at + 8, le);
    const orig = dv.getUint32(at + 12, le);
    if (at + 16 + incl > file.length)
      throw new SimError("BAD_PACKET", `pcap: record truncated at byte ${at}`);
    records.push({
      bytes: file.slice(at + 16, at + 16 + incl),
      timeUs: sec * 1000000n + (nano ? frac / 1000n : frac),
      origLen: orig,
    });
    at += 16 + incl;
  }
  return { linktype, records };
}
