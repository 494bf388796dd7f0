/** The flags of `sipmock serve` and `sipmock respond` (and validate's scenario limits), by group. */
import { type Command, Option } from "commander";
import { DEFAULT_MAX_RULES, DEFAULT_MAX_SCENARIO_BYTES } from "../scenario/bounds.js";
import { limitOptions } from "./limit-options.js";
import {
  adminOption,
  authAlgorithmOption,
  authOption,
  collect,
  durationOption,
  listenOption,
  logLevelOption,
  nonNegativeIntOption,
  portOption,
  portRangeOption,
  positiveIntOption,
  positiveMsOption,
} from "./options.js";

/** --max-scenario-size and --max-rules, for serve, respond and validate. */
export function withScenarioLimits(cmd: Command): Command {
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
export function serverOptions(cmd: Command): Command {
  return limitOptions(baseServerOptions(cmd));
}

/** The server's flags, in the order --help lists them. */
function baseServerOptions(cmd: Command): Command {
  return [
    sipOptions,
    mediaOptions,
    scenarioOptions,
    authAndRegistrarOptions,
    tlsOptions,
    adminOptions,
    captureOptions,
    lifecycleOptions,
  ].reduce((c, group) => group(c), withScenarioLimits(cmd));
}

/** Transport and the SIP stack: where to listen, logging, RFC 3261 timers, addresses, sizes. */
function sipOptions(cmd: Command): Command {
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
    );
}

/** RTP: ports, symmetric RTP, the inactivity hang-up. */
function mediaOptions(cmd: Command): Command {
  return cmd
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
    );
}

/** What answers: ringing, the scenario files and their reloading. */
function scenarioOptions(cmd: Command): Command {
  return cmd
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
    );
}

/** Digest authentication, the registrar and session timers. */
function authAndRegistrarOptions(cmd: Command): Command {
  return cmd
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
    .option("--auth-proxy", "challenge as a proxy: 407 with Proxy-Authenticate");
}

/** TLS and WSS: the certificate. */
function tlsOptions(cmd: Command): Command {
  return cmd
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
    );
}

/** The admin HTTP API. */
function adminOptions(cmd: Command): Command {
  return cmd
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
    );
}

/** Journal, report and pcap captures. */
function captureOptions(cmd: Command): Command {
  return cmd
    .option("--journal <file.jsonl>", "append every message to this JSONL file")
    .option(
      "--report <file.html>",
      "at exit, write the journal as one self-contained HTML report (ladder diagrams; with expectations, their verdicts at the top)",
    )
    .option("--pcap <file.pcap>", "write every message to this pcap file (Wireshark, tshark, sngrep)")
    .option("--pcap-rtp", "with --pcap: the calls' RTP and RTCP too (Wireshark's RTP player plays them)");
}

/** Shutdown, keep-alives and the CI verdict. */
function lifecycleOptions(cmd: Command): Command {
  return cmd
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
