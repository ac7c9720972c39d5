// Where lifecycle code sends warnings and debug timings; the CLI decides how they are written.
export interface LogSink {
  warn(msg: string): void;
  debug(msg: string): void;
}

let sink: LogSink = { warn: () => {}, debug: () => {} };
let debugEnabled = false;
let last = 0;

export function setLogSink(s: LogSink, debug: boolean): void {
  sink = s;
  debugEnabled = debug;
  last = performance.now();
}

export function warn(msg: string): void {
  sink.warn(msg);
}

export function debug(msg: string): void {
  if (debugEnabled) sink.debug(msg);
}

/** With --debug, logs how long the step that just finished took. */
export function debugStep(step: string): void {
  if (!debugEnabled) return;
  const now = performance.now();
  sink.debug(`${step} (+${(now - last).toFixed(2)}ms)`);
  last = now;
}
