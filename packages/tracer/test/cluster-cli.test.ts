// `ovnsim trace` over the cluster topology: `--from pod/NS/NAME --to svc/NS/NAME` on a cluster
// example goes through the cluster tracer (text, JSON, HTML, pcapng), `--from node/NAME` starts
// at the host network, and the doctor lists the cluster findings.
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { run } from "@ovnsim/cli";
import { readPcapng } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";

const EX = resolve(import.meta.dirname, "../../../examples");

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await run(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  return { code, out, err };
}

describe("ovnsim trace, cluster paths", () => {
  it("pod/NS/NAME → svc/NS/NAME: the ClusterIP, with attribution, JSON and a pcapng", async () => {
    const dir = mkdtempSync(join(tmpdir(), "ovnsim-cl-"));
    const ex = join(EX, "cluster-networkpolicy");
    const r = await cli([
      "trace",
      ex,
      "--from",
      "pod/default/frontend",
      "--to",
      "svc/app/web",
      "--pcap",
      join(dir, "t.pcapng"),
    ]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Verdict: DELIVERED to app/web-a on node2");
    expect(r.out).toContain("NetworkPolicy app/web-allow-frontend (ingress rule 0 allow)");
    const [s] = readPcapng(readFileSync(join(dir, "t.pcapng")));
    expect(s!.interfaces.map((i) => i.name)).toContain("pod default/frontend eth0");
    const j = JSON.parse(
      (await cli(["trace", ex, "--from", "pod/default/intruder", "--to", "svc/app/web", "--format", "json"]))
        .out,
    );
    expect(j.verdict.droppedAt.reason).toBe(
      "dropped by NetworkPolicy app/web-allow-frontend (default deny (ingress))",
    );
    const h = await cli([
      "trace",
      ex,
      "--from",
      "pod/default/frontend",
      "--to",
      "svc/app/web",
      "--format",
      "html",
    ]);
    expect(h.out).toContain("<html");
  });
  it("node/NAME starts at the node's ovn0; exit 1 when the policy drops", async () => {
    const ex = join(EX, "cluster-networkpolicy");
    // CreateNodeACL lets a node reach its own pods only: web-a runs on node2.
    expect((await cli(["trace", ex, "--from", "node/node2", "--to", "pod/app/web-a:8080"])).code).toBe(0);
    const other = await cli([
      "trace",
      ex,
      "--from",
      "node/node1",
      "--to",
      "pod/app/web-a:8080",
      "--format",
      "json",
    ]);
    expect(other.code).toBe(1);
    expect(JSON.parse(other.out).verdict.droppedAt.reason).toBe(
      "dropped by NetworkPolicy app/web-allow-frontend (default deny (ingress))",
    );
    expect((await cli(["trace", ex, "--from", "pod/default/intruder", "--to", "svc/app/web"])).code).toBe(1);
  });
  it("the doctor reports the cluster findings", async () => {
    const r = await cli(["doctor", join(EX, "cluster-networkpolicy")]);
    expect(r.out).toContain("NETWORKPOLICY_SELECTS_NOTHING");
  });
});
