// A real Apache Kafka broker for tests: single node in KRaft mode (broker and
// controller in one JVM), from the jars .ci/services.sh copies out of Maven
// Central into .services/kafka/libs, on Java 17+ (MAAS_JAVA, else
// $JAVA_HOME/bin/java, else java on PATH).
import { cpSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { INSTALL_HINT, TestServer, freePorts, servicesHome, startFresh, type StartOptions } from './server';

export interface KafkaInfo {
  // ['127.0.0.1:<port>'], for kafkajs's `brokers`
  brokers: string[];
}

export interface KafkaOptions extends StartOptions {
  // Kafka's own default is true; ours is false, so that a test of code that
  // must create its topics fails when it does not.
  autoCreateTopics?: boolean;
  // Extra server.properties lines, e.g. { 'num.partitions': '3' }.
  properties?: Record<string, string>;
  heapMb?: number;
}

function javaCommand(): string {
  if (process.env.MAAS_JAVA) return process.env.MAAS_JAVA;
  if (process.env.JAVA_HOME) return join(process.env.JAVA_HOME, 'bin', 'java');
  return 'java';
}

// Start-up is done when the broker answers metadata AND both coordinators it
// lazily creates have loaded (__consumer_offsets for groups, the transaction
// state for idempotent producers' ids): otherwise the first test to use them
// meets "The coordinator is loading" / "coordinator is not available" (kafkajs
// retries them, but logs errors and spends seconds).
export async function probeKafka(info: KafkaInfo): Promise<void> {
  const kafka = new Kafka({
    clientId: 'maas-test-probe',
    brokers: info.brokers,
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    requestTimeout: 5000,
    retry: { retries: 2, initialRetryTime: 100, maxRetryTime: 1000 }, // an idempotent producer needs retries > 0
  });
  const admin = kafka.admin();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  try {
    await admin.connect();
    await admin.describeCluster();
    await admin.describeGroups(['maas-test-probe']);
    await producer.connect();
  } finally {
    await producer.disconnect().catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

function serverProperties(dataDir: string, port: number, controllerPort: number, options: KafkaOptions): string {
  const props: Record<string, string> = {
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': dataDir,
    'num.partitions': '1',
    // One node: every internal topic has one replica, and few partitions so
    // that creating them at first use is quick.
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'group.initial.rebalance.delay.ms': '0',
    // After a kill, the restarted broker may only register once the session
    // of its previous life has expired (9 s by default); heartbeats stay
    // frequent enough that a busy machine does not fence a live broker.
    'broker.session.timeout.ms': '3000',
    'broker.heartbeat.interval.ms': '500',
    'auto.create.topics.enable': String(options.autoCreateTopics ?? false),
    ...options.properties,
  };
  return Object.entries(props)
    .map(([name, value]) => `${name}=${value}`)
    .join('\n');
}

// Warnings and errors only, plus the line saying the server started.
const LOG4J2 = `status = warn
shutdownHook = disable
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
`;

export function startKafka(options: KafkaOptions = {}): Promise<TestServer<KafkaInfo>> {
  const home = join(servicesHome(), 'kafka');
  const libs = join(home, 'libs');
  const template = join(home, 'storage-template');
  const archive = join(home, 'kafka.jsa');
  if (!existsSync(libs) || !existsSync(template))
    return Promise.reject(new Error(`kafka: no broker jars or storage template in ${home}; ${INSTALL_HINT}`));
  const java = javaCommand();
  const classpath = `${libs}/*`;
  return startFresh('kafka', async (dir) => {
    const [port, controllerPort] = await freePorts(2);
    const info: KafkaInfo = { brokers: [`127.0.0.1:${port}`] };
    const dataDir = join(dir, 'data');
    const logFile = options.logFile ?? join(dir, 'server.log');
    const propsFile = join(dir, 'server.properties');
    const log4jFile = join(dir, 'log4j2.properties');
    writeFileSync(propsFile, serverProperties(dataDir, port, controllerPort, options) + '\n');
    writeFileSync(log4jFile, LOG4J2);
    // Fast start-up over peak speed: the class-data archive .ci/services.sh
    // made (a JVM that cannot use it starts without), client compiler only,
    // serial GC (2 cores). Keep in step with build_kafka_runtime there.
    const jvm = [
      ...(existsSync(archive) ? [`-XX:SharedArchiveFile=${archive}`] : []),
      `-Xmx${options.heapMb ?? 512}m`,
      '-Xms128m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      '-XX:-UsePerfData',
      '-Djava.awt.headless=true',
      `-Dlog4j2.configurationFile=${log4jFile}`,
      '-cp',
      classpath,
    ];
    // The log dir as `kafka.tools.StorageTool format` leaves it, formatted once by .ci/services.sh.
    cpSync(template, dataDir, { recursive: true });
    return new TestServer<KafkaInfo>({
      name: 'kafka',
      dir,
      info,
      logFile,
      startTimeoutMs: options.startTimeoutMs ?? 60_000,
      spawn: () => ({ command: java, args: [...jvm, 'kafka.Kafka', propsFile] }),
      probe: () => probeKafka(info),
    });
  });
}
