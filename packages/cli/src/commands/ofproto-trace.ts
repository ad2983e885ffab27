// `ovnsim ofproto-trace`: an offline `ovs-appctl ofproto/trace` over a captured bundle
// (scripts/capture-bundle.sh) or a lone dump-flows file; same text as OVS 3.1, or JSON.
import {
  loadBundle,
  parseCtState,
  renderTrace,
  type Switch,
  switchFromFlows,
  traceFlow,
  tracePortNumbers,
  traceToJson,
} from "@ovnsim/openflow";
import { parseFlow, SimError } from "@ovnsim/packet";
import { registerSubcommand } from "../cli.js";
import { checkInputDirectory, readTextFile } from "../files.js";

const USAGE = `usage: ovnsim ofproto-trace [--bundle DIR | --flows FILE [--groups FILE]] [--ct-next FLAGS]... [--json] BRIDGE FLOW
  --bundle DIR    ovs-vsctl-show.txt, ovs-vsctl-list-interface.txt, ovs-vsctl-list-port.txt,
                  BRIDGE.ports.txt, BRIDGE.flows.txt, BRIDGE.groups.txt, BRIDGE.meters.txt,
                  BRIDGE.tlv.txt, BRIDGE.fdb.txt, dpif-show.txt
                  (scripts/capture-bundle.sh BRIDGE... writes them)
  --flows FILE    dump-flows output (OpenFlow 1.0/1.3/1.5, with or without --no-stats) or add-flow lines
  --groups FILE   dump-groups output, with --flows
  --ct-next FLAGS ct_state for the next recirculation after ct(), e.g. trk,est (repeatable)
  --names         print ports by name, as ofproto/trace --names does
  --json          print the trace tree as JSON instead of ofproto/trace text
  e.g. ovnsim ofproto-trace --bundle ./bundle br-provider in_port=1,dl_vlan=341,tcp,nw_dst=10.180.204.252,tp_dst=80`;

const readText = readTextFile;

registerSubcommand({
  name: "ofproto-trace",
  summary: "offline ovs-appctl ofproto/trace over a captured bundle or a flows file",
  usage: USAGE,
  run(args, io) {
    let bundle: string | undefined;
    let flows: string | undefined;
    let groups: string | undefined;
    let json = false;
    let names = false;
    const ctNext: number[] = [];
    const pos: string[] = [];
    for (let i = 0; i < args.length; i++) {
      const a = args[i]!;
      const next = (): string => {
        const v = args[++i];
        if (v === undefined) throw new SimError("PARSE_ERROR", `${a}: missing argument`);
        return v;
      };
      if (a === "--bundle") bundle = next();
      else if (a === "--flows") flows = next();
      else if (a === "--groups") groups = next();
      else if (a === "--ct-next") ctNext.push(parseCtState(next()));
      else if (a === "--json") json = true;
      else if (a === "--names" || a === "-names") names = true;
      else if (a.startsWith("-")) throw new SimError("PARSE_ERROR", `${a}: unknown option`);
      else pos.push(a);
    }
    if (pos.length !== 2 || (bundle === undefined) === (flows === undefined)) {
      io.stderr(`${USAGE}\n`);
      return 2;
    }
    const [bridge, flowText] = pos as [string, string];
    let sw: Switch;
    let flow: ReturnType<typeof parseFlow>;
    if (bundle !== undefined) {
      checkInputDirectory(bundle, (n) => n.endsWith(".txt"));
      sw = loadBundle(bundle);
      flow = parseFlow(flowText, { ports: tracePortNumbers(sw.bridge(bridge)) });
    } else {
      flow = parseFlow(flowText, { ports: new Map([["LOCAL", 0xfffe]]) });
      sw = switchFromFlows(
        bridge,
        readText(flows!),
        groups !== undefined ? readText(groups) : undefined,
        flow.in_port < 0xff00 ? [flow.in_port] : [],
      );
    }
    const t = traceFlow(sw, bridge, flow, { ctNext, ...(names ? { names } : {}) });
    io.stdout(json ? `${traceToJson(t)}\n` : renderTrace(t));
    return 0;
  },
});
