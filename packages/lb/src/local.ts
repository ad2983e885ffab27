/**
 * Kube-OVN's "prefer local backends": which backends each chassis (node) may DNAT to. This is
 * not upstream OVN; it is a Kube-OVN northd patch (`dist/images/patches/9286e1fd…patch`, on
 * release-1.14 `a9e00913…`) that groups a VIP's backends by the chassis of their logical
 * port's Port_Binding (the port comes from `ip_port_mappings`, "pod.ns:0.0.0.0") and emits
 * chassis-guarded `ls_in_lb` flows. Two forms exist:
 *
 *   - 1.14 (and any VIP without the VIP-node marker): for each chassis that has backends, a
 *     priority-140 flow `… && is_chassis_resident("<first backend port on that chassis>")`
 *     → `ct_lb_mark(backends=<that chassis's backends>)`; the generic priority-120 flow with
 *     all backends stays as the fallback on chassis without local backends.
 *   - 1.15.20+/1.16 with `external_ids["kube-ovn.io/local-external-vip/VIP:PORT"]="node-<n>"`:
 *     priority 139 `next;` on every chassis (no DNAT there), and priority 140
 *     `… && is_chassis_resident("node-<n>")` → the VIP node's own backends only.
 *
 * The logical flows are the OVN package's job; this module supplies the grouping (what
 * northd computes) and the choice a given chassis ends up with (what ovn-controller's
 * `is_chassis_resident` evaluation gives), so both agree by construction.
 */
import { type LbBackend, type LbVip, type LoadBalancer, preferLocalBackend, vipNodeLsp } from "./model.js";

/**
 * Logical port → chassis it is bound on (Port_Binding.chassis). As a function it may also say
 * "no such port": the patch skips a mapping whose logical port does not exist
 * (`ovn_port_find()` returns NULL) before it looks at the binding.
 */
export type PortChassisMap =
  | ReadonlyMap<string, string>
  | Readonly<Record<string, string>>
  | ((port: string) => string | undefined);

/** The chassis `port` is bound on, or undefined when the port is unknown or unbound. */
export function chassisOfPort(m: PortChassisMap, port: string): string | undefined {
  if (typeof m === "function") return m(port);
  if (m instanceof Map) return m.get(port);
  const r = m as Readonly<Record<string, string>>;
  return Object.hasOwn(r, port) ? r[port] : undefined;
}

/** One chassis's share of a list of items (backends, in whatever form the caller holds them). */
export interface ChassisGroup<T> {
  readonly chassis: string;
  /** Logical port of the first item placed on this chassis (the 1.14 `is_chassis_resident` argument). */
  readonly residentPort: string;
  /** Every item's logical port, in item order. */
  readonly ports: readonly string[];
  readonly items: readonly T[];
}

/**
 * The patch's grouping loop, on any backend representation: walks `items` in order, skips those
 * without a logical port or whose port has no chassis, and appends each to its chassis's group;
 * groups come in order of their first item and the first item's port guards the group.
 */
export function groupByChassis<T>(
  items: readonly T[],
  portOf: (item: T) => string | undefined,
  portChassis: PortChassisMap,
): { readonly byChassis: readonly ChassisGroup<T>[]; readonly unplaced: readonly T[] } {
  const groups: { chassis: string; residentPort: string; ports: string[]; items: T[] }[] = [];
  const index = new Map<string, number>();
  const unplaced: T[] = [];
  for (const item of items) {
    const port = portOf(item);
    const ch = port === undefined ? undefined : chassisOfPort(portChassis, port);
    if (port === undefined || ch === undefined) {
      unplaced.push(item);
      continue;
    }
    let i = index.get(ch);
    if (i === undefined) {
      i = groups.length;
      index.set(ch, i);
      groups.push({ chassis: ch, residentPort: port, ports: [], items: [] });
    }
    const g = groups[i] as (typeof groups)[number];
    g.ports.push(port);
    g.items.push(item);
  }
  return { byChassis: groups, unplaced };
}

/**
 * A backend as the patch prints it in `ct_lb_mark(backends=…)`: "%s:%s" of the IP (bracketed
 * for IPv6) and the port string, which is NULL (glibc prints "(null)") for a VIP without port.
 */
export function preferLocalBackendText(ip: string, port: number | undefined, v6: boolean): string {
  const p = port === undefined ? "(null)" : String(port);
  return v6 ? `[${ip}]:${p}` : `${ip}:${p}`;
}

/** The backends of one chassis, in VIP order, and the port its 1.14 flow is guarded by. */
export interface ChassisBackends {
  readonly chassis: string;
  /** First backend's logical port on this chassis (`is_chassis_resident` argument). */
  readonly residentPort: string;
  readonly backends: readonly LbBackend[];
}

/** The result of grouping: per chassis (in order of first backend), and backends with no chassis. */
export interface BackendGrouping {
  readonly byChassis: readonly ChassisBackends[];
  /** Backends without an ip_port_mappings entry, or whose port is unknown or not bound. */
  readonly unplaced: readonly LbBackend[];
}

/**
 * Groups a VIP's backends by the chassis of their logical port, as the patched northd's
 * `build_lb_rules()` does.
 *
 * @example groupBackendsByChassis(lb, vip, { "nginx-0.default": "node1" })
 */
export function groupBackendsByChassis(
  lb: LoadBalancer,
  vip: LbVip,
  portChassis: PortChassisMap,
): BackendGrouping {
  void lb;
  const g = groupByChassis(vip.backends, (b) => b.logicalPort, portChassis);
  return {
    byChassis: g.byChassis.map((c) => ({
      chassis: c.chassis,
      residentPort: c.residentPort,
      backends: c.items,
    })),
    unplaced: g.unplaced,
  };
}

/** Which Kube-OVN release's patch to follow. */
export type PreferLocalForm = "1.14" | "1.16";

/** The prefer-local flows northd builds for one VIP (input for the OVN package's ls_in_lb). */
export type PreferLocalPlan =
  | { readonly form: "none"; readonly all: readonly LbBackend[] }
  | {
      readonly form: "per-chassis";
      /** One priority-140 flow per entry (130 for a VIP without port). */
      readonly perChassis: readonly ChassisBackends[];
      /** The generic priority-120 (110) flow's backends: all of them. */
      readonly all: readonly LbBackend[];
    }
  | {
      readonly form: "vip-node";
      /** "node-<node>", the LSP named in is_chassis_resident. */
      readonly vipNodeLsp: string;
      /** Chassis that LSP is bound on, if known. */
      readonly vipNodeChassis: string | undefined;
      /** Backends on that chassis (the 140 flow; no 140 flow when empty). */
      readonly local: readonly LbBackend[];
      /** The generic 120 flow is still emitted but shadowed by the 139 bypass. */
      readonly all: readonly LbBackend[];
    };

/**
 * The prefer-local flows of one VIP.
 *
 * @param form "1.14" ignores the VIP-node marker; "1.16" (also 1.15.20+) honours it.
 */
export function preferLocalPlan(
  lb: LoadBalancer,
  vip: LbVip,
  portChassis: PortChassisMap,
  form: PreferLocalForm = "1.16",
): PreferLocalPlan {
  if (!preferLocalBackend(lb)) return { form: "none", all: vip.backends };
  const grouping = groupBackendsByChassis(lb, vip, portChassis);
  const marker = form === "1.16" ? vipNodeLsp(lb, vip) : undefined;
  if (marker !== undefined) {
    const vipNodeChassis = chassisOfPort(portChassis, marker);
    const local = grouping.byChassis.find((c) => c.chassis === vipNodeChassis)?.backends ?? [];
    return { form: "vip-node", vipNodeLsp: marker, vipNodeChassis, local, all: vip.backends };
  }
  return { form: "per-chassis", perChassis: grouping.byChassis, all: vip.backends };
}

/** What a packet to this VIP may be DNATed to on one chassis, and why. */
export interface LocalChoice {
  /** Backends the matching ls_in_lb flow offers; empty with `bypass` (no DNAT) or no backends. */
  readonly backends: readonly LbBackend[];
  /** The ls_in_lb priority of the matching flow (140, 139, 120; 130/110 without port). */
  readonly priority: number;
  /** true: the backends are on the current chassis. */
  readonly local: boolean;
  /** true: priority 139 `next;`: the packet is not load-balanced on this chassis. */
  readonly bypass: boolean;
  readonly reason: string;
}

/**
 * The candidates on `chassis`: evaluates `is_chassis_resident()` of the plan's flows there and
 * takes the highest-priority match, as ovn-controller would install them.
 */
export function backendsOnChassis(
  lb: LoadBalancer,
  vip: LbVip,
  portChassis: PortChassisMap,
  chassis: string | undefined,
  form: PreferLocalForm = "1.16",
): LocalChoice {
  const hasPort = vip.vip.port !== undefined;
  const generic = hasPort ? 120 : 110;
  const local140 = hasPort ? 140 : 130;
  const plan = preferLocalPlan(lb, vip, portChassis, form);
  if (plan.form === "none") {
    return {
      backends: plan.all,
      priority: generic,
      local: false,
      bypass: false,
      reason: "prefer_local_backend is off: all backends",
    };
  }
  if (plan.form === "vip-node") {
    if (chassis !== undefined && chassis === plan.vipNodeChassis && plan.local.length > 0) {
      return {
        backends: plan.local,
        priority: local140,
        local: true,
        bypass: false,
        reason: `VIP node ${plan.vipNodeLsp} is resident here: its ${plan.local.length} local backend(s)`,
      };
    }
    return {
      backends: [],
      priority: hasPort ? 139 : 129,
      local: false,
      bypass: true,
      reason:
        chassis === plan.vipNodeChassis
          ? `VIP node ${plan.vipNodeLsp} has no local backends: bypass (no DNAT)`
          : `not the VIP node (${plan.vipNodeLsp} on ${plan.vipNodeChassis ?? "no chassis"}): bypass (no DNAT)`,
    };
  }
  const mine = chassis === undefined ? undefined : plan.perChassis.find((c) => c.chassis === chassis);
  if (mine) {
    return {
      backends: mine.backends,
      priority: local140,
      local: true,
      bypass: false,
      reason: `is_chassis_resident("${mine.residentPort}") on ${chassis}: ${mine.backends.length} local backend(s)`,
    };
  }
  return {
    backends: plan.all,
    priority: generic,
    local: false,
    bypass: false,
    reason: `no local backend on ${chassis ?? "(no chassis)"}: generic flow with all backends`,
  };
}
