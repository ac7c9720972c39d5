// An error meant for the user: its message is printed as is, the process exits with exitCode.
export class RuntimeError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = "RuntimeError";
    this.exitCode = exitCode;
  }
}
