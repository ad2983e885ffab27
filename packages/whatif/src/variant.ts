/**
 * One side of a what-if: a scenario as the manifests describe it, with the changes a person
 * considers before touching the cluster — another Kube-OVN release (the controller image tag),
 * another MetalLB version, another kube-ovn-controller flag value, another
 * externalTrafficPolicy. Each change rewrites the resolved scenario exactly where reading the
 * edited manifest would have put it (the controller flags through kube's own flag reader), so
 * both sides of a diff go through the same derive/northd/tracer path as `ovnsim trace`.
 */
import { type ControllerConfig, type Scenario, controllerFromArgs, versionFromImage } from "@ovnsim/kube";
import { SimError } from "@ovnsim/packet";

/** What to change in a scenario; every field optional. */
export interface Variant {
  /** Kube-OVN version: "1.14", "v1.15.20", "master"… (as the kube-ovn-controller image tag). */
  readonly release?: string;
  /** MetalLB version ("0.14.8"). */
  readonly metallb?: string;
  /** kube-ovn-controller flags, by name without dashes ("ls-ct-skip-dst-lport-ips" → "true"). */
  readonly flags?: Readonly<Record<string, string>>;
  /** externalTrafficPolicy of every LoadBalancer Service. */
  readonly etp?: "Local" | "Cluster";
}

/** The flags of ControllerConfig that shape the data path (the others are ignored by it). */
export const CONTROLLER_FLAGS = [
  "enable-ovn-lb-prefer-local",
  "ls-ct-skip-dst-lport-ips",
  "ls-dnat-mod-dl-dst",
  "enable-lb",
] as const;

function flagArgs(c: ControllerConfig): string[] {
  return [
    `--enable-ovn-lb-prefer-local=${c.enableOvnLbPreferLocal}`,
    `--ls-ct-skip-dst-lport-ips=${c.lsCtSkipDstLportIps}`,
    `--ls-dnat-mod-dl-dst=${c.lsDnatModDlDst}`,
    `--enable-lb=${c.enableLb}`,
  ];
}

/** Release names accepted alone: "1.14" → the seed's v1.14.5, "1.15" → the 1.15 line with the VIP-node marker. */
const RELEASE_ALIASES: Readonly<Record<string, string>> = { "1.14": "v1.14.5", "1.15": "v1.15.20" };

/** The scenario with the variant's changes; the input is not modified. */
export function applyVariant(s: Scenario, v: Variant): Scenario {
  let controller = s.controller;
  if (v.release !== undefined) {
    const tag = RELEASE_ALIASES[v.release.replace(/^v/, "")] ?? v.release;
    if (!/^(v?\d+\.\d+(\.\d+)?|master|latest)$/.test(tag))
      throw new SimError(
        "BAD_VALUE",
        `--release: "${v.release}" is not a Kube-OVN version (1.14, v1.15.20, master)`,
      );
    const ver = versionFromImage(`docker.io/kubeovn/kube-ovn:${tag}`);
    controller = {
      ...controller,
      release: ver.release,
      version: ver.version,
      vipNodeMarkerSupported: ver.marker,
    };
  }
  if (v.flags !== undefined) {
    const names = Object.keys(v.flags).sort();
    for (const n of names) {
      if (!(CONTROLLER_FLAGS as readonly string[]).includes(n))
        throw new SimError("BAD_VALUE", `--flag: "${n}" is not one of ${CONTROLLER_FLAGS.join(", ")}`);
    }
    // kube's reader decides what a value means (true/false/1/0/t/f), as for the Deployment's args.
    const args = [...flagArgs(controller), ...names.map((n) => `--${n}=${v.flags![n]}`)];
    const parsed = controllerFromArgs(args, undefined);
    controller = {
      ...controller,
      enableOvnLbPreferLocal: parsed.enableOvnLbPreferLocal,
      lsCtSkipDstLportIps: parsed.lsCtSkipDstLportIps,
      lsDnatModDlDst: parsed.lsDnatModDlDst,
      enableLb: parsed.enableLb,
    };
  }
  let physical = s.physical;
  if (v.metallb !== undefined) {
    if (!/^v?\d+\.\d+(\.\d+)?$/.test(v.metallb))
      throw new SimError("BAD_VALUE", `--metallb: "${v.metallb}" is not a MetalLB version (0.14.8)`);
    physical = { ...physical, metallbVersion: v.metallb.replace(/^v/, "") };
  }
  let services = s.services;
  if (v.etp !== undefined) {
    const etp = v.etp;
    services = services.map((x) => (x.type === "LoadBalancer" ? { ...x, externalTrafficPolicy: etp } : x));
  }
  return { ...s, controller, physical, services };
}

/** A short label of what a variant changes ("release v1.15.20, ls-ct-skip-dst-lport-ips=true"). */
export function describeVariant(v: Variant): string {
  const parts: string[] = [];
  if (v.release !== undefined) parts.push(`release ${v.release}`);
  if (v.metallb !== undefined) parts.push(`metallb ${v.metallb}`);
  for (const n of Object.keys(v.flags ?? {}).sort()) parts.push(`${n}=${v.flags![n]}`);
  if (v.etp !== undefined) parts.push(`externalTrafficPolicy ${v.etp}`);
  return parts.join(", ");
}

/**
 * A command-line value for both sides: "X" (the same on both) or "A,B" (A on the first side, B on
 * the second).
 */
export function splitPair(option: string, value: string): readonly [string, string] {
  const parts = value.split(",");
  if (parts.length === 1 && parts[0] !== "") return [parts[0]!, parts[0]!];
  if (parts.length === 2 && parts[0] !== "" && parts[1] !== "") return [parts[0]!, parts[1]!];
  throw new SimError("BAD_VALUE", `${option}: "${value}" is not VALUE or A,B`);
}

/** A variant being assembled from command-line options. */
export interface VariantDraft {
  release?: string;
  metallb?: string;
  flags?: Record<string, string>;
  etp?: "Local" | "Cluster";
}

function etpOf(v: string): "Local" | "Cluster" {
  if (v !== "Local" && v !== "Cluster")
    throw new SimError("BAD_VALUE", `--etp: "${v}" is not Local or Cluster`);
  return v;
}

/**
 * Reads one of the variant options into the two sides' drafts (`--release V|A,B`,
 * `--metallb V|A,B`, `--flag NAME=V|NAME=A,B`, `--etp V|A,B`); false when `name` is not one.
 * With `pair` false (matrix: one side) a comma is refused.
 */
export function variantOption(
  sides: readonly [VariantDraft, VariantDraft],
  name: string,
  value: () => string,
  pair = true,
): boolean {
  if (name !== "--release" && name !== "--metallb" && name !== "--flag" && name !== "--etp") return false;
  const raw = value();
  let flag: string | undefined;
  let v = raw;
  if (name === "--flag") {
    const eq = raw.indexOf("=");
    if (eq <= 0) throw new SimError("BAD_VALUE", `--flag: "${raw}" is not NAME=VALUE`);
    flag = raw.slice(0, eq).replace(/^--?/, "");
    v = raw.slice(eq + 1);
  }
  const [a, b] = splitPair(name, v);
  if (!pair && a !== b)
    throw new SimError("BAD_VALUE", `${name}: "${raw}" gives two values; this command takes one`);
  if (!pair && v.includes(","))
    throw new SimError("BAD_VALUE", `${name}: "${raw}" gives two values; this command takes one`);
  [a, b].forEach((x, i) => {
    const d = sides[i]!;
    if (name === "--release") d.release = x;
    else if (name === "--metallb") d.metallb = x;
    else if (name === "--etp") d.etp = etpOf(x);
    else d.flags = { ...(d.flags ?? {}), [flag!]: x };
  });
  return true;
}
