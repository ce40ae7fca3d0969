/**
 * A minimal ustar writer: regular files only, fixed owner and mtime, so the same input
 * gives the same bytes (and digests) on every run. Real enough for skopeo and containers.
 */

export interface TarFile {
  /** Path inside the archive, at most 100 bytes (no prefix-field splitting). */
  name: string;
  data: Buffer;
  /** Octal permission bits; default 0o644. */
  mode?: number;
}

const BLOCK = 512;
/** 2024-01-01T00:00:00Z: fixed so archives are reproducible. */
const MTIME = 1_704_067_200;

function octal(value: number, width: number): string {
  // width-1 octal digits then NUL, as tar readers expect.
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(file: TarFile): Buffer {
  const name = Buffer.from(file.name, 'utf8');
  if (name.length > 100) throw new Error(`tar: name longer than 100 bytes: ${file.name}`);
  const block = Buffer.alloc(BLOCK);
  name.copy(block, 0);
  block.write(octal(file.mode ?? 0o644, 8), 100, 'ascii');
  block.write(octal(0, 8), 108, 'ascii'); // uid
  block.write(octal(0, 8), 116, 'ascii'); // gid
  block.write(octal(file.data.length, 12), 124, 'ascii');
  block.write(octal(MTIME, 12), 136, 'ascii');
  block.write('        ', 148, 'ascii'); // checksum counts as spaces while summing
  block.write('0', 156, 'ascii'); // regular file
  block.write('ustar\0', 257, 'ascii');
  block.write('00', 263, 'ascii');
  block.write('root', 265, 'ascii');
  block.write('root', 297, 'ascii');
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return block;
}

/** The archive: each file's header and data padded to 512 bytes, then two zero blocks. */
export function tarArchive(files: TarFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    parts.push(header(file), file.data);
    const padding = (BLOCK - (file.data.length % BLOCK)) % BLOCK;
    if (padding) parts.push(Buffer.alloc(padding));
  }
  parts.push(Buffer.alloc(2 * BLOCK));
  return Buffer.concat(parts);
}
