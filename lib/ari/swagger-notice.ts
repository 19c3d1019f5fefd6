// swagger-client 2.0.26 (under ari-client 2.2.0) prints
// `[ 'This API is using a deprecated version of Swagger!  Please see … for more info' ]`
// with console.log each time it loads Asterisk's API listing: a line on stdout that is
// not JSON. While the API loads, console.log drops exactly that message and passes every
// other call through; once no load is running, console.log is restored.

const NOTICE = 'This API is using a deprecated version of Swagger!';

type ConsoleLog = typeof console.log;

let loading = 0;
/** console.log as it was before the first load; kept, so `filtered` always has somewhere to go. */
let original: ConsoleLog = console.log;

function isNotice(args: readonly unknown[]): boolean {
  const [first] = args;
  return args.length === 1 && Array.isArray(first) && first.length === 1 && typeof first[0] === 'string' && first[0].startsWith(NOTICE);
}

function filtered(...args: unknown[]): void {
  if (isNotice(args)) return;
  original.apply(console, args);
}

/**
 * Runs `load` (ari-client's connect) with swagger-client's deprecation notice silenced;
 * settles as `load` does. Loads may overlap: the filter stays until the last one settles.
 */
export async function withoutSwaggerNotice<T>(load: () => PromiseLike<T>): Promise<T> {
  if (loading === 0 && console.log !== filtered) {
    original = console.log;
    console.log = filtered;
  }
  loading += 1;
  try {
    return await load();
  } finally {
    loading -= 1;
    // Leave a console.log someone else installed meanwhile alone.
    if (loading === 0 && console.log === filtered) console.log = original;
  }
}
