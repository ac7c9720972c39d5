// The only importer of the native addon. Bun embeds it into dist/tsrun at compile time.

export interface WaitStatus {
  pid: number;
  code?: number;
  signal?: number;
}

export interface InitMessage {
  type: number;
  a: number;
  b: number;
  detail: string;
}

interface Addon {
  /** stdio: fds to become the init's 0, 1, 2 (-1 keeps ours). */
  spawnInit(preservedFds: number, extraFds?: number[], stdio?: number[]): { pid: number; sock: number };
  writeAll(fd: number, data: Buffer): void;
  readMsg(fd: number, timeoutMs: number): InitMessage | null;
  close(fd: number): void;
  waitpid(pid: number, noHang?: boolean): WaitStatus;
  waitpidAsync(pid: number): Promise<WaitStatus>;
  pidfdOpen(pid: number): number;
  /** true once the pidfd's process has exited (a zombie counts); false when timeoutMs (-1: none) passed first. */
  pidfdWait(pidfd: number, timeoutMs: number): boolean;
  pidfdSendSignal(pidfd: number, signal: number): void;
  setSubreaper(on: boolean): void;
  flock(fd: number, exclusive: boolean, wait: boolean): boolean;
  mkfifo(path: string, mode: number): void;
  /** fd: the fifo, left open when started (EOF once the init has exec'd, or its ERROR message). */
  fifoStart(path: string, pidfd: number, timeoutMs: number): { result: "started" | "dead" | "empty" | "timeout"; fd: number };
  initSize(): number;
  unixConnect(path: string): number;
  recvFd(sock: number): number;
  /** One message carrying payload and fd (SCM_RIGHTS). */
  sendFd(sock: number, fd: number, payload: Buffer): void;
  /** mount(2) without a filesystem type or data: binds and propagation changes. */
  mount(source: string, target: string, flags: number): void;
  umount2(target: string, flags: number): void;
  /** fd of a new user namespace with these uid_map/gid_map texts (its holder process is gone). */
  userNamespace(uidMap: string, gidMap: string): number;
  /** A detached copy of the mount at source, idmapped through usernsFd, with MOUNT_ATTR_* set/cleared. */
  idmappedTree(source: string, usernsFd: number, recursiveClone: boolean, recursiveIdmap: boolean, attrSet: number, attrClr: number): number;
  pipe(): [number, number];
  /** A unix datagram socket bound at path, mode 0777 (NOTIFY_SOCKET in the container). */
  notifyBind(path: string): number;
  /** The first READY= line of what arrives on fd; "" when timeoutMs passed; null once pidfd's process is gone. */
  notifyRecvReady(fd: number, pidfd: number, timeoutMs: number): string | null;
  /** One datagram to a unix socket path ("@name": abstract). */
  notifySend(path: string, message: string): void;
  /** BARRIER=1 with a pipe's write end; true once the receiver closed it (read the message). */
  notifyBarrier(path: string, timeoutMs: number): boolean;
  socketpair(): [number, number];
  setWinsize(fd: number, rows: number, cols: number): void;
  seccompCompile(desc: string): { bpf: Buffer; unknownSyscalls: string[]; unknownArches: string[] };
  seccompVersion(): string;
  seccompResolveSyscall(name: string, arch?: string): number;
  seccompNativeArch(): string;
  /**
   * Load insns (struct bpf_insn[]) as a cgroup device program called `name`, attach it to
   * cgroupDir (BPF_F_ALLOW_MULTI), then detach the programs called `name` attached there before.
   * insns null: only detach. id 0 when nothing was attached.
   */
  bpfDeviceFilter(cgroupDir: string, insns: Buffer | null, license: string, name: string): { id: number; detached: number[] };
  /** The device programs attached directly to cgroupDir. */
  bpfDeviceFilters(cgroupDir: string): Array<{ id: number; name: string }>;
  /** A loaded program's name; null once the kernel has freed it. */
  bpfProgName(id: number): string | null;
  /**
   * A D-Bus method call through sd-bus (libsystemd.so.0) on the system bus, or the user's bus when
   * user is true. args follow signature (variants as [signature, value]; x/t may be bigint); the
   * reply's values come back decoded (x/t as bigint, variants as their value). A D-Bus error
   * throws an Error carrying dbusName.
   */
  sdbusCall(user: boolean, dest: string, path: string, iface: string, member: string, signature: string, args: unknown[], timeoutUsec: number): unknown[];
  /** Queue the signals that match rule (a D-Bus match rule) on that bus. */
  sdbusAddMatch(user: boolean, rule: string): void;
  /** The next queued signal, waiting up to timeoutUsec; null on timeout. */
  sdbusNextSignal(user: boolean, timeoutUsec: number): { member: string; path: string; args: unknown[] } | null;
}

declare const Bun: unknown;
declare const require: NodeJS.Require;

function load(): Addon {
  if (typeof Bun !== "undefined") {
    // dist/tsrun: Bun embeds a .node file only when a plain require() names it literally
    return require("../../build/Release/tsrun.node");
  }
  // Node: the source tree (tests) or dist/cli.js. The modules come at call time: importing them
  // at the top would cost every command of dist/tsrun their start-up
  const { createRequire } = process.getBuiltinModule("node:module");
  const { dirname, join } = process.getBuiltinModule("node:path");
  const { fileURLToPath } = process.getBuiltinModule("node:url");
  const req = createRequire(import.meta.url);
  try {
    return req("../../build/Release/tsrun.node");
  } catch {
    return req(join(dirname(fileURLToPath(import.meta.url)), "../build/Release/tsrun.node"));
  }
}

let addon: Addon | undefined;

/** Loaded on first use: commands like `state` never pay for it. */
export const native: Addon = new Proxy({} as Addon, {
  get: (_target, key) => (addon ??= load())[key as keyof Addon],
});
