// Each subcommand module registers itself; add one import per subcommand.
import "./flow.js";
import "./northd.js";
import "./ovn-trace.js";
import "./trace.js";
import "./doctor.js";
import "./metallb.js";
import "./ofproto-trace.js";
import "./ovn-controller.js";
import "./matrix.js";
import "./diff.js";
import "./branches.js";
import "./reach.js";
