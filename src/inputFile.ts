// Reading a file the operator names (broker-info.subm, a kubeconfig, the state file): one clear
// error for a missing, unreadable, directory, special (FIFO, device), empty or huge file, and
// never more than `maxBytes` read into memory, whatever the path points at (/dev/zero included).
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { MoorError } from './errors.ts';
import { systemError } from './systemError.ts';

export interface InputFileOptions {
  /** What the file is, for messages: "broker-info file". */
  what: string;
  maxBytes: number;
  /** The fix for a file that is there but wrong (empty, too large, not a regular file). */
  hint: string;
  /** Error code for a missing file (default 'invalid-argument': the operator gave a wrong path). */
  missingCode?: 'invalid-argument' | 'not-found';
  missingHint?: string;
  /** An empty file is valid (a config file with every line commented out may be empty). */
  allowEmpty?: boolean;
}

export function readInputFile(path: string, options: InputFileOptions): Buffer {
  const subject = `${options.what} ${path}`;
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below).
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new MoorError(options.missingCode ?? 'invalid-argument', `${subject} does not exist`, {
        hint: options.missingHint ?? options.hint,
      });
    }
    throw systemError(err, `cannot open ${subject}`, { subject: path });
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isDirectory()) {
      throw new MoorError('invalid-argument', `${subject} is a directory, not a file`, {
        hint: options.missingHint ?? options.hint,
      });
    }
    if (!stat.isFile()) {
      throw new MoorError('invalid-argument', `${subject} is not a regular file`, { hint: options.hint });
    }
    if (stat.size > options.maxBytes) throw tooLarge(subject, options);
    // Read to the end rather than trusting st_size (it can change, and is 0 on some file systems).
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(65_536, options.maxBytes + 1 - total));
      let n: number;
      try {
        n = readSync(fd, chunk, 0, chunk.length, null);
      } catch (err) {
        throw systemError(err, `cannot read ${subject}`, { subject: path });
      }
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > options.maxBytes) throw tooLarge(subject, options);
    }
    if (total === 0 && !options.allowEmpty)
      throw new MoorError('invalid-input', `${subject} is empty`, { hint: options.hint });
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

function tooLarge(subject: string, options: InputFileOptions): MoorError {
  return new MoorError('invalid-input', `${subject} is larger than ${options.maxBytes} bytes`, {
    hint: options.hint,
  });
}
