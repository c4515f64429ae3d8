import { parseArgs, ParseArgsConfig } from 'util';

import { formatDiagnostic, InputError } from '../diagnostics';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parse a command's options (strict; -h/--help built in). Returns the values, or the exit code when the
 * command should stop: 0 after printing the usage, 2 on a usage error.
 */
export function parseCommand<T>(
  argv: string[],
  options: Options,
  usage: string,
  validate?: (values: T) => string | undefined,
  allowPositionals = false,
): { values: T; positionals: string[] } | { exit: number } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: { ...options, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals,
    });
    if ((values as { help?: boolean }).help) {
      console.log(usage);
      return { exit: 0 };
    }
    const problem = validate?.(values as T);
    if (problem) throw new Error(problem);
    return { values: values as T, positionals };
  } catch (e) {
    console.error(`meshfed: ${(e as Error).message}\n${usage}`);
    return { exit: 2 };
  }
}

/** A command's exit on a thrown input error: every diagnostic on stderr, exit code 1. Anything else is rethrown. */
export function inputErrorExit(e: unknown): number {
  if (!(e instanceof InputError)) throw e;
  for (const d of e.diagnostics) console.error(formatDiagnostic(d));
  return 1;
}
