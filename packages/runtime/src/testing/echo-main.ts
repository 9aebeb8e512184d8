// The echo service as a process, for integration tests: node packages/runtime/dist/testing/echo-main.js
import { runMain } from '../main.js';
import { createEchoService, echoOptionsFromEnv } from './echo-service.js';

await runMain((env) => createEchoService(echoOptionsFromEnv(env)));
