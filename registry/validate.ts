// An uploaded model is served only after the engine has loaded it: every op
// supported, every input and output described. The session is released at
// once; serving loads its own (runtime-loader.ts). A refusal carries the
// engine's reason, which the version keeps as its `reason`.
import { promises as fs } from 'node:fs';
import { loadModel } from '../native';

export type ModelValidator = (file: string) => Promise<{ ok: true } | { ok: false; reason: string }>;

export const engineValidator: ModelValidator = async (file) => {
  const bytes = await fs.readFile(file);
  let session;
  try {
    session = await loadModel(bytes, { intraOpThreads: 1 });
  } catch (err) {
    const code = (err as { code?: string }).code;
    return { ok: false, reason: `${code ? `${code}: ` : ''}${(err as Error).message}` };
  }
  try {
    if (session.inputMetadata.length === 0) return { ok: false, reason: 'the model has no inputs' };
    if (session.outputMetadata.length === 0) return { ok: false, reason: 'the model has no outputs' };
    return { ok: true };
  } finally {
    session.release();
  }
};
