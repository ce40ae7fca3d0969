import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../src/config/default-config.js';
import { configSchema } from '../../src/config/schema.js';

describe('the config of a run without a config file', () => {
  it('is exactly what the schema gives for an empty config', () => {
    expect(defaultConfig()).toStrictEqual(configSchema.parse({}));
  });

  it('is a fresh object each time, so no run can change another\'s defaults', () => {
    const first = defaultConfig();
    first.gc.enabled = false;
    first.plugins.push('some-plugin');
    expect(defaultConfig()).toStrictEqual(configSchema.parse({}));
  });
});
