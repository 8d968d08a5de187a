// The bench model repository: the demo models plus `mlp_nobatch`, the same
// model bytes as `mlp` with dynamic batching switched off, so the two differ
// only in the batcher, and `identity_batched`, identity with dynamic batching
// at no delay, so engine runs no longer queue one by one behind each other.
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_CONFIGS, writeDemoRepository } from '../models/demo';

export const NOBATCH_MODEL = 'mlp_nobatch';
export const IDENTITY_BATCHED_MODEL = 'identity_batched';

async function writeVariant(dir: string, from: string, name: string, config: Record<string, unknown>): Promise<void> {
  await mkdir(join(dir, name, '1'), { recursive: true });
  await writeFile(join(dir, name, 'config.json'), `${JSON.stringify({ ...config, name }, null, 2)}\n`);
  await copyFile(join(dir, from, '1', 'model.onnx'), join(dir, name, '1', 'model.onnx'));
}

export async function writeBenchRepository(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'maas-bench-'));
  await writeDemoRepository(dir);
  const { dynamic_batching: _dropped, ...mlpUnbatched } = DEMO_CONFIGS.mlp;
  await writeVariant(dir, 'mlp', NOBATCH_MODEL, mlpUnbatched);
  await writeVariant(dir, 'identity', IDENTITY_BATCHED_MODEL, { ...DEMO_CONFIGS.identity, dynamic_batching: {} });
  return dir;
}
