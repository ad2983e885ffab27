// Deterministic-random OpenFlow programs and packets for the live differential test and the
// megaflow property test.
import { rng } from "@ovnsim/oracle";

export { rng };

const MATCHES = [
  "ip",
  "tcp",
  "udp",
  "arp",
  "ip,nw_dst=10.0.0.0/8",
  "ip,nw_src=192.168.1.0/24",
  "tcp,tp_dst=80",
  "tcp,tp_src=0x400/0xfc00",
  "udp,udp_dst=53",
  "dl_vlan=10",
  "vlan_tci=0/0x1000",
  "dl_dst=01:00:00:00:00:00/01:00:00:00:00:00",
  "reg0=0x1",
  "reg1=0x5/0xf",
  "metadata=0x7",
  "ip,nw_ttl=1",
  "icmp,icmp_type=8",
  "ipv6",
  "ct_state=+trk+est",
  "ct_state=+trk+new,tcp",
  "ct_state=-trk",
  "ct_zone=5",
  "reg2=0x3/0x3",
  "tcp,tcp_flags=+syn",
  "dl_vlan_pcp=3",
];
const ACTIONS = [
  "mod_dl_dst:00:00:00:00:aa:01",
  "mod_dl_src:00:00:00:00:bb:02",
  "set_field:10.1.2.3->ip_dst",
  "mod_nw_src:172.16.0.9",
  "mod_nw_tos:32",
  "mod_tp_dst:8080",
  "dec_ttl",
  "pop_vlan",
  "push_vlan:0x8100,set_field:4106->vlan_vid",
  "mod_vlan_vid:20",
  "load:0x1->NXM_NX_REG0[]",
  "load:0x5->NXM_NX_REG1[0..3]",
  "move:NXM_OF_IN_PORT[]->NXM_NX_REG2[0..15]",
  "set_field:0x7->metadata",
  "ct_clear",
  "mod_vlan_pcp:3",
  "write_metadata:0x5/0xf",
  "clone(mod_dl_dst:00:00:00:00:dd:01,output:3)",
  "ct(commit,zone=5,exec(set_field:0x1->ct_mark))",
  "set_field:0x8->reg2",
  "note:aa.bb",
  // ovs-actions(7) families of issue 11.
  "learn(table=3,priority=7,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])",
  "set_queue:3",
  "push:NXM_NX_REG0[],pop:NXM_NX_REG3[]",
  "clone(ct(commit,zone=9),output:4)",
  "controller(id=3,userdata=aa)",
  "check_pkt_larger(1000)->NXM_NX_REG4[0]",
  "sample(probability=65535,collector_set_id=1)",
  "meter:1",
];

export interface Program {
  readonly br0: string[];
  readonly br1: string[];
  readonly groups: string[];
  readonly packets: string[];
}

export function generate(seed: number, nPackets: number): Program {
  const r = rng(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(r() * a.length)]!;
  const outs = [
    "output:1",
    "output:2",
    "output:3",
    "output:4",
    "output:9",
    "NORMAL",
    "IN_PORT",
    "group:1",
    "group:2",
    "group:4",
    "group:5",
    "group:6",
    "write_actions(output:4)",
    "write_actions(mod_dl_dst:00:00:00:00:ee:01,group:2)",
  ];
  const br0: string[] = [];
  for (let table = 0; table < 4; table++) {
    for (let i = 0; i < 6; i++) {
      const prio = 10 + Math.floor(r() * 200);
      const m: string[] = [];
      if (r() < 0.4) m.push(`in_port=${pick([1, 2, 3, 4])}`);
      if (r() < 0.8) m.push(pick(MATCHES));
      const acts: string[] = [];
      for (let k = Math.floor(r() * 3); k > 0; k--) acts.push(pick(ACTIONS));
      const tail = r();
      if (tail < 0.25 && table < 3) acts.push(`resubmit(,${table + 1 + Math.floor(r() * (3 - table))})`);
      else if (tail < 0.4 && table < 3) acts.push(`goto_table:${table + 1}`);
      else if (tail < 0.5 && table === 0)
        acts.push(`ct(table=${1 + Math.floor(r() * 3)},zone=${Math.floor(r() * 9)},nat)`);
      else if (tail < 0.55 && table < 3) acts.push(`write_actions(output:3),goto_table:${table + 1}`);
      else acts.push(pick(outs));
      // meter is an instruction: it must come first.
      const mi = acts.indexOf("meter:1");
      if (mi > 0) acts.unshift(...acts.splice(mi, 1));
      br0.push(
        `table=${table},priority=${prio},${m.join(",")}${m.length ? "," : ""}actions=${acts.join(",")}`,
      );
    }
    br0.push(`table=${table},priority=0,actions=${table === 0 ? "NORMAL" : "drop"}`);
    // A conjunctive match (OVN's address sets): clause 1 on the source, 2 on the port.
    const id = 10 + table;
    const prio = 50 + Math.floor(r() * 200);
    br0.push(
      `table=${table},priority=${prio},ip,nw_src=${pick(["10.0.0.1", "192.168.1.5"])},actions=conjunction(${id},1/2)`,
    );
    br0.push(`table=${table},priority=${prio},ip,nw_src=172.16.3.4,actions=conjunction(${id},1/2)`);
    br0.push(`table=${table},priority=${prio},tcp,tp_dst=${pick([80, 443])},actions=conjunction(${id},2/2)`);
    br0.push(`table=${table},priority=${prio},udp,udp_dst=53,actions=conjunction(${id},2/2)`);
    br0.push(
      `table=${table},priority=${prio},conj_id=${id},ip,actions=${pick(ACTIONS.slice(0, 4))},${pick(outs)}`,
    );
  }
  const br1 = [
    "priority=10,ip,actions=dec_ttl,output:2",
    "priority=5,tcp,actions=ct(commit,zone=3),output:3",
    "priority=0,actions=NORMAL",
  ];
  const groups = [
    "group_id=1,type=select,selection_method=hash,fields(ip_src,tcp_src),bucket=bucket_id:0,weight:100,actions=output:2,bucket=bucket_id:1,weight:100,actions=output:3,bucket=bucket_id:2,weight:50,actions=output:9",
    "group_id=2,type=all,bucket=actions=output:3,bucket=actions=mod_dl_dst:00:00:00:00:cc:cc,output:4",
    "group_id=3,type=select,selection_method=hash,fields(eth_dst,ip_dst,udp_dst),bucket=bucket_id:3,weight:10,actions=output:1,bucket=bucket_id:4,weight:20,actions=output:4",
    "group_id=4,type=select,bucket=bucket_id:0,actions=output:2,bucket=bucket_id:1,actions=output:3",
    "group_id=5,type=ff,bucket=bucket_id:0,watch_port:7,actions=output:2,bucket=bucket_id:1,watch_port:3,actions=output:3",
    "group_id=6,type=select,selection_method=hash,fields=ip_dst,bucket=bucket_id:0,actions=ct(commit,zone=2),output:2,bucket=bucket_id:1,actions=output:9",
  ];
  const packets: string[] = [];
  for (let i = 0; i < nPackets; i++) {
    const inPort = pick([1, 2, 3, 4]);
    const vlan = r() < 0.3 ? `dl_vlan=${pick([10, 20, 30])},` : "";
    const src = `dl_src=00:00:00:00:0${Math.floor(r() * 9)}:01`;
    const dst = pick(["dl_dst=00:00:00:00:02:02", "dl_dst=ff:ff:ff:ff:ff:ff", "dl_dst=01:00:5e:00:00:01"]);
    const ip = `nw_src=${pick(["192.168.1.5", "10.0.0.1", "172.16.3.4"])},nw_dst=${pick(["10.0.0.2", "10.200.1.1", "8.8.8.8"])},nw_ttl=${pick([1, 2, 64])}`;
    const l = pick([
      `tcp,${ip},tp_src=${pick([1024, 1100, 40000])},tp_dst=${pick([80, 443])}`,
      `udp,${ip},udp_src=5353,udp_dst=${pick([53, 67])}`,
      `icmp,${ip},icmp_type=8,icmp_code=0`,
      `ip,${ip}`,
      "arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1",
      "ipv6,ipv6_src=fd00::1,ipv6_dst=fd00::2",
    ]);
    const ct = r() < 0.3 ? ` --ct-next ${pick(["trk,est", "trk,new", "trk,inv", "trk,rel"])}` : "";
    packets.push(`in_port=${inPort},${vlan}${src},${dst},${l}${ct}`);
  }
  return { br0, br1, groups, packets };
}
