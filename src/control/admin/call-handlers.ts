/** The admin routes that make the mock send: BYE, re-INVITE, UPDATE, DTMF, calls, NOTIFY, OPTIONS. */
import { type MediaDirection, MockRequestError } from "../../ua/mock-requests.js";
import type { ClientOutcome } from "../../ua/uac.js";
import { HttpProblem } from "../http-problem.js";
import { VerificationError } from "../verify.js";
import { durationField, readObject, stringField, wholeNumber } from "./body.js";
import { type AdminContext, json } from "./context.js";

const DIRECTIONS = ["sendrecv", "sendonly", "recvonly", "inactive"] as const;

export function callMedia({ mock, res, path }: AdminContext): void {
  const callId = pathParam(path, "Call-ID");
  const m = mock.media(callId)[0]!;
  if (!m.stats && m.digits.length === 0)
    throw new HttpProblem(404, "Not Found", `no media and no DTMF in call ${callId}`);
  json(res, 200, m);
}

export async function sendDtmf({ mock, req, res, path }: AdminContext): Promise<void> {
  const body = await readObject(req);
  const digits = body.digits;
  if (typeof digits !== "string" || !/^[0-9*#A-Da-d]+$/.test(digits))
    throw new HttpProblem(
      400,
      "Invalid body",
      'digits must be DTMF digits 0-9, *, #, A-D, e.g. {"digits": "123#"}',
    );
  const callId = pathParam(path, "Call-ID");
  try {
    await mock.sendDtmf(callId, digits);
  } catch (e) {
    throw new HttpProblem(409, "Conflict", `${callId}: ${(e as Error).message}`);
  }
  json(res, 200, { sent: digits });
}

export async function verifyDtmf({ mock, req, res }: AdminContext): Promise<void> {
  const body = await readObject(req);
  if (typeof body.digits !== "string")
    throw new HttpProblem(
      400,
      "Invalid body",
      'digits is required, e.g. {"digits": "1234#", "callId": "..."}',
    );
  if (body.callId !== undefined && typeof body.callId !== "string")
    throw new HttpProblem(400, "Invalid body", "callId must be a string");
  try {
    const m = mock.verifyDtmf(
      body.digits,
      body.callId !== undefined ? { callId: body.callId as string } : {},
    );
    json(res, 200, { ok: true, callId: m.callId });
  } catch (e) {
    if (e instanceof VerificationError) throw new HttpProblem(409, "Verification failed", e.message);
    throw e;
  }
}

export function bye({ mock, res, path }: AdminContext): void {
  const callId = pathParam(path, "Call-ID");
  const n = mock.bye(callId);
  if (n === 0) throw new HttpProblem(404, "Not Found", `no dialog with Call-ID ${callId}`);
  json(res, 200, { byes: n });
}

export async function reinvite({ mock, req, res, path }: AdminContext): Promise<void> {
  const body = await readObject(req);
  const direction = body.direction ?? "sendrecv";
  if (!DIRECTIONS.includes(direction as never)) {
    throw new HttpProblem(400, "Invalid body", `direction must be one of ${DIRECTIONS.join(", ")}`);
  }
  const codecs = body.codecs;
  if (codecs !== undefined && (!Array.isArray(codecs) || !codecs.every((c) => typeof c === "string"))) {
    throw new HttpProblem(400, "Invalid body", 'codecs must be a list of codec names, e.g. ["PCMA"]');
  }
  const outcomes = await mockRequest(() =>
    mock.reinvite(pathParam(path, "Call-ID"), {
      direction: direction as MediaDirection,
      ...(codecs ? { codecs: codecs as string[] } : {}),
    }),
  );
  json(res, 200, outcomes.map(outcomeJson));
}

export async function update({ mock, res, path }: AdminContext): Promise<void> {
  const outcomes = await mockRequest(() => mock.update(pathParam(path, "Call-ID")));
  json(res, 200, outcomes.map(outcomeJson));
}

export async function call({ mock, req, res, path }: AdminContext): Promise<void> {
  const body = await readObject(req);
  const callOptions = {
    ...(body.from !== undefined ? { from: stringField(body, "from") } : {}),
    ...(body.cancelAfter !== undefined ? { cancelAfterMs: durationField(body, "cancelAfter") } : {}),
    ...(body.hangUpAfter !== undefined ? { hangUpAfterMs: durationField(body, "hangUpAfter") } : {}),
  };
  const result = await mockRequest(() => mock.call(pathParam(path, "address-of-record"), callOptions));
  json(res, 200, {
    callId: result.callId,
    contact: result.contact,
    provisional: result.provisional,
    ...outcomeJson(result),
  });
}

/** The message-summary counts a NOTIFY body gives, by the API's name for each. */
const MESSAGE_COUNTS = [
  ["new", "newMessages"],
  ["old", "oldMessages"],
  ["urgentNew", "urgentNew"],
  ["urgentOld", "urgentOld"],
] as const;

export async function notify({ mock, req, res, path }: AdminContext): Promise<void> {
  const body = await readObject(req);
  if (typeof body.waiting !== "boolean") {
    throw new HttpProblem(400, "Invalid body", 'give "waiting": true or false (Messages-Waiting, RFC 3842)');
  }
  const counts: Record<string, number> = {};
  for (const [k, name] of MESSAGE_COUNTS) {
    const v = wholeNumber(
      body[k],
      () => new HttpProblem(400, "Invalid body", `${k} must be a whole number, 0 or more`),
    );
    if (v !== undefined) counts[name] = v;
  }
  const outcomes = await mockRequest(() =>
    mock.notifyMessageWaiting(pathParam(path, "address-of-record"), {
      waiting: body.waiting as boolean,
      ...counts,
    }),
  );
  json(res, 200, outcomes.map(outcomeJson));
}

export async function ping({ mock, res, path }: AdminContext): Promise<void> {
  const outcomes = await mockRequest(() => mock.ping(pathParam(path, "address-of-record")));
  json(res, 200, outcomes.map(outcomeJson));
}

/** The percent-decoded third path segment (/__admin/calls/{it}/...). */
function pathParam(path: string, what: string): string {
  try {
    return decodeURIComponent(path.split("/")[3]!);
  } catch {
    throw new HttpProblem(400, "Bad Request", `malformed percent-encoding in the ${what}`);
  }
}

/** A request the mock sends: no dialog or registration is a 404, an INVITE in progress a 409. */
async function mockRequest<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (e) {
    if (e instanceof MockRequestError) {
      if (e.kind === "unavailable")
        throw new HttpProblem(503, "Service Unavailable", e.message, {}, { "retry-after": "5" });
      const [status, title] =
        e.kind === "not-found"
          ? [404, "Not Found"]
          : e.kind === "invalid"
            ? [400, "Invalid body"]
            : [409, "Conflict"];
      throw new HttpProblem(status, title, e.message);
    }
    throw e;
  }
}

function outcomeJson(o: ClientOutcome & { contact?: string }) {
  return {
    status: o.status,
    reason: o.reason,
    ...(o.contact !== undefined ? { contact: o.contact } : {}),
    ...(o.transportError !== undefined
      ? { transportError: o.transportError }
      : o.response
        ? {}
        : { timedOut: true }),
  };
}
