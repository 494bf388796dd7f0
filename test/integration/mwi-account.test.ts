/**
 * RFC 3842 Message-Account: one rule for a subscription's NOTIFYs and the
 * unsolicited ones of `sipmock ctl mwi`: the user's AOR as registered
 * (sip:user@domain of its REGISTER's To), else the AOR its SUBSCRIBE named.
 * Driven against the real CLI and its admin API.
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BIN, ROOT, start, waitForOutput } from "../helpers/cli.js";
import { type Received, request, responseTo, statusOf, udpClient } from "../helpers/wire-client.js";

function ctl(admin: string, args: string[]): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, "ctl", "--admin", admin, ...args], { cwd: ROOT });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const timer = setTimeout(() => child.kill(), 10_000);
    child.on("exit", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout });
    });
  });
}

const account = (m: Received) =>
  /\r\nMessage-Account: ([^\r]*)\r\n/.exec(m.text.split("\r\n\r\n")[1] ?? "")?.[1];
const isNotify = (m: Received) => m.text.startsWith("NOTIFY ");

describe("message-summary Message-Account", () => {
  it("is the AOR as registered in the subscription's NOTIFYs and in ctl mwi; the subscribed AOR without a registration", async () => {
    const s = await start(["serve", "--listen", "udp:127.0.0.1:0", "--admin", "0"]);
    await waitForOutput(s.output, /admin API on http:\/\/127\.0\.0\.1:\d+/);
    const admin = /admin API on (http:\/\/127\.0\.0\.1:\d+)/.exec(s.output())![1]!;
    const target = { host: "127.0.0.1", port: s.port };
    const c = await udpClient(target);
    const seen = new Set<Received>();
    const nextNotify = async () => {
      const n = await c.waitFor((m) => isNotify(m) && !seen.has(m));
      seen.add(n);
      await c.send(responseTo(n, 200, "OK", { toTag: `t${seen.size}` }));
      return n;
    };
    try {
      const register = async (user: string) => {
        await c.send(
          request("REGISTER", user, target, {
            localPort: c.port,
            extra: [`Contact: <sip:${user}@127.0.0.1:${c.port}>`, "Expires: 600"],
          }).replace(/\r\nTo: [^\r]*/, `\r\nTo: <sip:${user}@voicemail.example>`),
        );
        await c.waitFor((m) => statusOf(m) === 200 && m.text.includes(`sip:${user}@voicemail.example`));
      };
      const subscribe = async (user: string) => {
        await c.send(
          request("SUBSCRIBE", user, target, {
            localPort: c.port,
            extra: ["Event: message-summary", "Expires: 600", `Contact: <sip:${user}@127.0.0.1:${c.port}>`],
          }).replace(/\r\nTo: [^\r]*/, `\r\nTo: <sip:${user}@127.0.0.1:${s.port}>`),
        );
        return nextNotify();
      };

      // Registered in voicemail.example, subscribed at the mock's address: the registered AOR, both ways.
      await register("ann");
      expect(account(await subscribe("ann"))).toBe("sip:ann@voicemail.example");
      const inSub = ctl(admin, ["mwi", "ann", "yes", "--new", "1"]);
      expect(account(await nextNotify())).toBe("sip:ann@voicemail.example");
      expect((await inSub).status).toBe(0);

      // Registered, never subscribed: the unsolicited NOTIFY says the same.
      await register("cat");
      const unsolicited = ctl(admin, ["mwi", "cat", "yes"]);
      expect(account(await nextNotify())).toBe("sip:cat@voicemail.example");
      expect((await unsolicited).status).toBe(0);

      // Subscribed, never registered: the AOR the SUBSCRIBE named (To, without port), in both NOTIFYs.
      expect(account(await subscribe("ben"))).toBe("sip:ben@127.0.0.1");
      const ben = ctl(admin, ["mwi", "ben", "no"]);
      expect(account(await nextNotify())).toBe("sip:ben@127.0.0.1");
      expect((await ben).status).toBe(0);
    } finally {
      await c.close();
      const exit = new Promise((r) => s.child.on("exit", r));
      s.child.kill("SIGTERM");
      await exit;
    }
  });
});
