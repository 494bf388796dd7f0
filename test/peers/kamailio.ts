/**
 * Kamailio (Debian package kamailio) as a stateful proxy in front of the
 * mock: a kamailio.cfg written at run time that listens on UDP and TCP at
 * one loopback port, relays every request outside a dialog to the mock
 * (REGISTER included, so a phone registers *through* it) over the transport
 * the test picks, record-routes INVITEs (double Record-Route when the two
 * legs differ in transport, rr enable_double_rr) and loose-routes requests
 * within a dialog. Run in the foreground (-DD -E) in its own process group,
 * bounded in life, and restartable on the same port (a proxy restart).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createSocket } from "node:dgram";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface KamailioOptions {
  /** Where requests outside a dialog go: the mock's address and the transport of that leg. */
  readonly next: { readonly host: string; readonly port: number; readonly transport: "udp" | "tcp" };
  /** Add a Path (RFC 3327, path module add_path()) to every REGISTER it relays. */
  readonly path?: boolean;
  /** Record-Route INVITEs (default true); without, a dialog's requests go end to end. */
  readonly recordRoute?: boolean;
  /** Hard bound on each run of the process. Default 60 s. */
  readonly lifetimeMs?: number;
}

export interface Kamailio {
  /** The loopback port it listens on, UDP and TCP. */
  readonly port: number;
  /** Everything it wrote to stderr (its log), for assertion messages. */
  log(): string;
  /** Kills it (SIGKILL to its process group: its connections die with it) and starts it again on the same port. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

const PATH_MODULE = 'loadmodule "path.so"\n';
const ADD_PATH = '  if (is_method("REGISTER")) add_path();\n';

export function kamailioConfig(
  port: number,
  next: KamailioOptions["next"],
  path = false,
  recordRoute = true,
): string {
  const rr = recordRoute ? 'if (is_method("INVITE")) record_route();' : "# no record_route()";
  return `#!KAMAILIO
debug=2
log_stderror=yes
children=2
tcp_children=2
auto_aliases=no
dns=no
rev_dns=no
listen=udp:127.0.0.1:${port}
listen=tcp:127.0.0.1:${port}
loadmodule "tm.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "siputils.so"
loadmodule "textops.so"
${path ? PATH_MODULE : ""}modparam("rr", "enable_double_rr", 1)

request_route {
  if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
  if (has_totag()) {
    if (loose_route()) { t_relay(); exit; }
    if (is_method("ACK")) { if (t_check_trans()) t_relay(); exit; }
    sl_send_reply("404", "Not here");
    exit;
  }
  if (is_method("CANCEL")) { if (t_check_trans()) t_relay(); exit; }
  # Along a Path: the mock's request with this proxy as its preloaded Route goes to its Request-URI.
  if (is_present_hf("Route")) {
    remove_hf("Route");
    ${rr}
    t_relay();
    exit;
  }
  ${rr}
${path ? ADD_PATH : ""}  $du = "sip:${next.host}:${next.port};transport=${next.transport}";
  if (!t_relay()) sl_reply_error();
  exit;
}
`;
}

/** A loopback port free for both UDP and TCP right now (Kamailio cannot take port 0). */
export async function freeUdpTcpPort(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const server = createServer();
    const port = await new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(0, "127.0.0.1", () => {
        const a = server.address();
        resolve(typeof a === "object" && a ? a.port : 0);
      });
    });
    const udp = createSocket("udp4");
    const free = await new Promise<boolean>((resolve) => {
      udp.once("error", () => resolve(false));
      udp.bind(port, "127.0.0.1", () => resolve(true));
    });
    await new Promise<void>((r) => server.close(() => r()));
    if (free) {
      await new Promise<void>((r) => udp.close(() => r()));
      return port;
    }
    udp.close();
  }
  throw new Error("no loopback port free for both UDP and TCP");
}

/** Resolves once something accepts TCP connections on the port. */
async function untilListening(port: number, child: ChildProcess, timeoutMs: number, log: () => string) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`kamailio exited before listening: ${log().slice(-2000)}`);
    }
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect({ host: "127.0.0.1", port }, () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`kamailio did not listen on ${port}: ${log().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export async function startKamailio(options: KamailioOptions): Promise<Kamailio> {
  const dir = mkdtempSync(join(tmpdir(), "sipmock-kamailio-"));
  const port = await freeUdpTcpPort();
  const cfg = join(dir, "kamailio.cfg");
  writeFileSync(cfg, kamailioConfig(port, options.next, options.path, options.recordRoute));
  let stderr = "";
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let killer: NodeJS.Timeout | undefined;
  let runs = 0;

  const kill = async () => {
    const c = child;
    if (!c?.pid || c.exitCode !== null || c.signalCode !== null) return;
    try {
      // Its own process group: the main process and every child it forked.
      process.kill(-c.pid, "SIGKILL");
    } catch {}
    await exited;
    // Until the whole group is gone (and its sockets with it), so the port can be taken again.
    for (const end = Date.now() + 5000; Date.now() < end; ) {
      try {
        process.kill(-c.pid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const start = async () => {
    // Under timeout(1), so it ends even should this process die first.
    const lifetime = String(Math.ceil((options.lifetimeMs ?? 60_000) / 1000));
    const c = spawn(
      "timeout",
      [
        lifetime,
        "kamailio",
        ...[
          "-DD",
          "-E",
          "-f",
          cfg,
          "-w",
          dir,
          "-P",
          join(dir, `kamailio-${++runs}.pid`),
          "-Y",
          dir,
          "-m",
          "32",
          "-M",
          "8",
        ],
      ],
      { detached: true, stdio: ["ignore", "ignore", "pipe"] },
    );
    child = c;
    c.stderr?.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    exited = new Promise<void>((resolve) => c.once("exit", () => resolve()));
    const spawned = await new Promise<Error | undefined>((resolve) => {
      c.once("spawn", () => resolve(undefined));
      c.once("error", (e) => resolve(e));
    });
    if (spawned) throw new Error(`timeout(1) could not run: ${spawned.message}`);
    killer = setTimeout(() => void kill(), options.lifetimeMs ?? 60_000);
    killer.unref();
    await untilListening(port, c, 10_000, () =>
      c.exitCode === 127 ? "kamailio is not installed: apt-get install -y kamailio" : stderr,
    );
  };

  await start();
  return {
    port,
    log: () => stderr,
    async restart() {
      clearTimeout(killer);
      await kill();
      await start();
    },
    async stop() {
      clearTimeout(killer);
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
