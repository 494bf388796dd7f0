/**
 * baresip (Debian package baresip-core), a real softphone stack, run headless
 * through its stdio UI: long commands on stdin, events read from its output.
 * No sound card: the audio source is a sine generator (ausine), no player.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export const WAIT_MS = 5000;

export class Baresip {
  private text = "";
  private exited = false;
  readonly exit: Promise<number | null>;

  constructor(private readonly child: ChildProcessWithoutNullStreams) {
    this.exit = new Promise((resolve) =>
      child.once("exit", (code) => {
        this.exited = true;
        resolve(code);
      }),
    );
    const take = (d: string) => {
      this.text += d;
    };
    child.stdout.setEncoding("utf8").on("data", take);
    // A write after baresip has gone (EPIPE) must not crash the test process.
    child.stdin.on("error", () => {});
    child.stderr.setEncoding("utf8").on("data", take);
  }

  /** Everything baresip printed so far, colours removed. */
  get output(): string {
    return this.text.replace(/\x1b\[[0-9;]*m/g, "");
  }

  /** A long command of the stdio UI (/dial, /hangup, /quit). */
  send(command: string): void {
    this.child.stdin.write(`/${command}\n`);
  }

  /** Resolves with the first match of `re` printed after offset `from`. */
  async waitFor(re: RegExp, from: number, timeoutMs = WAIT_MS): Promise<RegExpExecArray> {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const m = re.exec(this.output.slice(from));
      if (m) return m;
      if (this.exited) throw new Error(`baresip exited before printing ${re}:\n${this.output}`);
      if (Date.now() > until)
        throw new Error(`baresip did not print ${re} within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Key presses of the stdio UI (in a call, 0-9 * # send DTMF digits). */
  keys(chars: string): void {
    this.child.stdin.write(chars);
  }

  /** /quit, then SIGKILL if it has not exited within the bound. */
  async stop(timeoutMs = WAIT_MS): Promise<void> {
    if (this.exited) return;
    this.child.stdin.end("/quit\n");
    const killer = setTimeout(() => this.child.kill("SIGKILL"), timeoutMs);
    await this.exit;
    clearTimeout(killer);
  }

  kill(): void {
    if (!this.exited) this.child.kill("SIGKILL");
  }
}

/** Where Debian's baresip-core puts the modules (the built-in default is "."). */
function moduleDir(): string {
  const dirs = ["/usr/lib/baresip/modules", "/usr/local/lib/baresip/modules"];
  return dirs.find((d) => existsSync(join(d, "stdio.so"))) ?? dirs[0]!;
}

/** Starts baresip with its own config directory and waits until it is running. */
export async function startBaresip(configDir: string): Promise<Baresip> {
  // -t: baresip quits by itself after a minute, should everything else fail.
  const child = spawn("baresip", ["-f", configDir, "-t", "60"], { stdio: "pipe" });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", (err) =>
      reject(
        new Error(`baresip could not run (${err.message}); install it: apt-get install -y baresip-core`),
      ),
    );
  });
  await spawned;
  const b = new Baresip(child);
  try {
    await b.waitFor(/baresip is ready\./, 0);
  } catch (err) {
    b.kill();
    throw err;
  }
  return b;
}

/** Writes baresip's config, accounts and contacts files into `dir`. */
export function writeBaresipConfig(dir: string, account: string, extra: readonly string[] = []): void {
  writeFileSync(
    join(dir, "config"),
    [
      "poll_method epoll",
      `module_path ${moduleDir()}`,
      "sip_listen 127.0.0.1:0",
      "net_interface 127.0.0.1",
      "call_local_timeout 10",
      ...extra,
      // No sound card: a sine source (48 kHz stereo only, resampled for G.711), no player.
      "audio_source ausine,440",
      "audio_player none,none",
      "audio_alert none,none",
      "ausrc_srate 48000",
      "ausrc_channels 2",
      "module stdio.so",
      "module g711.so",
      "module ausine.so",
      "module_tmp account.so",
      "module_app menu.so",
      "",
    ].join("\n"),
  );
  writeFileSync(join(dir, "accounts"), `${account}\n`);
  writeFileSync(join(dir, "contacts"), "");
}
