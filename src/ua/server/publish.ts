/** PUBLISH (RFC 3903 6): an entity tag per publication; an unknown SIP-If-Match gets 412. */
import type { ServerTransaction } from "../../transaction/server-transaction.js";
import { eventPackage, newETag } from "../events.js";
import type { ServerCore } from "./core.js";
import { MAX_SUBSCRIPTION_S, MAX_SUBSCRIPTIONS, requestedExpires } from "./subscribe.js";

export function handlePublish(core: ServerCore, tx: ServerTransaction): void {
  const req = tx.request;
  const pkg = eventPackage(req);
  if (!pkg || !core.capabilities().allowEvents.includes(pkg)) {
    core.send(tx, { status: 489, warning: `event package ${pkg ?? "(none)"} is not supported` });
    return;
  }
  const publications = core.publications;
  const ifMatch = req.headers.get("SIP-If-Match")?.trim();
  if (ifMatch !== undefined && !publications.has(ifMatch)) {
    core.send(tx, { status: 412, warning: `no publication with entity tag ${ifMatch}` });
    return;
  }
  const expires = Math.min(requestedExpires(req, 3600), MAX_SUBSCRIPTION_S);
  if (ifMatch !== undefined) publications.delete(ifMatch);
  if (expires === 0) {
    core.send(tx, { status: 200, headers: [["Expires", "0"]] });
    return;
  }
  const etag = newETag();
  publications.add(etag);
  if (publications.size > MAX_SUBSCRIPTIONS) publications.delete(publications.values().next().value!);
  core.send(tx, {
    status: 200,
    headers: [
      ["SIP-ETag", etag],
      ["Expires", String(expires)],
    ],
  });
}
