#!/usr/bin/env node
/** The `sipmock` command: commander wiring only. */
import { Command, CommanderError, Option } from "commander";
import { VERSION } from "../control/sipmock.js";
import type { RespondOptions } from "../scenario/builtin.js";
import { printCodes } from "./codes.js";
import { addCtl } from "./ctl-commands.js";
import { classOption, headerOption, methodsOption, scenarioLimits, statusCodeOption } from "./options.js";
import { type ReportFlags, runReport } from "./report.js";
import { printScenarios, type ScenariosFlags } from "./scenarios.js";
import { runServer, type ServeFlags } from "./serve.js";
import { serverOptions, withScenarioLimits } from "./server-options.js";
import { runValidate } from "./validate.js";

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

  addServe(program);
  addRespond(program);
  addValidate(program);
  addCtl(program);
  addScenarios(program);
  addReport(program);
  addCodes(program);
  return program;
}

/** `sipmock serve`. */
function addServe(program: Command): void {
  serverOptions(program.command("serve"))
    .description(
      "listen and answer as the scenario says (default: the built-in dial-a-code, sip:486@host gets 486)",
    )
    .action(async (flags: ServeFlags) => runServer(flags));
}

/** `sipmock respond CODE`: serve with one answer. */
function addRespond(program: Command): void {
  serverOptions(program.command("respond"))
    .description(
      "answer the --method requests (INVITE by default) with CODE; every other request gets the built-in UAS (registrar, OPTIONS 200, BYE...) without dial-a-code, or the --scenario files when given",
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
    .addOption(
      new Option("--media <action>", "RTP of the answered (or 183) calls: echo, silence or a tone").choices([
        "echo",
        "silence",
        "ringback",
        "busy",
        "1khz",
      ]),
    )
    .action(
      async (
        code: number,
        flags: ServeFlags & {
          reason?: string;
          method: string[];
          header?: Array<[string, string]>;
          media?: RespondOptions["media"];
        },
      ) =>
        runServer(flags, {
          code,
          methods: flags.method,
          ...(flags.reason !== undefined ? { reason: flags.reason } : {}),
          ...(flags.header ? { headers: flags.header } : {}),
          ...(flags.media ? { media: flags.media } : {}),
        }),
    );
}

/** `sipmock validate FILES...`. */
function addValidate(program: Command): void {
  withScenarioLimits(program.command("validate"))
    .description("check scenario files; every problem is printed as file:line:col: message; fix: hint")
    .argument("<files...>", "scenario YAML files or bundled names")
    .action((files: string[], flags: { maxScenarioSize?: number; maxRules?: number }) => {
      process.exitCode = runValidate(files, scenarioLimits(flags));
    });
}

/** `sipmock scenarios [NAME]`. */
function addScenarios(program: Command): void {
  program
    .command("scenarios")
    .description("list the bundled scenarios --scenario NAME takes, one line each (or only NAME)")
    .argument("[name]", "only this scenario")
    .option(
      "--path",
      'print the files\' paths instead of descriptions (cp "$(sipmock scenarios --path busy)" my.yaml)',
    )
    .option("--json", "JSON array of { name, file, description }")
    .action((name: string | undefined, flags: ScenariosFlags) => {
      process.exitCode = printScenarios(name, flags);
    });
}

/** `sipmock report JOURNAL`. */
function addReport(program: Command): void {
  program
    .command("report")
    .description(
      "turn a JSONL journal (serve --journal) into one self-contained HTML report with ladder diagrams",
    )
    .argument("<journal.jsonl>", "the file serve --journal wrote")
    .option("-o, --output <file.html>", "where to write the report", "report.html")
    .action(async (input: string, flags: ReportFlags) => {
      process.exitCode = await runReport(input, flags);
    });
}

/** `sipmock codes`. */
function addCodes(program: Command): void {
  program
    .command("codes")
    .description("print the response-code catalogue")
    .addOption(new Option("--class <n>", "only codes of this class (1..6)").argParser(classOption))
    .option("--json", "JSON array for machines")
    .option("--markdown", "Markdown table (the README's catalogue)")
    .action((flags: { class?: number; json?: boolean; markdown?: boolean }) => printCodes(flags));
}

export async function main(argv: string[]): Promise<void> {
  // `sipmock ctl journal | head -1`: the reader has gone, so has the point of writing.
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0);
    throw e;
  });
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
