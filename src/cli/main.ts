#!/usr/bin/env node
/** The `sipmock` command: commander wiring only. */
import { Command, CommanderError, Option } from "commander";
import { VERSION } from "../control/sipmock.js";
import { printCodes } from "./codes.js";
import {
  classOption,
  collect,
  headerOption,
  listenOption,
  logLevelOption,
  methodsOption,
  positiveIntOption,
  positiveMsOption,
  statusCodeOption,
} from "./options.js";
import { runServer, type ServeFlags } from "./serve.js";
import { runValidate } from "./validate.js";

function serverOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--listen <transport:host:port>",
        "where to listen, repeatable (default udp:0.0.0.0:5060 and tcp:0.0.0.0:5060)",
      ).argParser(listenOption),
    )
    .addOption(
      new Option("--log-level <level>", "error, warn, info or debug")
        .argParser(logLevelOption)
        .default("info"),
    )
    .option("--verbose", "print whole messages, not one line each")
    .addOption(new Option("--t1 <ms>", "RFC 3261 timer T1 (default 500)").argParser(positiveMsOption))
    .addOption(new Option("--t2 <ms>", "RFC 3261 timer T2 (default 4000)").argParser(positiveMsOption))
    .addOption(new Option("--t4 <ms>", "RFC 3261 timer T4 (default 5000)").argParser(positiveMsOption))
    .option("--force-rport", "answer UDP requests at their source port even without rport (NAT-friendly)")
    .option("--advertise <host>", "address written in Contact when listening on 0.0.0.0")
    .option("--server-header <value>", 'Server header value ("" for none)')
    .addOption(
      new Option("--max-message-size <octets>", "larger requests get 513 (default 65535)").argParser(
        positiveIntOption,
      ),
    )
    .addOption(
      new Option("--ring-timeout <ms>", "how long sip:18x@ rings before 480 (default 180000)").argParser(
        positiveMsOption,
      ),
    )
    .addOption(
      new Option("--scenario <file>", "scenario YAML file, repeatable (rules merged in order)").argParser(
        collect,
      ),
    )
    .option("--watch", "reload the scenario files when they change (an invalid change is refused)");
}

export function buildProgram(): Command {
  const program = new Command()
    .name("sipmock")
    .description("A scriptable mock SIP server: every response code, correct on the wire.")
    .version(VERSION)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (str, write) => write(`${str.split("\n")[0]!.replace(/^error: /, "sipmock: ")}\n`),
    });

  serverOptions(program.command("serve"))
    .description(
      "listen and answer as the scenario says (default: the built-in dial-a-code, sip:486@host gets 486)",
    )
    .action(async (flags: ServeFlags) => runServer(flags));

  serverOptions(program.command("respond"))
    .description(
      "answer every matching request with CODE (INVITE by default); everything else gets the built-in behaviour",
    )
    .argument("<code>", "response code 100..699", statusCodeOption)
    .option("--reason <text>", "reason phrase (default: the catalogued one)")
    .addOption(
      new Option("--method <list>", "comma-separated methods the code applies to")
        .argParser(methodsOption)
        .default(["INVITE"], "INVITE"),
    )
    .addOption(
      new Option("--header <Name: value>", "header to add or replace, repeatable").argParser(headerOption),
    )
    .action(
      async (
        code: number,
        flags: ServeFlags & { reason?: string; method: string[]; header?: Array<[string, string]> },
      ) =>
        runServer(flags, {
          code,
          methods: flags.method,
          ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
          ...(flags.header ? { headers: flags.header } : {}),
        }),
    );

  program
    .command("validate")
    .description("check scenario files; every problem is printed as file:line:col: message (hint)")
    .argument("<files...>", "scenario YAML files")
    .action((files: string[]) => {
      process.exitCode = runValidate(files);
    });

  program
    .command("codes")
    .description("print the response-code catalogue")
    .addOption(new Option("--class <n>", "only codes of this class (1..6)").argParser(classOption))
    .option("--json", "JSON array for machines")
    .option("--markdown", "Markdown table (the README's catalogue)")
    .action((flags: { class?: number; json?: boolean; markdown?: boolean }) => printCodes(flags));
  return program;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; usage errors exit 2 (one line already printed).
      process.exit(e.exitCode === 0 ? 0 : 2);
    }
    process.stderr.write(`sipmock: ${(e as Error).message}\n`);
    process.exit(1);
  }
}

await main(process.argv);
