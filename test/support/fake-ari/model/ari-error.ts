// The error an operation answers with; rest.ts turns it into the status, the reason and
// {"message": ...}.
/** Thrown by operations that answer an ARI error. */
export class AriError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}
