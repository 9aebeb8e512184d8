/** A mistake in how a command was called; exits 2 like other usage errors. */
export class UsageError extends Error {
  override name = 'UsageError';
}
