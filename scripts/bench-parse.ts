// npm run bench:parse — how fast the parser reads a typical document, and what one
// interpreter step costs on the console call. Prints figures; asserts nothing.
import { performance } from 'node:perf_hooks';
import { runFlow, type FlowFetcher, type Logger } from '../lib/flow/index.js';
import { ConsoleCall } from '../lib/simulator/console-call.js';
import { ConsoleMedia } from '../lib/simulator/console-media.js';
import { parseDocument, type FlowDocument } from '../lib/xml/index.js';

/** About 2 KB and ten verbs: the size of a typical IVR menu document. */
function typicalDocument(): string {
  const doc = `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Answer delay="0"/>
  <Say lang="en-US" gender="FEMALE" type="Standard">Thank you for calling Example Corporation. Your call is important to us and may be recorded for quality and training purposes.</Say>
  <Play loop="1">https://media.example.com/prompts/welcome-jingle.wav</Play>
  <Pause length="500" dtmf_stop="#"/>
  <Play url="https://media.example.com/prompts/menu-intro.mp3" loop="1"/>
  <Call field="from" value="">
    <Say lang="en-US">We could not see your number. Please stay on the line while we find the next available agent for you.</Say>
  </Call>
  <Gather dtmf_length="1" dtmf_stop="#" timeout="5000" attempts="3" url="https://api.example.com/ivr/menu" method="POST" body="true">
    <Say lang="en-US">For sales, press 1. For support, press 2. For billing, press 3. To repeat these options, press 9.</Say>
    <DTMF value="1"><Callback url="https://api.example.com/ivr/sales" method="POST" body="true" timeout="5000" tag="sales"/></DTMF>
    <DTMF value="2"><Callback url="https://api.example.com/ivr/support" method="POST" timeout="5000" tag="support"/></DTMF>
    <DTMF value="3"><Callback url="https://api.example.com/ivr/billing" method="GET" timeout="5000" tag="billing"/></DTMF>
    <Default tag="invalid"><Say>Sorry, that is not a valid option. Please listen carefully, as our menu options have recently changed.</Say></Default>
    <Error say="true"><Say>We did not receive your selection.</Say></Error>
  </Gather>
  <Callback url="https://api.example.com/ivr/fallback" method="POST" timeout="8000" tag="fallback">
    <Error tag="callback-failed"><Say lang="en-US">We are having trouble connecting you. Please call again later.</Say><Hangup tag="failed"/></Error>
  </Callback>
  <Say lang="en-US" gender="MALE" loop="2">Our offices are open Monday to Friday from nine in the morning until six in the evening, and on Saturdays from ten until two. Outside these hours you can reach us on our website. Goodbye.</Say>
  <Hangup tag="done"/>
</Response>
`;
  return doc;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

function benchParse(text: string): void {
  const bytes = Buffer.byteLength(text);
  for (let i = 0; i < 500; i += 1) parseDocument(text); // warm up
  const rounds = 5000;
  const started = performance.now();
  for (let i = 0; i < rounds; i += 1) parseDocument(text);
  const seconds = (performance.now() - started) / 1000;
  console.log(`parse: ${rounds} documents of ${bytes} bytes in ${seconds.toFixed(2)} s = ${Math.round(rounds / seconds)} documents/s (${((seconds / rounds) * 1e6).toFixed(1)} µs each)`);
}

/** Time between consecutive steps (verb starts) of a flow of instant verbs. */
async function benchSteps(): Promise<void> {
  const verbs = Array.from({ length: 50 }, (_, i) => `<Say>step ${i}</Say><Play>https://media.example.com/${i}.wav</Play>`);
  const document: FlowDocument = parseDocument(`<Response><Answer/>${verbs.join('')}</Response>`);
  const noRequest = (): Promise<never> => Promise.reject(new Error('no request in this benchmark'));
  const noFetch: FlowFetcher = { fetch: noRequest, send: noRequest };
  const media = new ConsoleMedia();
  const log: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => log };
  const steps: number[] = [];
  for (let run = 0; run < 220; run += 1) {
    let last = 0;
    const call = new ConsoleCall({ call: `c${run}`, sca: 's', from: '1', tn: '2', onEvent: () => undefined });
    await runFlow(document, {
      call,
      fetcher: noFetch,
      speech: media,
      audio: media,
      log,
      events: {
        emit(event) {
          if (event.type !== 'verb-start') return;
          const now = performance.now();
          if (last !== 0 && run >= 20) steps.push((now - last) * 1000);
          last = now;
        },
      },
    });
  }
  steps.sort((a, b) => a - b);
  console.log(
    `interpreter step on the console call: ${steps.length} steps, p50 ${percentile(steps, 50).toFixed(1)} µs, p99 ${percentile(steps, 99).toFixed(1)} µs`,
  );
}

benchParse(typicalDocument());
await benchSteps();
