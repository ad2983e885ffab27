// @ovnsim/tracer: composes the layers (physical network and MetalLB, OVS bridges, the OVN logical
// switch, the load balancer and conntrack) into one end-to-end trace of a scenario, with a
// verdict, the doctor's findings, and renderers (text, JSON `ovnsim.trace/v1`, Mermaid, HTML,
// pcapng / pcap).
export {
  TRACE_SCHEMA,
  packetView,
  formatPacket,
  samePacket,
  walkSteps,
  findDrop,
  StepBuilder,
} from "./model.js";
export type {
  Layer,
  PacketView,
  TraceStep,
  DropPoint,
  Verdict,
  FindingView,
  TraceRequest,
  TraceDocument,
  WireFrame,
} from "./model.js";
export {
  createSimulation,
  trace,
  runTrace,
  traceScenario,
  traceFailover,
  ProviderBridge,
} from "./engine.js";
export type { Simulation, TraceInput, FailoverInput, FailoverResult } from "./engine.js";
export { renderText, verdictLines } from "./render-text.js";
export type { TextOptions } from "./render-text.js";
export { renderHtml, escapeHtml } from "./render-html.js";
export { renderClusterHtml } from "./render-cluster-html.js";
export { parseSource, parseTarget, resolveSource, resolveTarget, sourceKind } from "./endpoints.js";
export type { SourceRef, TargetRef } from "./endpoints.js";
export { renderMermaid, renderFlowchart, renderSequence, mermaidLabel } from "./render-mermaid.js";
export {
  encodeFrame,
  writePcap,
  writeTracePcapng,
  traceCapture,
  captureWorld,
  placeOf,
  REQUEST_ISN,
  REPLY_ISN,
} from "./pcap.js";
export type { CaptureWorld } from "./pcap.js";
export { buildNodeOvs, runBridge, replayOdp, logToPhy } from "./ovs.js";
export type { NodeOvs, OvsRun, OvsExit } from "./ovs.js";
export { buildOvn, runLogical, microflowOf, profileFor } from "./ovn.js";
export type { OvnWorld, LogicalRun, LogicalOutput } from "./ovn.js";
export { toJson, TRACE_JSON_SCHEMA } from "./json.js";
export type { SimulationOptions } from "./engine.js";
export { CookieIndex } from "./detrace.js";
export type { OvnRef } from "./detrace.js";
export { installBrInt, refSummary, ruleSteps } from "./brint.js";
export type { BrIntWorld, Datapath } from "./brint.js";
export { scenarioSbFiles, scenarioNodeFiles, captureUuid } from "./captures.js";
export { traceCaptures, capturedNode, renderCaptured, geneveOutputs } from "./captured.js";
export type { CapturedNode, CapturedHop, CapturedTraceInput } from "./captured.js";
export {
  buildClusterWorld,
  clusterAnnouncerOnPath,
  clusterCaptureWorld,
  clusterConnection,
  clusterProfile,
  traceCluster,
  isClusterPath,
  kubeProxyEndpoint,
  kubeProxyEndpoints,
  CLUSTER_FINDINGS,
} from "./cluster.js";
export type { ClusterConnection, ClusterWorld, ClusterTraceInput, SourceKind } from "./cluster.js";
