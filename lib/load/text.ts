import * as fs from 'fs';

import { Diagnostics } from '../diagnostics';

/**
 * Every input file (YAML and PEM) is read through here, so that the same content gives the same dist/ on
 * every machine whatever wrote it: Git with core.autocrlf=true or a Windows editor (CRLF line ends), an
 * old Mac tool (a lone CR), an editor that adds a UTF-8 byte order mark, or Windows PowerShell 5.1's `>`,
 * which writes UTF-16LE with a byte order mark ("Out-File and the redirection operators > and >> create
 * UTF-16LE" in Windows PowerShell:
 * https://learn.microsoft.com/powershell/module/microsoft.powershell.core/about/about_character_encoding?view=powershell-5.1).
 */
export function decodeInput(bytes: Buffer): string {
  let text: string;
  if (bytes[0] === 0xff && bytes[1] === 0xfe) text = bytes.subarray(2).toString('utf16le');
  else if (bytes[0] === 0xfe && bytes[1] === 0xff && bytes.length % 2 === 0)
    text = Buffer.from(bytes.subarray(2)).swap16().toString('utf16le');
  else text = bytes.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  return normaliseLineEnds(text);
}

/** `\n` for every line end (CRLF, or a lone CR, which YAML also counts as a line break). */
export function normaliseLineEnds(text: string): string {
  return text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text;
}

/** Git's conflict markers: `<<<<<<< ours`, `||||||| base` (diff3), `=======`, `>>>>>>> theirs`, each at the start of a line. */
const MARKER = /^(?:<{7}|\|{7}|={7}|>{7})(?:[ \t].*)?$/gm;
const SIDE = /^(?:<{7}|>{7})(?:[ \t]|$)/m;

/** The first conflict marker of a file and how many conflicts it holds, or undefined when it has none. */
export function conflictMarker(text: string): { line: number; marker: string; conflicts: number } | undefined {
  // `=======` alone is no marker (a PEM file's comment may underline with it): Git writes `<<<<<<<` and `>>>>>>>` around it.
  if (!SIDE.test(text)) return undefined;
  const all = [...text.matchAll(MARKER)];
  if (all.length === 0) return undefined;
  const first = all[0];
  return {
    line: text.slice(0, first.index).split('\n').length,
    marker: first[0].trim(),
    conflicts: Math.max(1, all.filter((m) => m[0].startsWith('<')).length),
  };
}

/**
 * The text of an input file as meshfed reads it (decodeInput); undefined, with an error naming the line,
 * when Git left conflict markers in it (a parser would report them as some unrelated syntax error).
 */
export function readInputFile(file: string, diags: Diagnostics): string | undefined {
  const text = decodeInput(fs.readFileSync(file));
  const conflict = conflictMarker(text);
  if (!conflict) return text;
  const count = conflict.conflicts === 1 ? 'a merge conflict' : `${conflict.conflicts} merge conflicts`;
  diags.error(
    { file, line: conflict.line },
    `merge conflict marker "${conflict.marker}": the file holds ${count} Git could not resolve, with both versions in it.`,
    'Resolve the conflict (`git mergetool`, or edit the file and remove the markers) and commit it.',
  );
  return undefined;
}
