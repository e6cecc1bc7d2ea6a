/** A problem with the command line or the environment: reported on stderr, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const USAGE_EXIT_CODE = 2;
