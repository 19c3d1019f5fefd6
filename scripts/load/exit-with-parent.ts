// Preloaded (`node --import`) into the engine the load tool starts, which is spawned with
// an IPC channel for this alone: when the tool goes away, even killed with SIGKILL, the
// channel closes and the engine gets the SIGTERM that drains and stops it. The channel is
// unreferenced so that it never keeps the engine alive by itself.
process.channel?.unref();
process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
