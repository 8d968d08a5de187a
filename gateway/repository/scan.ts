// Finds the models of a repository directory: <repo>/<model>/config.json and
// <repo>/<model>/<version>/model.onnx (PROTOCOL.md 3, Triton's layout).
import { promises as fs } from 'node:fs';
import path from 'node:path';

export interface ModelDirectory {
  name: string;
  dir: string;
  configPath: string | null; // null when the model has no config.json
  versions: Array<{ version: string; modelPath: string }>; // ascending by number
  // Set when two version directories name the same version ('1' and '01'):
  // which one is meant is the operator's call, so the model does not load.
  ambiguity?: string;
}

const VERSION_DIR = /^[0-9]+$/;
export const MODEL_FILE_NAME = 'model.onnx';

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

export async function scanRepository(repoDir: string): Promise<ModelDirectory[]> {
  let entries;
  try {
    entries = await fs.readdir(repoDir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new Error(`model repository '${repoDir}' is not a directory`);
    throw err;
  }
  const models: ModelDirectory[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const dir = path.join(repoDir, entry.name);
    const configPath = path.join(dir, 'config.json');
    const versionDirs = (await fs.readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isDirectory() && VERSION_DIR.test(e.name))
      .map((e) => e.name)
      .sort((a, b) => Number(a) - Number(b));
    const versions: ModelDirectory['versions'] = [];
    const dirOfVersion = new Map<string, string>();
    let ambiguity: string | undefined;
    for (const v of versionDirs) {
      const modelPath = path.join(dir, v, MODEL_FILE_NAME);
      if (!(await exists(modelPath))) continue;
      const version = String(Number(v));
      const other = dirOfVersion.get(version);
      if (other !== undefined) {
        ambiguity ??= `version directories '${other}' and '${v}' both name version ${version}; rename or remove one`;
        continue;
      }
      dirOfVersion.set(version, v);
      versions.push({ version, modelPath });
    }
    const found: ModelDirectory = {
      name: entry.name,
      dir,
      configPath: (await exists(configPath)) ? configPath : null,
      versions,
    };
    if (ambiguity) found.ambiguity = ambiguity;
    models.push(found);
  }
  return models.sort((a, b) => a.name.localeCompare(b.name));
}

// Which versions to serve, per the config's version_policy (Triton's default
// is the latest one).
export function selectVersions(
  versions: ModelDirectory['versions'],
  policy: { latest?: { num_versions: number }; all?: object; specific?: { versions: number[] } } | undefined,
): ModelDirectory['versions'] {
  if (policy?.all) return versions;
  if (policy?.specific) {
    const wanted = new Set(policy.specific.versions.map(String));
    return versions.filter((v) => wanted.has(v.version));
  }
  const n = Math.max(1, policy?.latest?.num_versions ?? 1);
  return versions.slice(-n);
}
