import * as z from 'zod/mini';

/** A string with at least one character: names, paths and commands, in the config and in the built-in backends' options. */
export const nonEmptyString = () => z.string().check(z.minLength(1));
