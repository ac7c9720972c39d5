// A problem found in a config file: where it is (file + JSON pointer) and what is wrong.

export interface Problem {
  file: string;
  /** RFC 6901 JSON pointer into the document ("" is the whole document). */
  pointer: string;
  message: string;
  severity: "error" | "warning";
}

export class SpecError extends Error {
  readonly problems: Problem[];
  constructor(problems: Problem[]) {
    super(problems.filter((p) => p.severity === "error").map(formatProblem).join("\n"));
    this.name = "SpecError";
    this.problems = problems;
  }
}

/** `file: /json/pointer: message`; a problem of the whole document has no pointer to print. */
export function formatProblem(p: Problem): string {
  return p.pointer ? `${p.file}: ${p.pointer}: ${p.message}` : `${p.file}: ${p.message}`;
}
