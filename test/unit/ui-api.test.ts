/** What the UI's control panel sends (ui/src/api.ts): the same admin API calls as `sipmock ctl`. */
import { describe, expect, it } from "vitest";
import {
  callActionRequest,
  callPhoneRequest,
  describeResult,
  phoneOfCall,
  respondRequest,
} from "../../ui/src/api.js";
import { CallStore } from "../../ui/src/model.js";
import { entries, request, response } from "./ui-fixtures.js";

describe("respond", () => {
  it("posts the override `ctl respond 486 --method INVITE --times 1` posts", () => {
    expect(respondRequest({ code: "486", method: "INVITE", times: "1" })).toEqual({
      method: "POST",
      path: "/overrides",
      body: { match: { method: "INVITE" }, respond: 486, times: 1 },
    });
  });

  it("takes several methods, a Request-URI user pattern and a reason", () => {
    expect(
      respondRequest({ code: "503", method: "invite, message", user: "^bob$", reason: "Down" }).body,
    ).toEqual({
      match: { method: ["INVITE", "MESSAGE"], requestUri: { user: "^bob$" } },
      respond: 503,
      reason: "Down",
    });
  });

  it("refuses a bad code, method or count before sending", () => {
    expect(() => respondRequest({ code: "99", method: "INVITE" })).toThrow(/100 to 699/);
    expect(() => respondRequest({ code: "486", method: "" })).toThrow(/method/);
    expect(() => respondRequest({ code: "486", method: "IN<VITE" })).toThrow(/token/);
    expect(() => respondRequest({ code: "486", method: "INVITE", times: "0" })).toThrow(/times/);
  });
});

describe("call buttons", () => {
  const store = new CallStore();
  store.addAll(
    entries([
      { direction: "in", raw: request("INVITE", { callId: "x/y z" }) },
      { direction: "out", raw: response(200, "OK", { callId: "x/y z" }) },
    ]),
  );
  const call = store.get("x/y z")!;

  it("hang up, hold, resume and NOTIFY go to the endpoints ctl bye/hold/resume/mwi use", () => {
    expect(callActionRequest("bye", call)).toEqual({
      method: "POST",
      path: "/calls/x%2Fy%20z/bye",
      body: {},
    });
    expect(callActionRequest("hold", call)).toEqual({
      method: "POST",
      path: "/calls/x%2Fy%20z/reinvite",
      body: { direction: "sendonly" },
    });
    expect(callActionRequest("reinvite", call).body).toEqual({ direction: "sendrecv" });
    expect(phoneOfCall(call)).toBe("sip:alice@example.test");
    expect(callActionRequest("notify", call)).toEqual({
      method: "POST",
      path: "/registrations/sip%3Aalice%40example.test/notify",
      body: { waiting: true, new: 1 },
    });
    expect(callPhoneRequest("sip:bob@127.0.0.1")).toEqual({
      method: "POST",
      path: "/registrations/sip%3Abob%40127.0.0.1/call",
      body: {},
    });
  });

  it("describes what the API answered", () => {
    expect(describeResult(201, { id: "o1" })).toBe("override o1 set");
    expect(describeResult(200, { byes: 1 })).toBe("BYE sent in 1 dialog(s)");
    expect(describeResult(200, [{ status: 200, reason: "OK" }])).toBe("200 OK");
    expect(describeResult(200, { callId: "c9", status: 486, reason: "Busy Here", provisional: [180] })).toBe(
      "486 Busy Here (Call-ID c9)",
    );
    expect(describeResult(404, { title: "Not Found", detail: "no dialog with Call-ID q" })).toBe(
      "404 Not Found: no dialog with Call-ID q",
    );
    expect(describeResult(204, undefined)).toBe("done");
  });
});
