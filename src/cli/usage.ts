// A wrong command line: exits 1 with runc's wording.
import { RuntimeError } from "../lifecycle/errors.js";

export class UsageError extends RuntimeError {}
