import { afterAll, describe, expect, it } from "vitest";
import { type Sandbox, oracleGate, oracleTools, parseEnvSh, startSandbox } from "../src/index.js";

describe("oracle plumbing", () => {
  it("parses env.sh", () => {
    expect(parseEnvSh("# source me\nexport A=/t B=/u\nexport OVN_NB_DB=unix:/t/nb.sock\n")).toEqual({
      A: "/t",
      B: "/u",
      OVN_NB_DB: "unix:/t/nb.sock",
    });
  });
  it("controller implies OVS and OVN tools", () => {
    const t = oracleTools("controller");
    expect(t).toContain("ovn-controller");
    expect(t).toContain("ovs-vswitchd");
    expect(t).toContain("ovn-northd");
  });
  it("a gate either skips, fails with a message, or passes", () => {
    const g = oracleGate("ovs");
    if (g.available) expect(() => g.assert()).not.toThrow();
    else expect(() => g.assert()).toThrow(/oracle is missing/);
    expect(g.skip).toBe(!g.available && !g.required);
  });
});

const gate = oracleGate("ovs", "ovn");
describe.skipIf(gate.skip)("live: a sandbox starts, runs commands and stops", () => {
  let sb: Sandbox | undefined;
  afterAll(() => sb?.stop());
  it("runs ovs-vsctl and ovn-nbctl with the sandbox environment", () => {
    gate.assert();
    sb = startSandbox({ name: "oracle" });
    expect(sb.env.OVN_NB_DB).toBe(`unix:${sb.dir}/ovnnb_db.sock`);
    sb.run("ovs-vsctl", ["add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy"]);
    expect(sb.run("ovs-vsctl", ["list-br"]).trim()).toBe("br0");
    sb.sh("ovn-nbctl ls-add sw0");
    expect(sb.sh("ovn-nbctl ls-list", "")).toContain("sw0");
    sb.stop();
    sb.stop();
  }, 60_000);
});
