/**
 * ovn-detrace, offline: what OVN row is behind a br-int OpenFlow cookie. ovn-controller sets a
 * flow's cookie to the first 32 bits of the southbound row it derived the flow from — a
 * Logical_Flow (lflow.c), a Port_Binding or a Multicast_Group (physical.c) — so a cookie
 * names the logical flow (its datapath, pipeline, stage, match and actions, northd's
 * `source` and `stage-hint`) and, through the hint or the port name, the northbound row.
 * The real `ovn-detrace` asks live databases; this reads the `scripts/capture-sb.sh` files
 * (and, when the caller has it, the northbound model) and prints the same `  * …` lines.
 */
import { parseOvsdbList, readSbBundle, type NbDatabase, type OvsdbRecord, type SbFiles } from "@ovnsim/ovn";

/** The OVN row behind one cookie (`ovnsim.trace/v1` step key `logical`). */
export interface OvnRef {
  /** The cookie as ofproto/trace prints it ("0x5357c9c0"). */
  readonly cookie: string;
  readonly table: "Logical_Flow" | "Port_Binding" | "Multicast_Group";
  /** The row's uuid (full when the capture has it, else the 8 hex digits lflow-list prints). */
  readonly uuid: string;
  /** Logical datapath name. */
  readonly datapath: string;
  readonly pipeline?: "ingress" | "egress";
  /** Logical table number within the pipeline. */
  readonly logicalTable?: number;
  readonly stage?: string;
  readonly priority?: number;
  readonly match?: string;
  readonly actions?: string;
  /** northd's `external_ids:source` ("northd.c:6132"). */
  readonly source?: string;
  /** northd's `external_ids:stage-hint`: the first 8 hex digits of the NB row's uuid. */
  readonly stageHint?: string;
  /** Port_Binding: the logical port, its tunnel key and chassis. */
  readonly logicalPort?: string;
  readonly tunnelKey?: number;
  readonly chassis?: string;
  /** Multicast_Group: its name and ports. */
  readonly group?: string;
  readonly ports?: readonly string[];
  /** The northbound row, as ovn-detrace names it ("Logical_Switch_Port pod1"), when known. */
  readonly nb?: string;
}

const atom = (r: OvsdbRecord, c: string): string => {
  const v = r.get(c);
  if (!v) return "";
  if (v.kind === "atom") return v.s;
  if (v.kind === "set") return v.xs[0] ?? "";
  return "";
};
const setOf = (r: OvsdbRecord, c: string): string[] => {
  const v = r.get(c);
  if (!v) return [];
  if (v.kind === "set") return [...v.xs];
  return v.kind === "atom" && v.s !== "" ? [v.s] : [];
};
const mapOf = (r: OvsdbRecord, c: string): ReadonlyMap<string, string> => {
  const v = r.get(c);
  return v?.kind === "map" ? v.m : new Map();
};

/** A Python list as ovn-detrace prints an IDL set: ['a', 'b']. */
const pyList = (xs: readonly string[]): string => `[${xs.map((x) => `'${x}'`).join(", ")}]`;
/** A Python dict as ovn-detrace prints an IDL map: {'k': 'v'}. */
const pyDict = (m: ReadonlyMap<string, string>): string =>
  `{${[...m].map(([k, v]) => `'${k}': '${v}'`).join(", ")}}`;
const pyOpt = (xs: readonly string[]): string => pyList(xs);

/**
 * NB rows from `scripts/capture-nb.sh`, by the 8 hex digits a stage-hint carries, printed as
 * ovn-detrace's hint handlers print them (ACL, Logical Switch Port, Logical Router Port,
 * Load Balancer, NAT, Route, Logical Router Policy, QoS, DHCP Options, Forwarding Group).
 */
export function nbCaptureRows(files: SbFiles): Map<string, string> {
  const out = new Map<string, string>();
  const each = (file: string, fmt: (r: OvsdbRecord) => string): void => {
    for (const r of parseOvsdbList(files[file] ?? "", file)) out.set(atom(r, "_uuid").slice(0, 8), fmt(r));
  };
  each("acl.txt", (r) => {
    const log = atom(r, "log") === "true" ? " (log)" : "";
    return `ACL: ${atom(r, "direction")}, priority=${atom(r, "priority")}, match=(${atom(r, "match")}), ${atom(r, "action")}${log}`;
  });
  each(
    "logical-switch-port.txt",
    (r) =>
      `Logical Switch Port: ${atom(r, "name")} type ${atom(r, "type")} (addresses ${pyList(setOf(r, "addresses"))}, dynamic addresses ${pyOpt(setOf(r, "dynamic_addresses"))}, security ${pyList(setOf(r, "port_security"))}`,
  );
  each(
    "logical-router-port.txt",
    (r) =>
      `Logical Router Port: ${atom(r, "name")} mac ${atom(r, "mac")} networks ${pyList(setOf(r, "networks"))} ipv6_ra_configs ${pyDict(mapOf(r, "ipv6_ra_configs"))}`,
  );
  each(
    "load-balancer.txt",
    (r) =>
      `Load Balancer: ${atom(r, "name")} protocol ${pyOpt(setOf(r, "protocol"))} vips ${pyDict(mapOf(r, "vips"))} ip_port_mappings ${pyDict(mapOf(r, "ip_port_mappings"))}`,
  );
  each(
    "nat.txt",
    (r) =>
      `NAT: external IP ${atom(r, "external_ip")} external_mac ${pyOpt(setOf(r, "external_mac"))} logical_ip ${atom(r, "logical_ip")} logical_port ${pyOpt(setOf(r, "logical_port"))} type ${atom(r, "type")}`,
  );
  each(
    "logical-router-static-route.txt",
    (r) =>
      `Route: ${atom(r, "ip_prefix")} via ${atom(r, "nexthop")} (port ${pyOpt(setOf(r, "output_port"))}), policy=${pyOpt(setOf(r, "policy"))}`,
  );
  each(
    "logical-router-policy.txt",
    (r) =>
      `Logical Router Policy: priority ${atom(r, "priority")} match ${atom(r, "match")} action ${atom(r, "action")} nexthop ${pyOpt(setOf(r, "nexthop"))}`,
  );
  each(
    "qos.txt",
    (r) =>
      `QoS: priority ${atom(r, "priority")} direction ${atom(r, "direction")} match ${atom(r, "match")} action ${pyDict(mapOf(r, "action"))} bandwidth ${pyDict(mapOf(r, "bandwidth"))}`,
  );
  each(
    "dhcp-options.txt",
    (r) => `DHCP Options: cidr ${atom(r, "cidr")} options (${pyDict(mapOf(r, "options"))})`,
  );
  each(
    "forwarding-group.txt",
    (r) =>
      `Forwarding Group: name ${atom(r, "name")} vip ${atom(r, "vip")} vmac ${atom(r, "vmac")} liveness ${atom(r, "liveness")} child ports (${pyList(setOf(r, "child_port"))})`,
  );
  return out;
}

/** Normalizes a cookie ("0x5357c9c0", "5357c9c0", 0x5357c9c0n) to its 8 hex digits. */
function cookieKey(cookie: string | bigint): string | null {
  const n =
    typeof cookie === "bigint"
      ? cookie
      : /^(0x)?[0-9a-f]+$/i.test(cookie)
        ? BigInt(cookie.startsWith("0x") ? cookie : `0x${cookie}`)
        : null;
  if (n === null || n === 0n || n > 0xffffffffn) return null;
  return n.toString(16).padStart(8, "0");
}

export class CookieIndex {
  private readonly rows = new Map<string, OvnRef[]>();
  private readonly dpUuid = new Map<string, string>();

  /**
   * `sb`: a southbound capture (lflow-list.txt and port-binding.txt at least); `nb`: the
   * northbound model when there is one (a scenario's), to name the NB row behind a stage-hint
   * or a port.
   */
  constructor(sb: SbFiles, nb?: NbDatabase, nbFiles?: SbFiles) {
    const model = readSbBundle(sb);
    for (const d of model.datapaths) this.dpUuid.set(d.name, d.uuid);
    const lf = new Map<string, OvsdbRecord>();
    for (const r of parseOvsdbList(sb["logical-flow.txt"] ?? "", "logical-flow.txt"))
      lf.set(atom(r, "_uuid").slice(0, 8), r);
    const nbRows = new Map<string, string>();
    const nbPorts = new Map<string, string>();
    if (nb) {
      for (const sw of nb.switches) {
        nbRows.set(sw.uuid.slice(0, 8), `Logical_Switch ${sw.name}`);
        for (const p of sw.ports) {
          nbRows.set(p.uuid.slice(0, 8), `Logical_Switch_Port ${p.name}`);
          nbPorts.set(p.name, `Logical_Switch_Port ${p.name}${p.type ? ` type ${p.type}` : ""}`);
        }
      }
      for (const r of nb.routers) {
        nbRows.set(r.uuid.slice(0, 8), `Logical_Router ${r.name}`);
        for (const p of r.ports) nbPorts.set(p.name, `Logical_Router_Port ${p.name}`);
      }
      for (const lb of nb.loadBalancers) nbRows.set(lb.uuid.slice(0, 8), `Load_Balancer ${lb.name}`);
      for (const pg of nb.portGroups) nbRows.set(pg.uuid.slice(0, 8), `Port_Group ${pg.name}`);
      for (const acl of [...nb.switches.flatMap((x) => x.acls), ...nb.portGroups.flatMap((x) => x.acls)])
        nbRows.set(
          acl.uuid.slice(0, 8),
          `ACL ${acl.direction} priority=${acl.priority} match=(${acl.match}) ${acl.action}`,
        );
    }
    if (nbFiles) for (const [k, v] of nbCaptureRows(nbFiles)) nbRows.set(k, v);
    for (const f of model.flows) {
      if (!f.uuid) continue;
      const r = lf.get(f.uuid);
      const ids = r ? mapOf(r, "external_ids") : new Map<string, string>();
      const hint = ids.get("stage-hint");
      const nbRow = hint !== undefined ? nbRows.get(hint.slice(0, 8)) : undefined;
      this.add(f.uuid, {
        cookie: "",
        table: "Logical_Flow",
        uuid: r ? atom(r, "_uuid") : f.uuid,
        datapath: f.datapath,
        pipeline: f.pipeline,
        logicalTable: f.table,
        stage: ids.get("stage-name") ?? f.stage,
        priority: f.priority,
        match: f.match,
        actions: f.actions,
        ...(ids.get("source") !== undefined ? { source: ids.get("source")! } : {}),
        ...(hint !== undefined ? { stageHint: hint } : {}),
        ...(nbRow !== undefined ? { nb: nbRow } : {}),
      });
    }
    const chassisName = new Map<string, string>();
    for (const r of parseOvsdbList(sb["chassis.txt"] ?? "", "chassis.txt"))
      chassisName.set(atom(r, "_uuid"), atom(r, "name"));
    const dpName = new Map(model.datapaths.map((d) => [d.uuid, d.name]));
    const pbName = new Map<string, string>();
    for (const r of parseOvsdbList(sb["port-binding.txt"] ?? "", "port-binding.txt")) {
      const uuid = atom(r, "_uuid");
      const name = atom(r, "logical_port");
      pbName.set(uuid, name);
      const ch = atom(r, "chassis");
      const key = Number(atom(r, "tunnel_key"));
      const nbRow = nbPorts.get(name);
      this.add(uuid.slice(0, 8), {
        cookie: "",
        table: "Port_Binding",
        uuid,
        datapath: dpName.get(atom(r, "datapath")) ?? model.datapaths[0]?.name ?? "",
        logicalPort: name,
        ...(Number.isInteger(key) ? { tunnelKey: key } : {}),
        ...(ch ? { chassis: chassisName.get(ch) ?? ch } : {}),
        ...(nbRow !== undefined ? { nb: nbRow } : {}),
      });
    }
    for (const r of parseOvsdbList(sb["multicast-group.txt"] ?? "", "multicast-group.txt")) {
      const uuid = atom(r, "_uuid");
      const key = Number(atom(r, "tunnel_key"));
      this.add(uuid.slice(0, 8), {
        cookie: "",
        table: "Multicast_Group",
        uuid,
        datapath: dpName.get(atom(r, "datapath")) ?? model.datapaths[0]?.name ?? "",
        group: atom(r, "name"),
        ...(Number.isInteger(key) ? { tunnelKey: key } : {}),
        ports: setOf(r, "ports").map((u) => pbName.get(u) ?? u),
      });
    }
  }

  private add(key: string, ref: OvnRef): void {
    const k = key.toLowerCase();
    const l = this.rows.get(k);
    if (l) l.push(ref);
    else this.rows.set(k, [ref]);
  }

  /** The rows behind a cookie (none for cookie 0 or a cookie no row has). */
  lookup(cookie: string | bigint): readonly OvnRef[] {
    const k = cookieKey(cookie);
    if (k === null) return [];
    const cookieText = `0x${k.replace(/^0+/, "") || "0"}`;
    return (this.rows.get(k) ?? []).map((r) => ({ ...r, cookie: cookieText }));
  }

  /** ovn-detrace's lines for one row (`  * Logical flow: …`, `   * <NB row>`). */
  lines(r: OvnRef): string[] {
    const dp = `"${r.datapath}" (${this.dpUuid.get(r.datapath) ?? "?"})`;
    if (r.table === "Logical_Flow") {
      const out = [
        "  * Logical datapaths:",
        `  *     ${dp} [${r.pipeline}]`,
        `  * Logical flow: table=${r.logicalTable} (${r.stage}), priority=${r.priority}, match=(${r.match}), actions=(${r.actions})`,
      ];
      if (r.nb !== undefined) out.push(`   * ${r.nb}`);
      else if (r.stageHint !== undefined)
        out.push(`   * NB row ${r.stageHint} (stage-hint; no northbound capture)`);
      return out;
    }
    if (r.table === "Port_Binding") {
      const out = [
        `  * Logical datapath: ${dp}`,
        `  * Port Binding: logical_port "${r.logicalPort}", tunnel_key ${r.tunnelKey}${r.chassis ? `, chassis-name "${r.chassis}"` : ""}`,
      ];
      if (r.nb !== undefined) out.push(`   * ${r.nb}`);
      return out;
    }
    return [
      `  * Logical datapath: ${dp}`,
      `  * Multicast Group: name "${r.group}", tunnel_key ${r.tunnelKey} ports: (${(r.ports ?? []).join(", ")})`,
    ];
  }

  /**
   * An ofproto/trace text annotated as `ovn-detrace < trace` prints it: after each line naming
   * a cookie, the rows behind it.
   */
  annotate(traceText: string): string {
    const out: string[] = [];
    for (const line of traceText.split("\n")) {
      out.push(line);
      const m = /cookie[ =](0x[0-9a-f]+)/.exec(line);
      if (!m) continue;
      // ovn-detrace prints its lines from the first column, whatever the trace's nesting.
      for (const r of this.lookup(m[1]!)) out.push(...this.lines(r));
    }
    return out.join("\n");
  }
}
