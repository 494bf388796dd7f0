/** sipmock's public API: start a mock SIP server inside a test suite. */
export { CATALOG, isCatalogued, lookupCode, reasonPhrase } from "./catalog/index.js";
export type { ResponseCodeInfo } from "./catalog/types.js";
export type { AdminOptions, AdminServer } from "./control/admin.js";
export { startAdmin } from "./control/admin.js";
export type { ExpectationResult } from "./control/expectations.js";
export type {
  Call,
  DtmfEntry,
  JournalEntry,
  JournalFilter,
  JournalKind,
  JournalRecord,
  MediaDirectionStats,
  MediaEntry,
} from "./control/journal.js";
export { isMessage } from "./control/journal.js";
export { createLogger, type Logger, type LogLevel, silentLogger } from "./control/logger.js";
export { OverrideError, type OverrideInfo } from "./control/overrides.js";
export {
  type CallMedia,
  type Direction,
  type LimitOptions,
  ListenError,
  type MessageEvent,
  type SipMock,
  type SipMockOptions,
  scenarioFromYaml,
  startSipMock,
  VERSION,
} from "./control/sipmock.js";
export {
  type CountExpectation,
  PatternError,
  type RequestPattern,
  VerificationError,
} from "./control/verify.js";
export type { MediaStats } from "./media/index.js";
export type { RespondOptions } from "./scenario/builtin.js";
export { type BundledScenario, bundledScenarios } from "./scenario/bundled.js";
export { ScenarioEngine } from "./scenario/engine.js";
export { formatProblem, ScenarioLoadError, type ScenarioProblem } from "./scenario/load.js";
export type { Decision, FollowUp, Mailbox, RequestFacts, Scenario } from "./scenario/types.js";
export type { ParsedResponse } from "./sip/message.js";
export type { ListenerInfo, TransportName } from "./transport/types.js";
export type { DialogInfo } from "./ua/dialogs.js";
export {
  type CallOptions,
  type CallResult,
  type ContactOutcome,
  type MediaDirection,
  type MessageWaiting,
  MockRequestError,
  type ReinviteOptions,
} from "./ua/mock-requests.js";
export type { ClientOutcome } from "./ua/uac.js";
