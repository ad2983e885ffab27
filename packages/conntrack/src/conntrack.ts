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
 *   shares all but the few trie nodes on its keys' paths with the old one (./table.ts), so a
 *   trace can be re-run from any earlier table and two traces compared. Time is virtual:
 *   every call takes `now` (seconds).
 */
import { CS, type Flow, IP_PROTO, SimError, TCP_FLAG, formatIp4, formatIp6 } from "@ovnsim/packet";
import { EMPTY_NODE, type TrieNode, hit, keyHash, trieDrop, trieEach, trieFind, triePut2 } from "./table.js";
import {
  type CtTuple,
  type IcmpInner,
  extracted,
  extractKey,
  reverseIcmpType,
  reverseTuple,
} from "./tuple.js";

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

const LABEL_MASK = (1n << 128n) - 1n;

/** Set by {@link findKey} with a connection found: its direction, and whether it is only an un-NAT key. */
const found = { reply: false, orphan: false };

/** Table internals for this module's functions (set once by the class's static block). */
let rootOf: (t: Conntrack) => TrieNode;
let makeTable: (root: TrieNode, nextId: number) => Conntrack;

/** The connection table: an immutable value. */
export class Conntrack {
  static {
    rootOf = (t) => t.root;
    makeTable = (root, nextId) => new Conntrack(root, nextId);
  }

  private constructor(
    /** Both keys of every connection (see ./table.ts). */
    private readonly root: TrieNode,
    /** Next connection id. */
    readonly nextId: number,
  ) {}

  /** An empty table. */
  static empty(): Conntrack {
    return new Conntrack(EMPTY_NODE, 1);
  }

  /** The table itself (it is immutable); kept so callers can say what they mean. */
  snapshot(): Conntrack {
    return this;
  }

  /** Live connections at `now` (all connections when `now` is omitted), oldest first. */
  entries(now?: number): readonly CtEntry[] {
    const seen = new Map<number, CtEntry>();
    trieEach(this.root, (e) => {
      if (now === undefined || e.expires > now) seen.set(e.id, e);
    });
    return [...seen.values()].sort((a, b) => a.id - b.id);
  }

  /** Number of live connections at `now` (all when omitted). */
  size(now?: number): number {
    return this.entries(now).length;
  }

  /** The connection a tuple belongs to in a zone, and in which direction, if live at `now`. */
  lookup(zone: number, tuple: CtTuple, now = 0): { entry: CtEntry; reply: boolean } | undefined {
    const e = findKey(this, zone, tuple, keyHash(zone, tuple), now);
    return e && !found.orphan ? { entry: e, reply: found.reply } : undefined;
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
    const e = findKey(this, zone, tuple, keyHash(zone, tuple), now);
    return e && { entry: e, reply: found.reply, orphan: found.orphan };
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
    return withHashed(this, entry, keyHash(entry.zone, entry.orig), keyHash(entry.zone, entry.reply));
  }

  /** The table without a connection. */
  without(entry: CtEntry): Conntrack {
    const z = entry.zone;
    const r1 = trieDrop(this.root, 0, keyHash(z, entry.orig), z, entry.orig, entry.id);
    const r2 = trieDrop(r1, 0, keyHash(z, entry.reply), z, entry.reply, entry.id);
    return r2 === this.root ? this : new Conntrack(r2, this.nextId);
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

/**
 * {@link Conntrack.find} without the result object: the connection (or dead NAT connection,
 * {@link found}.orphan) keyed by `tuple` in `zone`, given the key's hash.
 */
function findKey(t: Conntrack, zone: number, tuple: CtTuple, hash: number, now: number): CtEntry | undefined {
  const e = trieFind(rootOf(t), hash, zone, tuple);
  if (e === undefined) return undefined;
  if (e.expires > now) {
    found.reply = hit.reply;
    found.orphan = false;
    return e;
  }
  if (hit.reply && e.nat && now < e.expires + CT_SWEEP_DELAY) {
    found.reply = true;
    found.orphan = true;
    return e;
  }
  return undefined;
}

/** {@link Conntrack.with} given the hashes of the entry's two keys. */
function withHashed(t: Conntrack, entry: CtEntry, h1: number, h2: number): Conntrack {
  const z = entry.zone;
  const root = triePut2(rootOf(t), 0, h1, entry.orig, h2, entry.reply, z, entry);
  return makeTable(root, Math.max(t.nextId, entry.id + 1));
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

/**
 * Per-protocol states are shared values (there are few): a pass that updates a connection
 * points it at one instead of allocating its own.
 */
const protoState = <P extends CtProtoState>(p: P): P => Object.freeze(p);
const OTHER_FIRST = protoState({ kind: "other", state: "FIRST" } as const);
const OTHER_MULTIPLE = protoState({ kind: "other", state: "MULTIPLE" } as const);
const OTHER_BIDIR = protoState({ kind: "other", state: "BIDIR" } as const);
const ICMP_FIRST = protoState({ kind: "icmp", state: "FIRST" } as const);
const ICMP_REPLY = protoState({ kind: "icmp", state: "REPLY" } as const);
const TCP_PEER_STATES: readonly TcpPeerState[] = [
  "CLOSED",
  "SYN_SENT",
  "ESTABLISHED",
  "CLOSING",
  "FIN_WAIT_2",
  "TIME_WAIT",
];
const TCP_PROTO = new Map<TcpPeerState, Map<TcpPeerState, CtProtoState>>(
  TCP_PEER_STATES.map((a) => [
    a,
    new Map(
      TCP_PEER_STATES.map((b) => [b, protoState({ kind: "tcp", peers: Object.freeze([a, b] as const) })]),
    ),
  ]),
);
const tcpProto = (a: TcpPeerState, b: TcpPeerState): CtProtoState => TCP_PROTO.get(a)!.get(b)!;

/** What {@link updateProto} decided (one pass at a time: no result object per packet). */
const upd: { res: Update; proto: CtProtoState; expires: number } = {
  res: "valid",
  proto: OTHER_FIRST,
  expires: 0,
};

/** `conn_update` per protocol: the result and the connection's new state and expiry, in {@link upd}. */
function updateProto(e: CtEntry, flow: Flow, reply: boolean, now: number): void {
  const p = e.proto;
  if (p.kind === "other") {
    let state = p.state;
    if (reply && state !== "BIDIR") state = "BIDIR";
    else if (state === "FIRST") state = "MULTIPLE";
    if (state !== "BIDIR") NOTES.push("no reply seen yet: still new");
    upd.res = state === "BIDIR" ? "valid" : "valid_new";
    upd.proto = state === "BIDIR" ? OTHER_BIDIR : state === "MULTIPLE" ? OTHER_MULTIPLE : OTHER_FIRST;
    upd.expires =
      now +
      (state === "BIDIR"
        ? CT_TIMEOUTS.otherBidir
        : state === "MULTIPLE"
          ? CT_TIMEOUTS.otherMultiple
          : CT_TIMEOUTS.otherFirst);
    return;
  }
  if (p.kind === "icmp") {
    let state = p.state;
    let res: Update = "valid";
    if (reply && state === "FIRST") state = "REPLY";
    else if (state === "FIRST") res = "valid_new";
    upd.res = res;
    upd.proto = state === "REPLY" ? ICMP_REPLY : ICMP_FIRST;
    upd.expires = now + (state === "REPLY" ? CT_TIMEOUTS.icmpReply : CT_TIMEOUTS.icmpFirst);
    return;
  }
  // TCP (conntrack-tcp.c tcp_conn_update), sequence checks bypassed. `src` is the sender's
  // peer state (peers[1] for a reply), `dst` the other side's.
  const flags = flow.tcp_flags;
  let src = reply ? p.peers[1] : p.peers[0];
  let dst = reply ? p.peers[0] : p.peers[1];
  if (tcpInvalidFlags(flags)) {
    NOTES.push(`tcp: invalid flag combination 0x${flags.toString(16).padStart(3, "0")}`);
    upd.res = "invalid";
    upd.proto = p;
    upd.expires = e.expires;
    return;
  }
  if ((flags & (TCP_FLAG.syn | TCP_FLAG.ack)) === TCP_FLAG.syn) {
    if (TCP_ORDER[dst] >= TCP_ORDER.FIN_WAIT_2 && TCP_ORDER[src] >= TCP_ORDER.FIN_WAIT_2) {
      NOTES.push("tcp: SYN on a closed connection: it is replaced by a new one");
      upd.res = "new";
      upd.proto = tcpProto("CLOSED", "CLOSED");
      upd.expires = e.expires;
      return;
    }
    if (TCP_ORDER[src] <= TCP_ORDER.SYN_SENT) {
      src = "SYN_SENT";
      NOTES.push("tcp: SYN retransmission before the connection is established: still new");
      upd.res = "valid_new";
      upd.proto = reply ? tcpProto(dst, src) : tcpProto(src, dst);
      upd.expires = now + CT_TIMEOUTS.tcpFirstPacket;
      return;
    }
  }
  if (TCP_ORDER[src] < TCP_ORDER.SYN_SENT) src = "SYN_SENT";
  if (flags & TCP_FLAG.fin && TCP_ORDER[src] < TCP_ORDER.CLOSING) src = "CLOSING";
  if (flags & TCP_FLAG.ack) {
    if (dst === "SYN_SENT") dst = "ESTABLISHED";
    else if (dst === "CLOSING") dst = "FIN_WAIT_2";
  }
  if (flags & TCP_FLAG.rst) {
    src = "TIME_WAIT";
    dst = "TIME_WAIT";
  }
  const s = TCP_ORDER[src];
  const d = TCP_ORDER[dst];
  let t: number;
  if (s >= TCP_ORDER.FIN_WAIT_2 && d >= TCP_ORDER.FIN_WAIT_2) t = CT_TIMEOUTS.tcpClosed;
  else if (s >= TCP_ORDER.CLOSING && d >= TCP_ORDER.CLOSING) t = CT_TIMEOUTS.tcpFinWait;
  else if (s < TCP_ORDER.ESTABLISHED || d < TCP_ORDER.ESTABLISHED) t = CT_TIMEOUTS.tcpOpening;
  else if (s >= TCP_ORDER.CLOSING || d >= TCP_ORDER.CLOSING) t = CT_TIMEOUTS.tcpClosing;
  else t = CT_TIMEOUTS.tcpEstablished;
  upd.res = "valid";
  upd.proto = reply ? tcpProto(dst, src) : tcpProto(src, dst);
  upd.expires = now + t;
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

/** The state of a connection its first packet creates. */
const newProtoState = (tuple: CtTuple): CtProtoState =>
  tuple.proto === IP_PROTO.tcp
    ? tcpProto("SYN_SENT", "CLOSED")
    : tuple.icmpType >= 0
      ? ICMP_FIRST
      : OTHER_FIRST;

/** Its expiry. */
const newProtoTimeout = (tuple: CtTuple): number =>
  tuple.proto === IP_PROTO.tcp
    ? CT_TIMEOUTS.tcpFirstPacket
    : tuple.icmpType >= 0
      ? CT_TIMEOUTS.icmpFirst
      : CT_TIMEOUTS.otherFirst;

/**
 * The packet fields NAT rewrites in this pass (undefined: untouched), applied with the ct
 * fields when the output flow is built. One object, reset per pass.
 */
const natChanges: {
  nw_src: number | undefined;
  nw_dst: number | undefined;
  ipv6_src: bigint | undefined;
  ipv6_dst: bigint | undefined;
  tp_src: number | undefined;
  tp_dst: number | undefined;
} = {
  nw_src: undefined,
  nw_dst: undefined,
  ipv6_src: undefined,
  ipv6_dst: undefined,
  tp_src: undefined,
  tp_dst: undefined,
};

/**
 * Records in {@link natChanges} the packet fields a NAT kind rewrites, towards the reverse of
 * tuple `t` (its addresses and ports swapped: read crosswise, not built).
 */
function applyNat(kind: "dnat" | "snat", t: CtTuple, rewritePorts: boolean): void {
  const portProto = t.proto === IP_PROTO.tcp || t.proto === IP_PROTO.udp || t.proto === IP_PROTO.sctp;
  if (kind === "dnat") {
    if (t.family === 4) natChanges.nw_dst = t.src4;
    else natChanges.ipv6_dst = t.src6;
    if (portProto && rewritePorts) natChanges.tp_dst = t.sport;
  } else {
    if (t.family === 4) natChanges.nw_src = t.dst4;
    else natChanges.ipv6_src = t.dst6;
    if (portProto && rewritePorts) natChanges.tp_src = t.dport;
  }
}

/** The reply tuple of a new connection under a NAT binding (built in one object). */
function natReplyTuple(orig: CtTuple, nat: CtNatBinding | undefined): CtTuple {
  let src4 = orig.dst4;
  let dst4 = orig.src4;
  let src6 = orig.dst6;
  let dst6 = orig.src6;
  let sport = orig.dport;
  let dport = orig.sport;
  if (nat) {
    const portProto =
      orig.proto === IP_PROTO.tcp || orig.proto === IP_PROTO.udp || orig.proto === IP_PROTO.sctp;
    if (nat.kind === "dnat") {
      // Replies come from the translated destination.
      if (orig.family === 4) src4 = typeof nat.ip === "number" ? nat.ip >>> 0 : 0;
      else src6 = typeof nat.ip === "bigint" ? nat.ip : 0n;
      if (portProto && nat.port !== undefined) sport = nat.port;
    } else {
      if (orig.family === 4) dst4 = typeof nat.ip === "number" ? nat.ip >>> 0 : 0;
      else dst6 = typeof nat.ip === "bigint" ? nat.ip : 0n;
      if (portProto && nat.port !== undefined) dport = nat.port;
    }
  }
  return {
    family: orig.family,
    proto: orig.proto,
    src4,
    dst4,
    src6,
    dst6,
    sport,
    dport,
    icmpType: reverseIcmpType(orig),
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
  replyHash: number,
  now: number,
): CtTuple {
  if (!findKey(t, zone, reply, replyHash, now)) return reply;
  if (!isPat(orig.proto)) {
    NOTES.push("NAT tuple already in use (the real datapath would refuse the NAT)");
    return reply;
  }
  const curr0 = orig.sport;
  const [min, max] = curr0 < 512 ? [1, 511] : curr0 < 1024 ? [600, 1023] : [1024, 65535];
  const range = max - min + 1;
  const attempts = Math.min(range, 128);
  let curr = curr0;
  for (let i = 0; i < attempts; i++) {
    const cand = { ...reply, dport: curr };
    if (!findKey(t, zone, cand, keyHash(zone, cand), now)) {
      if (curr !== curr0)
        NOTES.push(`NAT reply tuple taken: client port ${curr0} becomes ${curr} (OVS nat_get_unique_tuple)`);
      return cand;
    }
    curr = curr < min || curr > max || curr === max ? min : curr + 1;
  }
  NOTES.push("NAT tuple space exhausted (OVS would retry at random and may refuse the NAT)");
  return reply;
}

/**
 * The packet after ct: `flow` with the ct fields and {@link natChanges} written. The same
 * frozen Flow `withFlow(flow, {…})` gives, built as one literal (this runs for every packet
 * through ct, and a change record walked by name cost more than the copy).
 */
function writeCtMd(
  flow: Flow,
  state: number,
  zone: number,
  e: CtEntry | undefined,
  key: CtTuple | undefined,
): Flow {
  const t = e ? e.orig : key;
  const icmp = t !== undefined && t.icmpType >= 0;
  const v4 = t !== undefined && t.family === 4;
  const v6 = t !== undefined && t.family === 6;
  const c = natChanges;
  const o: Flow = {
    recirc_id: flow.recirc_id,
    dp_hash: flow.dp_hash,
    in_port: flow.in_port,
    skb_priority: flow.skb_priority,
    pkt_mark: flow.pkt_mark,
    ct_state: state | CS.trk,
    ct_zone: zone,
    ct_mark: e ? e.mark : 0,
    ct_label: e ? e.label : 0n,
    ct_nw_src: v4 ? t.src4 : 0,
    ct_nw_dst: v4 ? t.dst4 : 0,
    ct_ipv6_src: v6 ? t.src6 : 0n,
    ct_ipv6_dst: v6 ? t.dst6 : 0n,
    ct_nw_proto: t ? t.proto : 0,
    ct_tp_src: t ? (icmp ? t.icmpType : t.sport) : 0,
    ct_tp_dst: t ? (icmp ? 0 : t.dport) : 0,
    metadata: flow.metadata,
    regs: flow.regs,
    tunnel: flow.tunnel,
    dl_src: flow.dl_src,
    dl_dst: flow.dl_dst,
    dl_type: flow.dl_type,
    vlans: flow.vlans,
    mpls_lse: flow.mpls_lse,
    mpls_lse1: flow.mpls_lse1,
    mpls_lse2: flow.mpls_lse2,
    nw_src: c.nw_src ?? flow.nw_src,
    nw_dst: c.nw_dst ?? flow.nw_dst,
    ipv6_src: c.ipv6_src ?? flow.ipv6_src,
    ipv6_dst: c.ipv6_dst ?? flow.ipv6_dst,
    ipv6_label: flow.ipv6_label,
    nw_proto: flow.nw_proto,
    nw_tos: flow.nw_tos,
    nw_ttl: flow.nw_ttl,
    nw_frag: flow.nw_frag,
    arp_sha: flow.arp_sha,
    arp_tha: flow.arp_tha,
    tp_src: c.tp_src ?? flow.tp_src,
    tp_dst: c.tp_dst ?? flow.tp_dst,
    tcp_flags: flow.tcp_flags,
    nd_target: flow.nd_target,
  };
  return Object.freeze(o);
}

/** Notes of the pass under way (copied into its result; one pass runs at a time). */
const NOTES: string[] = [];
const NO_NOTES: readonly string[] = Object.freeze([]);

function result(
  out: Flow,
  entry: CtEntry | undefined,
  created: boolean,
  reply: boolean,
  natApplied: "dnat" | "snat" | undefined,
  table: Conntrack,
): CtResult {
  return {
    flow: out,
    ctState: out.ct_state,
    entry,
    created,
    reply,
    natApplied,
    notes: NOTES.length === 0 ? NO_NOTES : NOTES.slice(),
    table,
  };
}

function processPacket(table: Conntrack, flow: Flow, opts: CtOptions): CtResult {
  const zone = opts.zone;
  checkZone(zone);
  const now = opts.now ?? 0;
  NOTES.length = 0;
  natChanges.nw_src = undefined;
  natChanges.nw_dst = undefined;
  natChanges.ipv6_src = undefined;
  natChanges.ipv6_dst = undefined;
  natChanges.tp_src = undefined;
  natChanges.tp_dst = undefined;
  // Reset ct_state whenever entering a new zone.
  let state = flow.ct_state !== 0 && flow.ct_zone !== zone ? 0 : flow.ct_state;

  const ex = extractKey(flow, opts.icmpId ?? 0, opts.icmpInner);
  if (typeof ex === "string") {
    NOTES.push(`cannot track: ${ex}`);
    return result(
      writeCtMd(flow, CS.inv, zone, undefined, undefined),
      undefined,
      false,
      false,
      undefined,
      table,
    );
  }
  let key = ex;
  const related = extracted.related;
  if (opts.nat?.ip !== undefined) {
    const fam = typeof opts.nat.ip === "bigint" ? 6 : 4;
    if (fam !== key.family)
      throw new SimError("BAD_VALUE", `ct nat: IPv${fam} address for an IPv${key.family} packet`);
  }

  // initial_conn_lookup: a packet already NATed in this zone is found by its reversed tuple.
  const natted = (state & (CS.snat | CS.dnat)) !== 0;
  const lookupKey = natted ? reverseTuple(key) : key;
  const lookupHash = keyHash(zone, lookupKey);
  let conn = findKey(table, zone, lookupKey, lookupHash, now);
  if (conn && found.orphan) {
    // process_one: an un-NAT entry whose parent connection is gone ("Missing parent conn").
    NOTES.push(`reply key of dead NAT connection #${conn.id} (not yet swept): missing parent connection`);
    return result(
      writeCtMd(flow, state | CS.inv, zone, undefined, undefined),
      undefined,
      false,
      true,
      undefined,
      table,
    );
  }
  // The hashes of the found connection's keys (one is the lookup's), for writing it back.
  let hOrig = 0;
  let hReply = 0;
  let reply = false;
  if (conn) {
    if (found.reply) {
      hReply = lookupHash;
      hOrig = keyHash(zone, conn.orig);
    } else {
      hOrig = lookupHash;
      hReply = keyHash(zone, conn.reply);
    }
    reply = natted ? !found.reply : found.reply;
    if (natted) key = reply ? conn.reply : conn.orig;
  }
  let t = table;
  let create = false;
  let natApplied: "dnat" | "snat" | undefined;
  let ended = false;

  if (opts.force && conn && reply) {
    NOTES.push("force: connection seen in the reply direction is replaced");
    t = kill(t, conn, now);
    conn = undefined;
    reply = false;
  }

  if (conn) {
    if (related) {
      state |= CS.rel;
      if (reply) state |= CS.rpl;
      NOTES.push(`related: ICMP error of connection #${conn.id}`);
    } else {
      updateProto(conn, flow, reply, now);
      if (upd.res === "new") {
        t = kill(t, conn, now);
        if (conn.nat && reply) {
          // OVS 3.1: the reply tuple still finds the dead connection's un-NAT entry, so no
          // new connection is made and the packet gets no state bit beyond trk.
          NOTES.push(
            `tcp: SYN in the reply direction of closed NAT connection #${conn.id}: it ends, and its un-NAT key blocks a new one`,
          );
          conn = { ...conn, expires: Math.min(conn.expires, now) };
          ended = true;
        } else {
          conn = undefined;
          create = true;
        }
      } else {
        const res = upd.res;
        conn = { ...conn, proto: upd.proto, expires: upd.expires };
        t = withHashed(t, conn, hOrig, hReply);
        if (res === "valid") {
          state = (state | CS.est) & ~CS.new;
          if (reply) state |= CS.rpl;
        } else if (res === "invalid") {
          state = CS.inv;
        } else {
          state |= CS.new;
        }
      }
    }
    // handle_nat: a nat action on a known connection applies its translation once per zone.
    if (conn && opts.nat !== undefined && conn.nat && !create && !ended) {
      const already = (state & (CS.snat | CS.dnat)) !== 0 && flow.ct_zone === zone;
      if (!already) {
        state &= ~(CS.snat | CS.dnat);
        const kind = reply ? (conn.nat.kind === "dnat" ? "snat" : "dnat") : conn.nat.kind;
        // Forward: rewrite towards the reply tuple reversed; reply: back to the original.
        const target = reply ? conn.orig : conn.reply;
        if (related) {
          NOTES.push("related: the outer header is translated; the embedded header is not modelled");
          applyNat(kind, target, false);
        } else {
          applyNat(kind, target, true);
        }
        state |= kind === "dnat" ? CS.dnat : CS.snat;
        natApplied = kind;
        NOTES.push(
          reply
            ? `reverse NAT of connection #${conn.id}: ${kind === "snat" ? "source" : "destination"} restored`
            : `NAT of connection #${conn.id} applied (${kind})`,
        );
      }
    }
  } else if (related) {
    NOTES.push("ICMP error for an unknown connection");
    state = CS.inv;
  } else {
    create = true;
  }

  let created = false;
  if (create) {
    const why = validNew(flow, key);
    if (why !== undefined) {
      NOTES.push(why);
      state = CS.inv;
    } else {
      state = CS.new;
      if (opts.commit || opts.force) {
        const nat: CtNatBinding | undefined =
          opts.nat?.kind !== undefined && opts.nat.ip !== undefined
            ? { kind: opts.nat.kind, ip: opts.nat.ip, port: opts.nat.port }
            : undefined;
        const hKey = !natted && key === lookupKey ? lookupHash : keyHash(zone, key);
        let rt = natReplyTuple(key, nat);
        let hRt = keyHash(zone, rt);
        if (nat) {
          const u = uniqueReplyTuple(t, zone, key, rt, hRt, now);
          if (u !== rt) {
            rt = u;
            hRt = keyHash(zone, rt);
          }
        }
        conn = {
          id: t.nextId,
          zone,
          orig: key,
          reply: rt,
          nat,
          mark: 0,
          label: 0n,
          proto: newProtoState(key),
          created: now,
          expires: now + newProtoTimeout(key),
        };
        t = withHashed(t, conn, hKey, hRt);
        created = true;
        NOTES.push(`committed connection #${conn.id} in zone ${zone}`);
        if (nat) {
          // nat_packet: the destination (DNAT) or source (SNAT) is rewritten, and both ports
          // follow the reply tuple (pat_packet), which moves the source port on a collision.
          applyNat(nat.kind, conn.reply, true);
          if (conn.reply.dport !== key.sport && isPat(key.proto)) natChanges.tp_src = conn.reply.dport;
          state |= nat.kind === "dnat" ? CS.dnat : CS.snat;
          natApplied = nat.kind;
        }
      } else {
        NOTES.push("new connection, not committed");
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

  return result(writeCtMd(flow, state, zone, conn, key), conn, created, reply, natApplied, t);
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
