// The S3 artifact store (@aws-sdk/client-s3, multipart through lib-storage
// for large files): endpoint, region, bucket and credentials from the
// configuration; path-style addressing for S3-compatible servers (SeaweedFS,
// MinIO). An object is written whole by S3's own semantics: a failed
// multipart upload is aborted, so nothing half-written is visible.
import { createReadStream } from 'node:fs';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { SAFE_KEY, type ArtifactStore } from './port';

export interface S3StoreOptions {
  endpoint?: string;
  region: string;
  bucket: string;
  prefix?: string; // prepended to every key, e.g. 'maas/'
  forcePathStyle?: boolean;
  accessKeyId?: string; // else the SDK's default chain (environment, profile)
  secretAccessKey?: string;
}

export class S3ArtifactStore implements ArtifactStore {
  readonly kind = 's3';
  private readonly client: S3Client;

  constructor(private readonly options: S3StoreOptions) {
    const config: S3ClientConfig = {
      region: options.region,
      endpoint: options.endpoint,
      forcePathStyle: options.forcePathStyle ?? true,
    };
    if (options.accessKeyId && options.secretAccessKey)
      config.credentials = { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey };
    this.client = new S3Client(config);
  }

  private key(key: string): string {
    if (!SAFE_KEY.test(key)) throw new Error(`refusing artifact key '${key}'`);
    return `${this.options.prefix ?? ''}${key}`;
  }

  async put(key: string, sourcePath: string, sizeBytes: number): Promise<void> {
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.options.bucket,
        Key: this.key(key),
        Body: createReadStream(sourcePath),
        ContentLength: sizeBytes,
        ContentType: 'application/octet-stream',
      },
      leavePartsOnError: false,
    });
    await upload.done();
  }

  async get(key: string): Promise<Uint8Array> {
    const out = await this.client.send(new GetObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
    if (!out.Body) throw new Error(`artifact '${key}' has no body`);
    return out.Body.transformToByteArray();
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
  }

  async exists(key: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(key) }));
      return true;
    } catch (err) {
      const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return false;
      throw err;
    }
  }

  close(): Promise<void> {
    this.client.destroy();
    return Promise.resolve();
  }
}
