// runc side by side: the same calls as Runtime (test/lib/tsrun.ts), with /usr/sbin/runc and a root
// of its own, for tests that show what runc does with the same bundle.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { message, type Result } from "./tsrun.js";

export const RUNC = "/usr/sbin/runc";

export class Runc {
  readonly root = mkdtempSync(join(tmpdir(), "runc-root-"));
  run(args: string[], timeout = 30_000): Result {
    const r = spawnSync(RUNC, ["--root", this.root, ...args], { encoding: "utf8", timeout });
    return { code: r.status ?? 128, stdout: r.stdout ?? "", stderr: message(r.stderr ?? "") };
  }
  cleanup(): void {
    for (const id of existsSync(this.root) ? readdirSync(this.root) : []) this.run(["delete", "--force", id]);
    rmSync(this.root, { recursive: true, force: true });
  }
}

/** A Runc when runc is installed, else undefined (the comparison is then skipped). */
export function runcIfInstalled(): Runc | undefined {
  return existsSync(RUNC) ? new Runc() : undefined;
}
