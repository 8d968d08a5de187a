// The bench model repository: the demo models plus `mlp_nobatch`, the same
// model bytes as `mlp` with dynamic batching switched off, so the two differ
// only in the batcher.
import { copyFile, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_CONFIGS, writeDemoRepository } from '../models/demo';

export const NOBATCH_MODEL = 'mlp_nobatch';

export async function writeBenchRepository(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'maas-bench-'));
  await writeDemoRepository(dir);
  const { dynamic_batching: _dropped, ...config } = DEMO_CONFIGS.mlp;
  await mkdir(join(dir, NOBATCH_MODEL, '1'), { recursive: true });
  await writeFile(join(dir, NOBATCH_MODEL, 'config.json'), `${JSON.stringify({ ...config, name: NOBATCH_MODEL }, null, 2)}\n`);
  await copyFile(join(dir, 'mlp', '1', 'model.onnx'), join(dir, NOBATCH_MODEL, '1', 'model.onnx'));
  return dir;
}
