// `tsrun --version`: runc's lines in runc's order because callers parse them (go-runc reads the
// `runc version ` first line and the `commit: `/`spec: ` prefixes; moby looks for `commit:`; runc's
// own bats suite wants version, commit, spec as lines 1-3). tsrun's identity goes in the commit line
// and on a line of its own after them.
export const TSRUN_VERSION = "0.1.0";
export const RUNC_COMPAT_VERSION = "1.2.0";
export const SPEC_VERSION = "1.2.1";

export const VERSION_TEXT =
  `runc version ${RUNC_COMPAT_VERSION}\n` +
  `commit: tsrun-${TSRUN_VERSION}\n` +
  `spec: ${SPEC_VERSION}\n` +
  `tsrun: ${TSRUN_VERSION}\n`;
