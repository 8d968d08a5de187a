// An upload's bytes on their way in: written to a temporary file under
// <data-dir>/uploads as they arrive, with a running SHA-256, so that a 2 GiB
// model never sits in memory while it is received. The file is removed by
// abort(), or by whoever took it from end() once the upload is done.
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, promises as fs } from 'node:fs';
import path from 'node:path';
import type { SpooledFile, UploadSpool } from '../gateway/http/routes/admin';

export class FileSpool implements UploadSpool {
  readonly path: string;
  private readonly hash = createHash('sha256');
  private readonly out;
  private sizeBytes = 0;
  private failed: Error | null = null;

  constructor(directory: string) {
    this.path = path.join(directory, `${Date.now()}-${randomBytes(8).toString('hex')}.part`);
    this.out = createWriteStream(this.path, { mode: 0o600 });
    this.out.on('error', (err) => {
      this.failed = err;
    });
  }

  // `chunk` must stay unchanged until written (the caller gives a copy).
  write(chunk: Uint8Array): void {
    this.sizeBytes += chunk.byteLength;
    this.hash.update(chunk);
    this.out.write(chunk);
  }

  end(): Promise<SpooledFile> {
    return new Promise((resolve, reject) => {
      this.out.end((err?: Error | null) => {
        const failure = err ?? this.failed;
        if (failure) {
          void this.abort().finally(() => reject(failure));
          return;
        }
        resolve({ path: this.path, sha256: this.hash.digest('hex'), sizeBytes: this.sizeBytes });
      });
    });
  }

  async abort(): Promise<void> {
    this.out.destroy();
    await fs.rm(this.path, { force: true });
  }
}
