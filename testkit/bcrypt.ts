import { randomBytes } from 'node:crypto';

/**
 * bcrypt ($2y$) in plain TypeScript, for the registry's htpasswd file.
 *
 * Why here: distribution's htpasswd auth accepts only bcrypt, and this machine has no
 * `htpasswd` binary and no bcrypt package. Blowfish's initial P-array and S-boxes are the
 * hexadecimal digits of pi, so they are computed (once, ~50 ms) instead of pasted as 4 KiB
 * of constants. Checked against glibc/libxcrypt `crypt()` in the kit's tests.
 */

/** Cost 4 (16 rounds) is the minimum Go accepts; the registry checks the hash on every request. */
export const DEFAULT_BCRYPT_COST = 4;

const P_WORDS = 18;
const S_WORDS = 4 * 256;

let piWordsCache: Uint32Array | undefined;

/** The first `count` 32-bit words of pi's fractional part (Machin's formula over BigInt). */
function piFractionWords(count: number): Uint32Array {
  const bits = BigInt(count * 32);
  const guard = 64n; // absorbs the truncation error of ~10^4 series terms
  const one = 1n << (bits + guard);
  const arctanInverse = (x: bigint): bigint => {
    const x2 = x * x;
    let term = one / x;
    let sum = term;
    for (let k = 1n; term !== 0n; k += 1n) {
      term /= x2;
      sum += (k % 2n === 0n ? term : -term) / (2n * k + 1n);
    }
    return sum;
  };
  const pi = 16n * arctanInverse(5n) - 4n * arctanInverse(239n);
  let fraction = (pi >> guard) & ((1n << bits) - 1n);
  const words = new Uint32Array(count);
  for (let i = count - 1; i >= 0; i--) {
    words[i] = Number(fraction & 0xffffffffn);
    fraction >>= 32n;
  }
  return words;
}

function piWords(): Uint32Array {
  if (!piWordsCache) {
    const words = piFractionWords(P_WORDS + S_WORDS);
    // Blowfish's published first P word and last S-box word: guards the derivation.
    if (words[0] !== 0x243f6a88 || words[P_WORDS + S_WORDS - 1] !== 0x3ac372e6) {
      throw new Error('bcrypt: derived Blowfish constants are wrong');
    }
    piWordsCache = words;
  }
  return piWordsCache;
}

class Blowfish {
  readonly p: Uint32Array;
  readonly s: Uint32Array;
  private readonly lr = new Uint32Array(2);

  constructor() {
    const init = piWords();
    this.p = init.slice(0, P_WORDS);
    this.s = init.slice(P_WORDS);
  }

  /** Encrypts lr[0], lr[1] in place. */
  private encipher(): void {
    const { p, s, lr } = this;
    let l = lr[0]!;
    let r = lr[1]!;
    for (let i = 0; i < 16; i++) {
      l = (l ^ p[i]!) >>> 0;
      const f = ((((s[l >>> 24]! + s[256 | ((l >>> 16) & 0xff)]!) >>> 0) ^ s[512 | ((l >>> 8) & 0xff)]!) + s[768 | (l & 0xff)]!) >>> 0;
      r = (r ^ f) >>> 0;
      const t = l;
      l = r;
      r = t;
    }
    lr[0] = (r ^ p[17]!) >>> 0;
    lr[1] = (l ^ p[16]!) >>> 0;
  }

  encrypt(l: number, r: number): [number, number] {
    this.lr[0] = l;
    this.lr[1] = r;
    this.encipher();
    return [this.lr[0]!, this.lr[1]!];
  }

  /** Eksblowfish's ExpandKey; `salt` undefined is the all-zero salt of the cost loop. */
  expand(key: Uint8Array, salt?: Uint8Array): void {
    const keyStream = wordStream(key);
    for (let i = 0; i < P_WORDS; i++) this.p[i] = (this.p[i]! ^ keyStream()) >>> 0;
    const saltStream = salt ? wordStream(salt) : () => 0;
    const { lr } = this;
    lr[0] = 0;
    lr[1] = 0;
    const fill = (box: Uint32Array): void => {
      for (let i = 0; i < box.length; i += 2) {
        lr[0] = (lr[0]! ^ saltStream()) >>> 0;
        lr[1] = (lr[1]! ^ saltStream()) >>> 0;
        this.encipher();
        box[i] = lr[0]!;
        box[i + 1] = lr[1]!;
      }
    };
    fill(this.p);
    fill(this.s);
  }
}

/** Big-endian 32-bit words read cyclically from bytes (Blowfish's stream2word). */
function wordStream(bytes: Uint8Array): () => number {
  let j = 0;
  return () => {
    let word = 0;
    for (let k = 0; k < 4; k++) {
      word = ((word << 8) | bytes[j]!) >>> 0;
      j = (j + 1) % bytes.length;
    }
    return word;
  };
}

const STANDARD_B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const BCRYPT_B64 = './ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** bcrypt's base64: the standard bit layout, another alphabet, no padding. */
function bcryptBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes)
    .toString('base64')
    .replace(/=+$/, '')
    .replace(/[A-Za-z0-9+/]/g, (c) => BCRYPT_B64[STANDARD_B64.indexOf(c)]!);
}

function bcryptBase64Decode(text: string, length: number): Buffer {
  const standard = text.replace(/[./A-Za-z0-9]/g, (c) => STANDARD_B64[BCRYPT_B64.indexOf(c)]!);
  return Buffer.from(standard, 'base64').subarray(0, length);
}

/**
 * Hashes `password` as `$2y$CC$<22 salt chars><31 hash chars>`.
 * `salt` (22 bcrypt-base64 chars) is for reproducible checks; default random.
 */
export function bcryptHash(password: string, options: { cost?: number; salt?: string; prefix?: '2a' | '2b' | '2y' } = {}): string {
  const cost = options.cost ?? DEFAULT_BCRYPT_COST;
  if (!Number.isInteger(cost) || cost < 4 || cost > 31) throw new RangeError(`bcrypt cost must be 4..31, got ${cost}`);
  const saltText = options.salt ?? bcryptBase64(randomBytes(16)).slice(0, 22);
  if (!/^[./A-Za-z0-9]{22}$/.test(saltText)) throw new Error(`bcrypt salt must be 22 chars of ./A-Za-z0-9, got ${saltText}`);
  const salt = bcryptBase64Decode(saltText, 16);
  // The key is the NUL-terminated password, capped at 72 bytes (as every $2b$/$2y$ implementation does).
  const key = Buffer.concat([Buffer.from(password, 'utf8'), Buffer.alloc(1)]).subarray(0, 72);

  const bf = new Blowfish();
  bf.expand(key, salt);
  for (let round = 0; round < 2 ** cost; round++) {
    bf.expand(key);
    bf.expand(salt);
  }
  const text = Buffer.from('OrpheanBeholderScryDoubt', 'latin1');
  const words = [0, 1, 2, 3, 4, 5].map((i) => text.readUInt32BE(i * 4));
  for (let i = 0; i < 64; i++) {
    for (let j = 0; j < 6; j += 2) [words[j], words[j + 1]] = bf.encrypt(words[j]!, words[j + 1]!);
  }
  const out = Buffer.alloc(24);
  words.forEach((w, i) => out.writeUInt32BE(w!, i * 4));
  // bcrypt encodes only 23 of the 24 bytes: a historical quirk every verifier expects.
  const encodedSalt = bcryptBase64(salt).slice(0, 22);
  return `$${options.prefix ?? '2y'}$${String(cost).padStart(2, '0')}$${encodedSalt}${bcryptBase64(out.subarray(0, 23))}`;
}

/** One `user:hash` line of an Apache htpasswd file. */
export function htpasswdLine(username: string, password: string, cost?: number): string {
  if (username.includes(':')) throw new Error(`htpasswd user name cannot contain ':': ${username}`);
  return `${username}:${bcryptHash(password, cost === undefined ? {} : { cost })}\n`;
}
