/**
 * A whole mock (startSipMock, the public SipMock API) on a manual clock and
 * an in-memory wire: SIP text in, SIP bytes out, timers at exact deadlines,
 * no socket and no real waiting. The model for UA unit tests
 * (test/unit/ua-*.test.ts).
 *
 *   const h = await createHarness();
 *   await h.send(invite(p).text);
 *   expect(h.next({ status: 200 }).at).toBe(0);
 *   await h.advance(500);               // Timer G: the 200 again at T1
 */
import type { SipMock, SipMockOptions } from "../../src/control/sipmock.js";
import { startSipMock } from "../../src/control/sipmock.js";
import type { ParsedMessage, ParsedRequest, ParsedResponse } from "../../src/sip/message.js";
import { ManualClock, settle } from "./clock.js";
import { type InjectOptions, MemoryWire, type Sent } from "./wire.js";

/** What a sent message must be to match; every given field must hold. */
export interface SentFilter {
  /** A request's method, or for a response the method of its CSeq with `status`. */
  readonly method?: string;
  readonly status?: number;
  /** Responses only (no requests). */
  readonly response?: boolean;
  /** Requests only. */
  readonly request?: boolean;
  readonly callId?: string;
  /** CSeq method (a response's transaction). */
  readonly cseqMethod?: string;
  readonly transport?: string;
  /** Any test on the sent entry. */
  readonly where?: (s: Sent) => boolean;
}

export interface Harness {
  readonly mock: SipMock;
  readonly clock: ManualClock;
  readonly wire: MemoryWire;
  /** A peer sends this (LF or CRLF text, or bytes); the mock handles it, what it sends is recorded. */
  send(data: string | Buffer, options?: InjectOptions): Promise<void>;
  /** Every sent message matching the filter, in order. */
  sent(filter?: SentFilter): Sent[];
  /**
   * The next unread sent message matching the filter (messages before it stay
   * unread for other filters); throws, listing what was sent, when there is none.
   */
  next(filter?: SentFilter): Sent;
  /** Like next(), but undefined when none (does not throw). */
  poll(filter?: SentFilter): Sent | undefined;
  /** Moves time forward, running every timer at its deadline. */
  advance(ms: number): Promise<void>;
  /** Now, in the clock's monotonic ms (0 at start). */
  now(): number;
  /**
   * Follows a promise of the mock (mock.call(), ping()...) without awaiting
   * it: awaiting one whose answer needs time to pass would wait for ever on
   * a manual clock. `at` is the clock time it settled at.
   */
  track<T>(promise: Promise<T>): Tracked<T>;
  /** A first line per sent message, for failure messages. */
  ladder(): string;
  close(): Promise<void>;
}

export interface Tracked<T> {
  readonly settled: boolean;
  readonly value?: T;
  readonly error?: unknown;
  /** Monotonic ms when it settled. */
  readonly at?: number;
}

export interface HarnessOptions extends SipMockOptions {
  /** Besides files, names and objects: YAML text (containing a newline), as mock.setScenario takes. */
  readonly scenario?: SipMockOptions["scenario"];
  /** Media engine (RTP sockets) on: by default the harness gives a mediaPort, so no socket opens. */
  readonly media?: boolean;
}

/** T1 and friends as in RFC 3261 (500 ms, 4 s, 5 s) unless the options say otherwise. */
export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const clock = new ManualClock();
  const wire = new MemoryWire(
    () => clock.now(),
    () => clock.wall(),
  );
  if (options.maxMessageSize !== undefined) wire.maxMessageSize = options.maxMessageSize;
  const { media, scenario, ...rest } = options;
  // YAML text (with a newline) is what mock.setScenario takes; startSipMock takes files or objects.
  const yaml = typeof scenario === "string" && scenario.includes("\n") ? scenario : undefined;
  const mock = await startSipMock({
    ...(media || rest.mediaPort !== undefined ? {} : { mediaPort: 40000 }),
    ...rest,
    ...(scenario !== undefined && yaml === undefined ? { scenario } : {}),
    limits: { eventLoopLag: () => 0, ...rest.limits },
    seams: { scheduler: clock.scheduler, now: () => clock.wall(), openListener: wire.openListener },
  });
  if (yaml !== undefined) mock.setScenario(yaml);
  const read = new Set<number>();
  const sent = (filter: SentFilter = {}) => wire.sent.filter((s) => matches(s, filter));
  const poll = (filter: SentFilter = {}) => {
    const hit = wire.sent.find((s) => !read.has(s.seq) && matches(s, filter));
    if (hit) read.add(hit.seq);
    return hit;
  };
  const ladder = () => wire.sent.map((s) => `  @${s.at} ${s.text.split("\r\n", 1)[0]}`).join("\n");
  return {
    mock,
    clock,
    wire,
    async send(data, o) {
      wire.inject(data, o);
      await clock.runDue();
      await settle();
    },
    sent,
    poll,
    next(filter = {}) {
      const hit = poll(filter);
      if (!hit) throw new Error(`nothing unread sent matching ${JSON.stringify(filter)}; sent:\n${ladder()}`);
      return hit;
    },
    advance: (ms) => clock.advance(ms),
    track<T>(promise: Promise<T>): Tracked<T> {
      const state: { settled: boolean; value?: T; error?: unknown; at?: number } = { settled: false };
      promise.then(
        (value) => Object.assign(state, { settled: true, value, at: clock.now() }),
        (error: unknown) => Object.assign(state, { settled: true, error, at: clock.now() }),
      );
      return state;
    },
    now: () => clock.now(),
    ladder,
    async close() {
      await mock.close();
    },
  };
}

export function matches(s: Sent, f: SentFilter): boolean {
  const m = s.message;
  if (f.where && !f.where(s)) return false;
  if (f.transport && s.flow.transport !== f.transport) return false;
  const wantsMessage =
    f.method !== undefined ||
    f.status !== undefined ||
    f.response ||
    f.request ||
    f.callId !== undefined ||
    f.cseqMethod !== undefined;
  if (!m) return unparsed(s, f, wantsMessage);
  if (f.callId !== undefined && m.core.callId !== f.callId) return false;
  if (f.cseqMethod !== undefined && m.core.cseq.method !== f.cseqMethod) return false;
  if (m.kind === "request") {
    if (f.response || f.status !== undefined) return false;
    return f.method === undefined || m.method === f.method;
  }
  if (f.request) return false;
  if (f.status !== undefined && m.status !== f.status) return false;
  return f.method === undefined || m.core.cseq.method === f.method;
}

/** The parsed request of a sent entry (throws when it is a response). */
export function req(s: Sent | undefined): ParsedRequest {
  const m: ParsedMessage | undefined = s?.message;
  if (m?.kind !== "request") throw new Error(`not a request: ${s?.text.split("\r\n", 1)[0]}`);
  return m;
}

/** The parsed response of a sent entry (throws when it is a request). */
export function res(s: Sent | undefined): ParsedResponse {
  const m: ParsedMessage | undefined = s?.message;
  if (m?.kind !== "response") throw new Error(`not a response: ${s?.text.split("\r\n", 1)[0]}`);
  return m;
}

/** The To tag of a sent response (the mock's dialog tag). */
export function toTag(s: Sent): string {
  const tag = s.message?.core.to.tag;
  if (!tag) throw new Error(`no To tag in: ${s.text.split("\r\n", 1)[0]}`);
  return tag;
}

/** A sent message our parser refuses (a fault, a 400 echoing a broken CSeq): matched on its start line. */
function unparsed(s: Sent, f: SentFilter, wantsMessage: boolean | undefined): boolean {
  if (!wantsMessage) return true;
  if (f.callId !== undefined || f.cseqMethod !== undefined) return false;
  const line = s.text.split("\r\n", 1)[0] ?? "";
  const status = /^SIP\/2\.0 (\d{3})/.exec(line)?.[1];
  if (status !== undefined) {
    if (f.request || f.method !== undefined) return false;
    return f.status === undefined || Number(status) === f.status;
  }
  if (f.response || f.status !== undefined) return false;
  return f.method === undefined || line.startsWith(`${f.method} `);
}
