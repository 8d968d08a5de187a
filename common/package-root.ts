// The package root is the nearest folder above a module with a package.json:
// the source tree when run through tsx, the same root when compiled to dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export function findPackageRoot(start: string): string | null {
  let dir = start;
  for (;;) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}

// The package's own version (GET /v2 reports it); '0.0.0' if not found.
export function packageVersion(): string {
  const root = findPackageRoot(__dirname);
  if (!root) return '0.0.0';
  return (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version?: string }).version ?? '0.0.0';
}
