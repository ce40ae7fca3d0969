import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// The config and the built-in backends validate with zod/mini, not zod: the same checks, but the
// bundle keeps only the parts used (each file imports `* as z` from zod/mini itself: a namespace
// passed on as a value would bundle all of it). Full zod added 550 KB to the bundle and took
// 70 ms to load at every run with a config. zod/mini loads no messages; these are zod's English ones.
config(en());
