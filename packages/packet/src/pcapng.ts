/**
 * pcapng files (the IETF opsawg pcapng draft), the format Wireshark and tshark write by default:
 * a Section Header Block, one Interface Description Block per place frames were seen (with
 * `if_name`, `if_description`), and Enhanced Packet Blocks that say which interface a frame was
 * seen on and carry an `opt_comment` (tshark's `frame.comment`) and `epb_flags` (direction).
 * Classic pcap (pcap.ts) has one implicit interface and no comments, which is why a trace's hop
 * copies need this format to be told apart. Timestamps are whatever the caller gives (the
 * simulation's virtual clock), never the wall clock, so the same run writes the same bytes.
 *
 * The writer emits little-endian files with microsecond resolution (the default `if_tsresol`);
 * the reader takes either byte order, several sections, `if_tsresol` in powers of 10 or 2, and
 * skips block types it does not know, as libpcap and Wireshark do.
 */
import { SimError } from "./errors.js";
import { LINKTYPE_ETHERNET } from "./pcap.js";

export interface PcapngInterface {
  /** `if_name`: where the frames were seen ("node3/br-provider/underlay0"). */
  readonly name: string;
  /** `if_description`: optional longer text. */
  readonly description?: string;
  /** LINKTYPE_* (default LINKTYPE_ETHERNET). */
  readonly linktype?: number;
  /** Default 262144, as tcpdump and dumpcap use. */
  readonly snaplen?: number;
}

export type PcapngDirection = "inbound" | "outbound";

export interface PcapngPacket {
  /** Index into the section's interfaces. */
  readonly interface: number;
  readonly bytes: Uint8Array;
  /** Microseconds since the epoch of the run. */
  readonly timeUs: number | bigint;
  /** `opt_comment` (tshark: frame.comment). */
  readonly comment?: string;
  /** `epb_flags` direction bits. */
  readonly direction?: PcapngDirection;
  /**
   * `epb_packetid` (tshark: frame.packet_id): the same value on every copy of one packet seen at
   * several capture points, as the pcapng draft defines it.
   */
  readonly packetId?: number | bigint;
}

export interface PcapngCapture {
  /** `shb_userappl` (e.g. "ovnsim 0.1.0"); no hardware or OS option is written (not reproducible). */
  readonly application?: string;
  /** `opt_comment` of the section. */
  readonly comment?: string;
  readonly interfaces: readonly PcapngInterface[];
  readonly packets: readonly PcapngPacket[];
}

const SHB = 0x0a0d0d0a;
const IDB = 0x00000001;
const SPB = 0x00000003;
const EPB = 0x00000006;
const BOM = 0x1a2b3c4d;

const OPT_END = 0;
const OPT_COMMENT = 1;
const SHB_USERAPPL = 4;
const IF_NAME = 2;
const IF_DESCRIPTION = 3;
const IF_TSRESOL = 9;
const EPB_FLAGS = 2;
const EPB_PACKETID = 5;

/** Rounded up to 32 bits (arithmetic, not `& ~3`: lengths read from a file go up to 2^32 - 1). */
const pad4 = (n: number): number => n + ((4 - (n % 4)) % 4);
const utf8 = new TextEncoder();

type Opt = { code: number; value: Uint8Array };

function optionsSize(opts: readonly Opt[]): number {
  if (opts.length === 0) return 0;
  let n = 4; // opt_endofopt
  for (const o of opts) n += 4 + pad4(o.value.length);
  return n;
}

function putOptions(dv: DataView, out: Uint8Array, at: number, opts: readonly Opt[]): number {
  if (opts.length === 0) return at;
  let p = at;
  for (const o of opts) {
    if (o.value.length > 0xffff)
      throw new SimError("BAD_VALUE", `pcapng: option ${o.code} longer than 65535 bytes`);
    dv.setUint16(p, o.code, true);
    dv.setUint16(p + 2, o.value.length, true);
    out.set(o.value, p + 4);
    p += 4 + pad4(o.value.length);
  }
  dv.setUint32(p, OPT_END, true);
  return p + 4;
}

const textOpt = (code: number, s: string | undefined): Opt[] =>
  s === undefined ? [] : [{ code, value: utf8.encode(s) }];

/** Writes one pcapng section (little-endian, microsecond timestamps). */
export function writePcapng(c: PcapngCapture): Uint8Array {
  const shbOpts = [...textOpt(OPT_COMMENT, c.comment), ...textOpt(SHB_USERAPPL, c.application)];
  const idbOpts = c.interfaces.map((i) => [
    ...textOpt(IF_NAME, i.name),
    ...textOpt(IF_DESCRIPTION, i.description),
    { code: IF_TSRESOL, value: Uint8Array.of(6) },
  ]);
  const snaps = c.interfaces.map((i) => i.snaplen ?? 262144);
  const epbOpts = c.packets.map((p) => {
    const o = textOpt(OPT_COMMENT, p.comment);
    if (p.direction !== undefined) {
      const v = new Uint8Array(4);
      new DataView(v.buffer).setUint32(0, p.direction === "inbound" ? 1 : 2, true);
      o.push({ code: EPB_FLAGS, value: v });
    }
    if (p.packetId !== undefined) {
      const v = new Uint8Array(8);
      new DataView(v.buffer).setBigUint64(0, BigInt.asUintN(64, BigInt(p.packetId)), true);
      o.push({ code: EPB_PACKETID, value: v });
    }
    return o;
  });
  let size = 28 + optionsSize(shbOpts);
  for (const o of idbOpts) size += 20 + optionsSize(o);
  c.packets.forEach((p, k) => {
    if (!Number.isInteger(p.interface) || p.interface < 0 || p.interface >= c.interfaces.length)
      throw new SimError(
        "BAD_VALUE",
        `pcapng: packet ${k} names interface ${p.interface}, which is not defined`,
      );
    size += 32 + pad4(Math.min(p.bytes.length, snaps[p.interface]!)) + optionsSize(epbOpts[k]!);
  });
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  let at = 0;
  const block = (type: number, body: (p: number) => number): void => {
    const start = at;
    dv.setUint32(start, type, true);
    const end = body(start + 8);
    const len = end + 4 - start;
    dv.setUint32(start + 4, len, true);
    dv.setUint32(end, len, true);
    at = end + 4;
  };
  block(SHB, (p) => {
    dv.setUint32(p, BOM, true);
    dv.setUint16(p + 4, 1, true);
    dv.setUint16(p + 6, 0, true);
    dv.setBigInt64(p + 8, -1n, true); // section length not given
    return putOptions(dv, out, p + 16, shbOpts);
  });
  c.interfaces.forEach((i, k) => {
    block(IDB, (p) => {
      dv.setUint16(p, i.linktype ?? LINKTYPE_ETHERNET, true);
      dv.setUint16(p + 2, 0, true);
      dv.setUint32(p + 4, snaps[k]!, true);
      return putOptions(dv, out, p + 8, idbOpts[k]!);
    });
  });
  c.packets.forEach((pk, k) => {
    block(EPB, (p) => {
      const t = BigInt(pk.timeUs);
      if (t < 0n || t > 0xffffffffffffffffn)
        throw new SimError("BAD_VALUE", `pcapng: packet ${k} time ${t} out of range`);
      const incl = Math.min(pk.bytes.length, snaps[pk.interface]!);
      dv.setUint32(p, pk.interface, true);
      dv.setUint32(p + 4, Number(t >> 32n), true);
      dv.setUint32(p + 8, Number(t & 0xffffffffn), true);
      dv.setUint32(p + 12, incl, true);
      dv.setUint32(p + 16, pk.bytes.length, true);
      out.set(pk.bytes.subarray(0, incl), p + 20);
      return putOptions(dv, out, p + 20 + pad4(incl), epbOpts[k]!);
    });
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reader

export interface PcapngReadInterface {
  readonly linktype: number;
  readonly snaplen: number;
  readonly name?: string;
  readonly description?: string;
  readonly comment?: string;
  /** Timestamp units per second (10^6 unless if_tsresol says otherwise). */
  readonly unitsPerSecond: bigint;
}

export interface PcapngReadPacket {
  readonly interface: number;
  readonly bytes: Uint8Array;
  readonly origLen: number;
  /** The raw timestamp in the interface's units (0 for a Simple Packet Block). */
  readonly timestamp: bigint;
  /** The timestamp in microseconds (truncated). */
  readonly timeUs: bigint;
  readonly comments: readonly string[];
  readonly direction?: PcapngDirection;
  readonly packetId?: bigint;
}

export interface PcapngSection {
  readonly littleEndian: boolean;
  readonly version: string;
  readonly application?: string;
  readonly comments: readonly string[];
  readonly interfaces: readonly PcapngReadInterface[];
  readonly packets: readonly PcapngReadPacket[];
}

const utf8d = new TextDecoder("utf-8", { fatal: false });

interface RawOpt {
  code: number;
  value: Uint8Array;
}

function readOptions(
  file: Uint8Array,
  dv: DataView,
  from: number,
  to: number,
  le: boolean,
  where: string,
): RawOpt[] {
  const opts: RawOpt[] = [];
  let p = from;
  while (p + 4 <= to) {
    const code = dv.getUint16(p, le);
    const len = dv.getUint16(p + 2, le);
    if (code === OPT_END) break;
    if (p + 4 + len > to)
      throw new SimError("BAD_PACKET", `pcapng: ${where}: option ${code} runs past its block`);
    opts.push({ code, value: file.subarray(p + 4, p + 4 + len) });
    p += 4 + pad4(len);
  }
  return opts;
}

function unitsOf(resol: number): bigint {
  const exp = resol & 0x7f;
  if (exp > 63) throw new SimError("BAD_PACKET", `pcapng: if_tsresol ${resol} is out of range`);
  return resol & 0x80 ? 1n << BigInt(exp) : 10n ** BigInt(exp);
}

/** Reads a pcapng file into its sections. */
export function readPcapng(file: Uint8Array): PcapngSection[] {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  if (file.length < 28 || dv.getUint32(0, true) !== SHB)
    throw new SimError("BAD_PACKET", "pcapng: not a pcapng file (no Section Header Block at byte 0)");
  const sections: {
    littleEndian: boolean;
    version: string;
    application?: string;
    comments: string[];
    interfaces: PcapngReadInterface[];
    packets: PcapngReadPacket[];
  }[] = [];
  let le = true;
  let at = 0;
  while (at < file.length) {
    if (at + 12 > file.length)
      throw new SimError("BAD_PACKET", `pcapng: block header truncated at byte ${at}`);
    const type = dv.getUint32(at, le);
    if (type === SHB) {
      const bom = dv.getUint32(at + 8, true);
      if (bom === BOM) le = true;
      else if (bom === 0x4d3c2b1a) le = false;
      else throw new SimError("BAD_PACKET", `pcapng: bad byte-order magic at byte ${at + 8}`);
    }
    const len = dv.getUint32(at + 4, le);
    if (len < 12 || len % 4 !== 0 || at + len > file.length)
      throw new SimError("BAD_PACKET", `pcapng: block at byte ${at} has bad length ${len}`);
    if (dv.getUint32(at + len - 4, le) !== len)
      throw new SimError("BAD_PACKET", `pcapng: block at byte ${at}: trailing length differs from ${len}`);
    const body = at + 8;
    const end = at + len - 4;
    const where = `block at byte ${at}`;
    if (type === SHB) {
      if (len < 28) throw new SimError("BAD_PACKET", `pcapng: ${where}: Section Header Block too short`);
      const major = dv.getUint16(body + 4, le);
      const minor = dv.getUint16(body + 6, le);
      if (major !== 1) throw new SimError("UNSUPPORTED", `pcapng: section version ${major}.${minor}`);
      const opts = readOptions(file, dv, body + 16, end, le, where);
      const app = opts.find((o) => o.code === SHB_USERAPPL);
      sections.push({
        littleEndian: le,
        version: `${major}.${minor}`,
        ...(app ? { application: utf8d.decode(app.value) } : {}),
        comments: opts.filter((o) => o.code === OPT_COMMENT).map((o) => utf8d.decode(o.value)),
        interfaces: [],
        packets: [],
      });
    } else {
      const sec = sections[sections.length - 1]!;
      if (type === IDB) {
        if (len < 20)
          throw new SimError("BAD_PACKET", `pcapng: ${where}: Interface Description Block too short`);
        const opts = readOptions(file, dv, body + 8, end, le, where);
        const text = (code: number) => {
          const o = opts.find((x) => x.code === code);
          return o ? utf8d.decode(o.value) : undefined;
        };
        const res = opts.find((o) => o.code === IF_TSRESOL)?.value[0];
        const name = text(IF_NAME);
        const description = text(IF_DESCRIPTION);
        const comment = text(OPT_COMMENT);
        sec.interfaces.push({
          linktype: dv.getUint16(body, le),
          snaplen: dv.getUint32(body + 4, le),
          ...(name !== undefined ? { name } : {}),
          ...(description !== undefined ? { description } : {}),
          ...(comment !== undefined ? { comment } : {}),
          unitsPerSecond: res === undefined ? 1000000n : unitsOf(res),
        });
      } else if (type === EPB) {
        if (len < 32) throw new SimError("BAD_PACKET", `pcapng: ${where}: Enhanced Packet Block too short`);
        const ifc = dv.getUint32(body, le);
        const i = sec.interfaces[ifc];
        if (!i) throw new SimError("BAD_PACKET", `pcapng: ${where}: interface ${ifc} is not defined`);
        const ts = (BigInt(dv.getUint32(body + 4, le)) << 32n) | BigInt(dv.getUint32(body + 8, le));
        const incl = dv.getUint32(body + 12, le);
        const orig = dv.getUint32(body + 16, le);
        if (body + 20 + pad4(incl) > end)
          throw new SimError(
            "BAD_PACKET",
            `pcapng: ${where}: packet data (${incl} bytes) runs past its block`,
          );
        const opts = readOptions(file, dv, body + 20 + pad4(incl), end, le, where);
        const fl = opts.find((o) => o.code === EPB_FLAGS && o.value.length === 4);
        const dir = fl ? new DataView(fl.value.buffer, fl.value.byteOffset, 4).getUint32(0, le) & 3 : 0;
        const pid = opts.find((o) => o.code === EPB_PACKETID && o.value.length === 8);
        sec.packets.push({
          interface: ifc,
          bytes: file.slice(body + 20, body + 20 + incl),
          origLen: orig,
          timestamp: ts,
          timeUs: (ts * 1000000n) / i.unitsPerSecond,
          comments: opts.filter((o) => o.code === OPT_COMMENT).map((o) => utf8d.decode(o.value)),
          ...(dir === 1
            ? { direction: "inbound" as const }
            : dir === 2
              ? { direction: "outbound" as const }
              : {}),
          ...(pid
            ? { packetId: new DataView(pid.value.buffer, pid.value.byteOffset, 8).getBigUint64(0, le) }
            : {}),
        });
      } else if (type === SPB) {
        const i = sec.interfaces[0];
        if (!i)
          throw new SimError("BAD_PACKET", `pcapng: ${where}: Simple Packet Block before any interface`);
        if (len < 16) throw new SimError("BAD_PACKET", `pcapng: ${where}: Simple Packet Block too short`);
        const orig = dv.getUint32(body, le);
        const incl = Math.min(orig, i.snaplen || orig, end - body - 4);
        sec.packets.push({
          interface: 0,
          bytes: file.slice(body + 4, body + 4 + incl),
          origLen: orig,
          timestamp: 0n,
          timeUs: 0n,
          comments: [],
        });
      }
      // Other block types (name resolution, statistics, custom…) are skipped.
    }
    at += len;
  }
  return sections;
}

/** Whether bytes start like a pcapng file (vs classic pcap). */
export function isPcapng(file: Uint8Array): boolean {
  return file.length >= 4 && file[0] === 0x0a && file[1] === 0x0d && file[2] === 0x0d && file[3] === 0x0a;
}
