/**
 * baresip (Debian package baresip-core), a real softphone stack, run headless
 * against sipmock: it registers through a digest challenge, places a call to
 * sip:486@ that ends with 486 Busy Here, places an answered call and hangs it
 * up, then unregisters on quit. Driven through its stdio UI (long commands on
 * stdin, events read from its output); no sound card: the audio source is a
 * sine generator (ausine), there is no player. All of it over UDP, then again
 * over TLS with its own mock and baresip.
 *
 * The mock's auth names only realm and users: its default challenge (MD5
 * alone) is what baresip 1.0 (libre 1.1) computes; it gives up ("Function not
 * implemented") on a first challenge of another algorithm.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JournalEntry, type SipMock, silentLogger, startSipMock } from "../../src/index.js";
import { type Baresip, startBaresip, WAIT_MS, writeBaresipConfig } from "../peers/baresip.js";

/** Polls until `test` holds; throws naming `what` (and showing `mock`'s journal) after the bound. */
async function until<T>(
  mock: SipMock,
  what: string,
  test: () => T | undefined,
  timeoutMs = WAIT_MS,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = test();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`${what} within ${timeoutMs} ms; journal:\n${journalText(mock)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

function journalText(mock: SipMock): string {
  return mock.journal
    .entries()
    .map((e) => `${e.direction} ${e.kind === "response" ? `${e.status} ${e.reason}` : e.method} ${e.callId}`)
    .join("\n");
}

/** "in INVITE", "out 486 Busy Here"... of one call, retransmissions left out. */
function flowOf(mock: SipMock, callId: string): string[] {
  return mock.journal
    .entries({ callId })
    .filter((e) => !e.retransmission)
    .map((e) => `${e.direction} ${e.kind === "response" ? `${e.status} ${e.reason}` : e.method}`);
}

function header(e: JournalEntry, name: string): string[] {
  const re = new RegExp(`^${name}[ \\t]*:[ \\t]*(.*)$`, "gim");
  return [...e.raw.split("\r\n\r\n")[0]!.matchAll(re)].map((m) => m[1]!.trim());
}

/** The inbound INVITEs to `user`@ (first one's Call-ID names the call). */
function invitesTo(mock: SipMock, user: string): JournalEntry[] {
  return mock.journal
    .entries({ direction: "in", method: "INVITE" })
    .filter((e) => e.kind === "request" && !e.retransmission && e.raw.startsWith(`INVITE sip:${user}@`));
}

/**
 * Over UDP and over TLS: for TLS a `transport=tls` account (libre 1.1
 * refuses a sips: account, "SIP register failed: Function not implemented",
 * and baresip 1.0 dials "sips:x@h" as "sip:sips:x@h"), so sips: is not
 * covered here. baresip 1.0 has no sip_verify_server, and libre 1.1 does not
 * verify the server's certificate at all (it registers without sip_cafile
 * too); sip_cafile names the mock's self-signed certificate anyway, as a
 * verifying client would need.
 */
for (const transport of ["udp", "tls"] as const) {
  const tls = transport === "tls";
  const TP = transport.toUpperCase();
  describe(`baresip against sipmock over ${TP}`, () => {
    let mock: SipMock;
    let port: number;
    let dir: string;
    let phone: Baresip;
    /** What baresip adds to URIs of a TLS account; a UDP account's URIs are left as dialled. */
    const tp = () => (tls ? `;transport=tls` : "");

    /** Every entry went over this transport's listener with a top Via of SIP/2.0/<transport>. */
    function expectOverTransport(entries: readonly JournalEntry[]): void {
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.map((e) => `${e.transport} ${header(e, "Via")[0]?.split(" ")[0]}`)).toEqual(
        entries.map(() => `${transport} SIP/2.0/${TP}`),
      );
    }

    beforeAll(async () => {
      mock = await startSipMock({
        listen: [`${transport}:127.0.0.1:0`],
        logger: silentLogger,
        auth: { realm: "sipmock.test", users: { alice: "secret" } },
      });
      port = mock.address(transport).port;
      dir = mkdtempSync(join(tmpdir(), `sipmock-baresip-${transport}-`));
      const extra: string[] = [];
      if (tls) {
        if (!mock.tlsCertificate) throw new Error("the TLS mock exposes no certificate");
        writeFileSync(join(dir, "sipmock.pem"), mock.tlsCertificate);
        extra.push(`sip_cafile ${join(dir, "sipmock.pem")}`);
      }
      writeBaresipConfig(
        dir,
        `<sip:alice@127.0.0.1:${port};transport=${transport}>;auth_pass=secret;regint=60`,
        extra,
      );
      phone = await startBaresip(dir);
    });

    afterAll(async () => {
      try {
        await phone?.stop();
      } finally {
        phone?.kill();
        await mock?.close();
        if (dir) rmSync(dir, { recursive: true, force: true });
      }
    });

    it(`registers over ${TP} through a 401 digest challenge`, async () => {
      await phone.waitFor(/All 1 useragent registered successfully/, 0);
      expect(phone.output).toMatch(
        new RegExp(`alice@127\\.0\\.0\\.1: \\{0/${TP}/v4\\} 200 OK \\(sipmock/[^)]*\\) \\[1 binding\\]`),
      );

      const registers = mock.journal.entries({ method: "REGISTER" }).filter((e) => !e.retransmission);
      expect(registers.map((e) => `${e.direction} ${e.method ?? e.status}`)).toEqual([
        "in REGISTER",
        "out 401",
        "in REGISTER",
        "out 200",
      ]);
      expectOverTransport(registers);
      const [first, challenge, second, ok] = registers as [
        JournalEntry,
        JournalEntry,
        JournalEntry,
        JournalEntry,
      ];
      if (tls)
        expect(first.raw.split("\r\n")[0]).toBe(`REGISTER sip:127.0.0.1:${port};transport=tls SIP/2.0`);
      expect(header(first, "Authorization")).toEqual([]);
      expect(header(challenge, "WWW-Authenticate")).toEqual([
        expect.stringMatching(/^Digest realm="sipmock\.test", nonce="[^"]+", .*algorithm=MD5, qop="auth"$/),
      ]);
      const nonce = /nonce="([^"]+)"/.exec(header(challenge, "WWW-Authenticate")[0]!)![1]!;
      const [credentials] = header(second, "Authorization");
      expect(credentials).toMatch(/^Digest username="alice", realm="sipmock\.test"/);
      expect(credentials).toContain(`nonce="${nonce}"`);
      expect(credentials).toMatch(/qop=auth, nc=00000001/);
      if (tls) expect(credentials).toContain(`uri="sip:127.0.0.1:${port};transport=tls"`);
      expect(second.callId).toBe(first.callId);
      expect(header(ok, "Contact")[0]).toMatch(
        new RegExp(`^<sip:alice-[^@>]*@127\\.0\\.0\\.1:\\d+${tp()}>;expires=\\d+`),
      );

      const binding = mock.registrations().find((r) => r.aor.includes("alice@127.0.0.1"));
      expect(binding?.contacts).toEqual([
        {
          uri: expect.stringMatching(new RegExp(`^sip:alice-[^@]*@127\\.0\\.0\\.1:\\d+${tp()}$`)),
          expires: expect.any(Number),
        },
      ]);
    });

    it(`a call to sip:486@ over ${TP} is challenged, then gets 486 Busy Here, ACKed, and baresip reports it`, async () => {
      const mark = phone.output.length;
      // A TLS account's transport=tls is added to the dialled URI by baresip.
      phone.send(`dial sip:486@127.0.0.1:${port}`);
      await phone.waitFor(
        tls
          ? new RegExp(`sip:486@127\\.0\\.0\\.1:${port};transport=tls: session closed: 486 Busy Here`)
          : /session closed: 486 Busy Here/,
        mark,
      );

      const callId = (await until(mock, "no INVITE to sip:486@", () => invitesTo(mock, "486")[0])).callId!;
      // Both ACKs (for the 401 and the 486) are in once the flow is complete.
      await until(
        mock,
        "the call's flow was not complete",
        () => flowOf(mock, callId).length >= 7 || undefined,
      );
      expect(flowOf(mock, callId)).toEqual([
        "in INVITE",
        "out 401 Unauthorized",
        "in ACK",
        "in INVITE",
        "out 100 Trying",
        "out 486 Busy Here",
        "in ACK",
      ]);
      expectOverTransport(mock.journal.entries({ callId }));
      const [unauthenticated, authenticated] = invitesTo(mock, "486") as [JournalEntry, JournalEntry];
      if (tls) {
        expect(authenticated.raw.split("\r\n")[0]).toBe(
          `INVITE sip:486@127.0.0.1:${port};transport=tls SIP/2.0`,
        );
      }
      expect(header(unauthenticated, "Authorization")).toEqual([]);
      expect(header(authenticated, "Authorization")[0]).toMatch(
        new RegExp(
          `^Digest username="alice", realm="sipmock\\.test", .*uri="sip:486@127\\.0\\.0\\.1:${port}${tls ? ';transport=tls"' : ""}`,
        ),
      );
      // A new transaction: higher CSeq, other branch; the ACK of the 486 is in its transaction.
      expect(authenticated.transaction).not.toBe(unauthenticated.transaction);
      const busy = mock.journal.entries({ callId, status: 486 })[0]!;
      expect(busy.transaction).toBe(authenticated.transaction);
      const acks = mock.journal.entries({ callId, method: "ACK", direction: "in" });
      expect(acks.map((a) => a.transaction)).toEqual([
        unauthenticated.transaction,
        authenticated.transaction,
      ]);
      expect(header(busy, "To")[0]).toMatch(/;tag=/);
      expect(mock.dialogs().some((d) => d.callId === callId)).toBe(false);
    });

    it(`an answered call over ${TP}: ACK and BYE follow the mock's Contact; baresip's hangup gets 200`, async () => {
      const mark = phone.output.length;
      phone.send(`dial sip:bob@127.0.0.1:${port}`);
      await phone.waitFor(
        tls
          ? new RegExp(`Call established: sip:bob@127\\.0\\.0\\.1:${port};transport=tls`)
          : /Call established: sip:bob@127\.0\.0\.1/,
        mark,
      );

      const callId = (await until(mock, "no INVITE to sip:bob@", () => invitesTo(mock, "bob")[0])).callId!;
      await until(mock, "the 200 OK was not ACKed", () =>
        mock.dialogs().find((d) => d.callId === callId && d.confirmed),
      );
      const answer = mock.journal.entries({ callId, status: 200, method: "INVITE" })[0]!;
      expect(header(answer, "Content-Type")).toEqual(["application/sdp"]);
      if (tls) expect(header(answer, "Contact")).toEqual([`<sip:sipmock@127.0.0.1:${port};transport=tls>`]);

      const hangup = phone.output.length;
      phone.send("hangup");
      await until(
        mock,
        "BYE was not answered",
        () => mock.journal.entries({ callId, method: "BYE", status: 200 })[0],
      );
      await phone.waitFor(
        tls
          ? new RegExp(`call: terminate call '[^']+' with sip:bob@127\\.0\\.0\\.1:${port};transport=tls`)
          : /call: terminate call '[^']+' with sip:bob@127\.0\.0\.1/,
        hangup,
      );
      expect(flowOf(mock, callId)).toEqual([
        "in INVITE",
        "out 401 Unauthorized",
        "in ACK",
        "in INVITE",
        "out 100 Trying",
        "out 180 Ringing",
        "out 200 OK",
        "in ACK",
        "in BYE",
        "out 200 OK",
      ]);
      expectOverTransport(mock.journal.entries({ callId }));
      if (tls) {
        // ACK of the 2xx and BYE go to the remote target the mock gave (RFC 3261 12.2.1.1).
        const ackOf200 = mock.journal.entries({ callId, method: "ACK", direction: "in" }).at(-1)!;
        const bye = mock.journal.entries({ callId, method: "BYE", direction: "in" })[0]!;
        expect([ackOf200, bye].map((e) => e.raw.split("\r\n")[0])).toEqual([
          `ACK sip:sipmock@127.0.0.1:${port};transport=tls SIP/2.0`,
          `BYE sip:sipmock@127.0.0.1:${port};transport=tls SIP/2.0`,
        ]);
      }
      expect(mock.dialogs().some((d) => d.callId === callId)).toBe(false);
    });

    it(`quitting unregisters over ${TP}: REGISTER with expires 0, through a fresh challenge, removes the binding`, async () => {
      const since = mock.journal.lastId;
      await phone.stop();
      await until(
        mock,
        "no 200 to the unregistering REGISTER",
        () => mock.journal.entries({ sinceId: since, method: "REGISTER", status: 200 })[0],
      );
      const registers = mock.journal
        .entries({ sinceId: since, method: "REGISTER" })
        .filter((e) => !e.retransmission);
      expect(registers.map((e) => `${e.direction} ${e.method ?? e.status}`)).toEqual([
        "in REGISTER",
        "out 401",
        "in REGISTER",
        "out 200",
      ]);
      expect(header(registers[2]!, "Contact")[0]).toMatch(
        new RegExp(`${tls ? ";transport=tls>" : ""};expires=0$`),
      );
      expect(header(registers[2]!, "Authorization")[0]).toMatch(/^Digest username="alice"/);
      expect(mock.registrations().find((r) => r.aor.includes("alice@127.0.0.1"))?.contacts ?? []).toEqual([]);
      if (!tls) return;
      const all = mock.journal.entries();
      expectOverTransport(all);
      // baresip opens one connection and keeps it; the mock answers on it, its
      // Via getting received= and rport= the connection's source port (RFC 3581).
      const peers = new Set(all.map((e) => `${e.remote.address}:${e.remote.port} ${e.local.port}`));
      expect([...peers]).toEqual([expect.stringMatching(new RegExp(`^127\\.0\\.0\\.1:\\d+ ${port}$`))]);
      const sourcePort = all[0]!.remote.port;
      for (const e of all.filter((x) => x.direction === "out")) {
        expect(header(e, "Via")[0]).toMatch(new RegExp(`;rport=${sourcePort};received=127\\.0\\.0\\.1$`));
      }
    });
  });
}
