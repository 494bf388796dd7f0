/** Which command lines the `sipmock` executable runs in a child node, and with which flags. */
import { describe, expect, it } from "vitest";
import {
  CHILD_ENV,
  DEFAULT_NODE_FLAGS,
  freshSignals,
  REPEAT_WINDOW_MS,
  relaunchFlags,
} from "../../src/cli/launcher.js";

const argv = (...args: string[]) => ["/usr/bin/node", "/x/dist/cli/bin.js", ...args];

describe("relaunchFlags", () => {
  it("serve and respond run in a child with --single-threaded-gc", () => {
    expect(DEFAULT_NODE_FLAGS).toBe("--single-threaded-gc");
    expect(relaunchFlags(argv("serve"), [], {}, "linux")).toEqual(["--single-threaded-gc"]);
    expect(relaunchFlags(argv("respond", "486"), [], {}, "linux")).toEqual(["--single-threaded-gc"]);
    // The command is the first word that is not an option (sipmock's own, -V and -h, take no value).
    expect(relaunchFlags(argv("serve", "--listen", "udp:0.0.0.0:5060"), [], {}, "darwin")).toEqual([
      "--single-threaded-gc",
    ]);
    expect(relaunchFlags(argv("-h", "respond"), [], {}, "linux")).toEqual(["--single-threaded-gc"]);
  });

  it("every other command runs in this process", () => {
    for (const args of [["codes"], ["validate", "serve"], ["ctl", "journal"], ["--version"], []])
      expect(relaunchFlags(argv(...args), [], {}, "linux"), args.join(" ")).toBeUndefined();
  });

  it("SIPMOCK_NODE_FLAGS replaces the flags; empty runs the server here", () => {
    const env = { SIPMOCK_NODE_FLAGS: " --single-threaded-gc  --heap-growing-percent=10 " };
    expect(relaunchFlags(argv("serve"), [], env, "linux")).toEqual([
      "--single-threaded-gc",
      "--heap-growing-percent=10",
    ]);
    expect(relaunchFlags(argv("serve"), [], { SIPMOCK_NODE_FLAGS: "" }, "linux")).toBeUndefined();
    expect(relaunchFlags(argv("serve"), [], { SIPMOCK_NODE_FLAGS: "  " }, "linux")).toBeUndefined();
  });

  it("not again: in the child, when node already has every flag, or on Windows", () => {
    expect(relaunchFlags(argv("serve"), [], { [CHILD_ENV]: "1234" }, "linux")).toBeUndefined();
    expect(relaunchFlags(argv("serve"), ["--single-threaded-gc"], {}, "linux")).toBeUndefined();
    expect(relaunchFlags(argv("serve"), [], {}, "win32")).toBeUndefined();
    // One flag of two missing: a child with both.
    const env = { SIPMOCK_NODE_FLAGS: "--single-threaded-gc --max-semi-space-size=32" };
    expect(relaunchFlags(argv("serve"), ["--single-threaded-gc"], env, "linux")).toEqual([
      "--single-threaded-gc",
      "--max-semi-space-size=32",
    ]);
  });

  it("a child takes the same signal again within the window as the same one; outside a launcher each counts", () => {
    let t = 0;
    const fresh = freshSignals({ [CHILD_ENV]: "42" }, () => t);
    expect(fresh("SIGTERM")).toBe(true);
    t = 3; // relayed by the launcher
    expect(fresh("SIGTERM")).toBe(false);
    expect(fresh("SIGINT")).toBe(true); // another signal
    t = REPEAT_WINDOW_MS - 1;
    expect(fresh("SIGTERM")).toBe(false);
    t = REPEAT_WINDOW_MS; // a deliberate second one: "stop now"
    expect(fresh("SIGTERM")).toBe(true);
    const alone = freshSignals({}, () => 0);
    expect([alone("SIGTERM"), alone("SIGTERM")]).toEqual([true, true]);
  });
});
