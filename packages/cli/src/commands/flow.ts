// `ovnsim flow FLOW`: parse a flow in ofproto/trace syntax and print it as OVS prints its Flow: line.
import { formatFlow, parseFlow } from "@ovnsim/packet";
import { registerSubcommand } from "../cli.js";

registerSubcommand({
  name: "flow",
  summary: "parse a flow (ofproto/trace syntax) and print it as OVS prints it",
  usage: "usage: ovnsim flow FLOW\n  e.g. ovnsim flow in_port=1,dl_vlan=341,tcp,nw_src=192.0.2.10,tp_dst=80",
  run(args, io) {
    const text = args[0];
    if (text === undefined) {
      io.stderr("ovnsim flow: missing FLOW\n");
      return 2;
    }
    io.stdout(`${formatFlow(parseFlow(text))}\n`);
    return 0;
  },
});
