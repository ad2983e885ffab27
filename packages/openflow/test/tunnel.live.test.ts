// Live differential test of tunnel ports against real OVS 3.1: random Geneve/VXLAN/GRE ports
// (remote_ip/local_ip/key as numbers or `flow`, csum, df_default, tos/ttl inherit), random
// flows setting and matching tun_* fields, random packets from ports and from tunnels; each
// traced by `ofproto/trace` and by ovnsim from the captured bundle, compared in full.
// The shared oracle runs ovs-vswitchd with --enable-dummy=override, where tunnels are plain
// dummy ports, so this test starts its own ovsdb-server + ovs-vswitchd with --enable-dummy
// (real tunnel vports on the dummy datapath) and kernel-style tunnelling (tnl_push_pop off).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { liveSeed, oracleGate, repoRoot, rng } from "@ovnsim/oracle";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadBundle } from "../src/index.js";
import { normaliseRecirc, runOvnsim } from "./harness.js";

const gate = oracleGate("ovs");
const SEED = liveSeed();

describe.skipIf(gate.skip)("tunnel ports vs ofproto/trace (real vports, kernel tunnelling)", () => {
  const dir = `/tmp/ovnsim-tnl-${process.pid}`;
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
  Object.assign(env, { OVS_RUNDIR: dir, OVS_LOGDIR: dir, OVS_DBDIR: dir, OVS_SYSCONFDIR: dir });
  const sh = (script: string, input?: string): string =>
    execFileSync("bash", ["-c", `set -e\n${script}`], {
      env,
      encoding: "utf8",
      maxBuffer: 1 << 26,
      stdio: ["pipe", "pipe", "pipe"],
      ...(input !== undefined ? { input } : {}),
    });
  const stop = (): void => {
    for (const d of ["ovs-vswitchd", "ovsdb-server"]) {
      const pf = join(dir, `${d}.pid`);
      if (!existsSync(pf)) continue;
      const pid = Number(readFileSync(pf, "utf8").trim());
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir)) process.kill(pid);
      } catch {
        // already gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const r = rng(SEED);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const cases: string[] = [];
  const real: string[] = [];

  beforeAll(() => {
    gate.assert();
    stop();
    mkdirSync(dir, { recursive: true });
    sh(`ovsdb-tool create ${dir}/conf.db /usr/share/openvswitch/vswitch.ovsschema
      ovsdb-server --detach --no-chdir --pidfile=${dir}/ovsdb-server.pid --log-file=${dir}/ovsdb-server.log -vconsole:off -vsyslog:off --remote=punix:${dir}/db.sock ${dir}/conf.db 2>/dev/null
      ovs-vsctl --db=unix:${dir}/db.sock --no-wait -- init
      ovs-vswitchd unix:${dir}/db.sock --detach --no-chdir --pidfile=${dir}/ovs-vswitchd.pid --log-file=${dir}/ovs-vswitchd.log -vconsole:off -vsyslog:off --enable-dummy --disable-system --disable-system-route 2>/dev/null`);
    // Tunnel ports: distinct (type, remote, key) so OVS accepts them all.
    const tunnels: { ofport: number; type: string; remoteFlow: boolean }[] = [];
    const args: string[] = [];
    for (let i = 0; i < 6; i++) {
      const type = pick(["geneve", "geneve", "vxlan", "gre"]);
      const remoteFlow = r() < 0.25;
      const opts = [`options:remote_ip=${remoteFlow ? "flow" : `192.168.${i}.2`}`];
      const key = pick(["flow", "flow", String(100 + i), ""]);
      if (key) opts.push(`options:key=${key}`);
      if (r() < 0.3) opts.push("options:local_ip=192.168.100.1");
      if (r() < 0.3) opts.push("options:csum=true");
      if (r() < 0.2) opts.push("options:df_default=false");
      if (r() < 0.25) opts.push(`options:tos=${pick(["inherit", "4", "0"])}`);
      if (r() < 0.25) opts.push(`options:ttl=${pick(["inherit", "10", "255"])}`);
      const ofport = 10 + i;
      args.push(
        `-- add-port br-int t${i} -- set interface t${i} type=${type} ofport_request=${ofport} ${opts.join(" ")}`,
      );
      tunnels.push({ ofport, type, remoteFlow });
    }
    sh(`ovs-vsctl add-br br-int -- set bridge br-int datapath_type=dummy protocols=OpenFlow10,OpenFlow13,OpenFlow15 \\
      -- add-port br-int p1 -- set interface p1 type=dummy ofport_request=1 \\
      -- add-port br-int p2 -- set interface p2 type=dummy ofport_request=2 ${args.join(" ")}
      ovs-vsctl add-port br-int patch-int -- set interface patch-int type=patch options:peer=patch-ex ofport_request=3 \\
        -- add-br br-ex -- set bridge br-ex datapath_type=dummy \\
        -- add-port br-ex patch-ex -- set interface patch-ex type=patch options:peer=patch-int ofport_request=1 \\
        -- add-port br-ex e1 -- set interface e1 type=dummy ofport_request=2 \\
        -- add-port br-ex e2 -- set interface e2 type=dummy ofport_request=3
      ovs-appctl dpif/set-dp-features br-int tnl_push_pop false >/dev/null
      ovs-ofctl -O OpenFlow15 add-tlv-map br-int "{class=0x102,type=0x80,len=4}->tun_metadata0,{class=0x102,type=0x81,len=4}->tun_metadata1"`);
    const flows: string[] = ["priority=0,actions=drop"];
    const setters = (): string[] => {
      const a: string[] = [];
      if (r() < 0.6) a.push(`set_field:${Math.floor(r() * 0xffffff)}->tun_id`);
      if (r() < 0.4)
        a.push(`set_field:192.168.${Math.floor(r() * 250)}.${1 + Math.floor(r() * 250)}->tun_dst`);
      if (r() < 0.4) a.push(`set_field:${Math.floor(r() * 0xffff)}->tun_metadata${pick([0, 1])}`);
      if (r() < 0.2) a.push("move:NXM_OF_IP_SRC[]->NXM_NX_TUN_METADATA1[0..31]");
      if (r() < 0.2) a.push(`set_field:${Math.floor(r() * 0xffff)}->tun_gbp_id`);
      return a;
    };
    for (let i = 0; i < 8; i++) {
      const outs = Array.from({ length: 1 + Math.floor(r() * 3) }, () => `output:${pick(tunnels).ofport}`);
      const acts = [...setters(), ...outs];
      if (r() < 0.3) acts.push(...setters(), `output:${pick(tunnels).ofport}`);
      flows.push(`priority=${100 + i},in_port=1,ip,nw_dst=10.0.0.${i},actions=${acts.join(",")}`);
    }
    for (const t of tunnels) {
      flows.push(`priority=50,in_port=${t.ofport},tun_id=0x7,actions=output:2`);
      flows.push(`priority=40,in_port=${t.ofport},tun_metadata0=0x5,actions=output:1`);
      flows.push(
        `priority=30,in_port=${t.ofport},ip,tun_src=192.168.${t.ofport - 10}.2,actions=${[...setters(), `output:${pick(tunnels).ofport}`].join(",")}`,
      );
    }
    // Through a patch port the peer bridge sees no tunnel (patch_port_output zeroes it).
    for (const t of tunnels)
      flows.push(`priority=60,in_port=${t.ofport},tun_id=0x8,ip,nw_dst=10.0.0.9,actions=output:3`);
    sh("ovs-ofctl -O OpenFlow15 add-flows br-int -", `${flows.join("\n")}\n`);
    sh(
      "ovs-ofctl -O OpenFlow15 del-flows br-ex; ovs-ofctl -O OpenFlow15 add-flows br-ex -",
      `priority=20,tun_id=0x8,actions=output:2\npriority=10,in_port=1,actions=set_field:0x9->tun_id,output:3\npriority=0,actions=drop\n`,
    );
    sh(`${join(repoRoot(), "scripts", "capture-bundle.sh")} -o ${dir}/bundle br-int br-ex >/dev/null`);
    const M = "dl_src=00:00:5e:00:53:01,dl_dst=00:00:5e:00:53:02";
    for (let i = 0; i < 8; i++) {
      const ecn = pick([0, 1, 3]);
      cases.push(
        `in_port=1,${M},ip,nw_src=10.1.0.${i},nw_dst=10.0.0.${i},nw_ttl=${20 + i},nw_tos=${pick([0, 32])},nw_ecn=${ecn}`,
      );
    }
    for (const t of tunnels) {
      const tun = `tun_src=192.168.${pick([t.ofport - 10, 77])}.2,tun_dst=192.168.100.1`;
      cases.push(
        `in_port=${t.ofport},tun_id=${pick(["0x7", "0x8"])},${tun},${M},ip,nw_src=10.2.0.1,nw_dst=10.0.0.9,nw_ttl=64`,
      );
      cases.push(
        `in_port=${t.ofport},tun_id=0x9,${tun},tun_metadata0=${pick(["0x5", "0x6"])},${M},ip,nw_src=10.2.0.1,nw_dst=10.0.0.9,nw_ecn=3`,
      );
    }
    const t0 = tunnels[0]!;
    cases.push(
      `in_port=${t0.ofport},tun_id=0x8,tun_src=192.168.0.2,tun_dst=192.168.100.1,${M},ip,nw_src=10.2.0.1,nw_dst=10.0.0.9`,
    );
    for (const c of cases) real.push(sh(`ovs-appctl ofproto/trace br-int '${c}' 2>&1 || true`));
  }, 60_000);

  afterAll(stop);

  it(`traces agree with ofproto/trace (seed ${SEED})`, () => {
    const sw = loadBundle(join(dir, "bundle"));
    const bad: string[] = [];
    cases.forEach((c, i) => {
      const exp = normaliseRecirc(real[i]!);
      const got = normaliseRecirc(runOvnsim(sw, ["br-int", c]));
      if (exp !== got) bad.push(`### ${c}\n--- ofproto/trace\n${exp}--- ovnsim\n${got}`);
    });
    console.log(`tunnel live: ${cases.length - bad.length}/${cases.length} traces identical`);
    expect(real.at(-1)).toContain('bridge("br-ex")');
    expect(bad).toEqual([]);
  });
});
