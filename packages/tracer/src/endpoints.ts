/**
 * The ends of a trace as a user names them, kubectl-style (`pod/NS/NAME`, `svc/NS/NAME:PORT`,
 * `node/NAME`, `client/NAME`), resolved through the scenario the manifests describe: a Pod to its
 * IP (the address Kube-OVN's IPAM gave it), a Service to its LoadBalancer address, a node or a
 * client to the host of that name on the physical network. Bare names and `IP[:PORT]` keep working.
 */
import type { Scenario } from "@ovnsim/kube";
import { SimError, formatIp6, parseIp4, parseIp6 } from "@ovnsim/packet";

/** A parsed `--from`. */
export type SourceRef =
  | { readonly kind: "pod"; readonly namespace: string; readonly name: string }
  | { readonly kind: "node" | "client"; readonly name: string }
  | { readonly kind: "name"; readonly name: string };

/** A parsed `--to`. */
export type TargetRef =
  | { readonly kind: "ip"; readonly ip: string; readonly port?: number }
  | {
      readonly kind: "pod" | "svc";
      readonly namespace: string;
      readonly name: string;
      readonly port?: number;
    };

// A Kubernetes object name (RFC 1123 subdomain: Pods, Services, namespaces, Nodes); a client is
// a host of ovnsim's Scenario file, whose name is free text without "/".
const NAME = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$/;
const CLIENT = /^[^/\s]+$/;

function port(text: string | undefined, opt: string): number | undefined {
  if (text === undefined) return undefined;
  const p = Number(text);
  if (!/^\d{1,5}$/.test(text) || p < 1 || p > 65535)
    throw new SimError("BAD_VALUE", `${opt}: port ${text} is outside 1-65535`);
  return p;
}

function name(text: string, what: string, opt: string, spec: string): string {
  if (!(what === "client" ? CLIENT : NAME).test(text))
    throw new SimError("BAD_VALUE", `${opt}: "${spec}": "${text}" is not a valid ${what} name`);
  return text;
}

/** `pod/NS/NAME`, `node/NAME`, `client/NAME`, or a bare name (client, router, node or pod). */
export function parseSource(spec: string): SourceRef {
  const opt = "--from";
  const parts = spec.split("/");
  const kind = parts[0];
  if (parts.length === 3 && kind === "pod")
    return {
      kind: "pod",
      namespace: name(parts[1]!, "namespace", opt, spec),
      name: name(parts[2]!, "pod", opt, spec),
    };
  if (parts.length === 2 && (kind === "node" || kind === "client"))
    return { kind, name: name(parts[1]!, kind, opt, spec) };
  if (parts.length === 1 && spec !== "") return { kind: "name", name: spec };
  // A bare `NS/NAME` is a pod, as the trace has always taken it.
  if (parts.length === 2 && kind !== "pod" && kind !== "svc")
    return {
      kind: "name",
      name: `${name(parts[0]!, "namespace", opt, spec)}/${name(parts[1]!, "pod", opt, spec)}`,
    };
  throw new SimError(
    "BAD_VALUE",
    `${opt}: "${spec}" is not pod/NAMESPACE/NAME, node/NAME, client/NAME or a bare name`,
  );
}

/** `IP[:PORT]` (IPv6 as `[IP]:PORT` or bare), `pod/NS/NAME[:PORT]` or `svc/NS/NAME[:PORT]`. */
export function parseTarget(spec: string): TargetRef {
  const opt = "--to";
  const ip = /^(\d{1,3}(?:\.\d{1,3}){3})(?::([^:]*))?$/.exec(spec);
  if (ip) {
    parseIp4(ip[1]!, opt);
    const p = port(ip[2], opt);
    return p === undefined ? { kind: "ip", ip: ip[1]! } : { kind: "ip", ip: ip[1]!, port: p };
  }
  // IPv6: bare, or bracketed with a port ("[fd00:10:96::a]:80").
  const ip6 =
    /^\[([0-9A-Fa-f:.]+)\](?::([^:]*))?$/.exec(spec) ?? /^([0-9A-Fa-f]*:[0-9A-Fa-f:.]*)$/.exec(spec);
  if (ip6) {
    const text = formatIp6(parseIp6(ip6[1]!, opt));
    const p = port(ip6[2], opt);
    return p === undefined ? { kind: "ip", ip: text } : { kind: "ip", ip: text, port: p };
  }
  const obj = /^(pod|svc|service)\/([^/:]*)\/([^/:]*)(?::([^:]*))?$/.exec(spec);
  if (obj) {
    const kind = obj[1] === "pod" ? "pod" : "svc";
    const namespace = name(obj[2]!, "namespace", opt, spec);
    const n = name(obj[3]!, kind === "pod" ? "pod" : "service", opt, spec);
    const p = port(obj[4], opt);
    return p === undefined ? { kind, namespace, name: n } : { kind, namespace, name: n, port: p };
  }
  throw new SimError(
    "BAD_VALUE",
    `--to: "${spec}" is not IP[:PORT], pod/NAMESPACE/NAME[:PORT] or svc/NAMESPACE/NAME[:PORT]`,
  );
}

/**
 * The source as the tracer takes it (a host name, or `NS/NAME` for a pod); give `sourceKind(ref)`
 * with it to the cluster tracer, so `client/NAME` and `node/NAME` never pick a pod of that name.
 */
export function resolveSource(s: Scenario, ref: SourceRef): string {
  switch (ref.kind) {
    case "name":
      return ref.name;
    case "pod": {
      const pod = s.pods.find((p) => p.namespace === ref.namespace && p.name === ref.name);
      if (!pod) {
        const here = s.pods.filter((p) => p.namespace === ref.namespace).map((p) => p.name);
        throw new SimError(
          "UNKNOWN_OBJECT",
          `--from pod/${ref.namespace}/${ref.name}: no such Pod in the scenario ${s.name}${here.length > 0 ? ` (namespace ${ref.namespace} has ${here.join(", ")})` : ` (no Pod in namespace ${ref.namespace})`}`,
        );
      }
      return `${pod.namespace}/${pod.name}`;
    }
    case "node": {
      if (!s.nodes.some((n) => n.name === ref.name))
        throw new SimError(
          "UNKNOWN_OBJECT",
          `--from node/${ref.name}: no such Node in the scenario ${s.name} (nodes: ${s.nodes.map((n) => n.name).join(", ") || "none"})`,
        );
      return ref.name;
    }
    case "client": {
      if (!s.physical.clients.some((c) => c.name === ref.name))
        throw new SimError(
          "UNKNOWN_OBJECT",
          `--from client/${ref.name}: no such client in the scenario ${s.name} (clients: ${s.physical.clients.map((c) => c.name).join(", ") || "none"})`,
        );
      return ref.name;
    }
  }
}

/** What a `--from` names, when the user said (`client/`, `node/`, `pod/`); undefined for a bare name. */
export function sourceKind(ref: SourceRef): "client" | "node" | "pod" | undefined {
  return ref.kind === "name" ? undefined : ref.kind;
}

/** The destination address and port (a Service's port when it has one and none was given). */
export function resolveTarget(s: Scenario, ref: TargetRef): { readonly to: string; readonly port?: number } {
  const withPort = (to: string, p: number | undefined) => (p === undefined ? { to } : { to, port: p });
  if (ref.kind === "ip") return withPort(ref.ip, ref.port);
  const what = `--to ${ref.kind}/${ref.namespace}/${ref.name}`;
  if (ref.kind === "pod") {
    const pod = s.pods.find((p) => p.namespace === ref.namespace && p.name === ref.name);
    if (!pod) throw new SimError("UNKNOWN_OBJECT", `${what}: no such Pod in the scenario ${s.name}`);
    return withPort(pod.ip, ref.port);
  }
  const svc = s.services.find((x) => x.namespace === ref.namespace && x.name === ref.name);
  if (!svc) {
    const all = s.services.map((x) => `${x.namespace}/${x.name}`);
    throw new SimError(
      "UNKNOWN_OBJECT",
      `${what}: no such Service in the scenario ${s.name} (services: ${all.join(", ") || "none"})`,
    );
  }
  // The LoadBalancer address when there is one (the seed's path), else the ClusterIP.
  const clusterIp = s.cluster?.services
    .find((x) => x.namespace === svc.namespace && x.name === svc.name)
    ?.clusterIps.find((x) => !x.includes(":"));
  const vip = svc.vips[0] ?? clusterIp;
  if (vip === undefined)
    throw new SimError(
      "UNKNOWN_OBJECT",
      `${what}: the Service has no LoadBalancer address and no IPv4 ClusterIP (type ${svc.type})`,
    );
  if (ref.port !== undefined && svc.ports.length > 0 && !svc.ports.some((p) => p.port === ref.port))
    throw new SimError(
      "UNKNOWN_OBJECT",
      `${what}:${ref.port}: the Service has no port ${ref.port} (ports: ${svc.ports.map((p) => `${p.port}/${p.protocol}`).join(", ")})`,
    );
  return withPort(vip, ref.port);
}
