// The README example, executed, so the README cannot drift from the code.
import { ETH_TYPE, TCP_FLAG, makeFlow, parseIp4 } from "@ovnsim/packet";
import { expect, it } from "vitest";
import { emptyLbState, lbDnat, lbReply, makeLoadBalancer } from "../src/index.js";

it("README example", () => {
  const lb = makeLoadBalancer({
    name: "cluster-tcp-loadbalancer",
    vips: { "10.180.204.252:80": ["10.180.204.11:80", "10.180.204.12:80"] },
    options: { prefer_local_backend: "true" },
    ipPortMappings: {
      "10.180.204.11": "nginx-0.default:0.0.0.0",
      "10.180.204.12": "nginx-1.default:0.0.0.0",
    },
    externalIds: { "kube-ovn.io/local-external-vip/10.180.204.252:80": "node-node1" },
  });
  const syn = makeFlow({
    dl_type: ETH_TYPE.ip,
    nw_proto: 6,
    tcp_flags: TCP_FLAG.syn,
    nw_src: parseIp4("192.0.2.10"),
    nw_dst: parseIp4("10.180.204.252"),
    tp_src: 40000,
    tp_dst: 80,
  });
  const portChassis = { "nginx-0.default": "node1", "nginx-1.default": "node2", "node-node1": "node1" };
  const r = lbDnat(emptyLbState(), syn, { lb, zone: 5, now: 0, chassis: "node1", portChassis });
  if (r.verdict !== "dnat") throw new Error(r.verdict);
  expect(r.backend.ip).toBe("10.180.204.11");
  expect(r.local).toMatchObject({ priority: 140, local: true });
  expect(r.local?.reason).toMatch(/^VIP node node-node1 is resident here: /);
  expect(r.reason.kind).toBe("dp_hash");
  expect(r.created?.zone).toBe(5);
  expect(lbDnat(emptyLbState(), syn, { lb, zone: 5, chassis: "node2", portChassis }).verdict).toBe("pass");

  const reply = makeFlow({
    dl_type: ETH_TYPE.ip,
    nw_proto: 6,
    tcp_flags: TCP_FLAG.syn | TCP_FLAG.ack,
    nw_src: parseIp4("10.180.204.11"),
    nw_dst: parseIp4("192.0.2.10"),
    tp_src: 80,
    tp_dst: 40000,
  });
  const rr = lbReply(r.state, reply, { zone: 5 });
  expect(rr.reverseNat).toEqual({ from: "10.180.204.11:80", to: "10.180.204.252:80" });
  expect(rr.clientSourceChanged).toBe(false);
});
