/**
 * A TypeScript way to write what an `ovn-nbctl` script writes. Each method is one nbctl
 * command with the same checks (it goes through the same command table), so a builder and a
 * command file describing the same objects give identical NB databases.
 */
import type { AclDirection, AclVerdict, NbDatabase } from "./model.js";
import { emptyNb } from "./model.js";
import { applyNbctl } from "./nbctl.js";

type Opts = Record<string, string | true>;

export class NbBuilder {
  #db: NbDatabase;

  constructor(base: NbDatabase = emptyNb()) {
    this.#db = base;
  }

  /** Runs any command as ovn-nbctl would (`cmd("set", "nb_global", ".", "options:x=y")`). */
  cmd(...argv: string[]): this {
    return this.#run("ovn-nbctl", {}, argv);
  }

  /** Runs an ovn-sbctl command (chassis-add, lsp-bind, set chassis …). */
  sbctl(...argv: string[]): this {
    return this.#run("ovn-sbctl", {}, argv);
  }

  lsAdd(name: string, opts: { mayExist?: boolean } = {}): this {
    return this.#run("ovn-nbctl", opts.mayExist ? { "--may-exist": true } : {}, ["ls-add", name]);
  }

  lspAdd(sw: string, port: string, opts: { mayExist?: boolean } = {}): this {
    return this.#run("ovn-nbctl", opts.mayExist ? { "--may-exist": true } : {}, ["lsp-add", sw, port]);
  }

  lspSetType(port: string, type: string): this {
    return this.cmd("lsp-set-type", port, type);
  }

  lspSetAddresses(port: string, ...addresses: string[]): this {
    return this.cmd("lsp-set-addresses", port, ...addresses);
  }

  lspSetPortSecurity(port: string, ...addresses: string[]): this {
    return this.cmd("lsp-set-port-security", port, ...addresses);
  }

  lspSetOptions(port: string, options: Record<string, string>): this {
    return this.cmd("lsp-set-options", port, ...Object.entries(options).map(([k, v]) => `${k}=${v}`));
  }

  /** A VIF with "MAC IP" as both its address and its port security. */
  pod(sw: string, port: string, mac: string, ip: string, opts: { portSecurity?: boolean } = {}): this {
    this.lspAdd(sw, port).lspSetAddresses(port, `${mac} ${ip}`);
    if (opts.portSecurity ?? true) this.lspSetPortSecurity(port, `${mac} ${ip}`);
    return this;
  }

  /** A localnet port as Kube-OVN creates it (addresses unknown, network_name, tag, ipv4_network). */
  localnet(
    sw: string,
    port: string,
    opts: { networkName: string; tag?: number; ipv4Network?: string },
  ): this {
    this.lspAdd(sw, port).lspSetType(port, "localnet").lspSetAddresses(port, "unknown");
    this.lspSetOptions(port, { network_name: opts.networkName });
    if (opts.tag !== undefined) this.cmd("set", "logical_switch_port", port, `tag=${opts.tag}`);
    if (opts.ipv4Network !== undefined) {
      this.cmd("set", "logical_switch_port", port, `external_ids:ipv4_network=${opts.ipv4Network}`);
    }
    return this;
  }

  lbAdd(
    name: string,
    vip: string,
    backends: string,
    protocol?: string,
    opts: { mayExist?: boolean } = {},
  ): this {
    const argv = ["lb-add", name, vip, backends, ...(protocol !== undefined ? [protocol] : [])];
    return this.#run("ovn-nbctl", opts.mayExist ? { "--may-exist": true } : {}, argv);
  }

  lsLbAdd(sw: string, lb: string): this {
    return this.cmd("ls-lb-add", sw, lb);
  }

  lrAdd(name: string): this {
    return this.cmd("lr-add", name);
  }

  lrpAdd(router: string, port: string, mac: string, ...networks: string[]): this {
    return this.cmd("lrp-add", router, port, mac, ...networks);
  }

  /** A switch port of type router facing `lrp` (addresses "router"). */
  routerPort(sw: string, port: string, lrp: string): this {
    return this.lspAdd(sw, port)
      .lspSetType(port, "router")
      .lspSetAddresses(port, "router")
      .lspSetOptions(port, { "router-port": lrp });
  }

  aclAdd(
    sw: string,
    direction: AclDirection,
    priority: number,
    match: string,
    verdict: AclVerdict,
    opts: { log?: boolean; name?: string; severity?: string; label?: number; applyAfterLb?: boolean } = {},
  ): this {
    const o: Opts = {};
    if (opts.log) o["--log"] = true;
    if (opts.name !== undefined) o["--name"] = opts.name;
    if (opts.severity !== undefined) o["--severity"] = opts.severity;
    if (opts.label !== undefined) o["--label"] = String(opts.label);
    if (opts.applyAfterLb) o["--apply-after-lb"] = true;
    return this.#run("ovn-nbctl", o, ["acl-add", sw, direction, String(priority), match, verdict]);
  }

  chassisAdd(name: string, encapIp = "127.0.0.1", encapType = "geneve"): this {
    return this.sbctl("chassis-add", name, encapType, encapIp);
  }

  lspBind(port: string, chassis: string): this {
    return this.sbctl("lsp-bind", port, chassis);
  }

  build(): NbDatabase {
    return this.#db;
  }

  #run(tool: "ovn-nbctl" | "ovn-sbctl", options: Opts, argv: string[]): this {
    this.#db = applyNbctl(this.#db, { tool, options, argv });
    return this;
  }
}
