/**
 * Port VLAN configuration and the 802.1Q rules of OVS's NORMAL action, mirroring
 * `ofproto/ofproto-dpif-xlate.c` (OVS 3.1): `input_vid_is_valid`, `xvlan_input_translate`,
 * `xbundle_includes_vlan`, `xvlan_output_translate`/`xvlan_put`, and the bundle setup in
 * `ofproto/ofproto-dpif.c bundle_set()` / `vswitchd/bridge.c port_configure()` (default mode,
 * native VLAN forced into trunks, VLAN 0 removed from native trunks).
 *
 * One set of rules for both OVS bridges (the OpenFlow package's NORMAL) and the physical
 * switches of `@ovnsim/physical`: a physical access/trunk port behaves exactly like an OVS
 * access/trunk port, so modelling it twice would only let the two drift apart.
 *
 * A frame's VLAN stack is `VlanHeader[]` (outermost first) as in `Flow.vlans`; an entry is a
 * tag whose CFI bit is set, so `{vid: 0}` is a priority tag, and an empty stack is untagged.
 */
import type { VlanHeader } from "@ovnsim/packet";
import { SimError } from "@ovnsim/packet";

/** ovs-vswitchd.conf.db(5) Port `vlan_mode` (dot1q-tunnel is not modelled). */
export type VlanMode = "access" | "trunk" | "native-tagged" | "native-untagged";

export const VLAN_MODES: readonly VlanMode[] = ["access", "trunk", "native-tagged", "native-untagged"];

/** One port (an OVS bundle with a single member) as NORMAL sees it. */
export interface L2PortConfig {
  /** OpenFlow port number (`ofport`), the identity learned in the MAC table. */
  readonly port: number;
  /** Port name, as traces print it (`learned that … is on port eth0 …`). */
  readonly name: string;
  /** Default: `access` when `tag` is set, else `trunk` (bridge.c port_configure). */
  readonly vlanMode?: VlanMode;
  /** Port `tag`, 0–4095: the access VLAN or the native VLAN. */
  readonly tag?: number;
  /** Port `trunks`; empty or absent = every VLAN. */
  readonly trunks?: readonly number[];
  /** false for a port with OFPPC_NO_FLOOD (`ovs-ofctl mod-port … no-flood`); default true. */
  readonly floodable?: boolean;
}

/**
 * A port with its configuration resolved the way `bundle_set()` stores it: the effective mode,
 * the effective VLAN (-1 for trunk ports, 0 when no tag is set) and the effective trunk set
 * (null = all VLANs).
 */
export interface ResolvedPort {
  readonly port: number;
  readonly name: string;
  readonly mode: VlanMode;
  /** bundle->vlan: the access/native VLAN; -1 on a trunk port. */
  readonly vlan: number;
  /** bundle->trunks: null = all VLANs (a Uint8Array of 4096 flags otherwise). */
  readonly trunks: Uint8Array | null;
  readonly floodable: boolean;
}

const TPID_8021Q = 0x8100;

function checkVid(v: unknown, what: string, name: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 4095) {
    throw new SimError("BAD_VALUE", `port ${name}: ${what} ${String(v)} is not a VLAN id (0-4095)`);
  }
  return v;
}

/**
 * Resolves a port configuration as ovs-vswitchd does. Throws SimError (BAD_VALUE) for a tag or
 * trunk outside 0–4095 or an unknown mode; the database schema refuses those too.
 */
export function resolvePort(cfg: L2PortConfig): ResolvedPort {
  const name = cfg.name;
  if (cfg.vlanMode !== undefined && !VLAN_MODES.includes(cfg.vlanMode)) {
    throw new SimError("BAD_VALUE", `port ${name}: unknown vlan_mode "${String(cfg.vlanMode)}"`);
  }
  const tag = cfg.tag === undefined ? -1 : checkVid(cfg.tag, "tag", name);
  const mode: VlanMode = cfg.vlanMode ?? (tag >= 0 ? "access" : "trunk");
  const vlan = mode === "trunk" ? -1 : Math.max(tag, 0);
  let trunks: Uint8Array | null = null;
  const given = cfg.trunks ?? [];
  for (const t of given) checkVid(t, "trunk", name);
  if (mode === "access") {
    trunks = null;
  } else if (mode === "trunk") {
    trunks = given.length > 0 ? bitmap(given) : null;
  } else {
    // Native modes: force trunking the native VLAN and prohibit trunking VLAN 0.
    const has = (v: number) => given.includes(v);
    if (vlan !== 0 && (given.length === 0 || !has(vlan) || has(0))) {
      trunks = given.length > 0 ? bitmap(given) : new Uint8Array(4096).fill(1);
      trunks[vlan] = 1;
      trunks[0] = 0;
    } else {
      trunks = given.length > 0 ? bitmap(given) : null;
    }
  }
  return { port: cfg.port, name, mode, vlan, trunks, floodable: cfg.floodable ?? true };
}

function bitmap(vids: readonly number[]): Uint8Array {
  const b = new Uint8Array(4096);
  for (const v of vids) b[v] = 1;
  return b;
}

function asResolved(p: L2PortConfig | ResolvedPort): ResolvedPort {
  return "mode" in p ? p : resolvePort(p);
}

/** xbundle_trunks_vlan: a non-access port whose trunk set holds `vlan`. */
export function trunksVlan(p: ResolvedPort, vlan: number): boolean {
  return p.mode !== "access" && (p.trunks === null || p.trunks[vlan] === 1);
}

/** The frame's VLAN ids, outermost first, from headers or plain numbers. */
function vidsOf(vlans: readonly (number | VlanHeader)[]): readonly VlanHeader[] {
  return vlans.map((v) => (typeof v === "number" ? { tpid: TPID_8021Q, pcp: 0, vid: v } : v));
}

export type InputVlan =
  | {
      readonly ok: true;
      /** The VLAN the frame belongs to inside the bridge (`vlan` in xlate_normal). */
      readonly vlan: number;
      /** The frame's VLAN stack during bridge processing (xvlan_input_translate). */
      readonly xvlan: readonly VlanHeader[];
    }
  | {
      readonly ok: false;
      /** OVS's error text (OFT_ERROR in a trace), e.g. "dropping VLAN 5 tagged packet …". */
      readonly reason: string;
    };

/**
 * Which VLAN a frame received on `port` belongs to, or why it is dropped
 * (`input_vid_is_valid` + `xvlan_input_translate`). `vlans` is the frame's stack, outer first.
 */
export function inputVlan(
  port: L2PortConfig | ResolvedPort,
  vlans: readonly (number | VlanHeader)[],
): InputVlan {
  const p = asResolved(port);
  const inx = vidsOf(vlans).slice(0, 2);
  const outer = inx[0];
  const vid = outer?.vid ?? 0;
  switch (p.mode) {
    case "access":
      if (vid !== 0) {
        return {
          ok: false,
          reason: `dropping VLAN ${vid} tagged packet received on port ${p.name} configured as VLAN ${p.vlan} access port`,
        };
      }
      return {
        ok: true,
        vlan: p.vlan,
        xvlan: [{ tpid: outer?.tpid ?? TPID_8021Q, pcp: outer?.pcp ?? 0, vid: p.vlan }],
      };
    case "native-tagged":
    case "native-untagged":
      if (vid === 0) {
        const rest = inx.slice(1);
        return {
          ok: true,
          vlan: p.vlan,
          xvlan: [{ tpid: outer?.tpid ?? TPID_8021Q, pcp: outer?.pcp ?? 0, vid: p.vlan }, ...rest].slice(
            0,
            2,
          ),
        };
      }
      return trunkInput(p, vid, inx);
    case "trunk":
      return trunkInput(p, vid, inx);
  }
}

function trunkInput(p: ResolvedPort, vid: number, inx: readonly VlanHeader[]): InputVlan {
  if (!trunksVlan(p, vid)) {
    return {
      ok: false,
      reason: `dropping VLAN ${vid} packet received on port ${p.name} not configured for trunking VLAN ${vid}`,
    };
  }
  return { ok: true, vlan: vid, xvlan: inx };
}

/** xbundle_includes_vlan: whether flooding in `vlan` reaches `port`. */
export function portCarriesVlan(port: L2PortConfig | ResolvedPort, vlan: number, innerVid = 0): boolean {
  const p = asResolved(port);
  if (p.mode === "access") return vlan === p.vlan && innerVid === 0;
  return trunksVlan(p, vlan);
}

/**
 * The VLAN stack a frame leaves `port` with (xvlan_output_translate + xvlan_put): access ports
 * strip every tag; trunk and native-tagged ports keep them; native-untagged ports pop the
 * native VLAN. A header whose vid and pcp are both 0 is not written (VLAN 0 = untagged).
 */
export function outputVlans(
  port: L2PortConfig | ResolvedPort,
  xvlan: readonly VlanHeader[],
): readonly VlanHeader[] {
  const p = asResolved(port);
  let out: readonly VlanHeader[];
  switch (p.mode) {
    case "access":
      out = [];
      break;
    case "trunk":
    case "native-tagged":
      out = xvlan;
      break;
    case "native-untagged":
      out = xvlan[0]?.vid === p.vlan ? xvlan.slice(1) : xvlan;
      break;
  }
  // xvlan_put: stop at the first header with tci == 0 (it and what follows become "no tag").
  const res: VlanHeader[] = [];
  for (const h of out) {
    if (h.vid === 0 && h.pcp === 0) break;
    res.push({ tpid: h.tpid || TPID_8021Q, pcp: h.pcp, vid: h.vid });
  }
  return res;
}

/** The VID a frame of internal VLAN `vlan` carries out of `port`; null = untagged. */
export function outputTag(port: L2PortConfig | ResolvedPort, vlan: number): number | null {
  const out = outputVlans(port, [{ tpid: TPID_8021Q, pcp: 0, vid: vlan }]);
  return out[0]?.vid ?? null;
}
