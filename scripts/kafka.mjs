#!/usr/bin/env node
// A local single-node Apache Kafka (KRaft: broker and controller in one process), no Docker.
//
//   node scripts/kafka.mjs fetch   resolve the broker's jars from Maven Central (kafka/pom.xml)
//   node scripts/kafka.mjs up      fetch, format storage once, start, wait until metadata answers
//   node scripts/kafka.mjs down    stop the broker this checkout started (by its recorded pid)
//   node scripts/kafka.mjs status  say whether a broker answers
//
// Everything lives in .kafka/ (gitignored): libs/, data/, server.properties, broker.pid, broker.log.
// KAFKA_LOCAL_PORT (default 9092) and KAFKA_LOCAL_HOME (default .kafka) run a second broker beside it.
// `up` is idempotent: when a broker already answers on the address it returns at once.
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const home = process.env.KAFKA_LOCAL_HOME ?? join(root, '.kafka');
// Jars are shared by every broker of this checkout, whatever its home.
const libs = join(root, '.kafka', 'libs');
const data = join(home, 'data');
const pidFile = join(home, 'broker.pid');
const logFile = join(home, 'broker.log');
const pom = join(root, 'kafka', 'pom.xml');
const stampFile = join(libs, '..', 'libs.stamp');

const HOST = '127.0.0.1';
const PORT = Number(process.env.KAFKA_LOCAL_PORT ?? 9092);
const CONTROLLER_PORT = Number(process.env.KAFKA_LOCAL_CONTROLLER_PORT ?? PORT + 1);
const READY_TIMEOUT_MS = Number(process.env.KAFKA_READY_TIMEOUT_MS ?? 90_000);

const say = (msg) => process.stderr.write(`kafka: ${msg}\n`);

function logTail(lines = 40) {
  if (!existsSync(logFile)) return '(no broker log)';
  const text = readFileSync(logFile, 'utf8').split('\n');
  return text.slice(-lines).join('\n');
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function recordedPid() {
  if (!existsSync(pidFile)) return undefined;
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Resolves the jars with Maven unless the pom is unchanged since the last resolution. */
export function fetchBroker() {
  const pomHash = createHash('sha256').update(readFileSync(pom)).digest('hex');
  const have = existsSync(stampFile) && readFileSync(stampFile, 'utf8').trim() === pomHash;
  if (have && existsSync(libs) && readdirSync(libs).some((f) => f.startsWith('kafka_2.13-'))) return;
  say('resolving the broker from Maven Central (kafka/pom.xml) ...');
  rmSync(libs, { recursive: true, force: true });
  mkdirSync(dirname(libs), { recursive: true });
  const r = spawnSync('mvn', ['-q', '-B', '-f', pom, 'package'], { stdio: 'inherit' });
  if (r.error) throw new Error(`cannot run mvn (is Maven installed?): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`mvn exited with ${r.status}`);
  writeFileSync(stampFile, `${pomHash}\n`);
}

/** Fetches cluster metadata once; resolves true when a broker answers within `timeoutMs`. */
async function answers(timeoutMs) {
  const require = createRequire(join(root, 'package.json'));
  const { Kafka, logLevel } = require('kafkajs');
  const kafka = new Kafka({
    clientId: 'kafka-script',
    brokers: [`${HOST}:${PORT}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: Math.min(timeoutMs, 2_000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin();
  let timer;
  try {
    await Promise.race([
      (async () => {
        await admin.connect();
        await admin.fetchTopicMetadata({ topics: [] });
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
    await admin.disconnect().catch(() => undefined);
  }
}

function javaBinary() {
  return process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : 'java';
}

function writeServerProperties() {
  const template = readFileSync(join(root, 'kafka', 'server.properties'), 'utf8');
  const overrides = [
    `log.dirs=${data}`,
    `controller.quorum.voters=1@${HOST}:${CONTROLLER_PORT}`,
    `listeners=PLAINTEXT://${HOST}:${PORT},CONTROLLER://${HOST}:${CONTROLLER_PORT}`,
    `advertised.listeners=PLAINTEXT://${HOST}:${PORT}`,
  ];
  const file = join(home, 'server.properties');
  writeFileSync(file, `${template}\n# written by scripts/kafka.mjs\n${overrides.join('\n')}\n`);
  return file;
}

function formatStorage(properties) {
  if (existsSync(join(data, 'meta.properties'))) return;
  // A KRaft cluster id is 16 random bytes, base64url without padding. Like Kafka's own
  // Uuid.randomUuid, draw again when it starts with '-': the storage tool would read it as an option.
  let clusterId;
  do clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-'));
  const r = spawnSync(
    javaBinary(),
    ['-cp', join(libs, '*'), `-Dlog4j2.configurationFile=${join(root, 'kafka', 'log4j2.properties')}`,
      'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', properties],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`formatting storage failed:\n${r.stdout}\n${r.stderr}`);
  say(`formatted storage in ${data}`);
}

export async function up() {
  if (await answers(1_500)) {
    say(`a broker already answers on ${HOST}:${PORT}`);
    return;
  }
  const old = recordedPid();
  if (old && alive(old)) {
    say(`broker pid ${old} is running but not answering yet; waiting`);
  } else {
    fetchBroker();
    mkdirSync(data, { recursive: true });
    const properties = writeServerProperties();
    formatStorage(properties);
    const out = openSync(logFile, 'a');
    const child = spawn(
      javaBinary(),
      [
        '-Xms256m', '-Xmx1g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-Djava.awt.headless=true',
        `-Dlog4j2.configurationFile=${join(root, 'kafka', 'log4j2.properties')}`,
        '-cp', join(libs, '*'), 'kafka.Kafka', properties,
      ],
      { detached: true, stdio: ['ignore', out, out] },
    );
    closeSync(out);
    child.unref();
    writeFileSync(pidFile, `${child.pid}\n`);
    say(`started broker pid ${child.pid} (log: ${logFile})`);
  }
  const pid = recordedPid();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (pid && !alive(pid)) {
      throw new Error(`the broker exited during start-up. Last lines of ${logFile}:\n${logTail()}`);
    }
    if (await answers(2_000)) {
      say(`ready on ${HOST}:${PORT}`);
      return;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the broker did not answer within ${READY_TIMEOUT_MS} ms. Last lines of ${logFile}:\n${logTail()}`);
}

export async function down() {
  const pid = recordedPid();
  if (!pid || !alive(pid)) {
    say('no broker started from this checkout is running');
    rmSync(pidFile, { force: true });
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) {
    say(`pid ${pid} ignored SIGTERM for 30 s; killing it`);
    process.kill(pid, 'SIGKILL');
  }
  rmSync(pidFile, { force: true });
  say(`stopped broker pid ${pid}`);
}

async function main() {
  const command = process.argv[2];
  switch (command) {
    case 'fetch':
      return fetchBroker();
    case 'up':
      return up();
    case 'down':
      return down();
    case 'status': {
      const ok = await answers(2_000);
      say(ok ? `a broker answers on ${HOST}:${PORT}` : `nothing answers on ${HOST}:${PORT}`);
      process.exitCode = ok ? 0 : 1;
      return;
    }
    default:
      say('usage: node scripts/kafka.mjs fetch|up|down|status');
      process.exitCode = 2;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err) => {
    say(err.message);
    process.exit(1);
  });
}
