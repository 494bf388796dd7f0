/**
 * The scenario's side of the UA contract. The types live with the UA that
 * needs them (src/ua/ports.ts: the UA defines the interface, the scenario
 * engine implements it); this module re-exports them for the scenario code.
 */
export type * from "../ua/ports.js";
