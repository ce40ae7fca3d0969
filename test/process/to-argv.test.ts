import { describe, expect, it } from 'vitest';
import { toArgv } from '../../src/process/run-command.js';

describe('configured commands', () => {
  it('split a string on spaces, with no shell: quotes and metacharacters stay literal', () => {
    expect(toArgv('registry garbage-collect /etc/docker/registry/config.yml')).toEqual(['registry', 'garbage-collect', '/etc/docker/registry/config.yml']);
    expect(toArgv('  systemctl   restart docker-registry ')).toEqual(['systemctl', 'restart', 'docker-registry']);
    expect(toArgv('echo $(id); rm "x"')).toEqual(['echo', '$(id);', 'rm', '"x"']);
  });

  it('keep a backslash-escaped space inside one argument, and arrays as they are', () => {
    expect(toArgv('sh -c echo\\ hi')).toEqual(['sh', '-c', 'echo hi']);
    expect(toArgv(['sh', '-c', 'echo hi; exit 3'])).toEqual(['sh', '-c', 'echo hi; exit 3']);
  });
});
