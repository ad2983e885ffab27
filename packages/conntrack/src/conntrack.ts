/**
 * Connection tracking as Open vSwitch's userspace datapath does it (`lib/conntrack.c`,
 * `conntrack-tcp.c`, `conntrack-other.c`, `conntrack-icmp.c`, `conntrack-tp.c`), to the depth a
 * trace needs. The OpenFlow `ct(...)` action and OVN's `ct_next`, `ct_commit`, `ct_lb_mark`
 * all come down to one call, {@link Conntrack.process}.
 *
 * What?
 *   A table of connections per zone. Each connection is keyed twice, by its original tuple and
 *   by the tuple its replies will carry (after NAT), so a reply finds it. A packet that passes
 *   through `ct` gets `ct_state`, `ct_zone`, `ct_mark`, `ct_label` and the original-direction
 *   tuple (`ct_nw_src`…`ct_tp_dst`), and with `nat` its addresses and ports are rewritten.
 *
 * ct_state rules implemented (userspace conntrack, OVS 3.1)
 *   - Every packet that goes through ct gets `trk`. Entering a zone other than the packet's
 *     current `ct_zone` clears the previous state first (`process_one`).
 *   - Not IP, an ICMP query with a non-zero code, an ICMP type that is neither query nor error,
 *     or an ICMP error whose connection is unknown → `inv|trk`, mark and label 0.
 *   - No connection: if the protocol allows a new one (`valid_new`) → `new|trk`, and with
 *     `commit` the connection is created; otherwise `inv|trk`. TCP: any flags except invalid
 *     combinations (SYN+RST, SYN+FIN, neither SYN nor ACK nor RST, FIN/PSH/URG without ACK) and
 *     SYN+ACK may open a connection, so a first bare ACK is `new` (mid-stream pickup). ICMP: only
 *     echo, timestamp and info requests. UDP, SCTP and other protocols: always.
 *   - Connection found: the direction is `rpl` if the packet matched the reply tuple. Then per
 *     protocol (`conn_update`):
 *       TCP: a pure SYN from a side that has sent at most a SYN → `new` (retransmission); a SYN
 *       when both sides are at FIN_WAIT_2 or later → the old connection is dropped and a new one
 *       created; invalid flags → `inv`; otherwise `est` (plus `rpl` for replies). The peer
 *       states follow the OVS/pf machine: SYN_SENT, ESTABLISHED on the other side's ACK,
 *       CLOSING on FIN, FIN_WAIT_2 when that FIN is ACKed, TIME_WAIT on RST.
 *       UDP/SCTP/other: `new` until a reply has been seen, then `est`.
 *       ICMP query: `new` until the reply, then `est`.
 *   - ICMP error for a known connection → `rel|trk` (plus `rpl` when it travels in the reply
 *     direction); the connection's mark and label are reported.
 *   - NAT: on `commit` of a new connection with `nat(dst=…)`/`nat(src=…)` the packet is
 *     translated and `dnat`/`snat` is set. On a known connection, a `ct(nat)` (any nat action,
 *     even bare `nat`) applies the connection's translation in the packet's direction: a reply
 *     to a DNAT connection has its source rewritten back to the VIP and gets `snat`
 *     (`nat_packet`, `nat_action_reverse`). A packet already translated in this zone is not
 *     translated twice (`handle_nat`), and its connection is found by its reversed tuple
 *     (`initial_conn_lookup`).
 *   - Un-NAT entries (OVS 3.1): a NAT connection's reply key is a separate entry that never
 *     times out by itself. When the connection dies (timeout, replacement, `force`) the entry
 *     lingers until the sweeper ({@link CT_SWEEP_DELAY}); a packet matching it is `inv`
 *     ("Missing parent conn"), a pure SYN from the reply side of a closed NAT connection ends it
 *     without creating one (`trk` only), and a new NAT connection whose reply tuple is taken
 *     moves to the next free client port (`nat_get_unique_tuple`).
 *   - `force` with a packet in the reply direction deletes the connection and starts a new one.
 *   - `mark`/`label` (`exec(set_field…)`) are written to the connection and the packet, only
 *     when there is a connection (OVS requires `commit` with `exec`).
 *   - Timeouts (seconds, `ct_dpif_netdev_tp_def`): TCP first packet 30, opening 30,
 *     established 86400, closing 900, fin-wait 45, closed 30; UDP first 60, single 60,
 *     multiple 30; ICMP first 60, reply 30. An expired connection is never found.
 *
 * Not modelled: TCP sequence/window checks (OVS `tcp_seq_chk`; traces carry no sequence
 *   numbers, so the check behaves as bypassed), fragments (reassembly), ALGs (FTP/TFTP),
 *   zone limits, NAT address/port ranges (the first of a range is used), the random second
 *   round of OVS's port search, the `nat` without arguments on a new connection (no
 *   translation, as OVS).
 *
 * Determinism and replay: a table is an immutable value. `process` returns a new table that
 *   shares all untouched buckets (and trie leaves) with the old one, so a trace can be re-run from any earlier
 *   table and two traces compared. Time is virtual: every call takes `now` (seconds).
 */
import { CS, type Flow, IP_PROTO, SimError, TCP_FLAG, formatIp4, formatIp6, withFlow } from "@ovnsim/packet";
import { type CtTuple, type IcmpInner, extractTuple, reverseTuple, tuplesEqual } from "./tuple.js";

/** TCP peer state (OVS `enum ct_dpif_tcp_state`, the subset the model moves through). */
export type TcpPeerState = "CLOSED" | "SYN_SENT" | "ESTABLISHED" | "CLOSING" | "FIN_WAIT_2" | "TIME_WAIT";
/** Values of OVS `enum ct_dpif_tcp_state` (lib/ct-dpif.h), whose order the state machine compares. */
const TCP_ORDER: Readonly<Record<TcpPeerState, number>> = {
  CLOSED: 0,
  SYN_SENT: 2,
  ESTABLISHED: 4,
  CLOSING: 7,
  FIN_WAIT_2: 9,
  TIME_WAIT: 10,
};

/** Per-protocol connection state. */
export type CtProtoState =
  | { readonly kind: "tcp"; readonly peers: readonly [TcpPeerState, TcpPeerState] }
  | { readonly kind: "other"; readonly state: "FIRST" | "MULTIPLE" | "BIDIR" }
  | { readonly kind: "icmp"; readonly state: "FIRST" | "REPLY" };

/** Address translation of a connection. */
export interface CtNatBinding {
  readonly kind: "dnat" | "snat";
  /** Translated address (u32 for IPv4, bigint for IPv6) and port (undefined: port unchanged). */
  readonly ip: number | bigint;
  readonly port: number | undefined;
}

/** One connection. */
export interface CtEntry {
  /** Creation order, unique within a table's history. */
  readonly id: number;
  readonly zone: number;
  /** Original direction, as the first packet arrived (pre-NAT). */
  readonly orig: CtTuple;
  /** Tuple the replies carry (post-NAT, reversed). */
  readonly reply: CtTuple;
  readonly nat: CtNatBinding | undefined;
  readonly mark: number;
  readonly label: bigint;
  readonly proto: CtProtoState;
  /** Virtual time (seconds) of creation and of expiry. */
  readonly created: number;
  readonly expires: number;
}

/** NAT requested by a ct action: `nat` alone (`{}`), `nat(dst=IP[:port])`, `nat(src=IP[:port])`. */
export interface CtNatRequest {
  readonly kind?: "dnat" | "snat";
  readonly ip?: number | bigint;
  readonly port?: number;
}

/** Options of one pass through conntrack: the ct() action's arguments plus context. */
export interface CtOptions {
  readonly zone: number;
  /** `commit`: allow a new connection to be created. */
  readonly commit?: boolean;
  /** `force`: a packet in the reply direction replaces its connection (implies commit). */
  readonly force?: boolean;
  /** `nat…`: translate (new connections with an address) or un-translate (known ones). */
  readonly nat?: CtNatRequest;
  /** `exec(set_field:V/M->ct_mark)`; mask defaults to all ones. */
  readonly mark?: { readonly value: number; readonly mask?: number };
  /** `exec(set_field:V/M->ct_label)`; mask defaults to all ones. */
  readonly label?: { readonly value: bigint; readonly mask?: bigint };
  /** Virtual time in seconds (default 0). */
  readonly now?: number;
  /** ICMP id of an ICMP query (the flow key has none); default 0. */
  readonly icmpId?: number;
  /** Embedded header of an ICMP error, needed to relate it to its connection. */
  readonly icmpInner?: IcmpInner;
}

/** What happened to one packet. */
export interface CtResult {
  /** The packet after ct: ct_state/zone/mark/label/orig tuple set, addresses NATed. */
  readonly flow: Flow;
  readonly ctState: number;
  /** The packet's connection after this pass (undefined when not tracked as one). */
  readonly entry: CtEntry | undefined;
  /** A connection was created by this pass. */
  readonly created: boolean;
  /** The packet travels in the reply direction of its connection. */
  readonly reply: boolean;
  /** Translation applied to the packet in this pass, if any. */
  readonly natApplied: "dnat" | "snat" | undefined;
  /** One line per rule that decided the outcome, for trace output. */
  readonly notes: readonly string[];
  /** The table after this pass. */
  readonly table: Conntrack;
}

// Timeouts, seconds (lib/conntrack-tp.c ct_dpif_netdev_tp_def via tm_to_ct_dpif_tp).
export const CT_TIMEOUTS = {
  tcpFirstPacket: 30,
  tcpOpening: 30,
  tcpEstablished: 86400,
  tcpClosing: 900,
  tcpFinWait: 45,
  tcpClosed: 30,
  otherFirst: 60,
  otherMultiple: 60,
  otherBidir: 30,
  icmpFirst: 60,
  icmpReply: 30,
} as const;

/**
 * Seconds after a NAT connection dies (expiry, or replacement by a new SYN or `force`) until
 * the sweeper removes its un-NAT reply key. OVS 3.1's clean thread wakes every 20 s
 * (`conntrack_clean`), so the real delay is anywhere up to that; the model takes the maximum.
 */
export const CT_SWEEP_DELAY = 20;

/**
 * Buckets of the persistent table: a two-level trie of LEAF_SLOTS-wide leaves (4,096 buckets),
 * so adding a connection copies one 64-slot top array, one 64-slot leaf and one small bucket,
 * not a bucket that grows with the table (a trace stream commits thousands of connections).
 */
const LEAF_BITS = 6;
const LEAF_SLOTS = 1 << LEAF_BITS;
const N_BUCKETS = LEAF_SLOTS * LEAF_SLOTS;
const LABEL_MASK = (1n << 128n) - 1n;

/** A tuple's bucket, hashed from its numbers (no key string is built: this runs per ct pass). */
function bucketOf(zone: number, t: CtTuple): number {
  let h = Math.imul(zone ^ 0x9e3779b9, 0x85ebca6b);
  h = Math.imul(h ^ t.proto, 0xcc9e2d51);
  if (t.family === 4) {
    h = Math.imul(h ^ t.src4, 0x1b873593);
    h = Math.imul(h ^ t.dst4, 0x85ebca6b);
  } else {
    h = Math.imul(h ^ Number(BigInt.asUintN(32, t.src6 ^ (t.src6 >> 64n))), 0x1b873593);
    h = Math.imul(h ^ Number(BigInt.asUintN(32, t.dst6 ^ (t.dst6 >> 64n))), 0x85ebca6b);
  }
  h = Math.imul(h ^ ((t.sport << 16) | t.dport), 0xcc9e2d51);
  h = Math.imul(h ^ t.icmpType, 0x1b873593);
  h ^= h >>> 15;
  h ^= h >>> 13;
  return (h >>> 0) & (N_BUCKETS - 1);
}

/** One key of a connection: the tuple (in its zone) it is found by, and which direction that is. */
interface KeyRef {
  readonly zone: number;
  readonly tuple: CtTuple;
  readonly entry: CtEntry;
  readonly dir: "orig" | "reply";
}

/** A bucket: the few keys that hash to it (copied on write; the table is a persistent value). */
type Bucket = readonly KeyRef[];

const sameKey = (r: KeyRef, zone: number, t: CtTuple): boolean => r.zone === zone && tuplesEqual(r.tuple, t);

/** The connection table: an immutable value. */
export class Conntrack {
  private constructor(
    private readonly buckets: readonly (readonly (Bucket | undefined)[] | undefined)[],
    /** Next connection id. */
    readonly nextId: number,
  ) {}

  /** An empty table. */
  static empty(): Conntrack {
    return new Conntrack(new Array<undefined>(LEAF_SLOTS).fill(undefined), 1);
  }

  private bucket(bi: number): Bucket | undefined {
    return this.buckets[bi >>> LEAF_BITS]?.[bi & (LEAF_SLOTS - 1)];
  }

  /** The table itself (it is immutable); kept so callers can say what they mean. */
  snapshot(): Conntrack {
    return this;
  }

  /** Live connections at `now` (all connections when `now` is omitted), oldest first. */
  entries(now?: number): readonly CtEntry[] {
    const seen = new Map<number, CtEntry>();
    for (const leaf of this.buckets) {
      if (!leaf) continue;
      for (const b of leaf) {
        if (!b) continue;
        for (const r of b) {
          if (now !== undefined && r.entry.expires <= now) continue;
          seen.set(r.entry.id, r.entry);
        }
      }
    }
    return [...seen.values()].sort((a, b) => a.id - b.id);
  }

  /** Number of live connections at `now` (all when omitted). */
  size(now?: number): number {
    return this.entries(now).length;
  }

  /** The connection a tuple belongs to in a zone, and in which direction, if live at `now`. */
  lookup(zone: number, tuple: CtTuple, now = 0): { entry: CtEntry; reply: boolean } | undefined {
    const r = this.find(zone, tuple, now);
    return r && !r.orphan ? { entry: r.entry, reply: r.reply } : undefined;
  }

  /**
   * What OVS 3.1's `conn_key_lookup` finds for a tuple: a live connection in either direction,
   * or the un-NAT node of a dead NAT connection (`orphan`): OVS keeps a NAT connection's
   * reply key as a separate entry that never times out by itself and disappears only when the
   * sweeper cleans the dead parent (modelled as {@link CT_SWEEP_DELAY} seconds after it died).
   */
  find(
    zone: number,
    tuple: CtTuple,
    now = 0,
  ): { entry: CtEntry; reply: boolean; orphan: boolean } | undefined {
    const b = this.bucket(bucketOf(zone, tuple));
    if (b === undefined) return undefined;
    let r: KeyRef | undefined;
    for (let i = 0; i < b.length; i++) {
      if (sameKey(b[i]!, zone, tuple)) {
        r = b[i];
        break;
      }
    }
    if (!r) return undefined;
    const live = r.entry.expires > now;
    if (live) return { entry: r.entry, reply: r.dir === "reply", orphan: false };
    if (r.dir === "reply" && r.entry.nat && now < r.entry.expires + CT_SWEEP_DELAY) {
      return { entry: r.entry, reply: true, orphan: true };
    }
    return undefined;
  }

  /** A table without the connections expired at `now` (`conntrack` sweeping). */
  expire(now: number): Conntrack {
    let t: Conntrack = this;
    for (const e of this.entries()) if (e.expires <= now) t = t.without(e);
    return t;
  }

  /** The table with every connection of a zone (or all) removed (`ovs-appctl dpctl/flush-conntrack`). */
  flush(zone?: number): Conntrack {
    let t: Conntrack = this;
    for (const e of this.entries()) if (zone === undefined || e.zone === zone) t = t.without(e);
    return t;
  }

  /** The table with a connection added or replaced (both its keys). */
  with(entry: CtEntry): Conntrack {
    const z = entry.zone;
    const b1 = bucketOf(z, entry.orig);
    const b2 = bucketOf(z, entry.reply);
    const k1: KeyRef = { zone: z, tuple: entry.orig, entry, dir: "orig" };
    const k2: KeyRef = { zone: z, tuple: entry.reply, entry, dir: "reply" };
    const n1 = putKey(this.bucket(b1), k1);
    const nextId = Math.max(this.nextId, entry.id + 1);
    if (b1 === b2) return this.replaceBuckets(b1, putKey(n1, k2), -1, undefined, nextId);
    return this.replaceBuckets(b1, n1, b2, putKey(this.bucket(b2), k2), nextId);
  }

  /** The table without a connection. */
  without(entry: CtEntry): Conntrack {
    const z = entry.zone;
    const b1 = bucketOf(z, entry.orig);
    const b2 = bucketOf(z, entry.reply);
    const o1 = this.bucket(b1);
    const n1 = dropKey(o1, z, entry.orig, entry.id);
    if (b1 === b2) {
      const n = dropKey(n1, z, entry.reply, entry.id);
      return n === o1 ? this : this.replaceBuckets(b1, n, -1, undefined, this.nextId);
    }
    const o2 = this.bucket(b2);
    const n2 = dropKey(o2, z, entry.reply, entry.id);
    if (n1 === o1 && n2 === o2) return this;
    return this.replaceBuckets(b1, n1, b2, n2, this.nextId);
  }

  /** A new table with bucket `i` (and `j`, unless -1) replaced: the top and the touched leaves copied. */
  private replaceBuckets(
    i: number,
    bi: Bucket | undefined,
    j: number,
    bj: Bucket | undefined,
    nextId: number,
  ): Conntrack {
    const top = this.buckets.slice();
    this.setBucket(top, i, bi);
    if (j >= 0) this.setBucket(top, j, bj);
    return new Conntrack(top, nextId);
  }

  private setBucket(top: (readonly (Bucket | undefined)[] | undefined)[], i: number, b: Bucket | undefined) {
    const hi = i >>> LEAF_BITS;
    let leaf = top[hi];
    if (leaf === this.buckets[hi]) {
      leaf = leaf ? leaf.slice() : new Array<undefined>(LEAF_SLOTS).fill(undefined);
      top[hi] = leaf;
    }
    (leaf as (Bucket | undefined)[])[i & (LEAF_SLOTS - 1)] =
      b !== undefined && b.length === 0 ? undefined : b;
  }

  /**
   * One pass of a packet through conntrack: the OpenFlow `ct(zone=…,commit,nat(…),exec(…))`
   * action, or OVN's `ct_next` / `ct_commit` / `ct_lb_mark`. Pure: the receiver is unchanged.
   * To force a state as `ofproto/trace --ct-next` does, override `ct_state` in the result's flow.
   *
   * @throws SimError BAD_VALUE for a zone outside 0–65535 or a NAT address of the wrong family.
   * @example
   * const r = Conntrack.empty().process(flow, { zone: 5, commit: true, nat: { kind: "dnat", ip: parseIp4("10.180.204.11"), port: 80 } });
   * r.flow.nw_dst // the backend; r.ctState === CS.new | CS.trk | CS.dnat
   */
  process(flow: Flow, opts: CtOptions): CtResult {
    return processPacket(this, flow, opts);
  }
}

/** A bucket with `k` added, replacing the key of the same tuple in the same zone. */
function putKey(b: Bucket | undefined, k: KeyRef): Bucket {
  if (b === undefined) return [k];
  const out = b.slice();
  for (let i = 0; i < out.length; i++) {
    if (sameKey(out[i]!, k.zone, k.tuple)) {
      out[i] = k;
      return out;
    }
  }
  out.push(k);
  return out;
}

/** A bucket without the key of tuple `t` in `zone`, if it belongs to connection `id` (else `b` itself). */
function dropKey(b: Bucket | undefined, zone: number, t: CtTuple, id: number): Bucket | undefined {
  if (b === undefined) return b;
  for (let i = 0; i < b.length; i++) {
    const r = b[i]!;
    if (sameKey(r, zone, t)) {
      if (r.entry.id !== id) return b;
      const out = b.slice();
      out.splice(i, 1);
      return out;
    }
  }
  return b;
}

function checkZone(zone: number): void {
  if (!Number.isInteger(zone) || zone < 0 || zone > 0xffff) {
    throw new SimError("BAD_VALUE", `ct zone: ${zone} is not a number in 0-65535`);
  }
}

function tcpInvalidFlags(f: number): boolean {
  if (f & TCP_FLAG.syn) {
    if (f & (TCP_FLAG.rst | TCP_FLAG.fin)) return true;
  } else if (!(f & (TCP_FLAG.ack | TCP_FLAG.rst))) {
    return true;
  }
  if (!(f & TCP_FLAG.ack) && f & (TCP_FLAG.fin | TCP_FLAG.psh | TCP_FLAG.urg)) return true;
  return false;
}

type Update = "valid" | "invalid" | "new" | "valid_new";

/** `conn_update` per protocol: the result and the connection's new state and expiry. */
function updateProto(
  e: CtEntry,
  flow: Flow,
  reply: boolean,
  now: number,
  notes: string[],
): { res: Update; proto: CtProtoState; expires: number } {
  const p = e.proto;
  if (p.kind === "other") {
    let state = p.state;
    if (reply && state !== "BIDIR") state = "BIDIR";
    else if (state === "FIRST") state = "MULTIPLE";
    const t =
      state === "BIDIR"
        ? CT_TIMEOUTS.otherBidir
        : state === "MULTIPLE"
          ? CT_TIMEOUTS.otherMultiple
          : CT_TIMEOUTS.otherFirst;
    if (state !== "BIDIR") notes.push("no reply seen yet: still new");
    return {
      res: state === "BIDIR" ? "valid" : "valid_new",
      proto: { kind: "other", state },
      expires: now + t,
    };
  }
  if (p.kind === "icmp") {
    let state = p.state;
    let res: Update = "valid";
    if (reply && state === "FIRST") state = "REPLY";
    else if (state === "FIRST") res = "valid_new";
    const t = state === "REPLY" ? CT_TIMEOUTS.icmpReply : CT_TIMEOUTS.icmpFirst;
    return { res, proto: { kind: "icmp", state }, expires: now + t };
  }
  // TCP (conntrack-tcp.c tcp_conn_update), sequence checks bypassed.
  const flags = flow.tcp_flags;
  const peers: [TcpPeerState, TcpPeerState] = [p.peers[0], p.peers[1]];
  const si = reply ? 1 : 0;
  const di = reply ? 0 : 1;
  const ord = (i: number): number => TCP_ORDER[peers[i] as TcpPeerState];
  if (tcpInvalidFlags(flags)) {
    notes.push(`tcp: invalid flag combination 0x${flags.toString(16).padStart(3, "0")}`);
    return { res: "invalid", proto: p, expires: e.expires };
  }
  if ((flags & (TCP_FLAG.syn | TCP_FLAG.ack)) === TCP_FLAG.syn) {
    if (ord(di) >= TCP_ORDER.FIN_WAIT_2 && ord(si) >= TCP_ORDER.FIN_WAIT_2) {
      notes.push("tcp: SYN on a closed connection: it is replaced by a new one");
      return { res: "new", proto: { kind: "tcp", peers: ["CLOSED", "CLOSED"] }, expires: e.expires };
    }
    if (ord(si) <= TCP_ORDER.SYN_SENT) {
      peers[si] = "SYN_SENT";
      notes.push("tcp: SYN retransmission before the connection is established: still new");
      return {
        res: "valid_new",
        proto: { kind: "tcp", peers: [peers[0], peers[1]] },
        expires: now + CT_TIMEOUTS.tcpFirstPacket,
      };
    }
  }
  if (ord(si) < TCP_ORDER.SYN_SENT) peers[si] = "SYN_SENT";
  if (flags & TCP_FLAG.fin && ord(si) < TCP_ORDER.CLOSING) peers[si] = "CLOSING";
  if (flags & TCP_FLAG.ack) {
    if (peers[di] === "SYN_SENT") peers[di] = "ESTABLISHED";
    else if (peers[di] === "CLOSING") peers[di] = "FIN_WAIT_2";
  }
  if (flags & TCP_FLAG.rst) {
    peers[0] = "TIME_WAIT";
    peers[1] = "TIME_WAIT";
  }
  const s = ord(si);
  const d = ord(di);
  let t: number;
  if (s >= TCP_ORDER.FIN_WAIT_2 && d >= TCP_ORDER.FIN_WAIT_2) t = CT_TIMEOUTS.tcpClosed;
  else if (s >= TCP_ORDER.CLOSING && d >= TCP_ORDER.CLOSING) t = CT_TIMEOUTS.tcpFinWait;
  else if (s < TCP_ORDER.ESTABLISHED || d < TCP_ORDER.ESTABLISHED) t = CT_TIMEOUTS.tcpOpening;
  else if (s >= TCP_ORDER.CLOSING || d >= TCP_ORDER.CLOSING) t = CT_TIMEOUTS.tcpClosing;
  else t = CT_TIMEOUTS.tcpEstablished;
  return { res: "valid", proto: { kind: "tcp", peers: [peers[0], peers[1]] }, expires: now + t };
}

/** Whether a connection may be created by this packet (`valid_new`), with the reason if not. */
function validNew(flow: Flow, tuple: CtTuple): string | undefined {
  if (tuple.proto === IP_PROTO.tcp) {
    const f = flow.tcp_flags;
    if (tcpInvalidFlags(f)) return `tcp: invalid flag combination 0x${f.toString(16).padStart(3, "0")}`;
    if (f & TCP_FLAG.syn && f & TCP_FLAG.ack) return "tcp: a SYN+ACK cannot open a connection";
    return undefined;
  }
  if (tuple.icmpType >= 0) {
    const ok =
      tuple.family === 4
        ? tuple.icmpType === 8 || tuple.icmpType === 13 || tuple.icmpType === 15
        : tuple.icmpType === 128;
    return ok ? undefined : `icmp: type ${tuple.icmpType} cannot open a connection`;
  }
  return undefined;
}

function newProtoState(tuple: CtTuple, now: number): { proto: CtProtoState; expires: number } {
  if (tuple.proto === IP_PROTO.tcp) {
    return {
      proto: { kind: "tcp", peers: ["SYN_SENT", "CLOSED"] },
      expires: now + CT_TIMEOUTS.tcpFirstPacket,
    };
  }
  if (tuple.icmpType >= 0)
    return { proto: { kind: "icmp", state: "FIRST" }, expires: now + CT_TIMEOUTS.icmpFirst };
  return { proto: { kind: "other", state: "FIRST" }, expires: now + CT_TIMEOUTS.otherFirst };
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Records in `c` the packet fields a NAT kind rewrites to `t` (applied once, with the ct fields). */
function applyNat(c: Mutable<Partial<Flow>>, kind: "dnat" | "snat", t: CtTuple, rewritePorts: boolean): void {
  const portProto = t.proto === IP_PROTO.tcp || t.proto === IP_PROTO.udp || t.proto === IP_PROTO.sctp;
  if (kind === "dnat") {
    if (t.family === 4) c.nw_dst = t.dst4;
    else c.ipv6_dst = t.dst6;
    if (portProto && rewritePorts) c.tp_dst = t.dport;
  } else {
    if (t.family === 4) c.nw_src = t.src4;
    else c.ipv6_src = t.src6;
    if (portProto && rewritePorts) c.tp_src = t.sport;
  }
}

/** The reply tuple of a new connection under a NAT binding. */
function natReplyTuple(orig: CtTuple, nat: CtNatBinding | undefined): CtTuple {
  const r = reverseTuple(orig);
  if (!nat) return r;
  const ip4 = typeof nat.ip === "number" ? nat.ip >>> 0 : 0;
  const ip6 = typeof nat.ip === "bigint" ? nat.ip : 0n;
  const portProto =
    orig.proto === IP_PROTO.tcp || orig.proto === IP_PROTO.udp || orig.proto === IP_PROTO.sctp;
  if (nat.kind === "dnat") {
    // Replies come from the translated destination.
    return {
      ...r,
      ...(orig.family === 4 ? { src4: ip4 } : { src6: ip6 }),
      ...(portProto && nat.port !== undefined ? { sport: nat.port } : {}),
    };
  }
  return {
    ...r,
    ...(orig.family === 4 ? { dst4: ip4 } : { dst6: ip6 }),
    ...(portProto && nat.port !== undefined ? { dport: nat.port } : {}),
  };
}

/** A connection ends now: a NAT one stays as a dead entry (its un-NAT key lingers until swept). */
function kill(t: Conntrack, e: CtEntry, now: number): Conntrack {
  return e.nat ? t.with({ ...e, expires: Math.min(e.expires, now) }) : t.without(e);
}

/** OVS 3.1 PATs only TCP and UDP (`nat_get_unique_tuple`'s pat_proto). */
const isPat = (proto: number): boolean => proto === IP_PROTO.tcp || proto === IP_PROTO.udp;

/**
 * `nat_get_unique_tuple` (OVS 3.1) for one address: when the reply tuple is taken (by a live
 * connection or a dead one's un-NAT key), the client-side port of the reply tuple moves:
 * from the original source port upwards within its range (1–511, 600–1023 or 1024–65535),
 * at most 128 tries. The model does not do OVS's random second round.
 */
function uniqueReplyTuple(
  t: Conntrack,
  zone: number,
  orig: CtTuple,
  reply: CtTuple,
  now: number,
  notes: string[],
): CtTuple {
  if (!t.find(zone, reply, now)) return reply;
  if (!isPat(orig.proto)) {
    notes.push("NAT tuple already in use (the real datapath would refuse the NAT)");
    return reply;
  }
  const curr0 = orig.sport;
  const [min, max] = curr0 < 512 ? [1, 511] : curr0 < 1024 ? [600, 1023] : [1024, 65535];
  const range = max - min + 1;
  const attempts = Math.min(range, 128);
  let curr = curr0;
  for (let i = 0; i < attempts; i++) {
    const cand = { ...reply, dport: curr };
    if (!t.find(zone, cand, now)) {
      if (curr !== curr0)
        notes.push(`NAT reply tuple taken: client port ${curr0} becomes ${curr} (OVS nat_get_unique_tuple)`);
      return cand;
    }
    curr = curr < min || curr > max || curr === max ? min : curr + 1;
  }
  notes.push("NAT tuple space exhausted (OVS would retry at random and may refuse the NAT)");
  return reply;
}

function writeCtMd(
  flow: Flow,
  state: number,
  zone: number,
  e: CtEntry | undefined,
  key: CtTuple | undefined,
  natChanges?: Partial<Flow>,
): Flow {
  const t = e ? e.orig : key;
  const icmp = t !== undefined && t.icmpType >= 0;
  // One fixed-shape change record (the NAT fields listed, undefined when untouched) instead of
  // a spread: withFlow reads it monomorphically on every packet.
  return withFlow(flow, {
    nw_src: natChanges?.nw_src,
    nw_dst: natChanges?.nw_dst,
    ipv6_src: natChanges?.ipv6_src,
    ipv6_dst: natChanges?.ipv6_dst,
    tp_src: natChanges?.tp_src,
    tp_dst: natChanges?.tp_dst,
    ct_state: state | CS.trk,
    ct_zone: zone,
    ct_mark: e ? e.mark : 0,
    ct_label: e ? e.label : 0n,
    ct_nw_src: t && t.family === 4 ? t.src4 : 0,
    ct_nw_dst: t && t.family === 4 ? t.dst4 : 0,
    ct_ipv6_src: t && t.family === 6 ? t.src6 : 0n,
    ct_ipv6_dst: t && t.family === 6 ? t.dst6 : 0n,
    ct_nw_proto: t ? t.proto : 0,
    ct_tp_src: t ? (icmp ? t.icmpType : t.sport) : 0,
    ct_tp_dst: t ? (icmp ? 0 : t.dport) : 0,
  });
}

function processPacket(table: Conntrack, flow0: Flow, opts: CtOptions): CtResult {
  const zone = opts.zone;
  checkZone(zone);
  const now = opts.now ?? 0;
  const notes: string[] = [];
  // Reset ct_state whenever entering a new zone.
  let state = flow0.ct_state !== 0 && flow0.ct_zone !== zone ? 0 : flow0.ct_state;
  const flow = flow0;
  const natChanges: Mutable<Partial<Flow>> = {};

  const ex = extractTuple(flow, opts.icmpId ?? 0, opts.icmpInner);
  if (!ex.ok) {
    notes.push(`cannot track: ${ex.reason}`);
    const out = writeCtMd(flow, CS.inv, zone, undefined, undefined);
    return {
      flow: out,
      ctState: out.ct_state,
      entry: undefined,
      created: false,
      reply: false,
      natApplied: undefined,
      notes,
      table,
    };
  }
  let key = ex.tuple;
  const related = ex.related;
  if (opts.nat?.ip !== undefined) {
    const fam = typeof opts.nat.ip === "bigint" ? 6 : 4;
    if (fam !== key.family)
      throw new SimError("BAD_VALUE", `ct nat: IPv${fam} address for an IPv${key.family} packet`);
  }

  // initial_conn_lookup: a packet already NATed in this zone is found by its reversed tuple.
  const natted = (state & (CS.snat | CS.dnat)) !== 0;
  const found = table.find(zone, natted ? reverseTuple(key) : key, now);
  if (found?.orphan) {
    // process_one: an un-NAT entry whose parent connection is gone ("Missing parent conn").
    notes.push(
      `reply key of dead NAT connection #${found.entry.id} (not yet swept): missing parent connection`,
    );
    const out = writeCtMd(flow, state | CS.inv, zone, undefined, undefined);
    return {
      flow: out,
      ctState: out.ct_state,
      entry: undefined,
      created: false,
      reply: true,
      natApplied: undefined,
      notes,
      table,
    };
  }
  let reply = false;
  if (found) {
    reply = natted ? !found.reply : found.reply;
    if (natted) key = reply ? found.entry.reply : found.entry.orig;
  }
  let t = table;
  let conn: CtEntry | undefined = found?.entry;
  let create = false;
  let natApplied: "dnat" | "snat" | undefined;
  let ended = false;

  if (opts.force && conn && reply) {
    notes.push("force: connection seen in the reply direction is replaced");
    t = kill(t, conn, now);
    conn = undefined;
    reply = false;
  }

  if (conn) {
    if (related) {
      state |= CS.rel;
      if (reply) state |= CS.rpl;
      notes.push(`related: ICMP error of connection #${conn.id}`);
    } else {
      const u = updateProto(conn, flow, reply, now, notes);
      if (u.res === "new") {
        t = kill(t, conn, now);
        if (conn.nat && reply) {
          // OVS 3.1: the reply tuple still finds the dead connection's un-NAT entry, so no
          // new connection is made and the packet gets no state bit beyond trk.
          notes.push(
            `tcp: SYN in the reply direction of closed NAT connection #${conn.id}: it ends, and its un-NAT key blocks a new one`,
          );
          conn = { ...conn, expires: Math.min(conn.expires, now) };
          ended = true;
        } else {
          conn = undefined;
          create = true;
        }
      } else {
        conn = { ...conn, proto: u.proto, expires: u.expires };
        t = t.with(conn);
        if (u.res === "valid") {
          state = (state | CS.est) & ~CS.new;
          if (reply) state |= CS.rpl;
        } else if (u.res === "invalid") {
          state = CS.inv;
        } else {
          state |= CS.new;
        }
      }
    }
    // handle_nat: a nat action on a known connection applies its translation once per zone.
    if (conn && opts.nat !== undefined && conn.nat && !create && !ended) {
      const already = (state & (CS.snat | CS.dnat)) !== 0 && flow0.ct_zone === zone;
      if (!already) {
        state &= ~(CS.snat | CS.dnat);
        const kind = reply ? (conn.nat.kind === "dnat" ? "snat" : "dnat") : conn.nat.kind;
        // Forward: rewrite towards the reply tuple reversed; reply: back to the original.
        const target = reply ? reverseTuple(conn.orig) : reverseTuple(conn.reply);
        if (related) {
          notes.push("related: the outer header is translated; the embedded header is not modelled");
          applyNat(natChanges, kind, target, false);
        } else {
          applyNat(natChanges, kind, target, true);
        }
        state |= kind === "dnat" ? CS.dnat : CS.snat;
        natApplied = kind;
        notes.push(
          reply
            ? `reverse NAT of connection #${conn.id}: ${kind === "snat" ? "source" : "destination"} restored`
            : `NAT of connection #${conn.id} applied (${kind})`,
        );
      }
    }
  } else if (related) {
    notes.push("ICMP error for an unknown connection");
    state = CS.inv;
  } else {
    create = true;
  }

  let created = false;
  if (create) {
    const why = validNew(flow, key);
    if (why !== undefined) {
      notes.push(why);
      state = CS.inv;
    } else {
      state = CS.new;
      if (opts.commit || opts.force) {
        const ps = newProtoState(key, now);
        const nat: CtNatBinding | undefined =
          opts.nat?.kind !== undefined && opts.nat.ip !== undefined
            ? { kind: opts.nat.kind, ip: opts.nat.ip, port: opts.nat.port }
            : undefined;
        conn = {
          id: t.nextId,
          zone,
          orig: key,
          reply: nat
            ? uniqueReplyTuple(t, zone, key, natReplyTuple(key, nat), now, notes)
            : natReplyTuple(key, nat),
          nat,
          mark: 0,
          label: 0n,
          proto: ps.proto,
          created: now,
          expires: ps.expires,
        };
        t = t.with(conn);
        created = true;
        notes.push(`committed connection #${conn.id} in zone ${zone}`);
        if (nat) {
          // nat_packet: the destination (DNAT) or source (SNAT) is rewritten, and both ports
          // follow the reply tuple (pat_packet), which moves the source port on a collision.
          applyNat(natChanges, nat.kind, reverseTuple(conn.reply), true);
          if (conn.reply.dport !== key.sport && isPat(key.proto)) natChanges.tp_src = conn.reply.dport;
          state |= nat.kind === "dnat" ? CS.dnat : CS.snat;
          natApplied = nat.kind;
        }
      } else {
        notes.push("new connection, not committed");
        conn = undefined;
      }
    }
  }

  // exec(set_field): only with a connection.
  if (conn && (opts.mark || opts.label)) {
    let mark = conn.mark;
    let label = conn.label;
    if (opts.mark) {
      const m = (opts.mark.mask ?? 0xffffffff) >>> 0;
      mark = ((opts.mark.value & m) | (mark & ~m)) >>> 0;
    }
    if (opts.label) {
      const m = (opts.label.mask ?? LABEL_MASK) & LABEL_MASK;
      label = ((opts.label.value & m) | (label & ~m)) & LABEL_MASK;
    }
    if (mark !== conn.mark || label !== conn.label) {
      conn = { ...conn, mark, label };
      t = t.with(conn);
    }
  }

  const out = writeCtMd(flow, state, zone, conn, key, natChanges);
  return {
    flow: out,
    ctState: out.ct_state,
    entry: conn,
    created,
    reply,
    natApplied,
    notes,
    table: t,
  };
}

const CS_ORDER = ["new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"] as const;

/** ct_state bits as OVS prints them in a flow: "new|trk", "est|rpl|trk|snat". "0" when none. */
export function formatCtState(bits: number): string {
  const parts = CS_ORDER.filter((n) => bits & CS[n]);
  return parts.length === 0 ? "0" : parts.join("|");
}

const PROTO_NAMES: Readonly<Record<number, string>> = {
  1: "icmp",
  6: "tcp",
  17: "udp",
  58: "icmpv6",
  132: "sctp",
};

function formatTuple(t: CtTuple): string {
  const addr =
    t.family === 4
      ? `src=${formatIp4(t.src4)},dst=${formatIp4(t.dst4)}`
      : `src=${formatIp6(t.src6)},dst=${formatIp6(t.dst6)}`;
  return t.icmpType >= 0
    ? `${addr},id=${t.sport},type=${t.icmpType},code=0`
    : `${addr},sport=${t.sport},dport=${t.dport}`;
}

/**
 * One connection as `ovs-appctl dpctl/dump-conntrack` prints it (non-verbose,
 * `ct_dpif_format_entry`): protocol, tuples, zone, mark and labels when non-zero, and for TCP
 * the larger of the two peer states (FIN_WAIT_2 shown as TIME_WAIT, as OVS coalesces it).
 */
export function formatCtEntry(e: CtEntry): string {
  let s = `${PROTO_NAMES[e.orig.proto] ?? String(e.orig.proto)},orig=(${formatTuple(e.orig)}),reply=(${formatTuple(e.reply)})`;
  if (e.zone !== 0) s += `,zone=${e.zone}`;
  if (e.mark !== 0) s += `,mark=${e.mark}`;
  if (e.label !== 0n) s += `,labels=0x${e.label.toString(16)}`;
  if (e.proto.kind === "tcp") {
    const [a, b] = e.proto.peers;
    let st = TCP_ORDER[a] >= TCP_ORDER[b] ? a : b;
    if (st === "FIN_WAIT_2") st = "TIME_WAIT";
    s += `,protoinfo=(state=${st})`;
  }
  return s;
}
