/**
 * The frames of a trace as a capture file, the way a person would capture them with tcpdump at
 * every place the packet crosses: pcapng (default) with one interface per place, named as one
 * would name it ("client/eth0", "tor/p-node3", "node3/br-provider/underlay0",
 * "pod default/deploy-…-2 eth0"), each frame commented with the trace step that put it there (the
 * switch's decision, the OpenFlow table/priority/cookie, the OVN logical stage and table), with its
 * 802.1Q tag as it was on that wire, for the request and its reply. Classic libpcap (one
 * anonymous interface, no comments) stays available.
 *
 * Frames are encoded by @ovnsim/packet's wire encoder (real checksums), padded to the 60-byte
 * Ethernet minimum. TCP sequence numbers are fixed, not random: the request side starts at
 * ISN 1000 and the reply side at 5000, so the SYN-ACK acknowledges 1001 as a real stack would.
 * Timestamps are virtual: the n-th frame of the file is at n microseconds after the epoch, never
 * the wall clock, so the same trace writes the same bytes.
 *
 * Why tshark still says "TCP Retransmission": its TCP analysis keys a conversation on addresses
 * and ports only (not the capture interface, VLAN or MAC) in the tshark 4.0 this was checked
 * with, so the second place that sees the same segment looks like a resend, exactly as in a
 * mergecap of captures taken at several taps. Interface names, comments, epb_flags and
 * epb_packetid do not change that; `-o tcp.analyze_sequence_numbers:FALSE`, or one interface
 * exported to its own file, does (README; test/pcap.test.ts states it).
 */
import { podVethName } from "@ovnsim/kube";
import {
  ETH_TYPE,
  type Flow,
  IP_PROTO,
  type PcapngCapture,
  type PcapngDirection,
  type PcapngInterface,
  type PcapngPacket,
  TCP_FLAG,
  encodeFrame as encodePacket,
  makePacket,
  withFlow,
  writePcap as writeClassicPcap,
  writePcapng,
} from "@ovnsim/packet";
import type { Simulation } from "./engine.js";
import type { WireFrame } from "./model.js";

/** Initial sequence numbers of the traced connection's two sides (fixed: same input, same bytes). */
export const REQUEST_ISN = 1000;
export const REPLY_ISN = 5000;

/** The frame's bytes on the wire (checksums filled in, padded to the 60-byte Ethernet minimum). */
export function encodeFrame(f: Flow, side: "forward" | "reply" = "forward"): Uint8Array {
  const flow = f.nw_ttl === 0 && f.dl_type === ETH_TYPE.ip ? withFlow(f, { nw_ttl: 64 }) : f;
  let fields = {};
  const l3 = flow.dl_type === ETH_TYPE.ip || flow.dl_type === ETH_TYPE.ipv6;
  if (l3 && flow.nw_proto === IP_PROTO.tcp) {
    const [mine, theirs] = side === "forward" ? [REQUEST_ISN, REPLY_ISN] : [REPLY_ISN, REQUEST_ISN];
    const syn = (flow.tcp_flags & TCP_FLAG.syn) !== 0;
    const ack = (flow.tcp_flags & TCP_FLAG.ack) !== 0;
    fields = { tcpSeq: syn ? mine : mine + 1, tcpAck: ack ? theirs + 1 : 0, tcpWindow: 64240 };
  } else if (
    (flow.dl_type === ETH_TYPE.ip && flow.nw_proto === IP_PROTO.icmp) ||
    (flow.dl_type === ETH_TYPE.ipv6 && flow.nw_proto === IP_PROTO.icmpv6)
  ) {
    fields = { payload: Uint8Array.of(0, 1, 0, 1) }; // echo identifier 1, sequence 1
  }
  const bytes = encodePacket(makePacket(flow, fields));
  if (bytes.length >= 60) return bytes;
  const padded = new Uint8Array(60);
  padded.set(bytes);
  return padded;
}

/** A classic pcap file (microsecond timestamps, LINKTYPE_ETHERNET), one record per frame, n-th at n µs. */
export function writePcap(frames: readonly (Flow | WireFrame)[]): Uint8Array {
  return writeClassicPcap(
    frames.map((x, i) => {
      const w = "flow" in x ? x : { flow: x, phase: "forward" as const };
      return { bytes: encodeFrame(w.flow, w.phase ?? "forward"), timeUs: i };
    }),
  );
}

/** What the capture needs to know of the simulated world to name places. */
export interface CaptureWorld {
  /** Pods by the host side of their veth pair (what br-int's port is called). */
  readonly pods: readonly {
    readonly namespace: string;
    readonly name: string;
    readonly node: string;
    readonly veth: string;
  }[];
  /** "host:port" → "host:port" at the other end of the cable (physical topology). */
  readonly links?: ReadonlyMap<string, string>;
  /** Which OVS bridge a port is on, per node: node → port → bridge. */
  readonly bridgeOf?: (node: string, port: string) => string | undefined;
}

/** The names a simulation gives: its Pods' veths, its cables, the bridges its NICs are enslaved to. */
export function captureWorld(sim: Simulation): CaptureWorld {
  return {
    pods: sim.scenario.pods.map((p) => ({
      namespace: p.namespace,
      name: p.name,
      node: p.node,
      veth: podVethName(p),
    })),
    ...(sim.net ? { links: sim.net.topology.links } : {}),
    bridgeOf: (node, port) =>
      sim.ovs.get(node)?.dataplane.bridges.find((b) => b.ports.some((p) => p.name === port))?.name,
  };
}

interface Place {
  readonly name: string;
  readonly description?: string;
}

/** Where a frame was, as a person names it (and a longer description when useful). */
export function placeOf(w: WireFrame, world: CaptureWorld): Place {
  const at = w.link;
  const slash = at.indexOf("/");
  const colon = at.indexOf(":");
  // A switch port: "tor:p-node3".
  if (slash < 0 && colon > 0) return { name: `${at.slice(0, colon)}/${at.slice(colon + 1)}` };
  const host = slash > 0 ? at.slice(0, slash) : at;
  const rest = slash > 0 ? at.slice(slash + 1) : "";
  // A bridge port: "node3/br-provider:patch-…".
  if (rest.includes(":")) {
    const [bridge, port] = [rest.slice(0, rest.indexOf(":")), rest.slice(rest.indexOf(":") + 1)];
    return { name: `${host}/${bridge}/${port}` };
  }
  // A frame entering a bridge: the port comes from the bridge's own trace ("in_port underlay0 …").
  if (w.kind === "bridge") {
    const inPort = /(?:^|: )in_port (\S+)/.exec(w.note ?? "")?.[1];
    if (inPort) return { name: `${host}/${rest}/${inPort}` };
    return { name: `${host}/${rest}` };
  }
  // A Pod's veth: named after the Pod; the host side of the veth pair is the description.
  const pod = world.pods.find((p) => p.node === host && p.veth === rest);
  if (pod) {
    return {
      name: `pod ${pod.namespace}/${pod.name} eth0`,
      description: `veth ${rest} on ${host} (br-int port)`,
    };
  }
  // A NIC enslaved to an OVS bridge: "node3/underlay0" → "node3/br-provider/underlay0".
  const bridge = world.bridgeOf?.(host, rest);
  if (bridge) return { name: `${host}/${bridge}/${rest}` };
  return { name: at };
}

/** `if_description` of a place: what it is and where its cable goes ("tor p-node3, cabled to node3:underlay0"). */
function describePlace(name: string, world: CaptureWorld): string | undefined {
  const parts = name.split("/");
  if (parts.length === 3) {
    const [host, bridge, port] = parts as [string, string, string];
    const peer = world.links?.get(`${host}:${port}`);
    return `port ${port} of OVS bridge ${bridge} on ${host}${peer ? `, cabled to ${peer}` : ""}`;
  }
  if (parts.length === 2) {
    const [dev, port] = parts as [string, string];
    const peer = world.links?.get(`${dev}:${port}`);
    if (peer) return `${dev} ${port}, cabled to ${peer}`;
  }
  return undefined;
}

const DIRECTION: Readonly<Record<string, PcapngDirection>> = {
  wire: "outbound",
  send: "outbound",
  metallb: "outbound",
  exit: "outbound",
  ovs: "outbound",
  switch: "inbound",
  bridge: "inbound",
  deliver: "inbound",
};

/**
 * The tags a switch port sends with ("untagged", "vlan 341", "vlan 100.200" in its trace): the
 * frame's own tags when they are the same ids, else 802.1Q tags with the frame's priority, as
 * OVS NORMAL pushes them on a trunk.
 */
function egressVlans(f: Flow, ids: string | undefined): Flow["vlans"] {
  if (ids === undefined) return [];
  const vids = ids.split(".").map(Number);
  if (vids.length === f.vlans.length && vids.every((v, i) => f.vlans[i]!.vid === v)) return f.vlans;
  const pcp = f.vlans[0]?.pcp ?? 0;
  return vids.map((vid) => ({ tpid: 0x8100, pcp, vid }));
}

/** Same bytes at the same place: one hop seen twice by two layers (br-provider's exit, the NIC's wire). */
function sameFrame(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The capture of a trace's frames: interfaces in order of first use, one Enhanced Packet Block per
 * hop with its comment ("forward: tor: VLAN 341: forwarding to learned port -> p-node3(vlan 341)").
 * A frame entering a bridge port from a switch is also shown on the switch's egress port (the
 * other end of that cable), so the ToR port towards the node appears in both directions.
 */
export function traceCapture(frames: readonly WireFrame[], world: CaptureWorld): PcapngCapture {
  const interfaces: PcapngInterface[] = [];
  const index = new Map<string, number>();
  const packets: PcapngPacket[] = [];
  const ifaceOf = (p: Place): number => {
    let i = index.get(p.name);
    if (i === undefined) {
      i = interfaces.length;
      index.set(p.name, i);
      const description = p.description ?? describePlace(p.name, world);
      interfaces.push({ name: p.name, ...(description !== undefined ? { description } : {}) });
    }
    return i;
  };
  let prev: { iface: number; bytes: Uint8Array } | undefined;
  const add = (place: Place, bytes: Uint8Array, comment: string, direction: PcapngDirection | undefined) => {
    const iface = ifaceOf(place);
    if (prev && prev.iface === iface && sameFrame(prev.bytes, bytes)) return;
    prev = { iface, bytes };
    packets.push({
      interface: iface,
      bytes,
      timeUs: packets.length,
      comment,
      ...(direction !== undefined ? { direction } : {}),
    });
  };
  for (const w of frames) {
    const phase = w.phase ?? "forward";
    const bytes = encodeFrame(w.flow, phase);
    const place = placeOf(w, world);
    const note = w.note ?? w.link;
    if (w.kind === "bridge" && world.links) {
      const [host, , port] = place.name.split("/");
      const peer = host !== undefined && port !== undefined ? world.links.get(`${host}:${port}`) : undefined;
      if (peer) {
        const [sw, swPort] = peer.split(":") as [string, string];
        const tag = w.flow.vlans[0] ? `VLAN ${w.flow.vlans[0].vid} tagged` : "untagged";
        add(
          { name: `${sw}/${swPort}` },
          bytes,
          `${phase}: ${sw}: out of ${swPort} (${tag}) towards ${host}:${port}`,
          "outbound",
        );
      }
    }
    const direction =
      w.kind === "pod" ? (phase === "forward" ? "inbound" : "outbound") : DIRECTION[w.kind ?? ""];
    add(place, bytes, `${phase}: ${note}`, direction);
    if (w.kind === "switch" && world.links) {
      // The switch's outputs towards plain host NICs (a NIC enslaved to a bridge has its own
      // hop above): the switch port and the NIC at the other end of its cable.
      const sw = place.name.split("/")[0]!;
      for (const out of /-> (.+)$/.exec(note)?.[1]?.split(", ") ?? []) {
        const m = /^(\S+)\((untagged|vlan ([\d.]+))\)$/.exec(out);
        const peer = m ? world.links.get(`${sw}:${m[1]}`) : undefined;
        if (!m || !peer) continue;
        const [host, nic] = peer.split(":") as [string, string];
        if (world.bridgeOf?.(host, nic)) continue;
        const flow = withFlow(w.flow, { vlans: egressVlans(w.flow, m[3]) });
        const out0 = encodeFrame(flow, phase);
        const tag = m[3] ? `VLAN ${m[3]} tagged` : "untagged";
        add(
          { name: `${sw}/${m[1]}` },
          out0,
          `${phase}: ${sw}: out of ${m[1]} (${tag}) towards ${host}:${nic}`,
          "outbound",
        );
        add({ name: `${host}/${nic}` }, out0, `${phase}: ${host} receives on ${nic}`, "inbound");
      }
    }
  }
  return { application: "ovnsim trace", interfaces, packets };
}

/** The trace's frames as a pcapng file (see traceCapture). */
export function writeTracePcapng(frames: readonly WireFrame[], world: CaptureWorld): Uint8Array {
  return writePcapng(traceCapture(frames, world));
}
