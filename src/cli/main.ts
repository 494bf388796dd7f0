#!/usr/bin/env node
/** The `sipmock` command: commander wiring only. */
import { Argument, Command, CommanderError, Option } from "commander";
import { VERSION } from "../control/sipmock.js";
import { DEFAULT_MAX_RULES, DEFAULT_MAX_SCENARIO_BYTES } from "../scenario/bounds.js";
import type { RespondOptions } from "../scenario/builtin.js";
import { printCodes } from "./codes.js";
import {
  type CtlFlags,
  ctlDialogs,
  ctlJournal,
  ctlMedia,
  ctlOverrides,
  ctlRegistrations,
  ctlReset,
  ctlRespond,
  ctlScenario,
  ctlSend,
} from "./ctl.js";
import { limitOptions } from "./limit-options.js";
import {
  adminOption,
  authAlgorithmOption,
  authOption,
  classOption,
  collect,
  durationOption,
  headerOption,
  listenOption,
  logLevelOption,
  methodsOption,
  nonNegativeIntOption,
  portOption,
  portRangeOption,
  positiveIntOption,
  positiveMsOption,
  scenarioLimits,
  statusCodeOption,
} from "./options.js";
import { type ReportFlags, runReport } from "./report.js";
import { printScenarios, type ScenariosFlags } from "./scenarios.js";
import { runServer, type ServeFlags } from "./serve.js";
import { runValidate } from "./validate.js";

/** --max-scenario-size and --max-rules, for serve, respond and validate. */
function withScenarioLimits(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--max-scenario-size <octets>",
        `largest scenario file or admin PUT (default ${DEFAULT_MAX_SCENARIO_BYTES})`,
      ).argParser(positiveIntOption),
    )
    .addOption(
      new Option("--max-rules <n>", `most rules in a scenario (default ${DEFAULT_MAX_RULES})`).argParser(
        positiveIntOption,
      ),
    );
}

/** Every `serve`/`respond` flag: the server's, then those of "Limits and hardening". */
function serverOptions(cmd: Command): Command {
  return limitOptions(baseServerOptions(cmd));
}

function baseServerOptions(cmd: Command): Command {
  return withScenarioLimits(cmd)
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
      new Option(
        "--media-port <port>",
        "signalling only (deprecated, use --rtp-ports): the SDP names this RTP port and the mock opens no RTP socket",
      ).argParser(portOption),
    )
    .addOption(
      new Option(
        "--rtp-ports <from-to>",
        "RTP/RTCP port range of the calls' media, e.g. 20000-20999 (default: ephemeral ports)",
      ).argParser(portRangeOption),
    )
    .option(
      "--symmetric-rtp",
      "send RTP to where the peer's RTP comes from (NAT), not only to its SDP address",
    )
    .addOption(
      new Option(
        "--rtp-inactivity-timeout <duration>",
        'hang up an answered call (BYE) that received no RTP/RTCP for this long ("60s" default; 0: never)',
      ).argParser(durationOption),
    )
    .addOption(
      new Option("--ring-timeout <ms>", "how long sip:18x@ rings before 480 (default 180000)").argParser(
        positiveMsOption,
      ),
    )
    .addOption(
      new Option(
        "--scenario <file-or-name>",
        "scenario YAML file or bundled name (sipmock scenarios), repeatable (rules merged in order)",
      ).argParser(collect),
    )
    .option(
      "--watch",
      "with --scenario: reload the files on every save (an invalid one is refused, the previous scenario stays)",
    )
    .addOption(
      new Option(
        "--auth <user:password>",
        "require Digest authentication (REGISTER, INVITE), repeatable",
      ).argParser(authOption),
    )
    .option("--realm <realm>", "Digest realm (default sipmock)")
    .addOption(
      new Option(
        "--auth-algorithm <list>",
        "Digest challenges offered with --auth, in order (default MD5), e.g. SHA-256,MD5",
      ).argParser(authAlgorithmOption),
    )
    .addOption(
      new Option("--min-expires <s>", "registrar: shorter registrations get 423 (default 60)").argParser(
        positiveIntOption,
      ),
    )
    .addOption(
      new Option(
        "--min-se <s>",
        "session timers: a shorter Session-Expires gets 422 with Min-SE (default 90, RFC 4028)",
      ).argParser(positiveIntOption),
    )
    .addOption(
      new Option("--max-expires <s>", "registrar: longer ones are cut to this (default 86400)").argParser(
        positiveIntOption,
      ),
    )
    .addOption(
      new Option(
        "--max-bindings <n>",
        "registrar: contacts kept per AOR, oldest dropped (default 10)",
      ).argParser(positiveIntOption),
    )
    .option("--auth-proxy", "challenge as a proxy: 407 with Proxy-Authenticate")
    .option("--cert <file.pem>", "TLS/WSS certificate (default: a self-signed one made at start)")
    .option("--key <file.pem>", "its private key")
    .addOption(
      new Option(
        "--tls-host <name>",
        "host name or address for the self-signed certificate, repeatable",
      ).argParser(collect),
    )
    .addOption(
      new Option("--tls-max-version <v>", "highest TLS version offered")
        .choices(["1.2", "1.3"])
        .default("1.3"),
    )
    .addOption(
      new Option(
        "--admin <[host:]port>",
        "serve the admin HTTP API (loopback unless a host is given)",
      ).argParser(adminOption),
    )
    .addOption(
      new Option("--admin-token <token>", "require Authorization: Bearer TOKEN on the admin API").env(
        "SIPMOCK_ADMIN_TOKEN",
      ),
    )
    .option(
      "--admin-insecure",
      "allow --admin on a non-loopback address without --admin-token (anyone who reaches it controls the mock)",
    )
    .option("--journal <file.jsonl>", "append every message to this JSONL file")
    .option(
      "--report <file.html>",
      "at exit, write the journal as one self-contained HTML report (ladder diagrams; with expectations, their verdicts at the top)",
    )
    .option("--pcap <file.pcap>", "write every message to this pcap file (Wireshark, tshark, sngrep)")
    .option("--pcap-rtp", "with --pcap: the calls' RTP and RTCP too (Wireshark's RTP player plays them)")
    .addOption(
      new Option("--drain-timeout <ms>", "on SIGINT/SIGTERM, how long transactions in flight may finish")
        .argParser(nonNegativeIntOption)
        .default(2000),
    )
    .addOption(
      new Option(
        "--ping-interval <duration>",
        'send OPTIONS to every registered contact this often ("30s"), a keep-alive whose answers the journal shows',
      ).argParser(durationOption),
    )
    .option("--until-expectations", "exit 0 once the scenario's expectations hold, 1 at --timeout")
    .addOption(
      new Option("--timeout <duration>", "with --until-expectations: how long to wait")
        .argParser(durationOption)
        .default(60_000, "60s"),
    )
    .option("--junit <file.xml>", "with --until-expectations: write the verdict as JUnit XML");
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

  withScenarioLimits(program.command("validate"))
    .description("check scenario files; every problem is printed as file:line:col: message; fix: hint")
    .argument("<files...>", "scenario YAML files or bundled names")
    .action((files: string[], flags: { maxScenarioSize?: number; maxRules?: number }) => {
      process.exitCode = runValidate(files, scenarioLimits(flags));
    });

  const ctl = program
    .command("ctl")
    .description("control a running server through its admin API (serve --admin PORT)")
    .addOption(
      new Option("--admin <url>", "the admin API").env("SIPMOCK_ADMIN_URL").default("http://127.0.0.1:8080"),
    )
    .addOption(
      new Option("--token <token>", "bearer token (serve --admin-token)").env("SIPMOCK_ADMIN_TOKEN"),
    );
  const ctlFlags = (): CtlFlags => {
    const o = ctl.opts<{ admin: string; token?: string }>();
    return { admin: o.admin, ...(o.token ? { token: o.token } : {}) };
  };
  ctl
    .command("respond")
    .description("answer matching requests with CODE from now on (an override in front of the scenario)")
    .argument("<code>", "response code 100..699", statusCodeOption)
    .addOption(new Option("--times <n>", "only for the next N requests").argParser(positiveIntOption))
    .addOption(
      new Option("--method <list>", "comma-separated methods")
        .argParser(methodsOption)
        .default(["INVITE"], "INVITE"),
    )
    .option("--reason <text>", "reason phrase")
    .addOption(new Option("--header <Name: value>", "header to add, repeatable").argParser(headerOption))
    .action(
      (
        code: number,
        o: { times?: number; method: string[]; reason?: string; header?: Array<[string, string]> },
      ) => ctlRespond(ctlFlags(), code, o),
    );
  ctl
    .command("journal")
    .description("print the journal; --follow keeps printing new messages")
    .option("--follow", "keep printing as messages arrive")
    .option("--method <method>", "only this method (requests and their responses)")
    .option("--call-id <id>", "only this call")
    .option("--json", "one JSON object per line")
    .action((o: { follow?: boolean; method?: string; callId?: string; json?: boolean }) =>
      ctlJournal(ctlFlags(), o),
    );
  ctl
    .command("reset")
    .description("clear the journal, remove overrides, reset the scenario state")
    .action(() => ctlReset(ctlFlags()));
  ctl
    .command("scenario")
    .description(
      "replace the running scenario with FILE or a bundled NAME (validated; the old one stays if it is invalid)",
    )
    .argument("<file>", "scenario YAML file or bundled name")
    .action((file: string) => ctlScenario(ctlFlags(), file));
  ctl
    .command("overrides")
    .description("list the overrides (--clear removes them)")
    .option("--clear", "remove every override")
    .action((o: { clear?: boolean }) => ctlOverrides(ctlFlags(), o.clear === true));
  ctl
    .command("dialogs")
    .description("list the dialogs alive (the Call-IDs hold, resume, update and bye take)")
    .action(() => ctlDialogs(ctlFlags()));
  ctl
    .command("registrations")
    .description("list the registered addresses-of-record and their contacts")
    .action(() => ctlRegistrations(ctlFlags()));
  ctl
    .command("bye")
    .description("the mock hangs up: BYE in every dialog of the call")
    .argument("<call-id>")
    .action((callId: string) => ctlSend(ctlFlags(), "bye", callId));
  ctl
    .command("dtmf")
    .description("the mock sends DTMF digits in the call's RTP (RFC 4733 telephone-events)")
    .argument("<call-id>")
    .argument("<digits>", "0-9, *, #, A-D, e.g. 123#")
    .action((callId: string, digits: string) => ctlSend(ctlFlags(), "dtmf", callId, { digits }));
  ctl
    .command("media")
    .description("DTMF digits received and RTP packets each way, per call (or one call)")
    .argument("[call-id]")
    .action((callId?: string) => ctlMedia(ctlFlags(), callId));
  ctl
    .command("hold")
    .description("the mock puts the peer on hold: re-INVITE with a=sendonly (--inactive: a=inactive)")
    .argument("<call-id>")
    .option("--inactive", "offer a=inactive instead of a=sendonly")
    .action((callId: string, o: { inactive?: boolean }) =>
      ctlSend(ctlFlags(), "reinvite", callId, { direction: o.inactive ? "inactive" : "sendonly" }),
    );
  ctl
    .command("resume")
    .description("the mock takes the call off hold: re-INVITE with a=sendrecv")
    .argument("<call-id>")
    .action((callId: string) => ctlSend(ctlFlags(), "reinvite", callId, { direction: "sendrecv" }));
  ctl
    .command("reinvite")
    .description("the mock sends a re-INVITE with a new offer: a direction and/or other codecs")
    .argument("<call-id>")
    .addOption(
      new Option("--direction <d>", "a= direction of the offer")
        .choices(["sendrecv", "sendonly", "recvonly", "inactive"])
        .default("sendrecv"),
    )
    .addOption(
      new Option("--codecs <list>", "codecs offered, in order: PCMU,PCMA,G722,opus").argParser((v: string) =>
        v
          .split(",")
          .map((c) => c.trim())
          .filter(Boolean),
      ),
    )
    .action((callId: string, o: { direction: string; codecs?: string[] }) =>
      ctlSend(ctlFlags(), "reinvite", callId, {
        direction: o.direction,
        ...(o.codecs ? { codecs: o.codecs } : {}),
      }),
    );
  ctl
    .command("update")
    .description("the mock sends UPDATE (RFC 3311) in the call")
    .argument("<call-id>")
    .action((callId: string) => ctlSend(ctlFlags(), "update", callId));
  ctl
    .command("call")
    .description("the mock calls a registered client (INVITE to its Contact)")
    .argument("<aor>", "sip:user@domain or a user name")
    .option("--from <user-or-uri>", "From (default sip:sipmock@<address>)")
    .option("--cancel-after <duration>", 'CANCEL when unanswered after this ("10s")')
    .option("--hang-up-after <duration>", 'BYE this long after the answer ("30s")')
    .action((aor: string, o: { from?: string; cancelAfter?: string; hangUpAfter?: string }) =>
      ctlSend(ctlFlags(), "call", aor, {
        ...(o.from ? { from: o.from } : {}),
        ...(o.cancelAfter ? { cancelAfter: o.cancelAfter } : {}),
        ...(o.hangUpAfter ? { hangUpAfter: o.hangUpAfter } : {}),
      }),
    );
  ctl
    .command("mwi")
    .description("message waiting (RFC 3842): NOTIFY message-summary to a user")
    .argument("<aor>", "sip:user@domain or a user name")
    .addArgument(new Argument("<waiting>", "Messages-Waiting").choices(["yes", "no"]))
    .addOption(new Option("--new <n>", "new voice messages").argParser(nonNegativeIntOption))
    .addOption(new Option("--old <n>", "old voice messages").argParser(nonNegativeIntOption))
    .action((aor: string, waiting: string, o: { new?: number; old?: number }) =>
      ctlSend(ctlFlags(), "notify", aor, {
        waiting: waiting === "yes",
        ...(o.new !== undefined ? { new: o.new } : {}),
        ...(o.old !== undefined ? { old: o.old } : {}),
      }),
    );
  ctl
    .command("ping")
    .description("OPTIONS to every registered contact of a user")
    .argument("<aor>", "sip:user@domain or a user name")
    .action((aor: string) => ctlSend(ctlFlags(), "options", aor));

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
