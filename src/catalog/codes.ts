/**
 * Every SIP response code: the IANA "Response Codes" registry
 * (https://www.iana.org/assignments/sip-parameters, 75 codes) plus the two
 * RFC 2543 codes of the user's seed list that RFC 3261 dropped (409, 411),
 * kept and marked obsolete.
 *
 * Reason phrases are IANA's, which follow the RFC 3261 section 21 headings;
 * where RFC 3261's ABNF comments (25.1) disagree (414 "Request-URI Too
 * Large", 481 "Call Leg/Transaction Does Not Exist", ...) section 21 wins.
 * Header rules quote the sentence of the defining RFC they come from.
 */
import type { HeaderRule, ResponseCodeInfo } from "./types.js";

const CONTACT_REDIRECT: HeaderRule = {
  name: "Contact",
  value: "<sip:redirected-{{requestUser}}@{{hostport}};transport={{transport}}>",
  rfc: "RFC 3261 21.3: the client SHOULD retry at the address(es) given by the Contact header field",
};

const retryAfter = (value: string, rfc: string, byDefault = false): HeaderRule => ({
  name: "Retry-After",
  value,
  rfc,
  byDefault,
});

const RETRY_AFTER_2033 =
  "RFC 3261 20.33: Retry-After can be used with 404, 413, 480, 486, 500, 503, 600 and 603 responses";

type Entry = Omit<ResponseCodeInfo, "class" | "required" | "recommended" | "status" | "rfc" | "section"> &
  Partial<Pick<ResponseCodeInfo, "required" | "recommended" | "status" | "rfc" | "section">>;

function entry(e: Entry): ResponseCodeInfo {
  const klass = Math.floor(e.code / 100) as ResponseCodeInfo["class"];
  return {
    rfc: "RFC 3261",
    section: "",
    status: "current",
    required: [],
    recommended: [],
    ...e,
    class: klass,
  };
}

export const CODES: readonly ResponseCodeInfo[] = [
  // 1xx: provisional (RFC 3261 21.1)
  entry({
    code: 100,
    reason: "Trying",
    section: "21.1.1",
    description:
      "The request was received and is being worked on; stops the client's INVITE retransmissions.",
  }),
  entry({ code: 180, reason: "Ringing", section: "21.1.2", description: "The callee is being alerted." }),
  entry({
    code: 181,
    reason: "Call Is Being Forwarded",
    section: "21.1.3",
    description: "The call is being forwarded to another set of destinations.",
  }),
  entry({
    code: 182,
    reason: "Queued",
    section: "21.1.4",
    description: "The callee is temporarily unavailable and the call has been queued.",
  }),
  entry({
    code: 183,
    reason: "Session Progress",
    section: "21.1.5",
    description: "Progress information for a call being set up, typically with early media (SDP).",
  }),
  entry({
    code: 199,
    reason: "Early Dialog Terminated",
    rfc: "RFC 6228",
    section: "4",
    description: "An early dialog has been terminated before the final response is sent.",
    // RFC 6228 words it as a MUST for both senders of a 199: the UAS (7)
    // and the forking proxy (8); so it is required, not recommended.
    required: [
      {
        name: "Reason",
        value: 'SIP;cause=480;text="Temporarily Unavailable"',
        rfc: "RFC 6228 7 (UAS) and 8 (proxy): the sender of a 199 MUST insert a Reason header field (RFC 3326) with the SIP response code of the response that terminated the early dialog",
      },
    ],
  }),

  // 2xx: success (RFC 3261 21.2)
  entry({ code: 200, reason: "OK", section: "21.2.1", description: "The request has succeeded." }),
  entry({
    code: 202,
    reason: "Accepted",
    rfc: "RFC 6665",
    section: "8.3.1",
    status: "deprecated",
    description:
      "Accepted for processing (SUBSCRIBE/REFER); deprecated: RFC 6665 and RFC 7647 say to send 200 instead.",
    note: "IANA lists it as 'Accepted (Deprecated)'; defined by RFC 3265, deprecated by RFC 6665 8.3.1.",
  }),
  entry({
    code: 204,
    reason: "No Notification",
    rfc: "RFC 5839",
    section: "8.3.1",
    description: "The subscription succeeded but no NOTIFY will be sent, as the resource state is unchanged.",
  }),

  // 3xx: redirection (RFC 3261 21.3)
  entry({
    code: 300,
    reason: "Multiple Choices",
    section: "21.3.1",
    description:
      "The address resolved to several locations, listed in Contact, for the client to choose from.",
    required: [CONTACT_REDIRECT],
  }),
  entry({
    code: 301,
    reason: "Moved Permanently",
    section: "21.3.2",
    description: "The user is no longer at this address; retry at the Contact given.",
    required: [CONTACT_REDIRECT],
  }),
  entry({
    code: 302,
    reason: "Moved Temporarily",
    section: "21.3.3",
    description: "Retry the request at the Contact given, for now.",
    required: [CONTACT_REDIRECT],
    recommended: [
      {
        name: "Expires",
        value: "3600",
        rfc: "RFC 3261 21.3.3: the duration of the redirection can be indicated through an Expires header field",
      },
    ],
  }),
  entry({
    code: 305,
    reason: "Use Proxy",
    section: "21.3.4",
    description: "The resource MUST be reached through the proxy given in Contact.",
    required: [
      {
        name: "Contact",
        value: "<{{localUri}}>",
        rfc: "RFC 3261 21.3.4: the requested resource MUST be accessed through the proxy given by the Contact field",
      },
    ],
  }),
  entry({
    code: 380,
    reason: "Alternative Service",
    section: "21.3.5",
    description: "The call failed, but alternative services are possible (described in the body).",
  }),

  // 4xx: request failure (RFC 3261 21.4)
  entry({
    code: 400,
    reason: "Bad Request",
    section: "21.4.1",
    description: "Malformed syntax; the reason phrase SHOULD say what was wrong.",
  }),
  entry({
    code: 401,
    reason: "Unauthorized",
    section: "21.4.2",
    description: "User authentication is required (UAS or registrar); retry with Authorization.",
    required: [
      {
        name: "WWW-Authenticate",
        value: 'Digest realm="{{realm}}", nonce="{{nonce}}", opaque="{{opaque}}", algorithm=MD5, qop="auth"',
        rfc: "RFC 3261 20.44/22.1: a 401 (Unauthorized) response MUST include a WWW-Authenticate header field",
      },
    ],
  }),
  entry({
    code: 402,
    reason: "Payment Required",
    section: "21.4.3",
    description: "Reserved for future use.",
  }),
  entry({
    code: 403,
    reason: "Forbidden",
    section: "21.4.4",
    description: "The server understood the request but refuses to fulfil it; authorization will not help.",
  }),
  entry({
    code: 404,
    reason: "Not Found",
    section: "21.4.5",
    description: "The user does not exist at the domain in the Request-URI.",
    recommended: [retryAfter("30", RETRY_AFTER_2033)],
  }),
  entry({
    code: 405,
    reason: "Method Not Allowed",
    section: "21.4.6",
    description: "The method is understood but not allowed for this Request-URI.",
    required: [
      {
        name: "Allow",
        value: "{{allow}}",
        rfc: "RFC 3261 21.4.6: the response MUST include an Allow header field containing a list of valid methods",
      },
    ],
  }),
  entry({
    code: 406,
    reason: "Not Acceptable",
    section: "21.4.7",
    description: "Only responses with content the request's Accept header does not allow can be generated.",
  }),
  entry({
    code: 407,
    reason: "Proxy Authentication Required",
    section: "21.4.8",
    description: "Authenticate with the proxy first; retry with Proxy-Authorization.",
    required: [
      {
        name: "Proxy-Authenticate",
        value: 'Digest realm="{{realm}}", nonce="{{nonce}}", opaque="{{opaque}}", algorithm=MD5, qop="auth"',
        rfc: "RFC 3261 20.27/22.3: a 407 (Proxy Authentication Required) response MUST include a Proxy-Authenticate header field",
      },
    ],
  }),
  entry({
    code: 408,
    reason: "Request Timeout",
    section: "21.4.9",
    description: "The server could not produce a response in time (e.g. could not locate the user).",
  }),
  entry({
    code: 409,
    reason: "Conflict",
    rfc: "RFC 2543",
    section: "7.4.10",
    status: "obsolete",
    description: "The request conflicts with the current state of the resource (RFC 2543 only).",
    note: "Not in RFC 3261 or the IANA registry; kept from the seed list.",
  }),
  entry({
    code: 410,
    reason: "Gone",
    section: "21.4.10",
    description: "The user existed once but is no longer available here, and no forwarding address is known.",
  }),
  entry({
    code: 411,
    reason: "Length Required",
    rfc: "RFC 2543",
    section: "7.4.12",
    status: "obsolete",
    description: "A Content-Length is required (RFC 2543 only).",
    note: "Not in RFC 3261 or the IANA registry; kept from the seed list.",
  }),
  entry({
    code: 412,
    reason: "Conditional Request Failed",
    rfc: "RFC 3903",
    section: "11.2.1",
    description: "The precondition in the request (SIP-If-Match of a PUBLISH) was not met.",
  }),
  entry({
    code: 413,
    reason: "Request Entity Too Large",
    section: "21.4.11",
    description: "The request body is larger than the server is willing to process.",
    recommended: [
      retryAfter(
        "30",
        "RFC 3261 21.4.11: if the condition is temporary, the server SHOULD include a Retry-After",
      ),
    ],
  }),
  entry({
    code: 414,
    reason: "Request-URI Too Long",
    section: "21.4.12",
    description: "The Request-URI is longer than the server is willing to interpret.",
  }),
  entry({
    code: 415,
    reason: "Unsupported Media Type",
    section: "21.4.13",
    description: "The body is in a format (type, encoding or language) the server does not support.",
    required: [
      {
        name: "Accept",
        value: "{{accept}}",
        rfc: "RFC 3261 21.4.13: the server MUST return a list of acceptable formats using the Accept, Accept-Encoding, or Accept-Language header field",
      },
    ],
    recommended: [
      {
        name: "Accept-Encoding",
        value: "{{acceptEncoding}}",
        rfc: "RFC 3261 21.4.13 / 8.2.3: Accept-Encoding when the problem is the content encoding",
        byDefault: true,
      },
      {
        name: "Accept-Language",
        value: "{{acceptLanguage}}",
        rfc: "RFC 3261 21.4.13 / 8.2.3: Accept-Language when the problem is the content language",
        byDefault: true,
      },
    ],
  }),
  entry({
    code: 416,
    reason: "Unsupported URI Scheme",
    section: "21.4.14",
    description: "The scheme of the Request-URI is unknown to the server.",
  }),
  entry({
    code: 417,
    reason: "Unknown Resource-Priority",
    rfc: "RFC 4412",
    section: "4.6.2",
    description: "Require: resource-priority was present but no Resource-Priority value was understood.",
    recommended: [
      {
        name: "Accept-Resource-Priority",
        value: "dsn.routine, wps.4",
        rfc: "RFC 4412 4.6.2: the 417 response SHOULD include an Accept-Resource-Priority header field listing the values understood",
        byDefault: true,
      },
    ],
  }),
  entry({
    code: 420,
    reason: "Bad Extension",
    section: "21.4.15",
    description: "An option tag in Require or Proxy-Require is not supported.",
    required: [
      {
        name: "Unsupported",
        value: "{{requireTags}}",
        rfc: "RFC 3261 21.4.15: the server MUST list the unsupported extensions in an Unsupported header field",
      },
    ],
  }),
  entry({
    code: 421,
    reason: "Extension Required",
    section: "21.4.16",
    description: "The server needs an extension the request did not list in Supported.",
    required: [
      {
        name: "Require",
        value: "100rel",
        rfc: "RFC 3261 21.4.16: responses with this status code MUST contain a Require header field listing the required extensions",
      },
    ],
  }),
  entry({
    code: 422,
    reason: "Session Interval Too Small",
    rfc: "RFC 4028",
    section: "6",
    description: "The Session-Expires of the request is below the server's minimum, given in Min-SE.",
    required: [
      {
        name: "Min-SE",
        value: "1800",
        rfc: "RFC 4028 6: the 422 response MUST contain a Min-SE header field with the minimum timer for that server",
      },
    ],
  }),
  entry({
    code: 423,
    reason: "Interval Too Brief",
    section: "21.4.17",
    description: "The expiration time of the resource (e.g. a registration) is too short; see Min-Expires.",
    required: [
      {
        name: "Min-Expires",
        value: "3600",
        rfc: "RFC 3261 10.3 step 7 / 20.23: the registrar MUST include a Min-Expires header field in a 423",
      },
    ],
  }),
  entry({
    code: 424,
    reason: "Bad Location Information",
    rfc: "RFC 6442",
    section: "4.3",
    description: "The location information in the request was malformed or not satisfactory.",
    required: [
      {
        name: "Geolocation-Error",
        value: '100 ;text="Cannot Process Location"',
        rfc: "RFC 6442 4.3: a 424 response MUST include a Geolocation-Error header field",
      },
    ],
  }),
  entry({
    code: 425,
    reason: "Bad Alert Message",
    rfc: "RFC 8876",
    section: "5",
    description: "The alert (Alert-Info / emergency alert body) of the request was not acceptable.",
    required: [
      {
        name: "AlertMsg-Error",
        value: '100 ;text="Cannot process the alert payload"',
        rfc: "RFC 8876 5: the 425 response MUST include an AlertMsg-Error header field",
      },
    ],
  }),
  entry({
    code: 428,
    reason: "Use Identity Header",
    rfc: "RFC 8224",
    section: "6.2.2",
    description: "Policy requires an Identity header field, and the request had none.",
  }),
  entry({
    code: 429,
    reason: "Provide Referrer Identity",
    rfc: "RFC 3892",
    section: "5",
    description: "The REFER needs a valid Referred-By token.",
  }),
  entry({
    code: 430,
    reason: "Flow Failed",
    rfc: "RFC 5626",
    section: "11",
    description: "A specific flow to the user agent failed, though other flows may succeed.",
  }),
  entry({
    code: 433,
    reason: "Anonymity Disallowed",
    rfc: "RFC 5079",
    section: "5",
    description: "The request was rejected because it was anonymous.",
  }),
  entry({
    code: 436,
    reason: "Bad Identity Info",
    rfc: "RFC 8224",
    section: "6.2.2",
    description: "The credential in the Identity header could not be dereferenced.",
  }),
  entry({
    code: 437,
    reason: "Unsupported Credential",
    rfc: "RFC 8224",
    section: "6.2.2",
    description: "The verifier could not validate the credential that signed the request.",
    note: "The seed's name 'Unsupported Certificate' is RFC 4474's; RFC 8224 renamed it and IANA follows.",
  }),
  entry({
    code: 438,
    reason: "Invalid Identity Header",
    rfc: "RFC 8224",
    section: "6.2.2",
    description: "The Identity header's signature did not verify.",
  }),
  entry({
    code: 439,
    reason: "First Hop Lacks Outbound Support",
    rfc: "RFC 5626",
    section: "11",
    description: "The registration asked for outbound, but the first hop does not support it.",
  }),
  entry({
    code: 440,
    reason: "Max-Breadth Exceeded",
    rfc: "RFC 5393",
    section: "5",
    description: "Not enough Max-Breadth was left to fork the request as needed.",
  }),
  entry({
    code: 469,
    reason: "Bad Info Package",
    rfc: "RFC 6086",
    section: "4.2.2",
    description: "The INFO is for an Info Package the UA has not said it will receive.",
    required: [
      {
        name: "Recv-Info",
        value: "",
        rfc: "RFC 6086 4.2.2: the UA MUST send a 469 containing a Recv-Info header field with the packages it is willing to receive",
      },
    ],
  }),
  entry({
    code: 470,
    reason: "Consent Needed",
    rfc: "RFC 5360",
    section: "5.9.2",
    description: "The target has not given permission to receive such requests from the sender.",
    required: [
      {
        name: "Permission-Missing",
        value: "<sip:{{requestUser}}@{{hostport}}>",
        rfc: "RFC 5360 5.9.2: the relay MUST reply with a 470 that carries a Permission-Missing header field listing the URIs lacking permission",
      },
    ],
  }),
  entry({
    code: 480,
    reason: "Temporarily Unavailable",
    section: "21.4.18",
    description: "The callee was reached but is not available right now.",
    recommended: [retryAfter("30", RETRY_AFTER_2033)],
  }),
  entry({
    code: 481,
    reason: "Call/Transaction Does Not Exist",
    section: "21.4.19",
    description: "The request matched no dialog or transaction.",
  }),
  entry({
    code: 482,
    reason: "Loop Detected",
    section: "21.4.20",
    description: "The server detected a loop.",
  }),
  entry({
    code: 483,
    reason: "Too Many Hops",
    section: "21.4.21",
    description: "Max-Forwards reached 0 before the request got its target.",
  }),
  entry({
    code: 484,
    reason: "Address Incomplete",
    section: "21.4.22",
    description: "The Request-URI was incomplete (overlap dialling).",
  }),
  entry({
    code: 485,
    reason: "Ambiguous",
    section: "21.4.23",
    description: "The Request-URI was ambiguous; possible addresses MAY be listed in Contact.",
    recommended: [
      {
        name: "Contact",
        value: "<sip:{{requestUser}}-1@{{hostport}}>, <sip:{{requestUser}}-2@{{hostport}}>",
        rfc: "RFC 3261 21.4.23: the response MAY contain a listing of possible unambiguous addresses in Contact header fields",
      },
    ],
  }),
  entry({
    code: 486,
    reason: "Busy Here",
    section: "21.4.24",
    description: "The callee's end system was contacted but the callee is busy here.",
    recommended: [retryAfter("30", RETRY_AFTER_2033)],
  }),
  entry({
    code: 487,
    reason: "Request Terminated",
    section: "21.4.25",
    description: "The request was terminated by a CANCEL (or BYE).",
  }),
  entry({
    code: 488,
    reason: "Not Acceptable Here",
    section: "21.4.26",
    description: "Some aspect of the session description is not acceptable here.",
    recommended: [
      {
        name: "Warning",
        value: '305 {{hostport}} "Incompatible media format"',
        rfc: "RFC 3261 21.4.26/20.43: the response MAY contain a Warning header field (304/305) explaining why the offer was rejected",
        byDefault: true,
      },
    ],
  }),
  entry({
    code: 489,
    reason: "Bad Event",
    rfc: "RFC 6665",
    section: "8.3.2",
    description: "The event package in the Event header field is not understood.",
    required: [
      {
        name: "Allow-Events",
        value: "{{allowEvents}}",
        rfc: "RFC 6665 4.2.1.2/7.2.2: a 489 response is returned with an Allow-Events header field listing the packages supported",
      },
    ],
  }),
  entry({
    code: 491,
    reason: "Request Pending",
    section: "21.4.27",
    description: "There is a pending request (e.g. re-INVITE glare) in the same dialog.",
  }),
  entry({
    code: 493,
    reason: "Undecipherable",
    section: "21.4.28",
    description: "An encrypted MIME body could not be decrypted.",
  }),
  entry({
    code: 494,
    reason: "Security Agreement Required",
    rfc: "RFC 3329",
    section: "2.3.1",
    description: "The server requires a security mechanism to be negotiated first.",
    required: [
      {
        name: "Security-Server",
        value: "tls;q=0.2",
        rfc: "RFC 3329 2.3.1: a 494 response MUST list the server's security mechanisms in a Security-Server header field",
      },
    ],
  }),

  // 5xx: server failure (RFC 3261 21.5)
  entry({
    code: 500,
    reason: "Server Internal Error",
    section: "21.5.1",
    description: "An unexpected condition prevented the server from fulfilling the request.",
    recommended: [retryAfter("30", RETRY_AFTER_2033)],
  }),
  entry({
    code: 501,
    reason: "Not Implemented",
    section: "21.5.2",
    description: "The server does not support the method of the request.",
    recommended: [
      {
        name: "Allow",
        value: "{{allow}}",
        rfc: "RFC 3261 20.5: Allow MAY be present in any response other than 405, telling the client what is implemented",
        byDefault: true,
      },
    ],
  }),
  entry({
    code: 502,
    reason: "Bad Gateway",
    section: "21.5.3",
    description: "A gateway or proxy received an invalid response downstream.",
  }),
  entry({
    code: 503,
    reason: "Service Unavailable",
    section: "21.5.4",
    description: "The server is overloaded or in maintenance; retry later (see Retry-After).",
    recommended: [
      retryAfter(
        "30",
        "RFC 3261 21.5.4: the server MAY indicate when the client should retry the request in a Retry-After header field",
        true,
      ),
    ],
  }),
  entry({
    code: 504,
    reason: "Server Time-out",
    section: "21.5.5",
    description: "No timely response from an external server the request was forwarded to.",
  }),
  entry({
    code: 505,
    reason: "Version Not Supported",
    section: "21.5.6",
    description: "The SIP version of the request is not supported.",
  }),
  entry({
    code: 513,
    reason: "Message Too Large",
    section: "21.5.7",
    description: "The message is longer than the server can process.",
  }),
  entry({
    code: 555,
    reason: "Push Notification Service Not Supported",
    rfc: "RFC 8599",
    section: "4.1.2",
    description: "The push notification service named by pn-provider is not supported.",
  }),
  entry({
    code: 580,
    reason: "Precondition Failure",
    rfc: "RFC 3312",
    section: "8",
    description: "The preconditions of the offer cannot be met.",
  }),

  // 6xx: global failure (RFC 3261 21.6)
  entry({
    code: 600,
    reason: "Busy Everywhere",
    section: "21.6.1",
    description: "The callee is busy and no other destination will answer.",
    recommended: [retryAfter("30", RETRY_AFTER_2033)],
  }),
  entry({
    code: 603,
    reason: "Decline",
    section: "21.6.2",
    description: "The callee does not wish to participate; no alternative destination.",
    recommended: [retryAfter("30", RETRY_AFTER_2033)],
  }),
  entry({
    code: 604,
    reason: "Does Not Exist Anywhere",
    section: "21.6.3",
    description: "The user does not exist anywhere.",
  }),
  entry({
    code: 606,
    reason: "Not Acceptable",
    section: "21.6.4",
    description: "The user was reached but some aspect of the session description is not acceptable.",
    recommended: [
      {
        name: "Warning",
        value: '305 {{hostport}} "Incompatible media format"',
        rfc: "RFC 3261 21.6.4: a Warning header field MAY explain why the session description was rejected",
        byDefault: true,
      },
    ],
  }),
  entry({
    code: 607,
    reason: "Unwanted",
    rfc: "RFC 8197",
    section: "3.1",
    description:
      "The called party did not want this call from this caller; future attempts will be rejected too.",
  }),
  entry({
    code: 608,
    reason: "Rejected",
    rfc: "RFC 8688",
    section: "3.1",
    description: "An intermediary (e.g. call analytics) rejected the call on the user's behalf.",
    recommended: [
      {
        name: "Call-Info",
        value: "<mailto:support@{{host}}>;purpose=jwscard",
        rfc: "RFC 8688 3.3: the 608 MAY carry a Call-Info header field with purpose=jwscard telling the caller whom to contact",
      },
    ],
  }),
];
