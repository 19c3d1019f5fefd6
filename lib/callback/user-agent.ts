// `User-Agent: opentact-ari/<version>`, the version read once from our package.json. The
// file is looked for upwards from here because this module runs both from lib/ (tsx)
// and from dist/lib/ (the build), which sit at different depths.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGE_NAME = 'opentact-ari';

function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // no package.json here, or not ours: keep looking upwards
    }
    const parent = dirname(dir);
    if (parent === dir) return '0.0.0';
    dir = parent;
  }
}

export const USER_AGENT = `${PACKAGE_NAME}/${packageVersion()}`;
