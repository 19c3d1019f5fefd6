// The Swagger resource listing (/ari/api-docs/resources.json) and API declarations
// (/ari/api-docs/{name}.json) the fake serves, written for this project after the
// structure of Asterisk's rest-api/*.json and the "Asterisk REST Interface" reference on
// docs.asterisk.org (Asterisk 22): same resource names, paths, nicknames, parameter names
// and types, response classes and documented error responses, for the subset of
// operations the project uses. Models follow "Asterisk REST Data Models".
//
// How ari-client 2.2.0 reads them (lib/client.js, swagger-client 2.0.26): it GETs
// resources.json, then `basePath + apis[i].path` (with `{format}` → `json`) for each
// listing; every operation becomes `client.<resource>.<nickname>()` and, for the known
// resource types (Channel, Bridge, Playback, LiveRecording, StoredRecording,
// Application…), an instance method with the id parameter filled in. WebSocket events
// are matched by `type` against the models of the `events` declaration: a property whose
// type is a known resource type becomes an instance, and the event is also emitted as
// `<type>-<id>` for instance listeners. An event whose type has no model here would make
// ari-client throw, so every event the fake can send has its model below.
//
// Asterisk declares "swaggerVersion": "1.1" (and swagger-client then prints a
// "deprecated version of Swagger" line); the fake says "1.2", which swagger-client reads
// through the same code without that line, unless asked for "1.1" (FakeAriOptions
// swaggerVersion). Operation fields are written the way Asterisk writes them (httpMethod,
// responseClass, dataType, errorResponses).

type ParamType = 'path' | 'query' | 'body';

interface Param {
  name: string;
  description: string;
  paramType: ParamType;
  required: boolean;
  allowMultiple: boolean;
  dataType: string;
  defaultValue?: string | number | boolean;
  allowableValues?: { valueType: 'LIST'; values: string[] };
}

interface Operation {
  httpMethod: 'GET' | 'POST' | 'DELETE' | 'PUT';
  summary: string;
  nickname: string;
  responseClass: string;
  parameters: Param[];
  errorResponses: { code: number; reason: string }[];
  upgrade?: 'websocket';
  websocketProtocol?: 'ari';
}

interface Api {
  path: string;
  description: string;
  operations: Operation[];
}

interface ModelProperty {
  type: string;
  required?: boolean;
  description?: string;
  allowableValues?: { valueType: 'LIST'; values: string[] };
}

interface Model {
  id: string;
  description: string;
  properties: Record<string, ModelProperty>;
  extends?: string;
  discriminator?: string;
  subTypes?: string[];
}

interface ApiDeclaration {
  apiVersion: string;
  swaggerVersion: '1.2';
  basePath: string;
  resourcePath: string;
  apis: Api[];
  models: Record<string, Model>;
}

const API_VERSION = '9.0.0';

// ---- parameter helpers ---------------------------------------------------------------

const pathParam = (name: string, description: string): Param => ({
  name,
  description,
  paramType: 'path',
  required: true,
  allowMultiple: false,
  dataType: 'string',
});

function query(
  name: string,
  dataType: string,
  description: string,
  extra: Partial<Pick<Param, 'required' | 'allowMultiple' | 'defaultValue' | 'allowableValues'>> = {},
): Param {
  return {
    name,
    description,
    paramType: 'query',
    required: extra.required ?? false,
    allowMultiple: extra.allowMultiple ?? false,
    dataType,
    ...(extra.defaultValue !== undefined ? { defaultValue: extra.defaultValue } : {}),
    ...(extra.allowableValues ? { allowableValues: extra.allowableValues } : {}),
  };
}

const list = (...values: string[]) => ({ valueType: 'LIST' as const, values });

const variablesBody: Param = {
  name: 'variables',
  description: "The 'variables' key in the body object holds variable key/value pairs to set on the channel on creation.",
  paramType: 'body',
  required: false,
  allowMultiple: false,
  dataType: 'containers',
};

function op(
  httpMethod: Operation['httpMethod'],
  nickname: string,
  responseClass: string,
  summary: string,
  parameters: Param[],
  errors: [number, string][] = [],
): Operation {
  return {
    httpMethod,
    summary,
    nickname,
    responseClass,
    parameters,
    errorResponses: errors.map(([code, reason]) => ({ code, reason })),
  };
}

const CHANNEL_NOT_FOUND: [number, string] = [404, 'Channel not found'];
const NOT_IN_STASIS: [number, string] = [409, 'Channel not in a Stasis application'];
const INVALID_STATE: [number, string] = [412, 'Channel in invalid state'];

// ---- models ----------------------------------------------------------------------------

function model(id: string, description: string, properties: Record<string, ModelProperty>): Model {
  return { id, description, properties };
}
const req = (type: string, description?: string): ModelProperty => ({ type, required: true, ...(description ? { description } : {}) });
const opt = (type: string, description?: string): ModelProperty => ({ type, required: false, ...(description ? { description } : {}) });

const channelModels: Record<string, Model> = {
  CallerID: model('CallerID', 'Caller identification', { name: req('string'), number: req('string') }),
  DialplanCEP: model('DialplanCEP', 'Dialplan location (context/extension/priority)', {
    context: req('string', 'Context in the dialplan'),
    exten: req('string', 'Extension in the dialplan'),
    priority: req('long', 'Priority in the dialplan'),
    app_name: req('string', 'Name of current dialplan application'),
    app_data: req('string', 'Parameter of current dialplan application'),
  }),
  Channel: model('Channel', 'A specific communication connection between Asterisk and an Endpoint.', {
    id: req('string', 'Unique identifier of the channel. This is the same as the Uniqueid field in AMI.'),
    protocol_id: req('string', 'Protocol id from underlying channel driver'),
    name: req('string', 'Name of the channel (i.e. SIP/foo-0000a7e3)'),
    state: {
      type: 'string',
      required: true,
      allowableValues: list('Down', 'Rsrved', 'OffHook', 'Dialing', 'Ring', 'Ringing', 'Up', 'Busy', 'Dialing Offhook', 'Pre-ring', 'Unknown'),
    },
    caller: req('CallerID'),
    connected: req('CallerID'),
    accountcode: req('string'),
    dialplan: req('DialplanCEP', 'Current location in the dialplan'),
    creationtime: req('Date', 'Timestamp when channel was created'),
    language: req('string', 'The default spoken language'),
    channelvars: opt('object', 'Channel variables'),
    caller_rdnis: opt('string', 'The Caller ID RDNIS'),
    tenantid: opt('string', 'The Tenant ID for the channel'),
  }),
  Dialed: model('Dialed', 'Dialed channel information.', {}),
  Variable: model('Variable', 'The value of a channel variable', { value: req('string', 'The value of the variable requested') }),
};

const playbackModel = model('Playback', 'Object representing the playback of media to a channel', {
  id: req('string', 'ID for this playback operation'),
  media_uri: req('string', 'The URI for the media currently being played back.'),
  next_media_uri: opt('string', 'If a list of URIs is being played, the next media URI to be played back.'),
  target_uri: req('string', 'URI for the channel or bridge to play the media on'),
  language: opt('string', 'For media types that support multiple languages, the language requested for playback.'),
  state: { type: 'string', required: true, allowableValues: list('queued', 'playing', 'continuing', 'done', 'failed') },
});

const bridgeModel = model('Bridge', 'The merging of media from one or more channels.', {
  id: req('string', 'Unique identifier for this bridge'),
  technology: req('string', 'Name of the current bridging technology'),
  bridge_type: { type: 'string', required: true, allowableValues: list('mixing', 'holding') },
  bridge_class: req('string', 'Bridging class'),
  creator: req('string', 'Entity that created the bridge'),
  name: req('string', 'Name the creator gave the bridge'),
  channels: req('List[string]', 'Ids of channels participating in this bridge'),
  video_mode: opt('string'),
  video_source_id: opt('string'),
  creationtime: req('Date', 'Timestamp when bridge was created'),
});

const recordingModels: Record<string, Model> = {
  LiveRecording: model('LiveRecording', 'A recording that is in progress', {
    name: req('string', 'Base name for the recording'),
    format: req('string', 'Recording format (wav, gsm, etc.)'),
    target_uri: req('string', 'URI for the channel or bridge being recorded'),
    state: { type: 'string', required: true, allowableValues: list('queued', 'recording', 'paused', 'done', 'failed', 'canceled') },
    duration: opt('int', 'Duration in seconds of the recording'),
    talking_duration: opt('int'),
    silence_duration: opt('int'),
    cause: opt('string', 'Cause for recording failure if failed'),
  }),
  StoredRecording: model('StoredRecording', 'A past recording that may be played back.', { name: req('string'), format: req('string') }),
};

const applicationModel = model('Application', 'Details of a Stasis application', {
  name: req('string', 'Name of this application'),
  channel_ids: req('List[string]', "Id's for channels subscribed to."),
  bridge_ids: req('List[string]', "Id's for bridges subscribed to."),
  endpoint_ids: req('List[string]', '{tech}/{resource} for endpoints subscribed to.'),
  device_names: req('List[string]', 'Names of the devices subscribed to.'),
  events_allowed: req('List[object]', 'Event types sent to the application.'),
  events_disallowed: req('List[object]', 'Event types not sent to the application.'),
});

const asteriskModels: Record<string, Model> = {
  AsteriskInfo: model('AsteriskInfo', 'Asterisk system information', {
    build: opt('BuildInfo'),
    system: opt('SystemInfo'),
    config: opt('ConfigInfo'),
    status: opt('StatusInfo'),
  }),
  AsteriskPing: model('AsteriskPing', 'Asterisk ping information', {
    asterisk_id: req('string'),
    ping: req('string'),
    timestamp: req('string'),
  }),
  BuildInfo: model('BuildInfo', 'Info about how Asterisk was built', {
    os: req('string'),
    kernel: req('string'),
    options: req('string'),
    machine: req('string'),
    date: req('string'),
    user: req('string'),
  }),
  SystemInfo: model('SystemInfo', 'Info about Asterisk', { version: req('string'), entity_id: req('string') }),
  SetId: model('SetId', 'Effective user/group id', { user: req('string'), group: req('string') }),
  ConfigInfo: model('ConfigInfo', 'Info about Asterisk configuration', {
    name: req('string'),
    default_language: req('string'),
    max_channels: opt('int'),
    max_open_files: opt('int'),
    max_load: opt('double'),
    setid: req('SetId'),
  }),
  StatusInfo: model('StatusInfo', 'Info about Asterisk status', { startup_time: req('Date'), last_reload_time: req('Date') }),
  Variable: channelModels.Variable,
};

/** Every event model, with the properties of the documented Event subtypes. */
function eventModels(): Record<string, Model> {
  const models: Record<string, Model> = {
    Message: {
      id: 'Message',
      description: 'Base type for errors and events',
      discriminator: 'type',
      properties: { type: req('string'), asterisk_id: opt('string') },
      subTypes: ['MissingParams', 'Event'],
    },
    MissingParams: { ...model('MissingParams', 'Error event sent when required params are missing.', { params: req('List[string]') }), extends: 'Message' },
    Event: {
      ...model('Event', 'Base type for asynchronous events from Asterisk.', { application: req('string'), timestamp: req('Date') }),
      extends: 'Message',
    },
  };
  const events: Record<string, Record<string, ModelProperty>> = {
    ApplicationMoveFailed: { channel: req('Channel'), destination: req('string'), args: req('List[string]') },
    ApplicationReplaced: {},
    ApplicationRegistered: {},
    ApplicationUnregistered: {},
    BridgeCreated: { bridge: req('Bridge') },
    BridgeDestroyed: { bridge: req('Bridge') },
    BridgeMerged: { bridge: req('Bridge'), bridge_from: req('Bridge') },
    BridgeVideoSourceChanged: { bridge: req('Bridge'), old_video_source_id: opt('string') },
    ChannelCallerId: { caller_presentation: req('int'), caller_presentation_txt: req('string'), channel: req('Channel') },
    ChannelConnectedLine: { channel: req('Channel') },
    ChannelCreated: { channel: req('Channel') },
    ChannelDestroyed: { cause: req('int'), cause_txt: req('string'), channel: req('Channel') },
    ChannelDialplan: { channel: req('Channel'), dialplan_app: req('string'), dialplan_app_data: req('string') },
    ChannelDtmfReceived: { digit: req('string'), duration_ms: req('int'), channel: req('Channel') },
    ChannelEnteredBridge: { bridge: req('Bridge'), channel: opt('Channel') },
    ChannelHangupRequest: { cause: opt('int'), soft: opt('boolean'), channel: req('Channel') },
    ChannelHold: { channel: req('Channel'), musicclass: opt('string') },
    ChannelLeftBridge: { bridge: req('Bridge'), channel: req('Channel') },
    ChannelStateChange: { channel: req('Channel') },
    ChannelTalkingFinished: { channel: req('Channel'), duration: req('int') },
    ChannelTalkingStarted: { channel: req('Channel') },
    ChannelUnhold: { channel: req('Channel') },
    ChannelUserevent: { eventname: req('string'), channel: opt('Channel'), bridge: opt('Bridge'), userevent: req('object') },
    ChannelVarset: { variable: req('string'), value: req('string'), channel: opt('Channel') },
    Dial: {
      caller: opt('Channel'),
      peer: req('Channel'),
      forward: opt('string'),
      forwarded: opt('Channel'),
      dialstring: opt('string'),
      dialstatus: req('string'),
    },
    PlaybackContinuing: { playback: req('Playback') },
    PlaybackFinished: { playback: req('Playback') },
    PlaybackStarted: { playback: req('Playback') },
    RecordingFailed: { recording: req('LiveRecording') },
    RecordingFinished: { recording: req('LiveRecording') },
    RecordingStarted: { recording: req('LiveRecording') },
    StasisEnd: { channel: req('Channel') },
    StasisStart: { args: req('List[string]'), channel: req('Channel'), replace_channel: opt('Channel') },
  };
  for (const [id, properties] of Object.entries(events)) {
    models[id] = { ...model(id, `${id} event`, properties), extends: 'Event' };
  }
  (models.Event as Model).subTypes = Object.keys(events);
  return models;
}

/** Event types the fake may send; each has a model in the events declaration. */
export const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set(Object.keys(eventModels()).filter((k) => !['Message', 'MissingParams', 'Event'].includes(k)));

// ---- declarations ----------------------------------------------------------------------

function declarations(): Record<string, { description: string; apis: Api[]; models: Record<string, Model> }> {
  const channelId = pathParam('channelId', "Channel's id");
  const originateParams = (withId: boolean): Param[] => [
    ...(withId ? [pathParam('channelId', 'The unique id to assign the channel on creation.')] : []),
    query('endpoint', 'string', 'Endpoint to call.', { required: true }),
    query('extension', 'string', 'The extension to dial after the endpoint answers. Mutually exclusive with \'app\'.'),
    query('context', 'string', 'The context to dial after the endpoint answers.'),
    query('priority', 'long', 'The priority to dial after the endpoint answers.'),
    query('label', 'string', 'The label to dial after the endpoint answers.'),
    query('app', 'string', 'The application that is subscribed to the originated channel.'),
    query('appArgs', 'string', 'The application arguments to pass to the Stasis application provided by \'app\'.'),
    query('callerId', 'string', 'CallerID to use when dialing the endpoint or extension.'),
    query('timeout', 'int', 'Timeout (in seconds) before giving up dialing, or -1 for no timeout.', { defaultValue: 30 }),
    variablesBody,
    ...(withId ? [] : [query('channelId', 'string', 'The unique id to assign the channel on creation.')]),
    query('otherChannelId', 'string', 'The unique id to assign the second channel when using local channels.'),
    query('originator', 'string', 'The unique id of the channel which is originating this one.'),
    query('formats', 'string', 'The format name capability list to use if originator is not specified.'),
  ];
  const playParams = (withId: boolean): Param[] => [
    channelId,
    ...(withId ? [pathParam('playbackId', 'Playback ID.')] : []),
    query('media', 'string', 'Media URIs to play.', { required: true, allowMultiple: true }),
    query('lang', 'string', 'For sounds, selects language for sound.'),
    query('offsetms', 'int', 'Number of milliseconds to skip before playing.'),
    query('skipms', 'int', 'Number of milliseconds to skip for forward/reverse operations.', { defaultValue: 3000 }),
    ...(withId ? [] : [query('playbackId', 'string', 'Playback ID.')]),
  ];
  const recordingName = pathParam('recordingName', "The name of the recording");
  const bridgeId = pathParam('bridgeId', "Bridge's id");
  const playbackId = pathParam('playbackId', "Playback's id");

  return {
    asterisk: {
      description: 'Asterisk resources',
      models: asteriskModels,
      apis: [
        {
          path: '/asterisk/info',
          description: 'Asterisk system information (similar to core show settings)',
          operations: [
            op('GET', 'getInfo', 'AsteriskInfo', 'Gets Asterisk system information.', [
              query('only', 'string', 'Filter information returned', { allowMultiple: true, allowableValues: list('build', 'system', 'config', 'status') }),
            ]),
          ],
        },
        {
          path: '/asterisk/ping',
          description: 'Asterisk ping',
          operations: [op('GET', 'ping', 'AsteriskPing', 'Response pong message.', [])],
        },
      ],
    },
    channels: {
      description: 'Channel resources',
      models: { ...channelModels, Playback: playbackModel, LiveRecording: recordingModels.LiveRecording as Model },
      apis: [
        {
          path: '/channels',
          description: 'Active channels',
          operations: [
            op('GET', 'list', 'List[Channel]', 'List all active channels in Asterisk.', []),
            op('POST', 'originate', 'Channel', 'Create a new channel (originate).', originateParams(false), [
              [400, 'Invalid parameters for originating a channel.'],
              [409, 'Channel with given unique ID already exists.'],
            ]),
          ],
        },
        {
          path: '/channels/create',
          description: 'Create a channel and place it in a Stasis app, but do not dial the channel yet.',
          operations: [
            op('POST', 'create', 'Channel', 'Create channel.', [
              query('endpoint', 'string', 'Endpoint for channel communication', { required: true }),
              query('app', 'string', 'Stasis Application to place channel into', { required: true }),
              query('appArgs', 'string', 'The application arguments to pass to the Stasis application provided by \'app\'.'),
              query('channelId', 'string', 'The unique id to assign the channel on creation.'),
              query('otherChannelId', 'string', 'The unique id to assign the second channel when using local channels.'),
              query('originator', 'string', 'Unique ID of the calling channel'),
              query('formats', 'string', 'The format name capability list to use if originator is not specified.'),
              variablesBody,
            ], [[409, 'Channel with given unique ID already exists.']]),
          ],
        },
        {
          path: '/channels/{channelId}',
          description: 'Active channel',
          operations: [
            op('GET', 'get', 'Channel', 'Channel details.', [channelId], [CHANNEL_NOT_FOUND]),
            op('POST', 'originateWithId', 'Channel', 'Create a new channel (originate with id).', originateParams(true), [
              [400, 'Invalid parameters for originating a channel.'],
              [409, 'Channel with given unique ID already exists.'],
            ]),
            op('DELETE', 'hangup', 'void', 'Delete (i.e. hangup) a channel.', [
              channelId,
              query('reason_code', 'string', 'The reason code for hanging up the channel for detail use. Mutually exclusive with \'reason\'.'),
              query('reason', 'string', "Reason for hanging up the channel for simple use. Mutually exclusive with 'reason_code'.", {
                allowableValues: list('normal', 'busy', 'congestion', 'no_answer', 'timeout', 'rejected', 'unallocated', 'normal_unspecified', 'number_incomplete', 'codec_mismatch', 'interworking', 'failure', 'answered_elsewhere'),
              }),
            ], [[400, 'Invalid reason for hangup provided'], CHANNEL_NOT_FOUND]),
          ],
        },
        {
          path: '/channels/{channelId}/continue',
          description: 'Exit application; continue execution in the dialplan',
          operations: [
            op('POST', 'continueInDialplan', 'void', 'Exit application; continue execution in the dialplan.', [
              channelId,
              query('context', 'string', 'The context to continue to.'),
              query('extension', 'string', 'The extension to continue to.'),
              query('priority', 'int', 'The priority to continue to.'),
              query('label', 'string', 'The label to continue to - will supersede \'priority\' if both are provided.'),
            ], [CHANNEL_NOT_FOUND, NOT_IN_STASIS, INVALID_STATE]),
          ],
        },
        {
          path: '/channels/{channelId}/answer',
          description: 'Answer a channel',
          operations: [op('POST', 'answer', 'void', 'Answer a channel.', [channelId], [CHANNEL_NOT_FOUND, NOT_IN_STASIS, INVALID_STATE])],
        },
        {
          path: '/channels/{channelId}/ring',
          description: 'Send a ringing indication to a channel',
          operations: [
            op('POST', 'ring', 'void', 'Indicate ringing to a channel.', [channelId], [CHANNEL_NOT_FOUND, NOT_IN_STASIS, INVALID_STATE]),
            op('DELETE', 'ringStop', 'void', 'Stop ringing indication on a channel if locally generated.', [channelId], [CHANNEL_NOT_FOUND, NOT_IN_STASIS, INVALID_STATE]),
          ],
        },
        {
          path: '/channels/{channelId}/dtmf',
          description: 'Send DTMF to a channel',
          operations: [
            op('POST', 'sendDTMF', 'void', 'Send provided DTMF to a given channel.', [
              channelId,
              query('dtmf', 'string', 'DTMF To send.'),
              query('before', 'int', 'Amount of time to wait before DTMF digits (specified in milliseconds) start.'),
              query('between', 'int', 'Amount of time in between DTMF digits (specified in milliseconds).', { defaultValue: 100 }),
              query('duration', 'int', 'Length of each DTMF digit (specified in milliseconds).', { defaultValue: 100 }),
              query('after', 'int', 'Amount of time to wait after DTMF digits (specified in milliseconds) end.'),
            ], [[400, 'DTMF is required'], CHANNEL_NOT_FOUND, NOT_IN_STASIS, INVALID_STATE]),
          ],
        },
        {
          path: '/channels/{channelId}/play',
          description: 'Play media to a channel',
          operations: [
            op('POST', 'play', 'Playback', 'Start playback of media.', playParams(false), [CHANNEL_NOT_FOUND, NOT_IN_STASIS, INVALID_STATE]),
          ],
        },
        {
          path: '/channels/{channelId}/play/{playbackId}',
          description: 'Play media to a channel',
          operations: [
            op('POST', 'playWithId', 'Playback', 'Start playback of media and specify the playbackId.', playParams(true), [
              CHANNEL_NOT_FOUND,
              NOT_IN_STASIS,
              INVALID_STATE,
            ]),
          ],
        },
        {
          path: '/channels/{channelId}/record',
          description: 'Record audio from a channel',
          operations: [
            op('POST', 'record', 'LiveRecording', 'Start a recording.', [
              channelId,
              query('name', 'string', 'Recording\'s filename', { required: true }),
              query('format', 'string', 'Format to encode audio in', { required: true }),
              query('maxDurationSeconds', 'int', 'Maximum duration of the recording, in seconds. 0 for no limit', { defaultValue: 0 }),
              query('maxSilenceSeconds', 'int', 'Maximum duration of silence, in seconds. 0 for no limit', { defaultValue: 0 }),
              query('ifExists', 'string', 'Action to take if a recording with the same name already exists.', {
                defaultValue: 'fail',
                allowableValues: list('fail', 'overwrite', 'append'),
              }),
              query('beep', 'boolean', 'Play beep when recording begins', { defaultValue: false }),
              query('terminateOn', 'string', 'DTMF input to terminate recording', { defaultValue: 'none', allowableValues: list('none', 'any', '*', '#') }),
            ], [
              [400, 'Invalid parameters'],
              CHANNEL_NOT_FOUND,
              [409, 'Channel not in a Stasis application, or a recording with that name already exists and can not be overwritten'],
              [422, 'The format specified is unknown on this system'],
            ]),
          ],
        },
        {
          path: '/channels/{channelId}/variable',
          description: 'Variables on a channel',
          operations: [
            op('GET', 'getChannelVar', 'Variable', 'Get the value of a channel variable or function.', [
              channelId,
              query('variable', 'string', 'The channel variable or function to get', { required: true }),
            ], [[400, 'Missing variable parameter.'], [404, 'Channel or variable not found'], NOT_IN_STASIS]),
            op('POST', 'setChannelVar', 'void', 'Set the value of a channel variable or function.', [
              channelId,
              query('variable', 'string', 'The channel variable or function to set', { required: true }),
              query('value', 'string', 'The value to set the variable to'),
            ], [[400, 'Missing variable parameter.'], CHANNEL_NOT_FOUND, NOT_IN_STASIS]),
          ],
        },
        {
          path: '/channels/{channelId}/dial',
          description: 'Dial a channel',
          operations: [
            op('POST', 'dial', 'void', 'Dial a created channel.', [
              channelId,
              query('caller', 'string', 'Channel ID of caller'),
              query('timeout', 'int', 'Dial timeout', { defaultValue: 0 }),
            ], [CHANNEL_NOT_FOUND, [409, 'Channel cannot be found in a Stasis application.'], INVALID_STATE]),
          ],
        },
      ],
    },
    bridges: {
      description: 'Bridge resources',
      models: { Bridge: bridgeModel },
      apis: [
        {
          path: '/bridges',
          description: 'Active bridges',
          operations: [
            op('GET', 'list', 'List[Bridge]', 'List all active bridges in Asterisk.', []),
            op('POST', 'create', 'Bridge', 'Create a new bridge.', [
              query('type', 'string', 'Comma separated list of bridge type attributes (mixing, holding, dtmf_events, proxy_media, video_sfu, video_single, sdp_label).'),
              query('bridgeId', 'string', 'Unique ID to give to the bridge being created.'),
              query('name', 'string', 'Name to give to the bridge being created.'),
            ], [[409, 'Bridge with the same bridgeId already exists']]),
          ],
        },
        {
          path: '/bridges/{bridgeId}',
          description: 'Individual bridge',
          operations: [
            op('POST', 'createWithId', 'Bridge', 'Create a new bridge or updates an existing one.', [
              query('type', 'string', 'Comma separated list of bridge type attributes.'),
              pathParam('bridgeId', 'Unique ID to give to the bridge being created.'),
              query('name', 'string', 'Set the name of the bridge.'),
            ], [[409, 'Bridge with the same bridgeId already exists']]),
            op('GET', 'get', 'Bridge', 'Get bridge details.', [bridgeId], [[404, 'Bridge not found']]),
            op('DELETE', 'destroy', 'void', 'Shut down a bridge.', [bridgeId], [[404, 'Bridge not found']]),
          ],
        },
        {
          path: '/bridges/{bridgeId}/addChannel',
          description: 'Add a channel to a bridge',
          operations: [
            op('POST', 'addChannel', 'void', 'Add a channel to a bridge.', [
              bridgeId,
              query('channel', 'string', 'Ids of channels to add to bridge', { required: true, allowMultiple: true }),
              query('role', 'string', 'Channel\'s role in the bridge'),
              query('absorbDTMF', 'boolean', 'Absorb DTMF coming from this channel, preventing it to pass through to the bridge', { defaultValue: false }),
              query('mute', 'boolean', 'Mute audio from this channel, preventing it to pass through to the bridge', { defaultValue: false }),
              query('inhibitConnectedLineUpdates', 'boolean', 'Do not present the identity of the newly connected channel to other bridge members', { defaultValue: false }),
            ], [
              [400, 'Channel not found'],
              [404, 'Bridge not found'],
              [409, 'Bridge not in Stasis application; Channel currently recording'],
              [422, 'Channel not in Stasis application'],
            ]),
          ],
        },
        {
          path: '/bridges/{bridgeId}/removeChannel',
          description: 'Remove a channel from a bridge',
          operations: [
            op('POST', 'removeChannel', 'void', 'Remove a channel from a bridge.', [
              bridgeId,
              query('channel', 'string', 'Ids of channels to remove from bridge', { required: true, allowMultiple: true }),
            ], [
              [400, 'Channel not found'],
              [404, 'Bridge not found'],
              [409, 'Bridge not in Stasis application'],
              [422, 'Channel not in this bridge'],
            ]),
          ],
        },
      ],
    },
    recordings: {
      description: 'Recording resources',
      models: recordingModels,
      apis: [
        {
          path: '/recordings/stored',
          description: 'Recordings',
          operations: [op('GET', 'listStored', 'List[StoredRecording]', 'List recordings that are complete.', [])],
        },
        {
          path: '/recordings/stored/{recordingName}',
          description: 'Individual recording',
          operations: [
            op('GET', 'getStored', 'StoredRecording', "Get a stored recording's details.", [recordingName], [[404, 'Recording not found']]),
            op('DELETE', 'deleteStored', 'void', 'Delete a stored recording.', [recordingName], [[404, 'Recording not found']]),
          ],
        },
        {
          path: '/recordings/live/{recordingName}',
          description: 'A recording that is in progress',
          operations: [
            op('GET', 'getLive', 'LiveRecording', 'List live recordings.', [recordingName], [[404, 'Recording not found']]),
            op('DELETE', 'cancel', 'void', 'Stop a live recording and discard it.', [recordingName], [[404, 'Recording not found']]),
          ],
        },
        {
          path: '/recordings/live/{recordingName}/stop',
          description: '',
          operations: [op('POST', 'stop', 'void', 'Stop a live recording and store it.', [recordingName], [[404, 'Recording not found']])],
        },
      ],
    },
    playbacks: {
      description: 'Playback control resources',
      models: { Playback: playbackModel },
      apis: [
        {
          path: '/playbacks/{playbackId}',
          description: 'Control object for a playback operation.',
          operations: [
            op('GET', 'get', 'Playback', "Get a playback's details.", [playbackId], [[404, 'The playback cannot be found']]),
            op('DELETE', 'stop', 'void', 'Stop a playback.', [playbackId], [[404, 'The playback cannot be found']]),
          ],
        },
        {
          path: '/playbacks/{playbackId}/control',
          description: 'Control object for a playback operation.',
          operations: [
            op('POST', 'control', 'void', 'Control a playback.', [
              playbackId,
              query('operation', 'string', 'Operation to perform on the playback.', {
                required: true,
                allowableValues: list('restart', 'pause', 'unpause', 'reverse', 'forward'),
              }),
            ], [
              [400, 'The provided operation parameter was invalid'],
              [404, 'The playback cannot be found'],
              [409, "The operation cannot be performed in the playback's current state"],
            ]),
          ],
        },
      ],
    },
    events: {
      description: 'WebSocket resource',
      models: eventModels(),
      apis: [
        {
          path: '/events',
          description: 'Events from Asterisk to applications',
          operations: [
            {
              ...op('GET', 'eventWebsocket', 'Message', 'WebSocket connection for events.', [
                query('app', 'string', 'Applications to subscribe to.', { required: true, allowMultiple: true }),
                query('subscribeAll', 'boolean', 'Subscribe to all Asterisk events. If provided, the applications listed will be subscribed to all events.'),
              ]),
              upgrade: 'websocket',
              websocketProtocol: 'ari',
            },
          ],
        },
      ],
    },
    applications: {
      description: 'Stasis application resources',
      models: { Application: applicationModel },
      apis: [
        {
          path: '/applications',
          description: 'Stasis applications',
          operations: [op('GET', 'list', 'List[Application]', 'List all applications.', [])],
        },
        {
          path: '/applications/{applicationName}',
          description: 'Stasis application',
          operations: [
            op('GET', 'get', 'Application', 'Get details of an application.', [pathParam('applicationName', "Application's name")], [
              [404, 'Application does not exist.'],
            ]),
          ],
        },
      ],
    },
  };
}

/** The names of the API declarations served, in the order resources.json lists them. */
export const RESOURCE_NAMES = ['asterisk', 'channels', 'bridges', 'recordings', 'playbacks', 'events', 'applications'] as const;

/** GET /ari/api-docs/resources.json; `basePath` is `http://<host>/ari`. */
export function resourceListing(basePath: string, swaggerVersion: '1.1' | '1.2' = '1.2'): unknown {
  const decls = declarations();
  return {
    _copyright: 'Written for the opentact-ari tests after the Asterisk REST Interface reference.',
    apiVersion: API_VERSION,
    swaggerVersion,
    basePath,
    apis: RESOURCE_NAMES.map((name) => ({ path: `/api-docs/${name}.{format}`, description: decls[name]?.description ?? '' })),
  };
}

/** GET /ari/api-docs/{name}.json, or undefined for a resource the fake does not serve. */
export function apiDeclaration(name: string, basePath: string): ApiDeclaration | undefined {
  const decl = declarations()[name];
  if (!decl) return undefined;
  return {
    apiVersion: API_VERSION,
    swaggerVersion: '1.2',
    basePath,
    resourcePath: `/api-docs/${name}.{format}`,
    apis: decl.apis,
    models: decl.models,
  };
}
