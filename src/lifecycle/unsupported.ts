// Settings tsrun cannot honour yet: a clear error, never a silent ignore.
import { RuntimeError } from "./errors.js";

export function refuseUnsupported(pidfdSocket: string | undefined): void {
  if (pidfdSocket) throw new RuntimeError("--pidfd-socket is not supported by tsrun yet");
}
