/**
 * Real frames on the wire: a Packet (the flow key plus what the key does not carry: payload, IP
 * id, TCP sequence numbers) encoded to bytes and decoded back, with every checksum real
 * (IPv4 header, TCP/UDP/ICMPv6 with the pseudo-header, ICMP, SCTP CRC32c). Decoding fills the
 * flow as OVS `flow_extract()` (lib/flow.c) does: VLAN headers (up to two), ARP opcode in
 * nw_proto, ICMP type/code in tp_src/tp_dst, fragments in nw_frag, ND target and link-layer
 * options. It lets ovnsim emit pcaps that tshark and Wireshark read, and take packets from them.
 */
import { SimError } from "./errors.js";
import { ETH_TYPE, EMPTY_FLOW, FRAG, type Flow, IP_PROTO, makeFlow, type VlanHeader } from "./flow.js";

/** A frame: its headers as the flow key sees them, plus what the key does not carry. */
export interface Packet {
  /** Header fields (dl_*, vlans, nw_*, ipv6_*, tp_*, tcp_flags, arp_*, nd_target). Metadata is ignored. */
  readonly flow: Flow;
  /**
   * Bytes after the last header the model parses: TCP/UDP/SCTP data, ICMP bytes after
   * type/code/checksum (echo id and sequence included), the 4 flag bytes of an ND message,
   * the IP payload of other protocols and later fragments, the Ethernet payload of unknown
   * ethertypes.
   */
  readonly payload: Uint8Array;
  /** IPv4 identification, or the IPv6 fragment header's identification. */
  readonly ipId: number;
  readonly tcpSeq: number;
  readonly tcpAck: number;
  readonly tcpWindow: number;
  /** SCTP verification tag. */
  readonly sctpTag: number;
}

/** A packet with defaults for what the flow does not carry. */
export function makePacket(flow: Flow, fields: Partial<Omit<Packet, "flow">> = {}): Packet {
  return Object.freeze({
    flow,
    payload: fields.payload ?? new Uint8Array(0),
    ipId: fields.ipId ?? 0,
    tcpSeq: fields.tcpSeq ?? 0,
    tcpAck: fields.tcpAck ?? 0,
    tcpWindow: fields.tcpWindow ?? 0,
    sctpTag: fields.sctpTag ?? 0,
  });
}

// ---------------------------------------------------------------------------------------------
// Checksums

/** One's complement sum of 16-bit words (RFC 1071), not yet folded. */
function sum16(b: Uint8Array, from: number, to: number, acc = 0): number {
  let s = acc;
  let i = from;
  for (; i + 1 < to; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < to) s += b[i]! << 8;
  return s;
}

function fold(s: number): number {
  let x = s;
  while (x > 0xffff) x = (x & 0xffff) + Math.floor(x / 0x10000);
  return ~x & 0xffff;
}

/** RFC 1071 Internet checksum of bytes [from, to). */
export function internetChecksum(b: Uint8Array, from = 0, to = b.length): number {
  return fold(sum16(b, from, to));
}

let CRC32C: Uint32Array | undefined;
/** CRC32c (Castagnoli), as SCTP uses. */
export function crc32c(b: Uint8Array, from = 0, to = b.length): number {
  if (!CRC32C) {
    CRC32C = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
      CRC32C[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = CRC32C[(c ^ b[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Encoding

class Writer {
  buf: Uint8Array;
  len = 0;
  constructor(size = 256) {
    this.buf = new Uint8Array(size);
  }
  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  u8(v: number): void {
    this.room(1);
    this.buf[this.len++] = v & 0xff;
  }
  u16(v: number): void {
    this.room(2);
    this.buf[this.len++] = (v >>> 8) & 0xff;
    this.buf[this.len++] = v & 0xff;
  }
  u32(v: number): void {
    this.u16((v >>> 16) & 0xffff);
    this.u16(v & 0xffff);
  }
  mac(v: number): void {
    this.u16(Math.floor(v / 0x100000000) & 0xffff);
    this.u32(v >>> 0);
  }
  ip6(v: bigint): void {
    for (let i = 3; i >= 0; i--) this.u32(Number((v >> BigInt(32 * i)) & 0xffffffffn));
  }
  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  put16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }
  put32(at: number, v: number): void {
    this.put16(at, (v >>> 16) & 0xffff);
    this.put16(at + 2, v & 0xffff);
  }
}

const hasL4 = (f: Flow): boolean => !(f.nw_frag & FRAG.later);
const IGMP = 2;
const isNdType = (t: number): boolean => t === 135 || t === 136;

/** Writes the L4 header and payload; checksums are fixed after. */
function writeL4(w: Writer, p: Packet, proto: number): void {
  const f = p.flow;
  switch (proto) {
    case IP_PROTO.tcp:
      w.u16(f.tp_src);
      w.u16(f.tp_dst);
      w.u32(p.tcpSeq);
      w.u32(p.tcpAck);
      w.u16((5 << 12) | (f.tcp_flags & 0x0fff));
      w.u16(p.tcpWindow);
      w.u16(0); // checksum
      w.u16(0); // urgent pointer
      w.bytes(p.payload);
      return;
    case IP_PROTO.udp:
      w.u16(f.tp_src);
      w.u16(f.tp_dst);
      w.u16(8 + p.payload.length);
      w.u16(0);
      w.bytes(p.payload);
      return;
    case IP_PROTO.sctp:
      w.u16(f.tp_src);
      w.u16(f.tp_dst);
      w.u32(p.sctpTag);
      w.u32(0);
      w.bytes(p.payload);
      return;
    case IP_PROTO.icmp:
    case IGMP:
      // type, code, checksum, then at least the 4 bytes that complete the 8-byte header.
      w.u8(f.tp_src);
      w.u8(f.tp_dst);
      w.u16(0);
      w.bytes(p.payload);
      for (let i = p.payload.length; i < 4; i++) w.u8(0);
      return;
    case IP_PROTO.icmpv6:
      w.u8(f.tp_src);
      w.u8(f.tp_dst);
      w.u16(0);
      if (f.tp_dst === 0 && isNdType(f.tp_src)) {
        const flags = new Uint8Array(4);
        flags.set(p.payload.subarray(0, 4));
        w.bytes(flags);
        w.ip6(f.nd_target);
        if (f.arp_sha) {
          w.u8(1);
          w.u8(1);
          w.mac(f.arp_sha);
        }
        if (f.arp_tha) {
          w.u8(2);
          w.u8(1);
          w.mac(f.arp_tha);
        }
        return;
      }
      w.bytes(p.payload);
      for (let i = p.payload.length; i < 4; i++) w.u8(0);
      return;
    default:
      w.bytes(p.payload);
  }
}

/** Fixes the L4 checksum at `l4` (the pseudo-header sum is `pseudo`). */
function fixL4Checksum(w: Writer, l4: number, proto: number, pseudo: number): void {
  const b = w.buf;
  const end = w.len;
  if (proto === IP_PROTO.tcp) w.put16(l4 + 16, fold(sum16(b, l4, end, pseudo)));
  else if (proto === IP_PROTO.udp) {
    const c = fold(sum16(b, l4, end, pseudo));
    w.put16(l4 + 6, c === 0 ? 0xffff : c);
  } else if (proto === IP_PROTO.icmp || proto === IGMP) w.put16(l4 + 2, fold(sum16(b, l4, end)));
  else if (proto === IP_PROTO.icmpv6) w.put16(l4 + 2, fold(sum16(b, l4, end, pseudo)));
  else if (proto === IP_PROTO.sctp) {
    const c = crc32c(b, l4, end);
    // SCTP stores the CRC32c little-endian on the wire (RFC 3309 appendix).
    b[l4 + 8] = c & 0xff;
    b[l4 + 9] = (c >>> 8) & 0xff;
    b[l4 + 10] = (c >>> 16) & 0xff;
    b[l4 + 11] = (c >>> 24) & 0xff;
  }
}

const CHECKSUMMED = new Set<number>([
  IP_PROTO.tcp,
  IP_PROTO.udp,
  IP_PROTO.icmp,
  IP_PROTO.icmpv6,
  IP_PROTO.sctp,
  IGMP,
]);

/** Encodes a packet as an Ethernet frame (no FCS, no padding). */
export function encodeFrame(p: Packet): Uint8Array {
  const f = p.flow;
  const w = new Writer(64 + p.payload.length);
  w.mac(f.dl_dst);
  w.mac(f.dl_src);
  for (const v of f.vlans) {
    w.u16(v.tpid);
    w.u16(((v.pcp & 7) << 13) | (v.vid & 0xfff));
  }
  w.u16(f.dl_type);
  if (f.dl_type === ETH_TYPE.ip) {
    const ip = w.len;
    w.u8(0x45);
    w.u8(f.nw_tos);
    w.u16(0); // total length, below
    w.u16(p.ipId);
    // nw_frag: first = MF set, offset 0; later = offset 1 (8 bytes), MF clear.
    w.u16(f.nw_frag & FRAG.later ? 1 : f.nw_frag & FRAG.any ? 0x2000 : 0);
    w.u8(f.nw_ttl);
    w.u8(f.nw_proto);
    w.u16(0);
    w.u32(f.nw_src);
    w.u32(f.nw_dst);
    const l4 = w.len;
    if (hasL4(f)) writeL4(w, p, f.nw_proto);
    else w.bytes(p.payload);
    w.put16(ip + 2, w.len - ip);
    w.put16(ip + 10, internetChecksum(w.buf, ip, ip + 20));
    if (hasL4(f) && CHECKSUMMED.has(f.nw_proto)) {
      const len = w.len - l4;
      let ps = 0;
      ps += (f.nw_src >>> 16) + (f.nw_src & 0xffff) + (f.nw_dst >>> 16) + (f.nw_dst & 0xffff);
      ps += f.nw_proto + len;
      fixL4Checksum(w, l4, f.nw_proto, ps);
    }
  } else if (f.dl_type === ETH_TYPE.ipv6) {
    const ip = w.len;
    w.u32(((6 << 28) | ((f.nw_tos & 0xff) << 20) | (f.ipv6_label & 0xfffff)) >>> 0);
    w.u16(0); // payload length, below
    const frag = (f.nw_frag & FRAG.any) !== 0;
    w.u8(frag ? 44 : f.nw_proto);
    w.u8(f.nw_ttl);
    w.ip6(f.ipv6_src);
    w.ip6(f.ipv6_dst);
    if (frag) {
      // A later fragment's flow says nw_proto=44 (OVS stops at the fragment header).
      w.u8(f.nw_frag & FRAG.later && f.nw_proto === 44 ? 59 : f.nw_proto);
      w.u8(0);
      w.u16(f.nw_frag & FRAG.later ? 1 << 3 : 1); // offset 1 (8 bytes) for later, else M flag
      w.u32(p.ipId);
    }
    const l4 = w.len;
    if (hasL4(f)) writeL4(w, p, f.nw_proto);
    else w.bytes(p.payload);
    w.put16(ip + 4, w.len - ip - 40);
    if (hasL4(f) && CHECKSUMMED.has(f.nw_proto)) {
      const len = w.len - l4;
      let ps = 0;
      for (let i = 0; i < 8; i++) ps += Number((f.ipv6_src >> BigInt(16 * i)) & 0xffffn);
      for (let i = 0; i < 8; i++) ps += Number((f.ipv6_dst >> BigInt(16 * i)) & 0xffffn);
      ps += Math.floor(len / 0x10000) + (len & 0xffff) + f.nw_proto;
      fixL4Checksum(w, l4, f.nw_proto, ps);
    }
  } else if (f.dl_type === ETH_TYPE.arp || f.dl_type === ETH_TYPE.rarp) {
    w.u16(1);
    w.u16(ETH_TYPE.ip);
    w.u8(6);
    w.u8(4);
    w.u16(f.nw_proto);
    w.mac(f.arp_sha);
    w.u32(f.nw_src);
    w.mac(f.arp_tha);
    w.u32(f.nw_dst);
    w.bytes(p.payload);
  } else {
    w.bytes(p.payload);
  }
  return w.buf.slice(0, w.len);
}

// ---------------------------------------------------------------------------------------------
// Decoding

function need(b: Uint8Array, at: number, n: number, what: string): void {
  if (at + n > b.length) {
    throw new SimError(
      "BAD_PACKET",
      `${what}: frame truncated at byte ${at} (needs ${n} more, has ${b.length - at})`,
    );
  }
}
const r16 = (b: Uint8Array, i: number): number => (b[i]! << 8) | b[i + 1]!;
const r32 = (b: Uint8Array, i: number): number =>
  ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
const rmac = (b: Uint8Array, i: number): number => r16(b, i) * 0x100000000 + r32(b, i + 2);
function r128(b: Uint8Array, i: number): bigint {
  let v = 0n;
  for (let k = 0; k < 4; k++) v = (v << 32n) | BigInt(r32(b, i + 4 * k));
  return v;
}

export interface DecodeOptions {
  /** in_port to put in the flow (the port the frame arrived on). */
  readonly in_port?: number;
  /**
   * How many VLAN headers to parse, as Open_vSwitch other_config:vlan-limit (OVS default 1;
   * 0 means the maximum, 2). Further tags stay in the payload with dl_type 0x8100/0x88a8.
   */
  readonly vlanLimit?: number;
}

type MutableFlow = { -readonly [K in keyof Flow]: Flow[K] };
type Extra = { ipId: number; tcpSeq: number; tcpAck: number; tcpWindow: number; sctpTag: number };

const isExtHdr = (p: number): boolean => p === 0 || p === 43 || p === 60 || p === 51 || p === 44;

/**
 * Decodes an Ethernet frame into a Packet, filling the flow exactly as OVS miniflow_extract()
 * (lib/flow.c) does: what OVS would not parse (a truncated or insane IP header, a short L4
 * header, a broken IPv6 extension header chain) is left zero and stays in the payload, as OVS
 * leaves it out of the flow. Only a frame shorter than an Ethernet header is an error
 * (SimError BAD_PACKET). Checksums are not verified here (see frameChecksumsOk).
 */
export function decodeFrame(bytes: Uint8Array, opts: DecodeOptions = {}): Packet {
  const b = bytes;
  need(b, 0, 14, "ethernet");
  const fl: MutableFlow = { ...EMPTY_FLOW };
  fl.in_port = opts.in_port ?? 0;
  fl.dl_dst = rmac(b, 0);
  fl.dl_src = rmac(b, 6);
  let at = 12;
  let end = b.length;
  const limit = opts.vlanLimit === undefined ? 1 : opts.vlanLimit === 0 ? 2 : Math.min(opts.vlanLimit, 2);
  const vlans: VlanHeader[] = [];
  while (vlans.length < limit && end - at >= 6) {
    const t = r16(b, at);
    if (t !== ETH_TYPE.vlan && t !== ETH_TYPE.qinq) break;
    const tci = r16(b, at + 2);
    vlans.push({ tpid: t, pcp: tci >>> 13, vid: tci & 0xfff });
    at += 4;
  }
  fl.vlans = vlans;
  // parse_ethertype(): 802.3 length field → LLC/SNAP type, or FLOW_DL_TYPE_NONE (0x05ff).
  let type = r16(b, at);
  at += 2;
  if (type < 0x600) {
    if (
      end - at >= 8 &&
      b[at] === 0xaa &&
      b[at + 1] === 0xaa &&
      b[at + 2] === 0x03 &&
      b[at + 3] === 0 &&
      b[at + 4] === 0 &&
      b[at + 5] === 0
    ) {
      const snap = r16(b, at + 6);
      at += 8;
      type = snap >= 0x600 ? snap : 0x05ff;
    } else type = 0x05ff;
  }
  fl.dl_type = type;
  const pk: Extra = { ipId: 0, tcpSeq: 0, tcpAck: 0, tcpWindow: 0, sctpTag: 0 };
  let payload: Uint8Array;
  if (type === ETH_TYPE.ip) {
    const size = end - at;
    const ihl = size >= 1 ? (b[at]! & 0xf) * 4 : 0;
    const tot = size >= 4 ? r16(b, at + 2) : 0;
    // ipv4_sanity_check()
    if (size < 20 || ihl < 20 || ihl > size || b[at]! >>> 4 !== 4 || tot < ihl || tot > size) {
      return makePacket(makeFlow(fl), { ...pk, payload: b.slice(at) });
    }
    end = at + tot; // never the Ethernet padding
    fl.nw_src = r32(b, at + 12);
    fl.nw_dst = r32(b, at + 16);
    fl.nw_tos = b[at + 1]!;
    pk.ipId = r16(b, at + 4);
    const fragw = r16(b, at + 6);
    const offset = fragw & 0x1fff;
    fl.nw_frag = (fragw & 0x2000) !== 0 || offset !== 0 ? FRAG.any | (offset !== 0 ? FRAG.later : 0) : 0;
    fl.nw_ttl = b[at + 8]!;
    fl.nw_proto = b[at + 9]!;
    payload = decodeL4(b, at + ihl, end, fl, pk);
  } else if (type === ETH_TYPE.ipv6) {
    const size = end - at;
    // ipv6_sanity_check(): a whole header, version 6, payload length within the frame.
    if (size < 40 || b[at]! >>> 4 !== 6 || r16(b, at + 4) > size - 40) {
      return makePacket(makeFlow(fl), { ...pk, payload: b.slice(at) });
    }
    end = at + 40 + r16(b, at + 4);
    fl.ipv6_src = r128(b, at + 8);
    fl.ipv6_dst = r128(b, at + 24);
    const w0 = r32(b, at);
    let next = b[at + 6]!;
    let l4 = at + 40;
    let frag = 0;
    // parse_ipv6_ext_hdrs__(): hop-by-hop, routing, destination options, AH, fragment.
    let ok = true;
    while (isExtHdr(next)) {
      if (end - l4 < 8) {
        ok = false;
        break;
      }
      if (next === 44) {
        const offlg = r16(b, l4 + 2);
        pk.ipId = r32(b, l4 + 4);
        next = b[l4]!;
        l4 += 8;
        if (offlg !== 0) {
          frag = FRAG.any;
          if ((offlg & 0xfff8) !== 0) {
            frag |= FRAG.later;
            next = 44;
            break;
          }
        }
      } else {
        const len = next === 51 ? (b[l4 + 1]! + 2) * 4 : (b[l4 + 1]! + 1) * 8;
        next = b[l4]!;
        if (end - l4 < len) {
          ok = false;
          break;
        }
        l4 += len;
      }
    }
    if (!ok) {
      pk.ipId = 0;
      return makePacket(makeFlow(fl), { ...pk, payload: b.slice(at + 40, end) });
    }
    fl.ipv6_label = w0 & 0xfffff;
    fl.nw_tos = (w0 >>> 20) & 0xff;
    fl.nw_ttl = b[at + 7]!;
    fl.nw_proto = next;
    fl.nw_frag = frag;
    payload = decodeL4(b, l4, end, fl, pk);
  } else if (type === ETH_TYPE.arp || type === ETH_TYPE.rarp) {
    if (
      end - at >= 28 &&
      r16(b, at) === 1 &&
      r16(b, at + 2) === ETH_TYPE.ip &&
      b[at + 4] === 6 &&
      b[at + 5] === 4
    ) {
      const op = r16(b, at + 6);
      fl.nw_proto = op <= 0xff ? op : 0;
      fl.arp_sha = rmac(b, at + 8);
      fl.nw_src = r32(b, at + 14);
      fl.arp_tha = rmac(b, at + 18);
      fl.nw_dst = r32(b, at + 24);
      payload = b.slice(at + 28);
    } else payload = b.slice(at);
  } else {
    payload = b.slice(at);
  }
  return makePacket(makeFlow(fl), { ...pk, payload });
}

/** The transport layer, as miniflow_extract(): a header too short to parse is left out. */
function decodeL4(b: Uint8Array, at: number, end: number, fl: MutableFlow, pk: Extra): Uint8Array {
  if (fl.nw_frag & FRAG.later) return b.slice(at, end);
  const len = end - at;
  switch (fl.nw_proto) {
    case IP_PROTO.tcp: {
      if (len < 20) break;
      const w = r16(b, at + 12);
      const doff = (w >>> 12) * 4;
      if (doff < 20 || doff > len) break;
      fl.tp_src = r16(b, at);
      fl.tp_dst = r16(b, at + 2);
      pk.tcpSeq = r32(b, at + 4);
      pk.tcpAck = r32(b, at + 8);
      fl.tcp_flags = w & 0x0fff;
      pk.tcpWindow = r16(b, at + 14);
      return b.slice(at + doff, end);
    }
    case IP_PROTO.udp:
      if (len < 8) break;
      fl.tp_src = r16(b, at);
      fl.tp_dst = r16(b, at + 2);
      return b.slice(at + 8, end);
    case IP_PROTO.sctp:
      if (len < 12) break;
      fl.tp_src = r16(b, at);
      fl.tp_dst = r16(b, at + 2);
      pk.sctpTag = r32(b, at + 4);
      return b.slice(at + 12, end);
    case IP_PROTO.icmp:
    case IGMP:
      // ICMP and IGMP headers are 8 bytes; type and code go to tp_src/tp_dst (OVS does this
      // for an IPv6 packet with next header 1 or 2 too).
      if (len < 8) break;
      fl.tp_src = b[at]!;
      fl.tp_dst = b[at + 1]!;
      return b.slice(at + 4, end);
    case IP_PROTO.icmpv6: {
      if (len < 8) break;
      fl.tp_src = b[at]!;
      fl.tp_dst = b[at + 1]!;
      if (fl.tp_dst === 0 && isNdType(fl.tp_src)) {
        if (len < 24) return b.slice(at + 4, end);
        let target = r128(b, at + 8);
        let sha = 0;
        let tha = 0;
        let optType = 0;
        let o = at + 24;
        while (end - o >= 8) {
          const t = b[o]!;
          const l = b[o + 1]! * 8;
          if (l === 0 || l > end - o) break;
          if (t === 1 && l === 8) {
            if (sha !== 0) {
              target = 0n;
              sha = 0;
              tha = 0;
              optType = 0;
              break;
            }
            sha = rmac(b, o + 2);
            if (!optType) optType = 1;
          } else if (t === 2 && l === 8) {
            if (tha !== 0) {
              target = 0n;
              sha = 0;
              tha = 0;
              optType = 0;
              break;
            }
            tha = rmac(b, o + 2);
            if (!optType) optType = 2;
          }
          o += l;
        }
        fl.nd_target = target;
        fl.arp_sha = sha;
        fl.arp_tha = tha;
        // OVS also stores the first option's type in tcp_flags (nd_options_type) and the flag
        // word in nd_reserved; neither is modelled, so tcp_flags stays 0 here.
        void optType;
        return b.slice(at + 4, at + 8);
      }
      return b.slice(at + 4, end);
    }
  }
  return b.slice(at, end);
}

/**
 * Whether every checksum in the frame is right: the IPv4 header checksum, and the TCP, UDP
 * (0 = none), ICMP, IGMP, ICMPv6 (pseudo-header) checksums and the SCTP CRC32c of an
 * unfragmented or first-fragment payload. Frames it cannot parse far enough have nothing to
 * check and count as right.
 */
export function frameChecksumsOk(bytes: Uint8Array): boolean {
  const b = bytes;
  if (b.length < 14) return true;
  let at = 12;
  for (let n = 0; n < 2 && b.length - at >= 6; n++) {
    const t = r16(b, at);
    if (t !== ETH_TYPE.vlan && t !== ETH_TYPE.qinq) break;
    at += 4;
  }
  const type = r16(b, at);
  at += 2;
  let l4 = 0;
  let end = 0;
  let proto = 0;
  let pseudo = 0;
  if (type === ETH_TYPE.ip) {
    const size = b.length - at;
    if (size < 20) return true;
    const ihl = (b[at]! & 0xf) * 4;
    const tot = r16(b, at + 2);
    if (b[at]! >>> 4 !== 4 || ihl < 20 || ihl > size || tot < ihl || tot > size) return true;
    if (fold(sum16(b, at, at + ihl)) !== 0) return false;
    const fragw = r16(b, at + 6);
    if (fragw & 0x1fff) return true; // a later fragment: no L4 header to check
    if (fragw & 0x2000) return true; // a first fragment: the L4 checksum covers bytes not here
    l4 = at + ihl;
    end = at + tot;
    proto = b[at + 9]!;
    pseudo = sum16(b, at + 12, at + 20) + proto + (end - l4);
  } else if (type === ETH_TYPE.ipv6) {
    if (b.length - at < 40 || b[at]! >>> 4 !== 6) return true;
    end = at + 40 + r16(b, at + 4);
    if (end > b.length) return true;
    proto = b[at + 6]!;
    l4 = at + 40;
    while (isExtHdr(proto)) {
      if (end - l4 < 8) return true;
      if (proto === 44) {
        if (r16(b, l4 + 2) !== 0) return true; // any fragment: the checksum spans fragments
        proto = b[l4]!;
        l4 += 8;
      } else {
        const len = proto === 51 ? (b[l4 + 1]! + 2) * 4 : (b[l4 + 1]! + 1) * 8;
        proto = b[l4]!;
        if (end - l4 < len) return true;
        l4 += len;
      }
    }
    const len = end - l4;
    pseudo = sum16(b, at + 8, at + 40) + proto + Math.floor(len / 0x10000) + (len & 0xffff);
  } else return true;
  const len = end - l4;
  switch (proto) {
    case IP_PROTO.tcp:
      return len < 20 || fold(sum16(b, l4, end, pseudo)) === 0;
    case IP_PROTO.udp:
      return len < 8 || r16(b, l4 + 6) === 0 || fold(sum16(b, l4, end, pseudo)) === 0;
    case IP_PROTO.icmp:
    case IGMP:
      return len < 4 || fold(sum16(b, l4, end)) === 0;
    case IP_PROTO.icmpv6:
      return len < 4 || fold(sum16(b, l4, end, pseudo)) === 0;
    case IP_PROTO.sctp: {
      if (len < 12) return true;
      const stored = (b[l4 + 8]! | (b[l4 + 9]! << 8) | (b[l4 + 10]! << 16) | (b[l4 + 11]! << 24)) >>> 0;
      const copy = b.slice(l4, end);
      copy[8] = copy[9] = copy[10] = copy[11] = 0;
      return crc32c(copy) === stored;
    }
    default:
      return true;
  }
}
