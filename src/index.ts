/** sipmock's public API: start a mock SIP server inside a test suite. */
export { CATALOG, isCatalogued, lookupCode, reasonPhrase } from "./catalog/index.js";
export type { ResponseCodeInfo } from "./catalog/types.js";
export { createLogger, type Logger, type LogLevel, silentLogger } from "./control/logger.js";
export {
  type Direction,
  ListenError,
  type MessageEvent,
  type SipMock,
  type SipMockOptions,
  scenarioFromYaml,
  startSipMock,
  VERSION,
} from "./control/sipmock.js";
export type { RespondOptions } from "./scenario/builtin.js";
export { ScenarioEngine } from "./scenario/engine.js";
export { formatProblem, ScenarioLoadError, type ScenarioProblem } from "./scenario/load.js";
export type { Decision, RequestFacts, Scenario } from "./scenario/types.js";
export type { ListenerInfo, TransportName } from "./transport/types.js";
