import type { Verb } from '../../xml/index.js';
import { VerbFailure } from '../failure.js';
import type { VerbHandler } from './handler.js';

/** For verbs that are parsed and validated but not executed yet: they fail cleanly. */
export function notSupported<V extends Verb>(): VerbHandler<V> {
  return {
    run(verb) {
      return Promise.reject(new VerbFailure('not_supported', `<${verb.kind}> is not supported yet`));
    },
  };
}
