// The default artifact store: files under <data-dir>/artifacts. A file is
// copied to a temporary name beside its place and renamed, so a reader never
// sees half a file.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { SAFE_KEY, type ArtifactStore } from './port';

export class FilesystemArtifactStore implements ArtifactStore {
  readonly kind = 'filesystem';

  constructor(readonly directory: string) {}

  private file(key: string): string {
    if (!SAFE_KEY.test(key)) throw new Error(`refusing artifact key '${key}'`);
    return path.join(this.directory, ...key.split('/'));
  }

  async put(key: string, sourcePath: string): Promise<void> {
    const target = this.file(key);
    await fs.mkdir(path.dirname(target), { recursive: true });
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await fs.copyFile(sourcePath, temp);
      await fs.rename(temp, target);
    } catch (err) {
      await fs.rm(temp, { force: true });
      throw err;
    }
  }

  async get(key: string): Promise<Uint8Array> {
    return fs.readFile(this.file(key));
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
  }

  async exists(key: string): Promise<boolean> {
    try {
      await fs.access(this.file(key));
      return true;
    } catch {
      return false;
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
