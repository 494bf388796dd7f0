/**
 * What the kernel knows about a process and the UDP stack, read from /proc:
 * CPU time (user + system), resident memory, and UDP receive-buffer drops.
 * The benchmark derives CPU per call and memory per call from these.
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";

/** Clock ticks per second of /proc/<pid>/stat (sysconf(_SC_CLK_TCK), 100 on Linux). */
const CLK_TCK = 100;

/** User + system CPU seconds the process has used so far (0 when it is gone). */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces: count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return 0;
  }
}

function statusKb(pid: number | undefined, key: string): number | undefined {
  try {
    const m = new RegExp(`${key}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** The processes a process started (/proc/<pid>/task/<pid>/children), none when it is gone. */
export function childPids(pid: number | undefined): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** CPU seconds of a process and the processes it started (the sipmock executable and its server child). */
export function treeCpuSeconds(pid: number | undefined): number {
  return childPids(pid).reduce((sum, child) => sum + cpuSeconds(child), cpuSeconds(pid));
}

/** Resident set now, MiB. */
export function rssMiB(pid: number | undefined): number | undefined {
  const kb = statusKb(pid, "VmRSS");
  return kb === undefined ? undefined : Math.round(kb / 1024);
}

/** Peak resident set (VmHWM), MiB. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  const kb = statusKb(pid, "VmHWM");
  return kb === undefined ? undefined : Math.round(kb / 1024);
}

/** Datagrams the kernel dropped because a socket's receive buffer was full (all UDP sockets). */
export function udpDrops(): number {
  try {
    const lines = readFileSync("/proc/net/snmp", "utf8")
      .split("\n")
      .filter((l) => l.startsWith("Udp:"));
    const head = lines[0]!.split(/\s+/);
    const values = lines[1]!.split(/\s+/);
    return Number(values[head.indexOf("RcvbufErrors")] ?? 0);
  } catch {
    return 0;
  }
}

export function load1(): number {
  return Math.round(loadavg()[0]! * 100) / 100;
}

/** net.core.rmem_max: the most a socket may ask for as its receive buffer. */
export function rmemMax(): number | undefined {
  try {
    return Number(readFileSync("/proc/sys/net/core/rmem_max", "utf8").trim());
  } catch {
    return undefined;
  }
}
