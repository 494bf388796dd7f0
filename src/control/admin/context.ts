/** What an admin route's handler is given: the mock, the request and its parsed URL, the response. */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { EventStream } from "../event-stream.js";
import type { SipMock } from "../sipmock.js";

/** What the admin API keeps between calls. */
export interface AdminState {
  /** The YAML last PUT, shown by GET /__admin/scenario. */
  source?: string;
  readonly events: EventStream;
}

export interface AdminContext {
  readonly mock: SipMock;
  readonly state: AdminState;
  /** The bearer token the API was started with (the web UI's page carries it). */
  readonly token: string | null;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** The URL's path without trailing slashes. */
  readonly path: string;
}

export type Handler = (c: AdminContext) => void | Promise<void>;

export function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(`${JSON.stringify(body, null, 2)}\n`);
}

export function empty(res: ServerResponse): void {
  res.writeHead(204);
  res.end();
}
