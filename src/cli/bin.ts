#!/usr/bin/env node
/**
 * The `sipmock` executable: a server command runs in a child node with the
 * launcher's V8 flags (src/cli/launcher.ts); everything else, and the child
 * itself, runs the CLI (main.ts) in this process.
 */
import { followParent, relaunch, relaunchFlags } from "./launcher.js";

const flags = relaunchFlags(process.argv, process.execArgv, process.env);
if (flags) relaunch(flags);
else {
  followParent(process.env);
  await import("./main.js");
}
