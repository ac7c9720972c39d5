// `tsrun --version`: the first line keeps runc's form because callers parse it (go-runc, moby).
export const TSRUN_VERSION = "0.1.0";
export const RUNC_COMPAT_VERSION = "1.2.0";
export const SPEC_VERSION = "1.2.1";

export const VERSION_TEXT =
  `runc version ${RUNC_COMPAT_VERSION}\n` +
  `tsrun: ${TSRUN_VERSION}\n` +
  `spec: ${SPEC_VERSION}\n`;
