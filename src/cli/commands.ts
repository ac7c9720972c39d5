// Every subcommand tsrun offers, one module each.
import type { CommandModule } from "yargs";
import type { Args } from "./args.js";
import { createCommand } from "./commands/create.js";
import { deleteCommand } from "./commands/delete.js";
import { execCommand } from "./commands/exec.js";
import { checkpointCommand, restoreCommand } from "./commands/checkpoint.js";
import { checkCommand, featuresCommand, specCommand } from "./commands/info.js";
import { eventsCommand, pauseCommand, psCommand, resumeCommand, updateCommand } from "./commands/cgroup.js";
import { killCommand } from "./commands/kill.js";
import { listCommand } from "./commands/list.js";
import { planCommand } from "./commands/plan.js";
import { runCommand } from "./commands/run.js";
import { startCommand } from "./commands/start.js";
import { stateCommand } from "./commands/state.js";
import { completionCommand } from "./commands/completion.js";

export const commands: CommandModule<object, Args>[] = [
  createCommand, startCommand, runCommand, execCommand, stateCommand, killCommand, deleteCommand, listCommand,
  pauseCommand, resumeCommand, psCommand, updateCommand, eventsCommand, specCommand, checkCommand, planCommand,
  featuresCommand, checkpointCommand, restoreCommand, completionCommand,
];
