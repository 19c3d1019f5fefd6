import type { FlowDocument, SayVerb, Verb } from '../xml/index.js';

/** Every `<Say>` of a document in document order: nested sequences, Gather prompts and branches, Error branches. */
export function saysOf(document: FlowDocument): SayVerb[] {
  const found: SayVerb[] = [];
  const walk = (verbs: readonly Verb[]): void => {
    for (const verb of verbs) {
      switch (verb.kind) {
        case 'Say':
          found.push(verb);
          break;
        case 'Call':
        case 'Record':
          walk(verb.verbs);
          break;
        case 'Gather':
          walk(verb.prompts);
          for (const branch of verb.branches) walk(branch.verbs);
          if (verb.default) walk(verb.default.verbs);
          break;
        default:
          break;
      }
      if (verb.onError) walk(verb.onError.verbs);
    }
  };
  walk(document.verbs);
  return found;
}
