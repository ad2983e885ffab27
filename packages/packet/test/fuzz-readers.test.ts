// Fuzz tests for the packet package's readers not covered elsewhere: pcap files (readPcap), the
// address and endpoint syntaxes, and ovs-ofctl port/field values. Any input gives a result or a
// SimError, never another exception or a hang (see scripts/fuzz.ts).
import fc from "fast-check";
import { describe, it } from "vitest";
import { mutatedBytes, parserInput, resultOrTypedError } from "../../../scripts/fuzz.js";
import {
  FIELDS,
  encodeFrame,
  isSimError,
  parseCidr4,
  parseEndpoint,
  parseFieldValue,
  parseIp4,
  parseMac,
  parsePort,
  readPcap,
  tcpSyn,
  writePcap,
} from "../src/index.js";

const typed = (f: () => unknown) => resultOrTypedError(isSimError, f);
const RUNS = { numRuns: 400 };

describe("readPcap fuzz", () => {
  const real = writePcap(
    [0, 1, 2].map((i) => ({
      bytes: encodeFrame(tcpSyn({ src: `192.0.2.${10 + i}:40000`, dst: "10.180.204.252:80" })),
      timeUs: 1_000_000 * i + 250,
    })),
  );
  it("any bytes: records or a SimError", () => {
    fc.assert(
      fc.property(mutatedBytes([real]), (b) => typed(() => readPcap(b))),
      RUNS,
    );
  });
});

describe("address and endpoint readers fuzz", () => {
  const samples = [
    "00:00:00:01:00:01",
    "52:54:00:ff:00:01",
    "10.180.204.252",
    "192.0.2.10/24",
    "10.0.0.0/8",
    "192.0.2.10:40000",
    "[fd00::1]:80",
    "fd00::1",
    "0.0.0.0/0",
  ];
  it.each([
    ["parseMac", parseMac],
    ["parseIp4", parseIp4],
    ["parseCidr4", parseCidr4],
    ["parseEndpoint", parseEndpoint],
  ] as const)("%s: a value or a SimError", (_, parse) => {
    fc.assert(
      fc.property(parserInput(samples), (t) => typed(() => parse(t))),
      RUNS,
    );
  });
});

describe("ovs-ofctl values fuzz", () => {
  const ports = new Map([
    ["patch-br-int", 2],
    ["eth1", 1],
  ]);
  const samples = [
    "1",
    "LOCAL",
    "CONTROLLER",
    "0xfffe",
    "eth1",
    "patch-br-int",
    "65535",
    "0x1/0xff",
    "10.0.0.0/8",
    "fd00::/64",
    "+trk+est",
    "0x12345678",
  ];
  it("parsePort: a number or a SimError", () => {
    fc.assert(
      fc.property(parserInput(samples), (t) => typed(() => parsePort(t, "in_port", ports))),
      RUNS,
    );
  });
  it("parseFieldValue over every field: a value or a SimError", () => {
    fc.assert(
      fc.property(fc.constantFrom(...FIELDS), parserInput(samples), fc.boolean(), (spec, t, anyMask) =>
        typed(() => parseFieldValue(spec, t, spec.name, ports, anyMask)),
      ),
      { numRuns: 1500 },
    );
  });
});
