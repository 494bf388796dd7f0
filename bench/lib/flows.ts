/** The three flows the benchmark measures, each with how SIPp plays the reference UAS. */
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
