/**
 * The flows the benchmark measures, each with how SIPp plays the reference
 * UAS. The answered call runs twice: with sipmock's default media (RTP
 * silence, RTCP, a socket pair per call: work `sipp -sn uas` does not do)
 * and signalling only (`--media-port`), which is the like-for-like one.
 */
import { join } from "node:path";
import type { BenchFlow } from "./servers.js";

export const SCENARIOS = join(import.meta.dirname, "..", "scenarios");

export const FLOWS: BenchFlow[] = [
  {
    name: "INVITE/200/ACK/BYE",
    uac: "uac-invite-answer.xml",
    service: "bench",
    referenceUas: ["-sn", "uas"],
  },
  {
    // The same call without RTP: what `sipp -sn uas` does (its SDP names a
    // port, nothing is sent), so the CPU per call compares like with like.
    name: "INVITE/200/ACK/BYE-no-RTP",
    uac: "uac-invite-answer.xml",
    service: "bench",
    referenceUas: ["-sn", "uas"],
    sipmockArgs: ["--media-port", "40000"],
  },
  {
    name: "INVITE/486/ACK",
    uac: "uac-invite-486.xml",
    service: "486",
    referenceUas: ["-sf", join(SCENARIOS, "uas-486.xml")],
  },
  {
    name: "OPTIONS/200",
    uac: "uac-options.xml",
    service: "bench",
    referenceUas: ["-sf", join(SCENARIOS, "uas-options.xml")],
  },
];
