#!/usr/bin/env node
/**
 * Writes oclif.manifest.json from the built dist/commands, as the `oclif manifest` command
 * does, with @oclif/core's own Plugin loader. Without the manifest oclif imports every command
 * (and so all of rc) on each start only to list them; with it, only the command that runs.
 *
 * `npm run build` runs this after tsc every time, so the manifest always matches dist/: a
 * command added to src/ cannot be hidden by a stale one. The file is not in git.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Plugin } from '@oclif/core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
// ignoreManifest: read the commands themselves; errorOnManifestCreate: a command that fails to load fails the build.
const plugin = new Plugin({ root, type: 'core', isRoot: true, ignoreManifest: true, errorOnManifestCreate: true, respectNoCacheDefault: true });
await plugin.load();
const ids = Object.keys(plugin.manifest.commands);
if (ids.length === 0) throw new Error(`oclif-manifest: no commands found under ${plugin.pjson.oclif.commands}; build first`);
await writeFile(path.join(root, 'oclif.manifest.json'), `${JSON.stringify(plugin.manifest, null, 2)}\n`);
console.log(`oclif-manifest: ${ids.length} commands (${ids.join(', ')})`);
