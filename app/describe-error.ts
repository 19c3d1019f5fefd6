/** One line for a person: the message, without a stack. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = 'code' in error && typeof error.code === 'string' && !error.message.includes(error.code) ? ` (${error.code})` : '';
    return `${error.message}${code}`;
  }
  return String(error);
}
