/**
 * Where a node's provider NIC meets Open vSwitch. Kube-OVN adds the provider NIC to
 * `br-<provider>`, moves the node IP to the bridge's internal interface and pins that
 * interface's MAC to the NIC's (`other-config:hwaddr`, kube-ovn `pkg/daemon/ovs_linux.go`), so
 * every frame between the wire and the node crosses the bridge.
 *
 * `AttachedBridge` is the seam: the tracer plugs the OpenFlow package's br-provider in here;
 * until then (or for physical-only runs) `NormalBridge` stands in for a bridge whose only flow
 * is OVS's default `priority=0 actions=NORMAL` — which is what br-provider does with ARP,
 * return traffic and host traffic (kube-ovn-internals §1.1, §7.2) — built on `@ovnsim/l2`.
 */
import { type L2PortConfig, MacTable, formatNotes, normalDecide, type VlanMode } from "@ovnsim/l2";
import { type Flow, withFlow } from "@ovnsim/packet";

export interface BridgeOutput {
  /** OVS port name the frame leaves by: an enslaved host interface, the internal port, or an OVS-only port. */
  readonly port: string;
  readonly frame: Flow;
}

export interface BridgeResult {
  readonly outputs: readonly BridgeOutput[];
  /**
   * Trace lines to show under the bridge step (e.g. ofproto/trace-like text), or a function
   * that makes them when the event's text is first read (a bridge whose trace is a structured
   * record renders it only for a caller that shows it).
   */
  readonly trace: readonly string[] | (() => readonly string[]);
  /**
   * Frames that come back into the bridge through one of its OVS-only ports within the same
   * exchange: what lies behind that port answered (a pod in OVN answering an ARP request that
   * left by the patch port to br-int). The network delivers each to the bridge on that port.
   */
  readonly answers?: readonly BridgeAnswer[];
}

export interface BridgeAnswer {
  /** The OVS port the frame enters the bridge by. */
  readonly port: string;
  readonly frame: Flow;
  /** Who answered and how (for the trace). */
  readonly note: string;
}

/** An OVS bridge as seen from the physical network. `now` is virtual time in seconds. */
export interface AttachedBridge {
  readonly name: string;
  receive(frame: Flow, inPort: string, now: number): BridgeResult;
}

export interface NormalBridgePort {
  readonly name: string;
  readonly vlanMode?: VlanMode;
  readonly tag?: number;
  readonly trunks?: readonly number[];
}

const OFPP_LOCAL = 0xfffe;

/** A bridge with only the NORMAL flow: MAC learning and VLANs as OVS does them. */
export class NormalBridge implements AttachedBridge {
  readonly name: string;
  readonly table: MacTable;
  private readonly ports: readonly L2PortConfig[];
  private readonly byName: ReadonlyMap<string, number>;
  private readonly byNum: ReadonlyMap<number, string>;

  constructor(
    name: string,
    ports: readonly NormalBridgePort[],
    opts: { readonly macAgingTime?: number } = {},
  ) {
    this.name = name;
    this.table = new MacTable(opts.macAgingTime !== undefined ? { idleTime: opts.macAgingTime } : {});
    const cfg: L2PortConfig[] = ports.map((p, i) => ({
      port: i + 1,
      name: p.name,
      ...(p.vlanMode !== undefined ? { vlanMode: p.vlanMode } : {}),
      ...(p.tag !== undefined ? { tag: p.tag } : {}),
      ...(p.trunks !== undefined ? { trunks: p.trunks } : {}),
    }));
    cfg.push({ port: OFPP_LOCAL, name });
    this.ports = cfg;
    this.byName = new Map(cfg.map((p) => [p.name, p.port]));
    this.byNum = new Map(cfg.map((p) => [p.port, p.name]));
  }

  receive(frame: Flow, inPort: string, now: number): BridgeResult {
    const num = this.byName.get(inPort);
    if (num === undefined)
      return { outputs: [], trace: [`bridge("${this.name}"): no port ${inPort}, dropping`] };
    const d = normalDecide(this.ports, this.table, num, frame.vlans, frame.dl_src, frame.dl_dst, now);
    const trace = [` 0. priority 0`, `    NORMAL`, formatNotes(d.notes)];
    const outputs = d.outputs.map((o) => ({
      port: this.byNum.get(o.port) ?? String(o.port),
      frame: withFlow(frame, { vlans: o.vlans }),
    }));
    return { outputs, trace };
  }
}
