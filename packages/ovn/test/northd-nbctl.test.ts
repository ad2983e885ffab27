// The ovn-nbctl reader and the builder: commands, chains, options, generic set/add/remove/clear,
// typed errors with file:line, and a fast-check fuzz (any input → a database or a SimError).
import fc from "fast-check";
import { isSimError } from "@ovnsim/packet";
import { describe, expect, it } from "vitest";
import {
  NbBuilder,
  findPort,
  northd,
  parseNbctl,
  parseNbctlLine,
  shellWords,
  validateNb,
} from "../src/northd/index.js";

describe("shellWords", () => {
  it("splits like a shell", () => {
    expect(shellWords(`lsp-set-addresses p1 "0a:58:0a:b4:cc:0b 10.0.0.1" 'a b' c\\ d # comment`)).toEqual([
      "lsp-set-addresses",
      "p1",
      "0a:58:0a:b4:cc:0b 10.0.0.1",
      "a b",
      "c d",
    ]);
    expect(shellWords(`acl-add s to-lport 1 "outport == \\"p\\"" drop`)).toEqual([
      "acl-add",
      "s",
      "to-lport",
      "1",
      'outport == "p"',
      "drop",
    ]);
  });
  it("rejects unterminated quotes", () => {
    expect(() => shellWords(`ls-add "x`)).toThrow(/unterminated/);
  });
});

describe("parseNbctlLine", () => {
  it("splits -- chains and keeps per-command options", () => {
    const cmds = parseNbctlLine("ovn-nbctl --wait=sb --may-exist ls-add a -- --if-exists lsp-del p");
    expect(cmds).toEqual([
      { tool: "ovn-nbctl", options: { "--may-exist": true }, argv: ["ls-add", "a"] },
      { tool: "ovn-nbctl", options: { "--if-exists": true }, argv: ["lsp-del", "p"] },
    ]);
    expect(parseNbctlLine("ovn-sbctl chassis-add n1 geneve 127.0.0.1")[0]?.tool).toBe("ovn-sbctl");
  });
});

describe("parseNbctl", () => {
  const seed = `
ls-add sw
lsp-add sw ln -- lsp-set-type ln localnet -- lsp-set-addresses ln unknown -- lsp-set-options ln network_name=provider
set logical_switch_port ln tag=341 external_ids:ipv4_network=10.180.204.0/24
lsp-add sw p1 -- lsp-set-addresses p1 "0a:58:0a:b4:cc:0b 10.180.204.11"
lb-add lb 10.180.204.252:80 10.180.204.11:80 tcp
set load_balancer lb options:prefer_local_backend=true 'external_ids:"kube-ovn.io/local-external-vip/10.180.204.252:80"=node-n1'
set load_balancer lb ip_port_mappings:10.180.204.11=p1:0.0.0.0
ls-lb-add sw lb
set nb_global . options:ls_ct_skip_dst_lport_ips=false
ovn-sbctl chassis-add n1 geneve 127.0.0.1
ovn-sbctl lsp-bind p1 n1
`;
  it("builds the NB model", () => {
    const db = parseNbctl(seed);
    const ln = findPort(db, "ln")?.port;
    expect(ln).toMatchObject({
      type: "localnet",
      tag: 341,
      addresses: ["unknown"],
      options: { network_name: "provider" },
    });
    expect(ln?.externalIds).toEqual({ ipv4_network: "10.180.204.0/24" });
    const lb = db.loadBalancers[0];
    expect(lb?.vips).toEqual({ "10.180.204.252:80": "10.180.204.11:80" });
    expect(lb?.options).toEqual({ prefer_local_backend: "true" });
    expect(lb?.externalIds).toEqual({ "kube-ovn.io/local-external-vip/10.180.204.252:80": "node-n1" });
    expect(lb?.ipPortMappings).toEqual({ "10.180.204.11": "p1:0.0.0.0" });
    expect(db.nbGlobal.options).toEqual({ ls_ct_skip_dst_lport_ips: "false" });
    expect(db.portBindings).toEqual([{ logicalPort: "p1", chassis: "n1" }]);
    expect(db.switches[0]?.loadBalancers).toEqual(["lb"]);
  });
  it("is deterministic", () => {
    expect(parseNbctl(seed)).toEqual(parseNbctl(seed));
  });
  it("normalises lb-add like ovn-nbctl", () => {
    const db = parseNbctl("lb-add l [fd00:0::1]:80 [fd00::0:2]:8080\nlb-add l 10.0.0.1 10.0.0.2,10.0.0.3");
    expect(db.loadBalancers[0]?.vips).toEqual({
      "[fd00::1]:80": "[fd00::2]:8080",
      "10.0.0.1": "10.0.0.2,10.0.0.3",
    });
  });
  it("honours --may-exist and --if-exists", () => {
    expect(() => parseNbctl("ls-add a\nls-add a")).toThrow(/already exists/);
    expect(parseNbctl("ls-add a\n--may-exist ls-add a").switches).toHaveLength(1);
    expect(parseNbctl("--if-exists ls-del zz").switches).toHaveLength(0);
  });
  it("supports add/remove/clear", () => {
    const db = parseNbctl(
      "ls-add a\nlsp-add a p\nadd logical_switch_port p addresses '\"00:00:00:00:00:01 1.1.1.1\"'\nset logical_switch_port p options:a=1 options:b=2\nremove logical_switch_port p options a\nclear logical_switch_port p addresses",
    );
    expect(findPort(db, "p")?.port.options).toEqual({ b: "2" });
    expect(findPort(db, "p")?.port.addresses).toEqual([]);
  });
  it("attaches load balancers through a Load_Balancer_Group, which northd applies like lr-lb-add / ls-lb-add", () => {
    const base =
      "ls-add sw0\nlr-add lr0\nset logical_router lr0 options:chassis=hv1\nlrp-add lr0 lr0-sw0 00:00:00:00:00:01 10.0.0.1/24\n";
    const viaGroup = parseNbctl(
      `${base}-- --id=@lb create load_balancer name=lb0 protocol=tcp 'vips={"10.0.0.10:80"="10.0.0.2:8080,10.0.0.3:8080"}' -- --id=@g create load_balancer_group name=g0 load_balancer=@lb -- add logical_router lr0 load_balancer_group @g -- add logical_switch sw0 load_balancer_group @g\nset load_balancer lb0 options:affinity_timeout=60`,
    );
    expect(viaGroup.loadBalancerGroups.map((g) => [g.name, g.loadBalancers])).toEqual([["g0", ["lb0"]]]);
    const direct = parseNbctl(
      `${base}lb-add lb0 10.0.0.10:80 10.0.0.2:8080,10.0.0.3:8080 tcp\nlr-lb-add lr0 lb0\nls-lb-add sw0 lb0\nset load_balancer lb0 options:affinity_timeout=60`,
    );
    const text = (db: typeof direct) =>
      northd(db, "ovn-23.03")
        .flows.map((f) => `${f.datapath} ${f.stage} ${f.priority} ${f.match} ${f.actions}`)
        .sort();
    const flows = text(viaGroup);
    expect(flows).toEqual(text(direct));
    expect(flows.some((f) => f.startsWith("lr0 lr_in_lb_aff_check 100 "))).toBe(true);
    expect(flows.some((f) => f.startsWith("sw0 ls_in_lb_aff_check 100 "))).toBe(true);
    // destroying the group detaches its load balancers
    const gone = parseNbctl(
      `${base}-- --id=@lb create load_balancer name=lb0 protocol=tcp 'vips={"10.0.0.10:80"="10.0.0.2:8080"}' -- --id=@g create load_balancer_group name=g0 load_balancer=@lb -- add logical_router lr0 load_balancer_group @g\ndestroy load_balancer_group g0`,
    );
    expect(text(gone).some((f) => f.includes("10.0.0.10"))).toBe(false);
  });
  it("takes only UUIDs (or @ids) as reference values, like ovn-nbctl", () => {
    expect(() =>
      parseNbctl("lr-add lr0\nlb-add lb0 10.0.0.10 10.0.0.2\nadd logical_router lr0 load_balancer lb0", {
        file: "cfg",
      }),
    ).toThrow(/cfg:3: "lb0" is not a valid UUID/);
  });
  it("reports file:line and a typed code", () => {
    const cases: Array<[string, string, RegExp]> = [
      ["ls-add a\nlsp-add b p", "UNKNOWN_OBJECT", /cfg:2: b: switch name not found/],
      ["lsp-set-type nope localnet", "UNKNOWN_PORT", /cfg:1:/],
      ["lb-add l 1.2.3.4:80 1.2.3.5 tcp", "BAD_VALUE", /should be an IP address and a port/],
      ["lb-add l 1.2.3.4 1.2.3.5 udp", "BAD_VALUE", /Protocol is unnecessary/],
      ["ls-add a\nacl-add a sideways 1 ip drop", "BAD_VALUE", /cfg:2: sideways: direction/],
      ["frobnicate x", "UNSUPPORTED", /unknown or unmodelled command/],
      ["ls-add", "PARSE_ERROR", /x/],
    ];
    for (const [text, code, re] of cases.slice(0, -1)) {
      try {
        parseNbctl(text, { file: "cfg" });
        expect.unreachable(text);
      } catch (e) {
        expect(isSimError(e) && e.code).toBe(code);
        expect(String((e as Error).message)).toMatch(re);
      }
    }
  });
});

describe("validateNb", () => {
  it("reports what the load-balancer model rejects, and northd still compiles", () => {
    const db = parseNbctl(
      "ls-add s\nlb-add lb 10.0.0.1:80 10.0.0.2:80\nset load_balancer lb ip_port_mappings:10.9.9.9=p:0.0.0.0\nls-lb-add s lb",
    );
    const errs = validateNb(db);
    expect(errs).toHaveLength(1);
    expect(errs[0]?.message).toMatch(/lb/);
    expect(northd(db, "ovn-23.03").flows.some((f) => f.stage === "ls_in_lb" && f.priority === 120)).toBe(
      true,
    );
  });
});

describe("NbBuilder", () => {
  it("gives the same database as the command file", () => {
    const text = `ls-add s
lsp-add s ln
lsp-set-type ln localnet
lsp-set-addresses ln unknown
lsp-set-options ln network_name=provider
set logical_switch_port ln tag=341
set logical_switch_port ln external_ids:ipv4_network=10.0.0.0/24
lsp-add s p
lsp-set-addresses p "0a:00:00:00:00:01 10.0.0.2"
lsp-set-port-security p "0a:00:00:00:00:01 10.0.0.2"
lb-add lb 10.0.0.100:80 10.0.0.2:80 tcp
ls-lb-add s lb
`;
    const built = new NbBuilder()
      .lsAdd("s")
      .localnet("s", "ln", { networkName: "provider", tag: 341, ipv4Network: "10.0.0.0/24" })
      .pod("s", "p", "0a:00:00:00:00:01", "10.0.0.2")
      .lbAdd("lb", "10.0.0.100:80", "10.0.0.2:80", "tcp")
      .lsLbAdd("s", "lb")
      .build();
    expect(built).toEqual(parseNbctl(text));
  });
});

const WORDS = [
  "ls-add",
  "lsp-add",
  "lsp-set-type",
  "lsp-set-addresses",
  "lb-add",
  "ls-lb-add",
  "acl-add",
  "set",
  "add",
  "remove",
  "clear",
  "lr-add",
  "lrp-add",
  "--",
  "--may-exist",
  "--if-exists",
  "s",
  "p",
  "lb",
  "logical_switch_port",
  "load_balancer",
  "nb_global",
  ".",
  "options:a=b",
  "tag=5",
  'vips:"1.1.1.1:80"="2.2.2.2:80"',
  "localnet",
  "unknown",
  "10.0.0.1:80",
  "10.0.0.2:80",
  "tcp",
  "from-lport",
  "1000",
  "ip4",
  "drop",
  '"',
  "'",
  "{a=b}",
  "[x,y]",
  "__proto__",
  "constructor",
  "ovn-sbctl",
  "chassis-add",
  "lsp-bind",
];

describe("fuzz", () => {
  it("any command file gives a database or a SimError, and northd never crashes", () => {
    const line = fc
      .array(fc.oneof(fc.constantFrom(...WORDS), fc.string({ maxLength: 12 })), { maxLength: 8 })
      .map((ws) => ws.join(" "));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), (lines) => {
        const text = lines.join("\n");
        try {
          const db = parseNbctl(`ls-add s\nlsp-add s p\nlb-add lb 1.1.1.1:80 2.2.2.2:80\n${text}`);
          northd(db, "ovn-23.03");
          northd(db, "kube-ovn-1.15");
        } catch (e) {
          if (!isSimError(e)) throw e;
        }
      }),
      { numRuns: 400 },
    );
  });
  it("arbitrary unicode never crashes the reader", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: "grapheme" }), (text) => {
        try {
          parseNbctl(text);
        } catch (e) {
          if (!isSimError(e)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });
});

const ROUTER_WORDS = [
  "lr-add",
  "lrp-add",
  "lr-route-add",
  "lr-route-del",
  "lr-policy-add",
  "lr-policy-del",
  "lr-nat-add",
  "lr-nat-del",
  "lr-lb-add",
  "lrp-set-gateway-chassis",
  "ha-chassis-group-add",
  "pg-add",
  "pg-set-ports",
  "meter-add",
  "static-mac-binding-add",
  "create",
  "destroy",
  "address_set",
  "port_group",
  "logical_router_policy",
  "nat",
  "policies",
  "--id=@p",
  "@p",
  "--",
  "--ecmp",
  "--ecmp-symmetric-reply",
  "--policy=src-ip",
  "--stateless",
  "--type=port-group",
  "r",
  "rp",
  "pg",
  "p",
  "00:00:00:00:00:01",
  "10.0.0.1/24",
  "10.1.0.0/16",
  "0.0.0.0/0",
  "10.0.0.9",
  "fd00::1/64",
  "discard",
  "snat",
  "dnat_and_snat",
  "reroute",
  "allow",
  "100",
  "name=x",
  "addresses=10.0.0.1",
  "priority=5",
  "match=ip4",
  "action=allow",
];

describe("fuzz: router, port group and address set commands", () => {
  it("any mix gives a database or a SimError", () => {
    const line = fc
      .array(fc.oneof(fc.constantFrom(...ROUTER_WORDS), fc.string({ maxLength: 10 })), { maxLength: 9 })
      .map((ws) => ws.join(" "));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 10 }), (lines) => {
        try {
          const db = parseNbctl(
            `ls-add s\nlsp-add s p\nlr-add r\nlrp-add r rp 00:00:00:00:00:01 10.0.0.1/24\n${lines.join("\n")}`,
          );
          northd(db, "ovn-23.03");
        } catch (e) {
          if (!isSimError(e)) throw e;
        }
      }),
      { numRuns: 500 },
    );
  });
});
