// `ovnsim ovn-trace --nbctl FILE --profile P` compiles the NB with P's northd and must then parse
// the logical flows with P's own symbol table, as that release's ovn-trace would: 25.03's
// ls_in_stateful commits `ct_label.acl_id` and `ct_mark.allow_established`, fields 23.03's
// table does not have, so tracing it with 23.03's table silently loses the stage.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { run } from "@ovnsim/cli";
import { deriveNbctl, loadScenario } from "@ovnsim/kube";
import { afterAll, describe, expect, it } from "vitest";

const work = mkdtempSync(join(tmpdir(), "ovnsim-ovn-trace-profile-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const nbctl = join(work, "seed.nbctl");
writeFileSync(nbctl, `${deriveNbctl(loadScenario()).join("\n")}\n`);
const MICRO =
  'inport == "localnet.underlay-subnet" && eth.src == 52:54:00:ff:00:01 && eth.dst == 00:00:00:01:00:01 && ip4.src == 192.0.2.10 && ip4.dst == 10.180.204.252 && ip.ttl == 63 && tcp.src == 40000 && tcp.dst == 80';

async function ovnTrace(profile: string): Promise<string> {
  let out = "";
  let err = "";
  const args = ["ovn-trace", "--nbctl", nbctl, "--profile", profile, "--ct", "new", "underlay-subnet", MICRO];
  const code = await run(args, { stdout: (s) => (out += s), stderr: (s) => (err += s) });
  expect(code, err).toBe(0);
  return out;
}

describe("ovn-trace --nbctl --profile uses the release's symbol table", () => {
  it.each(["ovn-25.03", "kube-ovn-1.15"])("%s: ls_in_stateful's 25.03 ct_commit is traced", async (p) => {
    const out = await ovnTrace(p);
    expect(out).toMatch(/ls_in_stateful: reg0\[1\] == 1 && reg0\[13\] == 0, priority 100/);
    expect(out).toContain("ct_label.acl_id = reg2[16..31]");
  });

  it("ovn-23.03: its northd emits no 25.03 field, and the load balancer still DNATs", async () => {
    const out = await ovnTrace("ovn-23.03");
    expect(out).not.toContain("acl_id");
    expect(out).toContain("ct_lb_mark(backends=10.180.204.2:80,10.180.204.3:80,10.180.204.4:80);");
  });
});
