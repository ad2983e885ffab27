// `ovnsim flow FLOW`: parse a flow in ofproto/trace syntax and print it as OVS prints its Flow:
// line; `--match` for an ovs-ofctl match printed as match_format(); `--hex`/`--pcap FILE` to
// build the frame itself (what OVS's flow_compose would send), e.g. to feed tshark.
import {
  decodeFrame,
  encodeFrame,
  formatFlow,
  formatMatch,
  makePacket,
  parseFlow,
  parseMatch,
  SimError,
  writePcap,
  writePcapng,
} from "@ovnsim/packet";
import { registerSubcommand } from "../cli.js";
import { writeOutputFile } from "../files.js";

const USAGE = `usage: ovnsim flow [--match] [--lenient] [--hex] [--pcap FILE] [--decode HEX] FLOW
  Parses FLOW as \`ovs-appctl ofproto/trace BRIDGE FLOW\` does and prints it as OVS prints
  its Flow: line, e.g.
    ovnsim flow in_port=1,dl_vlan=341,tcp,nw_src=192.0.2.10,tp_dst=80
  --match       parse an ovs-ofctl match instead (masks, ct_state=+trk-new) and print it as
                dump-flows / the Megaflow: line would
  --lenient     also accept what OVS prints but does not read back (tp_src on UDP flows…)
  --hex         also print the Ethernet frame for the flow, in hex
  --pcap FILE   also write the frame to FILE (classic pcap for a .pcap FILE, else pcapng)
  --decode HEX  decode a frame given in hex and print its flow (FLOW is then not needed)`;

registerSubcommand({
  name: "flow",
  summary: "parse a flow (ofproto/trace syntax) or match and print it as OVS prints it",
  usage: USAGE,
  run(args, io) {
    let match = false;
    let lenient = false;
    let hex = false;
    let pcap: string | undefined;
    let decode: string | undefined;
    let text: string | undefined;
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      if (a === "--match") match = true;
      else if (a === "--lenient") lenient = true;
      else if (a === "--hex") hex = true;
      else if (a === "--pcap" || a === "--decode") {
        const v = args[++i];
        if (v === undefined) throw new SimError("BAD_VALUE", `${a} needs a value`);
        if (a === "--pcap") pcap = v;
        else decode = v;
      } else if (a.startsWith("--")) {
        io.stderr(`ovnsim flow: unknown option ${a}\n${USAGE}\n`);
        return 2;
      } else text = a;
    }
    if (decode !== undefined) {
      if (!/^([0-9a-fA-F]{2})+$/.test(decode))
        throw new SimError("BAD_PACKET", `--decode: "${decode}" is not hex bytes`);
      const p = decodeFrame(Uint8Array.from(Buffer.from(decode, "hex")));
      io.stdout(`${formatFlow(p.flow)}\n`);
      return 0;
    }
    if (text === undefined) {
      io.stderr(`ovnsim flow: missing FLOW\n${USAGE}\n`);
      return 2;
    }
    if (match) {
      io.stdout(`${formatMatch(parseMatch(text, { lenient }))}\n`);
      return 0;
    }
    const flow = parseFlow(text, { lenient });
    io.stdout(`${formatFlow(flow)}\n`);
    if (hex || pcap !== undefined) {
      const bytes = encodeFrame(makePacket(flow));
      if (hex) io.stdout(`${Buffer.from(bytes).toString("hex")}\n`);
      if (pcap !== undefined) {
        const file = /\.pcap$/i.test(pcap)
          ? writePcap([bytes])
          : writePcapng({
              application: "ovnsim flow",
              interfaces: [{ name: "ovnsim flow" }],
              packets: [{ interface: 0, bytes, timeUs: 0, comment: formatFlow(flow) }],
            });
        writeOutputFile(pcap, file);
      }
    }
    return 0;
  },
});
