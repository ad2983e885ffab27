// @ovnsim/ovn: OVN logical switches and routers. northd/ turns the northbound model into logical flows per
// release profile; trace/ parses the match/action language and runs the logical pipeline as
// ovn-trace does. Each half owns its own index; this file only joins them.
export type { LogicalFlow, Pipeline } from "./types.js";
export * from "./northd/index.js";
export * from "./trace/index.js";
