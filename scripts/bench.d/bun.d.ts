// The few Bun APIs the benchmark uses, declared here so that `tsc -p .` (types: ["node"], no
// bun-types installed) checks scripts/bench.d like every other script. The benchmark runs under
// Bun only (node_modules/.bin/bun): it needs bun:ffi for prctl/waitpid and the rusage of each child.

declare module "bun" {
  export interface ResourceUsage {
    cpuTime: { user: bigint | number; system: bigint | number; total: bigint | number };
    maxRSS: number;
  }
  export interface SpawnOptions {
    cwd?: string;
    env?: Record<string, string | undefined>;
    stdin?: "ignore" | "inherit" | "pipe" | null;
    /** a number is a file descriptor the child gets */
    stdout?: "ignore" | "inherit" | "pipe" | null | number;
    stderr?: "ignore" | "inherit" | "pipe" | null | number;
    /** ms; the child gets SIGTERM when it runs longer */
    timeout?: number;
  }
  export interface SyncSubprocess {
    exitCode: number | null;
    signalCode?: string | null;
    success: boolean;
    stdout?: Uint8Array | null;
    stderr?: Uint8Array | null;
    resourceUsage?: ResourceUsage;
    pid: number;
    exitedDueToTimeout?: boolean;
  }
  export interface Subprocess {
    pid: number;
    exited: Promise<number>;
    exitCode: number | null;
    signalCode: string | null;
    stdout: ReadableStream<Uint8Array> | null;
    stderr: ReadableStream<Uint8Array> | null;
    kill(signal?: number | string): void;
    resourceUsage(): ResourceUsage | undefined;
  }
  export function spawnSync(cmd: string[], opts?: SpawnOptions): SyncSubprocess;
  export function spawn(cmd: string[], opts?: SpawnOptions): Subprocess;
  export function which(cmd: string): string | null;
  export function sleepSync(ms: number): void;
}

declare module "bun:ffi" {
  export const FFIType: { i32: number; u64: number; ptr: number; i64: number };
  export function ptr(view: ArrayBufferView): number;
  export function dlopen<T extends Record<string, { args: number[]; returns: number }>>(
    path: string,
    symbols: T,
  ): { symbols: { [K in keyof T]: (...args: (number | bigint)[]) => number }; close(): void };
}
