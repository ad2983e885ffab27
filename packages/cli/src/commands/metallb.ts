// `ovnsim metallb`: the seed scenario's physical side with MetalLB L2 (election, the gateway's ARP
// for the VIP, an external client's first frame, optional failover), as a readable trace.
import { formatMac } from "@ovnsim/packet";
import { formatTrace, MetalLB, PhysicalNetwork, seedScenario } from "@ovnsim/physical";
import { registerSubcommand } from "../cli.js";

registerSubcommand({
  name: "metallb",
  summary: "MetalLB L2 on the seed underlay: election, ARP for the VIP, client path, failover",
  usage:
    "usage: ovnsim metallb [--profile doc|code] [--nodes N] [--ipv6] [--attachment subif|trunk] [--failover]\n" +
    "  doc: MetalLB answers on underlay0.341 (the Kube-OVN doc); code: enslaved NICs are skipped, br-provider answers",
  run(args, io) {
    let profile: "doc" | "code" = "code";
    let nodes = 3;
    let ipv6 = false;
    let failover = false;
    let attachment: "subif" | "trunk" = "subif";
    for (let i = 0; i < args.length; i++) {
      const a = args[i];
      if (a === "--profile" && (args[i + 1] === "doc" || args[i + 1] === "code"))
        profile = args[++i] as "doc" | "code";
      else if (a === "--nodes" && /^\d+$/.test(args[i + 1] ?? "")) nodes = Number(args[++i]);
      else if (a === "--attachment" && (args[i + 1] === "subif" || args[i + 1] === "trunk"))
        attachment = args[++i] as "subif" | "trunk";
      else if (a === "--ipv6") ipv6 = true;
      else if (a === "--failover") failover = true;
      else {
        io.stderr(`ovnsim metallb: bad argument ${a}\n`);
        return 2;
      }
    }
    const s = seedScenario({ profile, nodes, ipv6, attachment });
    const net = new PhysicalNetwork(s.topology);
    const m = new MetalLB(net, s.metallb, s.service6 ? [s.service, s.service6] : [s.service]);
    const vip = s.service.loadBalancerIPs?.[0] ?? "";
    const out: string[] = [];
    out.push(`# MetalLB reconcile (profile ${profile})`, formatTrace(m.reconcile()));
    out.push("", "# 6 s of virtual time (gratuitous ARP every 1.1 s for 5 s)", formatTrace(net.advance(6)));
    out.push("", `# gw resolves ${vip}`, formatTrace(net.resolve("gw", vip)));
    out.push(
      "",
      `# client -> ${vip}:80`,
      formatTrace(net.send("client", { dst: vip, tpSrc: 40000, tpDst: 80 })),
    );
    const owner = m.status()[0]?.node;
    if (failover && owner !== undefined) {
      out.push("", `# failover: ${owner} goes down`, formatTrace(m.setNodeUp(owner, false)));
      out.push(
        "",
        `# client -> ${vip}:80 again`,
        formatTrace(net.send("client", { dst: vip, tpSrc: 40000, tpDst: 80 })),
      );
    }
    for (const st of m.status()) {
      const mac = st.node !== undefined ? net.host(st.node).nics.get("underlay0")?.mac : undefined;
      out.push(
        "",
        `status ${st.service} ${st.vip}: node ${st.node ?? "-"} interfaces [${st.interfaces.join(", ")}]${mac !== undefined ? ` mac ${formatMac(mac)}` : ""}`,
      );
    }
    io.stdout(`${out.join("\n")}\n`);
    return 0;
  },
});
