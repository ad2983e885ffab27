/**
 * The frames of a trace as a classic libpcap file (LINKTYPE_ETHERNET), one record per hop where
 * the frame was on a wire or a port, 802.1Q tags where they are on that wire, IPv4 and TCP/UDP/
 * ICMP checksums filled in so tshark shows no errors. Timestamps are virtual (hop n at n ms),
 * never the wall clock.
 *
 * Stand-in: @ovnsim/packet was to provide the wire encoder and pcap writer; until it exports
 * them, this module encodes the few frame kinds a trace carries (Ethernet/802.1Q, ARP, IPv4
 * with TCP/UDP/ICMP) behind the same small interface (`encodeFrame`, `writePcap`).
 */
import { ETH_TYPE, type Flow, IP_PROTO } from "@ovnsim/packet";

function putMac(b: Uint8Array, off: number, mac: number): void {
  const hi = Math.floor(mac / 0x100000000);
  b[off] = (hi >>> 8) & 0xff;
  b[off + 1] = hi & 0xff;
  b[off + 2] = (mac >>> 24) & 0xff;
  b[off + 3] = (mac >>> 16) & 0xff;
  b[off + 4] = (mac >>> 8) & 0xff;
  b[off + 5] = mac & 0xff;
}
const put16 = (b: Uint8Array, off: number, v: number) => {
  b[off] = (v >>> 8) & 0xff;
  b[off + 1] = v & 0xff;
};
const put32 = (b: Uint8Array, off: number, v: number) => {
  put16(b, off, (v >>> 16) & 0xffff);
  put16(b, off + 2, v & 0xffff);
};

function csum(b: Uint8Array, off: number, len: number, initial = 0): number {
  let s = initial;
  for (let i = 0; i < len - 1; i += 2) s += (b[off + i]! << 8) | b[off + i + 1]!;
  if (len & 1) s += b[off + len - 1]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** The frame's bytes on the wire (minimum Ethernet size padded). */
export function encodeFrame(f: Flow): Uint8Array {
  const l2 = 14 + 4 * f.vlans.length;
  let l3: Uint8Array;
  if (f.dl_type === ETH_TYPE.arp) {
    l3 = new Uint8Array(28);
    put16(l3, 0, 1);
    put16(l3, 2, 0x0800);
    l3[4] = 6;
    l3[5] = 4;
    put16(l3, 6, f.nw_proto);
    putMac(l3, 8, f.arp_sha);
    put32(l3, 14, f.nw_src);
    putMac(l3, 18, f.arp_tha);
    put32(l3, 24, f.nw_dst);
  } else if (f.dl_type === ETH_TYPE.ip) {
    const l4len =
      f.nw_proto === IP_PROTO.tcp
        ? 20
        : f.nw_proto === IP_PROTO.udp
          ? 8
          : f.nw_proto === IP_PROTO.icmp
            ? 8
            : 0;
    l3 = new Uint8Array(20 + l4len);
    l3[0] = 0x45;
    l3[1] = f.nw_tos;
    put16(l3, 2, 20 + l4len);
    put16(l3, 6, 0x4000);
    l3[8] = f.nw_ttl || 64;
    l3[9] = f.nw_proto;
    put32(l3, 12, f.nw_src);
    put32(l3, 16, f.nw_dst);
    put16(l3, 10, csum(l3, 0, 20));
    const pseudo = (len: number): number => {
      let s = (f.nw_src >>> 16) + (f.nw_src & 0xffff) + (f.nw_dst >>> 16) + (f.nw_dst & 0xffff);
      s += f.nw_proto + len;
      return s;
    };
    if (f.nw_proto === IP_PROTO.tcp) {
      put16(l3, 20, f.tp_src);
      put16(l3, 22, f.tp_dst);
      put32(l3, 24, 1);
      put32(l3, 28, f.tcp_flags & 0x010 ? 1 : 0);
      l3[32] = 5 << 4;
      l3[33] = f.tcp_flags & 0xff;
      put16(l3, 34, 64240);
      put16(l3, 36, csum(l3, 20, 20, pseudo(20)));
    } else if (f.nw_proto === IP_PROTO.udp) {
      put16(l3, 20, f.tp_src);
      put16(l3, 22, f.tp_dst);
      put16(l3, 24, 8);
      put16(l3, 26, csum(l3, 20, 8, pseudo(8)) || 0xffff);
    } else if (f.nw_proto === IP_PROTO.icmp) {
      l3[20] = f.tp_src;
      l3[21] = f.tp_dst;
      put16(l3, 24, 1);
      put16(l3, 26, 1);
      put16(l3, 22, csum(l3, 20, 8));
    }
  } else {
    l3 = new Uint8Array(0);
  }
  const len = Math.max(60, l2 + l3.length);
  const b = new Uint8Array(len);
  putMac(b, 0, f.dl_dst);
  putMac(b, 6, f.dl_src);
  let off = 12;
  for (const v of f.vlans) {
    put16(b, off, v.tpid || 0x8100);
    put16(b, off + 2, ((v.pcp & 7) << 13) | (v.vid & 0xfff));
    off += 4;
  }
  put16(b, off, f.dl_type);
  b.set(l3, off + 2);
  return b;
}

/** A pcap file (microsecond timestamps, LINKTYPE_ETHERNET) with one record per frame. */
export function writePcap(frames: readonly Flow[]): Uint8Array {
  const recs = frames.map(encodeFrame);
  const total = 24 + recs.reduce((n, r) => n + 16 + r.length, 0);
  const b = new Uint8Array(total);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, 0xa1b2c3d4, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setUint32(16, 65535, true);
  dv.setUint32(20, 1, true);
  let off = 24;
  recs.forEach((r, i) => {
    dv.setUint32(off, 0, true);
    dv.setUint32(off + 4, i * 1000, true);
    dv.setUint32(off + 8, r.length, true);
    dv.setUint32(off + 12, r.length, true);
    b.set(r, off + 16);
    off += 16 + r.length;
  });
  return b;
}
