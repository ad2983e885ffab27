// Live differential test against real OVS 3.1 (../shared/oracle): deterministic-random flows in
// ofproto/trace syntax (and frames built here, as hex) go to both `ovs-appctl ofproto/trace` and
// parseFlow/decodeFrame + formatFlow, and the Flow: lines must agree byte for byte; inputs OVS
// refuses must be refused. CI sets OVNSIM_REQUIRE_ORACLE=1, which makes a missing oracle fail.
import { writeFileSync } from "node:fs";
import { oracleGate, type Sandbox, startSandbox } from "@ovnsim/oracle";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  decodeFrame,
  encodeFrame,
  formatFlow,
  formatMatch,
  isSimError,
  makePacket,
  parseFlow,
  parseMatch,
} from "../src/index.js";

const gate = oracleGate("ovs");

const ip4 = fc.tuple(fc.nat(255), fc.nat(255), fc.nat(255), fc.nat(255)).map((a) => a.join("."));
const ip6 = fc.constantFrom(
  "2001:db8::1",
  "fd00::5",
  "fe80::1",
  "::ffff:192.0.2.1",
  "::1",
  "2001:db8:0:1::",
  "ff02::1:ff00:2",
  "1:2:3:4:5:6:7:8",
);
const hex = (max: number): fc.Arbitrary<string> =>
  fc.integer({ min: 0, max }).map((n) => `0x${n.toString(16)}`);
const mac = fc
  .array(fc.nat(255), { minLength: 6, maxLength: 6 })
  .map((a) => a.map((b) => b.toString(16).padStart(2, "0")).join(":"));
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> => fc.option(a, { nil: undefined, freq: 2 });

/** Flows in the syntax ofproto/trace accepts, fields ordered so prerequisites hold. */
const traceInput: fc.Arbitrary<string> = fc
  .record({
    proto: fc.constantFrom(
      "tcp",
      "udp",
      "sctp",
      "icmp",
      "ip",
      "tcp6",
      "udp6",
      "icmp6",
      "ipv6",
      "arp",
      "rarp",
      "none",
    ),
    in_port: fc.oneof(fc.integer({ min: 1, max: 3 }), fc.constant("LOCAL")),
    ct: opt(
      fc.tuple(
        fc.constantFrom("new|trk", "est|trk", "est|rpl|trk", "inv|trk", "trk", "new|trk|dnat"),
        fc.nat(0xffff),
        hex(0xffffffff),
      ),
    ),
    regs: fc.array(fc.tuple(fc.nat(15), hex(0xffffffff)), { maxLength: 3 }),
    metadata: opt(hex(0xffffffff)),
    dl: opt(fc.tuple(mac, mac)),
    vlan: opt(fc.tuple(fc.nat(4095), fc.nat(7))),
    src4: ip4,
    dst4: ip4,
    src6: ip6,
    dst6: ip6,
    label: opt(hex(0xfffff)),
    tos: opt(fc.nat(63).map((d) => d * 4)),
    ecn: opt(fc.nat(3)),
    ttl: opt(fc.nat(255)),
    frag: opt(fc.constantFrom("no", "first", "later")),
    ports: fc.tuple(fc.nat(0xffff), fc.nat(0xffff)),
    flags: opt(fc.constantFrom("syn", "syn|ack", "fin|ack", "rst", "0x1ff", "psh|ack|urg")),
    icmp: fc.tuple(fc.nat(255), fc.nat(255)),
    nd: fc.constantFrom(0, 135, 136),
    arpOp: fc.nat(255),
    proto8: fc.nat(255),
  })
  .map((r) => {
    const p: string[] = [];
    if (r.proto !== "none") p.push(r.proto);
    p.push(`in_port=${r.in_port}`);
    if (r.ct) p.push(`ct_state=${r.ct[0]}`, `ct_zone=${r.ct[1]}`, `ct_mark=${r.ct[2]}`);
    const seen = new Set<number>();
    for (const [i, v] of r.regs) {
      if (seen.has(i)) continue;
      seen.add(i);
      p.push(`reg${i}=${v}`);
    }
    if (r.metadata) p.push(`metadata=${r.metadata}`);
    if (r.dl) p.push(`dl_src=${r.dl[0]}`, `dl_dst=${r.dl[1]}`);
    if (r.vlan) p.push(`dl_vlan=${r.vlan[0]}`, `dl_vlan_pcp=${r.vlan[1]}`);
    const v4 = ["tcp", "udp", "sctp", "icmp", "ip"].includes(r.proto);
    const v6 = ["tcp6", "udp6", "icmp6", "ipv6"].includes(r.proto);
    if (v4) p.push(`nw_src=${r.src4}`, `nw_dst=${r.dst4}`);
    if (v6) {
      p.push(`ipv6_src=${r.src6}`, `ipv6_dst=${r.dst6}`);
      if (r.label) p.push(`ipv6_label=${r.label}`);
    }
    if (r.proto === "arp" || r.proto === "rarp")
      p.push(`arp_spa=${r.src4}`, `arp_tpa=${r.dst4}`, `arp_op=${r.arpOp}`);
    if (v4 || v6) {
      if (r.proto === "ip" || r.proto === "ipv6") p.push(`nw_proto=${r.proto8 === 44 ? 47 : r.proto8}`);
      if (r.tos !== undefined) p.push(`nw_tos=${r.tos}`);
      if (r.ecn !== undefined) p.push(`nw_ecn=${r.ecn}`);
      if (r.ttl !== undefined) p.push(`nw_ttl=${r.ttl}`);
      if (r.frag) p.push(`nw_frag=${r.frag}`);
    }
    const l4 = r.proto.replace("6", "");
    if (l4 === "tcp") {
      p.push(`tcp_src=${r.ports[0]}`, `tp_dst=${r.ports[1]}`);
      if (r.flags) p.push(`tcp_flags=${r.flags}`);
    } else if (l4 === "udp" || l4 === "sctp") p.push(`${l4}_src=${r.ports[0]}`, `${l4}_dst=${r.ports[1]}`);
    else if (r.proto === "icmp") p.push(`icmp_type=${r.icmp[0]}`, `icmp_code=${r.icmp[1]}`);
    else if (r.proto === "icmp6") {
      if (r.nd) {
        p.push(`icmpv6_type=${r.nd}`, "icmpv6_code=0", `nd_target=${r.src6}`);
        if (r.dl) p.push(`${r.nd === 135 ? "nd_sll" : "nd_tll"}=${r.dl[0]}`);
      } else
        p.push(
          `icmpv6_type=${r.icmp[0] === 135 || r.icmp[0] === 136 ? 128 : r.icmp[0]}`,
          `icmpv6_code=${r.icmp[1]}`,
        );
    }
    return p.join(",");
  });

const mask32 = fc.oneof(fc.integer({ min: 0, max: 32 }).map(String), ip4);
const ctFlags = fc
  .subarray(["new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"], { minLength: 1, maxLength: 4 })
  .chain((names) =>
    fc
      .array(fc.boolean(), { minLength: names.length, maxLength: names.length })
      .map((signs) => names.map((n, i) => `${signs[i] ? "+" : "-"}${n}`).join("")),
  );

/** Matches in ovs-ofctl syntax, with masks, flags and shorthands. */
const matchInput: fc.Arbitrary<string> = fc
  .record({
    proto: fc.constantFrom(
      "tcp",
      "udp",
      "sctp",
      "icmp",
      "ip",
      "tcp6",
      "udp6",
      "icmp6",
      "ipv6",
      "arp",
      "none",
    ),
    in_port: opt(fc.integer({ min: 1, max: 3 })),
    ct: opt(ctFlags),
    ctMark: opt(fc.tuple(hex(0xffffffff), hex(0xffffffff))),
    reg: opt(fc.tuple(fc.nat(15), hex(0xffffffff), hex(0xffffffff))),
    metadata: opt(fc.tuple(hex(0xffffffff), hex(0xffffffff))),
    dl: opt(fc.tuple(mac, mac)),
    vlan: opt(
      fc.oneof(
        fc.nat(4095).map((v) => `dl_vlan=${v}`),
        fc.tuple(hex(0xffff), hex(0xffff)).map(([v, m]) => `vlan_tci=${v}/${m}`),
      ),
    ),
    src4: fc.tuple(ip4, mask32),
    dst4: opt(ip4),
    src6: fc.tuple(ip6, fc.integer({ min: 0, max: 128 })),
    label: opt(fc.tuple(hex(0xfffff), hex(0xfffff))),
    tos: opt(fc.nat(63).map((d) => d * 4)),
    ttl: opt(fc.nat(255)),
    frag: opt(fc.constantFrom("no", "yes", "first", "later", "not_later")),
    port: fc.tuple(fc.nat(0xffff), hex(0xffff)),
    flags: opt(fc.constantFrom("+syn-ack", "-rst", "+fin", "syn", "0x12/0xff")),
    icmpType: opt(fc.nat(255)),
  })
  .map((r) => {
    const p: string[] = [];
    if (r.proto !== "none") p.push(r.proto);
    if (r.in_port) p.push(`in_port=${r.in_port}`);
    if (r.ct) p.push(`ct_state=${r.ct}`);
    if (r.ctMark) p.push(`ct_mark=${r.ctMark[0]}/${r.ctMark[1]}`);
    if (r.reg) p.push(`reg${r.reg[0]}=${r.reg[1]}/${r.reg[2]}`);
    if (r.metadata) p.push(`metadata=${r.metadata[0]}/${r.metadata[1]}`);
    if (r.dl) p.push(`dl_src=${r.dl[0]}/${r.dl[1]}`);
    if (r.vlan) p.push(r.vlan);
    const v4 = ["tcp", "udp", "sctp", "icmp", "ip"].includes(r.proto);
    const v6 = ["tcp6", "udp6", "icmp6", "ipv6"].includes(r.proto);
    if (v4) p.push(`nw_src=${r.src4[0]}/${r.src4[1]}`);
    if (v4 && r.dst4) p.push(`nw_dst=${r.dst4}`);
    if (v6) p.push(`ipv6_src=${r.src6[0]}/${r.src6[1]}`);
    if (v6 && r.label) p.push(`ipv6_label=${r.label[0]}/${r.label[1]}`);
    if (r.proto === "arp") p.push(`arp_spa=${r.src4[0]}/${r.src4[1]}`, "arp_op=2");
    if (v4 || v6) {
      if (r.tos !== undefined) p.push(`nw_tos=${r.tos}`);
      if (r.ttl !== undefined) p.push(`nw_ttl=${r.ttl}`);
      if (r.frag) p.push(`nw_frag=${r.frag}`);
    }
    const l4 = r.proto.replace("6", "");
    if (l4 === "tcp" || l4 === "udp" || l4 === "sctp") p.push(`tp_dst=${r.port[0]}/${r.port[1]}`);
    if (l4 === "tcp" && r.flags) p.push(`tcp_flags=${r.flags}`);
    if ((r.proto === "icmp" || r.proto === "icmp6") && r.icmpType !== undefined)
      p.push(`icmp_type=${r.icmpType}`);
    return p.join(",");
  });

/** Inputs OVS refuses (and why), mixed in to check we refuse them too. */
const BAD = [
  "udp,tp_src=53",
  "tp_dst=80,tcp",
  "tcp,tcp_src=1,tcp_src=2",
  "tcp,nw_src=10.0.0.0/8",
  "ip,nw_frag=yes",
  "icmp6,icmp_type=128",
  "tcp,tp_dst=8o",
  "ip,in_port=eth9",
  "ip,frob=1",
  "tcp,udp",
  "arp,nw_src=1.2.3.4",
  "ipv6,nd_target=fe80::1",
];

describe.skipIf(gate.skip)("live: parseFlow/formatFlow/decodeFrame vs ofproto/trace", () => {
  let sb: Sandbox | undefined;
  const sandbox = (): Sandbox => {
    if (!sb) throw new Error("the oracle sandbox did not start");
    return sb;
  };
  beforeAll(() => {
    gate.assert();
    sb = startSandbox({ name: "packet", ovn: false });
    ovs(
      "ovs-vsctl",
      ..."add-br br0 -- set bridge br0 datapath_type=dummy -- add-port br0 p1 -- set interface p1 type=dummy ofport_request=1 -- add-port br0 p2 -- set interface p2 type=dummy ofport_request=2 -- add-port br0 p3 -- set interface p3 type=dummy ofport_request=3".split(
        " ",
      ),
    );
    ovs("ovs-vsctl", "set", "Open_vSwitch", ".", "other_config:vlan-limit=0");
    ovs("ovs-ofctl", "add-flow", "br0", "actions=drop");
  }, 30000);
  afterAll(() => sb?.stop());

  function ovs(cmd: string, ...args: string[]): string {
    return sandbox().run(cmd, args);
  }

  /** Runs many traces in one shell; returns each output. */
  function traceAll(args: readonly string[][]): string[] {
    const script = args
      .map(
        (a) =>
          `ovs-appctl ofproto/trace br0 ${a.map((x) => `'${x}'`).join(" ")} 2>&1 | head -1; echo "@@END@@"`,
      )
      .join("\n");
    const file = `${sandbox().dir}/traces.sh`;
    writeFileSync(file, `${script}\n`);
    return sandbox().run("bash", [file]).split("@@END@@\n").slice(0, args.length);
  }

  it("100 random trace inputs and the refused ones: same Flow: line, same refusals", () => {
    const inputs = [...fc.sample(traceInput, { numRuns: 100, seed: 42 }), ...BAD];
    const outs = traceAll(inputs.map((i) => [i]));
    let agree = 0;
    const diffs: string[] = [];
    inputs.forEach((input, k) => {
      const real = outs[k]!.trim();
      let ours: string;
      try {
        ours = `Flow: ${formatFlow(parseFlow(input))}`;
      } catch (e) {
        if (!isSimError(e)) throw e;
        ours = `refused (${e.code})`;
      }
      const realNorm = real.startsWith("Flow: ") ? real : "refused";
      const oursNorm = ours.startsWith("Flow: ") ? ours : "refused";
      if (realNorm === oursNorm) agree++;
      else diffs.push(`${input}\n  ovs:    ${real}\n  ovnsim: ${ours}`);
    });
    expect(diffs.slice(0, 5).join("\n")).toBe("");
    expect(agree).toBe(inputs.length);
  }, 60000);

  it("50 random matches: ovs-ofctl add-flow + dump-flows = formatMatch(parseMatch())", () => {
    const matches = fc.sample(matchInput, { numRuns: 50, seed: 11 });
    // One table per match (table k+1, priority k+1), one dump at the end.
    const lines = matches.map(
      (m, k) =>
        `ovs-ofctl add-flow br0 'table=${k + 1},priority=${k + 1},${m},actions=drop' 2>/dev/null || echo "REFUSED ${k + 1}"`,
    );
    const file = `${sandbox().dir}/matches.sh`;
    writeFileSync(file, `${lines.join("\n")}\novs-ofctl --no-stats dump-flows br0\n`);
    const out = sandbox().run("bash", [file]);
    const byTable = new Map<number, string>();
    for (const l of out.split("\n")) {
      const r = /^REFUSED (\d+)$/.exec(l);
      if (r) byTable.set(Number(r[1]), "REFUSED");
      const d = /^\s*table=(\d+), (.*?) actions=drop$/.exec(l);
      if (d) byTable.set(Number(d[1]), d[2]!);
    }
    const outs = matches.map((_, k) => byTable.get(k + 1) ?? "MISSING");
    const diffs: string[] = [];
    matches.forEach((m, k) => {
      const real = outs[k]!.trim();
      let ours: string;
      try {
        ours = formatMatch(parseMatch(m), { priority: k + 1 });
      } catch (e) {
        if (!isSimError(e)) throw e;
        ours = "REFUSED";
      }
      if (real !== ours) diffs.push(`${m}\n  ovs:    ${real}\n  ovnsim: ${ours}`);
    });
    expect(diffs.slice(0, 6).join("\n")).toBe("");
  }, 60000);

  it("40 random frames: decodeFrame + formatFlow = flow_extract (ofproto/trace FLOW PACKET)", () => {
    const flows = fc.sample(traceInput, { numRuns: 120, seed: 7 }).flatMap((t) => {
      try {
        return [parseFlow(t)];
      } catch {
        return [];
      }
    });
    // Frames from those flows (the metadata the wire does not carry is dropped by decoding).
    const frames = flows.slice(0, 40).map((f) => Buffer.from(encodeFrame(makePacket(f))).toString("hex"));
    const outs = traceAll(frames.map((h) => ["in_port=1", h]));
    const diffs: string[] = [];
    frames.forEach((h, k) => {
      const real = outs[k]!.trim();
      const ours = `Flow: ${formatFlow(decodeFrame(Uint8Array.from(Buffer.from(h, "hex")), { in_port: 1, vlanLimit: 0 }).flow)}`;
      if (real !== ours) diffs.push(`${h}\n  ovs:    ${real}\n  ovnsim: ${ours}`);
    });
    expect(diffs.slice(0, 5).join("\n")).toBe("");
  }, 60000);
});
