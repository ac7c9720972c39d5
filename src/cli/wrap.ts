// Help text wrapped at spaces only. yargs lays the columns out unwrapped (.wrap(null)): its ESM build
// (cliui) would cut words at the column's edge, and the CommonJS one cuts words longer than a column.
// A long line continues under its last column (a command's or flag's description), or under its
// own indent when that column starts too far right; a word longer than the room left stands alone.

/** The width help is wrapped to: the terminal's, at most 120; 100 without a terminal. */
export function helpWidth(): number {
  return Math.min(120, process.stdout.columns || 100);
}

export function wrapHelp(text: string, width: number): string {
  return text
    .split("\n")
    .map((line) => wrapLine(line, width))
    .join("\n");
}

function wrapLine(line: string, width: number): string {
  if (line.length <= width) return line;
  const lead = line.length - line.trimStart().length;
  // the description column: after the first gap of two or more spaces past the indent
  const gap = /\S( {2,})\S/.exec(line.slice(lead));
  const column = gap ? lead + gap.index + 1 + gap[1].length : -1;
  const hanging = column > 0 && column <= width / 2;
  const indent = hanging ? column : Math.min(lead + 4, Math.floor(width / 2));
  const lines: string[] = [];
  let current = hanging ? line.slice(0, column) : " ".repeat(lead);
  let empty = true;
  for (const word of line.slice(hanging ? column : lead).split(" ").filter((w) => w !== "")) {
    if (empty || current.length + 1 + word.length <= width) {
      current += (empty ? "" : " ") + word;
      empty = false;
    } else {
      lines.push(current);
      current = " ".repeat(indent) + word;
    }
  }
  lines.push(current);
  return lines.join("\n");
}
