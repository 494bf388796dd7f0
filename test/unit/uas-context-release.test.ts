/**
 * A UAS context that holds nothing more is forgotten once its transaction
 * lives on in a CompletedStore (it held the transaction object for the
 * rest of its 64*T1); one that still holds something stays until the end.
 */
import { describe, expect, it } from "vitest";
import type { ServerTransaction } from "../../src/transaction/server-transaction.js";
import { ServerContexts } from "../../src/ua/server/context.js";

const tx = (id: string) => ({ id }) as ServerTransaction;

describe("ServerContexts.releaseIdle", () => {
  it("forgets an idle context, keeps one with follow-ups, a PRACK state or a shutdown mark", () => {
    const contexts = new ServerContexts();
    contexts.of(tx("idle"));
    contexts.of(tx("then")).followUps = [];
    contexts.of(tx("prack")).reliable = { next: 1, timers: new Map(), keys: new Set() };
    contexts.of(tx("drain")).shutdownAnswered = true;
    const ctx = contexts.of(tx("sdp"));
    ctx.webrtcId = { fingerprint: "x" } as never;
    for (const id of ["idle", "then", "prack", "drain", "sdp"]) contexts.releaseIdle(id);
    expect([...contexts.all()].map((c) => c.tx.id)).toEqual(["then", "prack", "drain", "sdp"]);
    ctx.webrtcId = undefined;
    contexts.releaseIdle("sdp");
    expect(contexts.get("sdp")).toBeUndefined();
  });
});
