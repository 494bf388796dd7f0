/**
 * The floor: the least a SIP UAS in Node can do per request, so the
 * benchmark can say how much of sipmock's CPU per call is Node's sockets and
 * event loop and how much is sipmock. No parser, no transactions, no state:
 * each request is answered from its own text (Via, From, To with a tag,
 * Call-ID and CSeq copied), ACK is ignored. INVITE to `sip:486@` gets 486;
 * any other INVITE 200 with a fixed SDP (no RTP is sent); BYE and OPTIONS
 * 200. Plain JavaScript, no dependencies, no loader: `node floor-uas.mjs
 * udp|tcp PORT`, on 127.0.0.1. Not a SIP server anyone should use.
 */
import { createSocket } from "node:dgram";
import { createServer } from "node:net";

const [transport, portText] = process.argv.slice(2);
const port = Number(portText);
const SDP =
  "v=0\r\no=floor 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
const CONTACT = `Contact: <sip:floor@127.0.0.1:${port};transport=${transport}>\r\n`;

/** The header rows a response copies, by lower-case name (long and compact forms). */
const COPIED = new Set(["via", "v", "from", "f", "to", "t", "call-id", "i", "cseq"]);

/** The response to one request's text (head, latin1), or undefined for ACK. */
function answer(text) {
  const method = text.slice(0, text.indexOf(" "));
  if (method === "ACK") return undefined;
  let status = "200 OK";
  let body = "";
  let contact = "";
  if (method === "INVITE") {
    if (text.startsWith("INVITE sip:486@")) status = "486 Busy Here";
    else {
      body = SDP;
      contact = CONTACT;
    }
  }
  let out = `SIP/2.0 ${status}\r\n`;
  let at = text.indexOf("\r\n") + 2;
  for (;;) {
    const end = text.indexOf("\r\n", at);
    if (end <= at) break;
    const colon = text.indexOf(":", at);
    if (colon > at && colon < end) {
      const name = text.slice(at, colon).trim().toLowerCase();
      if (COPIED.has(name)) {
        out += text.slice(at, end);
        if ((name === "to" || name === "t") && !text.slice(colon, end).includes(";tag=")) out += ";tag=floor";
        out += "\r\n";
      }
    }
    at = end + 2;
  }
  const type = body ? "Content-Type: application/sdp\r\n" : "";
  return `${out}${contact}${type}Content-Length: ${body.length}\r\n\r\n${body}`;
}

/** The Content-Length of a head (0 when absent). */
function contentLength(head) {
  const lower = head.toLowerCase();
  const m = /\r\n(?:content-length|l)[ \t]*:[ \t]*(\d+)/.exec(lower);
  return m ? Number(m[1]) : 0;
}

if (transport === "udp") {
  const socket = createSocket({ type: "udp4", recvBufferSize: 8 << 20 });
  socket.on("message", (data, from) => {
    const out = answer(data.toString("latin1"));
    if (out !== undefined) socket.send(Buffer.from(out, "latin1"), from.port, from.address);
  });
  socket.bind(port, "127.0.0.1");
} else {
  createServer((conn) => {
    let pending = "";
    conn.on("data", (chunk) => {
      pending += chunk.toString("latin1");
      let out = "";
      for (;;) {
        while (pending.startsWith("\r\n")) pending = pending.slice(2);
        const headEnd = pending.indexOf("\r\n\r\n");
        if (headEnd < 0) break;
        const total = headEnd + 4 + contentLength(pending.slice(0, headEnd + 2));
        if (pending.length < total) break;
        out += answer(pending.slice(0, headEnd + 4)) ?? "";
        pending = pending.slice(total);
      }
      if (out) conn.write(out, "latin1");
    });
    conn.on("error", () => {});
  }).listen(port, "127.0.0.1");
}
