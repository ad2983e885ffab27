// `--from` / `--to` as kubectl-style references, resolved through the seed's manifests, and the
// CLI taking them (a typo in an object's name is a SimError naming it, exit 2).
import { loadScenario } from "@ovnsim/kube";
import { isSimError } from "@ovnsim/packet";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { run } from "../../cli/src/cli.js";
import { parseSource, parseTarget, resolveSource, resolveTarget } from "../src/index.js";

const s = loadScenario();

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (x) => (out += x), stderr: (x) => (err += x) });
  return { code, out, err };
}

const simErrorOf = (f: () => unknown): { code: string; message: string } => {
  try {
    f();
  } catch (e) {
    if (isSimError(e)) return { code: e.code, message: e.message };
    throw e;
  }
  throw new Error("no error");
};

describe("--from references", () => {
  it("pod/NS/NAME, node/NAME, client/NAME and bare names", () => {
    expect(resolveSource(s, parseSource("pod/default/deploy-169402624-0"))).toBe(
      "default/deploy-169402624-0",
    );
    expect(resolveSource(s, parseSource("node/node2"))).toBe("node2");
    expect(resolveSource(s, parseSource("client/client"))).toBe("client");
    expect(parseSource("gw")).toEqual({ kind: "name", name: "gw" });
    expect(parseSource("default/deploy-169402624-1")).toEqual({
      kind: "name",
      name: "default/deploy-169402624-1",
    });
  });

  it("an object that does not exist: UNKNOWN_OBJECT naming it and what there is", () => {
    expect(simErrorOf(() => resolveSource(s, parseSource("pod/default/nginx")))).toEqual({
      code: "UNKNOWN_OBJECT",
      message:
        "--from pod/default/nginx: no such Pod in the scenario metallb-underlay (namespace default has deploy-169402624-0, deploy-169402624-1, deploy-169402624-2)",
    });
    expect(
      simErrorOf(() => resolveSource(s, parseSource("pod/kube-system/deploy-169402624-0"))).message,
    ).toContain("(no Pod in namespace kube-system)");
    expect(simErrorOf(() => resolveSource(s, parseSource("node/node4")))).toEqual({
      code: "UNKNOWN_OBJECT",
      message:
        "--from node/node4: no such Node in the scenario metallb-underlay (nodes: node1, node2, node3)",
    });
    expect(simErrorOf(() => resolveSource(s, parseSource("client/gw"))).message).toBe(
      "--from client/gw: no such client in the scenario metallb-underlay (clients: client)",
    );
  });

  it("malformed: BAD_VALUE", () => {
    for (const bad of ["", "pod/default", "pod/a/b/c", "node/", "svc/default/nginx-lb", "node/Bad_Name"])
      expect(simErrorOf(() => parseSource(bad)).code, bad).toBe("BAD_VALUE");
  });
});

describe("--to references", () => {
  it("IP[:PORT], pod/NS/NAME[:PORT] (its IP), svc/NS/NAME[:PORT] (its LoadBalancer address)", () => {
    expect(resolveTarget(s, parseTarget("10.180.204.252"))).toEqual({ to: "10.180.204.252" });
    expect(resolveTarget(s, parseTarget("10.180.204.252:8080"))).toEqual({
      to: "10.180.204.252",
      port: 8080,
    });
    const pod = s.pods.find((p) => p.name === "deploy-169402624-1")!;
    expect(resolveTarget(s, parseTarget("pod/default/deploy-169402624-1:80"))).toEqual({
      to: pod.ip,
      port: 80,
    });
    expect(resolveTarget(s, parseTarget("svc/default/nginx-lb"))).toEqual({ to: "10.180.204.252" });
    expect(resolveTarget(s, parseTarget("service/default/nginx-lb:80"))).toEqual({
      to: "10.180.204.252",
      port: 80,
    });
  });

  it("an object that does not exist, or a port the Service has not: UNKNOWN_OBJECT", () => {
    expect(simErrorOf(() => resolveTarget(s, parseTarget("svc/default/web")))).toEqual({
      code: "UNKNOWN_OBJECT",
      message:
        "--to svc/default/web: no such Service in the scenario metallb-underlay (services: default/nginx-lb)",
    });
    expect(simErrorOf(() => resolveTarget(s, parseTarget("svc/default/nginx-lb:443")))).toEqual({
      code: "UNKNOWN_OBJECT",
      message: "--to svc/default/nginx-lb:443: the Service has no port 443 (ports: 80/tcp)",
    });
    expect(simErrorOf(() => resolveTarget(s, parseTarget("pod/default/web-0"))).message).toBe(
      "--to pod/default/web-0: no such Pod in the scenario metallb-underlay",
    );
  });

  it("malformed: BAD_VALUE", () => {
    for (const bad of [
      "10.0.0.1:0",
      "10.0.0.1:65536",
      "10.0.0.1:x",
      "300.1.1.1",
      "svc/default",
      "pod//x",
      "node/x",
    ])
      expect(simErrorOf(() => parseTarget(bad)).code, bad).toBe("BAD_VALUE");
  });

  it("fuzz: any text parses or is a SimError, for both options", () => {
    const piece = fc.oneof(
      fc.constantFrom(
        "pod/",
        "svc/",
        "service/",
        "node/",
        "client/",
        "default/",
        ":80",
        ":",
        "/",
        "10.180.204.252",
      ),
      fc.string({ maxLength: 10 }),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 5 }), (parts) => {
        const text = parts.join("");
        for (const f of [
          () => resolveSource(s, parseSource(text)),
          () => resolveTarget(s, parseTarget(text)),
        ]) {
          try {
            f();
          } catch (e) {
            if (!isSimError(e)) throw e;
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe("the CLI", () => {
  it("traces pod → svc by reference, and a missing object is exit 2 with its message", async () => {
    const ok = await cli([
      "trace",
      "--from",
      "client/client",
      "--to",
      "svc/default/nginx-lb",
      "--format",
      "json",
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).request).toEqual({
      from: "client",
      to: "10.180.204.252",
      port: 80,
      proto: "tcp",
    });
    const pod = await cli([
      "trace",
      "--from",
      "pod/default/deploy-169402624-0",
      "--to",
      "svc/default/nginx-lb:80",
    ]);
    expect(pod.out).toContain("default/deploy-169402624-0 → 10.180.204.252:80 (tcp)");
    const bad = await cli(["trace", "--to", "svc/default/web"]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(
      "ovnsim trace: --to svc/default/web: no such Service in the scenario metallb-underlay (services: default/nginx-lb)",
    );
  });

  // A Pod named like the external client: client/NAME is the client, pod/NS/NAME the Pod, on
  // the path the cluster tracer would otherwise take for any pod (to a ClusterIP).
  it("client/NAME is the external client even when a Pod has its name; pod/NS/NAME is the Pod", async () => {
    const { cpSync, mkdtempSync, rmSync, writeFileSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-client-pod-"));
    try {
      cpSync(new URL("../../../examples/metallb-underlay", import.meta.url), dir, {
        recursive: true,
        filter: (f) => !/\.(ts|md|png|pcapng)$/.test(f),
      });
      writeFileSync(
        join(dir, "50-client-pod.yaml"),
        "apiVersion: v1\nkind: Pod\nmetadata: { name: client, namespace: default, annotations: { ovn.kubernetes.io/logical_switch: underlay-subnet } }\nspec: { nodeName: node1 }\n",
      );
      const withPod = loadScenario([dir]);
      expect(withPod.pods.some((p) => p.namespace === "default" && p.name === "client")).toBe(true);
      const clusterIp = withPod.cluster?.services.find((x) => x.name === "nginx-lb")?.clusterIps[0];
      expect(clusterIp).toBeDefined();
      const json = async (from: string) => {
        const r = await cli(["trace", dir, "--from", from, "--to", `${clusterIp}:80`, "--format", "json"]);
        expect(r.err).not.toContain("error");
        return JSON.parse(r.out) as {
          request: { from: string };
          forward: { summary: string; children: { where: string; summary: string }[] };
        };
      };
      const client = await json("client/client");
      expect(client.request.from).toBe("client");
      const first = (d: typeof client) => d.forward.children.find((c) => c.where !== "Service");
      expect(first(client)?.where).toBe("route");
      expect(JSON.stringify(client.forward)).not.toContain("Pod default/client");
      const pod = await json("pod/default/client");
      expect(pod.request.from).toBe("default/client");
      expect(JSON.stringify(pod.forward)).toContain("default/client");
      expect(first(pod)?.where).not.toBe("route");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("--format html prints the page; --html FILE writes it beside the text report", async () => {
    const { mkdtempSync, readFileSync, rmSync } = await import("node:fs");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const page = await cli(["trace", "--format", "html"]);
    expect(page.code).toBe(0);
    expect(page.out.startsWith("<!DOCTYPE html>\n")).toBe(true);
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-html-cli-"));
    try {
      const file = join(dir, "t.html");
      const text = await cli(["trace", "--html", file]);
      expect(text.out).toContain("Verdict: DELIVERED");
      expect(readFileSync(file, "utf8")).toBe(page.out);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
