/**
 * The module that `bin/run.cjs` and plugins load, bundled into `dist/bundle/rc.cjs` by
 * `scripts/bundle.mjs`: oclif's entry, the commands (oclif's "explicit" command discovery,
 * see package.json), and the public API. One bundle instead of ~200 files saves rc a third of
 * its start-up (module resolution and loading), and plugins that import `registry-clean` get
 * this same module (the package's export is this bundle, which `bin/run.cjs` puts in Node's
 * `require` cache), so `RunError` thrown by a plugin is the core's own class.
 */
import Clean from './commands/clean.js';
import Doctor from './commands/doctor.js';
import Ls from './commands/ls.js';
import Plugins from './commands/plugins.js';

export { execute } from '@oclif/core';

export const commands = { clean: Clean, doctor: Doctor, ls: Ls, plugins: Plugins };

export * from './index.js';
