// Small models and repository layouts the serving tests build on disk.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { encodeModel } from '../../models/onnx-writer';

// y = x + addend, FP32 [batch, 4]; extra unary ops after the Add if asked.
export function addModelBytes(addend: number, extraOps: string[] = []): Uint8Array {
  return encodeModel({
    nodes: [
      { opType: 'Add', inputs: ['x', 'k'], outputs: extraOps.length ? ['t'] : ['y'] },
      ...extraOps.map((op, i) => ({
        opType: op,
        inputs: [i === 0 ? 't' : `u${i - 1}`],
        outputs: [i === extraOps.length - 1 ? 'y' : `u${i}`],
      })),
    ],
    inputs: [{ name: 'x', dataType: 'FLOAT', shape: ['batch', 4] }],
    outputs: [{ name: 'y', dataType: 'FLOAT', shape: ['batch', 4] }],
    initializers: [{ name: 'k', dataType: 'FLOAT', dims: [1], values: new Float32Array([addend]) }],
  });
}

// <repo>/<name>/config.json (a string is written as is) and <repo>/<name>/<v>/model.onnx.
export async function writeModel(
  repo: string,
  name: string,
  config: unknown,
  versions: Record<string, Uint8Array>,
): Promise<void> {
  const dir = path.join(repo, name);
  await fs.mkdir(dir, { recursive: true });
  if (config !== undefined)
    await fs.writeFile(path.join(dir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  for (const [v, bytes] of Object.entries(versions)) {
    await fs.mkdir(path.join(dir, v), { recursive: true });
    await fs.writeFile(path.join(dir, v, 'model.onnx'), bytes);
  }
}
