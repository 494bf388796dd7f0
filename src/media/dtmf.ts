/**
 * DTMF: RFC 4733 telephone-event payloads (2.3: event, E bit, volume,
 * duration; 2.5.1.4 three redundant end packets; 2.5.2 receiver: one digit per
 * event timestamp, ended by the E bit or by a new event timestamp) and the
 * SIP INFO body application/dtmf-relay ("Signal=5\r\nDuration=160").
 */

/** RFC 4733 3.2 event codes 0..15: 0-9, *, #, A-D. */
export const DTMF_EVENTS = "0123456789*#ABCD";

export function dtmfEventCode(digit: string): number | undefined {
  const i = DTMF_EVENTS.indexOf(digit.toUpperCase());
  return digit.length === 1 && i >= 0 ? i : undefined;
}

export interface TelephoneEvent {
  readonly event: number;
  readonly end: boolean;
  readonly volume: number;
  /** In timestamp units (8 kHz for DTMF). */
  readonly duration: number;
}

/** RFC 4733 2.3 payload: event(8) E(1) R(1) volume(6) duration(16). */
export function parseTelephoneEvent(payload: Buffer): TelephoneEvent | undefined {
  if (payload.length < 4) return undefined;
  const b1 = payload[1]!;
  return { event: payload[0]!, end: (b1 & 0x80) !== 0, volume: b1 & 0x3f, duration: payload.readUInt16BE(2) };
}

export function writeTelephoneEvent(
  out: Buffer,
  offset: number,
  event: number,
  end: boolean,
  volume: number,
  duration: number,
): void {
  out[offset] = event & 0xff;
  out[offset + 1] = (end ? 0x80 : 0) | (volume & 0x3f);
  out.writeUInt16BE(Math.min(0xffff, Math.max(0, Math.round(duration))), offset + 2);
}

export interface DetectedDigit {
  readonly digit: string;
  readonly durationMs: number;
  readonly volume: number;
}

/**
 * RFC 4733 2.5.2 receiver for one stream: an event is identified by its RTP
 * timestamp; the first E packet ends it and its redundant copies are ignored;
 * an event whose end packets were all lost ends when a new timestamp starts.
 */
export class TelephoneEventReceiver {
  private currentTs: number | undefined;
  private current: { event: number; volume: number; duration: number } | undefined;
  private readonly endedTs: number[] = [];

  constructor(
    private readonly onDigit: (d: DetectedDigit) => void,
    private readonly clockRate = 8000,
  ) {}

  /** marker: the RTP M bit, set on the first packet of an event (RFC 4733 2.5.1.3). */
  receive(timestamp: number, ev: TelephoneEvent, marker = false): void {
    const ended = this.endedTs.indexOf(timestamp);
    if (ended >= 0) {
      // A redundant (end) packet of a reported event; only a marked start packet reusing the
      // timestamp (a sender replaying one recording per digit) begins a new event.
      if (ev.end || !marker) return;
      this.endedTs.splice(ended, 1);
    }
    if (this.currentTs !== undefined && this.currentTs !== timestamp) this.finish();
    if (ev.event > 15) return; // not DTMF (e.g. 16 flash): ignored
    this.currentTs = timestamp;
    const prev = this.current;
    this.current = {
      event: ev.event,
      volume: ev.volume,
      duration: Math.max(prev?.event === ev.event ? prev.duration : 0, ev.duration),
    };
    if (ev.end) this.finish();
  }

  /** Ends an event still open (stream stopped or closed). */
  flush(): void {
    this.finish();
  }

  private finish(): void {
    const c = this.current;
    const ts = this.currentTs;
    this.current = undefined;
    this.currentTs = undefined;
    if (!c || ts === undefined) return;
    this.endedTs.push(ts);
    if (this.endedTs.length > 4) this.endedTs.shift();
    this.onDigit({
      digit: DTMF_EVENTS[c.event]!,
      durationMs: Math.round((c.duration * 1000) / this.clockRate),
      volume: c.volume,
    });
  }
}

const RELAY_SIGNALS: Record<string, string> = { "10": "*", "11": "#" };

/** application/dtmf-relay body: Signal=<digit> and optional Duration=<ms> (default 250). */
export function parseDtmfRelay(body: string): { digit: string; durationMs: number } | undefined {
  let digit: string | undefined;
  let durationMs = 250;
  for (const line of body.split(/\r?\n/)) {
    const m = /^\s*([A-Za-z]+)\s*=\s*(\S*)\s*$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    const value = m[2]!;
    if (key === "signal") {
      const d = RELAY_SIGNALS[value] ?? value.toUpperCase();
      if (dtmfEventCode(d) === undefined) return undefined;
      digit = d;
    } else if (key === "duration") {
      const n = Number(value);
      if (!/^\d+$/.test(value) || n > 60_000) return undefined;
      durationMs = n;
    }
  }
  return digit === undefined ? undefined : { digit, durationMs };
}

export function formatDtmfRelay(digit: string, durationMs: number): string {
  return `Signal=${digit}\r\nDuration=${Math.round(durationMs)}\r\n`;
}
