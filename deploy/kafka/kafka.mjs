#!/usr/bin/env node
// Local Apache Kafka for tests, the demo and CI: one KRaft node that is both broker and controller,
// run from the org.apache.kafka jars on Maven Central (fetched with Maven by `fetch`).
// Usage: node deploy/kafka/kafka.mjs <fetch|up|down|status> [--help]   (see README.md)
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import {
  applyAcls,
  clientOptions,
  ensureCertificates,
  ensureUsers,
  scramFormatArgs,
  securityPaths,
  securityReport,
  secureListenerProperties,
} from './secure.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HOST = '127.0.0.1';

const HELP = {
  main: `Usage: node deploy/kafka/kafka.mjs <command> [--help]

Runs a local single-node Apache Kafka (KRaft, combined broker+controller) on ${HOST}.

Commands:
  fetch    download the Kafka jars from Maven Central with Maven (skipped when present)
  up       fetch if needed, format storage if empty, start the broker detached, wait until ready
  down     stop the broker started by 'up' (SIGTERM, wait, then SIGKILL)
  status   say whether the broker is running; exit 0 if it answers, 1 if not

npm scripts: npm run kafka:up | kafka:down | kafka:status  (pass flags after --)
${envHelp()}`,
  fetch: `Usage: node deploy/kafka/kafka.mjs fetch [--force]

Copies the org.apache.kafka jars (and their dependencies) from Maven Central into
<cache>/libs/<version>/ with "mvn dependency:copy-dependencies" (deploy/kafka/pom.xml).
Does nothing when that folder is already complete.

  --force   download again even if the jars are present
${envHelp()}`,
  up: `Usage: npm run kafka:up [-- --json]

Starts Kafka on ${HOST}:$KAFKA_PORT unless one is already running there:
fetches the jars if needed, formats the storage with a fresh cluster id when it is empty,
starts the broker detached (pid file), waits until it answers metadata requests and
prints where its log is. Exits 0 when a healthy broker answers (started now or before),
non-zero on failure, after printing the tail of the broker log.

  --json    print one JSON line {"started":bool,"brokers":[..],"pid":n|null,"log":path} on
            stdout (messages go to stderr); used by test/setup/kafka.global.ts
${envHelp()}`,
  down: `Usage: npm run kafka:down

Stops the broker that 'up' started for $KAFKA_PORT: SIGTERM, waits for a clean shutdown
(KAFKA_STOP_TIMEOUT_MS), then SIGKILL. A broker not started by this script is left alone.
Exits 0 when nothing of ours is left running.
${envHelp()}`,
  status: `Usage: npm run kafka:status

Prints whether a broker answers metadata requests on ${HOST}:$KAFKA_PORT and whether
this script started it. Exits 0 when one answers, 1 otherwise.
${envHelp()}`,
};

function envHelp() {
  return `
Environment:
  KAFKA_PORT             client listener port (default 9092)
  KAFKA_SECURITY         plaintext (default) or sasl_ssl: TLS + SCRAM users + ACLs (README "Secured mode")
  KAFKA_CONTROLLER_PORT  KRaft controller port (default KAFKA_PORT + 1000, e.g. 10092)
  KAFKA_VERSION          Kafka version to fetch and run (default: kafka.version in pom.xml)
  KAFKA_CACHE_DIR        jars, data and logs (default deploy/kafka/.cache)
  KAFKA_HEAP_OPTS        JVM heap flags (default "-Xmx512m -Xms128m")
  KAFKA_UP_TIMEOUT_MS    how long 'up' waits for the broker to answer (default 90000)
  KAFKA_STOP_TIMEOUT_MS  how long 'down' waits after SIGTERM before SIGKILL (default 30000)
  JAVA_HOME              Java 17+ to run the broker with (default: java on PATH)`;
}

class UsageError extends Error {}

/** Reads the configuration from the environment once; every path the commands use hangs off it. */
function loadConfig(env) {
  const port = intEnv(env, 'KAFKA_PORT', 9092);
  // Not port+1: 9093/9094 are Alertmanager's defaults, and CI installs Alertmanager (amtool).
  const controllerPort = intEnv(
    env,
    'KAFKA_CONTROLLER_PORT',
    port <= 64_535 ? port + 1000 : port - 1000,
  );
  if (controllerPort === port)
    throw new UsageError('KAFKA_CONTROLLER_PORT must differ from KAFKA_PORT');
  const cacheDir = path.resolve(env.KAFKA_CACHE_DIR || path.join(HERE, '.cache'));
  const version = env.KAFKA_VERSION || pomKafkaVersion();
  if (!/^\d+\.\d+\.\d+$/.test(version))
    throw new UsageError(`KAFKA_VERSION "${version}" is not x.y.z`);
  const instanceDir = path.join(cacheDir, 'data', String(port));
  const logsDir = path.join(cacheDir, 'logs', String(port));
  const security = env.KAFKA_SECURITY || 'plaintext';
  if (!['plaintext', 'sasl_ssl'].includes(security))
    throw new UsageError(`KAFKA_SECURITY "${security}" must be plaintext or sasl_ssl`);
  return {
    host: HOST,
    security,
    securityFile: path.join(instanceDir, 'security.mode'),
    port,
    controllerPort,
    brokers: [`${HOST}:${port}`],
    version,
    cacheDir,
    libsDir: path.join(cacheDir, 'libs', version),
    instanceDir,
    logDirs: path.join(instanceDir, 'kraft-combined-logs'),
    propsFile: path.join(instanceDir, 'server.properties'),
    pidFile: path.join(instanceDir, 'broker.pid'),
    lockFile: path.join(instanceDir, 'up.lock'),
    versionFile: path.join(instanceDir, 'kafka.version'),
    logsDir,
    serverLog: path.join(logsDir, 'server.log'),
    stdoutLog: path.join(logsDir, 'stdout.log'),
    heapOpts: (env.KAFKA_HEAP_OPTS || '-Xmx512m -Xms128m').split(/\s+/).filter(Boolean),
    upTimeoutMs: intEnv(env, 'KAFKA_UP_TIMEOUT_MS', 90_000, 1, 3_600_000),
    stopTimeoutMs: intEnv(env, 'KAFKA_STOP_TIMEOUT_MS', 30_000, 1, 3_600_000),
    java: env.JAVA_HOME ? path.join(env.JAVA_HOME, 'bin', 'java') : 'java',
  };
}

function intEnv(env, name, fallback, min = 1, max = 65_535) {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`${name}="${raw}" must be an integer between ${min} and ${max}`);
  }
  return n;
}

function pomKafkaVersion() {
  const pom = fs.readFileSync(path.join(HERE, 'pom.xml'), 'utf8');
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom);
  if (!m) throw new Error('deploy/kafka/pom.xml has no <kafka.version> property');
  return m[1].trim();
}

// Messages go to stderr in --json mode so stdout carries only the JSON line.
let say = (msg) => console.log(msg);
const warn = (msg) => console.error(msg);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------- fetch

function jarsPresent(cfg) {
  return fs.existsSync(path.join(cfg.libsDir, '.complete'));
}

function fetchJars(cfg, { force = false } = {}) {
  if (!force && jarsPresent(cfg)) {
    say(`Kafka ${cfg.version} jars already in ${cfg.libsDir}`);
    return;
  }
  const mvn = spawnSync('mvn', ['--version'], { stdio: 'ignore' });
  if (mvn.error || mvn.status !== 0) {
    throw new Error(
      'Maven (mvn) is not on PATH; it is needed to fetch the Kafka jars from Maven Central',
    );
  }
  const started = Date.now();
  say(`Fetching Kafka ${cfg.version} jars from Maven Central into ${cfg.libsDir} ...`);
  fs.rmSync(cfg.libsDir, { recursive: true, force: true });
  const args = [
    '-q',
    '-B',
    '-Dstyle.color=never',
    '-f',
    path.join(HERE, 'pom.xml'),
    'dependency:copy-dependencies',
    `-Dkafka.version=${cfg.version}`,
    `-Dlibs.dir=${cfg.libsDir}`,
  ];
  // Maven's own output goes to our stderr so that --json keeps stdout clean.
  const res = spawnSync('mvn', args, { stdio: ['ignore', 2, 2] });
  if (res.status !== 0) throw new Error(`mvn ${args.join(' ')} failed (exit ${res.status})`);
  const jar = path.join(cfg.libsDir, `kafka_2.13-${cfg.version}.jar`);
  if (!fs.existsSync(jar)) throw new Error(`Maven finished but ${jar} is missing`);
  // The marker makes an interrupted download count as absent next time.
  fs.writeFileSync(path.join(cfg.libsDir, '.complete'), `${new Date().toISOString()}\n`);
  const count = fs.readdirSync(cfg.libsDir).filter((f) => f.endsWith('.jar')).length;
  say(`Fetched ${count} jars in ${seconds(Date.now() - started)}`);
}

// ------------------------------------------------------------------------------------- probing

/** Resolves to the cluster description when the broker answers a metadata request, else null. */
async function probe(cfg, timeoutMs = 3000) {
  // A secured instance without its CA yet has never been started: nothing of ours can answer.
  if (cfg.security === 'sasl_ssl' && !fs.existsSync(securityPaths(cfg.instanceDir).caFile))
    return null;
  const kafka = new Kafka({
    clientId: 'tidemark-kafka-probe',
    brokers: cfg.brokers,
    ...(cfg.security === 'sasl_ssl' ? secureClient(cfg) : {}),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 ? cluster : null;
  } catch {
    return null;
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

function secureClient(cfg) {
  const p = securityPaths(cfg.instanceDir);
  return clientOptions(p, ensureUsers(p), 'admin');
}

function portOpen(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: HOST, port });
    const done = (open) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function readPid(cfg) {
  try {
    const pid = Number(fs.readFileSync(cfg.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** True when pid is alive and (where /proc exists) is our broker, not a recycled pid. */
function isOurBroker(cfg, pid) {
  if (!alive(pid)) return false;
  try {
    const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('kafka.Kafka') && cmdline.includes(cfg.propsFile);
  } catch {
    return true;
  }
}

function fileSize(file) {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** Log sizes now, so a failure report shows only what this start wrote. */
function logMarks(cfg) {
  return { [cfg.serverLog]: fileSize(cfg.serverLog), [cfg.stdoutLog]: fileSize(cfg.stdoutLog) };
}

function logTail(cfg, marks = {}, lines = 60) {
  const parts = [];
  for (const file of [cfg.serverLog, cfg.stdoutLog]) {
    if (!fs.existsSync(file)) continue;
    const buf = fs.readFileSync(file);
    const from = (marks[file] ?? 0) <= buf.length ? (marks[file] ?? 0) : 0; // rolled over: all of it
    const text = buf.subarray(from).toString('utf8').trimEnd();
    if (!text) continue;
    const tail = text.split('\n').slice(-lines);
    parts.push(`----- last ${tail.length} lines of ${file} -----\n${tail.join('\n')}`);
  }
  return parts.length ? parts.join('\n') : '(the broker wrote no log)';
}

// ----------------------------------------------------------------------------------------- up

function serverProperties(cfg) {
  return `# Written by deploy/kafka/kafka.mjs on every start; edit kafka.mjs, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@${HOST}:${cfg.controllerPort}
${cfg.security === 'sasl_ssl' ? secureListenerProperties(cfg, securityPaths(cfg.instanceDir), ensureUsers(securityPaths(cfg.instanceDir))) : plainListenerProperties(cfg)}
log.dirs=${cfg.logDirs}

# Tests create their topics explicitly, so a typo fails instead of creating a topic.
auto.create.topics.enable=false
num.partitions=3
default.replication.factor=1
min.insync.replicas=1

# Single broker: internal topics cannot have more than one replica.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=12
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=12
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1

# Groups form at once; short session timeouts are allowed so fault tests need not wait 45 s.
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=1000

# Compaction tests should not wait long for the cleaner.
log.cleaner.backoff.ms=1000
`;
}

function plainListenerProperties(cfg) {
  return `listeners=PLAINTEXT://${HOST}:${cfg.port},CONTROLLER://${HOST}:${cfg.controllerPort}
advertised.listeners=PLAINTEXT://${HOST}:${cfg.port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT`;
}

function clusterId() {
  // Same shape as Kafka's Uuid.randomUuid().toString(): 16 random bytes, base64url, no padding,
  // never starting with '-' (the storage tool would read it as a flag).
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-') && !/^A{21}[AQgw]$/.test(id)) return id;
  }
}

function javaMajor(cfg) {
  const res = spawnSync(cfg.java, ['-version'], { encoding: 'utf8' });
  if (res.error)
    throw new Error(
      `cannot run ${cfg.java}: ${res.error.message} (install Java 17+ or set JAVA_HOME)`,
    );
  const m = /version "(\d+)(?:\.(\d+))?/.exec(res.stderr);
  if (!m) throw new Error(`cannot read the Java version from: ${res.stderr.trim()}`);
  return m[1] === '1' ? Number(m[2]) : Number(m[1]);
}

function classpath(cfg) {
  return `${cfg.libsDir}${path.sep}*`;
}

function formatStorage(cfg) {
  const id = clusterId();
  const args = [
    '-Xmx256m',
    `-Dlog4j2.configurationFile=${path.join(HERE, 'log4j2.properties')}`,
    `-Dkafka.logs.dir=${cfg.logsDir}`,
    '-cp',
    classpath(cfg),
    'kafka.tools.StorageTool',
    'format',
    '--cluster-id',
    id,
    '--config',
    cfg.propsFile,
    // SCRAM users exist from the first moment: the broker's own inter-broker login needs admin.
    ...(cfg.security === 'sasl_ssl'
      ? scramFormatArgs(ensureUsers(securityPaths(cfg.instanceDir)))
      : []),
  ];
  const res = spawnSync(cfg.java, args, { encoding: 'utf8' });
  if (res.status !== 0) {
    throw new Error(
      `formatting ${cfg.logDirs} failed (exit ${res.status}):\n${res.stdout}${res.stderr}`,
    );
  }
  fs.writeFileSync(cfg.versionFile, `${cfg.version}\n`);
  fs.writeFileSync(cfg.securityFile, `${cfg.security}\n`);
  say(`Formatted ${cfg.logDirs} (cluster id ${id})`);
}

/** Holds a per-port lock so two concurrent `up`s do not both start a broker; returns a release function. */
async function lock(cfg) {
  const deadline = Date.now() + cfg.upTimeoutMs;
  for (;;) {
    try {
      fs.writeFileSync(cfg.lockFile, String(process.pid), { flag: 'wx' });
      return () => fs.rmSync(cfg.lockFile, { force: true });
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const holder = Number(fs.readFileSync(cfg.lockFile, 'utf8').trim());
      if (!Number.isInteger(holder) || holder <= 0 || !alive(holder)) {
        fs.rmSync(cfg.lockFile, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`another kafka:up (pid ${holder}) holds ${cfg.lockFile}`);
      await sleep(250);
    }
  }
}

async function waitReady(cfg, { child, pid, started }) {
  let exited = null;
  child?.once('exit', (code, signal) => {
    exited = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  const deadline = started + cfg.upTimeoutMs;
  while (Date.now() < deadline) {
    if (exited) return { ok: false, reason: `the broker process ended (${exited})` };
    if (!child && !alive(pid)) return { ok: false, reason: `the broker process ${pid} ended` };
    if (await probe(cfg)) return { ok: true };
    await sleep(250);
  }
  return { ok: false, reason: `no metadata answer within ${seconds(cfg.upTimeoutMs)}` };
}

async function up(cfg, { json }) {
  if (json) say = warn;
  const report = async (started, pid) => {
    if (cfg.security === 'sasl_ssl') {
      const p = securityPaths(cfg.instanceDir);
      if (!fs.existsSync(p.aclsDone)) {
        await applyAcls(cfg, p, ensureUsers(p), Kafka, logLevel);
        say(`ACLs for tidemark's principals created (StandardAuthorizer); users in ${p.users}`);
      }
    }
    if (json) {
      const security =
        cfg.security === 'sasl_ssl'
          ? {
              security: securityReport(
                securityPaths(cfg.instanceDir),
                ensureUsers(securityPaths(cfg.instanceDir)),
              ),
            }
          : {};
      console.log(
        JSON.stringify({
          started,
          brokers: cfg.brokers,
          pid,
          log: pid ? cfg.serverLog : null,
          ...security,
        }),
      );
    }
    return 0;
  };
  fs.mkdirSync(cfg.instanceDir, { recursive: true });
  const release = await lock(cfg);
  try {
    const started = Date.now();
    const existing = readPid(cfg);
    if (existing && isOurBroker(cfg, existing)) {
      const ready = await waitReady(cfg, { pid: existing, started });
      if (!ready.ok) {
        warn(
          `Kafka (pid ${existing}) is running but not healthy: ${ready.reason}\n${logTail(cfg)}`,
        );
        warn(`Stop it with: npm run kafka:down`);
        return 1;
      }
      say(`Kafka is already running on ${cfg.brokers[0]} (pid ${existing}); log: ${cfg.serverLog}`);
      return report(false, existing);
    }
    if (existing) fs.rmSync(cfg.pidFile, { force: true });

    if (await probe(cfg)) {
      say(
        `A Kafka broker not started by this script already answers on ${cfg.brokers[0]}; using it.`,
      );
      return report(false, null);
    }
    for (const p of [cfg.port, cfg.controllerPort]) {
      if (await portOpen(p)) {
        warn(`Port ${HOST}:${p} is in use by something that is not a Kafka broker started here.`);
        warn('Stop it, or choose other ports with KAFKA_PORT / KAFKA_CONTROLLER_PORT.');
        return 1;
      }
    }

    fetchJars(cfg);
    const major = javaMajor(cfg);
    if (major < 17)
      throw new Error(`Kafka ${cfg.version} needs Java 17 or newer; ${cfg.java} is Java ${major}`);

    fs.mkdirSync(cfg.logsDir, { recursive: true });
    if (cfg.security === 'sasl_ssl') ensureCertificates(securityPaths(cfg.instanceDir), say);
    fs.writeFileSync(cfg.propsFile, serverProperties(cfg), { mode: 0o600 });
    if (fs.existsSync(path.join(cfg.logDirs, 'meta.properties'))) {
      const formattedAs = fs.existsSync(cfg.securityFile)
        ? fs.readFileSync(cfg.securityFile, 'utf8').trim()
        : 'plaintext';
      if (formattedAs !== cfg.security) {
        warn(
          `${cfg.logDirs} was formatted for KAFKA_SECURITY=${formattedAs}, not ${cfg.security}.`,
        );
        warn(`Delete ${cfg.instanceDir} (its topics are lost) or use another KAFKA_PORT.`);
        return 1;
      }
      const formattedBy = fs.existsSync(cfg.versionFile)
        ? fs.readFileSync(cfg.versionFile, 'utf8').trim()
        : '?';
      if (formattedBy !== cfg.version) {
        warn(`${cfg.logDirs} was formatted by Kafka ${formattedBy}, not ${cfg.version}.`);
        warn(
          `Delete ${cfg.instanceDir} (its topics are lost) or set KAFKA_VERSION=${formattedBy}.`,
        );
        return 1;
      }
    } else {
      fs.mkdirSync(cfg.logDirs, { recursive: true });
      formatStorage(cfg);
    }

    const marks = logMarks(cfg);
    const out = fs.openSync(cfg.stdoutLog, 'a');
    const args = [
      ...cfg.heapOpts,
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-XX:InitiatingHeapOccupancyPercent=35',
      '-XX:+ExplicitGCInvokesConcurrent',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${path.join(HERE, 'log4j2.properties')}`,
      `-Dkafka.logs.dir=${cfg.logsDir}`,
      '-cp',
      classpath(cfg),
      'kafka.Kafka',
      cfg.propsFile,
    ];
    const child = spawn(cfg.java, args, {
      detached: true,
      stdio: ['ignore', out, out],
      cwd: cfg.instanceDir,
    });
    fs.closeSync(out);
    if (!child.pid) throw new Error(`could not start ${cfg.java}`);
    fs.writeFileSync(cfg.pidFile, `${child.pid}\n`);
    say(`Starting Kafka ${cfg.version} on ${cfg.brokers[0]} (pid ${child.pid}) ...`);

    const ready = await waitReady(cfg, { child, started });
    if (!ready.ok) {
      warn(`Kafka did not come up: ${ready.reason}`);
      if (alive(child.pid)) {
        process.kill(child.pid, 'SIGKILL');
      }
      fs.rmSync(cfg.pidFile, { force: true });
      warn(logTail(cfg, marks));
      return 1;
    }
    child.unref();
    say(
      `Kafka ${cfg.version} is up on ${cfg.brokers[0]} (pid ${child.pid}) after ${seconds(Date.now() - started)}`,
    );
    say(`Log: ${cfg.serverLog}`);
    return report(true, child.pid);
  } finally {
    release();
  }
}

// --------------------------------------------------------------------------------------- down

async function down(cfg) {
  const pid = readPid(cfg);
  if (!pid || !isOurBroker(cfg, pid)) {
    fs.rmSync(cfg.pidFile, { force: true });
    if (await probe(cfg)) {
      say(
        `A Kafka broker answers on ${cfg.brokers[0]} but was not started by this script from ${cfg.cacheDir}; leaving it alone.`,
      );
    } else {
      say(`No Kafka broker of ours is running on ${cfg.brokers[0]}.`);
    }
    return 0;
  }
  const started = Date.now();
  say(`Stopping Kafka (pid ${pid}) ...`);
  process.kill(pid, 'SIGTERM');
  while (alive(pid) && Date.now() - started < cfg.stopTimeoutMs) await sleep(100);
  if (alive(pid)) {
    warn(`Kafka did not stop within ${seconds(cfg.stopTimeoutMs)} of SIGTERM; sending SIGKILL.`);
    process.kill(pid, 'SIGKILL');
    while (alive(pid)) await sleep(100);
    fs.rmSync(cfg.pidFile, { force: true });
    say(`Kafka killed after ${seconds(Date.now() - started)}. Log: ${cfg.serverLog}`);
    return 0;
  }
  fs.rmSync(cfg.pidFile, { force: true });
  say(`Kafka stopped cleanly in ${seconds(Date.now() - started)}.`);
  return 0;
}

// ------------------------------------------------------------------------------------- status

async function status(cfg) {
  const pid = readPid(cfg);
  const ours = pid !== null && isOurBroker(cfg, pid);
  const cluster = await probe(cfg);
  if (ours && cluster) {
    say(
      `running: Kafka ${cfg.version} on ${cfg.brokers[0]} (pid ${pid}, cluster ${cluster.clusterId})`,
    );
    say(`log: ${cfg.serverLog}`);
    return 0;
  }
  if (ours) {
    say(
      `not ready: broker process ${pid} is alive but does not answer metadata requests on ${cfg.brokers[0]}`,
    );
    say(`log: ${cfg.serverLog}`);
    return 1;
  }
  if (cluster) {
    say(
      `running: a Kafka broker answers on ${cfg.brokers[0]} (cluster ${cluster.clusterId}), not started by this script`,
    );
    return 0;
  }
  say(`not running: nothing answers on ${cfg.brokers[0]}`);
  return 1;
}

// --------------------------------------------------------------------------------------- main

async function main(argv) {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    console.log(HELP.main);
    return command ? 0 : 2;
  }
  if (!Object.hasOwn(HELP, command) || command === 'main') {
    throw new UsageError(`unknown command "${command}"\n\n${HELP.main}`);
  }
  const options = {
    help: { type: 'boolean', short: 'h' },
    ...(command === 'fetch' ? { force: { type: 'boolean' } } : {}),
    ...(command === 'up' ? { json: { type: 'boolean' } } : {}),
  };
  let values;
  try {
    ({ values } = parseArgs({ args: rest, options, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new UsageError(`${err.message}\n\n${HELP[command]}`);
  }
  if (values.help) {
    console.log(HELP[command]);
    return 0;
  }
  const cfg = loadConfig(process.env);
  switch (command) {
    case 'fetch':
      fetchJars(cfg, { force: values.force });
      return 0;
    case 'up':
      return up(cfg, { json: values.json });
    case 'down':
      return down(cfg);
    case 'status':
      return status(cfg);
  }
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    console.error(
      err instanceof UsageError ? `kafka.mjs: ${err.message}` : `kafka.mjs: ${err.stack ?? err}`,
    );
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
