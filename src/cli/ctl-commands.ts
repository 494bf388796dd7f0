/** `sipmock ctl ...`: the admin API's client commands (commander wiring; the work is in ctl.ts). */
import { Argument, type Command, Option } from "commander";
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
import {
  headerOption,
  methodsOption,
  nonNegativeIntOption,
  positiveIntOption,
  statusCodeOption,
} from "./options.js";

/** `sipmock ctl` and its subcommands, in the order --help lists them. */
export function addCtl(program: Command): void {
  const ctl = program
    .command("ctl")
    .description("control a running server through its admin API (serve --admin PORT)")
    .addOption(
      new Option("--admin <url>", "the admin API").env("SIPMOCK_ADMIN_URL").default("http://127.0.0.1:8080"),
    )
    .addOption(
      new Option("--token <token>", "bearer token (serve --admin-token)").env("SIPMOCK_ADMIN_TOKEN"),
    );
  const flags = (): CtlFlags => {
    const o = ctl.opts<{ admin: string; token?: string }>();
    return { admin: o.admin, ...(o.token ? { token: o.token } : {}) };
  };
  stateCommands(ctl, flags);
  callCommands(ctl, flags);
  userCommands(ctl, flags);
}

/** Overrides, the journal, the scenario and what the mock holds. */
function stateCommands(ctl: Command, flags: () => CtlFlags): void {
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
      ) => ctlRespond(flags(), code, o),
    );
  ctl
    .command("journal")
    .description("print the journal; --follow keeps printing new messages")
    .option("--follow", "keep printing as messages arrive")
    .option("--method <method>", "only this method (requests and their responses)")
    .option("--call-id <id>", "only this call")
    .option("--json", "one JSON object per line")
    .action((o: { follow?: boolean; method?: string; callId?: string; json?: boolean }) =>
      ctlJournal(flags(), o),
    );
  ctl
    .command("reset")
    .description("clear the journal, remove overrides, reset the scenario state")
    .action(() => ctlReset(flags()));
  ctl
    .command("scenario")
    .description(
      "replace the running scenario with FILE or a bundled NAME (validated; the old one stays if it is invalid)",
    )
    .argument("<file>", "scenario YAML file or bundled name")
    .action((file: string) => ctlScenario(flags(), file));
  ctl
    .command("overrides")
    .description("list the overrides (--clear removes them)")
    .option("--clear", "remove every override")
    .action((o: { clear?: boolean }) => ctlOverrides(flags(), o.clear === true));
  ctl
    .command("dialogs")
    .description("list the dialogs alive (the Call-IDs hold, resume, update and bye take)")
    .action(() => ctlDialogs(flags()));
  ctl
    .command("registrations")
    .description("list the registered addresses-of-record and their contacts")
    .action(() => ctlRegistrations(flags()));
}

/** The mock acts in a call: hang up, DTMF, hold, re-INVITE, UPDATE; its media counters. */
function callCommands(ctl: Command, flags: () => CtlFlags): void {
  ctl
    .command("bye")
    .description("the mock hangs up: BYE in every dialog of the call")
    .argument("<call-id>")
    .action((callId: string) => ctlSend(flags(), "bye", callId));
  ctl
    .command("dtmf")
    .description("the mock sends DTMF digits in the call's RTP (RFC 4733 telephone-events)")
    .argument("<call-id>")
    .argument("<digits>", "0-9, *, #, A-D, e.g. 123#")
    .action((callId: string, digits: string) => ctlSend(flags(), "dtmf", callId, { digits }));
  ctl
    .command("media")
    .description("DTMF digits received and RTP packets each way, per call (or one call)")
    .argument("[call-id]")
    .action((callId?: string) => ctlMedia(flags(), callId));
  ctl
    .command("hold")
    .description("the mock puts the peer on hold: re-INVITE with a=sendonly (--inactive: a=inactive)")
    .argument("<call-id>")
    .option("--inactive", "offer a=inactive instead of a=sendonly")
    .action((callId: string, o: { inactive?: boolean }) =>
      ctlSend(flags(), "reinvite", callId, { direction: o.inactive ? "inactive" : "sendonly" }),
    );
  ctl
    .command("resume")
    .description("the mock takes the call off hold: re-INVITE with a=sendrecv")
    .argument("<call-id>")
    .action((callId: string) => ctlSend(flags(), "reinvite", callId, { direction: "sendrecv" }));
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
      ctlSend(flags(), "reinvite", callId, {
        direction: o.direction,
        ...(o.codecs ? { codecs: o.codecs } : {}),
      }),
    );
  ctl
    .command("update")
    .description("the mock sends UPDATE (RFC 3311) in the call")
    .argument("<call-id>")
    .action((callId: string) => ctlSend(flags(), "update", callId));
}

/** The mock reaches a registered user: a call, message waiting, OPTIONS. */
function userCommands(ctl: Command, flags: () => CtlFlags): void {
  ctl
    .command("call")
    .description("the mock calls a registered client (INVITE to its Contact)")
    .argument("<aor>", "sip:user@domain or a user name")
    .option("--from <user-or-uri>", "From (default sip:sipmock@<address>)")
    .option("--cancel-after <duration>", 'CANCEL when unanswered after this ("10s")')
    .option("--hang-up-after <duration>", 'BYE this long after the answer ("30s")')
    .action((aor: string, o: { from?: string; cancelAfter?: string; hangUpAfter?: string }) =>
      ctlSend(flags(), "call", aor, {
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
      ctlSend(flags(), "notify", aor, {
        waiting: waiting === "yes",
        ...(o.new !== undefined ? { new: o.new } : {}),
        ...(o.old !== undefined ? { old: o.old } : {}),
      }),
    );
  ctl
    .command("ping")
    .description("OPTIONS to every registered contact of a user")
    .argument("<aor>", "sip:user@domain or a user name")
    .action((aor: string) => ctlSend(flags(), "options", aor));
}
