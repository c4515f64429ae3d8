/** Plain-text table helpers for terminal output: width-aware wrapping, no colour logic. */

/** Visible length of a string that may contain ANSI colour codes. */
export function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[[0-9;]*m/g, '').length;
}

/** Word-wrap plain text to `width` columns (long words are cut). */
export function wrap(text: string, width: number): string[] {
  if (width < 10) width = 10;
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (let word of para.split(/\s+/).filter(Boolean)) {
      while (word.length > width) {
        if (line) {
          lines.push(line);
          line = '';
        }
        lines.push(word.slice(0, width));
        word = word.slice(width);
      }
      if (!line) line = word;
      else if (line.length + 1 + word.length <= width) line += ` ${word}`;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines;
}

/**
 * Lay out rows of cells; the last column takes the remaining width and wraps. `cells` may be coloured;
 * widths are computed on visible text.
 */
export function renderTable(header: string[], rows: string[][], totalWidth: number): string[] {
  const fixed = header.slice(0, -1).map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i]))));
  const used = fixed.reduce((a, b) => a + b + 2, 0);
  const last = Math.max(20, totalWidth - used);
  const pad = (s: string, w: number) => s + ' '.repeat(Math.max(0, w - visibleLength(s)));
  const out = [header.map((h, i) => (i < fixed.length ? pad(h, fixed[i]) : h)).join('  ')];
  for (const r of rows) {
    const wrapped = r[r.length - 1].split('\n').flatMap((p) => wrap(p, last));
    wrapped.forEach((text, j) => {
      const lead = j === 0 ? r.slice(0, -1).map((c, i) => pad(c, fixed[i])) : fixed.map((w) => ' '.repeat(w));
      out.push([...lead, text].join('  ').trimEnd());
    });
  }
  return out;
}
